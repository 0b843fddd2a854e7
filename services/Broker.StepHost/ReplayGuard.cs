using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>What the replay guard says about one output.</summary>
internal enum ReplayDecision
{
    /// <summary>Not in its destination yet: produce it.</summary>
    Produce,

    /// <summary>
    /// This very input was processed by an instance that stopped before committing it, and this output is in its
    /// destination already: not produced again, counted as a duplicate and as replayed.
    /// </summary>
    Replay,

    /// <summary>
    /// Its destination holds an output with this key from another input position: the same alert arrived again as a
    /// new input message (re-sent upstream). Not produced again; a duplicate, not a replay.
    /// </summary>
    Duplicate,
}

/// <summary>
/// Tells replays and re-sent copies from new outputs, per destination (docs/kafka.md, "Delivery guarantee": Crash). At
/// start the host reads the tail of each destination's topic (<see cref="Load"/>); every output names the input
/// position it came from (<see cref="BrokerHeaders.SourceHeader"/>), and one naming a position at or after the group's
/// committed offset of its partition came from a batch that was in flight when an earlier instance stopped. When this
/// instance consumes that position again, its output to that destination is a replay; its outputs to destinations
/// that do not hold it yet are still produced. Every key read is remembered too, per destination. The loop's thread
/// only.
/// </summary>
internal sealed class ReplayGuard
{
    private readonly List<HashSet<(int Partition, long Offset)>> _positions = [];
    private readonly List<HashSet<string>> _keys = [];
    private readonly string _sourceHeader;

    /// <summary>An empty guard for <paramref name="destinations"/> destinations, reading the source header <paramref name="sourceHeader"/>.</summary>
    public ReplayGuard(string sourceHeader, int destinations)
    {
        _sourceHeader = sourceHeader;
        for (int d = 0; d < destinations; d++) AddDestination();
    }

    /// <summary>Makes room for one more destination, with nothing remembered (<see cref="Add"/> also reads its topic's tail).</summary>
    public void AddDestination()
    {
        _positions.Add([]);
        _keys.Add(new HashSet<string>(StringComparer.Ordinal));
    }

    /// <summary>
    /// Remembers one record read from the tail of destination <paramref name="destination"/>'s topic.
    /// <paramref name="committed"/> holds the group's committed offset of each input partition (none: 0, everything
    /// consumed from it is uncommitted).
    /// </summary>
    public void Remember(int destination, Headers? headers, byte[]? key, IReadOnlyDictionary<int, long> committed)
    {
        if (key is not null) _keys[destination].Add(Encoding.UTF8.GetString(key));
        if (headers is not null && headers.TryGetLastBytes(_sourceHeader, out var source)
            && BrokerHeaders.ParsePosition(source) is { } position
            && position.Offset >= committed.GetValueOrDefault(position.Partition, 0))
        {
            _positions[destination].Add(position);
        }
    }

    /// <summary>Outputs in <paramref name="destination"/> that came from input not yet committed, and not yet replayed.</summary>
    public int Uncommitted(int destination) => _positions[destination].Count;

    /// <summary>Keys read from <paramref name="destination"/>.</summary>
    public int Keys(int destination) => _keys[destination].Count;

    /// <summary>
    /// Decides about the output to <paramref name="destination"/> of the input at <paramref name="partition"/>:<paramref name="offset"/>
    /// with key <paramref name="key"/>. A replay is reported once: the position is forgotten.
    /// </summary>
    public ReplayDecision Check(int destination, int partition, long offset, byte[]? key)
    {
        var positions = _positions[destination];
        if (positions.Count > 0 && positions.Remove((partition, offset))) return ReplayDecision.Replay;
        var keys = _keys[destination];
        if (keys.Count > 0 && key is not null && ContainsKey(keys, key)) return ReplayDecision.Duplicate;
        return ReplayDecision.Produce;
    }

    /// <summary>Whether a key is among those read, without making a string of it.</summary>
    private static bool ContainsKey(HashSet<string> keys, byte[] key)
    {
        Span<char> chars = key.Length <= 64 ? stackalloc char[64] : new char[key.Length];
        int n = Encoding.UTF8.GetChars(key, chars);
        return keys.GetAlternateLookup<ReadOnlySpan<char>>().Contains(chars[..n]);
    }

    /// <summary>
    /// Reads the group's committed offsets of the input and the last <paramref name="depth"/> messages of every
    /// partition of every destination's topic, before anything is consumed. Two batches deep, so that outputs another
    /// instance wrote after the stopped one's last batch do not push that batch out of reach. The cost is one read of
    /// <c>destinations x partitions x depth</c> messages at start.
    /// </summary>
    /// <param name="group">The host's consumer (its group's committed offsets).</param>
    /// <param name="kafka">Client settings, for a reader of its own (no group).</param>
    /// <param name="input">The input topic and its partition count.</param>
    /// <param name="destinations">The step's destinations.</param>
    /// <param name="partitions">Partition counts of the cluster's topics.</param>
    /// <param name="sourceHeader">The step's source header.</param>
    /// <param name="depth">Messages read back per partition.</param>
    /// <param name="timeout">How long the reads may take.</param>
    /// <param name="log">Where the result is told.</param>
    public static ReplayGuard Load(IConsumer<byte[], byte[]> group, KafkaSettings kafka, (string Topic, int Partitions) input, DestinationTable destinations,
        IReadOnlyDictionary<string, int> partitions, string sourceHeader, int depth, TimeSpan timeout, ILogger log)
    {
        var guard = new ReplayGuard(sourceHeader, destinations.Count);
        guard.ReadTails(group, kafka, input, destinations, [.. Enumerable.Range(0, destinations.Count)], partitions, depth, timeout, log);
        return guard;
    }

    /// <summary>
    /// Makes room for a destination the step declared while running (<see cref="DestinationTable.Added"/>) and reads
    /// its topic's tail as <see cref="Load"/> does at start: another instance may have known it, and routed to it, before
    /// this one did.
    /// </summary>
    public void Add(IConsumer<byte[], byte[]> group, KafkaSettings kafka, (string Topic, int Partitions) input, DestinationTable destinations, int destination,
        IReadOnlyDictionary<string, int> partitions, int depth, TimeSpan timeout, ILogger log)
    {
        while (_positions.Count <= destination) AddDestination();
        ReadTails(group, kafka, input, destinations, [destination], partitions, depth, timeout, log);
    }

    private void ReadTails(IConsumer<byte[], byte[]> group, KafkaSettings kafka, (string Topic, int Partitions) input, DestinationTable destinations, int[] which,
        IReadOnlyDictionary<string, int> partitions, int depth, TimeSpan timeout, ILogger log)
    {
        var committed = new Dictionary<int, long>();
        var inputs = new List<TopicPartition>(input.Partitions);
        for (int p = 0; p < input.Partitions; p++) inputs.Add(new TopicPartition(input.Topic, p));
        foreach (var c in group.Committed(inputs, timeout))
        {
            // No committed offset: everything ever consumed from that partition is uncommitted.
            committed[c.Partition.Value] = c.Offset.Value >= 0 ? c.Offset.Value : 0;
        }

        var config = KafkaClients.ConsumerConfig(kafka, "broker-replay-check-" + Guid.NewGuid().ToString("N"), "earliest");
        config.EnableAutoCommit = false;
        config.Set("log_level", "0");
        using var reader = KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build(), "consumer");
        var ends = new Dictionary<TopicPartition, long>();
        var destinationOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var assign = new List<TopicPartitionOffset>();
        foreach (int d in which)
        {
            string topic = destinations.Topics[d];
            destinationOf[topic] = d;
            for (int p = 0; p < partitions[topic]; p++)
            {
                var tp = new TopicPartition(topic, p);
                var w = reader.QueryWatermarkOffsets(tp, timeout);
                if (w.High.Value <= w.Low.Value) continue;
                ends[tp] = w.High.Value;
                assign.Add(new TopicPartitionOffset(tp, Math.Max(w.Low.Value, w.High.Value - depth)));
            }
        }
        if (assign.Count > 0)
        {
            reader.Assign(assign);
            var until = DateTime.UtcNow + timeout;
            while (ends.Count > 0 && DateTime.UtcNow < until)
            {
                var cr = reader.Consume(100);
                if (cr is null || cr.IsPartitionEOF) continue;
                Remember(destinationOf[cr.Topic], cr.Message.Headers, cr.Message.Key, committed);
                var tp = cr.TopicPartition;
                if (cr.Offset.Value + 1 >= ends.GetValueOrDefault(tp, long.MaxValue)) ends.Remove(tp);
            }
        }
        foreach (int d in which)
        {
            log.LogInformation("Step {Step}: {Keys} outputs at the end of {Output} read; {Uncommitted} of them came from input not yet committed and will not be produced again if replayed",
                destinations.Step, Keys(d), destinations.Topics[d], Uncommitted(d));
        }
    }
}
