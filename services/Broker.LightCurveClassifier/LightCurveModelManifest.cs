using Broker.Onnx;
using System.Text.Json;
using System.Text.Json.Serialization;
using Broker.LightCurves;
using Broker.StepHost;

namespace Broker.LightCurveClassifier;

/// <summary>One file of a model directory: its name, SHA-256 and size.</summary>
public sealed record ModelFileEntry
{
    /// <summary>A plain file name inside the model directory.</summary>
    public string File { get; init; } = "";

    /// <summary>SHA-256, lower-case hex.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; init; }
}

/// <summary>One forest of the hierarchy: the top level or one branch.</summary>
public sealed record ForestEntry
{
    /// <summary><c>top</c>, or the top-level class whose members it separates (<c>Transient</c>, ...).</summary>
    public string Name { get; init; } = "";

    /// <summary>Its classes in output order.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>The ML.NET model (.zip).</summary>
    public ModelFileEntry MlNet { get; init; } = new();

    /// <summary>Its ONNX export, or null.</summary>
    public ModelFileEntry? Onnx { get; init; }
}

/// <summary>How the model was trained (docs/lightcurve-classifier.md).</summary>
public sealed record LightCurveTrainingInfo
{
    /// <summary>The command that reproduces it.</summary>
    public string Command { get; init; } = "";

    /// <summary>The training set's seed.</summary>
    public ulong Seed { get; init; }

    /// <summary>The simulated test set's seed (not used in training).</summary>
    public ulong TestSeed { get; init; }

    /// <summary>Objects per class in the training set.</summary>
    public int PerClass { get; init; }

    /// <summary>Objects per class in the test set.</summary>
    public int TestPerClass { get; init; }

    /// <summary>The trainer (<c>LightGbm</c>, <c>FastForest</c>) and its settings.</summary>
    public string Trainer { get; init; } = "";

    /// <summary>What the data are.</summary>
    public string Data { get; init; } = "";
}

/// <summary>
/// The manifest of a light-curve classifier model directory, <c>models/lc-classifier/&lt;version&gt;/manifest.json</c>
/// (docs/lightcurve-classifier.md): the model's name, version, taxonomy and survey, its feature list in row order, its
/// classes at both levels in output order, one forest per level and branch with the SHA-256 and size of each file,
/// how it was trained and its metrics. The trainer writes it; the stage refuses a directory that disagrees with it.
/// </summary>
public sealed record LightCurveModelManifest
{
    /// <summary>The file name of a manifest in its model directory.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Broker's model name.</summary>
    public const string DefaultName = "broker-lc-classifier";

    /// <summary>ALeRCE's light-curve taxonomy (Sánchez-Sáez et al. 2021).</summary>
    public const string DefaultTaxonomy = "alerce-lc-2021";

    /// <summary>The name of the top-level forest.</summary>
    public const string TopModel = "top";

    /// <summary>The top-level classes, in output order.</summary>
    public static IReadOnlyList<string> ExpectedTopClasses { get; } = ["Periodic", "Stochastic", "Transient"];

    /// <summary>ALeRCE's fifteen classes with their names exactly as ALeRCE writes them, in output order.</summary>
    public static IReadOnlyList<string> ExpectedClasses { get; } =
        ["SNIa", "SNIbc", "SNII", "SLSN", "QSO", "AGN", "Blazar", "CV/Nova", "YSO", "LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"];

    /// <summary>The classes under each top-level class (Sánchez-Sáez et al. 2021, fig. 1).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ExpectedBranches { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["Periodic"] = ["LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"],
        ["Stochastic"] = ["QSO", "AGN", "Blazar", "CV/Nova", "YSO"],
        ["Transient"] = ["SNIa", "SNIbc", "SNII", "SLSN"],
    };

    /// <summary>The model name.</summary>
    public string Name { get; init; } = DefaultName;

    /// <summary>The version, the name of its directory (<c>1.0</c>).</summary>
    public string Version { get; init; } = "";

    /// <summary>The taxonomy.</summary>
    public string Taxonomy { get; init; } = DefaultTaxonomy;

    /// <summary>The survey whose light curves it classifies (<c>ztf</c>).</summary>
    public string Survey { get; init; } = "ztf";

    /// <summary>Detections in g or in r an alert needs (<see cref="LightCurveInput.MinDetections"/>).</summary>
    public int MinDetections { get; init; } = LightCurveInput.MinDetections;

    /// <summary>The value undefined features take (<see cref="LightCurveInput.MissingValue"/>).</summary>
    public float MissingValue { get; init; } = LightCurveInput.MissingValue;

    /// <summary>The feature list in row order.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>The top-level classes in output order.</summary>
    public IReadOnlyList<string> TopClasses { get; init; } = ExpectedTopClasses;

    /// <summary>The classes in output order.</summary>
    public IReadOnlyList<string> Classes { get; init; } = ExpectedClasses;

    /// <summary>Which file the service runs by default (<c>MlNet</c> or <c>Onnx</c>), the faster as measured.</summary>
    public ForestRuntime Serving { get; init; } = ForestRuntime.MlNet;

    /// <summary>The forests: <see cref="TopModel"/> and one per top-level class.</summary>
    public IReadOnlyList<ForestEntry> Models { get; init; } = [];

    /// <summary>How it was trained.</summary>
    public LightCurveTrainingInfo Training { get; init; } = new();

    /// <summary>Measured figures (test-set metrics, comparisons), as the trainer wrote them.</summary>
    public JsonElement? Metrics { get; init; }

    /// <summary>camelCase, indented, nulls left out, enums as names, text unescaped.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = ModelManifestJson.CreateOptions(new JsonStringEnumConverter());

    /// <summary>Reads a manifest.</summary>
    /// <exception cref="StepHostConfigurationException">Missing, unreadable or not a manifest: one line naming it.</exception>
    public static LightCurveModelManifest Read(string path) =>
        ModelManifestJson.Read<LightCurveModelManifest>(path, JsonOptions, "light-curve model manifest", static (m, e) => new StepHostConfigurationException(m, e));

    /// <summary>Writes the manifest as indented camelCase JSON with a final newline.</summary>
    public void Write(string path) => ModelManifestJson.Write(this, path, JsonOptions);

    /// <summary>The feature layout of <see cref="Survey"/>, or null for a survey with none.</summary>
    public FeatureBands? Layout => Survey switch { "ztf" => FeatureBands.Ztf, "lsst" => FeatureBands.Rubin, _ => null };

    /// <summary>
    /// Checks the directory against the manifest and loads the forests for <paramref name="runtime"/> (the manifest's
    /// <see cref="Serving"/> when null): the classes at both levels and per branch (ALeRCE's, in order), the feature
    /// list (exactly <see cref="LightCurveFeatures.NamesFor"/> of the survey), every file's size and SHA-256, and each
    /// forest's output width.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">Anything differs: one line naming the manifest and what.</exception>
    public LightCurveHierarchy Verify(string directory, ForestRuntime? runtime = null)
    {
        string dir = Path.GetFullPath(directory);
        string manifest = Path.Combine(dir, FileName);
        StepHostConfigurationException Bad(string what) => new($"light-curve model manifest '{manifest}': {what}");
        if (string.IsNullOrWhiteSpace(Name)) throw Bad("name is empty");
        if (string.IsNullOrWhiteSpace(Version)) throw Bad("version is empty");
        if (!TopClasses.SequenceEqual(ExpectedTopClasses, StringComparer.Ordinal))
            throw Bad($"top classes are [{string.Join(", ", TopClasses)}], expected exactly [{string.Join(", ", ExpectedTopClasses)}] in that order");
        if (!Classes.SequenceEqual(ExpectedClasses, StringComparer.Ordinal))
            throw Bad($"classes are [{string.Join(", ", Classes)}], expected exactly [{string.Join(", ", ExpectedClasses)}] in that order");
        var layout = Layout ?? throw Bad($"survey '{Survey}' is not ztf or lsst");
        var names = LightCurveFeatures.NamesFor(layout);
        if (!Features.SequenceEqual(names, StringComparer.Ordinal))
        {
            int at = 0;
            while (at < Math.Min(Features.Count, names.Count) && Features[at] == names[at]) at++;
            throw Bad($"features differ from Broker.LightCurves' {layout.Name} layout ({Features.Count} listed, {names.Count} computed): first at {at}, " +
                $"'{(at < Features.Count ? Features[at] : "(end)")}' where the features have '{(at < names.Count ? names[at] : "(end)")}'");
        }
        if (MinDetections < 1) throw Bad($"minDetections {MinDetections} is below 1");
        var use = runtime ?? Serving;
        var forests = new Dictionary<string, IForest>(StringComparer.Ordinal);
        try
        {
            foreach (var expected in new[] { TopModel }.Concat(ExpectedTopClasses))
            {
                var entries = Models.Where(m => m.Name == expected).ToList();
                if (entries.Count != 1) throw Bad($"lists {entries.Count} forests named '{expected}', expected one");
                var entry = entries[0];
                var classes = expected == TopModel ? ExpectedTopClasses : ExpectedBranches[expected];
                if (!entry.Classes.SequenceEqual(classes, StringComparer.Ordinal))
                    throw Bad($"forest '{expected}' has classes [{string.Join(", ", entry.Classes)}], expected [{string.Join(", ", classes)}]");
                var file = use == ForestRuntime.Onnx ? entry.Onnx ?? throw Bad($"forest '{expected}' has no ONNX file") : entry.MlNet;
                string path = CheckFile(dir, file, $"forest '{expected}'", manifest, Bad);
                try
                {
                    forests[expected] = use == ForestRuntime.Onnx ? new OnnxForest(path, Features.Count, classes.Count) : new MlNetForest(path, Features.Count, classes.Count);
                }
                // ML.NET and ONNX Runtime raise many kinds for a file that is not their model (InvalidDataException,
                // FormatException, OnnxRuntimeException, ...): each is refused in one line.
                catch (Exception e) when (e is not (OutOfMemoryException or StepHostConfigurationException))
                {
                    throw Bad($"forest '{expected}' file '{file.File}' cannot be loaded: {e.Message}");
                }
            }
            if (Models.Count != forests.Count) throw Bad($"lists {Models.Count} forests, expected {forests.Count} (top and one per top-level class)");
        }
        catch
        {
            foreach (var f in forests.Values) f.Dispose();
            throw;
        }
        return new LightCurveHierarchy(this, dir, use, forests[TopModel], [.. ExpectedTopClasses.Select(t => forests[t])]);
    }

    private static string CheckFile(string dir, ModelFileEntry file, string what, string manifest, Func<string, StepHostConfigurationException> bad)
    {
        if (string.IsNullOrWhiteSpace(file.File)) throw bad($"{what} names no file");
        if (file.File.Contains('/') || file.File.Contains('\\') || file.File.Contains(".."))
            throw bad($"{what} file '{file.File}' is not a plain file name in the model directory");
        if (file.Sha256 is not { Length: 64 } || !file.Sha256.All(char.IsAsciiHexDigit))
            throw bad($"{what} sha256 '{file.Sha256}' is not 64 hexadecimal digits");
        string path = Path.Combine(dir, file.File);
        FileVerifier.Verify(path, file.Sha256, file.Bytes, "light-curve model file", manifest);
        return path;
    }
}

/// <summary>
/// The loaded hierarchy: the top-level forest and one forest per top-level class. The probability of a class is the
/// top-level probability of its group times its probability within the group, as ALeRCE's hierarchical classifier
/// combines them (Sánchez-Sáez et al. 2021, §4.2, eq. 4: P(c) = P(group) P(c | group)).
/// </summary>
/// <remarks>Not thread-safe (the forests are not): one caller at a time.</remarks>
public sealed class LightCurveHierarchy : IDisposable
{
    private readonly IForest _top;
    private readonly IForest[] _branches;
    private readonly int[] _groupOf;
    private readonly int[] _indexInGroup;
    private float[] _topOut = [], _branchOut = [];

    internal LightCurveHierarchy(LightCurveModelManifest manifest, string directory, ForestRuntime runtime, IForest top, IForest[] branches)
    {
        Manifest = manifest;
        Directory = directory;
        Runtime = runtime;
        _top = top;
        _branches = branches;
        _groupOf = new int[manifest.Classes.Count];
        _indexInGroup = new int[manifest.Classes.Count];
        for (int c = 0; c < manifest.Classes.Count; c++)
        {
            for (int g = 0; g < LightCurveModelManifest.ExpectedTopClasses.Count; g++)
            {
                int k = IndexOf(LightCurveModelManifest.ExpectedBranches[LightCurveModelManifest.ExpectedTopClasses[g]], manifest.Classes[c]);
                if (k < 0) continue;
                _groupOf[c] = g;
                _indexInGroup[c] = k;
            }
        }
    }

    /// <summary>The manifest.</summary>
    public LightCurveModelManifest Manifest { get; }

    /// <summary>The model directory.</summary>
    public string Directory { get; }

    /// <summary>Which files were loaded.</summary>
    public ForestRuntime Runtime { get; }

    /// <summary>Features per row.</summary>
    public int FeatureCount => _top.FeatureCount;

    /// <summary>
    /// Classifies <paramref name="count"/> rows: <paramref name="top"/> receives the top-level probabilities
    /// (3 per row, <see cref="LightCurveModelManifest.TopClasses"/> order) and <paramref name="classes"/> the class
    /// probabilities (15 per row, <see cref="LightCurveModelManifest.Classes"/> order).
    /// </summary>
    public void Predict(ReadOnlyMemory<float> rows, int count, Span<float> top, Span<float> classes)
    {
        int nt = _branches.Length, nc = _groupOf.Length;
        if (_topOut.Length < count * nt) _topOut = new float[count * nt];
        _top.Predict(rows, count, _topOut.AsMemory(0, count * nt));
        _topOut.AsSpan(0, count * nt).CopyTo(top);
        for (int g = 0; g < nt; g++)
        {
            var b = _branches[g];
            int k = b.ClassCount;
            if (_branchOut.Length < count * k) _branchOut = new float[count * k];
            b.Predict(rows, count, _branchOut.AsMemory(0, count * k));
            for (int i = 0; i < count; i++)
                for (int c = 0; c < nc; c++)
                    if (_groupOf[c] == g) classes[i * nc + c] = _topOut[i * nt + g] * _branchOut[i * k + _indexInGroup[c]];
        }
    }

    private static int IndexOf(IReadOnlyList<string> list, string name)
    {
        for (int i = 0; i < list.Count; i++)
            if (list[i] == name) return i;
        return -1;
    }

    /// <summary>Releases the forests.</summary>
    public void Dispose()
    {
        _top.Dispose();
        foreach (var b in _branches) b.Dispose();
    }
}
