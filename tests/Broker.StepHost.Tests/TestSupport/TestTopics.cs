using Confluent.Kafka;

namespace Broker.StepHost.Tests.TestSupport;

/// <summary>
/// Puts test messages into a topic and reads a topic back, from the beginning, with Broker's own client settings.
/// Shared by the step-host and integration tests (linked into Broker.IntegrationTests).
/// </summary>
internal static class TestTopics
{
    /// <summary>Produces <paramref name="messages"/> to <paramref name="topic"/> and checks that every one was delivered.</summary>
    public static void Produce(string bootstrap, string topic, IEnumerable<Message<byte[], byte[]>> messages)
    {
        using var p = KafkaClients.Producer(KafkaSettings.ForBootstrap(bootstrap));
        foreach (var m in messages) p.Produce(topic, m);
        Assert.Equal(0, p.Flush(TimeSpan.FromSeconds(60)));
    }

    /// <summary>
    /// Reads <paramref name="topic"/> from the beginning in a group of its own until <paramref name="done"/> says so
    /// or <paramref name="patience"/> runs out, whichever is first; the caller checks what arrived.
    /// </summary>
    public static List<ConsumeResult<byte[], byte[]>> Read(
        string bootstrap, string topic, Func<List<ConsumeResult<byte[], byte[]>>, bool> done, TimeSpan patience)
    {
        var config = KafkaClients.ConsumerConfig(KafkaSettings.ForBootstrap(bootstrap), "test-reader-" + Guid.NewGuid().ToString("N"));
        using var c = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        c.Subscribe(topic);
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
