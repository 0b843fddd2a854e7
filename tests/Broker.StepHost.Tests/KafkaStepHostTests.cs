using System.Text;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.StepHost.Tests;

/// <summary>Encodes ints as decimal text; keys are the value itself.</summary>
internal sealed class IntCodec : IMessageCodec<int>
{
    public int Decode(byte[] value) => int.Parse(Encoding.UTF8.GetString(value), System.Globalization.CultureInfo.InvariantCulture);

    public byte[] Encode(int value) => Encoding.UTF8.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string? KeyOf(int value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public class KafkaStepHostTests
{
    private static StepHostOptions Options(string input, string output) => new()
    {
        InputTopic = input, OutputTopic = output, BatchSize = 50, BatchWaitMs = 20, StartupTimeoutSeconds = 3, MetricsIntervalSeconds = 0,
    };

    private static void Produce(string bootstrap, string topic, IEnumerable<byte[]> values) =>
        TestTopics.Produce(bootstrap, topic, values.Select(v => new Message<byte[], byte[]> { Value = v }));

    [Fact]
    public async Task Outputs_and_dead_letters_reach_their_topics_with_keys_and_headers_and_offsets_are_committed()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out" }) cluster.CreateTopic(t, 3);
        var values = Enumerable.Range(1, 300).Select(i => Encoding.UTF8.GetBytes(i % 50 == 0 ? "not a number" : i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        Produce(cluster.Bootstrap, "in", values);

        var host = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options("in", "out"), TestTopics.Kafka(cluster.Bootstrap), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        host.BatchCompleted += s => { if (s.In >= 300) stop.Cancel(); };
        await host.RunAsync(stop.Token);

        var c = host.Counters;
        Assert.Equal(300, c.In);
        Assert.Equal(c.In, c.Out + c.DeadLettered + c.Duplicates + c.Filtered);
        Assert.Equal(6, c.DeadLettered);

        var outputs = TestTopics.Read(cluster.Bootstrap, "out", l => l.Count >= c.Out, TimeSpan.FromSeconds(30));
        Assert.Equal(c.Out, outputs.Count);
        Assert.All(outputs, m =>
        {
            Assert.Equal(Encoding.UTF8.GetString(m.Message.Key), Encoding.UTF8.GetString(m.Message.Value));
            Assert.NotNull(BrokerHeaders.ParseNumber(m.Message.Headers.GetLastBytes("broker.time.parity")));
        });
        var dead = TestTopics.Read(cluster.Bootstrap, "in.dlq", l => l.Count >= 6, TimeSpan.FromSeconds(30));
        Assert.Equal(6, dead.Count);
        Assert.All(dead, m =>
        {
            Assert.Equal("not a number", Encoding.UTF8.GetString(m.Message.Value));
            Assert.Equal("parity", Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterStep)));
            Assert.StartsWith("undecodable input", Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterReason)));
            Assert.Equal("in", Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterSourceTopic)));
            Assert.NotNull(BrokerHeaders.ParseNumber(m.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterSourceOffset)));
        });

        // A second run of the same group finds nothing left: the offsets were committed.
        var again = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options("in", "out"), TestTopics.Kafka(cluster.Bootstrap), NullLogger.Instance);
        Produce(cluster.Bootstrap, "in", [Encoding.UTF8.GetBytes("2")]);
        using var stop2 = new CancellationTokenSource();
        again.BatchCompleted += _ => stop2.Cancel();
        await again.RunAsync(stop2.Token);
        Assert.Equal(1, again.Counters.In);
    }

    [Fact]
    public async Task An_unreachable_bootstrap_fails_fast_with_one_clear_message()
    {
        var host = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options("in", "out"), KafkaSettings.ForBootstrap("127.0.0.1:1"), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.StartsWith("cannot reach Kafka at 127.0.0.1:1", ex.Message);
    }

    [Fact]
    public async Task A_missing_topic_fails_fast_naming_the_topic()
    {
        using var cluster = new MockCluster();
        cluster.CreateTopic("in", 1);
        var host = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options("in", "out"), TestTopics.Kafka(cluster.Bootstrap), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("topics out, in.dlq not found", ex.Message);
    }

    [Fact]
    public async Task A_bad_librdkafka_setting_fails_before_connecting()
    {
        var kafka = KafkaSettings.ForBootstrap("127.0.0.1:1");
        kafka.Consumer["session.timeout.ms"] = "forever";
        var host = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options("in", "out"), kafka, NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("session.timeout.ms", ex.Message);
    }

    private static byte[] Text(int value) => Encoding.UTF8.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Task<StepCountersSnapshot> RunUntil(string bootstrap, long inputs) => HostRuns.RunUntilAsync(
        new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options("in", "out"), TestTopics.Kafka(bootstrap), NullLogger.Instance), inputs);

    [Fact]
    public async Task Outputs_delivered_by_an_instance_that_died_before_committing_are_counted_as_replays_not_sent_again()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out" }) cluster.CreateTopic(t, 3);
        Produce(cluster.Bootstrap, "in", Enumerable.Range(1, 120).Select(Text));
        var positions = TestTopics.Read(cluster.Bootstrap, "in", l => l.Count >= 120, TimeSpan.FromSeconds(30))
            .ToDictionary(m => Encoding.UTF8.GetString(m.Message.Value), m => BrokerHeaders.Position(m.Partition.Value, m.Offset.Value));
        // What a SIGKILLed instance leaves behind: the outputs of its first batch (ParityStep emits 10 x each even
        // number, keyed by value: 20..400 for 2..40), each naming the input position it came from, delivered, and no
        // offset committed.
        var delivered = new List<Message<byte[], byte[]>>();
        for (int i = 2; i <= 40; i += 2)
        {
            var text = Text(i * 10);
            var headers = new Headers { { BrokerHeaders.SourceHeader("parity"), positions[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] } };
            delivered.Add(new Message<byte[], byte[]> { Key = text, Value = text, Headers = headers });
        }
        TestTopics.Produce(cluster.Bootstrap, "out", delivered);

        var c = await RunUntil(cluster.Bootstrap, 120);
        Assert.Equal(120, c.In);
        Assert.Equal(20, c.Replayed);
        Assert.Equal(20, c.Duplicates);
        Assert.Equal(c.In, c.Out + c.DeadLettered + c.Duplicates + c.Filtered);
        var outputs = TestTopics.Read(cluster.Bootstrap, "out", l => l.Count >= 60, TimeSpan.FromSeconds(30));
        var keys = outputs.Select(m => Encoding.UTF8.GetString(m.Message.Key)).ToList();
        Assert.Equal(60, keys.Count);
        Assert.Equal(keys.Count, keys.Distinct().Count());
        // Every output names the input position it came from.
        Assert.All(outputs, m => Assert.NotNull(BrokerHeaders.ParsePosition(m.Message.Headers.GetLastBytes(BrokerHeaders.SourceHeader("parity")))));
    }

    [Fact]
    public async Task Alerts_sent_again_as_new_input_after_a_restart_are_duplicates_not_replays()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out" }) cluster.CreateTopic(t, 3);
        Produce(cluster.Bootstrap, "in", Enumerable.Range(1, 60).Select(Text));
        var first = await RunUntil(cluster.Bootstrap, 60);
        Assert.Equal(30, first.Out);

        // Upstream sends 2..20 again (new messages at new offsets) with 61..80: the copies are duplicates.
        Produce(cluster.Bootstrap, "in", Enumerable.Range(1, 10).Select(i => Text(2 * i)).Concat(Enumerable.Range(61, 20).Select(Text)));
        var second = await RunUntil(cluster.Bootstrap, 30);
        Assert.Equal(30, second.In);
        Assert.Equal(0, second.Replayed);
        Assert.Equal(10, second.Duplicates);
        Assert.Equal(10, second.Out);
        var keys = TestTopics.Read(cluster.Bootstrap, "out", l => l.Count >= 40, TimeSpan.FromSeconds(30)).Select(m => Encoding.UTF8.GetString(m.Message.Key)).ToList();
        Assert.Equal(40, keys.Count);
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void The_mock_cluster_serves_the_topology_it_was_given()
    {
        using var cluster = new MockCluster();
        string[] topology = ["in", StepHostOptions.DeadLetterOf("in"), "out"];
        cluster.CreateTopics(topology, 5);
        var topics = KafkaClients.ListTopics(KafkaSettings.ForBootstrap(cluster.Bootstrap), TimeSpan.FromSeconds(10));
        foreach (var t in topology) Assert.Equal(5, topics[t]);
        Assert.StartsWith("127.0.0.1:", cluster.Bootstrap);
    }
}
