using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Broker.StepHost;

/// <summary>
/// What an in-process run did: counts per stage, dead letters with reasons, throughput and per-alert latency
/// (from reading the message to the last stage's output; outputs only).
/// </summary>
public sealed class RunSummary
{
    /// <summary>Creates a summary.</summary>
    /// <param name="read">Messages read.</param>
    /// <param name="written">Records of the last stage's default output.</param>
    /// <param name="stages">Counters per stage, in chain order.</param>
    /// <param name="deadLetters">Every dead letter.</param>
    /// <param name="elapsed">Wall time.</param>
    /// <param name="latenciesMs">Per-alert latencies.</param>
    /// <param name="stopped">Stopped before the source ended.</param>
    /// <param name="finished">Messages that came out of the chain to one destination or more (default: <paramref name="written"/>, a chain without named destinations).</param>
    /// <param name="destinations">Records per destination (default: the default output's <paramref name="written"/>).</param>
    public RunSummary(long read, long written, IReadOnlyList<StepCountersSnapshot> stages, IReadOnlyList<DeadLetterRecord> deadLetters,
        TimeSpan elapsed, IReadOnlyList<double> latenciesMs, bool stopped, long? finished = null, IReadOnlyDictionary<string, long>? destinations = null)
    {
        Read = read;
        Written = written;
        Finished = finished ?? written;
        Destinations = destinations ?? new Dictionary<string, long> { [Destination.Default] = written };
        Stages = stages;
        DeadLetters = deadLetters;
        Elapsed = elapsed;
        Stopped = stopped;
        var sorted = latenciesMs.ToArray();
        Array.Sort(sorted);
        LatenciesMs = sorted;
        LatencyP50Ms = Percentile(sorted, 0.50);
        LatencyP90Ms = Percentile(sorted, 0.90);
        LatencyP99Ms = Percentile(sorted, 0.99);
        LatencyMaxMs = sorted.Length == 0 ? 0 : sorted[^1];
    }

    /// <summary>Messages read from the source.</summary>
    public long Read { get; }

    /// <summary>Records of the last stage's default output (<c>alerts.avro</c> for <c>broker run</c>).</summary>
    public long Written { get; }

    /// <summary>Messages that came out of the chain, to one destination or more (each counted once).</summary>
    public long Finished { get; }

    /// <summary>
    /// Records per destination: <see cref="Destination.Default"/> (the last stage's default output, <see cref="Written"/>)
    /// and each named destination of any stage; a message routed to several counts in each.
    /// </summary>
    public IReadOnlyDictionary<string, long> Destinations { get; }

    /// <summary>Counters per stage, in chain order.</summary>
    public IReadOnlyList<StepCountersSnapshot> Stages { get; }

    /// <summary>Every dead letter with its stage, source and reason.</summary>
    public IReadOnlyList<DeadLetterRecord> DeadLetters { get; }

    /// <summary>Messages read but neither out of the chain nor dropped by a stage (0 after a normal or stopped run).</summary>
    public long InFlight => Read - Finished - Stages.Sum(s => s.DeadLettered + s.Duplicates + s.Filtered);

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>True when the run was stopped before the source ended.</summary>
    public bool Stopped { get; }

    /// <summary>Messages read per second of wall time.</summary>
    public double AlertsPerSecond => Elapsed.TotalSeconds > 0 ? Read / Elapsed.TotalSeconds : 0;

    /// <summary>
    /// Every output alert's latency, ms, sorted ascending (8 bytes an alert): for a histogram of the run
    /// (<c>broker demo</c>'s report); the percentiles below are read from it.
    /// </summary>
    public IReadOnlyList<double> LatenciesMs { get; }

    /// <summary>Median per-alert latency, ms.</summary>
    public double LatencyP50Ms { get; }

    /// <summary>90th percentile latency, ms.</summary>
    public double LatencyP90Ms { get; }

    /// <summary>99th percentile latency, ms.</summary>
    public double LatencyP99Ms { get; }

    /// <summary>Largest latency, ms.</summary>
    public double LatencyMaxMs { get; }

    /// <summary>Nearest-rank percentile of sorted values (0 when empty).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return 0;
        int rank = (int)Math.Ceiling(q * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    /// <summary>A stage's own time per alert it took in (its batches' step time over its inputs), ms; 0 before any input.</summary>
    public static double StepMsPerAlert(StepCountersSnapshot s) => s.In == 0 ? 0 : s.MeanBatchMs * s.Batches / s.In;

    /// <summary>The summary as text for a terminal: counts and step time per stage, latency, dead letters (at most 20 listed).</summary>
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"Read {Read} messages in {Elapsed.TotalSeconds:F2} s ({AlertsPerSecond:F0} alerts/s){(Stopped ? ", stopped early" : "")}; wrote {Written}; in flight {InFlight}.");
        sb.AppendLine(c, $"{"stage",-16}{"in",8}{"out",8}{"dead",8}{"dups",8}{"filtered",10}{"ms/alert",10}");
        foreach (var s in Stages)
            sb.AppendLine(c, $"{s.Step,-16}{s.In,8}{s.Out,8}{s.DeadLettered,8}{s.Duplicates,8}{s.Filtered,10}{StepMsPerAlert(s),10:F3}");
        if (Stages.Count > 1 && Stages.Any(s => s.In > 0))
        {
            var slowest = Stages.MaxBy(StepMsPerAlert)!;
            sb.AppendLine(c, $"Step time: {Stages.Sum(StepMsPerAlert):F3} ms per alert over the chain; the most in {slowest.Step} ({StepMsPerAlert(slowest):F3} ms): scale it first.");
        }
        if (Destinations.Count > 1)
            sb.AppendLine(c, $"Records by destination: {string.Join(", ", Destinations.Select(d => $"{d.Key} {d.Value}"))}; {Finished} messages came out of the chain.");
        sb.AppendLine(c, $"Latency per alert: p50 {LatencyP50Ms:F2} ms, p90 {LatencyP90Ms:F2} ms, p99 {LatencyP99Ms:F2} ms, max {LatencyMaxMs:F2} ms.");
        if (DeadLetters.Count > 0)
        {
            sb.AppendLine(c, $"Dead letters ({DeadLetters.Count}):");
            foreach (var d in DeadLetters.Take(20)) sb.AppendLine(c, $"  [{d.Stage}] {d.Source}#{d.Index}: {d.Reason}");
            if (DeadLetters.Count > 20) sb.AppendLine(c, $"  ... and {DeadLetters.Count - 20} more");
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Render();

    /// <summary>The summary as indented JSON (every dead letter listed).</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        read = Read,
        written = Written,
        finished = Finished,
        destinations = Destinations,
        inFlight = InFlight,
        stopped = Stopped,
        elapsedSeconds = Elapsed.TotalSeconds,
        alertsPerSecond = AlertsPerSecond,
        latencyMs = new { p50 = LatencyP50Ms, p90 = LatencyP90Ms, p99 = LatencyP99Ms, max = LatencyMaxMs },
        stages = Stages.Select(s => new { step = s.Step, @in = s.In, @out = s.Out, deadLettered = s.DeadLettered, duplicates = s.Duplicates, filtered = s.Filtered, stepMsPerAlert = StepMsPerAlert(s) }),
        deadLetters = DeadLetters.Select(d => new { stage = d.Stage, source = d.Source, index = d.Index, key = d.Key, reason = d.Reason }),
    }, new JsonSerializerOptions { WriteIndented = true });
}
