using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.StepHost;

/// <summary>
/// Builds Broker's Kafka clients with the settings the at-least-once contract depends on, and checks a cluster
/// before a service starts so that bad configuration fails fast with one clear message.
/// </summary>
public static class KafkaClients
{
    /// <summary>
    /// Consumer settings: the deployment's, then the ones Broker relies on (offsets stored and committed by the host
    /// only after delivery, once per batch; cooperative-sticky assignment). <c>fetch.wait.max.ms</c> defaults to 25
    /// (librdkafka: 500) unless configured: librdkafka's mock cluster answers an empty fetch only after that wait and
    /// does not wake it when data arrives, so the default adds up to half a second per hop there.
    /// </summary>
    public static ConsumerConfig ConsumerConfig(KafkaSettings settings, string groupId, string autoOffsetReset = "earliest")
    {
        var configured = settings.For(settings.Consumer);
        var config = new ConsumerConfig(configured)
        {
            GroupId = groupId,
            EnableAutoOffsetStore = false,
            EnableAutoCommit = false,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
        };
        SetDefault(config, configured, "fetch.wait.max.ms", "25");
        SetDefault(config, configured, "fetch.max.bytes", StepHostOptions.Invariant(DefaultFetchMaxBytes));
        SetDefault(config, configured, "auto.offset.reset", autoOffsetReset);
        return config;
    }

    /// <summary>Sets a librdkafka setting Broker prefers, unless the deployment configured it.</summary>
    internal static void SetDefault(ClientConfig config, IReadOnlyDictionary<string, string> configured, string name, string value)
    {
        if (!configured.ContainsKey(name)) config.Set(name, value);
    }

    /// <summary>
    /// Default <c>fetch.max.bytes</c> (librdkafka: 50 MB): about 120 ~65 kB alerts per fetch response, which is plenty
    /// for batches of a few hundred, and a response buffer below <see cref="NativeHeap.MmapThreshold"/>, so that it is
    /// reused rather than mapped afresh for every fetch.
    /// </summary>
    public const int DefaultFetchMaxBytes = 8 * 1024 * 1024;

    /// <summary>Producer settings: the deployment's, with <c>acks=all</c> unless the deployment says otherwise.</summary>
    public static ProducerConfig ProducerConfig(KafkaSettings settings)
    {
        var configured = settings.For(settings.Producer);
        var config = new ProducerConfig(configured);
        SetDefault(config, configured, "acks", "all");
        SetDefault(config, configured, "linger.ms", "5");
        // The host reads only the error of a delivery report; by default Confluent.Kafka also copies each delivered
        // message's headers back into .NET and asks librdkafka for its time stamp and persistence status.
        SetDefault(config, configured, DeliveryReportFields, "none");
        return config;
    }

    /// <summary>Confluent.Kafka's setting for the fields a delivery report carries.</summary>
    private const string DeliveryReportFields = "dotnet.producer.delivery.report.fields";

    /// <summary>Confluent.Kafka's setting for the fields a consume result carries besides key and value.</summary>
    internal const string ConsumeResultFields = "dotnet.consumer.consume.result.fields";

    /// <summary>
    /// Message values as .NET arrays, copied from librdkafka's fetch buffer once and not zeroed first. Confluent.Kafka's
    /// own byte[] deserializer allocates a zeroed array and copies into it: for ~65 kB alerts the zeroing was a third
    /// of the host's own CPU per alert (perf, docs/kafka.md).
    /// </summary>
    public static IDeserializer<byte[]> ValueDeserializer { get; } = new UnzeroedBytesDeserializer();

    private sealed class UnzeroedBytesDeserializer : IDeserializer<byte[]>
    {
        public byte[] Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
        {
            if (isNull) return null!;
            var value = GC.AllocateUninitializedArray<byte>(data.Length);
            data.CopyTo(value);
            return value;
        }
    }

    /// <summary>
    /// A log handler that routes librdkafka's own log lines through <paramref name="logger"/>; without one, librdkafka
    /// prints them raw on standard error (<c>%3|...|FAIL|rdkafka#producer-1| ...</c>), for instance before the
    /// start-up check has said in one line that the cluster is unreachable. librdkafka's warnings
    /// (<c>CONFWARN</c>: a setting ignored) are Warnings; everything else is Debug, errors included, because they
    /// also reach the client's error handler or surface as a failed call, which say them once and in context.
    /// </summary>
    public static Action<IClient, LogMessage> LogTo(ILogger logger) => (_, m) =>
    {
        var level = m.Level == SyslogLevel.Warning ? LogLevel.Warning : LogLevel.Debug;
        if (logger.IsEnabled(level)) logger.Log(level, "librdkafka {Facility} {Client}: {Message}", m.Facility, m.Name, m.Message);
    };

    /// <summary>A producer of raw keys and values; librdkafka's log lines go to <paramref name="logger"/> (<see cref="LogTo"/>), none when null.</summary>
    /// <exception cref="StepHostConfigurationException">A setting has a bad name or value.</exception>
    public static IProducer<byte[], byte[]> Producer(KafkaSettings settings, Action<IProducer<byte[], byte[]>, Error>? onError = null, ILogger? logger = null)
    {
        var builder = new ProducerBuilder<byte[], byte[]>(ProducerConfig(settings)).SetLogHandler(LogTo(logger ?? NullLogger.Instance));
        if (onError is not null) builder.SetErrorHandler(onError);
        return Build(() => builder.Build(), "producer");
    }

    /// <summary>Wraps client construction so that a bad librdkafka setting gives one clear message.</summary>
    /// <exception cref="StepHostConfigurationException">A setting has a bad name or value.</exception>
    public static T Build<T>(Func<T> build, string what)
    {
        // Outside the catch below: a missing or old librdkafka has its own message, not "invalid setting".
        KafkaNative.Load();
        try
        {
            return build();
        }
        catch (Exception ex) when (ex is ArgumentException or KafkaException or InvalidOperationException)
        {
            throw new StepHostConfigurationException($"invalid Kafka {what} setting: {ex.Message} (see the Kafka, KafkaConsumer and KafkaProducer sections and BROKER_KAFKA_* variables)", ex);
        }
    }

    /// <summary>
    /// Connects to the cluster and checks that every topic exists. Does not create topics (librdkafka's mock cluster
    /// and production clusters alike are given their topics by <c>broker dev-kafka</c> or the deployment).
    /// </summary>
    /// <returns>The topics present, with their partition counts.</returns>
    /// <exception cref="StepHostConfigurationException">No bootstrap address, the cluster is unreachable, or a topic is missing.</exception>
    public static IReadOnlyDictionary<string, int> CheckCluster(KafkaSettings settings, IReadOnlyCollection<string> topics, TimeSpan timeout)
    {
        string bootstrap = settings.Bootstrap
            ?? throw new StepHostConfigurationException("no Kafka bootstrap address: set Kafka:bootstrap.servers, BROKER_KAFKA_BOOTSTRAP_SERVERS or --bootstrap");
        var config = new AdminClientConfig(settings.For(settings.Consumer));
        // Keep librdkafka from logging every refused connection while we wait.
        config.Set("log_level", "0");
        using var admin = Build(() => new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build(), "client");
        var metadata = Reach(admin, bootstrap, timeout);
        if (metadata.Brokers.Count == 0)
            throw new StepHostConfigurationException($"Kafka at {bootstrap} answered with no brokers");
        var present = PartitionCounts(metadata);
        var missing = topics.Where(t => !present.ContainsKey(t)).ToList();
        if (missing.Count > 0)
            throw new StepHostConfigurationException(
                $"topic{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} not found at {bootstrap}; create {(missing.Count > 1 ? "them" : "it")} (broker dev-kafka creates Broker's topology)");
        return present;
    }

    /// <summary>The cluster's metadata (every topic), or one line saying it cannot be reached at <paramref name="bootstrap"/>.</summary>
    /// <exception cref="StepHostConfigurationException">The cluster did not answer within <paramref name="timeout"/>.</exception>
    public static Metadata Reach(IAdminClient admin, string bootstrap, TimeSpan timeout)
    {
        try
        {
            return admin.GetMetadata(timeout);
        }
        catch (KafkaException ex)
        {
            throw new StepHostConfigurationException(
                $"cannot reach Kafka at {bootstrap} within {timeout.TotalSeconds:0} s ({ex.Error.Reason}); is the cluster running (broker dev-kafka) and the address right?", ex);
        }
    }

    /// <summary>The topics present with their partition counts (<see cref="Reach"/>).</summary>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached.</exception>
    public static Dictionary<string, int> TopicPartitions(IAdminClient admin, string bootstrap, TimeSpan timeout) => PartitionCounts(Reach(admin, bootstrap, timeout));

    /// <summary>
    /// Makes sure <paramref name="topic"/> exists: its partition count when it does, else creates it with
    /// <paramref name="partitions"/> partitions (and <paramref name="configs"/>, such as <c>cleanup.policy=compact</c>)
    /// and returns that. Another client creating it at the same moment is not an error.
    /// </summary>
    /// <exception cref="KafkaException">The cluster cannot be reached, or refused to create it.</exception>
    public static int EnsureTopic(KafkaSettings settings, string topic, int partitions, TimeSpan timeout, IReadOnlyDictionary<string, string>? configs = null)
    {
        var config = new AdminClientConfig(settings.For(settings.Consumer));
        config.Set("log_level", "0");
        using var admin = Build(() => new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build(), "client");
        return EnsureTopic(admin, topic, partitions, timeout, configs).Partitions;
    }

    /// <summary>
    /// <see cref="EnsureTopic(KafkaSettings, string, int, TimeSpan, IReadOnlyDictionary{string, string}?)"/> on an
    /// admin client the caller holds; also says whether this call created the topic.
    /// </summary>
    /// <exception cref="KafkaException">The cluster cannot be reached, or refused to create it.</exception>
    public static (int Partitions, bool Created) EnsureTopic(IAdminClient admin, string topic, int partitions, TimeSpan timeout, IReadOnlyDictionary<string, string>? configs = null)
    {
        // Metadata of all topics, not of this one: asking for one topic by name lets a cluster with
        // auto.create.topics.enable (librdkafka's mock cluster among them) make it, with its default partition count.
        if (PartitionCounts(admin.GetMetadata(timeout)).TryGetValue(topic, out int present)) return (present, false);
        bool created = true;
        try
        {
            var spec = new Confluent.Kafka.Admin.TopicSpecification
            {
                Name = topic, NumPartitions = partitions, ReplicationFactor = -1,
                Configs = configs?.ToDictionary(StringComparer.Ordinal),
            };
            admin.CreateTopicsAsync([spec], new Confluent.Kafka.Admin.CreateTopicsOptions { RequestTimeout = timeout, OperationTimeout = timeout }).GetAwaiter().GetResult();
        }
        catch (Confluent.Kafka.Admin.CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
            // Created meanwhile by another client.
            created = false;
        }
        catch (Confluent.Kafka.Admin.CreateTopicsException e)
        {
            throw new KafkaException(e.Results.First(r => r.Error.Code is not (ErrorCode.NoError or ErrorCode.TopicAlreadyExists)).Error);
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_UnsupportedFeature)
        {
            // librdkafka's mock cluster implements no CreateTopics: it makes a topic when a client asks for its
            // metadata by name, with its default partition count (4), and ignores configurations. Production clusters
            // take the CreateTopics above.
            admin.GetMetadata(topic, timeout);
        }
        // Metadata catches up with a new topic after a moment.
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            if (PartitionCounts(admin.GetMetadata(timeout)).TryGetValue(topic, out int made)) return (made, created);
            if (DateTime.UtcNow >= until) throw new KafkaException(new Error(ErrorCode.UnknownTopicOrPart, $"topic {topic} was created but does not show in the metadata after {timeout.TotalSeconds:0} s"));
            Thread.Sleep(50);
        }
    }

    /// <summary>The topics present on a cluster with their partition counts; librdkafka's log lines go to <paramref name="logger"/>, none when null.</summary>
    public static IReadOnlyDictionary<string, int> ListTopics(KafkaSettings settings, TimeSpan timeout, ILogger? logger = null)
    {
        var config = new AdminClientConfig(settings.For(settings.Consumer));
        using var admin = Build(() => new AdminClientBuilder(config).SetLogHandler(LogTo(logger ?? NullLogger.Instance)).Build(), "client");
        return PartitionCounts(admin.GetMetadata(timeout));
    }

    private static Dictionary<string, int> PartitionCounts(Metadata metadata) =>
        metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError).ToDictionary(t => t.Topic, t => t.Partitions.Count, StringComparer.Ordinal);
}
