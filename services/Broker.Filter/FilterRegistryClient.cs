using Broker.Filters;
using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.Filter;

/// <summary>A filter put on the registry: its name, version, topic and that topic's partitions.</summary>
/// <param name="Name">The filter's name (the record's key).</param>
/// <param name="Version">Its version (what every match it publishes names).</param>
/// <param name="Topic">Its own topic, <c>broker.filter.&lt;name&gt;</c>.</param>
/// <param name="Partitions">That topic's partition count.</param>
/// <param name="TopicCreated">Whether this publication created the topic (false: it was there, and kept as it was).</param>
/// <param name="Partition">The registry partition the record went to.</param>
/// <param name="Offset">The record's offset there.</param>
public sealed record FilterPublishResult(string Name, string Version, string Topic, int Partitions, bool TopicCreated, int Partition, long Offset);

/// <summary>
/// The registry as a reader finds it: the definitions in force, and the records refused that are still the last
/// record of their key (what compaction keeps, so each needs a new publication or a delete).
/// </summary>
/// <param name="Snapshot">The definitions in force, in name order.</param>
/// <param name="Refused">The refused records still last of their key, in name order; each event's version is the one the filter keeps, null when none.</param>
/// <param name="Records">Records read.</param>
public sealed record FilterRegistryListing(FilterRegistrySnapshot Snapshot, IReadOnlyList<FilterRegistryEvent> Refused, long Records);

/// <summary>A registry operation that cannot be done as asked (deleting a filter the registry does not hold, a definition the registry would refuse).</summary>
public sealed class FilterRegistryException : Exception
{
    /// <summary>Creates the error.</summary>
    public FilterRegistryException(string message) : base(message)
    {
    }
}

/// <summary>
/// What <c>broker filter publish|delete|list</c> does to the registry topic (docs/filters.md, "The registry"):
/// publish a definition (checked first, with its own topic made if missing), delete one with a tombstone, and read the
/// registry as a filter service would.
/// </summary>
public sealed class FilterRegistryClient
{
    private readonly KafkaSettings _kafka;
    private readonly ILogger? _logger;

    /// <summary>A client of the registry <paramref name="topic"/> on the cluster <paramref name="kafka"/> names.</summary>
    /// <param name="kafka">Where the cluster is, and any librdkafka settings.</param>
    /// <param name="topic">The registry topic.</param>
    /// <param name="timeout">How long each call may wait for the cluster (default 30 s).</param>
    /// <param name="logger">Where librdkafka's own log lines go (none when null).</param>
    public FilterRegistryClient(KafkaSettings kafka, string topic = FilterRegistry.Topic, TimeSpan? timeout = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        _kafka = kafka;
        Topic = topic;
        Timeout = timeout ?? RegistryTopic.DefaultTimeout;
        _logger = logger;
    }

    /// <summary>The registry topic.</summary>
    public string Topic { get; }

    /// <summary>How long each call may wait for the cluster.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>
    /// The topic whose partition count a new filter topic takes by default: the filter step's input, so that each
    /// input partition's matches can keep their order.
    /// </summary>
    public const string InputTopic = "broker.classified";

    /// <summary>
    /// Publishes <paramref name="definition"/>: checks that the registry would accept it (it parses back from its
    /// YAML to the same version and compiles), makes sure the registry topic (compacted) and the filter's own topic
    /// exist, then produces key = name, value = its YAML, and waits until the cluster has it.
    /// </summary>
    /// <param name="definition">The definition.</param>
    /// <param name="partitions">Partitions of the filter's topic when it has to be created (default: those of <see cref="InputTopic"/>, or 1 when that is missing). An existing topic is kept as it is.</param>
    /// <exception cref="FilterCompileException">The definition does not compile.</exception>
    /// <exception cref="FilterRegistryException">Its YAML would be refused by the registry.</exception>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached, a topic cannot be made, or the record was not delivered.</exception>
    public FilterPublishResult Publish(FilterDefinition definition, int? partitions = null)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (partitions is < 1) throw new ArgumentOutOfRangeException(nameof(partitions), partitions, "a topic has at least one partition");
        definition.Compile();
        byte[] value = FilterRegistry.ValueOf(definition);
        // Exactly what a follower will do with the record.
        var check = new FilterRegistry().Apply(definition.Name, value);
        if (check.Change != FilterRegistryChange.Added || check.Version != definition.Version)
            throw new FilterRegistryException($"filter {definition.Name}: the registry would not accept its YAML ({check.Error ?? "version " + check.Version + " instead of " + definition.Version})");

        string bootstrap = RegistryTopic.Bootstrap(_kafka);
        int topicPartitions;
        bool created;
        using (var admin = RegistryTopic.Admin(_kafka, _logger))
        {
            RegistryTopic.Ensure(admin, bootstrap, Topic, RegistryTopic.RegistryPartitions, compacted: true, Timeout);
            int wanted = NewTopicPartitions(partitions, RegistryTopic.Partitions(admin, bootstrap, Timeout));
            (topicPartitions, created) = RegistryTopic.Ensure(admin, bootstrap, definition.Topic, wanted, compacted: false, Timeout);
        }
        var delivered = Produce(bootstrap, definition.Name, value);
        return new FilterPublishResult(definition.Name, definition.Version, definition.Topic, topicPartitions, created, delivered.Partition.Value, delivered.Offset.Value);
    }

    /// <summary>The partitions of a new filter topic: <paramref name="asked"/>, else those of <see cref="InputTopic"/> among <paramref name="topics"/>, else 1.</summary>
    internal static int NewTopicPartitions(int? asked, IReadOnlyDictionary<string, int> topics) =>
        asked ?? (topics.TryGetValue(InputTopic, out int n) ? n : 1);

    /// <summary>
    /// Deletes the filter <paramref name="name"/> with a tombstone (a record with no value). Its topic is kept: its
    /// subscribers may still be reading it.
    /// </summary>
    /// <exception cref="FilterRegistryException">The registry holds no filter and no refused record of that name.</exception>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached or the tombstone was not delivered.</exception>
    public void Delete(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var listing = List();
        if (!listing.Snapshot.Filters.Any(f => f.Name == name) && !listing.Refused.Any(e => e.Name == name))
            throw new FilterRegistryException($"no filter '{name}' in {Topic} at {RegistryTopic.Bootstrap(_kafka)}");
        Produce(RegistryTopic.Bootstrap(_kafka), name, null);
    }

    /// <summary>
    /// Reads the registry topic from its beginning to the end it has now into a fresh <see cref="FilterRegistry"/>,
    /// as a filter service starting now would. A missing registry topic is an empty registry (and is not created).
    /// </summary>
    /// <exception cref="StepHostConfigurationException">The cluster cannot be reached or the topic was not read to its end in time.</exception>
    public FilterRegistryListing List()
    {
        string bootstrap = RegistryTopic.Bootstrap(_kafka);
        int partitions;
        using (var admin = RegistryTopic.Admin(_kafka, _logger))
        {
            if (!RegistryTopic.Partitions(admin, bootstrap, Timeout).TryGetValue(Topic, out partitions))
                return new FilterRegistryListing(new FilterRegistrySnapshot(0, []), [], 0);
        }
        var registry = new FilterRegistry();
        var last = new SortedDictionary<string, FilterRegistryEvent>(StringComparer.Ordinal);
        long records = 0;
        using var consumer = RegistryTopic.Consumer(_kafka, _logger);
        try
        {
            RegistryTopic.CatchUp(consumer, bootstrap, Topic, partitions, Timeout, r =>
            {
                records++;
                if (RegistryTopic.NameOf(r) is not { } name) return;
                last[name] = registry.Apply(name, r.Message.Value is null ? ReadOnlySpan<byte>.Empty : r.Message.Value);
            }, (ILogger?)_logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        }
        finally
        {
            consumer.Close();
        }
        return new FilterRegistryListing(registry.Snapshot(), [.. last.Values.Where(e => e.Change == FilterRegistryChange.Refused)], records);
    }

    private DeliveryResult<byte[], byte[]> Produce(string bootstrap, string name, byte[]? value)
    {
        var config = KafkaClients.ProducerConfig(_kafka);
        if (!_kafka.Producer.ContainsKey("message.timeout.ms") && !_kafka.Common.ContainsKey("message.timeout.ms"))
            config.MessageTimeoutMs = (int)Timeout.TotalMilliseconds;
        using var producer = KafkaClients.Build(() => new ProducerBuilder<byte[], byte[]>(config)
            .SetLogHandler(KafkaClients.LogTo(_logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)).Build(), "producer");
        DeliveryResult<byte[], byte[]> result;
        try
        {
            result = producer.ProduceAsync(Topic, new Message<byte[], byte[]> { Key = FilterRegistry.KeyOf(name), Value = value! }).GetAwaiter().GetResult();
        }
        catch (ProduceException<byte[], byte[]> ex)
        {
            throw new StepHostConfigurationException($"the record for filter {name} was not delivered to {Topic} at {bootstrap}: {ex.Error.Reason}", ex);
        }
        producer.Flush(Timeout);
        return result;
    }
}
