namespace Broker.StepHost;

/// <summary>
/// Where a stage finds its models when its settings leave them to the repository: the repository root and the newest
/// version folder of a model (<c>models/&lt;model&gt;/&lt;version&gt;/</c>, docs/stages.md). Shared by the stages that
/// load models (the stamp and light-curve classifiers).
/// </summary>
public static class ModelFolders
{
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

    /// <summary>
    /// The version folder under <paramref name="folder"/> holding <paramref name="manifestFileName"/> with the highest
    /// version (numeric where the names are <c>1.0</c>, <c>1.10</c>), or null.
    /// </summary>
    public static string? NewestVersion(string folder, string manifestFileName = "manifest.json")
    {
        if (!Directory.Exists(folder)) return null;
        return Directory.EnumerateDirectories(folder)
            .Where(d => File.Exists(Path.Combine(d, manifestFileName)))
            .OrderBy(d => Version.TryParse(Path.GetFileName(d), out var v) ? v : new Version(0, 0))
            .ThenBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .LastOrDefault();
    }

    /// <summary>
    /// The model directory a setting names (made absolute), or, when it is empty, the newest version with a manifest
    /// in the repository's <paramref name="repositoryFolder"/> (<c>models/stamp-classifier</c>).
    /// </summary>
    /// <param name="setting">The configured directory, or empty.</param>
    /// <param name="repositoryFolder">The model's folder relative to the repository root.</param>
    /// <param name="settingName">The setting's full name for messages (<c>StampClassifier:ModelDirectory</c>).</param>
    /// <param name="manifestFileName">The manifest a version folder holds.</param>
    /// <exception cref="StepHostConfigurationException">None is set and none is found: one line saying where it looked.</exception>
    public static string Resolve(string setting, string repositoryFolder, string settingName, string manifestFileName = "manifest.json")
    {
        if (setting.Length > 0) return Path.GetFullPath(setting);
        string? root = RepositoryRoot;
        if (root is null)
            throw new StepHostConfigurationException($"invalid configuration: {settingName} is empty and no repository (Broker.sln) is above {Environment.CurrentDirectory}: set it to a folder holding {manifestFileName}");
        string folder = Path.Combine(root, repositoryFolder);
        return NewestVersion(folder, manifestFileName) ?? throw new StepHostConfigurationException(
            $"invalid configuration: {settingName} is empty and {folder} holds no version folder with a {manifestFileName}");
    }
}
