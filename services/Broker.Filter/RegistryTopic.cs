using Broker.Filters;
using Broker.StepHost;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Filter;

/// <summary>
/// What the registry's follower (<see cref="KafkaFilterRegistry"/>) and client (<see cref="FilterRegistryClient"/>)
/// share: making sure a topic exists, and reading the registry topic from its beginning up to its end.
/// </summary>
internal static class RegistryTopic
{
    /// <summary>
    /// Makes sure <paramref name="topic"/> exists, creating it with <paramref name="partitions"/> partitions (and
    /// <c>cleanup.policy=compact</c> when <paramref name="compacted"/>) through a CreateTopics request when it is
    /// missing. A topic created meanwhile by another client (two services starting together) counts as there.
    /// librdkafka's mock cluster has no CreateTopics: it makes the topic with its default partition count and no
    /// configuration (KafkaClients.EnsureTopic; docs/filters.md, "The registry").
    /// </summary>
    /// <returns>The topic's partition count, and whether this call created it.</returns>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached, or refuses to create the topic.</exception>
    public static (int Partitions, bool Created) Ensure(IAdminClient admin, string bootstrap, string topic, int partitions, bool compacted, TimeSpan timeout)
    {
        // Reachable first, so an unreachable cluster is said as such.
        if (Partitions(admin, bootstrap, timeout).TryGetValue(topic, out int present)) return (present, false);
        try
        {
            return KafkaClients.EnsureTopic(admin, topic, partitions, timeout,
                compacted ? new Dictionary<string, string>(StringComparer.Ordinal) { ["cleanup.policy"] = "compact" } : null);
        }
        catch (KafkaException ex)
        {
            throw new StepHostConfigurationException($"cannot create topic {topic} at {bootstrap}: {ex.Error.Reason} ({ex.Error.Code})", ex);
        }
    }

    /// <summary>The topics present with their partition counts.</summary>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached.</exception>
    public static Dictionary<string, int> Partitions(IAdminClient admin, string bootstrap, TimeSpan timeout) => KafkaClients.TopicPartitions(admin, bootstrap, timeout);

    /// <summary>An admin client; librdkafka's log lines go to <paramref name="logger"/>.</summary>
    public static IAdminClient Admin(KafkaSettings kafka, ILogger? logger) =>
        KafkaClients.Build(() => new AdminClientBuilder(new AdminClientConfig(kafka.For(kafka.Consumer)))
            .SetLogHandler(KafkaClients.LogTo(logger ?? NullLogger.Instance)).Build(), "client");

    /// <summary>The bootstrap address, required.</summary>
    /// <exception cref="StepHostConfigurationException">None is set.</exception>
    public static string Bootstrap(KafkaSettings kafka) => kafka.Bootstrap
        ?? throw new StepHostConfigurationException("no Kafka bootstrap address: set Kafka:bootstrap.servers, BROKER_KAFKA_BOOTSTRAP_SERVERS or --bootstrap");

    /// <summary>
    /// A consumer that reads by assignment (no group joined, nothing committed): every reader of the registry reads
    /// all of it. The group id only satisfies librdkafka; partition end-of-file events are on, so a reader can tell
    /// that it has caught up.
    /// </summary>
    public static IConsumer<byte[], byte[]> Consumer(KafkaSettings kafka, ILogger? logger)
    {
        var config = KafkaClients.ConsumerConfig(kafka, "broker-filter-registry-" + Guid.NewGuid().ToString("N")[..12]);
        config.EnablePartitionEof = true;
        return KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(config)
            .SetLogHandler(KafkaClients.LogTo(logger ?? NullLogger.Instance)).Build(), "consumer");
    }

    /// <summary>
    /// Assigns every partition of <paramref name="topic"/> from its beginning and consumes until each has reached the
    /// high watermark it had when this call began, passing each record to <paramref name="onRecord"/>. Non-fatal
    /// consume errors are logged and retried until <paramref name="timeout"/>.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">The end was not reached within <paramref name="timeout"/>, or a fatal Kafka error.</exception>
    public static void CatchUp(IConsumer<byte[], byte[]> consumer, string bootstrap, string topic, int partitions, TimeSpan timeout,
        Action<ConsumeResult<byte[], byte[]>> onRecord, ILogger log)
    {
        var until = DateTime.UtcNow + timeout;
        var pending = new Dictionary<int, long>();
        for (int p = 0; p < partitions; p++)
        {
            var tp = new TopicPartition(topic, p);
            WatermarkOffsets w;
            try
            {
                w = consumer.QueryWatermarkOffsets(tp, timeout);
            }
            catch (KafkaException ex)
            {
                throw new StepHostConfigurationException($"cannot read the offsets of {topic} [{p}] at {bootstrap}: {ex.Error.Reason}", ex);
            }
            if (w.High.Value > w.Low.Value) pending[p] = w.High.Value;
        }
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        while (pending.Count > 0)
        {
            if (DateTime.UtcNow > until)
                throw new StepHostConfigurationException($"could not read {topic} at {bootstrap} to its end within {timeout.TotalSeconds:0} s ({pending.Count} partitions behind)");
            ConsumeResult<byte[], byte[]>? r;
            try
            {
                r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                log.LogWarning("Reading {Topic}: {Reason}", topic, ex.Error.Reason);
                continue;
            }
            catch (KafkaException ex)
            {
                throw new StepHostConfigurationException($"reading {topic} at {bootstrap} failed: {ex.Error.Reason}", ex);
            }
            if (r is null) continue;
            int partition = r.Partition.Value;
            if (r.IsPartitionEOF)
            {
                pending.Remove(partition);
                continue;
            }
            onRecord(r);
            if (pending.TryGetValue(partition, out long high) && r.Offset.Value + 1 >= high) pending.Remove(partition);
        }
    }

    /// <summary>A record's key as a filter name; null for a record without a key.</summary>
    public static string? NameOf(ConsumeResult<byte[], byte[]> r) => r.Message.Key is null ? null : System.Text.Encoding.UTF8.GetString(r.Message.Key);

    /// <summary>Partitions of a topic the registry creates: the registry itself has one (one order of records).</summary>
    public const int RegistryPartitions = 1;

    /// <summary>The default time a start-up or a CLI call may take.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
}
