namespace Broker.TestSupport;

/// <summary>
/// Finds the project's shared test data (<c>&lt;repo&gt;/../shared/data</c>: real alerts, schemas, models) and the
/// repository root, by walking up from the test assembly's directory. Tests read the data in place; nothing is
/// copied into the repository. Set <c>BROKER_SHARED_DATA</c> to use another location.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string?> Located = new(Locate);
    private static readonly Lazy<string?> Repository = new(LocateRepository);

    /// <summary>True when the shared data directory was found.</summary>
    public static bool Exists => Located.Value is not null;

    /// <summary>The shared data directory (the one holding <c>ztf/</c>, <c>lsst/</c>, <c>MANIFEST.tsv</c>).</summary>
    /// <exception cref="DirectoryNotFoundException">It was not found.</exception>
    public static string Root => Located.Value ?? throw new DirectoryNotFoundException(
        $"shared test data not found: no shared/data above {AppContext.BaseDirectory}, and BROKER_SHARED_DATA is not set");

    /// <summary>The repository root: the nearest directory above the test assembly that holds Broker.sln.</summary>
    /// <exception cref="DirectoryNotFoundException">No Broker.sln above the test assembly.</exception>
    public static string RepositoryRoot => Repository.Value ?? throw new DirectoryNotFoundException(
        $"repository root not found: no Broker.sln above {AppContext.BaseDirectory}");

    /// <summary>A path inside the shared data, for example <c>Path("ztf/alerts")</c>.</summary>
    public static string Path(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relative));

    /// <summary>A path inside the repository, for example <c>RepositoryPath("tests/Broker.TestSupport/oracles/fits_astropy.py")</c>.</summary>
    public static string RepositoryPath(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(RepositoryRoot, relative));

    private static string? Locate()
    {
        string? configured = Environment.GetEnvironmentVariable("BROKER_SHARED_DATA");
        if (!string.IsNullOrEmpty(configured)) return Directory.Exists(configured) ? System.IO.Path.GetFullPath(configured) : null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string? LocateRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Broker.sln"))) return dir.FullName;
        return null;
    }
}
