using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.TestSupport;

/// <summary>
/// Puts test messages into a topic and reads a topic back, from the beginning, with Broker's own client settings.
/// Shared by the step-host and integration tests (linked into Broker.IntegrationTests).
/// </summary>
public static class TestTopics
{
    /// <summary>Produces <paramref name="messages"/> to <paramref name="topic"/> and checks that every one was delivered.</summary>
    public static void Produce(string bootstrap, string topic, IEnumerable<Message<byte[], byte[]>> messages)
    {
        using var p = KafkaClients.Producer(KafkaSettings.ForBootstrap(bootstrap));
        foreach (var m in messages) p.Produce(topic, m);
        Assert.Equal(0, p.Flush(TimeSpan.FromSeconds(60)));
    }

    /// <summary>
    /// Client settings for hosts under test: a 6 s session (the mock cluster re-assigns a cleanly departed member's
    /// partitions only after its session times out; librdkafka's default is 45 s).
    /// </summary>
    public static KafkaSettings Kafka(string bootstrap)
    {
        var settings = KafkaSettings.ForBootstrap(bootstrap);
        settings.Consumer["session.timeout.ms"] = "6000";
        settings.Consumer["heartbeat.interval.ms"] = "500";
        return settings;
    }

    /// <summary>
    /// Reads every partition of <paramref name="topic"/> from the beginning until <paramref name="done"/> says so or
    /// <paramref name="patience"/> runs out, whichever is first; the caller checks what arrived. The partitions are
    /// assigned, not subscribed to: joining a group costs about 3 s on the mock cluster.
    /// </summary>
    public static List<ConsumeResult<byte[], byte[]>> Read(
        string bootstrap, string topic, Func<List<ConsumeResult<byte[], byte[]>>, bool> done, TimeSpan patience)
    {
        var settings = KafkaSettings.ForBootstrap(bootstrap);
        var config = KafkaClients.ConsumerConfig(settings, "test-reader-" + Guid.NewGuid().ToString("N"));
        int partitions = KafkaClients.CheckCluster(settings, [topic], TimeSpan.FromSeconds(10))[topic];
        using var c = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        c.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var all = new List<ConsumeResult<byte[], byte[]>>();
        var until = DateTime.UtcNow + patience;
        while (!done(all) && DateTime.UtcNow < until)
        {
            var r = c.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null && !r.IsPartitionEOF) all.Add(r);
        }
        c.Close();
        return all;
    }
}
