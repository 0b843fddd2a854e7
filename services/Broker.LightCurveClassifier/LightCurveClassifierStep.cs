using Broker.Alerts.Model;
using Broker.LightCurves;
using Broker.StepHost;
using Microsoft.Extensions.Logging;

namespace Broker.LightCurveClassifier;

/// <summary>
/// Broker alert records to the same records with two light-curve classifications (issue 14, item 5): classifier
/// <c>lightcurve_top</c> over Periodic, Stochastic and Transient, and classifier <c>lightcurve</c> over ALeRCE's fifteen
/// classes, from an ML.NET forest hierarchy after ALeRCE's (Sánchez-Sáez et al. 2021) on the alert's light-curve
/// features (Broker.LightCurves, <see cref="LightCurveInput"/>). An alert is classified when its light curve has at
/// least 6 usable detections in g or in r (ALeRCE's rule) and its survey has a model; every other alert gets two
/// classifications that say why it was not classified, never a dead letter.
/// </summary>
/// <remarks>
/// One light curve, one feature workspace and the row buffers are allocated at start and reused: a host batch is
/// loaded and featurised alert by alert, then each forest runs once over the batch (at most
/// <see cref="LightCurveClassifierOptions.BatchSize"/> rows). Prediction engines are not thread-safe: the hosts run one
/// batch at a time, and an overlapping call waits for the lock.
/// </remarks>
public sealed class LightCurveClassifierStep : IStep<Alert, Alert>, IStepStartup, IDisposable
{
    /// <summary>The step's name in headers, dead letters and metrics.</summary>
    public const string StepName = "lightcurve";

    /// <summary>What the step reads: the stamp classifier's output.</summary>
    public const string InputTopic = "broker.stamps";

    /// <summary>What the step writes.</summary>
    public const string OutputTopic = "broker.classified";

    /// <summary>The classifier name of the top-level classification.</summary>
    public const string TopClassifier = "lightcurve_top";

    /// <summary>The classifier name of the fifteen-class classification.</summary>
    public const string Classifier = "lightcurve";

    /// <summary>The classifier name of the periodic-variable CNN's classification, on alerts the forest calls Periodic.</summary>
    public const string PeriodicClassifier = "lightcurve_periodic";

    /// <summary>The light-curve classifier's entry in the stage registry (docs/stages.md).</summary>
    public static StageDefinition<Alert, Alert, LightCurveClassifierOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Classifies alerts with at least 6 detections in g or r from their light-curve features with an ML.NET forest hierarchy after ALeRCE's: Periodic / Stochastic / Transient, then its 15 classes, and those it calls Periodic with a CNN on their phase-folded light curves; says why when an alert is not classified.",
        Input = InputTopic,
        Outputs = [new TopicDefinition(OutputTopic, "Broker alert record as on `broker.stamps`, with `lightcurve_top` and `lightcurve` classifications, and `lightcurve_periodic` where the forest says Periodic (docs/lightcurve-classifier.md)")],
        Needs = StageNeeds.Models,
        Section = LightCurveClassifierOptions.Section,
        InputCodec = AlertMessageCodec.Instance,
        OutputCodec = AlertMessageCodec.Instance,
        Factory = (options, context) => new LightCurveClassifierStep(options, context.Loggers.CreateLogger<LightCurveClassifierStep>()),
    };

    /// <summary>The version the step writes into each alert's <c>stageVersions</c>.</summary>
    public static string StageVersion { get; } = BrokerBuild.VersionOf(typeof(LightCurveClassifierStep).Assembly);

    private readonly LightCurveClassifierOptions _options;
    private readonly ILogger? _log;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private readonly LightCurve _lc = new();
    private LightCurveHierarchy? _model;
    private PeriodicCnnModel? _periodic;
    private PeriodicCnnBatch? _periodicBatch;
    private int[] _periodicRows = [];
    private string?[] _periodicReasons = [];
    private LightCurveFeatures? _features;
    private Survey _survey;
    private double[] _scratch = [];
    private float[] _rows = [], _top = [], _classes = [];
    private int[] _slots = [];
    private string?[] _reasons = [];

    /// <summary>Creates the step; the model is loaded by <see cref="StartAsync"/>.</summary>
    public LightCurveClassifierStep(LightCurveClassifierOptions options, ILogger<LightCurveClassifierStep>? logger = null, TimeProvider? clock = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = logger;
        _clock = clock ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string Name => StepName;

    /// <summary>The verified model (after <see cref="StartAsync"/>).</summary>
    public LightCurveHierarchy Model => _model ?? throw new InvalidOperationException("the light-curve step was not started");

    /// <summary>Reads the manifest, verifies every file against it and loads the forests.</summary>
    /// <exception cref="StepHostConfigurationException">A file is missing or does not match its manifest: one line.</exception>
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        if (_model is not null) return ValueTask.CompletedTask;
        string directory = _options.ResolveModelDirectory();
        var manifest = LightCurveModelManifest.Read(Path.Combine(directory, LightCurveModelManifest.FileName));
        var model = manifest.Verify(directory, _options.ParsedRuntime);
        _features = new LightCurveFeatures(manifest.Layout!);
        _survey = manifest.Survey == "ztf" ? Survey.Ztf : Survey.Lsst;
        int n = _options.BatchSize, f = manifest.Features.Count;
        _scratch = new double[f];
        _rows = new float[n * f];
        _top = new float[n * manifest.TopClasses.Count];
        _classes = new float[n * manifest.Classes.Count];
        _slots = new int[n];
        _reasons = new string?[n];
        string? periodic = _options.ResolvePeriodicModelDirectory();
        if (periodic is not null)
        {
            try
            {
                _periodic = PeriodicCnnModel.Load(periodic, warn: line => _log?.LogWarning("{Warning}", line));
            }
            catch (PeriodicCnnModelException e)
            {
                model.Dispose();
                throw new StepHostConfigurationException($"invalid configuration: {LightCurveClassifierOptions.Section}:PeriodicModelDirectory: {e.Message}", e);
            }
            _periodicBatch = new PeriodicCnnBatch(_periodic);
            _periodicRows = new int[n];
            _periodicReasons = new string?[n];
        }
        _model = model;
        _log?.LogInformation("Light-curve classifier {Name} {Version} ({Survey}) from {Directory}: {Runtime}, {Features} features, batches of {Batch}; periodic CNN {Periodic}",
            manifest.Name, manifest.Version, manifest.Survey, directory, model.Runtime, f, n, _periodic is null ? "off" : $"{_periodic.Name} {_periodic.Version}");
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <exception cref="StepException">Fatal: the step was not started.</exception>
    public ValueTask<IReadOnlyList<StepResult<Alert>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        if (_model is null) throw new StepException(FailureKind.Fatal, "the light-curve step was not started: its model is loaded by StartAsync");
        var results = new StepResult<Alert>[batch.Count];
        lock (_gate)
        {
            for (int start = 0; start < batch.Count; start += _options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Chunk(batch, start, Math.Min(batch.Count, start + _options.BatchSize), results);
            }
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<Alert>>>(results);
    }

    private void Chunk(IReadOnlyList<Alert> batch, int start, int end, StepResult<Alert>[] results)
    {
        var model = _model!;
        var m = model.Manifest;
        int f = m.Features.Count, rows = 0;
        for (int i = start; i < end; i++)
        {
            int k = i - start;
            _reasons[k] = Featurise(batch[i], _rows.AsSpan(rows * f, f));
            if (_reasons[k] is null) _slots[rows++] = k;
        }
        int nt = m.TopClasses.Count, nc = m.Classes.Count;
        if (rows > 0)
        {
            try
            {
                model.Predict(_rows.AsMemory(0, rows * f), rows, _top.AsSpan(0, rows * nt), _classes.AsSpan(0, rows * nc));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new StepException(FailureKind.Fatal, $"light-curve model {m.Name} {m.Version} failed on a batch of {rows}: {e.Message}", e);
            }
        }
        if (rows > 0 && _periodicBatch is not null) ClassifyPeriodic(batch, start, rows, nt);
        var finished = _clock.GetUtcNow();
        int row = 0;
        for (int i = start; i < end; i++)
        {
            int k = i - start;
            Classification top, bottom;
            Classification? periodic = null;
            if (_reasons[k] is { } why)
            {
                top = Classification.NotClassified(TopClassifier, m.Name, m.Version, m.Taxonomy, why);
                bottom = Classification.NotClassified(Classifier, m.Name, m.Version, m.Taxonomy, why);
            }
            else
            {
                top = Classification.FromProbabilities(TopClassifier, m.Name, m.Version, m.Taxonomy, m.TopClasses, _top.AsSpan(row * nt, nt));
                bottom = Classification.FromProbabilities(Classifier, m.Name, m.Version, m.Taxonomy, m.Classes, _classes.AsSpan(row * nc, nc));
                periodic = PeriodicClassification(row);
                row++;
            }
            var alert = batch[i];
            var output = alert with { Classifications = periodic is null ? [.. alert.Classifications, top, bottom] : [.. alert.Classifications, top, bottom, periodic] };
            results[i] = StepResult<Alert>.Emit(output.WithStage(StepName, StageVersion, finished));
        }
    }

    /// <summary>
    /// The periodic CNN on the classified rows whose top class is Periodic: each light curve is loaded again (the
    /// features pass keeps one at a time) and folded at the CNN's own period. <see cref="_periodicRows"/> holds each
    /// forest row's CNN row, -1 for a row the forest does not call Periodic, -2 for one the CNN cannot take (reason
    /// in <see cref="_periodicReasons"/>).
    /// </summary>
    private void ClassifyPeriodic(IReadOnlyList<Alert> batch, int start, int rows, int nt)
    {
        var m = _model!.Manifest;
        int periodicClass = -1;
        for (int c = 0; c < nt; c++) if (m.TopClasses[c] == "Periodic") periodicClass = c;
        var cnn = _periodicBatch!;
        cnn.Clear();
        for (int r = 0; r < rows; r++)
        {
            _periodicRows[r] = -1;
            var p = _top.AsSpan(r * nt, nt);
            int best = 0;
            for (int c = 1; c < nt; c++) if (p[c] > p[best]) best = c;
            if (best != periodicClass) continue;
            _lc.Load(batch[start + _slots[r]]);
            int added = cnn.TryAdd(_lc, out string? reason);
            _periodicRows[r] = added >= 0 ? added : -2;
            _periodicReasons[r] = reason;
        }
        if (cnn.Count == 0) return;
        try
        {
            cnn.Classify();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new StepException(FailureKind.Fatal, $"periodic CNN {cnn.Model.Name} {cnn.Model.Version} failed on a batch of {cnn.Count}: {e.Message}", e);
        }
    }

    /// <summary>The CNN's classification of forest row <paramref name="row"/>, or null when the forest does not call it Periodic.</summary>
    private Classification? PeriodicClassification(int row)
    {
        if (_periodicBatch is not { } cnn || _periodicRows[row] == -1) return null;
        var model = cnn.Model;
        if (_periodicRows[row] == -2)
            return Classification.NotClassified(PeriodicClassifier, model.Name, model.Version, model.Manifest.Taxonomy, _periodicReasons[row] ?? "not classified");
        return Classification.FromProbabilities(PeriodicClassifier, model.Name, model.Version, model.Manifest.Taxonomy, model.Classes, cnn.Probabilities(_periodicRows[row]));
    }

    /// <summary>Loads one alert's light curve and writes its row; null, or why it is not classified.</summary>
    private string? Featurise(Alert alert, Span<float> row)
    {
        var m = _model!.Manifest;
        if (alert.Survey != _survey)
            return $"{m.Name} {m.Version} has no {SurveyName(alert.Survey)} model (it classifies {SurveyName(_survey)} light curves)";
        try
        {
            _lc.Load(alert);
            if (LightCurveInput.Eligibility(_lc, m.MinDetections) is { } why) return why;
            LightCurveInput.Write(_lc, _features!, _scratch, row);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ArithmeticException or IndexOutOfRangeException)
        {
            // The features are written never to throw (undefined values are NaN); a light curve that still breaks
            // them is recorded on the alert, not dead-lettered.
            return $"light curve could not be featurised: {e.GetType().Name}: {e.Message}";
        }
    }

    private static string SurveyName(Survey survey) => survey switch { Survey.Ztf => "ZTF", Survey.Lsst => "Rubin (LSST)", _ => survey.ToString() };

    /// <summary>Releases the forests.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _model?.Dispose();
            _model = null;
            _periodic?.Dispose();
            _periodic = null;
        }
    }
}
