using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;

namespace Broker.StepHost;

/// <summary>
/// A host's instruments, through <see cref="System.Diagnostics.Metrics"/>; the operators' endpoint exports them
/// (<see cref="OperatorEndpoints"/>, docs/kafka.md, "Metrics"). The alert counts are observed from
/// <see cref="StepCounters"/> at each scrape, so a scrape and the host's logged summary read the same numbers; the
/// two latencies are histograms recorded as batches finish.
/// <para>Each host has a <see cref="Meter"/> of its own (named <see cref="MeterName"/>): an exporter keeps only the
/// instruments of its host's meter, so hosts running side by side in one process (tests, the load harness) do not
/// see each other's series.</para>
/// </summary>
public sealed class StepMetrics : IDisposable
{
    /// <summary>The meter name every host's instruments carry.</summary>
    public const string MeterName = "Broker.StepHost";

    /// <summary>Most reason classes kept apart; further ones are counted under <see cref="StepCounters.OtherReasons"/>.</summary>
    public const int MaxReasonClasses = 32;

    // Seconds. A batch takes milliseconds to a few seconds (500 alerts, delivery included); a hop adds the wait in
    // the upstream topic, which is minutes when a stage is behind.
    private static readonly double[] BatchBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private static readonly double[] HopBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

    private readonly StepCounters _counters;
    private readonly KeyValuePair<string, object?> _stepTag;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _hopLatency;
    private readonly Histogram<double> _chainLatency;
    private readonly ConcurrentDictionary<(string Topic, int Partition), long> _lag = new();
    private readonly ConcurrentDictionary<string, string> _upstreamStages = new(StringComparer.Ordinal);
    private readonly string _ownTimeHeader;

    /// <summary>Creates the instruments of one host.</summary>
    public StepMetrics(StepCounters counters)
    {
        _counters = counters;
        _stepTag = new("step", counters.Step);
        _ownTimeHeader = BrokerHeaders.TimeHeader(counters.Step);
        Meter = new Meter(MeterName);
        Counter("broker.alerts.in", "Alerts read from the input topic.", () => _counters.In);
        Counter("broker.alerts.out", "Alerts produced downstream, each once however many destinations it went to.", () => _counters.Out);
        Meter.CreateObservableCounter("broker.destination.out", () => PerDestination(static d => d.Out), "{message}",
            "Outputs produced to each destination topic.");
        Meter.CreateObservableCounter("broker.destination.duplicates", () => PerDestination(static d => d.Duplicates), "{message}",
            "Outputs not produced to a destination topic because it already holds them (replays included).");
        Meter.CreateObservableCounter("broker.destination.replayed", () => PerDestination(static d => d.Replayed), "{message}",
            "Of those, outputs of a batch an earlier instance delivered there and did not commit.");
        Counter("broker.alerts.duplicates", "Alerts dropped as duplicates (replays included).", () => _counters.Duplicates);
        Counter("broker.alerts.replayed", "Of the duplicates, outputs of a batch an earlier instance delivered and did not commit.", () => _counters.Replayed);
        Counter("broker.alerts.filtered", "Alerts deliberately not passed on.", () => _counters.Filtered);
        Meter.CreateObservableCounter("broker.alerts.dead_lettered", DeadLetteredByClass, "{alert}",
            "Alerts sent to the dead-letter topic, by reason class (the reason's words before its first colon).");
        Meter.CreateObservableCounter("broker.batches", () => new Measurement<long>(_counters.Batches, _stepTag), "{batch}",
            "Batches delivered and committed.");
        Meter.CreateObservableGauge("broker.consumer.lag", Lag, "{message}",
            "Messages in an assigned input partition after this consumer's position (refreshed at most once a second).");
        _batchDuration = Meter.CreateHistogram("broker.batch.duration", "s",
            "From the first message of a batch consumed to its last output delivered and its offsets committed.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BatchBuckets });
        _hopLatency = Meter.CreateHistogram("broker.hop.latency", "s",
            "Per output: from the time stamp of the stage upstream (its broker.time.<stage> header) to this stage's produce.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HopBuckets });
        _chainLatency = Meter.CreateHistogram("broker.chain.latency", "s",
            "Per output: from the first broker.time.<stage> header (replay, or ingest for a survey's own stream) to this stage's produce; at the chain's last stage, end to end.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HopBuckets });
    }

    /// <summary>This host's meter (an exporter selects its instruments by it).</summary>
    public Meter Meter { get; }

    /// <summary>Records a finished batch.</summary>
    public void BatchDone(double seconds) => _batchDuration.Record(seconds, _stepTag);

    /// <summary>
    /// Records the hop an output has made: from the last <c>broker.time.&lt;stage&gt;</c> header of its input (the
    /// stage upstream; <c>replay</c> for alerts that <c>broker replay</c> produced) to <paramref name="nowMicros"/>,
    /// the stamp this stage writes. An input without a stamp (a survey's own topic) records nothing.
    /// </summary>
    public void RecordHop(Headers? input, long nowMicros)
    {
        if (input is null) return;
        if (_hopLatency.Enabled) Record(_hopLatency, input, nowMicros, last: true);
        // The first stamp is where the alert entered Broker: the whole chain so far (issue 16, item 3).
        if (_chainLatency.Enabled) Record(_chainLatency, input, nowMicros, last: false);
    }

    private void Record(Histogram<double> histogram, Headers input, long nowMicros, bool last)
    {
        for (int k = 0; k < input.Count; k++)
        {
            var h = input[last ? input.Count - 1 - k : k];
            if (!h.Key.StartsWith(BrokerHeaders.TimePrefix, StringComparison.Ordinal) || h.Key == _ownTimeHeader) continue;
            if (BrokerHeaders.ParseNumber(h.GetValueBytes()) is not { } stamp) return;
            string from = _upstreamStages.GetOrAdd(h.Key, static key => key[BrokerHeaders.TimePrefix.Length..]);
            histogram.Record(Math.Max(0, nowMicros - stamp) / 1e6, _stepTag, new("from", from));
            return;
        }
    }

    /// <summary>Sets the lag of one assigned partition.</summary>
    public void SetLag(string topic, int partition, long lag) => _lag[(topic, partition)] = lag;

    /// <summary>Forgets partitions no longer assigned (revoked, lost, or the consumer closed).</summary>
    public void ForgetLag(IEnumerable<(string Topic, int Partition)> partitions)
    {
        foreach (var p in partitions) _lag.TryRemove(p, out _);
    }

    /// <inheritdoc />
    public void Dispose() => Meter.Dispose();

    private void Counter(string name, string description, Func<long> value) =>
        Meter.CreateObservableCounter(name, () => new Measurement<long>(value(), _stepTag), "{alert}", description);

    private IEnumerable<Measurement<long>> PerDestination(Func<DestinationCounters, long> value)
    {
        foreach (var d in _counters.Destinations) yield return new Measurement<long>(value(d), _stepTag, new("destination", d.Topic));
    }

    private IEnumerable<Measurement<long>> Lag()
    {
        foreach (var ((topic, partition), lag) in _lag)
            yield return new Measurement<long>(lag, _stepTag, new("topic", topic), new("partition", partition));
    }

    private IEnumerable<Measurement<long>> DeadLetteredByClass()
    {
        // Observed at each scrape from the counters' reason groups, so the classes always add up to the total.
        var classes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (reason, count) in _counters.DeadLetterReasons)
        {
            string c = ReasonClass(reason);
            if (classes.Count >= MaxReasonClasses && !classes.ContainsKey(c)) c = StepCounters.OtherReasons;
            classes[c] = classes.GetValueOrDefault(c) + count;
        }
        foreach (var (c, count) in classes) yield return new Measurement<long>(count, _stepTag, new("reason", c));
    }

    /// <summary>
    /// A reason's class: its words before the first colon (<c>undecodable</c>, <c>invalid</c>, <c>bad cutout</c>, an
    /// exception's type name), which the steps and the host put first in every reason.
    /// </summary>
    public static string ReasonClass(string reason)
    {
        int colon = reason.IndexOf(':');
        var head = (colon > 0 ? reason.AsSpan(0, colon) : reason.AsSpan()).Trim();
        return head.Length is > 0 and <= 48 ? head.ToString() : "(unclassified)";
    }
}
