using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Collects the next batch from the consumer: up to <see cref="StepHostOptions.BatchSize"/> messages, waiting at most
/// <see cref="StepHostOptions.BatchWaitMs"/> after the first one. It holds the messages in hand between batches (those
/// consumed while a commit was retried are kept for the next batch), and a message of a partition this instance no
/// longer holds is never kept: its new owner starts from the last committed offset and processes it.
/// </summary>
internal sealed class BatchCollector
{
    private readonly List<ConsumeResult<byte[], byte[]>> _batch = [];
    private readonly Func<int, ConsumeResult<byte[], byte[]>?> _consume;
    private readonly PartitionAssignment _assignment;
    private readonly HostFault _fault;
    private readonly int _size;
    private readonly int _waitMs;
    private readonly ILogger _log;

    /// <param name="consume">The consumer's <c>Consume(milliseconds)</c>.</param>
    /// <param name="assignment">The partitions held.</param>
    /// <param name="fault">Collecting stops when it is raised.</param>
    /// <param name="size">Most messages per batch.</param>
    /// <param name="waitMs">Longest wait to fill a batch once its first message is in hand.</param>
    /// <param name="log">Where consume errors are told.</param>
    public BatchCollector(Func<int, ConsumeResult<byte[], byte[]>?> consume, PartitionAssignment assignment, HostFault fault, int size, int waitMs, ILogger log)
    {
        _consume = consume;
        _assignment = assignment;
        _fault = fault;
        _size = size;
        _waitMs = waitMs;
        _log = log;
    }

    /// <summary>Messages in hand.</summary>
    public int Count => _batch.Count;

    /// <summary>
    /// Adds to the messages in hand until the batch is full, its wait is over, or <paramref name="stop"/>; false when
    /// there is still nothing in hand.
    /// </summary>
    /// <param name="idleWaitMs">How long to wait for a first message: 0 while a batch is being delivered, so that the
    /// loop goes back to complete it promptly.</param>
    /// <param name="stop">Stops collecting.</param>
    public bool Collect(int idleWaitMs, CancellationToken stop)
    {
        long deadline = _batch.Count > 0 ? Environment.TickCount64 + _waitMs : 0;
        while (_batch.Count < _size && !stop.IsCancellationRequested && !_fault.IsRaised)
        {
            int wait = _batch.Count == 0 ? idleWaitMs : (int)Math.Max(0, deadline - Environment.TickCount64);
            if (!TryConsume(wait, out var cr))
            {
                if (_batch.Count > 0 && Environment.TickCount64 >= deadline) break;
                if (_batch.Count == 0) return false;
                continue;
            }
            if (cr is null) continue;
            if (_batch.Count == 0) deadline = Environment.TickCount64 + _waitMs;
            _batch.Add(cr);
        }
        return _batch.Count > 0;
    }

    /// <summary>
    /// Serves the consumer for up to <paramref name="milliseconds"/> (a rebalance runs its callbacks inside
    /// <c>Consume</c>) while a commit waits to be retried, keeping what arrives for the next batch; returns early
    /// once <paramref name="settled"/> says so.
    /// </summary>
    public void Serve(int milliseconds, Func<bool> settled)
    {
        long until = Environment.TickCount64 + milliseconds;
        while (Environment.TickCount64 < until && !_fault.IsRaised)
        {
            if (TryConsume(50, out var cr) && cr is not null) _batch.Add(cr);
            if (settled()) break;
        }
    }

    /// <summary>The batch in hand, which the collector forgets.</summary>
    public ConsumeResult<byte[], byte[]>[] Take()
    {
        var batch = _batch.ToArray();
        _batch.Clear();
        return batch;
    }

    /// <summary>Drops the messages in hand of <paramref name="partitions"/> (revoked or lost: left to the new owner); how many.</summary>
    public int Drop(IReadOnlySet<TopicPartition> partitions) => _batch.RemoveAll(m => partitions.Contains(m.TopicPartition));

    /// <summary>
    /// One consume. False when nothing came (time out, end of a partition); true with null for a message to skip (a
    /// consume error, or a message fetched before its partition was revoked or lost); true with the message otherwise.
    /// </summary>
    private bool TryConsume(int wait, out ConsumeResult<byte[], byte[]>? message)
    {
        message = null;
        ConsumeResult<byte[], byte[]>? cr;
        try
        {
            cr = _consume(wait);
        }
        catch (ConsumeException ex) when (!ex.Error.IsFatal)
        {
            _log.LogWarning("Consume error {Code}: {Reason}", ex.Error.Code, ex.Error.Reason);
            return true;
        }
        if (cr is null || cr.IsPartitionEOF) return false;
        // A message fetched before its partition was revoked or lost belongs to the new owner.
        if (_assignment.Contains(cr.TopicPartition)) message = cr;
        return true;
    }
}
