using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using static Broker.StepHost.Tests.TestSupport.Consumed;

namespace Broker.StepHost.Tests;

public class OffsetCommitterTests
{
    private static readonly TopicPartition P0 = new("in", 0), P1 = new("in", 1);

    /// <summary>A commit function that refuses its first <paramref name="refusals"/> calls with RebalanceInProgress, then records what it commits.</summary>
    private sealed class FakeCommit(int refusals)
    {
        public int Calls { get; private set; }

        public List<List<TopicPartitionOffset>> Committed { get; } = [];

        public void Commit(List<TopicPartitionOffset> offsets)
        {
            if (++Calls <= refusals) throw new KafkaException(ErrorCode.RebalanceInProgress);
            Committed.Add([.. offsets]);
        }
    }

    private static (OffsetCommitter Committer, PartitionAssignment Assignment, HostFault Fault, List<int> Serves) Committer(
        FakeCommit commit, TimeSpan? retryFor = null, Action<OffsetCommitter, PartitionAssignment>? duringServe = null)
    {
        var assignment = new PartitionAssignment();
        assignment.Add([P0, P1]);
        var fault = new HostFault();
        var serves = new List<int>();
        OffsetCommitter? committer = null;
        committer = new OffsetCommitter(commit.Commit, (ms, settled) =>
        {
            serves.Add(ms);
            duringServe?.Invoke(committer!, assignment);
            Thread.Sleep(Math.Min(ms, 20));
        }, assignment, fault, retryFor ?? TimeSpan.FromSeconds(10), NullLogger.Instance, "test", serveMs: 20);
        return (committer, assignment, fault, serves);
    }

    /// <summary>A batch of three messages of partition 0 (offsets 10..12) and two of partition 1 (offsets 3, 4).</summary>
    private static InFlightBatch Batch() => new(
        [Message("in", 0, 10), Message("in", 1, 3), Message("in", 0, 11), Message("in", 0, 12), Message("in", 1, 4)], started: 0);

    private static Dictionary<int, long> ByPartition(List<TopicPartitionOffset> offsets) => offsets.ToDictionary(o => o.Partition.Value, o => o.Offset.Value);

    [Fact]
    public void A_commit_refused_during_a_rebalance_is_retried_after_serving_it_then_succeeds()
    {
        var commit = new FakeCommit(refusals: 2);
        var (committer, _, fault, serves) = Committer(commit);
        var batch = Batch();
        committer.Track(batch);
        Assert.True(committer.HasInFlight);

        Assert.Same(batch, committer.Complete());
        Assert.Null(fault.Reason);
        Assert.False(committer.HasInFlight);
        Assert.Equal(3, commit.Calls);
        Assert.Equal(2, serves.Count);
        // The next offset after each partition's last message.
        Assert.Equal(new Dictionary<int, long> { [0] = 13, [1] = 5 }, ByPartition(Assert.Single(commit.Committed)));
    }

    [Fact]
    public void A_commit_refused_for_longer_than_the_retry_time_is_fatal_within_that_time()
    {
        var commit = new FakeCommit(refusals: int.MaxValue);
        var (committer, _, fault, serves) = Committer(commit, TimeSpan.FromSeconds(1));
        committer.Track(Batch());
        Assert.Null(committer.Complete());
        Assert.NotNull(fault.Reason);
        Assert.StartsWith("offsets of a delivered batch could not be committed within 1 s (StepHost:CommitRetrySeconds;", fault.Reason);
        Assert.Contains("RebalanceInProgress", fault.Reason);
        Assert.Empty(commit.Committed);
        Assert.True(serves.Count >= 2);
    }

    [Fact]
    public void Partitions_revoked_while_a_commit_is_retried_are_not_committed_by_it()
    {
        var commit = new FakeCommit(refusals: 1);
        // The rebalance served between the two attempts revokes partition 1, whose offsets its callback commits.
        var (committer, assignment, fault, _) = Committer(commit, duringServe: (c, a) =>
        {
            if (!a.Contains(P1)) return;
            Assert.Equal(0, c.Release(new HashSet<TopicPartition> { P1 }, lost: false));
            a.Remove([P1]);
        });
        committer.Track(Batch());

        Assert.NotNull(committer.Complete());
        Assert.Null(fault.Reason);
        Assert.Equal(2, commit.Committed.Count);
        Assert.Equal(new Dictionary<int, long> { [1] = 5 }, ByPartition(commit.Committed[0]));
        Assert.Equal(new Dictionary<int, long> { [0] = 13 }, ByPartition(commit.Committed[1]));
    }

    [Fact]
    public void Lost_partitions_are_not_committed_and_their_messages_are_counted_as_replayable()
    {
        var commit = new FakeCommit(refusals: 0);
        var (committer, assignment, _, _) = Committer(commit);
        committer.Track(Batch());

        Assert.Equal(3, committer.Release(new HashSet<TopicPartition> { P0 }, lost: true));
        assignment.Remove([P0]);
        Assert.Empty(commit.Committed);
        Assert.NotNull(committer.Complete());
        Assert.Equal(new Dictionary<int, long> { [1] = 5 }, ByPartition(Assert.Single(commit.Committed)));
    }

    [Fact]
    public void A_batch_whose_partitions_all_went_is_settled_without_a_commit()
    {
        var commit = new FakeCommit(refusals: 0);
        var (committer, assignment, fault, _) = Committer(commit);
        committer.Track(Batch());
        Assert.Equal(5, committer.Release(new HashSet<TopicPartition> { P0, P1 }, lost: true));
        assignment.Remove([P0, P1]);

        Assert.NotNull(committer.Complete());
        Assert.Null(fault.Reason);
        Assert.Equal(0, commit.Calls);
    }

    [Fact]
    public void A_failed_delivery_is_fatal_and_nothing_is_committed()
    {
        var commit = new FakeCommit(refusals: 0);
        var (committer, _, fault, _) = Committer(commit);
        var batch = Batch();
        batch.Delivery.Add();
        batch.Delivery.Report(new DeliveryReport<byte[], byte[]> { Error = new Error(ErrorCode.Local_MsgTimedOut), TopicPartitionOffset = new TopicPartitionOffset("out", 0, -1) });
        committer.Track(batch);

        Assert.Null(committer.Complete());
        Assert.StartsWith("delivery failed after librdkafka's retries (out: Local_MsgTimedOut", fault.Reason);
        Assert.Equal(0, commit.Calls);
    }

    [Fact]
    public void After_the_run_ends_no_callback_commits_and_a_second_batch_cannot_be_produced_before_the_first_is_settled()
    {
        var commit = new FakeCommit(refusals: 0);
        var (committer, _, _, _) = Committer(commit);
        committer.Track(Batch());
        Assert.Throws<InvalidOperationException>(() => committer.Track(Batch()));

        committer.Abandon();
        Assert.Equal(0, committer.Release(new HashSet<TopicPartition> { P0, P1 }, lost: false));
        Assert.Null(committer.Complete());
        Assert.Equal(0, commit.Calls);
    }
}
