using Confluent.Kafka;

namespace Broker.StepHost;

/// <summary>
/// The first fatal error of a Kafka host. Raised by the clients' error handlers (the producer's on Confluent.Kafka's
/// poll thread, the consumer's inside <c>Consume</c>) and by the host's parts; every wait of the host (deliveries, a
/// commit being retried) ends when it is raised, and the loop then stops without committing.
/// </summary>
internal sealed class HostFault
{
    private volatile string? _reason;

    /// <summary>Why the host must stop, or null.</summary>
    public string? Reason => _reason;

    /// <summary>True once raised.</summary>
    public bool IsRaised => _reason is not null;

    /// <summary>Raises the fault; the first reason is kept.</summary>
    public void Raise(string reason) => Interlocked.CompareExchange(ref _reason, reason, null);
}

/// <summary>
/// The partitions this instance holds: the one piece of state the rebalance callbacks and the loop both change.
/// librdkafka runs the callbacks inside <c>Consume</c>, <c>Commit</c> and <c>Close</c>, on the loop's thread, so the
/// set needs no lock; <see cref="Count"/> is also read by the health probes on other threads.
/// </summary>
internal sealed class PartitionAssignment
{
    private readonly HashSet<TopicPartition> _held = [];
    private int _count;

    /// <summary>How many partitions are held (any thread).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The partitions held (the loop's thread only).</summary>
    public IReadOnlyCollection<TopicPartition> Held => _held;

    /// <summary>Whether <paramref name="partition"/> is held.</summary>
    public bool Contains(TopicPartition partition) => _held.Contains(partition);

    /// <summary>Partitions assigned.</summary>
    public void Add(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions) _held.Add(p);
        Volatile.Write(ref _count, _held.Count);
    }

    /// <summary>Partitions revoked or lost.</summary>
    public void Remove(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions) _held.Remove(p);
        Volatile.Write(ref _count, _held.Count);
    }
}
