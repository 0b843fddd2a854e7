using Broker.StepHost;
using Confluent.Kafka;
using static Broker.StepHost.Tests.TestSupport.Consumed;

namespace Broker.StepHost.Tests;

public class ReplayGuardTests
{
    private static readonly string Source = BrokerHeaders.SourceHeader("fan");

    private static Headers From(string position) => new() { { Source, Bytes(position) } };

    /// <summary>
    /// The tails of two destinations as an earlier instance left them, with the group's committed offsets of the
    /// input: partition 0 committed up to 5, partition 1 never committed.
    /// </summary>
    private static ReplayGuard Guard()
    {
        var committed = new Dictionary<int, long> { [0] = 5 };
        var guard = new ReplayGuard(Source, 2);
        (int Destination, string? Position, string Key)[] tails =
        [
            (0, "0:5", "a"),   // uncommitted input: a replay if consumed again
            (0, "0:4", "b"),   // committed: only its key is remembered
            (0, "1:0", "c"),   // a partition never committed: uncommitted
            (0, null, "d"),    // no source header
            (0, "x:y", "e"),   // a malformed one
            (1, "0:6", "f"),   // the other destination has its own tail
            (0, "0:7", new string('k', 100)),
        ];
        foreach (var (d, position, key) in tails) guard.Remember(d, position is null ? null : From(position), Bytes(key), committed);
        return guard;
    }

    [Theory]
    [InlineData(0, 0, 5, "a", "Replay")]
    [InlineData(0, 0, 4, "b", "Duplicate")]
    [InlineData(0, 0, 9, "b", "Duplicate")]
    [InlineData(0, 1, 0, "c", "Replay")]
    [InlineData(0, 3, 3, "d", "Duplicate")]
    [InlineData(0, 3, 3, "e", "Duplicate")]
    [InlineData(0, 0, 6, "new", "Produce")]
    [InlineData(0, 0, 6, null, "Produce")]
    [InlineData(1, 0, 5, "a", "Produce")]
    [InlineData(1, 0, 6, "f", "Replay")]
    [InlineData(1, 1, 0, "c", "Produce")]
    public void Each_destination_decides_from_its_own_tail_and_the_committed_offsets(int destination, int partition, long offset, string? key, string expected)
    {
        Assert.Equal(Enum.Parse<ReplayDecision>(expected), Guard().Check(destination, partition, offset, key is null ? null : Bytes(key)));
    }

    [Fact]
    public void A_replay_is_reported_once_then_its_key_makes_later_copies_duplicates()
    {
        var guard = Guard();
        Assert.Equal(3, guard.Uncommitted(0));
        Assert.Equal(1, guard.Uncommitted(1));
        Assert.Equal(6, guard.Keys(0));
        Assert.Equal(ReplayDecision.Replay, guard.Check(0, 0, 5, Bytes("a")));
        Assert.Equal(2, guard.Uncommitted(0));
        Assert.Equal(ReplayDecision.Duplicate, guard.Check(0, 0, 5, Bytes("a")));
    }

    [Fact]
    public void Keys_longer_than_the_stack_buffer_are_found_too()
    {
        Assert.Equal(ReplayDecision.Duplicate, Guard().Check(0, 2, 2, Bytes(new string('k', 100))));
        Assert.Equal(ReplayDecision.Produce, Guard().Check(0, 2, 2, Bytes(new string('k', 99))));
    }

    [Fact]
    public void An_empty_guard_produces_everything()
    {
        var guard = new ReplayGuard(Source, 3);
        for (int d = 0; d < 3; d++) Assert.Equal(ReplayDecision.Produce, guard.Check(d, 0, 0, Bytes("a")));
    }
}
