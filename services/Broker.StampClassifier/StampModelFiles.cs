using Broker.StepHost;

namespace Broker.StampClassifier;

/// <summary>Where the stage's models are when the settings leave them to the repository (<see cref="StampClassifierOptions"/>).</summary>
public static class StampModelFiles
{
    /// <summary>The models' folder inside the repository.</summary>
    public const string RepositoryFolder = "models/stamp-classifier";

    /// <summary>braai d6_m7 inside the shared data beside the repository.</summary>
    public const string SharedBraai = "labeled/models/braai_d6_m7/braai_d6_m7.onnx";

    /// <summary>braai's version, as its classification names it.</summary>
    public const string BraaiVersion = "d6_m7";

    /// <summary>The repository root (<see cref="ModelFolders.RepositoryRoot"/>).</summary>
    public static string? RepositoryRoot => ModelFolders.RepositoryRoot;

    /// <summary>The model directory the options name, or the newest version with a manifest in the repository's <see cref="RepositoryFolder"/>.</summary>
    /// <exception cref="StepHostConfigurationException">None is set and none is found: one line saying where it looked.</exception>
    public static string ModelDirectory(StampClassifierOptions options) =>
        ModelFolders.Resolve(options.ModelDirectory, RepositoryFolder, $"{StampClassifierOptions.Section}:ModelDirectory", StampModelManifest.FileName);

    /// <summary>The version folder under <paramref name="folder"/> with a manifest and the highest version (<see cref="ModelFolders.NewestVersion"/>), or null.</summary>
    public static string? NewestVersion(string folder) => ModelFolders.NewestVersion(folder, StampModelManifest.FileName);

    /// <summary>The braai model the options name: null for none (empty, or <c>auto</c> without the shared data).</summary>
    public static string? BraaiModel(StampClassifierOptions options)
    {
        string setting = options.BraaiModel.Trim();
        if (setting.Length == 0) return null;
        if (!setting.Equals(StampClassifierOptions.Auto, StringComparison.OrdinalIgnoreCase)) return Path.GetFullPath(setting);
        string? shared = Environment.GetEnvironmentVariable("BROKER_SHARED_DATA") is { Length: > 0 } env ? env
            : RepositoryRoot is { } root ? Path.Combine(root, "..", "shared", "data") : null;
        if (shared is null) return null;
        string path = Path.GetFullPath(Path.Combine(shared, SharedBraai));
        return File.Exists(path) ? path : null;
    }
}
