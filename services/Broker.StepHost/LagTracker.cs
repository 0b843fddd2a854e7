using Confluent.Kafka;

namespace Broker.StepHost;

/// <summary>What the lag is computed from: the consumer's positions and the partitions' ends (a seam for tests).</summary>
internal interface IPartitionOffsets
{
    /// <summary>The consumer's position in a partition: the next offset it will consume, negative when it has consumed nothing there.</summary>
    long Position(TopicPartition partition);

    /// <summary>The partition's end as the consumer last heard it (no request), negative when unknown.</summary>
    long CachedEnd(TopicPartition partition);

    /// <summary>The group's committed offsets (negative: none), asking the cluster.</summary>
    IEnumerable<(TopicPartition Partition, long Offset)> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout);

    /// <summary>The partition's first and end offsets, asking the cluster.</summary>
    (long Low, long High) QueryEnds(TopicPartition partition, TimeSpan timeout);
}

/// <summary>The consumer as <see cref="IPartitionOffsets"/>.</summary>
internal sealed class ConsumerOffsets(IConsumer<byte[], byte[]> consumer) : IPartitionOffsets
{
    public long Position(TopicPartition partition) => consumer.Position(partition).Value;

    public long CachedEnd(TopicPartition partition) => consumer.GetWatermarkOffsets(partition).High.Value;

    public IEnumerable<(TopicPartition Partition, long Offset)> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout) =>
        consumer.Committed(partitions, timeout).Select(c => (c.TopicPartition, c.Offset.Value));

    public (long Low, long High) QueryEnds(TopicPartition partition, TimeSpan timeout)
    {
        var w = consumer.QueryWatermarkOffsets(partition, timeout);
        return (w.Low.Value, w.High.Value);
    }
}

/// <summary>
/// The consumer lag of the partitions held: per partition for the metrics (<c>broker_consumer_lag</c>), summed for the
/// counters and the health file (<see cref="StepCounters.Lag"/>: 0 when holding nothing, -1 while it cannot be known).
/// Refreshed at most once a second, after a batch and while idle. The loop's thread only.
/// </summary>
internal sealed class LagTracker
{
    private readonly IPartitionOffsets _offsets;
    private readonly PartitionAssignment _assignment;
    private readonly StepCounters _counters;
    private readonly StepMetrics _metrics;
    private readonly bool _fromLatest;
    private readonly Dictionary<TopicPartition, long> _committed = [];
    private readonly Dictionary<TopicPartition, long> _unconsumedLag = [];
    private long _next;
    private long _nextUnconsumed;

    /// <summary>
    /// How often partitions not consumed from yet are asked of the cluster, milliseconds: each costs two blocking
    /// requests on the loop's thread (its committed offset, once per assignment, and its ends), and a quiet partition's
    /// lag changes only when a producer writes to it.
    /// </summary>
    public const int UnconsumedRefreshMs = 10_000;

    /// <param name="offsets">Positions and ends.</param>
    /// <param name="assignment">The partitions held.</param>
    /// <param name="counters">Where the sum goes.</param>
    /// <param name="metrics">Where each partition's lag goes.</param>
    /// <param name="autoOffsetReset">Where a partition without a committed offset starts (<c>earliest</c> or <c>latest</c>).</param>
    public LagTracker(IPartitionOffsets offsets, PartitionAssignment assignment, StepCounters counters, StepMetrics metrics, string autoOffsetReset)
    {
        _offsets = offsets;
        _assignment = assignment;
        _counters = counters;
        _metrics = metrics;
        _fromLatest = autoOffsetReset == "latest";
    }

    /// <summary>Recomputes the lag unless it was computed less than a second ago.</summary>
    public void Refresh()
    {
        if (Environment.TickCount64 < _next) return;
        Update();
        _next = Environment.TickCount64 + 1000;
    }

    /// <summary>Recomputes the lag now.</summary>
    public void Update()
    {
        // Holding nothing, this instance is behind on nothing.
        if (_assignment.Count == 0)
        {
            _counters.Lag = 0;
            return;
        }
        long lag = 0;
        bool known = false;
        List<TopicPartition>? unconsumed = null;
        foreach (var tp in _assignment.Held)
        {
            try
            {
                long position = _offsets.Position(tp);
                if (position < 0)
                {
                    // Nothing consumed here yet by this instance: its start is the group's committed offset.
                    (unconsumed ??= []).Add(tp);
                    continue;
                }
                long end = _offsets.CachedEnd(tp);
                if (end < 0) continue;
                long behind = Math.Max(0, end - position);
                _metrics.SetLag(tp.Topic, tp.Partition.Value, behind);
                lag += behind;
                known = true;
            }
            catch (KafkaException)
            {
                // Partition moving in a rebalance; its lag is counted next time.
            }
        }
        if (unconsumed is not null && UnconsumedLag(unconsumed) is { } more)
        {
            lag += more;
            known = true;
        }
        _counters.Lag = known ? lag : -1;
    }

    /// <summary>Forgets the per-partition lag of partitions no longer held.</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        var gone = partitions.ToList();
        foreach (var p in gone)
        {
            _committed.Remove(p);
            _unconsumedLag.Remove(p);
        }
        _metrics.ForgetLag(gone.Select(p => (p.Topic, p.Partition.Value)));
    }

    /// <summary>
    /// The lag of partitions this instance has consumed nothing from (an idle or empty partition, or one just
    /// assigned): from the committed offset, else from where <c>auto.offset.reset</c> starts, to the end. These ask
    /// the cluster (the client caches no position for them), so only while they stay unconsumed and at most every
    /// <see cref="UnconsumedRefreshMs"/>; null when unknown.
    /// </summary>
    private long? UnconsumedLag(List<TopicPartition> partitions)
    {
        long now = Environment.TickCount64;
        if (now < _nextUnconsumed && partitions.All(_unconsumedLag.ContainsKey)) return partitions.Sum(p => _unconsumedLag[p]);
        var timeout = TimeSpan.FromMilliseconds(500);
        try
        {
            // Nobody else commits for a partition this instance holds: its committed offset is asked once.
            var ask = partitions.Where(p => !_committed.ContainsKey(p)).ToList();
            if (ask.Count > 0)
            {
                foreach (var (tp, committed) in _offsets.Committed(ask, timeout)) _committed[tp] = committed;
            }
            long lag = 0;
            foreach (var tp in partitions)
            {
                long committed = _committed.GetValueOrDefault(tp, -1);
                var (low, high) = _offsets.QueryEnds(tp, timeout);
                long from = committed >= 0 ? committed : _fromLatest ? high : low;
                long behind = Math.Max(0, high - from);
                _metrics.SetLag(tp.Topic, tp.Partition.Value, behind);
                _unconsumedLag[tp] = behind;
                lag += behind;
            }
            _nextUnconsumed = now + UnconsumedRefreshMs;
            return lag;
        }
        catch (KafkaException)
        {
            return null;
        }
    }
}
