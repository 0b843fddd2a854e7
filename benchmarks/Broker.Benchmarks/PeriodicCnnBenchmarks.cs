using BenchmarkDotNet.Attributes;
using Broker.Alerts.Model;
using Broker.LightCurves;
using Broker.Simulation;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// The periodic CNN per alert on one core (issue 14 item 3), on 256 simulated ZTF alerts of the six periodic classes
/// with their 30-day histories, with the committed model (models/periodic-cnn/1.0). One operation is one alert, so
/// alerts/s/core = 1 s / mean.
/// <list type="bullet">
/// <item><c>Inputs</c> (baseline): LightCurve.Load, the flux period search and the phase-folded images and scalars.</item>
/// <item><c>InputsAndCnn</c>: that and the CNN through ONNX Runtime on the batch (PeriodicCnnBatch, as the step would).</item>
/// <item><c>CnnOnly</c>: ONNX Runtime on the prepared batch.</item>
/// </list>
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*PeriodicCnn*'
/// </summary>
[MemoryDiagnoser]
public class PeriodicCnnBenchmarks
{
    private const int Batch = 256;
    private Alert[] _alerts = [];
    private readonly LightCurve _lc = new();
    private PeriodicCnnModel _model = null!;
    private PeriodicCnnBatch _batch = null!;
    private PhaseFoldedInputs _inputs = null!;
    private float[] _images = [], _features = [], _probabilities = [];

    [GlobalSetup]
    public void Setup()
    {
        var classes = PeriodicCnnManifest.ExpectedClasses.ToDictionary(c => c, _ => (Batch + 5) / 6, StringComparer.Ordinal);
        _alerts = [.. new LabelledLightCurves(new LabelledLightCurveOptions { Survey = SurveyKind.Ztf, Seed = 1, Counts = classes, Workers = 1 })
            .Generate().Select(a => a.Alert).Take(Batch)];
        _model = PeriodicCnnModel.Load(SharedData.RepositoryPath("models/periodic-cnn/1.0"));
        _batch = new PeriodicCnnBatch(_model);
        _inputs = new PhaseFoldedInputs(_model.Side);
        _images = new float[Batch * _model.ImageLength];
        _features = new float[Batch * _model.FeatureCount];
        _probabilities = new float[Batch * _model.Classes.Count];
        Inputs();
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public int Inputs()
    {
        int written = 0;
        int il = _model.ImageLength, fl = _model.FeatureCount;
        for (int i = 0; i < _alerts.Length; i++)
        {
            _lc.Load(_alerts[i]);
            if (_inputs.TryWrite(_lc, _images.AsSpan(i * il, il), _features.AsSpan(i * fl, fl)) is null) written++;
        }
        return written;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public float InputsAndCnn()
    {
        _batch.Clear();
        for (int i = 0; i < _alerts.Length; i++)
        {
            _lc.Load(_alerts[i]);
            _batch.TryAdd(_lc, out _);
        }
        _batch.Classify();
        return _batch.TopClass(0).Probability;
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public float CnnOnly()
    {
        _model.Classify(_images, _features, Batch, _probabilities);
        return _probabilities[0];
    }
}
