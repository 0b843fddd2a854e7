using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.StepHost.Tests;

/// <summary>The mock cluster wrapper and the client settings the host's measurements depend on.</summary>
public class MockClusterTests
{
    [Fact]
    public void Accepted_connections_get_TCP_NODELAY_like_an_Apache_Kafka_broker()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var cluster = new MockCluster();
        cluster.CreateTopic("t", 2);
        using var producer = KafkaClients.Producer(KafkaSettings.ForBootstrap(cluster.Bootstrap));
        producer.Produce("t", new Message<byte[], byte[]> { Key = [1], Value = new byte[70_000] });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));

        var accepted = MockConnectionTuner.AcceptedSockets(cluster.Ports);
        // The producer holds a bootstrap connection and one to the partition leader, both accepted by the mock after
        // its listening sockets were tuned.
        Assert.NotEmpty(accepted);
        Assert.All(accepted, fd => Assert.True(MockConnectionTuner.HasNoDelay(fd), $"fd {fd} has Nagle's algorithm on"));
    }

    [Fact]
    public void Consumed_values_are_copied_exactly_and_null_stays_null()
    {
        var bytes = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        var copy = KafkaClients.ValueDeserializer.Deserialize(bytes, isNull: false, SerializationContext.Empty);
        Assert.Equal(bytes, copy);
        Assert.Empty(KafkaClients.ValueDeserializer.Deserialize([], isNull: false, SerializationContext.Empty));
        Assert.Null(KafkaClients.ValueDeserializer.Deserialize([], isNull: true, SerializationContext.Empty));
    }

    [Fact]
    public void Consumer_defaults_keep_fetch_responses_under_the_native_heap_threshold_unless_configured()
    {
        var defaults = KafkaClients.ConsumerConfig(KafkaSettings.ForBootstrap("localhost:9092"), "g");
        Assert.Equal(KafkaClients.DefaultFetchMaxBytes, defaults.FetchMaxBytes);
        Assert.True(KafkaClients.DefaultFetchMaxBytes < NativeHeap.MmapThreshold);
        var settings = KafkaSettings.ForBootstrap("localhost:9092");
        settings.Consumer["fetch.max.bytes"] = "1048576";
        Assert.Equal(1048576, KafkaClients.ConsumerConfig(settings, "g").FetchMaxBytes);
    }
}
