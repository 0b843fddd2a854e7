using BenchmarkDotNet.Attributes;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.LightCurveClassifier;
using Broker.LightCurves;
using Broker.Simulation;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// Light-curve classification per alert on one core (issue 14: features + forest above 2,000 ZTF alerts/s/core), on
/// 256 simulated ZTF alerts with 30-day histories that the classifier takes (at least 6 detections in g or r), with the
/// committed model (models/lc-classifier/1.0). One operation is one alert, so alerts/s/core = 1 s / mean.
/// <list type="bullet">
/// <item><c>Features</c> (baseline): LightCurve.Load and the 157 features into the model's row.</item>
/// <item><c>FeaturesAndForest</c>: that and the hierarchy (4 forests) on the batch, for <see cref="Runtime"/>.</item>
/// <item><c>ForestOnly</c>: the hierarchy on precomputed rows, batched (ONNX: one run per forest per batch; ML.NET: a prediction engine per row).</item>
/// <item><c>ForestOnlySingleRows</c>: the hierarchy one row at a time.</item>
/// <item><c>Step</c>: LightCurveClassifierStep.ExecuteAsync on the batch (features, forests, classifications, records).</item>
/// </list>
/// The ratio column of FeaturesAndForest is its cost relative to the features alone, measured in the same run.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*LightCurveClassifier*'
/// (as measured for the docs: add --inProcess --warmupCount 2 --iterationCount 8)
/// </summary>
[MemoryDiagnoser]
public class LightCurveClassifierBenchmarks
{
    private const int Batch = 256;
    private Alert[] _alerts = [];
    private readonly LightCurve _lc = new();
    private readonly LightCurveFeatures _features = new(FeatureBands.Ztf);
    private double[] _scratch = [];
    private float[] _rows = [], _top = [], _classes = [];
    private LightCurveHierarchy _model = null!;
    private LightCurveClassifierStep _step = null!;

    /// <summary>Which model files serve.</summary>
    [Params(ForestRuntime.Onnx, ForestRuntime.MlNet)]
    public ForestRuntime Runtime { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var simulation = new SimulationOptions { Survey = SurveyKind.Ztf, Nights = 4, AlertsPerNight = 1500, Seed = 1, Workers = 1, Cutouts = false, BogusFraction = 0 };
        var lc = new LightCurve();
        _alerts = [.. AlertSimulator.Generate(simulation)
            .Select(a => SurveyAlertMapper.Map(SurveyMessage.Decode(a.ToPacket(SurveyKind.Ztf), null)))
            .Where(a => { lc.Load(a); return LightCurveInput.Eligibility(lc) is null; })
            .Take(Batch)];
        if (_alerts.Length != Batch) throw new InvalidOperationException($"{_alerts.Length} eligible alerts, not {Batch}");
        string dir = SharedData.RepositoryPath("models/lc-classifier/1.0");
        var manifest = LightCurveModelManifest.Read(Path.Combine(dir, LightCurveModelManifest.FileName));
        _model = manifest.Verify(dir, Runtime);
        int f = manifest.Features.Count;
        _scratch = new double[f];
        _rows = new float[Batch * f];
        _top = new float[Batch * 3];
        _classes = new float[Batch * 15];
        Featurise();
        _step = new LightCurveClassifierStep(new LightCurveClassifierOptions { ModelDirectory = dir, Runtime = Runtime.ToString().ToLowerInvariant() });
        _step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var det = _alerts.Select(a => 1 + a.Detections.Count).Order().ToArray();
        Console.WriteLine($"// {Batch} eligible ZTF alerts (30-day histories): detections median {det[det.Length / 2]}, max {det[^1]}; {Runtime}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _step.Dispose();
    }

    private void Featurise()
    {
        int f = _model.FeatureCount;
        for (int i = 0; i < _alerts.Length; i++)
        {
            _lc.Load(_alerts[i]);
            LightCurveInput.Write(_lc, _features, _scratch, _rows.AsSpan(i * f, f));
        }
    }

    /// <summary>Load and features (per alert).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public float Features()
    {
        Featurise();
        return _rows[0];
    }

    /// <summary>Load, features and the forest hierarchy (per alert).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public float FeaturesAndForest()
    {
        Featurise();
        _model.Predict(_rows, Batch, _top, _classes);
        return _classes[0];
    }

    /// <summary>The forest hierarchy alone, one batch (per alert).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public float ForestOnly()
    {
        _model.Predict(_rows, Batch, _top, _classes);
        return _classes[0];
    }

    /// <summary>The forest hierarchy alone, one row at a time (per alert).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public float ForestOnlySingleRows()
    {
        int f = _model.FeatureCount;
        for (int i = 0; i < Batch; i++)
            _model.Predict(_rows.AsMemory(i * f, f), 1, _top, _classes);
        return _classes[0];
    }

    /// <summary>The whole step on the batch (per alert).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int Step() => _step.ExecuteAsync(_alerts, CancellationToken.None).AsTask().GetAwaiter().GetResult().Count;
}
