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
    /// Makes sure <paramref name="topic"/> exists. When it is missing and the cluster names a controller, it is
    /// created with <paramref name="partitions"/> partitions (and <c>cleanup.policy=compact</c> when
    /// <paramref name="compacted"/>) through a CreateTopics request; a topic created meanwhile by another client (two
    /// services starting together) counts as there. librdkafka's mock cluster (<c>broker dev-kafka</c>,
    /// <c>broker up</c>, the tests) names no controller and has no CreateTopics: there a metadata request for the
    /// topic makes the mock create it with its default partition count (4) and no configuration (docs/filters.md,
    /// "The registry").
    /// </summary>
    /// <returns>The topic's partition count, and whether this call created it.</returns>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached, or refuses to create the topic.</exception>
    public static (int Partitions, bool Created) Ensure(IAdminClient admin, string bootstrap, string topic, int partitions, bool compacted, TimeSpan timeout)
    {
        if (Partitions(admin, bootstrap, timeout).TryGetValue(topic, out int present)) return (present, false);
        bool created = true;
        if (HasController(admin, timeout))
        {
            var spec = new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = -1 };
            if (compacted) spec.Configs = new Dictionary<string, string>(StringComparer.Ordinal) { ["cleanup.policy"] = "compact" };
            try
            {
                admin.CreateTopicsAsync([spec], new CreateTopicsOptions { RequestTimeout = timeout, OperationTimeout = timeout }).GetAwaiter().GetResult();
            }
            catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
            {
                created = false;
            }
            catch (CreateTopicsException ex)
            {
                var error = ex.Results.First(r => r.Error.Code is not (ErrorCode.NoError or ErrorCode.TopicAlreadyExists)).Error;
                throw new StepHostConfigurationException($"cannot create topic {topic} at {bootstrap}: {error.Reason} ({error.Code})", ex);
            }
            catch (KafkaException ex)
            {
                throw new StepHostConfigurationException($"cannot create topic {topic} at {bootstrap}: {ex.Error.Reason}", ex);
            }
        }
        else
        {
            try
            {
                // The admin client is a producer-type handle: its metadata requests allow automatic creation.
                admin.GetMetadata(topic, timeout);
            }
            catch (KafkaException ex)
            {
                throw new StepHostConfigurationException($"cannot create topic {topic} at {bootstrap}: the cluster names no controller and did not create it on a metadata request ({ex.Error.Reason})", ex);
            }
        }
        // Metadata can lag a creation for a moment: wait until the topic is listed.
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Partitions(admin, bootstrap, timeout).TryGetValue(topic, out int n)) return (n, created);
            if (DateTime.UtcNow > until)
                throw new StepHostConfigurationException($"cannot create topic {topic} at {bootstrap}: it is not listed after {timeout.TotalSeconds:0} s (the cluster names no controller, or does not create topics automatically)");
            Thread.Sleep(50);
        }
    }

    /// <summary>
    /// Whether the cluster names a controller (every Apache Kafka cluster does; librdkafka's mock cluster does not,
    /// and its DescribeCluster answer waits out the timeout, so a short one is used).
    /// </summary>
    private static bool HasController(IAdminClient admin, TimeSpan timeout)
    {
        var wait = timeout < ControllerWait ? timeout : ControllerWait;
        try
        {
            return admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = wait }).GetAwaiter().GetResult().Controller is not null;
        }
        catch (KafkaException)
        {
            return false;
        }
    }

    /// <summary>How long <see cref="HasController"/> waits.</summary>
    private static readonly TimeSpan ControllerWait = TimeSpan.FromSeconds(2);

    /// <summary>The topics present with their partition counts.</summary>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached.</exception>
    public static Dictionary<string, int> Partitions(IAdminClient admin, string bootstrap, TimeSpan timeout)
    {
        Metadata metadata;
        try
        {
            metadata = admin.GetMetadata(timeout);
        }
        catch (KafkaException ex)
        {
            throw new StepHostConfigurationException(
                $"cannot reach Kafka at {bootstrap} within {timeout.TotalSeconds:0} s ({ex.Error.Reason}); is the cluster running (broker dev-kafka) and the address right?", ex);
        }
        return metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError)
            .ToDictionary(t => t.Topic, t => t.Partitions.Count, StringComparer.Ordinal);
    }

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
