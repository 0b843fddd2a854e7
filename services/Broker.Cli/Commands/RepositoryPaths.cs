namespace Broker.Cli.Commands;

/// <summary>Where the repository and the shared test data are, for verbs that default to them.</summary>
internal static class RepositoryPaths
{
    /// <summary>The repository root: $BROKER_ROOT (set by ./broker), else the nearest parent holding Broker.sln.</summary>
    public static string? Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BROKER_ROOT");
            if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "Broker.sln"))) return env;
            foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) return dir.FullName;
                }
            }
            return null;
        }
    }

    /// <summary>The shared sample data beside the repository ($BROKER_SHARED_DATA or ../shared/data), when present.</summary>
    public static string? SharedData
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BROKER_SHARED_DATA");
            if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
            if (Root is not { } root) return null;
            var path = Path.GetFullPath(Path.Combine(root, "..", "shared", "data"));
            return Directory.Exists(path) ? path : null;
        }
    }
}
