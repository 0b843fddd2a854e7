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

    /// <summary>The repository root: $BROKER_ROOT when it holds Broker.sln, else the nearest folder holding it above the working directory or the service; null outside a repository.</summary>
    public static string? RepositoryRoot
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("BROKER_ROOT");
            if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "Broker.sln"))) return Path.GetFullPath(env);
            foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) return dir.FullName;
            return null;
        }
    }

    /// <summary>The model directory the options name, or the newest version with a manifest in the repository's <see cref="RepositoryFolder"/>.</summary>
    /// <exception cref="StepHostConfigurationException">None is set and none is found: one line saying where it looked.</exception>
    public static string ModelDirectory(StampClassifierOptions options)
    {
        if (options.ModelDirectory.Length > 0) return Path.GetFullPath(options.ModelDirectory);
        string? root = RepositoryRoot;
        if (root is null)
            throw new StepHostConfigurationException($"invalid configuration: {StampClassifierOptions.Section}:ModelDirectory is empty and no repository (Broker.sln) is above {Environment.CurrentDirectory}: set it to a folder holding manifest.json");
        string folder = Path.Combine(root, RepositoryFolder);
        return NewestVersion(folder) ?? throw new StepHostConfigurationException(
            $"invalid configuration: {StampClassifierOptions.Section}:ModelDirectory is empty and {folder} holds no version folder with a manifest.json");
    }

    /// <summary>The version folder under <paramref name="folder"/> with a manifest and the highest version (numeric where the names are <c>1.0</c>, <c>1.10</c>), or null.</summary>
    public static string? NewestVersion(string folder)
    {
        if (!Directory.Exists(folder)) return null;
        return Directory.EnumerateDirectories(folder)
            .Where(d => File.Exists(Path.Combine(d, StampModelManifest.FileName)))
            .OrderBy(d => Version.TryParse(Path.GetFileName(d), out var v) ? v : new Version(0, 0))
            .ThenBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .LastOrDefault();
    }

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
