using System.Text;

namespace Broker.Filters;

/// <summary>What a registry record did when applied.</summary>
public enum FilterRegistryChange
{
    /// <summary>A filter that was not there.</summary>
    Added,

    /// <summary>A filter whose definition changed (its version changed).</summary>
    Changed,

    /// <summary>The same definition again (nothing changes).</summary>
    Unchanged,

    /// <summary>A filter removed by an empty value.</summary>
    Deleted,

    /// <summary>An empty value for a filter that was not there.</summary>
    DeletedAbsent,

    /// <summary>
    /// A value that is not a valid definition of a filter of the record's key (does not parse, does not compile, or
    /// names another filter): refused; the filter of that name, if any, keeps its last good definition.
    /// </summary>
    Refused,
}

/// <summary>One applied registry record: its key, what it did, the version it put in place, and why it was refused.</summary>
/// <param name="Name">The record's key (a filter name).</param>
/// <param name="Change">What it did.</param>
/// <param name="Version">The filter's version after it (null when deleted or never valid).</param>
/// <param name="Error">Why it was refused (<c>line L, column C: message</c>), for <see cref="FilterRegistryChange.Refused"/>.</param>
public sealed record FilterRegistryEvent(string Name, FilterRegistryChange Change, string? Version, string? Error);

/// <summary>The registry at one moment: its generation (<see cref="FilterRegistry.Generation"/>) and its definitions, active or not, in name order.</summary>
/// <param name="Generation">Changes applied up to this snapshot.</param>
/// <param name="Filters">The definitions.</param>
public sealed record FilterRegistrySnapshot(long Generation, IReadOnlyList<FilterDefinition> Filters);

/// <summary>
/// The live set of filter definitions, as the compacted topic <c>broker.filters</c> holds them (docs/filters.md, "The
/// registry"): one record per filter, key = the filter's name (UTF-8), value = its YAML definition (UTF-8, what
/// <see cref="FilterDefinition.ToYaml"/> writes), an empty value deletes it. Records are applied in the topic's order
/// by whatever follows the topic (the filter service's follower, <c>broker filter list</c>); a directory of YAML files
/// (<see cref="FromDirectory"/>) fills one the same way for <c>broker run</c>. A record that is not a valid
/// definition is refused and reported, and the filter keeps its last good definition: a bad record can never stop the
/// service or the other filters. Thread-safe: the follower applies records on its thread while the filter step reads
/// <see cref="Snapshot"/> between batches.
/// </summary>
public sealed class FilterRegistry
{
    private readonly object _gate = new();
    private readonly SortedDictionary<string, FilterDefinition> _filters = new(StringComparer.Ordinal);
    private readonly FieldCatalog _catalog;
    private FilterRegistrySnapshot _snapshot = new(0, []);
    private long _refused;

    /// <summary>An empty registry whose definitions are checked against <paramref name="catalog"/> (default: Broker's alert fields).</summary>
    public FilterRegistry(FieldCatalog? catalog = null) => _catalog = catalog ?? FieldCatalog.Default;

    /// <summary>The topic that holds the registry.</summary>
    public const string Topic = "broker.filters";

    /// <summary>
    /// How many changes have been applied (added, changed, deleted); it grows by one per change, so a reader that
    /// saw generation G has seen every change up to G.
    /// </summary>
    public long Generation => Volatile.Read(ref _snapshot).Generation;

    /// <summary>Records refused since the registry was made.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The generation and the definitions (active or not) in name order, read together.</summary>
    public FilterRegistrySnapshot Snapshot() => Volatile.Read(ref _snapshot);

    /// <summary>Raised, on the applying thread, after each record is applied.</summary>
    public event Action<FilterRegistryEvent>? Applied;

    /// <summary>The record value that publishes <paramref name="definition"/>.</summary>
    public static byte[] ValueOf(FilterDefinition definition) => Encoding.UTF8.GetBytes(definition.ToYaml());

    /// <summary>The record key of the filter <paramref name="name"/>.</summary>
    public static byte[] KeyOf(string name) => Encoding.UTF8.GetBytes(name);

    /// <summary>Applies one record of the registry topic: <paramref name="value"/> empty (or null) deletes the filter.</summary>
    public FilterRegistryEvent Apply(string name, ReadOnlySpan<byte> value)
    {
        FilterRegistryEvent e;
        if (value.IsEmpty)
        {
            lock (_gate)
            {
                bool removed = _filters.Remove(name);
                if (removed) Publish();
                e = new FilterRegistryEvent(name, removed ? FilterRegistryChange.Deleted : FilterRegistryChange.DeletedAbsent, null, null);
            }
        }
        else
        {
            e = Apply(name, Encoding.UTF8.GetString(value));
        }
        Applied?.Invoke(e);
        return e;
    }

    private FilterRegistryEvent Apply(string name, string yaml)
    {
        FilterDefinition definition;
        try
        {
            definition = FilterDefinition.Parse(yaml);
            if (definition.Name != name)
                throw new FilterCompileException(new(1, 1), $"the record's key is '{name}' but the definition is named '{definition.Name}'");
            // Compiled here too, so that a definition that cannot run never replaces a good one.
            definition.Compile(_catalog);
        }
        catch (FilterCompileException ex)
        {
            Interlocked.Increment(ref _refused);
            lock (_gate) return new FilterRegistryEvent(name, FilterRegistryChange.Refused, _filters.GetValueOrDefault(name)?.Version, ex.Message);
        }
        lock (_gate)
        {
            var change = !_filters.TryGetValue(name, out var old) ? FilterRegistryChange.Added
                : old.Version == definition.Version ? FilterRegistryChange.Unchanged : FilterRegistryChange.Changed;
            if (change != FilterRegistryChange.Unchanged)
            {
                _filters[name] = definition;
                Publish();
            }
            return new FilterRegistryEvent(name, change, definition.Version, null);
        }
    }

    // Under _gate.
    private void Publish() => Volatile.Write(ref _snapshot, new FilterRegistrySnapshot(_snapshot.Generation + 1, [.. _filters.Values]));

    /// <summary>
    /// A registry holding the definitions of the <c>*.yaml</c> files of <paramref name="directory"/>, in file-name
    /// order (<c>broker run</c>'s registry). Unlike the topic, a bad file is an error: a run's filters are fixed.
    /// </summary>
    /// <exception cref="FilterCompileException">A file does not parse or compile (the message starts with its path), or two files name one filter.</exception>
    public static FilterRegistry FromDirectory(string directory, FieldCatalog? catalog = null)
    {
        var registry = new FilterRegistry(catalog);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            FilterDefinition definition;
            try
            {
                definition = FilterDefinition.Load(file);
                definition.Compile(catalog);
            }
            catch (FilterCompileException e)
            {
                throw new FilterCompileException(e.Position, e.Reason, file);
            }
            if (!seen.TryAdd(definition.Name, file))
                throw new FilterCompileException(new(1, 1), $"two filters are named '{definition.Name}' (also in {seen[definition.Name]})", file);
            registry.Apply(definition.Name, ValueOf(definition));
        }
        return registry;
    }
}
