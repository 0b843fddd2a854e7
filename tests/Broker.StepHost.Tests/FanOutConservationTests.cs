using System.Globalization;
using System.Text;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.StepHost.Tests;

/// <summary>
/// Routes each int to 0..3 of three named destinations and sometimes to the default, each with a value of its own:
/// <c>fan.a</c> gets v when v is even, <c>fan.b</c> gets v + 100000 when v is a multiple of 3, <c>fan.c</c> gets
/// v + 200000 when a multiple of 5, the default gets v + 300000 when a multiple of 7; none of these: filtered. A
/// multiple of 11 is routed to a destination it never declared (a step bug: dead-lettered).
/// </summary>
internal sealed class FanOutStep : IStep<int, int>, IRoutingStep
{
    public const string A = "fan.a", B = "fan.b", C = "fan.c";

    public string Name => "fan";

    public IReadOnlyCollection<string> Destinations => [A, B, C];

    /// <summary>Where <paramref name="v"/> goes and with what value (none for a multiple of 11, which is misrouted).</summary>
    public static IEnumerable<(string Destination, int Value)> Routes(int v)
    {
        if (v % 11 == 0) yield break;
        if (v % 2 == 0) yield return (A, v);
        if (v % 3 == 0) yield return (B, v + 100_000);
        if (v % 5 == 0) yield return (C, v + 200_000);
        if (v % 7 == 0) yield return (Destination.Default, v + 300_000);
    }

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<int>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            int v = batch[i];
            results[i] = v % 11 == 0
                ? StepResult<int>.Route(Destination.To("fan.z", v))
                : StepResult<int>.Route([.. Routes(v).Select(r => Destination.To(r.Destination, r.Value))]);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(results);
    }
}

public class FanOutConservationTests
{
    private const string Input = "in", Output = "out";
    private static readonly string[] Topics = [Input, Input + ".dlq", Output, FanOutStep.A, FanOutStep.B, FanOutStep.C];

    /// <summary>Every destination topic, with the output keys it must hold: the values routed there.</summary>
    private static Dictionary<string, HashSet<string>> Expected(IEnumerable<int> inputs)
    {
        var expected = new[] { Output, FanOutStep.A, FanOutStep.B, FanOutStep.C }.ToDictionary(t => t, _ => new HashSet<string>());
        foreach (int v in inputs)
        {
            foreach (var (d, value) in FanOutStep.Routes(v)) expected[d == Destination.Default ? Output : d].Add(Text(value));
        }
        return expected;
    }

    private static string Text(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static StepHostOptions Options(int commitRetrySeconds = 30) => new()
    {
        InputTopic = Input, OutputTopic = Output, BatchSize = 50, BatchWaitMs = 20, StartupTimeoutSeconds = 5, MetricsIntervalSeconds = 0,
        CommitRetrySeconds = commitRetrySeconds,
    };

    private static KafkaStepHost<int, int> Host(string bootstrap, int commitRetrySeconds = 30) =>
        new(new FanOutStep(), new IntCodec(), new IntCodec(), Options(commitRetrySeconds), TestTopics.Kafka(bootstrap), NullLogger.Instance);

    private static void AssertConserved(StepCountersSnapshot c)
    {
        Assert.Equal(c.In, c.Out + c.DeadLettered + c.Duplicates + c.Filtered);
        Assert.InRange(c.Replayed, 0, c.Duplicates);
    }

    /// <summary>Each destination topic holds exactly its expected keys, each once.</summary>
    private static void AssertTopicsHold(string bootstrap, Dictionary<string, HashSet<string>> expected)
    {
        foreach (var (topic, keys) in expected)
        {
            long count = MessagesIn(bootstrap, topic);
            var held = TestTopics.Read(bootstrap, topic, l => l.Count >= count, TimeSpan.FromSeconds(30)).Select(m => Encoding.UTF8.GetString(m.Message.Key)).ToList();
            Assert.Equal(count, held.Count);
            Assert.True(held.Count == held.Distinct().Count(), $"{topic} holds {held.Count - held.Distinct().Count()} outputs twice");
            Assert.Equal(keys.Order(), held.Order());
        }
    }

    /// <summary>How many messages a topic holds (from its partitions' first and end offsets).</summary>
    private static long MessagesIn(string bootstrap, string topic)
    {
        var settings = KafkaSettings.ForBootstrap(bootstrap);
        int partitions = KafkaClients.CheckCluster(settings, [topic], TimeSpan.FromSeconds(10))[topic];
        using var c = new ConsumerBuilder<byte[], byte[]>(KafkaClients.ConsumerConfig(settings, "count-" + Guid.NewGuid().ToString("N"))).SetLogHandler((_, _) => { }).Build();
        long n = 0;
        for (int p = 0; p < partitions; p++)
        {
            var w = c.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            n += w.High.Value - w.Low.Value;
        }
        return n;
    }

    [Fact]
    public async Task Every_destination_topic_holds_its_outputs_once_after_a_stop_that_delivered_a_batch_without_committing_it()
    {
        using var cluster = new MockCluster();
        foreach (var t in Topics) cluster.CreateTopic(t, 3);
        var values = Enumerable.Range(1, 400).ToList();
        var messages = values.Select(v => Encoding.UTF8.GetBytes(Text(v))).ToList();
        // Three undecodable messages: dead letters before the step.
        messages.Insert(100, Encoding.UTF8.GetBytes("one"));
        messages.Insert(250, Encoding.UTF8.GetBytes("two"));
        messages.Insert(390, Encoding.UTF8.GetBytes("three"));
        TestTopics.Produce(cluster.Bootstrap, Input, messages.Select((v, i) => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(Text(i)), Value = v }));

        // The first instance: once 150 inputs are committed, the cluster refuses every commit (REBALANCE_IN_PROGRESS).
        // The next batch is delivered to its destinations, its commit is retried for StepHost:CommitRetrySeconds, and
        // the host fails: a batch delivered and not committed, as a SIGKILL between delivery and commit leaves it.
        var first = Host(cluster.Bootstrap, commitRetrySeconds: 1);
        long committed = 0;
        first.BatchCompleted += s =>
        {
            committed = s.In;
            if (s.In >= 150) cluster.PushRequestErrors(8, 27, 100);
        };
        var failing = first.RunAsync(CancellationToken.None);
        Assert.Same(failing, await Task.WhenAny(failing, Task.Delay(TimeSpan.FromMinutes(1))));
        var fatal = await Assert.ThrowsAsync<StepException>(() => failing);
        cluster.ClearRequestErrors(8);
        Assert.Equal(FailureKind.Fatal, fatal.Kind);
        Assert.Contains("could not be committed within 1 s (StepHost:CommitRetrySeconds", fatal.Message);
        Assert.Equal(StepServiceState.Failed, first.State);
        var c1 = first.Counters.Snapshot();
        AssertConserved(c1);
        Assert.InRange(c1.In - committed, 1, 50);

        // The restarted instance replays that batch: outputs already in a destination are not produced again there.
        var c2 = await HostRuns.RunUntilAsync(Host(cluster.Bootstrap), messages.Count - committed);
        AssertConserved(c2);
        Assert.Equal(messages.Count - committed, c2.In);
        Assert.True(c2.Replayed > 0, "the replayed batch was not recognised");
        Assert.True(c2.Destinations!.Sum(d => d.Replayed) >= c2.Replayed);

        var expected = Expected(values);
        AssertTopicsHold(cluster.Bootstrap, expected);
        // Per destination, what the two instances produced is what the topic holds.
        foreach (var topic in expected.Keys)
        {
            long produced = c1.Destinations!.Single(d => d.Topic == topic).Out + c2.Destinations!.Single(d => d.Topic == topic).Out;
            Assert.Equal(expected[topic].Count, produced);
        }
        // Dead letters: the undecodable and the misrouted, each input position at least once (the replayed batch's
        // dead letters are sent again: they carry their source position).
        var dead = TestTopics.Read(cluster.Bootstrap, Input + ".dlq", l => l.Count >= c1.DeadLettered + c2.DeadLettered, TimeSpan.FromSeconds(30));
        int misrouted = values.Count(v => v % 11 == 0);
        Assert.Equal(misrouted + 3, dead.Select(m => Encoding.UTF8.GetString(m.Message.Key)).Distinct().Count());
        Assert.All(dead.Where(m => !"one two three".Contains(Encoding.UTF8.GetString(m.Message.Value), StringComparison.Ordinal)), m =>
            Assert.StartsWith("misrouted: step fan routed a result to the unknown destination 'fan.z'", Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterReason))));
    }

    [Fact]
    public async Task A_replayed_input_is_not_produced_again_where_it_was_delivered_and_still_reaches_its_other_destinations()
    {
        using var cluster = new MockCluster();
        foreach (var t in Topics) cluster.CreateTopic(t, 3);
        var values = Enumerable.Range(1, 120).ToList();
        TestTopics.Produce(cluster.Bootstrap, Input, values.Select(v => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(Text(v)), Value = Encoding.UTF8.GetBytes(Text(v)) }));
        var positions = TestTopics.Read(cluster.Bootstrap, Input, l => l.Count >= values.Count, TimeSpan.FromSeconds(30))
            .ToDictionary(m => int.Parse(Encoding.UTF8.GetString(m.Message.Value), CultureInfo.InvariantCulture), m => BrokerHeaders.Position(m.Partition.Value, m.Offset.Value));
        // What an instance killed mid-delivery leaves: the outputs to fan.a of inputs 1..40 delivered, those to the
        // other destinations not, and no offset committed.
        var leftovers = values.Where(v => v <= 40).SelectMany(v => FanOutStep.Routes(v).Where(r => r.Destination == FanOutStep.A).Select(r => (v, r.Value))).ToList();
        TestTopics.Produce(cluster.Bootstrap, FanOutStep.A, leftovers.Select(l => new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(Text(l.Value)), Value = Encoding.UTF8.GetBytes(Text(l.Value)),
            Headers = new Headers { { BrokerHeaders.SourceHeader("fan"), positions[l.v] } },
        }));

        var c = await HostRuns.RunUntilAsync(Host(cluster.Bootstrap), values.Count);
        AssertConserved(c);
        var a = c.For(FanOutStep.A)!;
        Assert.Equal(leftovers.Count, a.Replayed);
        Assert.Equal(leftovers.Count, a.Duplicates);
        Assert.Equal(0, c.Destinations!.Where(d => d.Destination != FanOutStep.A).Sum(d => d.Duplicates));
        // An input whose only output was the replayed one is a duplicate (and replayed); one with other outputs is out.
        int onlyA = leftovers.Count(l => FanOutStep.Routes(l.v).Count() == 1);
        Assert.Equal(onlyA, c.Replayed);
        Assert.Equal(onlyA, c.Duplicates);
        AssertTopicsHold(cluster.Bootstrap, Expected(values));
    }
}
