using Broker.Filters;
using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.Filter;

/// <summary>
/// Follows the registry topic (<c>broker.filters</c>, docs/filters.md "The registry") into a
/// <see cref="FilterRegistry"/>, so that a filter published, changed or deleted goes live in a running filter
/// service without a restart. <see cref="Start"/> reads the whole topic before it returns, so a service starts with
/// every published filter; then a background thread applies each record as it arrives. Partitions are assigned,
/// not subscribed to: no consumer group, and every instance of the service reads the whole registry. A record that
/// is not a valid definition is refused (logged at Warning; the filter keeps its last good definition), and a
/// transient Kafka error is logged and retried: neither stops the follower or the process.
/// </summary>
public sealed partial class KafkaFilterRegistry : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _applied;
    private long _keyless;
    private volatile bool _following = true;
    private int _disposed;

    private KafkaFilterRegistry(IConsumer<byte[], byte[]> consumer, FilterRegistry registry, ILogger log, string topic)
    {
        _consumer = consumer;
        Registry = registry;
        _log = log;
        Topic = topic;
        _thread = new Thread(Follow) { IsBackground = true, Name = "filter-registry" };
    }

    /// <summary>The registry the records are applied to.</summary>
    public FilterRegistry Registry { get; }

    /// <summary>The topic followed.</summary>
    public string Topic { get; }

    /// <summary>Records applied to <see cref="Registry"/> (every record with a key, refused ones included), at start-up and since.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Records without a key, which name no filter and are skipped (logged at Warning).</summary>
    public long Keyless => Interlocked.Read(ref _keyless);

    /// <summary>Whether the background thread still follows the topic (false after <see cref="Dispose"/> or a fatal Kafka error, which is logged at Critical).</summary>
    public bool IsFollowing => _following;

    /// <summary>
    /// Makes sure <paramref name="topic"/> exists (created compacted, with one partition, when missing), applies
    /// every record up to the end it had at the call to <paramref name="registry"/>, then follows it on a background
    /// thread until <see cref="Dispose"/>.
    /// </summary>
    /// <param name="kafka">Where the cluster is, and any librdkafka settings.</param>
    /// <param name="registry">The registry to fill (usually empty).</param>
    /// <param name="log">Where each change (Information), refusal (Warning) and Kafka error goes.</param>
    /// <param name="topic">The registry topic.</param>
    /// <param name="startupTimeout">How long reaching the cluster and reading the topic to its end may take (default 30 s).</param>
    /// <exception cref="StepHostConfigurationException">No bootstrap address, the cluster cannot be reached, the topic cannot be created, or it was not read to its end in time.</exception>
    public static KafkaFilterRegistry Start(KafkaSettings kafka, FilterRegistry registry, ILogger log, string topic = FilterRegistry.Topic, TimeSpan? startupTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        var timeout = startupTimeout ?? RegistryTopic.DefaultTimeout;
        string bootstrap = RegistryTopic.Bootstrap(kafka);
        int partitions;
        using (var admin = RegistryTopic.Admin(kafka, log))
            (partitions, _) = RegistryTopic.Ensure(admin, bootstrap, topic, RegistryTopic.RegistryPartitions, compacted: true, timeout);
        var consumer = RegistryTopic.Consumer(kafka, log);
        var follower = new KafkaFilterRegistry(consumer, registry, log, topic);
        try
        {
            RegistryTopic.CatchUp(consumer, bootstrap, topic, partitions, timeout, follower.OnRecord, log);
        }
        catch
        {
            consumer.Close();
            consumer.Dispose();
            throw;
        }
        var s = registry.Snapshot();
        LogStarted(log, topic, follower.Applied, s.Filters.Count, s.Filters.Count(f => f.Active), registry.Refused);
        follower._thread.Start();
        return follower;
    }

    private void Follow()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? r;
                try
                {
                    r = _consumer.Consume(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    LogKafkaError(_log, Topic, ex.Error.Code, ex.Error.Reason);
                    continue;
                }
                if (r is null || r.IsPartitionEOF) continue;
                OnRecord(r);
            }
        }
        catch (KafkaException ex)
        {
            // Fatal: the consumer cannot go on. The filters keep their last definitions; IsFollowing says it.
            LogFatal(_log, ex, Topic, ex.Error.Reason);
        }
        finally
        {
            _following = false;
        }
    }

    private void OnRecord(ConsumeResult<byte[], byte[]> r)
    {
        string? name = RegistryTopic.NameOf(r);
        if (name is null)
        {
            Interlocked.Increment(ref _keyless);
            LogKeyless(_log, r.Topic, r.Partition.Value, r.Offset.Value);
            return;
        }
        // The version a deletion removes, for the log (this thread is the only one that applies records).
        string? before = _log.IsEnabled(LogLevel.Information) && (r.Message.Value is null || r.Message.Value.Length == 0)
            ? Registry.Snapshot().Filters.FirstOrDefault(f => f.Name == name)?.Version : null;
        FilterRegistryEvent e;
        try
        {
            e = Registry.Apply(name, r.Message.Value is null ? ReadOnlySpan<byte>.Empty : r.Message.Value);
        }
#pragma warning disable CA1031 // A record must never stop the follower: whatever Apply or a handler of its event throws is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _applied);
            LogApplyFailed(_log, ex, name, r.Topic, r.Partition.Value, r.Offset.Value);
            return;
        }
        Interlocked.Increment(ref _applied);
        switch (e.Change)
        {
            case FilterRegistryChange.Added:
                LogAdded(_log, name, e.Version, r.Partition.Value, r.Offset.Value);
                break;
            case FilterRegistryChange.Changed:
                LogChanged(_log, name, e.Version, r.Partition.Value, r.Offset.Value);
                break;
            case FilterRegistryChange.Deleted:
                LogDeleted(_log, name, before, r.Partition.Value, r.Offset.Value);
                break;
            case FilterRegistryChange.Refused:
                LogRefused(_log, name, e.Error, e.Version, r.Partition.Value, r.Offset.Value);
                break;
            default:
                LogUnchanged(_log, name, e.Change, r.Partition.Value, r.Offset.Value);
                break;
        }
    }

    /// <summary>Stops the background thread and closes the consumer.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        if (_thread.IsAlive) _thread.Join();
        try
        {
            _consumer.Close();
        }
        catch (KafkaException ex)
        {
            LogKafkaError(_log, Topic, ex.Error.Code, ex.Error.Reason);
        }
        _consumer.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Filter registry {Topic}: {Records} records read, {Filters} filters ({Active} active), {Refused} refused")]
    private static partial void LogStarted(ILogger log, string topic, long records, int filters, int active, long refused);

    [LoggerMessage(Level = LogLevel.Information, Message = "Filter {Filter} added, version {Version} ({Partition} {Offset})")]
    private static partial void LogAdded(ILogger log, string filter, string? version, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Filter {Filter} changed, version {Version} ({Partition} {Offset})")]
    private static partial void LogChanged(ILogger log, string filter, string? version, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "Filter {Filter} deleted, was version {Version} ({Partition} {Offset})")]
    private static partial void LogDeleted(ILogger log, string filter, string? version, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Filter {Filter} refused: {Error}; it keeps version {Version} ({Partition} {Offset})")]
    private static partial void LogRefused(ILogger log, string filter, string? error, string? version, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Filter {Filter}: {Change} ({Partition} {Offset})")]
    private static partial void LogUnchanged(ILogger log, string filter, FilterRegistryChange change, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registry record without a key skipped ({Topic} {Partition} {Offset})")]
    private static partial void LogKeyless(ILogger log, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Error, Message = "Registry record for filter {Filter} could not be applied ({Topic} {Partition} {Offset})")]
    private static partial void LogApplyFailed(ILogger log, Exception ex, string filter, string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Following {Topic}: {Code} {Reason}")]
    private static partial void LogKafkaError(ILogger log, string topic, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Following {Topic} stopped on a fatal Kafka error: {Reason}; filters keep their last definitions")]
    private static partial void LogFatal(ILogger log, Exception ex, string topic, string reason);
}
