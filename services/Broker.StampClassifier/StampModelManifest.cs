using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Broker.Alerts.Model;
using Broker.Onnx;
using Broker.StepHost;

namespace Broker.StampClassifier;

/// <summary>
/// The manifest of a stamp-classifier model directory, <c>models/stamp-classifier/&lt;version&gt;/manifest.json</c>
/// (docs/stamps.md): the model's name, version and taxonomy, its classes in output order, how it was trained, and
/// one ONNX file per survey with its size, SHA-256, inputs, output, FLOPs and metrics. The trainer writes it
/// (<see cref="Write"/>); the stage reads it and refuses a directory that does not match it (<see cref="Verify"/>).
/// </summary>
public sealed record StampModelManifest
{
    /// <summary>The file name of a manifest in its model directory.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The model name Broker's own classifier has.</summary>
    public const string DefaultName = "broker-stamp-classifier";

    /// <summary>ALeRCE's stamp taxonomy (Carrasco-Davis et al. 2021), the one these classes are.</summary>
    public const string DefaultTaxonomy = "alerce-stamp-2020";

    /// <summary>The classes, in output order, every stamp model must have (issue 13; ALeRCE's order).</summary>
    public static IReadOnlyList<string> ExpectedClasses { get; } = ["AGN", "SN", "VS", "asteroid", "bogus"];

    /// <summary>The model name, for example <c>broker-stamp-classifier</c>.</summary>
    public string Name { get; init; } = DefaultName;

    /// <summary>The model version, the name of its directory (<c>1.0</c>).</summary>
    public string Version { get; init; } = "";

    /// <summary>The taxonomy of <see cref="Classes"/>.</summary>
    public string Taxonomy { get; init; } = DefaultTaxonomy;

    /// <summary>The classes in the order of the output's columns.</summary>
    public IReadOnlyList<string> Classes { get; init; } = ExpectedClasses;

    /// <summary>How the models were trained.</summary>
    public StampTraining Training { get; init; } = new();

    /// <summary>One ONNX model per survey.</summary>
    public IReadOnlyList<StampModelFile> Models { get; init; } = [];

    /// <summary>The JSON options the manifest is read and written with: camelCase, indented, nulls left out, text unescaped.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = ModelManifestJson.CreateOptions();

    /// <summary>Reads a manifest.</summary>
    /// <exception cref="StepHostConfigurationException">The file is missing, unreadable or not a manifest: one line naming it.</exception>
    public static StampModelManifest Read(string path) =>
        ModelManifestJson.Read<StampModelManifest>(path, JsonOptions, "stamp model manifest", static (m, e) => new StepHostConfigurationException(m, e));

    /// <summary>Writes the manifest as indented camelCase JSON with a final newline.</summary>
    public void Write(string path) => ModelManifestJson.Write(this, path, JsonOptions);

    /// <summary>The entry for <paramref name="survey"/>, or null.</summary>
    public StampModelFile? For(Survey survey)
    {
        foreach (var m in Models)
            if (StampModelFile.TryParseSurvey(m.Survey, out var s) && s == survey) return m;
        return null;
    }

    /// <summary>
    /// Checks the models of <paramref name="directory"/> against this manifest and loads them: every file's size
    /// and SHA-256, each ONNX session's input and output names and shapes, the feature list against
    /// <see cref="StampInput.FeatureNames"/>, the classes (exactly AGN, SN, VS, asteroid, bogus, in order) and the
    /// output's width. The caller disposes the returned sessions.
    /// </summary>
    /// <param name="directory">The model directory (the manifest's own).</param>
    /// <param name="options">How the ONNX sessions are made; CPU, one thread when null.</param>
    /// <param name="warn">Receives an <see cref="OnnxExecutionProvider.Auto"/> fall-back's warning.</param>
    /// <exception cref="StepHostConfigurationException">Anything differs: one line naming the file, the manifest and both values.</exception>
    public StampModels Verify(string directory, OnnxModelOptions? options = null, Action<string>? warn = null)
    {
        string dir = Path.GetFullPath(directory);
        string manifest = Path.Combine(dir, FileName);
        StepHostConfigurationException Bad(string what) => new($"stamp model manifest '{manifest}': {what}");
        if (!Classes.SequenceEqual(ExpectedClasses, StringComparer.Ordinal))
            throw Bad($"classes are [{string.Join(", ", Classes)}], expected exactly [{string.Join(", ", ExpectedClasses)}] in that order");
        if (string.IsNullOrWhiteSpace(Name)) throw Bad("name is empty");
        if (string.IsNullOrWhiteSpace(Version)) throw Bad("version is empty");
        if (Models.Count == 0) throw Bad("lists no models");
        var loaded = new Dictionary<Survey, LoadedStampModel>();
        try
        {
            foreach (var entry in Models)
            {
                if (!StampModelFile.TryParseSurvey(entry.Survey, out var survey))
                    throw Bad($"model survey '{entry.Survey}' is not ztf or lsst");
                if (loaded.ContainsKey(survey)) throw Bad($"lists survey '{entry.Survey}' twice");
                if (string.IsNullOrWhiteSpace(entry.File)) throw Bad($"the {entry.Survey} model names no file");
                if (entry.File.Contains('/') || entry.File.Contains('\\') || entry.File.Contains(".."))
                    throw Bad($"the {entry.Survey} model file '{entry.File}' is not a plain file name in the model directory");
                if (entry.Sha256 is not { Length: 64 } || !entry.Sha256.All(char.IsAsciiHexDigit))
                    throw Bad($"the {entry.Survey} model's sha256 '{entry.Sha256}' is not 64 hexadecimal digits");
                string file = Path.Combine(dir, entry.File);
                VerifyFile(file, entry, manifest);
                loaded.Add(survey, Load(file, entry, survey, manifest, options, warn));
            }
        }
        catch
        {
            foreach (var m in loaded.Values) m.Onnx.Dispose();
            throw;
        }
        return new StampModels(this, dir, loaded);
    }

    private static void VerifyFile(string file, StampModelFile entry, string manifest)
    {
        // FileVerifier's refusal names the file, the manifest and both values; its wording is kept.
        FileVerifier.Verify(file, entry.Sha256, entry.Bytes, "stamp model file", manifest);
    }

    private LoadedStampModel Load(string file, StampModelFile entry, Survey survey, string manifest, OnnxModelOptions? options, Action<string>? warn)
    {
        StepHostConfigurationException Bad(string what) => new($"stamp model file '{file}' does not match its manifest '{manifest}': {what}");
        OnnxModel onnx;
        try
        {
            onnx = new OnnxModel(file, options, warn);
        }
        catch (OnnxModelException e)
        {
            throw new StepHostConfigurationException($"stamp model file '{file}' (manifest '{manifest}'): {e.Message}", e);
        }
        try
        {
            if (entry.Inputs.Count != 2)
                throw Bad($"the manifest lists {entry.Inputs.Count} inputs, a stamp model has 2 (images, features)");
            if (onnx.Inputs.Count != entry.Inputs.Count)
                throw Bad($"the model has {onnx.Inputs.Count} inputs ({Names(onnx.Inputs)}), the manifest {entry.Inputs.Count} ({string.Join(", ", entry.Inputs.Select(i => i.Name))})");
            int imagesAt = -1, featuresAt = -1;
            for (int i = 0; i < entry.Inputs.Count; i++)
            {
                var want = entry.Inputs[i];
                var have = onnx.Inputs[i];
                if (have.Name != want.Name) throw Bad($"input {i} is named '{have.Name}', the manifest says '{want.Name}'");
                if (!have.Shape.SequenceEqual(want.Shape))
                    throw Bad($"input '{want.Name}' has shape {Shape(have.Shape)}, the manifest says {Shape(want.Shape)}");
                if (have.ElementType != typeof(float)) throw Bad($"input '{want.Name}' is {have.ElementType.Name}, not float32");
                if (want.Features is not null) featuresAt = featuresAt < 0 ? i : throw Bad("two inputs list features");
                else imagesAt = imagesAt < 0 ? i : throw Bad("two inputs list no features (one must be the images, one the features)");
            }
            if (imagesAt < 0 || featuresAt < 0) throw Bad("no input lists the features");
            var images = entry.Inputs[imagesAt];
            long[] imageShape = [-1, StampInput.Channels, StampInput.Side, StampInput.Side];
            if (!images.Shape.SequenceEqual(imageShape))
                throw Bad($"input '{images.Name}' has shape {Shape(images.Shape)}, StampInput writes {Shape(imageShape)}");
            var features = entry.Inputs[featuresAt];
            var expected = StampInput.FeatureNames(survey);
            if (!features.Features!.SequenceEqual(expected, StringComparer.Ordinal))
                throw Bad($"input '{features.Name}' lists features [{string.Join(", ", features.Features!)}], StampInput.FeatureNames({survey}) is [{string.Join(", ", expected)}]");
            long[] featureShape = [-1, expected.Count];
            if (!features.Shape.SequenceEqual(featureShape))
                throw Bad($"input '{features.Name}' has shape {Shape(features.Shape)}, {expected.Count} features need {Shape(featureShape)}");
            if (onnx.Outputs.Count < 1) throw Bad("the model has no output");
            var output = onnx.Outputs[0];
            if (output.Name != entry.Output.Name) throw Bad($"output 0 is named '{output.Name}', the manifest says '{entry.Output.Name}'");
            if (!output.Shape.SequenceEqual(entry.Output.Shape))
                throw Bad($"output '{output.Name}' has shape {Shape(output.Shape)}, the manifest says {Shape(entry.Output.Shape)}");
            if (output.ElementType != typeof(float)) throw Bad($"output '{output.Name}' is {output.ElementType.Name}, not float32");
            long[] outputShape = [-1, Classes.Count];
            if (!entry.Output.Shape.SequenceEqual(outputShape))
                throw Bad($"output '{output.Name}' has shape {Shape(entry.Output.Shape)}, {Classes.Count} classes need {Shape(outputShape)}");
            return new LoadedStampModel(survey, entry, onnx, images.Name, features.Name, expected.Count);
        }
        catch
        {
            onnx.Dispose();
            throw;
        }
    }

    private static string Names(IReadOnlyList<OnnxTensorInfo> infos) => string.Join(", ", infos.Select(i => i.Name));

    /// <summary>A shape as the manifest writes it: <c>[-1, 3, 21, 21]</c>.</summary>
    public static string Shape(IReadOnlyList<long> shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";
}

/// <summary>How a manifest's models were trained.</summary>
public sealed record StampTraining
{
    /// <summary>The command that reproduces the models (<c>./broker train stamps --seed 1 ...</c>).</summary>
    public string Command { get; init; } = "";

    /// <summary>The seed.</summary>
    public long? Seed { get; init; }

    /// <summary>The training data, in words.</summary>
    public string Data { get; init; } = "";

    /// <summary>Anything else worth recording (epochs, learning rate, sample counts).</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>One survey's ONNX model in a manifest.</summary>
public sealed record StampModelFile
{
    /// <summary>The survey: <c>ztf</c> or <c>lsst</c>.</summary>
    public string Survey { get; init; } = "";

    /// <summary>The ONNX file, in the manifest's directory.</summary>
    public string File { get; init; } = "";

    /// <summary>Its SHA-256, hex.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>Its size.</summary>
    public long? Bytes { get; init; }

    /// <summary>The inputs in the model's order: the images [-1, 3, 21, 21] and the features [-1, n] with their names.</summary>
    public IReadOnlyList<OnnxManifestInput> Inputs { get; init; } = [];

    /// <summary>The output: class probabilities [-1, classes].</summary>
    public OnnxManifestOutput Output { get; init; } = new();

    /// <summary>Floating-point operations of one alert's forward pass (a multiply-add counts 2).</summary>
    public long? FlopsPerAlert { get; init; }

    /// <summary>Test metrics: accuracy, per-class recall and the like.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The survey a manifest names: <c>ztf</c>, or <c>lsst</c> (also <c>rubin</c>), any case.</summary>
    public static bool TryParseSurvey(string? name, out Survey survey)
    {
        switch (name?.Trim().ToLowerInvariant())
        {
            case "ztf":
                survey = Alerts.Model.Survey.Ztf;
                return true;
            case "lsst" or "rubin":
                survey = Alerts.Model.Survey.Lsst;
                return true;
            default:
                survey = Alerts.Model.Survey.Unknown;
                return false;
        }
    }

    /// <summary>The name a manifest uses for a survey: <c>ztf</c> or <c>lsst</c>.</summary>
    public static string SurveyName(Survey survey) => survey switch
    {
        Alerts.Model.Survey.Ztf => "ztf",
        Alerts.Model.Survey.Lsst => "lsst",
        _ => throw new ArgumentException($"survey {survey} has no stamp model", nameof(survey)),
    };
}

/// <summary>One survey's verified, loaded model.</summary>
/// <param name="Survey">The survey.</param>
/// <param name="Entry">Its manifest entry.</param>
/// <param name="Onnx">The ONNX Runtime session.</param>
/// <param name="ImagesInput">The name of its images input.</param>
/// <param name="FeaturesInput">The name of its features input.</param>
/// <param name="FeatureCount">Features per alert.</param>
public sealed record LoadedStampModel(Survey Survey, StampModelFile Entry, OnnxModel Onnx, string ImagesInput, string FeaturesInput, int FeatureCount);

/// <summary>A manifest's models, verified and loaded (<see cref="StampModelManifest.Verify"/>); disposing closes the sessions.</summary>
public sealed class StampModels(StampModelManifest manifest, string directory, IReadOnlyDictionary<Survey, LoadedStampModel> models) : IDisposable
{
    /// <summary>The manifest.</summary>
    public StampModelManifest Manifest { get; } = manifest;

    /// <summary>The model directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>The models by survey.</summary>
    public IReadOnlyDictionary<Survey, LoadedStampModel> Models { get; } = models;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var m in Models.Values) m.Onnx.Dispose();
    }
}
