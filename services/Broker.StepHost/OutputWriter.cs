using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>One output of an input, encoded: its destination (by number, <see cref="DestinationTable"/>), value and key.</summary>
internal readonly record struct EncodedOutput(int Destination, byte[] Value, byte[]? Key);

/// <summary>One input's fate, decided before anything is produced: emitted with its outputs, or not, with the reason.</summary>
internal readonly record struct Prepared(StepOutcome Outcome, EncodedOutput[]? Outputs, string? Reason);

/// <summary>
/// Produces a prepared batch, without waiting for delivery: each output to its destination's topic, stamped with
/// this stage's time and the input position it came from (<c>broker.time.&lt;step&gt;</c>,
/// <c>broker.source.&lt;step&gt;</c>), unless the replay guard finds its destination holds it already; each bad input
/// to the dead-letter topic with its original key, bytes and headers and the <c>dlq.*</c> headers saying which step,
/// why and where from. Both carry the input's headers on, less any <c>dlq.*</c> headers (a message replayed from a
/// dead-letter topic starts afresh). Counts every input once, and every output per destination.
/// </summary>
internal sealed class OutputWriter
{
    /// <summary>Produces one message (<see cref="TopicWriter.Produce"/> on the host's producer), tracked by the batch's delivery.</summary>
    public delegate void ProduceMessage(string topic, Message<byte[], byte[]> message, DeliveryTracker delivery);

    private readonly DestinationTable _destinations;
    private readonly List<int> _replaysIn;
    private readonly string _deadLetterTopic;
    private readonly ReplayGuard _guard;
    private readonly StepCounters _counters;
    private readonly StepMetrics _metrics;
    private readonly ProduceMessage _produce;
    private readonly ILogger _log;
    private readonly string _timeHeader;
    private readonly string _sourceHeader;
    private readonly byte[] _stepNameBytes;

    /// <summary>A writer for the step of <paramref name="destinations"/>; it sets up the per-destination counters.</summary>
    public OutputWriter(DestinationTable destinations, string deadLetterTopic, ReplayGuard guard, StepCounters counters, StepMetrics metrics,
        ProduceMessage produce, ILogger log)
    {
        _destinations = destinations;
        counters.Route(destinations);
        _replaysIn = [.. new int[destinations.Count]];
        destinations.Added += _ => _replaysIn.Add(0);
        _deadLetterTopic = deadLetterTopic;
        _guard = guard;
        _counters = counters;
        _metrics = metrics;
        _produce = produce;
        _log = log;
        _timeHeader = BrokerHeaders.TimeHeader(destinations.Step);
        _sourceHeader = BrokerHeaders.SourceHeader(destinations.Step);
        _stepNameBytes = BrokerHeaders.Text(destinations.Step);
    }

    /// <summary>Produces the outputs and dead letters of <paramref name="batch"/> into <paramref name="flight"/>'s delivery.</summary>
    public void Write(ConsumeResult<byte[], byte[]>[] batch, Prepared[] prepared, InFlightBatch flight)
    {
        _counters.AddIn(batch.Length);
        // One time stamp (and one header value) per batch: every output of the batch is produced now.
        long nowMicros = BrokerHeaders.NowMicros();
        byte[] now = BrokerHeaders.Number(nowMicros);
        int replays = 0, copies = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            var m = batch[i];
            var r = prepared[i];
            if (r.Outcome == StepOutcome.Emitted)
            {
                WriteOutputs(m, r.Outputs!, now, nowMicros, flight, ref replays, ref copies);
                continue;
            }
            if (r.Outcome == StepOutcome.DeadLettered)
            {
                var headers = DeadLetterHeaders(m, _stepNameBytes, r.Reason);
                var message = new Message<byte[], byte[]> { Key = m.Message.Key, Value = m.Message.Value, Headers = headers };
                _produce(_deadLetterTopic, message, flight.Delivery);
                if (_log.IsEnabled(LogLevel.Debug))
                    _log.LogDebug("Dead letter {Topic} {Partition} {Offset}: {Reason}", m.Topic, m.Partition.Value, m.Offset.Value, r.Reason);
            }
            _counters.Count(r.Outcome, r.Reason);
        }
        if (replays > 0)
        {
            _log.LogWarning("Step {Step}: {Replays} outputs of a batch that was in flight when an earlier instance stopped (delivered to {Output}, input offsets not committed) were not produced again; counted as replays",
                _destinations.Step, replays, ReplayedTopics());
        }
        if (copies > 0 && _log.IsEnabled(LogLevel.Debug))
        {
            _log.LogDebug("Step {Step}: {Copies} outputs already in their destination arrived again as new input; dropped as duplicates", _destinations.Step, copies);
        }
    }

    /// <summary>
    /// Produces an emitted input's outputs, each unless its destination holds it already. The input counts as out
    /// when at least one output was produced, else as a duplicate (and replayed when one of them was a replay).
    /// </summary>
    private void WriteOutputs(ConsumeResult<byte[], byte[]> m, EncodedOutput[] outputs, byte[] now, long nowMicros, InFlightBatch flight,
        ref int replays, ref int copies)
    {
        int partition = m.Partition.Value;
        long offset = m.Offset.Value;
        bool produced = false, replayed = false;
        Headers? headers = null;
        foreach (var o in outputs)
        {
            var decision = _guard.Check(o.Destination, partition, offset, o.Key);
            if (decision != ReplayDecision.Produce)
            {
                bool replay = decision == ReplayDecision.Replay;
                _counters.Destination(o.Destination).AddDuplicate(replay);
                if (replay)
                {
                    replays++;
                    _replaysIn[o.Destination]++;
                    replayed = true;
                }
                else
                {
                    copies++;
                }
                continue;
            }
            if (headers is null)
            {
                _metrics.RecordHop(m.Message.Headers, nowMicros);
                // One header list for every destination of this input: Produce copies it into librdkafka.
                headers = ForwardedHeaders(m.Message.Headers);
                headers.Add(_timeHeader, now);
                headers.Add(_sourceHeader, BrokerHeaders.Position(partition, offset));
            }
            _produce(_destinations.Topics[o.Destination], new Message<byte[], byte[]> { Key = o.Key!, Value = o.Value, Headers = headers }, flight.Delivery);
            _counters.Destination(o.Destination).AddOut();
            produced = true;
        }
        if (produced)
        {
            _counters.Count(StepOutcome.Emitted);
            return;
        }
        _counters.Count(StepOutcome.Duplicate);
        if (replayed) _counters.AddReplayed(1);
    }

    /// <summary>The topics that had replays in this batch (and forgets the counts).</summary>
    private string ReplayedTopics()
    {
        var topics = new List<string>();
        for (int d = 0; d < _replaysIn.Count; d++)
        {
            if (_replaysIn[d] > 0) topics.Add(_destinations.Topics[d]);
            _replaysIn[d] = 0;
        }
        return string.Join(", ", topics);
    }

    /// <summary>
    /// The headers of a dead letter: the input's (less any <c>dlq.*</c>), then the step, the reason and where the
    /// original message was read.
    /// </summary>
    internal static Headers DeadLetterHeaders(ConsumeResult<byte[], byte[]> m, byte[] step, string? reason)
    {
        var headers = ForwardedHeaders(m.Message.Headers);
        headers.Add(BrokerHeaders.DeadLetterStep, step);
        headers.Add(BrokerHeaders.DeadLetterReason, BrokerHeaders.Text(reason ?? "(no reason)"));
        headers.Add(BrokerHeaders.DeadLetterSourceTopic, BrokerHeaders.Text(m.Topic));
        headers.Add(BrokerHeaders.DeadLetterSourcePartition, BrokerHeaders.Number(m.Partition.Value));
        headers.Add(BrokerHeaders.DeadLetterSourceOffset, BrokerHeaders.Number(m.Offset.Value));
        return headers;
    }

    /// <summary>
    /// The headers an output or a dead letter carries on: the input's, less any dead-letter headers. The consumed
    /// message's own header list is reused and edited: it is not read again once its outputs or dead letter are produced.
    /// </summary>
    internal static Headers ForwardedHeaders(Headers? source)
    {
        if (source is null) return new Headers();
        List<string>? deadLetterKeys = null;
        for (int i = 0; i < source.Count; i++)
        {
            if (IsDeadLetterHeader(source[i])) (deadLetterKeys ??= []).Add(source[i].Key);
        }
        if (deadLetterKeys is not null)
        {
            foreach (var key in deadLetterKeys) source.Remove(key);
        }
        return source;
    }

    private static bool IsDeadLetterHeader(IHeader h) => h.Key.StartsWith("dlq.", StringComparison.Ordinal);
}
