using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using static Broker.StepHost.Tests.TestSupport.Consumed;

namespace Broker.StepHost.Tests;

public class OutputWriterTests
{
    private static readonly string Source = BrokerHeaders.SourceHeader("fan");

    /// <summary>
    /// A batch through a writer for step <c>fan</c> (destinations: the default to <c>out</c>, <c>a</c> to
    /// <c>topic.a</c>, <c>b</c> to <c>topic.b</c>), with a replay guard that finds in <c>topic.a</c> the outputs of
    /// inputs 0:1 and 0:5 (not committed) and the key <c>old</c>; what it produced, and its counters.
    /// </summary>
    private static (List<(string Topic, Message<byte[], byte[]> Message)> Produced, StepCountersSnapshot Counters) Write(
        ConsumeResult<byte[], byte[]>[] batch, Prepared[] prepared)
    {
        var table = new DestinationTable("fan", ["a", "b"], d => d == Destination.Default ? "out" : "topic." + d);
        var guard = new ReplayGuard(Source, table.Count);
        var committed = new Dictionary<int, long> { [0] = 1 };
        guard.Remember(1, new Headers { { Source, Bytes("0:1") } }, Bytes("ka"), committed);
        guard.Remember(1, new Headers { { Source, Bytes("0:5") } }, Bytes("k5"), committed);
        guard.Remember(1, new Headers { { Source, Bytes("0:0") } }, Bytes("old"), committed);
        var counters = new StepCounters("fan");
        using var metrics = new StepMetrics(counters);
        var produced = new List<(string, Message<byte[], byte[]>)>();
        var writer = new OutputWriter(table, "in.dlq", guard, counters, metrics, (topic, message, _) => produced.Add((topic, message)), NullLogger.Instance);
        writer.Write(batch, prepared, new InFlightBatch(batch, started: 0));
        return (produced, counters.Snapshot());
    }

    private static EncodedOutput Out(int destination, string value, string key) => new(destination, Bytes(value), Bytes(key));

    private static string? Header(Message<byte[], byte[]> m, string key) => m.Headers.TryGetLastBytes(key, out var v) ? Text(v) : null;

    [Fact]
    public void Outputs_carry_the_input_headers_less_dead_letter_ones_with_this_stage_time_and_source_and_go_to_their_destination_topics()
    {
        var headers = new Headers { { "broker.time.ingest", Bytes("1700000000000000") }, { BrokerHeaders.DeadLetterReason, Bytes("earlier: x") }, { "dlq.step", Bytes("ingest") } };
        ConsumeResult<byte[], byte[]>[] batch = [Message("in", 2, 7, "k", headers: headers)];
        var (produced, _) = Write(batch, [new Prepared(StepOutcome.Emitted, [Out(0, "full", "k"), Out(2, "slim", "k")], null)]);

        Assert.Equal(["out", "topic.b"], produced.Select(p => p.Topic));
        Assert.Equal(["full", "slim"], produced.Select(p => Text(p.Message.Value)));
        foreach (var (_, m) in produced)
        {
            Assert.Equal("k", Text(m.Key));
            Assert.Equal("1700000000000000", Header(m, "broker.time.ingest"));
            Assert.Null(Header(m, BrokerHeaders.DeadLetterReason));
            Assert.Null(Header(m, "dlq.step"));
            Assert.Equal("2:7", Header(m, Source));
            Assert.InRange(BrokerHeaders.ParseNumber(Bytes(Header(m, "broker.time.fan")!))!.Value, BrokerHeaders.NowMicros() - 60_000_000, BrokerHeaders.NowMicros());
        }
    }

    [Fact]
    public void A_dead_letter_keeps_the_original_key_bytes_and_headers_and_says_which_step_why_and_where_from()
    {
        var headers = new Headers { { "broker.time.replay", Bytes("1") }, { BrokerHeaders.DeadLetterReason, Bytes("an older reason") } };
        ConsumeResult<byte[], byte[]>[] batch = [Message("in", 1, 42, "key-1", "original bytes", headers)];
        var (produced, counters) = Write(batch, [new Prepared(StepOutcome.DeadLettered, null, "misrouted: step fan routed a result to the unknown destination 'z'")]);

        var (topic, m) = Assert.Single(produced);
        Assert.Equal("in.dlq", topic);
        Assert.Equal("key-1", Text(m.Key));
        Assert.Equal("original bytes", Text(m.Value));
        Assert.Equal("1", Header(m, "broker.time.replay"));
        Assert.Equal("fan", Header(m, BrokerHeaders.DeadLetterStep));
        Assert.Equal("misrouted: step fan routed a result to the unknown destination 'z'", Header(m, BrokerHeaders.DeadLetterReason));
        Assert.Single(m.Headers, h => h.Key == BrokerHeaders.DeadLetterReason);
        Assert.Equal("in", Header(m, BrokerHeaders.DeadLetterSourceTopic));
        Assert.Equal("1", Header(m, BrokerHeaders.DeadLetterSourcePartition));
        Assert.Equal("42", Header(m, BrokerHeaders.DeadLetterSourceOffset));
        Assert.Equal(1, counters.DeadLettered);
    }

    [Fact]
    public void Replays_and_copies_are_not_produced_again_per_destination_and_every_input_counts_once()
    {
        ConsumeResult<byte[], byte[]>[] batch =
        [
            Message("in", 0, 1),   // a replay in a, new in the default: out
            Message("in", 0, 2),   // a key topic.a holds, from another input: a duplicate
            Message("in", 0, 3),   // a bad input
            Message("in", 1, 0),   // filtered
            Message("in", 1, 1),   // new in b and in a: out
            Message("in", 0, 5),   // its only output a replay: a duplicate, replayed
        ];
        Prepared[] prepared =
        [
            new(StepOutcome.Emitted, [Out(1, "va", "ka"), Out(0, "v0", "k0")], null),
            new(StepOutcome.Emitted, [Out(1, "v", "old")], null),
            new(StepOutcome.DeadLettered, null, "invalid: ra NaN"),
            new(StepOutcome.Filtered, null, StepResult<int>.NoDestination),
            new(StepOutcome.Emitted, [Out(2, "vb", "kb"), Out(1, "va2", "ka2")], null),
            new(StepOutcome.Emitted, [Out(1, "v5", "k5")], null),
        ];
        var (produced, c) = Write(batch, prepared);

        Assert.Equal(["out:k0", "in.dlq:", "topic.b:kb", "topic.a:ka2"], produced.Select(p => $"{p.Topic}:{(p.Message.Key is null ? "" : Text(p.Message.Key))}"));
        Assert.Equal(6, c.In);
        Assert.Equal(2, c.Out);
        Assert.Equal(2, c.Duplicates);
        Assert.Equal(1, c.Replayed);
        Assert.Equal(1, c.DeadLettered);
        Assert.Equal(1, c.Filtered);
        Assert.Equal(c.In, c.Out + c.DeadLettered + c.Duplicates + c.Filtered);
        Assert.Equal(new DestinationCountsSnapshot(Destination.Default, "out", 1, 0, 0), c.For(Destination.Default));
        Assert.Equal(new DestinationCountsSnapshot("a", "topic.a", 1, 3, 2), c.For("a"));
        Assert.Equal(new DestinationCountsSnapshot("b", "topic.b", 1, 0, 0), c.For("b"));
    }
}
