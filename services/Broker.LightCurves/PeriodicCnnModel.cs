using Broker.Onnx;

namespace Broker.LightCurves;

/// <summary>
/// Broker's periodic-variable CNN served through ONNX Runtime (issue 14, item 3): for alerts the forest calls
/// periodic, the probabilities of ALeRCE's six periodic classes (LPV, E, DSCT, RRL, CEP, Periodic-Other) from the
/// <see cref="PhaseFoldedImage"/> of their g and r light curves at the multiband period, with the period, colour and
/// amplitudes. <see cref="Load"/> verifies a model directory against its manifest (file size and SHA-256, classes,
/// image layout, scalar names, the ONNX graph's input and output names and shapes) and refuses a mismatch with one
/// line; <see cref="Classify"/> runs a batch. Thread-safe for concurrent <see cref="Classify"/> calls (ONNX Runtime
/// allows concurrent runs); each caller owns its buffers and its <see cref="PhaseFoldedInputs"/> workspace
/// (<see cref="PeriodicCnnBatch"/> holds a worker's).
/// </summary>
/// <remarks>Trained by <c>broker train periodic</c> (services/Broker.Training, TorchSharp); no libtorch here.</remarks>
public sealed class PeriodicCnnModel : IDisposable
{
    private readonly OnnxModel _onnx;

    private PeriodicCnnModel(PeriodicCnnManifest manifest, string directory, OnnxModel onnx)
    {
        Manifest = manifest;
        Directory = directory;
        _onnx = onnx;
        Side = manifest.Image.Side;
        ImagesInput = manifest.Inputs[0].Name;
        FeaturesInput = manifest.Inputs[1].Name;
    }

    /// <summary>The manifest.</summary>
    public PeriodicCnnManifest Manifest { get; }

    /// <summary>The model directory.</summary>
    public string Directory { get; }

    /// <summary>The model name (<c>broker-periodic-cnn</c>), for the classification record.</summary>
    public string Name => Manifest.Name;

    /// <summary>The model version.</summary>
    public string Version => Manifest.Version;

    /// <summary>The classes in output order (<see cref="PeriodicCnnManifest.ExpectedClasses"/>).</summary>
    public IReadOnlyList<string> Classes => Manifest.Classes;

    /// <summary>Image side the model reads.</summary>
    public int Side { get; }

    /// <summary>Floats of one alert's images.</summary>
    public int ImageLength => PhaseFoldedImage.ImageLength(Side);

    /// <summary>Floats of one alert's scalars.</summary>
    public int FeatureCount => PhaseFoldedImage.ScalarCount;

    /// <summary>The graph's images input name.</summary>
    public string ImagesInput { get; }

    /// <summary>The graph's features input name.</summary>
    public string FeaturesInput { get; }

    /// <summary>The highest version directory under <paramref name="modelRoot"/> (<c>models/periodic-cnn</c>) that holds a manifest, or null.</summary>
    public static string? LatestVersion(string modelRoot)
    {
        if (!System.IO.Directory.Exists(modelRoot)) return null;
        return System.IO.Directory.GetDirectories(modelRoot)
            .Where(d => File.Exists(Path.Combine(d, PeriodicCnnManifest.FileName)))
            .OrderBy(d => System.Version.TryParse(Path.GetFileName(d), out var v) ? v : new Version(0, 0))
            .ThenBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .LastOrDefault();
    }

    /// <summary>Loads and verifies the model in <paramref name="directory"/> (its manifest.json and ONNX file).</summary>
    /// <param name="directory">For example <c>models/periodic-cnn/1.0</c>.</param>
    /// <param name="options">ONNX Runtime threads and provider; CPU, one thread when null.</param>
    /// <param name="warn">Receives an <see cref="OnnxExecutionProvider.Auto"/> fall-back's warning.</param>
    /// <exception cref="PeriodicCnnModelException">The directory, manifest or file is missing, or anything disagrees: one line.</exception>
    public static PeriodicCnnModel Load(string directory, OnnxModelOptions? options = null, Action<string>? warn = null)
    {
        string dir = Path.GetFullPath(directory);
        string manifestPath = Path.Combine(dir, PeriodicCnnManifest.FileName);
        var manifest = PeriodicCnnManifest.Read(manifestPath);
        string file = manifest.Check(dir);
        OnnxModel onnx;
        try
        {
            onnx = new OnnxModel(file, options, warn);
        }
        catch (OnnxModelException e)
        {
            throw new PeriodicCnnModelException($"periodic CNN model file '{file}' (manifest '{manifestPath}'): {e.Message}", e);
        }
        try
        {
            PeriodicCnnModelException Bad(string what) => new($"periodic CNN model file '{file}' does not match its manifest '{manifestPath}': {what}");
            if (onnx.Inputs.Count != manifest.Inputs.Count)
                throw Bad($"the model has {onnx.Inputs.Count} inputs ({string.Join(", ", onnx.Inputs.Select(i => i.Name))}), the manifest {manifest.Inputs.Count} ({string.Join(", ", manifest.Inputs.Select(i => i.Name))})");
            for (int i = 0; i < manifest.Inputs.Count; i++)
            {
                var want = manifest.Inputs[i];
                var have = onnx.Inputs[i];
                if (have.Name != want.Name) throw Bad($"input {i} is named '{have.Name}', the manifest says '{want.Name}'");
                if (!have.Shape.SequenceEqual(want.Shape)) throw Bad($"input '{want.Name}' has shape {PeriodicCnnManifest.Shape(have.Shape)}, the manifest says {PeriodicCnnManifest.Shape(want.Shape)}");
                if (have.ElementType != typeof(float)) throw Bad($"input '{want.Name}' is {have.ElementType.Name}, not float32");
            }
            if (onnx.Outputs.Count < 1) throw Bad("the model has no output");
            var output = onnx.Outputs[0];
            if (output.Name != manifest.Output.Name) throw Bad($"output 0 is named '{output.Name}', the manifest says '{manifest.Output.Name}'");
            if (!output.Shape.SequenceEqual(manifest.Output.Shape)) throw Bad($"output '{output.Name}' has shape {PeriodicCnnManifest.Shape(output.Shape)}, the manifest says {PeriodicCnnManifest.Shape(manifest.Output.Shape)}");
            if (output.ElementType != typeof(float)) throw Bad($"output '{output.Name}' is {output.ElementType.Name}, not float32");
            return new PeriodicCnnModel(manifest, dir, onnx);
        }
        catch
        {
            onnx.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Classifies <paramref name="count"/> alerts: <paramref name="images"/> holds count × <see cref="ImageLength"/>
    /// floats, <paramref name="features"/> count × <see cref="FeatureCount"/>, as <see cref="PhaseFoldedInputs.TryWrite"/> (at <see cref="Side"/>) wrote them;
    /// <paramref name="probabilities"/> receives count × <see cref="Classes"/>.Count, rows summing to 1.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer of the wrong length.</exception>
    public void Classify(ReadOnlyMemory<float> images, ReadOnlyMemory<float> features, int count, Memory<float> probabilities)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (images.Length != count * ImageLength) throw new ArgumentException($"{count} alerts need {count * ImageLength} image floats, got {images.Length}", nameof(images));
        if (features.Length != count * FeatureCount) throw new ArgumentException($"{count} alerts need {count * FeatureCount} feature floats, got {features.Length}", nameof(features));
        if (probabilities.Length != count * Classes.Count) throw new ArgumentException($"{count} alerts need {count * Classes.Count} probabilities, got {probabilities.Length}", nameof(probabilities));
        if (count == 0) return;
        _onnx.Run(
            [
                new OnnxInput(ImagesInput, images, [count, PhaseFoldedImage.Channels, Side, Side]),
                new OnnxInput(FeaturesInput, features, [count, FeatureCount]),
            ],
            probabilities);
    }

    /// <inheritdoc/>
    public void Dispose() => _onnx.Dispose();
}

/// <summary>
/// A worker's batch for a <see cref="PeriodicCnnModel"/>: <see cref="TryAdd"/> each alert's light curve (the period
/// is searched here, <see cref="PhaseFoldedInputs"/>), <see cref="Classify"/> once, then read <see cref="TopClass"/>,
/// <see cref="Probabilities"/> and <see cref="PeriodOf"/> per row. The buffers grow to the largest batch and are kept
/// (<see cref="Clear"/>), so a worker allocates nothing per alert once warm. Not thread-safe: one per worker.
/// </summary>
public sealed class PeriodicCnnBatch(PeriodicCnnModel model)
{
    private readonly PhaseFoldedInputs _inputs = new(model.Side);
    private float[] _images = new float[16 * model.ImageLength];
    private float[] _features = new float[16 * model.FeatureCount];
    private float[] _probabilities = new float[16 * model.Classes.Count];
    private double[] _periods = new double[16];

    /// <summary>The model.</summary>
    public PeriodicCnnModel Model { get; } = model;

    /// <summary>Rows added since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Forgets the rows, keeping the buffers.</summary>
    public void Clear() => Count = 0;

    /// <summary>
    /// Adds one alert's light curve: its row index, or -1 with <paramref name="reason"/>
    /// (<see cref="PhaseFoldedImage.TooFewPoints"/>, <see cref="PhaseFoldedImage.NoPeriod"/>) when it cannot be classified.
    /// </summary>
    public int TryAdd(LightCurve lc, out string? reason)
    {
        int il = Model.ImageLength, fl = Model.FeatureCount;
        if (Count == _periods.Length)
        {
            int rows = 2 * _periods.Length;
            Array.Resize(ref _images, rows * il);
            Array.Resize(ref _features, rows * fl);
            Array.Resize(ref _probabilities, rows * Model.Classes.Count);
            Array.Resize(ref _periods, rows);
        }
        reason = _inputs.TryWrite(lc, _images.AsSpan(Count * il, il), _features.AsSpan(Count * fl, fl));
        if (reason is not null) return -1;
        _periods[Count] = _inputs.LastPeriod;
        return Count++;
    }

    /// <summary>Runs the model on the rows added.</summary>
    public void Classify()
    {
        int k = Model.Classes.Count;
        Model.Classify(_images.AsMemory(0, Count * Model.ImageLength), _features.AsMemory(0, Count * Model.FeatureCount), Count, _probabilities.AsMemory(0, Count * k));
    }

    /// <summary>The period row <paramref name="row"/> was folded at, days.</summary>
    public double PeriodOf(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Count, nameof(row));
        return _periods[row];
    }

    /// <summary>Row <paramref name="row"/>'s probabilities, in <see cref="PeriodicCnnModel.Classes"/> order (after <see cref="Classify"/>).</summary>
    public ReadOnlySpan<float> Probabilities(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Count, nameof(row));
        int k = Model.Classes.Count;
        return _probabilities.AsSpan(row * k, k);
    }

    /// <summary>Row <paramref name="row"/>'s most probable class index and its probability.</summary>
    public (int Class, float Probability) TopClass(int row)
    {
        var p = Probabilities(row);
        int best = 0;
        for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
        return (best, p[best]);
    }
}
