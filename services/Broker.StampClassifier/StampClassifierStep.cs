using Broker.Alerts.Model;
using Broker.Onnx;
using Broker.StepHost;
using Microsoft.Extensions.Logging;

namespace Broker.StampClassifier;

/// <summary>
/// Broker alert records to the same records with a stamp classification (issue 13, item 5): Broker's five-class CNN
/// (AGN, SN, VS, asteroid, bogus; Carrasco-Davis et al. 2021's taxonomy) run through ONNX Runtime on each alert's
/// three cutouts and metadata (<see cref="StampInput"/>), one model per survey (<see cref="StampModelManifest"/>),
/// and for ZTF alerts ZTF's own real/bogus network, braai d6_m7 (Duev et al. 2019), as a second classification.
/// An alert whose cutouts cannot be used (absent, corrupt, NaN only, too small) gets a classification that says
/// why it was not classified, never a dead letter: the alert still goes on.
/// </summary>
/// <remarks>
/// Each stamp is inflated and decoded once per alert (<see cref="DecodedStamps"/>) and read by both networks. A host
/// batch is run as one ONNX batch per survey (at most <see cref="StampClassifierOptions.BatchSize"/> alerts per
/// run) into buffers allocated at start. The hosts run one batch at a time; an overlapping call waits for the lock.
/// </remarks>
public sealed class StampClassifierStep : IStep<Alert, Alert>, IStepStartup, IDisposable
{
    /// <summary>The step's name in headers, dead letters and metrics.</summary>
    public const string StepName = "stamp";

    /// <summary>What the step reads: the solar-system stage's output.</summary>
    public const string InputTopic = "broker.sso";

    /// <summary>What the step writes.</summary>
    public const string OutputTopic = "broker.stamps";

    /// <summary>The classifier name of Broker's stamp classification.</summary>
    public const string Classifier = "stamp";

    /// <summary>The classifier and model name of braai's classification.</summary>
    public const string BraaiClassifier = "braai";

    /// <summary>The taxonomy of braai's classification.</summary>
    public const string BraaiTaxonomy = "real-bogus";

    /// <summary>braai's classes: its sigmoid is the probability of <c>real</c>, and <c>bogus</c> is one minus it.</summary>
    public static IReadOnlyList<string> BraaiClasses { get; } = ["bogus", "real"];

    /// <summary>The stamp classifier's entry in the stage registry (docs/stages.md).</summary>
    public static StageDefinition<Alert, Alert, StampClassifierOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Classifies each alert from its three cutouts and metadata into AGN, SN, VS, asteroid or bogus with Broker's own CNN on ONNX Runtime, adds ZTF's braai real/bogus score to ZTF alerts, and says why when the cutouts cannot be used.",
        Input = InputTopic,
        Outputs = [new TopicDefinition(OutputTopic, "Broker alert record as on `broker.sso`, with a `stamp` classification and, for ZTF, a `braai` one (docs/stamps.md)")],
        Needs = StageNeeds.Cutouts | StageNeeds.Models,
        Section = StampClassifierOptions.Section,
        InputCodec = AlertMessageCodec.Instance,
        OutputCodec = AlertMessageCodec.Instance,
        Factory = (options, context) => new StampClassifierStep(options, context.Loggers.CreateLogger<StampClassifierStep>()),
    };

    /// <summary>The version the step writes into each alert's <c>stageVersions</c>.</summary>
    public static string StageVersion { get; } = BrokerBuild.VersionOf(typeof(StampClassifierStep).Assembly);

    private readonly StampClassifierOptions _options;
    private readonly ILogger? _log;
    private readonly TimeProvider _clock;
    private readonly Lock _gate = new();
    private StampModels? _models;
    private readonly Dictionary<Survey, SurveyBuffers> _buffers = [];
    private OnnxModel? _braai;
    private string _braaiVersion = "";
    private float[] _braaiInput = [];
    private float[] _braaiOutput = [];
    private int[] _braaiSlots = [];
    private DecodedStamps[] _decoded = [];
    private Classification?[] _stamp = [];
    private Classification?[] _braaiResults = [];

    /// <summary>Creates the step; the models are loaded by <see cref="StartAsync"/>.</summary>
    /// <param name="options">Its settings.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="clock">The clock for the stage time each output records.</param>
    public StampClassifierStep(StampClassifierOptions options, ILogger<StampClassifierStep>? logger = null, TimeProvider? clock = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = logger;
        _clock = clock ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string Name => StepName;

    /// <summary>The verified models (after <see cref="StartAsync"/>).</summary>
    public StampModels Models => _models ?? throw new InvalidOperationException("the stamp step was not started");

    /// <summary>The braai model file, or null when braai is not run (after <see cref="StartAsync"/>).</summary>
    public string? BraaiPath => _braai?.Path;

    /// <summary>
    /// Reads the manifest, verifies every model against it (size, SHA-256, input and output names and shapes, the
    /// feature list, the classes) and loads it, and loads braai.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">A file is missing or does not match its manifest: one line.</exception>
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        if (_models is not null) return ValueTask.CompletedTask;
        string directory = StampModelFiles.ModelDirectory(_options);
        var manifest = StampModelManifest.Read(Path.Combine(directory, StampModelManifest.FileName));
        void Warn(string line) => _log?.LogWarning("{Warning}", line);
        var models = manifest.Verify(directory, _options.OnnxOptions, Warn);
        try
        {
            string? braai = StampModelFiles.BraaiModel(_options);
            if (braai is not null) LoadBraai(braai, Warn);
            else _log?.LogWarning("{Section}:BraaiModel: no braai model ({Setting}); ZTF alerts get no braai classification", StampClassifierOptions.Section, _options.BraaiModel.Length == 0 ? "disabled" : "not found beside the repository");
        }
        catch
        {
            models.Dispose();
            throw;
        }
        int n = _options.BatchSize;
        foreach (var (survey, model) in models.Models)
            _buffers[survey] = new SurveyBuffers(model, n, manifest.Classes.Count);
        _decoded = new DecodedStamps[n];
        _stamp = new Classification?[n];
        _braaiResults = new Classification?[n];
        _models = models;
        _log?.LogInformation("Stamp classifier {Name} {Version} from {Directory}: {Surveys}; braai {Braai}; {Provider}, {Threads} intra-op thread(s), batches of {Batch}",
            manifest.Name, manifest.Version, directory, string.Join(", ", models.Models.Keys), _braai?.Path ?? "off",
            models.Models.Values.First().Onnx.ExecutionProvider, _options.IntraOpThreads, n);
        return ValueTask.CompletedTask;
    }

    private void LoadBraai(string path, Action<string> warn)
    {
        OnnxModel braai;
        try
        {
            braai = new OnnxModel(path, _options.OnnxOptions, warn);
        }
        catch (OnnxModelException e)
        {
            throw new StepHostConfigurationException($"invalid configuration: {StampClassifierOptions.Section}:BraaiModel: {e.Message}", e);
        }
        long[] input = [-1, BraaiPreprocessor.Channels, BraaiPreprocessor.Side, BraaiPreprocessor.Side];
        if (braai.Inputs.Count != 1 || !braai.Inputs[0].Shape.SequenceEqual(input) || braai.Outputs.Count < 1 || !braai.Outputs[0].Shape.SequenceEqual([-1L, 1]))
        {
            string shapes = $"inputs {string.Join(", ", braai.Inputs.Select(i => $"{i.Name} {StampModelManifest.Shape(i.Shape)}"))}, output {StampModelManifest.Shape(braai.Outputs[0].Shape)}";
            braai.Dispose();
            throw new StepHostConfigurationException($"invalid configuration: {StampClassifierOptions.Section}:BraaiModel '{path}' is not braai: {shapes}, expected one input {StampModelManifest.Shape(input)} and output [-1, 1]");
        }
        string stem = Path.GetFileNameWithoutExtension(path);
        _braaiVersion = stem.StartsWith("braai_", StringComparison.Ordinal) ? stem["braai_".Length..] : stem;
        _braaiInput = new float[_options.BatchSize * BraaiPreprocessor.Length];
        _braaiOutput = new float[_options.BatchSize];
        _braaiSlots = new int[_options.BatchSize];
        _braai = braai;
    }

    /// <inheritdoc />
    /// <exception cref="StepException">Fatal: the step was not started.</exception>
    public ValueTask<IReadOnlyList<StepResult<Alert>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        if (_models is null) throw new StepException(FailureKind.Fatal, "the stamp step was not started: its models are loaded by StartAsync");
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
        var manifest = _models!.Manifest;
        foreach (var b in _buffers.Values) b.Count = 0;
        int braaiCount = 0;
        for (int i = start; i < end; i++)
        {
            int k = i - start;
            var alert = batch[i];
            _stamp[k] = null;
            _braaiResults[k] = null;
            bool braai = _braai is not null && alert.Survey == Survey.Ztf;
            string? why = alert.Cutouts is null ? Classification.NoCutouts : _decoded[k].Decode(alert.Cutouts);
            if (why is not null)
            {
                _stamp[k] = NotClassified(why);
                if (braai) _braaiResults[k] = BraaiNotClassified(why);
                continue;
            }
            if (_buffers.TryGetValue(alert.Survey, out var buffers))
            {
                int slot = buffers.Count;
                why = StampInput.WriteImages(_decoded[k], buffers.Images.AsSpan(slot * StampInput.ImageLength, StampInput.ImageLength))
                    ?? StampInput.WriteFeatures(alert, buffers.Features.AsSpan(slot * buffers.FeatureCount, buffers.FeatureCount));
                if (why is null)
                {
                    buffers.Alerts[slot] = k;
                    buffers.Count++;
                }
                else _stamp[k] = NotClassified(why);
            }
            else
            {
                _stamp[k] = NotClassified(StampInput.Supports(alert.Survey)
                    ? $"{manifest.Name} {manifest.Version} has no {StampModelFile.SurveyName(alert.Survey)} model"
                    : $"survey {alert.Survey.ToString().ToUpperInvariant()} has no stamp model");
            }
            if (braai)
            {
                why = WriteBraai(_decoded[k], _braaiInput.AsSpan(braaiCount * BraaiPreprocessor.Length, BraaiPreprocessor.Length));
                if (why is null) _braaiSlots[braaiCount++] = k;
                else _braaiResults[k] = BraaiNotClassified(why);
            }
            _decoded[k] = default;
        }

        foreach (var b in _buffers.Values) RunStamp(b);
        if (braaiCount > 0) RunBraai(braaiCount);

        var finished = _clock.GetUtcNow();
        for (int i = start; i < end; i++)
        {
            int k = i - start;
            var alert = batch[i];
            var added = _braaiResults[k] is { } b ? new[] { _stamp[k]!, b } : [_stamp[k]!];
            var output = alert with { Classifications = [.. alert.Classifications, .. added] };
            results[i] = StepResult<Alert>.Emit(output.WithStage(StepName, StageVersion, finished));
        }
    }

    private void RunStamp(SurveyBuffers b)
    {
        if (b.Count == 0) return;
        var manifest = _models!.Manifest;
        int classes = manifest.Classes.Count;
        try
        {
            b.Model.Onnx.Run(
                [
                    new OnnxInput(b.Model.ImagesInput, b.Images.AsMemory(0, b.Count * StampInput.ImageLength), [b.Count, StampInput.Channels, StampInput.Side, StampInput.Side]),
                    new OnnxInput(b.Model.FeaturesInput, b.Features.AsMemory(0, b.Count * b.FeatureCount), [b.Count, b.FeatureCount]),
                ],
                b.Output.AsMemory(0, b.Count * classes));
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ArgumentException)
        {
            throw new StepException(FailureKind.Fatal, $"stamp model {b.Model.Entry.File} failed on a batch of {b.Count}: {e.Message}", e);
        }
        for (int s = 0; s < b.Count; s++)
            _stamp[b.Alerts[s]] = Classified(Classifier, manifest.Name, manifest.Version, manifest.Taxonomy, manifest.Classes, b.Output.AsSpan(s * classes, classes));
    }

    private void RunBraai(int count)
    {
        try
        {
            _braai!.Run(_braaiInput.AsMemory(0, count * BraaiPreprocessor.Length), [count, BraaiPreprocessor.Channels, BraaiPreprocessor.Side, BraaiPreprocessor.Side], _braaiOutput.AsMemory(0, count));
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or ArgumentException)
        {
            throw new StepException(FailureKind.Fatal, $"braai {_braai!.Path} failed on a batch of {count}: {e.Message}", e);
        }
        Span<float> pair = stackalloc float[2];
        for (int s = 0; s < count; s++)
        {
            float real = _braaiOutput[s];
            pair[0] = 1 - real;
            pair[1] = real;
            _braaiResults[_braaiSlots[s]] = Classified(BraaiClassifier, BraaiClassifier, _braaiVersion, BraaiTaxonomy, BraaiClasses, pair);
        }
    }

    /// <summary>braai's input from decoded stamps; null, or why not (a stamp larger than 63 x 63).</summary>
    private static string? WriteBraai(in DecodedStamps stamps, Span<float> destination)
    {
        for (int c = 0; c < BraaiPreprocessor.Channels; c++)
        {
            var image = stamps[c]!;
            try
            {
                BraaiPreprocessor.WriteChannel(image.Pixels, image.Width, image.Height, destination.Slice(c * BraaiPreprocessor.Side * BraaiPreprocessor.Side, BraaiPreprocessor.Side * BraaiPreprocessor.Side));
            }
            catch (BraaiInputException e)
            {
                return $"{SurveyAlertMapper.CutoutKinds[c]} cutout: {e.Message}";
            }
        }
        return null;
    }

    /// <summary>A classification from a model's output row (<see cref="Classification.FromProbabilities"/>).</summary>
    private static Classification Classified(string classifier, string model, string version, string taxonomy, IReadOnlyList<string> classes, ReadOnlySpan<float> row) =>
        Classification.FromProbabilities(classifier, model, version, taxonomy, classes, row);

    private Classification NotClassified(string why)
    {
        var m = _models!.Manifest;
        return Classification.NotClassified(Classifier, m.Name, m.Version, m.Taxonomy, why);
    }

    private Classification BraaiNotClassified(string why) => Classification.NotClassified(BraaiClassifier, BraaiClassifier, _braaiVersion, BraaiTaxonomy, why);

    /// <summary>Closes the ONNX sessions.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _models?.Dispose();
            _models = null;
            _braai?.Dispose();
            _braai = null;
        }
    }

    /// <summary>One survey's model and its batch buffers.</summary>
    private sealed class SurveyBuffers(LoadedStampModel model, int batch, int classes)
    {
        public LoadedStampModel Model { get; } = model;
        public int FeatureCount { get; } = model.FeatureCount;
        public float[] Images { get; } = new float[batch * StampInput.ImageLength];
        public float[] Features { get; } = new float[batch * model.FeatureCount];
        public float[] Output { get; } = new float[batch * classes];
        public int[] Alerts { get; } = new int[batch];
        public int Count { get; set; }
    }
}
