using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Broker.StepHost;

/// <summary>
/// A step's metrics as <see cref="System.Diagnostics.Metrics"/> instruments on the meter <see cref="MeterName"/>,
/// for the service's <c>/metrics</c> endpoint (OpenTelemetry's Prometheus exporter) or any other listener:
/// <list type="bullet">
/// <item><c>broker.alerts.in</c>, <c>.out</c>, <c>.dead_lettered</c> (by <c>reason</c> class), <c>.duplicates</c>,
/// <c>.replayed</c>, <c>.filtered</c>: counters read from <see cref="StepCounters"/> when collected, so a scrape gives
/// exactly the counts the run's summary gives;</item>
/// <item><c>broker.batch.duration</c> (s): consume to delivered, per batch;</item>
/// <item><c>broker.hop.latency</c> (s): from the time stamp the previous stage put in the message's headers
/// (<c>broker.time.&lt;stage&gt;</c>, tag <c>from</c>) to this stage's produce, per output;</item>
/// <item><c>broker.consumer.lag</c> (messages): per assigned partition.</item>
/// </list>
/// Every measurement carries the tag <c>step</c>.
/// </summary>
public sealed class StepMetrics : IDisposable
{
    /// <summary>The meter's name: what an exporter subscribes to.</summary>
    public const string MeterName = "Broker.StepHost";

    /// <summary>Most distinct dead-letter reason classes kept as label values; further ones count as <c>other</c>.</summary>
    public const int MaxReasonClasses = 32;

    // Latencies from a millisecond to ten minutes: a hop is milliseconds when the stream flows and minutes when a
    // consumer catches up on a backlog (OpenTelemetry's default buckets stop resolving below 5 s).
    private static readonly double[] LatencyBuckets =
        [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 60, 120, 300, 600];

    private readonly Meter _meter;
    private readonly StepCounters _counters;
    private readonly KeyValuePair<string, object?> _stepTag;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _hopLatency;
    private readonly ConcurrentDictionary<string, KeyValuePair<string, object?>[]> _fromTags = new(StringComparer.Ordinal);
    private volatile KeyValuePair<int, long>[] _lag = [];

    /// <summary>Creates the instruments for one step's counters.</summary>
    public StepMetrics(StepCounters counters)
    {
        _counters = counters;
        _stepTag = new("step", counters.Step);
        _meter = new Meter(MeterName);
        Observe("broker.alerts.in", "Alerts read from the input topic", () => counters.In);
        Observe("broker.alerts.out", "Alerts produced to the output topic", () => counters.Out);
        Observe("broker.alerts.duplicates", "Duplicates dropped (replays included)", () => counters.Duplicates);
        Observe("broker.alerts.replayed", "Outputs of a batch in flight at an earlier instance's stop, found delivered and not produced again", () => counters.Replayed);
        Observe("broker.alerts.filtered", "Alerts deliberately not passed on", () => counters.Filtered);
        _meter.CreateObservableCounter("broker.alerts.dead_lettered", DeadLettered, "{alert}", "Alerts sent to the dead-letter topic, by reason class");
        _meter.CreateObservableGauge("broker.consumer.lag", Lag, "{message}", "Messages behind the end of each assigned input partition");
        _batchDuration = _meter.CreateHistogram("broker.batch.duration", "s", "Time from a batch's first message consumed to its last output delivered",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _hopLatency = _meter.CreateHistogram("broker.hop.latency", "s", "Time from the previous stage's time stamp to this stage's produce, per output",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    /// <summary>Records a finished batch.</summary>
    public void BatchDone(double seconds) => _batchDuration.Record(seconds, _stepTag);

    /// <summary>Records one output's latency since <paramref name="fromStage"/> stamped it.</summary>
    public void Hop(string fromStage, double seconds)
    {
        if (!_hopLatency.Enabled) return;
        var tags = _fromTags.GetOrAdd(fromStage, static (from, step) => [step, new("from", from)], _stepTag);
        _hopLatency.Record(seconds, tags);
    }

    /// <summary>Whether anything listens to the hop latencies (so the host can skip reading headers when not).</summary>
    public bool HopsObserved => _hopLatency.Enabled;

    /// <summary>Replaces the per-partition lag (partition, messages behind).</summary>
    public void SetLag(KeyValuePair<int, long>[] lag) => _lag = lag;

    /// <summary>
    /// A dead-letter reason's class for the <c>reason</c> label: the text before its first colon, digits shown as
    /// <c>#</c> (<c>undecodable</c>, <c>invalid</c>, <c>bad cutout</c>, <c>undecodable input</c>, an exception's type).
    /// </summary>
    public static string ReasonClass(string reasonKey)
    {
        int colon = reasonKey.IndexOf(':');
        string head = (colon > 0 ? reasonKey[..colon] : reasonKey).Trim();
        return head.Length <= 40 ? head : head[..40];
    }

    private void Observe(string name, string description, Func<long> read) =>
        _meter.CreateObservableCounter(name, () => new Measurement<long>(read(), _stepTag), "{alert}", description);

    private IEnumerable<Measurement<long>> DeadLettered()
    {
        var classes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, n) in _counters.DeadLetterReasons)
        {
            string c = ReasonClass(key);
            if (classes.Count >= MaxReasonClasses && !classes.ContainsKey(c)) c = "other";
            classes[c] = classes.GetValueOrDefault(c) + n;
        }
        var result = new List<Measurement<long>>(classes.Count);
        foreach (var (c, n) in classes) result.Add(new Measurement<long>(n, _stepTag, new("reason", c)));
        return result;
    }

    private IEnumerable<Measurement<long>> Lag()
    {
        var lag = _lag;
        var result = new Measurement<long>[lag.Length];
        for (int i = 0; i < lag.Length; i++) result[i] = new Measurement<long>(lag[i].Value, _stepTag, new("partition", lag[i].Key));
        return result;
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
