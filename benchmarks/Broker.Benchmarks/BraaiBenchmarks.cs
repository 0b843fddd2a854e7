using BenchmarkDotNet.Attributes;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Onnx;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// ZTF's braai d6_m7 real/bogus network through ONNX Runtime on one thread (issue 13), on the real ZTF alerts of
/// shared/data that carry all three stamps: the model alone at batch 1 and 64, and <see cref="BraaiPreprocessor"/>
/// (inflate three gzipped FITS stamps, decode, normalise rows, pad). One operation = one alert, so alerts/s per
/// core = 1e9 / mean ns.
/// </summary>
[MemoryDiagnoser]
public class BraaiBenchmarks
{
    private const int Batch = 64;
    private List<Cutouts> _cutouts = [];
    private float[] _inputs = [];
    private readonly float[] _outputs = new float[Batch];
    private readonly float[] _one = new float[1];
    private readonly float[] _scratch = new float[BraaiPreprocessor.Length];
    private OnnxModel? _model;

    [GlobalSetup]
    public void Setup()
    {
        _cutouts = new AlertFileReader(null).Read([SharedData.Path("ztf/alerts")])
            .Select(item => SurveyAlertMapper.Map(item.Record!)).Where(a => a.HasAllCutouts).Select(a => a.Cutouts!).ToList();
        _inputs = new float[Batch * BraaiPreprocessor.Length];
        for (int i = 0; i < Batch; i++) BraaiPreprocessor.Write(_cutouts[i % _cutouts.Count], _inputs.AsSpan(i * BraaiPreprocessor.Length));
        _model = new OnnxModel(SharedData.Path("labeled/models/braai_d6_m7/braai_d6_m7.onnx"), new OnnxModelOptions { IntraOpThreads = 1 });
        Console.WriteLine($"// {_cutouts.Count} ZTF alerts with cutouts; braai on 1 intra-op thread");
    }

    [GlobalCleanup]
    public void Cleanup() => _model?.Dispose();

    [Benchmark(Description = "braai model alone, batch 1", OperationsPerInvoke = Batch)]
    public float ModelBatch1()
    {
        float sum = 0;
        for (int i = 0; i < Batch; i++)
        {
            _model!.Run(_inputs.AsMemory(i * BraaiPreprocessor.Length, BraaiPreprocessor.Length), [1, 3, 63, 63], _one);
            sum += _one[0];
        }
        return sum;
    }

    [Benchmark(Description = "braai model alone, batch 64", OperationsPerInvoke = Batch)]
    public float ModelBatch64()
    {
        _model!.Run(_inputs, [Batch, 3, 63, 63], _outputs);
        return _outputs[0];
    }

    [Benchmark(Description = "braai preprocessing (inflate, decode, normalise, pad)", OperationsPerInvoke = Batch)]
    public float Preprocess()
    {
        for (int i = 0; i < Batch; i++) BraaiPreprocessor.Write(_cutouts[i % _cutouts.Count], _scratch);
        return _scratch[0];
    }
}
