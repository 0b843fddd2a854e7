using System.Runtime.InteropServices;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Commits each produced batch's offsets once every one of its messages is delivered, and keeps the rule that at most
/// one batch is produced and not committed (the loop produces the next batch only after <see cref="Complete"/>). A
/// commit refused (a rebalance in progress, a coordinator moving) is retried every half second while the rebalance is
/// served, for at most <see cref="StepHostOptions.CommitRetrySeconds"/>; then the host fails (fatal) and its supervisor
/// restarts it, in confluent-kafka-dotnet's stance that a worker which cannot commit should not limp on. The rebalance
/// callbacks come here through <see cref="Release"/>: revoked partitions get their delivered offsets committed before
/// they go; lost ones cannot be committed, and the new owner replays at most this one batch.
/// </summary>
internal sealed class OffsetCommitter
{
    private readonly Action<List<TopicPartitionOffset>> _commit;
    private readonly Action<int, Func<bool>> _serve;
    private readonly PartitionAssignment _assignment;
    private readonly HostFault _fault;
    private readonly TimeSpan _retryFor;
    private readonly int _serveMs;
    private readonly ILogger _log;
    private readonly string _step;
    private InFlightBatch? _inFlight;

    /// <param name="commit">The consumer's synchronous <c>Commit(offsets)</c>; a <see cref="KafkaException"/> that is not fatal is a refusal, retried.</param>
    /// <param name="serve">Serves the consumer for up to the given milliseconds, or until the function says the batch is settled (<see cref="BatchCollector.Serve"/>).</param>
    /// <param name="assignment">The partitions held; offsets of others are never committed.</param>
    /// <param name="fault">Raised when delivery failed or a commit stays refused; every wait ends when it is raised.</param>
    /// <param name="retryFor">How long a commit may be refused before the host fails.</param>
    /// <param name="log">Where refusals are told.</param>
    /// <param name="step">The step's name, for the log.</param>
    /// <param name="serveMs">How long to serve the consumer between two attempts.</param>
    public OffsetCommitter(Action<List<TopicPartitionOffset>> commit, Action<int, Func<bool>> serve, PartitionAssignment assignment, HostFault fault,
        TimeSpan retryFor, ILogger log, string step, int serveMs = 500)
    {
        _commit = commit;
        _serve = serve;
        _assignment = assignment;
        _fault = fault;
        _retryFor = retryFor;
        _serveMs = serveMs;
        _log = log;
        _step = step;
    }

    /// <summary>True while a produced batch waits for delivery and commit.</summary>
    public bool HasInFlight => _inFlight is not null;

    /// <summary>Takes charge of a batch just produced.</summary>
    /// <exception cref="InvalidOperationException">Another batch is still in flight (a bug of the loop: it would break the one-batch bound).</exception>
    public void Track(InFlightBatch batch)
    {
        if (_inFlight is not null) throw new InvalidOperationException("a batch is produced while the previous one is not committed");
        _inFlight = batch;
    }

    /// <summary>
    /// Waits until the batch in flight is delivered, then commits the offsets of its partitions still held. Returns
    /// that batch once it is settled (committed, or its partitions all gone), null when there was none or the host
    /// failed meanwhile (delivery failed, the commit stayed refused for <see cref="StepHostOptions.CommitRetrySeconds"/>,
    /// or another fatal error): then nothing was committed and <see cref="HostFault.Reason"/> says why.
    /// </summary>
    public InFlightBatch? Complete()
    {
        if (_inFlight is not { } f) return null;
        f.Delivery.Wait(() => _fault.Reason);
        if (_fault.IsRaised) return null;
        if (f.Delivery.Error is { } error)
        {
            _fault.Raise($"delivery failed after librdkafka's retries ({error}); offsets of the batch were not committed");
            return null;
        }
        long deadline = Environment.TickCount64 + (long)_retryFor.TotalMilliseconds;
        int attempt = 0;
        var offsets = new List<TopicPartitionOffset>(f.Offsets.Count);
        while (!_fault.IsRaised)
        {
            // Only partitions still ours: the rebalance callbacks (Release) prune the others.
            offsets.Clear();
            List<TopicPartition>? gone = null;
            foreach (var (tp, offset) in f.Offsets)
            {
                if (_assignment.Contains(tp)) offsets.Add(new TopicPartitionOffset(tp, offset));
                else (gone ??= []).Add(tp);
            }
            if (gone is not null)
            {
                foreach (var tp in gone) f.Offsets.Remove(tp);
            }
            if (offsets.Count == 0) break;
            if (TryCommit(offsets, out var reason))
            {
                f.Offsets.Clear();
                break;
            }
            if (++attempt == 1 || attempt % 20 == 0)
                _log.LogInformation("Step {Step}: commit of a delivered batch refused ({Reason}); serving the rebalance and retrying", _step, reason);
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                _fault.Raise($"offsets of a delivered batch could not be committed within {_retryFor.TotalSeconds:0} s (StepHost:CommitRetrySeconds; {attempt} attempts): {reason}");
                return null;
            }
            // Serve the rebalance for a while before asking again (its callbacks prune f.Offsets); what arrives is
            // kept for the next batch, which is produced only after this one is settled.
            _serve((int)Math.Min(_serveMs, left), () => AllGone(f));
        }
        if (_fault.IsRaised) return null;
        _inFlight = null;
        return f;
    }

    /// <summary>
    /// The rebalance callbacks' share: partitions revoked (cooperative-sticky: still ours while the callback runs) or
    /// lost (another member may own them already). Revoked: the batch in flight is waited for and its offsets of those
    /// partitions committed now, so their new owner starts right after it. Lost: nothing can be committed. Either way
    /// the batch forgets those partitions. Returns how many of its messages came from partitions it could not commit
    /// (the new owner replays them).
    /// </summary>
    public int Release(IReadOnlySet<TopicPartition> partitions, bool lost)
    {
        if (_inFlight is not { } f) return 0;
        if (!lost)
        {
            f.Delivery.Wait(() => _fault.Reason);
            if (!_fault.IsRaised && f.Delivery.Error is null)
            {
                var revoked = new List<TopicPartitionOffset>();
                foreach (var (tp, offset) in f.Offsets)
                {
                    if (partitions.Contains(tp)) revoked.Add(new TopicPartitionOffset(tp, offset));
                }
                if (revoked.Count > 0)
                {
                    if (TryCommit(revoked, out var reason))
                    {
                        foreach (var o in revoked) f.Offsets.Remove(o.TopicPartition);
                    }
                    else
                    {
                        _log.LogWarning("Step {Step}: offsets of revoked partitions not committed ({Reason}); their new owner replays at most this batch", _step, reason);
                    }
                }
            }
        }
        int replayable = 0;
        foreach (var tp in partitions)
        {
            if (f.Offsets.Remove(tp)) replayable += f.CountIn(tp);
        }
        return replayable;
    }

    /// <summary>
    /// The run has ended (stopped or failed): nothing more is committed, not even by the callbacks that closing or
    /// disposing the consumer runs. After a failure, leaving without committing is what at-least-once needs.
    /// </summary>
    public void Abandon() => _inFlight = null;

    private bool AllGone(InFlightBatch f)
    {
        foreach (var tp in f.Offsets.Keys)
        {
            if (_assignment.Contains(tp)) return false;
        }
        return true;
    }

    private bool TryCommit(List<TopicPartitionOffset> offsets, out string? reason)
    {
        try
        {
            _commit(offsets);
            reason = null;
            return true;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            reason = $"{ex.Error.Code}: {ex.Error.Reason}";
            return false;
        }
    }
}

/// <summary>A produced batch: its deliveries and the offsets to commit once they are all delivered.</summary>
internal sealed class InFlightBatch
{
    /// <summary>The batch <paramref name="batch"/>, whose first message was consumed at <paramref name="started"/> (a <see cref="System.Diagnostics.Stopwatch"/> time stamp).</summary>
    public InFlightBatch(IReadOnlyList<ConsumeResult<byte[], byte[]>> batch, long started)
    {
        Started = started;
        foreach (var m in batch)
        {
            // ConsumeResult.TopicPartition makes a new object on every access.
            var tp = m.TopicPartition;
            long next = m.Offset.Value + 1;
            ref var offset = ref CollectionsMarshal.GetValueRefOrAddDefault(Offsets, tp, out bool seen);
            if (!seen || offset.Value < next) offset = new Offset(next);
            CollectionsMarshal.GetValueRefOrAddDefault(InCounts, tp, out _)++;
        }
    }

    /// <summary>When the batch's first message was consumed.</summary>
    public long Started { get; }

    /// <summary>Its outstanding deliveries.</summary>
    public DeliveryTracker Delivery { get; } = new();

    /// <summary>Next offset to commit per partition; partitions revoked or lost are removed.</summary>
    public Dictionary<TopicPartition, Offset> Offsets { get; } = [];

    private Dictionary<TopicPartition, int> InCounts { get; } = [];

    /// <summary>How many of the batch's messages came from <paramref name="tp"/>.</summary>
    public int CountIn(TopicPartition tp) => InCounts.GetValueOrDefault(tp);
}
