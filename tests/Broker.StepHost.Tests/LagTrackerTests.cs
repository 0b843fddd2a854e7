using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.StepHost.Tests;

public class LagTrackerTests
{
    private static readonly TopicPartition P0 = new("in", 0), P1 = new("in", 1);

    /// <summary>Positions, ends and committed offsets set by the test; a partition in <see cref="Moving"/> throws as during a rebalance.</summary>
    private sealed class FakeOffsets : IPartitionOffsets
    {
        public Dictionary<TopicPartition, long> Positions { get; } = [];
        public Dictionary<TopicPartition, (long Low, long High)> Ends { get; } = [];
        public Dictionary<TopicPartition, long> CommittedOffsets { get; } = [];
        public HashSet<TopicPartition> Moving { get; } = [];
        public int CommittedAsked { get; private set; }
        public int EndsAsked { get; private set; }

        public long Position(TopicPartition partition) => Moving.Contains(partition) ? throw new KafkaException(ErrorCode.Local_State) : Positions.GetValueOrDefault(partition, -1001);

        public long CachedEnd(TopicPartition partition) => Ends.TryGetValue(partition, out var e) ? e.High : -1001;

        public IEnumerable<(TopicPartition Partition, long Offset)> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout)
        {
            foreach (var p in partitions)
            {
                CommittedAsked++;
                if (Moving.Contains(p)) throw new KafkaException(ErrorCode.Local_TimedOut);
                yield return (p, CommittedOffsets.GetValueOrDefault(p, -1001));
            }
        }

        public (long Low, long High) QueryEnds(TopicPartition partition, TimeSpan timeout)
        {
            EndsAsked++;
            return Ends[partition];
        }
    }

    private static (LagTracker Lag, FakeOffsets Offsets, PartitionAssignment Assignment, StepCounters Counters) Tracker(string autoOffsetReset = "earliest")
    {
        var offsets = new FakeOffsets();
        var assignment = new PartitionAssignment();
        var counters = new StepCounters("test");
        return (new LagTracker(offsets, assignment, counters, new StepMetrics(counters), autoOffsetReset), offsets, assignment, counters);
    }

    [Fact]
    public void Holding_nothing_is_no_lag()
    {
        var (lag, _, _, counters) = Tracker();
        lag.Update();
        Assert.Equal(0, counters.Lag);
    }

    [Fact]
    public void Lag_sums_what_is_behind_the_position_and_partitions_not_consumed_yet_from_their_committed_offset()
    {
        var (lag, offsets, assignment, counters) = Tracker();
        assignment.Add([P0, P1]);
        offsets.Positions[P0] = 5;
        offsets.Ends[P0] = (0, 12);
        offsets.CommittedOffsets[P1] = 3;
        offsets.Ends[P1] = (0, 10);
        lag.Update();
        Assert.Equal(7 + 7, counters.Lag);
    }

    [Theory]
    [InlineData("earliest", 8)]
    [InlineData("latest", 0)]
    public void A_partition_without_a_committed_offset_counts_from_where_auto_offset_reset_starts(string reset, long expected)
    {
        var (lag, offsets, assignment, counters) = Tracker(reset);
        assignment.Add([P1]);
        offsets.Ends[P1] = (2, 10);
        lag.Update();
        Assert.Equal(expected, counters.Lag);
    }

    [Fact]
    public void Lag_that_cannot_be_known_is_minus_one_and_a_refresh_within_a_second_asks_nothing()
    {
        var (lag, offsets, assignment, counters) = Tracker();
        assignment.Add([P0, P1]);
        offsets.Moving.Add(P0);
        offsets.Moving.Add(P1);
        lag.Refresh();
        Assert.Equal(-1, counters.Lag);

        offsets.Moving.Clear();
        offsets.Positions[P0] = 1;
        offsets.Ends[P0] = (0, 2);
        offsets.Positions[P1] = 1;
        offsets.Ends[P1] = (0, 2);
        lag.Refresh();
        Assert.Equal(-1, counters.Lag);
        lag.Update();
        Assert.Equal(2, counters.Lag);
    }

    [Fact]
    public void A_partition_not_consumed_from_is_asked_of_the_cluster_at_most_every_ten_seconds_and_its_committed_offset_once()
    {
        // Found by the load harness: with 64 idle partitions the loop made 65 blocking requests a second.
        var (lag, offsets, assignment, counters) = Tracker();
        assignment.Add([P0, P1]);
        offsets.CommittedOffsets[P0] = 3;
        offsets.Ends[P0] = (0, 10);
        offsets.CommittedOffsets[P1] = 4;
        offsets.Ends[P1] = (0, 10);
        lag.Update();
        lag.Update();
        lag.Update();
        Assert.Equal(7 + 6, counters.Lag);
        Assert.Equal(2, offsets.CommittedAsked);
        Assert.Equal(2, offsets.EndsAsked);

        // Consuming from one partition: its lag is the client's own again, the other's stays cached.
        offsets.Positions[P0] = 8;
        lag.Update();
        Assert.Equal(2 + 6, counters.Lag);
        Assert.Equal(2, offsets.EndsAsked);
    }
}
