using Broker.StepHost;

namespace Broker.Filter;

/// <summary>Settings of the filter step (configuration section <c>Filter</c>; docs/filters.md).</summary>
public sealed class FilterOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "Filter";

    /// <summary>
    /// The folder of filter definitions (<c>*.yaml</c>, read at start). Empty (the default): the repository's
    /// <c>filters/</c> (the nearest folder above the working directory or the service holding Broker.sln).
    /// </summary>
    public string Directory { get; set; } = "";

    /// <summary>The folder used: <see cref="Directory"/>, or the repository's <c>filters/</c>.</summary>
    public string ResolvedDirectory => Directory.Length > 0 ? Directory : RepositoryFilters() ?? "filters";

    /// <inheritdoc/>
    public void Validate()
    {
        if (!System.IO.Directory.Exists(ResolvedDirectory))
            throw new StepHostConfigurationException($"{Section}:Directory: folder '{ResolvedDirectory}' does not exist");
    }

    private static string? RepositoryFilters()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Broker.sln"))) return Path.Combine(dir.FullName, "filters");
            }
        }
        return null;
    }
}
