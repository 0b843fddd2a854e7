using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>Per filter, what the engine did: matches, matches published, matches dropped over quota, failures.</summary>
/// <param name="Name">The filter.</param>
/// <param name="Version">Its version.</param>
/// <param name="Evaluated">Alerts it was evaluated on.</param>
/// <param name="Matched">Alerts it matched.</param>
/// <param name="Published">Matches within its quota.</param>
/// <param name="DroppedOverQuota">Matches dropped because its quota was spent.</param>
/// <param name="Failed">Evaluations that threw (the filter is then taken as not matching; the others go on).</param>
public sealed record FilterCounts(string Name, string Version, long Evaluated, long Matched, long Published, long DroppedOverQuota, long Failed);

/// <summary>
/// Runs a set of active filter definitions on alerts, for the filter step (issue 15) and anything else that fans
/// alerts out to filters: every active filter on every alert, each match either published (within the filter's
/// quota) or dropped and counted, so <c>Matched = Published + DroppedOverQuota</c> for every filter. A filter that
/// throws is counted and taken as not matching, and cannot stop the others (the language's operations never
/// throw, so this is defence in depth). Quotas are token buckets: a filter may publish <c>quota</c> matches at once,
/// refilled at <c>quota</c> per hour, so a filter that matches everything publishes its quota each hour and every
/// other match is a counted drop. <see cref="Replace"/> swaps the filters while alerts flow; the counts and quotas of
/// a filter whose version is unchanged carry over. The quota state follows the host's batch protocol
/// (<see cref="BeginBatch"/>, <see cref="CommitBatch"/>, <see cref="RollbackBatch"/>), so a retried batch spends no
/// quota twice. Not thread-safe: one engine per worker.
/// </summary>
public sealed class FilterEngine
{
    private readonly TimeProvider _clock;
    private readonly FieldCatalog _catalog;
    private readonly FieldLayout _layout = new();
    private Entry[] _entries = [];
    private FilterSet _set;
    private AlertRow _row;
    private byte[] _results = [];
    private (double Tokens, long Ticks)[]? _saved;
    private long[]? _savedCounts;

    private sealed class Entry(FilterDefinition definition, FilterExpression expression)
    {
        public FilterDefinition Definition { get; } = definition;
        public FilterExpression Expression { get; } = expression;
        public double Tokens = definition.QuotaPerHour ?? 0;
        public long RefilledAt;
        public long Evaluated, Matched, Published, Dropped, Failed;
    }

    /// <summary>An engine with no filters.</summary>
    public FilterEngine(TimeProvider? clock = null, FieldCatalog? catalog = null)
    {
        _clock = clock ?? TimeProvider.System;
        _catalog = catalog ?? FieldCatalog.Default;
        _set = new FilterSet(_layout, []);
        _row = _set.CreateRow();
    }

    /// <summary>The filters running now.</summary>
    public IReadOnlyList<FilterDefinition> Filters => [.. _entries.Select(e => e.Definition)];

    /// <summary>
    /// Runs exactly the active filters of <paramref name="definitions"/> from now on. A filter whose name and
    /// version are already running keeps its compiled form, counts and quota; a changed one starts afresh.
    /// </summary>
    /// <returns>The definitions that did not compile, with why; the others run.</returns>
    public IReadOnlyList<(FilterDefinition Definition, FilterCompileException Error)> Replace(IEnumerable<FilterDefinition> definitions)
    {
        var errors = new List<(FilterDefinition, FilterCompileException)>();
        var next = new List<Entry>();
        long now = _clock.GetTimestamp();
        foreach (var d in definitions)
        {
            if (!d.Active) continue;
            var same = Array.Find(_entries, e => e.Definition.Name == d.Name && e.Definition.Version == d.Version);
            if (same is not null)
            {
                next.Add(same);
                continue;
            }
            try
            {
                next.Add(new Entry(d, d.Compile(_catalog, _layout)) { RefilledAt = now });
            }
            catch (FilterCompileException e)
            {
                errors.Add((d, e));
            }
        }
        _entries = [.. next];
        _set = new FilterSet(_layout, [.. next.Select(e => e.Expression)]);
        if (!_row.Fits(_layout)) _row = _set.CreateRow();
        _results = new byte[_entries.Length];
        return errors;
    }

    /// <summary>
    /// Evaluates every filter on <paramref name="alert"/> and adds to <paramref name="publish"/> the definitions whose
    /// match is to be published (within quota). Returns how many filters matched, published or not.
    /// </summary>
    public int Evaluate(Alert alert, List<FilterDefinition> publish)
    {
        _set.Load(alert, _row);
        int matched = 0;
        long now = _clock.GetTimestamp();
        for (int i = 0; i < _entries.Length; i++)
        {
            var e = _entries[i];
            e.Evaluated++;
            byte r;
            try
            {
                r = e.Expression.Evaluate(_row);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                e.Failed++;
                continue;
            }
            if (r != Tri.True) continue;
            matched++;
            e.Matched++;
            if (Spend(e, now))
            {
                e.Published++;
                publish.Add(e.Definition);
            }
            else
            {
                e.Dropped++;
            }
        }
        return matched;
    }

    private bool Spend(Entry e, long now)
    {
        if (e.Definition.QuotaPerHour is not { } quota) return true;
        double hours = _clock.GetElapsedTime(e.RefilledAt, now).TotalHours;
        if (hours > 0)
        {
            e.Tokens = Math.Min(quota, e.Tokens + hours * quota);
            e.RefilledAt = now;
        }
        if (e.Tokens < 1) return false;
        e.Tokens -= 1;
        return true;
    }

    /// <summary>The counts per filter, in filter order.</summary>
    public IReadOnlyList<FilterCounts> Counts() =>
        [.. _entries.Select(e => new FilterCounts(e.Definition.Name, e.Definition.Version, e.Evaluated, e.Matched, e.Published, e.Dropped, e.Failed))];

    /// <summary>Starts a batch: until <see cref="CommitBatch"/> the quota spent and the counts are pending.</summary>
    public void BeginBatch()
    {
        _saved = [.. _entries.Select(e => (e.Tokens, e.RefilledAt))];
        _savedCounts = [.. _entries.SelectMany(e => new[] { e.Evaluated, e.Matched, e.Published, e.Dropped, e.Failed })];
    }

    /// <summary>Keeps the batch's quota spending and counts.</summary>
    public void CommitBatch() => (_saved, _savedCounts) = (null, null);

    /// <summary>Forgets the batch's quota spending and counts (the host will run it again).</summary>
    public void RollbackBatch()
    {
        if (_saved is null || _savedCounts is null || _saved.Length != _entries.Length) return;
        for (int i = 0; i < _entries.Length; i++)
        {
            var e = _entries[i];
            (e.Tokens, e.RefilledAt) = _saved[i];
            int k = i * 5;
            (e.Evaluated, e.Matched, e.Published, e.Dropped, e.Failed) = (_savedCounts[k], _savedCounts[k + 1], _savedCounts[k + 2], _savedCounts[k + 3], _savedCounts[k + 4]);
        }
        (_saved, _savedCounts) = (null, null);
    }
}
