using Broker.Onnx;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.LightCurves;

/// <summary>A periodic-CNN model directory that cannot be served: missing, corrupt, or not matching its manifest. The message is one line naming the file.</summary>
public sealed class PeriodicCnnModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The manifest of a periodic-variable CNN, <c>models/periodic-cnn/&lt;version&gt;/manifest.json</c>: name,
/// version, the six ALeRCE periodic classes in output order, the ONNX file with its size and SHA-256, its two inputs
/// (the <see cref="PhaseFoldedImage"/> images and scalars, with the drawing's <see cref="PhaseFoldedImage.Layout"/>
/// and the scalar names in order), its output, how it was trained (command, seed, data) and its test metrics. The
/// trainer writes it (<see cref="Write"/>); <see cref="PeriodicCnnModel.Load"/> reads it and refuses a directory
/// that does not match (<see cref="Check"/>). The same rules as the stamp classifier's manifest (docs/training.md).
/// </summary>
public sealed record PeriodicCnnManifest
{
    /// <summary>The file name of a manifest in its model directory.</summary>
    public const string FileName = "manifest.json";

    /// <summary>The model name of Broker's periodic CNN.</summary>
    public const string DefaultName = "broker-periodic-cnn";

    /// <summary>The taxonomy of the classes: ALeRCE's light-curve classifier's periodic branch (Sánchez-Sáez et al. 2021, AJ 161, 141).</summary>
    public const string DefaultTaxonomy = "alerce-lc-periodic-2021";

    /// <summary>The classes, in output order, every periodic-CNN model must have: ALeRCE's six periodic classes as written in issue 14.</summary>
    public static IReadOnlyList<string> ExpectedClasses { get; } = ["LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"];

    /// <summary>The model name.</summary>
    public string Name { get; init; } = DefaultName;

    /// <summary>The model version, the name of its directory (<c>1.0</c>).</summary>
    public string Version { get; init; } = "";

    /// <summary>The taxonomy of <see cref="Classes"/>.</summary>
    public string Taxonomy { get; init; } = DefaultTaxonomy;

    /// <summary>The classes in the order of the output's columns.</summary>
    public IReadOnlyList<string> Classes { get; init; } = ExpectedClasses;

    /// <summary>The ONNX file, in the manifest's directory.</summary>
    public string File { get; init; } = "";

    /// <summary>Its SHA-256, hex.</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>Its size, bytes.</summary>
    public long? Bytes { get; init; }

    /// <summary>How the images are drawn: side and layout.</summary>
    public PeriodicCnnImage Image { get; init; } = new();

    /// <summary>The inputs in the model's order: images [-1, 2, side, side], then features [-1, n] with their names.</summary>
    public IReadOnlyList<OnnxManifestInput> Inputs { get; init; } = [];

    /// <summary>The output: class probabilities [-1, classes].</summary>
    public OnnxManifestOutput Output { get; init; } = new();

    /// <summary>Floating-point operations of one alert's forward pass (a multiply-add counts 2).</summary>
    public long? FlopsPerAlert { get; init; }

    /// <summary>How it was trained.</summary>
    public PeriodicCnnTraining Training { get; init; } = new();

    /// <summary>Test metrics: per-class recall and precision, confusion counts, accuracy.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The JSON options: camelCase, indented, nulls left out, text unescaped (people read it too).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = ModelManifestJson.CreateOptions();

    /// <summary>Reads a manifest.</summary>
    /// <exception cref="PeriodicCnnModelException">Missing, unreadable or not a manifest: one line naming it.</exception>
    public static PeriodicCnnManifest Read(string path) =>
        ModelManifestJson.Read<PeriodicCnnManifest>(path, JsonOptions, "periodic CNN manifest", static (m, e) => new PeriodicCnnModelException(m, e));

    /// <summary>Writes the manifest as indented camelCase JSON with a final newline.</summary>
    public void Write(string path) => ModelManifestJson.Write(this, path, JsonOptions);

    /// <summary>
    /// Checks what can be checked without ONNX Runtime: the classes (exactly <see cref="ExpectedClasses"/>, in
    /// order), name and version, the image layout against <see cref="PhaseFoldedImage.Layout"/>, the inputs (images
    /// [-1, 2, side, side]; features [-1, n] named exactly <see cref="PhaseFoldedImage.ScalarNames"/>), the output
    /// [-1, classes], and the file's name, size and SHA-256. Returns the ONNX file's full path.
    /// </summary>
    /// <param name="directory">The manifest's directory.</param>
    /// <exception cref="PeriodicCnnModelException">Anything differs: one line naming the manifest and both values.</exception>
    public string Check(string directory)
    {
        string dir = Path.GetFullPath(directory);
        string manifest = Path.Combine(dir, FileName);
        PeriodicCnnModelException Bad(string what) => new($"periodic CNN manifest '{manifest}': {what}");
        if (!Classes.SequenceEqual(ExpectedClasses, StringComparer.Ordinal))
            throw Bad($"classes are [{string.Join(", ", Classes)}], expected exactly [{string.Join(", ", ExpectedClasses)}] in that order");
        if (string.IsNullOrWhiteSpace(Name)) throw Bad("name is empty");
        if (string.IsNullOrWhiteSpace(Version)) throw Bad("version is empty");
        if (Image.Layout != PhaseFoldedImage.Layout)
            throw Bad($"image layout is '{Image.Layout}', PhaseFoldedImage draws '{PhaseFoldedImage.Layout}'");
        if (Image.Side < 4 || Image.Side % 2 != 0) throw Bad($"image side {Image.Side} is not an even number of at least 4");
        if (Inputs.Count != 2) throw Bad($"lists {Inputs.Count} inputs, a periodic CNN has 2 (images, features)");
        var images = Inputs[0];
        long[] imageShape = [-1, PhaseFoldedImage.Channels, Image.Side, Image.Side];
        if (images.Features is not null) throw Bad($"input 0 '{images.Name}' lists features; it must be the images");
        if (!images.Shape.SequenceEqual(imageShape)) throw Bad($"input '{images.Name}' has shape {Shape(images.Shape)}, PhaseFoldedImage writes {Shape(imageShape)}");
        var features = Inputs[1];
        if (features.Features is null) throw Bad($"input 1 '{features.Name}' lists no features");
        if (!features.Features.SequenceEqual(PhaseFoldedImage.ScalarNames, StringComparer.Ordinal))
            throw Bad($"input '{features.Name}' lists features [{string.Join(", ", features.Features)}], PhaseFoldedImage.ScalarNames is [{string.Join(", ", PhaseFoldedImage.ScalarNames)}]");
        long[] featureShape = [-1, PhaseFoldedImage.ScalarCount];
        if (!features.Shape.SequenceEqual(featureShape)) throw Bad($"input '{features.Name}' has shape {Shape(features.Shape)}, {PhaseFoldedImage.ScalarCount} features need {Shape(featureShape)}");
        long[] outputShape = [-1, Classes.Count];
        if (!Output.Shape.SequenceEqual(outputShape)) throw Bad($"output '{Output.Name}' has shape {Shape(Output.Shape)}, {Classes.Count} classes need {Shape(outputShape)}");
        if (string.IsNullOrWhiteSpace(File)) throw Bad("names no model file");
        if (File.Contains('/') || File.Contains('\\') || File.Contains("..", StringComparison.Ordinal))
            throw Bad($"model file '{File}' is not a plain file name in the model directory");
        if (Sha256 is not { Length: 64 } || !Sha256.All(char.IsAsciiHexDigit)) throw Bad($"sha256 '{Sha256}' is not 64 hexadecimal digits");
        string file = Path.Combine(dir, File);
        if (!System.IO.File.Exists(file)) throw new PeriodicCnnModelException($"periodic CNN model file '{file}' does not exist (named by manifest '{manifest}')");
        try
        {
            long size = new FileInfo(file).Length;
            if (Bytes is { } expected && size != expected)
                throw new PeriodicCnnModelException($"periodic CNN model file '{file}' does not match its manifest '{manifest}': {size} bytes, expected {expected}");
            string actual;
            using (var stream = System.IO.File.OpenRead(file)) actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
            if (!actual.Equals(Sha256, StringComparison.OrdinalIgnoreCase))
                throw new PeriodicCnnModelException($"periodic CNN model file '{file}' does not match its manifest '{manifest}': sha256 {actual}, expected {Sha256.ToLowerInvariant()}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PeriodicCnnModelException($"periodic CNN model file '{file}' cannot be read: {FirstLine(e.Message)}", e);
        }
        return file;
    }

    /// <summary>A shape as the manifest writes it: <c>[-1, 2, 32, 32]</c>.</summary>
    public static string Shape(IReadOnlyList<long> shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    internal static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return (nl < 0 ? message : message[..nl]).Trim();
    }
}

/// <summary>How a periodic CNN's images are drawn.</summary>
public sealed record PeriodicCnnImage
{
    /// <summary>Band of each channel, in order.</summary>
    public IReadOnlyList<string> Bands { get; init; } = ["g", "r"];

    /// <summary>Image side, pixels.</summary>
    public int Side { get; init; }

    /// <summary>Phase cycles along x.</summary>
    public int Cycles { get; init; } = PhaseFoldedImage.Cycles;

    /// <summary>The drawing, word for word <see cref="PhaseFoldedImage.Layout"/>.</summary>
    public string Layout { get; init; } = "";
}

/// <summary>How a periodic CNN was trained.</summary>
public sealed record PeriodicCnnTraining
{
    /// <summary>The command that reproduces it (<c>./broker train periodic --seed 2026</c>).</summary>
    public string Command { get; init; } = "";

    /// <summary>The seed (train S, validation S + 1000, test S + 2000).</summary>
    public long? Seed { get; init; }

    /// <summary>The training data, in words.</summary>
    public string Data { get; init; } = "";

    /// <summary>Anything else worth recording (architecture, optimiser, example counts, epochs).</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
