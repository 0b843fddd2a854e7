using System.Collections.Concurrent;

namespace Broker.StepHost;

/// <summary>
/// Per-step accounting. Invariant after every batch: <c>In = Out + DeadLettered + Duplicates + Filtered</c>; an
/// alert read but not yet accounted for is in flight. Thread-safe.
/// </summary>
public sealed class StepCounters
{
    private long _in, _out, _deadLettered, _duplicates, _replayed, _filtered, _batches, _lag = -1;
    private long _batchMicrosTotal, _batchMicrosMax, _lastBatchMicros;
    private readonly ConcurrentDictionary<string, long> _reasons = new(StringComparer.Ordinal);

    /// <summary>Creates counters for a step.</summary>
    public StepCounters(string step) => Step = step;

    /// <summary>The step counted.</summary>
    public string Step { get; }

    /// <summary>Alerts read.</summary>
    public long In => Interlocked.Read(ref _in);

    /// <summary>Alerts produced downstream (to one destination or more: each input counts once).</summary>
    public long Out => Interlocked.Read(ref _out);

    /// <summary>Alerts sent to the dead-letter topic.</summary>
    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>Duplicates dropped.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>
    /// Of <see cref="Duplicates"/>, outputs found already delivered by an instance that stopped before committing
    /// (the batch replayed after a crash): counted here, not produced again.
    /// </summary>
    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>Alerts deliberately not passed on.</summary>
    public long Filtered => Interlocked.Read(ref _filtered);

    /// <summary>Batches completed.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Consumer lag summed over assigned partitions (messages), or -1 when unknown.</summary>
    public long Lag { get => Interlocked.Read(ref _lag); set => Interlocked.Exchange(ref _lag, value); }

    /// <summary>
    /// Per destination (the default first): what was produced there and what was not produced again. Empty until the
    /// host or runner has started the step. Per destination, routed = <c>Out + Duplicates</c>.
    /// </summary>
    public IReadOnlyList<DestinationCounters> Destinations => Volatile.Read(ref _destinations);

    private DestinationCounters[] _destinations = [];

    /// <summary>
    /// Sets up the per-destination counters, once, as the step starts, and adds one for each destination the table
    /// gains while the step runs (<see cref="DestinationTable.Added"/>).
    /// </summary>
    internal void Route(DestinationTable table)
    {
        var counters = new DestinationCounters[table.Count];
        for (int i = 0; i < counters.Length; i++) counters[i] = new DestinationCounters(table.Names[i], table.Topics[i]);
        Volatile.Write(ref _destinations, counters);
        // Copy on write: a scrape may be reading the array being replaced.
        table.Added += d => Volatile.Write(ref _destinations, [.. Volatile.Read(ref _destinations), new DestinationCounters(table.Names[d], table.Topics[d])]);
    }

    /// <summary>The counters of destination number <paramref name="destination"/> (<see cref="Route"/>).</summary>
    internal DestinationCounters Destination(int destination) => Volatile.Read(ref _destinations)[destination];

    /// <summary>Dead-letter reasons, grouped (<see cref="ReasonKey"/>), and how often each occurred; in the health file.</summary>
    public IReadOnlyDictionary<string, long> DeadLetterReasons => _reasons;

    /// <summary>Adds read alerts.</summary>
    public void AddIn(long n) => Interlocked.Add(ref _in, n);

    /// <summary>Counts replayed outputs (already counted once as <see cref="StepOutcome.Duplicate"/>).</summary>
    public void AddReplayed(long n) => Interlocked.Add(ref _replayed, n);

    /// <summary>Counts one outcome.</summary>
    public void Count(StepOutcome outcome, string? reason = null)
    {
        switch (outcome)
        {
            case StepOutcome.Emitted: Interlocked.Increment(ref _out); break;
            case StepOutcome.DeadLettered:
                Interlocked.Increment(ref _deadLettered);
                string key = ReasonKey(reason);
                // Bounded: a stream of novel reasons must not grow the process without limit.
                if (_reasons.Count >= MaxReasons && !_reasons.ContainsKey(key)) key = OtherReasons;
                _reasons.AddOrUpdate(key, 1, static (_, n) => n + 1);
                break;
            case StepOutcome.Duplicate: Interlocked.Increment(ref _duplicates); break;
            case StepOutcome.Filtered: Interlocked.Increment(ref _filtered); break;
        }
    }

    /// <summary>Records a finished batch and how long it took (consume to delivered), microseconds.</summary>
    public void BatchDone(long micros)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _batchMicrosTotal, micros);
        Interlocked.Exchange(ref _lastBatchMicros, micros);
        long max;
        while (micros > (max = Interlocked.Read(ref _batchMicrosMax)) && Interlocked.CompareExchange(ref _batchMicrosMax, micros, max) != max)
        {
        }
    }

    /// <summary>A consistent-enough copy for logging and the health file.</summary>
    public StepCountersSnapshot Snapshot()
    {
        long batches = Batches;
        var destinations = Destinations;
        var perDestination = new DestinationCountsSnapshot[destinations.Count];
        for (int i = 0; i < perDestination.Length; i++) perDestination[i] = destinations[i].Snapshot();
        return new StepCountersSnapshot(Step, In, Out, DeadLettered, Duplicates, Filtered, batches, Lag,
            Interlocked.Read(ref _lastBatchMicros) / 1000.0,
            batches == 0 ? 0 : Interlocked.Read(ref _batchMicrosTotal) / 1000.0 / batches,
            Interlocked.Read(ref _batchMicrosMax) / 1000.0, Replayed, perDestination);
    }

    /// <summary>Most distinct reasons kept; further ones are counted under <see cref="OtherReasons"/>.</summary>
    public const int MaxReasons = 64;

    /// <summary>The group of reasons beyond <see cref="MaxReasons"/>.</summary>
    public const string OtherReasons = "(other reasons)";

    /// <summary>
    /// A reason's group: its first line, with every run of digits shown as <c>#</c> so that alert ids, offsets and
    /// values do not split one cause into many groups, shortened to 160 characters.
    /// </summary>
    public static string ReasonKey(string? reason)
    {
        if (string.IsNullOrEmpty(reason)) return "(no reason)";
        int nl = reason.IndexOf('\n');
        var line = (nl >= 0 ? reason.AsSpan(0, nl) : reason.AsSpan());
        if (line.IndexOfAnyInRange('0', '9') < 0) return line.Length <= 160 ? line.ToString() : line[..160].ToString();
        var key = new System.Text.StringBuilder(Math.Min(line.Length, 160));
        for (int i = 0; i < line.Length && key.Length < 160; i++)
        {
            if (!char.IsAsciiDigit(line[i])) key.Append(line[i]);
            else if (i == 0 || !char.IsAsciiDigit(line[i - 1])) key.Append('#');
        }
        return key.ToString();
    }
}

/// <summary>
/// What one destination of a step got. An input routed to several destinations counts once in each; as a whole it
/// counts once in <see cref="StepCounters.Out"/> when it was produced to at least one of them, else once as a
/// duplicate (and as replayed when one of its outputs was a replay). Thread-safe.
/// </summary>
public sealed class DestinationCounters
{
    private long _out, _duplicates, _replayed;

    internal DestinationCounters(string destination, string topic)
    {
        Destination = destination;
        Topic = topic;
    }

    /// <summary>The destination's name (<see cref="StepHost.Destination.Default"/> for the default output).</summary>
    public string Destination { get; }

    /// <summary>Its topic (in-process: its name).</summary>
    public string Topic { get; }

    /// <summary>Outputs produced there.</summary>
    public long Out => Interlocked.Read(ref _out);

    /// <summary>Outputs not produced because that destination already holds them (replays included).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Of <see cref="Duplicates"/>, outputs of a batch an earlier instance delivered there and did not commit.</summary>
    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>Counts an output produced.</summary>
    public void AddOut() => Interlocked.Increment(ref _out);

    /// <summary>Counts an output not produced again: a replay, or a key the destination already holds.</summary>
    public void AddDuplicate(bool replay)
    {
        Interlocked.Increment(ref _duplicates);
        if (replay) Interlocked.Increment(ref _replayed);
    }

    /// <summary>A copy of the counts.</summary>
    public DestinationCountsSnapshot Snapshot() => new(Destination, Topic, Out, Duplicates, Replayed);
}

/// <summary>A copy of <see cref="DestinationCounters"/> at one moment.</summary>
/// <param name="Destination">The destination's name.</param>
/// <param name="Topic">Its topic.</param>
/// <param name="Out">Outputs produced there.</param>
/// <param name="Duplicates">Outputs not produced again (replays included).</param>
/// <param name="Replayed">Of <paramref name="Duplicates"/>, replays.</param>
public sealed record DestinationCountsSnapshot(string Destination, string Topic, long Out, long Duplicates, long Replayed);

/// <summary>A copy of <see cref="StepCounters"/> at one moment.</summary>
/// <param name="Step">Step name.</param>
/// <param name="In">Alerts read.</param>
/// <param name="Out">Alerts produced.</param>
/// <param name="DeadLettered">Alerts dead-lettered.</param>
/// <param name="Duplicates">Duplicates dropped.</param>
/// <param name="Filtered">Alerts filtered out.</param>
/// <param name="Batches">Batches done.</param>
/// <param name="Lag">Consumer lag, messages (-1 unknown).</param>
/// <param name="LastBatchMs">Latency of the last batch, ms.</param>
/// <param name="MeanBatchMs">Mean batch latency, ms.</param>
/// <param name="MaxBatchMs">Largest batch latency, ms.</param>
/// <param name="Replayed">Of <paramref name="Duplicates"/>, outputs of a replayed batch found already delivered.</param>
/// <param name="Destinations">Per destination, the default first (empty before the step started).</param>
public sealed record StepCountersSnapshot(string Step, long In, long Out, long DeadLettered, long Duplicates, long Filtered,
    long Batches, long Lag, double LastBatchMs, double MeanBatchMs, double MaxBatchMs, long Replayed = 0,
    IReadOnlyList<DestinationCountsSnapshot>? Destinations = null)
{
    /// <summary>What the destination named <paramref name="destination"/> got, or null when the step has none of that name.</summary>
    public DestinationCountsSnapshot? For(string destination) => Destinations?.FirstOrDefault(d => d.Destination == destination);
}
