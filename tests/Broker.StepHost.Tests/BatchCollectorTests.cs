using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using static Broker.StepHost.Tests.TestSupport.Consumed;

namespace Broker.StepHost.Tests;

public class BatchCollectorTests
{
    private static readonly TopicPartition P0 = new("in", 0), P1 = new("in", 1);

    /// <summary>A consumer that hands out <paramref name="script"/> in order (null: nothing within the wait; a string: a consume error), then nothing.</summary>
    private static Func<int, ConsumeResult<byte[], byte[]>?> Consumer(params object?[] script)
    {
        var queue = new Queue<object?>(script);
        return wait =>
        {
            if (queue.TryDequeue(out var next))
            {
                if (next is string error) throw new ConsumeException(new ConsumeResult<byte[], byte[]>(), new Error(ErrorCode.Local_BadMsg, error));
                return (ConsumeResult<byte[], byte[]>?)next;
            }
            Thread.Sleep(Math.Min(wait, 5));
            return null;
        };
    }

    private static (BatchCollector Collector, PartitionAssignment Assignment) Collector(Func<int, ConsumeResult<byte[], byte[]>?> consume, int size = 4, int waitMs = 50)
    {
        var assignment = new PartitionAssignment();
        assignment.Add([P0, P1]);
        return (new BatchCollector(consume, assignment, new HostFault(), size, waitMs, NullLogger.Instance), assignment);
    }

    private static long[] Offsets(ConsumeResult<byte[], byte[]>[] batch) => [.. batch.Select(m => m.Offset.Value)];

    [Fact]
    public void A_batch_is_full_at_its_size_and_the_rest_waits_for_the_next()
    {
        var (collector, _) = Collector(Consumer([.. Enumerable.Range(0, 6).Select(i => (object?)Message("in", 0, i))]));
        Assert.True(collector.Collect(200, CancellationToken.None));
        Assert.Equal([0, 1, 2, 3], Offsets(collector.Take()));
        Assert.Equal(0, collector.Count);
        Assert.True(collector.Collect(200, CancellationToken.None));
        Assert.Equal([4, 5], Offsets(collector.Take()));
    }

    [Fact]
    public void A_batch_closes_when_its_wait_is_over_and_nothing_in_hand_means_no_batch()
    {
        var (collector, _) = Collector(Consumer(Message("in", 0, 0), null, Message("in", 1, 0)), waitMs: 30);
        Assert.True(collector.Collect(0, CancellationToken.None));
        Assert.Equal(2, collector.Take().Length);
        Assert.False(collector.Collect(0, CancellationToken.None));
    }

    [Fact]
    public void Messages_of_partitions_not_held_and_consume_errors_are_skipped()
    {
        var (collector, _) = Collector(Consumer(Message("in", 2, 0), "bad message", Message("in", 0, 9), Message("in", 2, 1)), size: 2);
        Assert.True(collector.Collect(0, CancellationToken.None));
        var batch = collector.Take();
        Assert.Equal([9], Offsets(batch));
    }

    [Fact]
    public void Messages_served_while_a_commit_is_retried_are_kept_and_those_of_revoked_partitions_dropped()
    {
        var (collector, assignment) = Collector(Consumer(Message("in", 0, 1), Message("in", 1, 1), Message("in", 0, 2), Message("in", 1, 2)));
        int calls = 0;
        collector.Serve(1000, () => ++calls == 3);
        Assert.Equal(3, collector.Count);

        Assert.Equal(1, collector.Drop(new HashSet<TopicPartition> { P1 }));
        assignment.Remove([P1]);
        Assert.True(collector.Collect(0, CancellationToken.None));
        Assert.Equal(["0:1", "0:2"], collector.Take().Select(m => $"{m.Partition.Value}:{m.Offset.Value}"));
    }
}
