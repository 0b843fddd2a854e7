using BenchmarkDotNet.Attributes;
using Broker.Alerts.Fits;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Onnx;
using Broker.StampClassifier;
using Broker.StepHost;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>The real ZTF alerts of shared/data with all three stamps, as Broker alert records (what <c>broker.sso</c> carries).</summary>
internal static class StampBenchmarkInputs
{
    public static List<Alert> ZtfWithCutouts() => [.. new AlertFileReader(null).Read([SharedData.Path("ztf/alerts")])
        .Select(item => SurveyAlertMapper.Map(item.Record!)).Where(a => a.HasAllCutouts)];

    /// <summary>The committed model directory (models/stamp-classifier, newest version).</summary>
    public static string ModelDirectory => StampModelFiles.NewestVersion(SharedData.RepositoryPath(StampModelFiles.RepositoryFolder))
        ?? throw new InvalidOperationException("no model under models/stamp-classifier");

    public static string Braai => SharedData.Path(StampModelFiles.SharedBraai);
}

/// <summary>
/// The process's CPU time per operation over one benchmark case (from the end of its setup to its cleanup: pilot,
/// warm-up and measured runs), printed as a <c>// cpu</c> line. On a shared machine the wall-clock mean counts the
/// time other processes hold the core; CPU time per alert is what one core of its own would take (GC threads and
/// ONNX Runtime's included).
/// </summary>
internal sealed class CpuMeter
{
    private TimeSpan _start;
    private long _operations;

    public void Start()
    {
        _operations = 0;
        _start = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
    }

    public void Count(long operations) => _operations += operations;

    public void Report(string what)
    {
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _start;
        if (_operations == 0) return;
        double us = cpu.TotalMicroseconds / _operations;
        Console.WriteLine($"// cpu {what}: {us:F1} us CPU per alert over {_operations} alerts = {1e6 / us:F0} alerts per CPU-second");
    }
}

/// <summary>
/// The networks alone through ONNX Runtime on one intra-op thread (issue 13): Broker's ZTF stamp model (images
/// [N,3,21,21] and 23 features) and braai d6_m7 ([N,3,63,63]), at batch 1 and 256, on inputs made from the real ZTF
/// alerts. One operation = one alert: alerts/s per core = 1e9 / mean ns; the manifest's flopsPerAlert over the mean
/// is the FLOP rate the network reaches (docs/stamps.md compares it with the core's peak).
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*StampModel*' --job short
/// </summary>
[MemoryDiagnoser]
public class StampModelBenchmarks
{
    private const int Batch = 256;
    private OnnxModel? _stamp, _braai;
    private LoadedStampModel? _entry;
    private float[] _images = [], _features = [], _braaiInput = [];
    private readonly float[] _probabilities = new float[Batch * 5];
    private readonly float[] _one = new float[5];
    private readonly float[] _drb = new float[Batch];
    private int _featureCount;

    [GlobalSetup]
    public void Setup()
    {
        var alerts = StampBenchmarkInputs.ZtfWithCutouts();
        string dir = StampBenchmarkInputs.ModelDirectory;
        var manifest = StampModelManifest.Read(Path.Combine(dir, StampModelManifest.FileName));
        var models = manifest.Verify(dir, new OnnxModelOptions { IntraOpThreads = 1 });
        _entry = models.Models[Survey.Ztf];
        _stamp = _entry.Onnx;
        _featureCount = _entry.FeatureCount;
        _images = new float[Batch * StampInput.ImageLength];
        _features = new float[Batch * _featureCount];
        _braaiInput = new float[Batch * BraaiPreprocessor.Length];
        for (int i = 0; i < Batch; i++)
        {
            var a = alerts[i % alerts.Count];
            if (StampInput.TryWrite(a, _images.AsSpan(i * StampInput.ImageLength, StampInput.ImageLength), _features.AsSpan(i * _featureCount, _featureCount)) is { } why)
                throw new InvalidOperationException(why);
            BraaiPreprocessor.Write(a.Cutouts!, _braaiInput.AsSpan(i * BraaiPreprocessor.Length, BraaiPreprocessor.Length));
        }
        _braai = new OnnxModel(StampBenchmarkInputs.Braai, new OnnxModelOptions { IntraOpThreads = 1 });
        Console.WriteLine($"// {alerts.Count} real ZTF alerts with cutouts; {manifest.Name} {manifest.Version} ztf: {_entry.Entry.FlopsPerAlert} FLOP per alert; 1 intra-op thread");
        _cpu.Start();
    }

    private readonly CpuMeter _cpu = new();

    [GlobalCleanup]
    public void Cleanup()
    {
        _cpu.Report("model case");
        _stamp?.Dispose();
        _braai?.Dispose();
    }

    [Benchmark(Description = "stamp model alone, batch 1", OperationsPerInvoke = Batch)]
    public float StampBatch1()
    {
        float sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            _stamp!.Run(
                [
                    new OnnxInput(_entry!.ImagesInput, _images.AsMemory(i * StampInput.ImageLength, StampInput.ImageLength), [1, 3, 21, 21]),
                    new OnnxInput(_entry.FeaturesInput, _features.AsMemory(i * _featureCount, _featureCount), [1, _featureCount]),
                ], _one);
            sum += _one[0];
        }
        _cpu.Count(Batch);
        return sum;
    }

    [Benchmark(Description = "stamp model alone, batch 256", OperationsPerInvoke = Batch)]
    public float StampBatch256()
    {
        _stamp!.Run([new OnnxInput(_entry!.ImagesInput, _images, [Batch, 3, 21, 21]), new OnnxInput(_entry.FeaturesInput, _features, [Batch, _featureCount])], _probabilities);
        _cpu.Count(Batch);
        return _probabilities[0];
    }

    [Benchmark(Description = "braai alone, batch 1", OperationsPerInvoke = Batch)]
    public float BraaiBatch1()
    {
        float sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            _braai!.Run(_braaiInput.AsMemory(i * BraaiPreprocessor.Length, BraaiPreprocessor.Length), [1, 3, 63, 63], _drb.AsMemory(0, 1));
            sum += _drb[0];
        }
        _cpu.Count(Batch);
        return sum;
    }

    [Benchmark(Description = "braai alone, batch 256", OperationsPerInvoke = Batch)]
    public float BraaiBatch256()
    {
        _braai!.Run(_braaiInput, [Batch, 3, 63, 63], _drb);
        _cpu.Count(Batch);
        return _drb[0];
    }
}

/// <summary>
/// The whole stamp step on one core, as a host runs it: decode each Broker alert record (the bytes of
/// <c>broker.sso</c>, <see cref="AlertMessageCodec"/>), <see cref="StampClassifierStep.ExecuteAsync"/> (inflate and
/// decode the three stamps once, crop and normalise, features, one ONNX batch per survey, braai on ZTF), encode each
/// output record. A batch of 256 real ZTF alerts with cutouts; one operation = one alert. Goal: above 1,500 per second.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*StampStep*' --job short
/// </summary>
[MemoryDiagnoser]
public class StampStepBenchmarks
{
    private const int Batch = 256;
    private byte[][] _records = [];
    private StampClassifierStep? _withBraai, _withoutBraai;

    [GlobalSetup]
    public void Setup()
    {
        var alerts = StampBenchmarkInputs.ZtfWithCutouts();
        _records = [.. Enumerable.Range(0, Batch).Select(i => AlertMessageCodec.Instance.Encode(alerts[i % alerts.Count]))];
        _withBraai = Started(StampBenchmarkInputs.Braai);
        _withoutBraai = Started("");
        Console.WriteLine($"// {Batch} records of {alerts.Count} real ZTF alerts, {_records.Sum(r => (long)r.Length) / Batch} bytes each on average");
        _cpu.Start();
    }

    private readonly CpuMeter _cpu = new();

    private static StampClassifierStep Started(string braai)
    {
        var step = new StampClassifierStep(new StampClassifierOptions { ModelDirectory = StampBenchmarkInputs.ModelDirectory, BraaiModel = braai, BatchSize = Batch, IntraOpThreads = 1 });
        step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return step;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cpu.Report("step case");
        _withBraai?.Dispose();
        _withoutBraai?.Dispose();
    }

    [Benchmark(Description = "whole step: decode, 3 stamps, stamp model + braai, encode", OperationsPerInvoke = Batch)]
    public long WithBraai() => Run(_withBraai!);

    [Benchmark(Description = "whole step without braai", OperationsPerInvoke = Batch)]
    public long WithoutBraai() => Run(_withoutBraai!);

    private long Run(StampClassifierStep step)
    {
        var batch = new Alert[_records.Length];
        for (int i = 0; i < batch.Length; i++) batch[i] = AlertMessageCodec.Instance.Decode(_records[i]);
        var results = step.ExecuteAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        long bytes = 0;
        foreach (var r in results) bytes += AlertMessageCodec.Instance.Encode(r.Value!).Length;
        _cpu.Count(batch.Length);
        return bytes;
    }
}

/// <summary>
/// What decoding the three stamps of an alert costs where it is done (the inflate-once decision, docs/stamps.md):
/// ingest's validation (<see cref="FitsFile.CheckFirstImage"/> of each stamp: gunzip and read the headers, pixels
/// not converted), the stamp step's decode (<see cref="DecodedStamps.Decode"/>: gunzip, headers, pixels to float),
/// and gunzip alone, by .NET's GZipStream (zlib) and by libdeflate (<see cref="FastGunzip"/>, the step's first
/// choice). One operation = one alert (three stamps).
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*StampInflate*' --job short
/// </summary>
[MemoryDiagnoser]
public class StampInflateBenchmarks
{
    private List<Cutouts> _cutouts = [];

    private readonly CpuMeter _cpu = new();

    [GlobalSetup]
    public void Setup()
    {
        _cutouts = [.. StampBenchmarkInputs.ZtfWithCutouts().Take(256).Select(a => a.Cutouts!)];
        _cpu.Start();
    }

    [GlobalCleanup]
    public void Cleanup() => _cpu.Report("inflate case");

    [Benchmark(Description = "ingest's check of 3 stamps (gunzip + headers)", OperationsPerInvoke = 256)]
    public int IngestCheck()
    {
        int n = 0;
        foreach (var c in _cutouts)
            for (int k = 0; k < 3; k++)
            {
                FitsFile.CheckFirstImage(c[k]);
                n++;
            }
        _cpu.Count(_cutouts.Count);
        return n;
    }

    [Benchmark(Description = "stamp step's decode of 3 stamps (gunzip + headers + pixels)", OperationsPerInvoke = 256)]
    public int StepDecode()
    {
        int n = 0;
        var decoded = new DecodedStamps();
        foreach (var c in _cutouts)
        {
            if (decoded.Decode(c) is null) n++;
        }
        _cpu.Count(_cutouts.Count);
        return n;
    }

    [Benchmark(Description = "libdeflate gunzip of 3 stamps alone (FastGunzip)", OperationsPerInvoke = 256)]
    public int FastGunzipOnly()
    {
        int n = 0;
        foreach (var c in _cutouts)
            for (int k = 0; k < 3; k++)
            {
                byte[] buffer = FastGunzip.TryInflatePooled(c[k], out int length) ?? throw new InvalidOperationException("libdeflate is not installed");
                n += length;
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        _cpu.Count(_cutouts.Count);
        return n;
    }

    [Benchmark(Description = "gunzip of 3 stamps alone (GZipStream)", OperationsPerInvoke = 256)]
    public int GunzipOnly()
    {
        int n = 0;
        foreach (var c in _cutouts)
            for (int k = 0; k < 3; k++)
            {
                byte[] buffer = Gzip.InflatePooled(c[k], FitsFile.MaxDecompressedBytes, out int length);
                n += length;
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        _cpu.Count(_cutouts.Count);
        return n;
    }
}
