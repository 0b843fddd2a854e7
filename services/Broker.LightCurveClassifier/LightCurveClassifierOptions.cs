using Broker.LightCurves;
using System.Globalization;
using Broker.StepHost;

namespace Broker.LightCurveClassifier;

/// <summary>Settings of the light-curve classifier step (configuration section <c>LightCurveClassifier</c>; docs/lightcurve-classifier.md).</summary>
/// <remarks>
/// What can be checked without a model is checked here (<see cref="Validate"/>); the manifest is read and every
/// forest verified and loaded when the step starts (<see cref="LightCurveClassifierStep.StartAsync"/>).
/// </remarks>
public sealed class LightCurveClassifierOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "LightCurveClassifier";

    /// <summary>The models' folder inside the repository.</summary>
    public const string RepositoryFolder = "models/lc-classifier";

    /// <summary>
    /// The model directory, holding <c>manifest.json</c> and the files it names. Empty (the default): the newest
    /// version under the repository's <c>models/lc-classifier/</c> (<see cref="ModelFolders.Resolve"/>).
    /// </summary>
    public string ModelDirectory { get; set; } = "";

    /// <summary>
    /// Which files to run: <c>auto</c> (the default: the manifest's <c>serving</c>, the faster as measured), <c>mlnet</c>
    /// (the ML.NET models through prediction engines) or <c>onnx</c> (their ONNX export on ONNX Runtime).
    /// </summary>
    public string Runtime { get; set; } = "auto";

    /// <summary>
    /// The periodic-variable CNN's model directory (issue 14, item 3: Szklenár et al. 2020's phase-folded images, run
    /// on the alerts the forest calls Periodic). Empty (the default): the newest version under the repository's
    /// <c>models/periodic-cnn/</c>; <c>off</c>: not run.
    /// </summary>
    public string PeriodicModelDirectory { get; set; } = "";

    /// <summary>Where the repository keeps the periodic CNN's versions.</summary>
    public const string PeriodicRepositoryFolder = "models/periodic-cnn";

    /// <summary>True when <see cref="PeriodicModelDirectory"/> turns the CNN off.</summary>
    public bool PeriodicOff => PeriodicModelDirectory.Trim().Equals("off", StringComparison.OrdinalIgnoreCase);

    /// <summary>The periodic CNN's directory these options name, or null when it is off.</summary>
    /// <exception cref="StepHostConfigurationException">None is set and none is found.</exception>
    public string? ResolvePeriodicModelDirectory() => PeriodicOff ? null :
        ModelFolders.Resolve(PeriodicModelDirectory, PeriodicRepositoryFolder, $"{Section}:PeriodicModelDirectory", PeriodicCnnManifest.FileName);

    /// <summary>The most alerts one model evaluation takes; a host batch larger than this is run in pieces.</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>The largest <see cref="BatchSize"/> accepted.</summary>
    public const int MaxBatchSize = 65536;

    /// <summary>The runtime <see cref="Runtime"/> names; null for the manifest's.</summary>
    public ForestRuntime? ParsedRuntime => Runtime.Trim().ToLowerInvariant() switch
    {
        "mlnet" => ForestRuntime.MlNet,
        "onnx" => ForestRuntime.Onnx,
        _ => null,
    };

    /// <summary>The model directory these options name (<see cref="ModelFolders.Resolve"/>).</summary>
    /// <exception cref="StepHostConfigurationException">None is set and none is found.</exception>
    public string ResolveModelDirectory() =>
        ModelFolders.Resolve(ModelDirectory, RepositoryFolder, $"{Section}:ModelDirectory", LightCurveModelManifest.FileName);

    /// <summary>Checks the values that need no model.</summary>
    /// <exception cref="StepHostConfigurationException">One line naming the setting and what is wrong.</exception>
    public void Validate()
    {
        if (Runtime.Trim().ToLowerInvariant() is not ("auto" or "mlnet" or "onnx"))
            throw Bad($"Runtime '{Runtime}' is not one of auto, mlnet, onnx");
        if (BatchSize is < 1 or > MaxBatchSize) throw Bad($"BatchSize {BatchSize.ToString(CultureInfo.InvariantCulture)} is not in [1, {MaxBatchSize.ToString(CultureInfo.InvariantCulture)}]");
        if (ModelDirectory.Length > 0 && !Directory.Exists(ModelDirectory))
            throw Bad($"ModelDirectory '{Path.GetFullPath(ModelDirectory)}' does not exist");
        if (PeriodicModelDirectory.Length > 0 && !PeriodicOff && !Directory.Exists(PeriodicModelDirectory))
            throw Bad($"PeriodicModelDirectory '{Path.GetFullPath(PeriodicModelDirectory)}' does not exist (off turns the periodic CNN off)");
    }

    private static StepHostConfigurationException Bad(string problem) => new($"invalid configuration: {Section}:{problem}");
}
