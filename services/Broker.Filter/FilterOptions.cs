using Broker.StepHost;

namespace Broker.Filter;

/// <summary>Where the filter service takes its filters from (<see cref="FilterOptions.Registry"/>).</summary>
public enum FilterRegistrySource
{
    /// <summary>The registry topic on Kafka (the service), the directory in-process (<c>broker run</c>, <c>broker demo</c>).</summary>
    Auto,

    /// <summary>The compacted registry topic (<see cref="FilterOptions.RegistryTopic"/>), followed while the service runs.</summary>
    Topic,

    /// <summary>The <c>*.yaml</c> files of <see cref="FilterOptions.Directory"/>, read at start.</summary>
    Directory,
}

/// <summary>Settings of the filter step (configuration section <c>Filter</c>; docs/filters.md).</summary>
public sealed class FilterOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "Filter";

    /// <summary>Where the filters come from: <c>Auto</c> (default), <c>Topic</c> or <c>Directory</c>.</summary>
    public FilterRegistrySource Registry { get; set; } = FilterRegistrySource.Auto;

    /// <summary>The compacted topic the service follows (key = filter name, value = its YAML, empty = deleted).</summary>
    public string RegistryTopic { get; set; } = Filters.FilterRegistry.Topic;

    /// <summary>
    /// The folder of filter definitions (<c>*.yaml</c>, read at start) when the filters come from a directory. Empty
    /// (the default): the repository's <c>filters/</c> (the nearest folder above the working directory or the
    /// service holding Broker.sln).
    /// </summary>
    public string Directory { get; set; } = "";

    /// <summary>
    /// Also pass every alert on to the step's default output (<c>broker.filtered</c>; in-process, the chain's
    /// output), with the filters it passed in <c>filterMatches</c> (default on): the feed of an archive, and how
    /// <c>broker replay --wait</c> sees an alert reach the end of the chain. Off: only the filters' topics are written,
    /// and an alert no filter wanted is counted as filtered.
    /// </summary>
    public bool ForwardAll { get; set; } = true;

    /// <summary>How long the service may take to read the registry topic at start, in seconds.</summary>
    public int RegistryStartupSeconds { get; set; } = 30;

    /// <summary>The folder used: <see cref="Directory"/>, or the repository's <c>filters/</c>.</summary>
    public string ResolvedDirectory => Directory.Length > 0 ? Directory : (ModelFolders.RepositoryRoot is { } root ? Path.Combine(root, "filters") : "filters");

    /// <summary>Whether the filters come from the registry topic, for a stage made with or without Kafka settings.</summary>
    public bool FollowsTopic(bool onKafka) => Registry == FilterRegistrySource.Topic || (Registry == FilterRegistrySource.Auto && onKafka);

    /// <inheritdoc/>
    public void Validate()
    {
        if (Registry == FilterRegistrySource.Directory && !System.IO.Directory.Exists(ResolvedDirectory))
            throw new StepHostConfigurationException($"{Section}:Directory: folder '{ResolvedDirectory}' does not exist");
        if (string.IsNullOrWhiteSpace(RegistryTopic))
            throw new StepHostConfigurationException($"{Section}:RegistryTopic must name a topic");
        if (RegistryStartupSeconds < 1)
            throw new StepHostConfigurationException($"{Section}:RegistryStartupSeconds must be at least 1");
    }
}
