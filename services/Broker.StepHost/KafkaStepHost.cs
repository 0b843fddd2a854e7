using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Runs one step on Kafka: consume a batch, decode, run the step, encode, produce (outputs to the step's destination
/// topics, bad input to the dead-letter topic), wait until every message of the batch is delivered, then commit the
/// batch's offsets synchronously. At-least-once, and at most one batch is ever produced but not committed:
/// the next batch is consumed and run through the step while the previous one is being delivered (pipelining),
/// but it is produced only after the previous batch's offsets are committed. So a crash, or a partition lost in a
/// rebalance, replays at most one batch. Offsets are never stored or committed automatically
/// (<c>enable.auto.offset.store=false</c>, <c>enable.auto.commit=false</c>).
/// </summary>
/// <remarks>
/// This class is the loop; each job is a part of its own (docs/kafka.md, "The host's parts"): <see cref="BatchCollector"/>
/// collects batches, <see cref="OutputWriter"/> produces outputs and dead letters with their headers,
/// <see cref="OffsetCommitter"/> commits after delivery and handles rebalances, <see cref="ReplayGuard"/> tells
/// replays and re-sent copies from new outputs, <see cref="LagTracker"/> keeps the lag. What the loop and the
/// rebalance callbacks share is explicit: the <see cref="PartitionAssignment"/>, the committer's batch in flight, the
/// collector's messages in hand, and the <see cref="HostFault"/>.
/// </remarks>
/// <typeparam name="TIn">The step's input type.</typeparam>
/// <typeparam name="TOut">The step's output type.</typeparam>
public sealed class KafkaStepHost<TIn, TOut> : IStepService, IAsyncDisposable
{
    private readonly IStep<TIn, TOut> _step;
    private readonly IMessageCodec<TIn> _inputCodec;
    private readonly IMessageCodec<TOut> _outputCodec;
    private readonly StepHostOptions _options;
    private readonly KafkaSettings _kafka;
    private readonly ILogger _log;
    private readonly PartitionAssignment _assignment = new();
    private readonly HostFault _fault = new();
    private DestinationTable? _destinations;
    private BatchCollector? _collector;
    private OffsetCommitter? _committer;
    private LagTracker? _lag;
    private volatile bool _connected;
    private long _lastProgress = Environment.TickCount64;
    private volatile bool _started;
    private volatile bool _ended;

    /// <summary>Creates a host; nothing connects until <see cref="RunAsync"/>.</summary>
    public KafkaStepHost(IStep<TIn, TOut> step, IMessageCodec<TIn> inputCodec, IMessageCodec<TOut> outputCodec,
        StepHostOptions options, KafkaSettings kafka, ILogger logger)
    {
        _step = step;
        _inputCodec = inputCodec;
        _outputCodec = outputCodec;
        _options = options;
        _kafka = kafka;
        _log = logger;
        Counters = new StepCounters(step.Name);
        Metrics = new StepMetrics(Counters);
        (step as IStepInstruments)?.AddInstruments(Metrics.Meter, new("step", step.Name));
    }

    /// <summary>How many partitions this instance holds now.</summary>
    public int AssignedPartitions => _assignment.Count;

    /// <summary>This host's accounting.</summary>
    public StepCounters Counters { get; }

    /// <inheritdoc />
    public StepMetrics Metrics { get; }

    /// <inheritdoc />
    public string Step => _step.Name;

    /// <inheritdoc />
    public StepHostOptions Options => _options;

    /// <summary>The topics written, the default destination's first; known once <see cref="RunAsync"/> has checked the configuration.</summary>
    public IReadOnlyList<string> OutputTopics => _destinations?.Topics ?? [_options.OutputTopic];

    /// <inheritdoc />
    public StepServiceState State =>
        _ended ? (_fault.IsRaised ? StepServiceState.Failed : StepServiceState.Stopped)
        : _fault.IsRaised ? StepServiceState.Failed
        : !_started ? StepServiceState.Starting
        : AssignedPartitions == 0 ? StepServiceState.Unassigned : StepServiceState.Running;

    /// <inheritdoc />
    public long LastProgress => Interlocked.Read(ref _lastProgress);

    /// <summary>Raised after each batch is delivered and its offsets committed (tests and the load harness watch it).</summary>
    public event Action<StepCountersSnapshot>? BatchCompleted;

    /// <summary>Disposes the step (the host owns it: <see cref="StepLifetime"/>).</summary>
    public ValueTask DisposeAsync() => StepLifetime.DisposeAsync(_step);

    /// <summary>
    /// Checks the configuration, runs the step's start-up hook (<see cref="IStepStartup"/>), checks the cluster, then
    /// runs until <paramref name="stop"/> is cancelled (clean close: the batch in hand is finished, offsets committed,
    /// the group left) or a fatal error occurs.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">Bad configuration; nothing was consumed.</exception>
    /// <exception cref="StepException">A fatal error (<see cref="FailureKind.Fatal"/>); offsets of the batch in hand were not committed.</exception>
    public async Task RunAsync(CancellationToken stop)
    {
        _options.Validate();
        var destinations = _destinations = Destinations();
        var health = HealthReporter.Open(_options.HealthFile, Counters, () => AssignedPartitions, _log);
        // The step loads and verifies its files (models, catalogues) before any client exists (IStepStartup).
        await StepLifetime.StartAsync(_step, stop).ConfigureAwait(false);
        string input = _options.InputTopic, dlq = _options.EffectiveDeadLetterTopic;

        if (_options.RetainNativeBuffers && NativeHeap.RetainLargeBuffers())
            _log.LogDebug("Native heap keeps freed blocks up to {Threshold} bytes for reuse", NativeHeap.MmapThreshold);
        using var producer = KafkaClients.Producer(_kafka, (_, e) => OnError("producer", e), _log);
        var consumerConfig = KafkaClients.ConsumerConfig(_kafka, _options.EffectiveGroupId(_step.Name), _options.AutoOffsetReset);
        // Confluent.Kafka copies every field of a consumed message into .NET objects unless told otherwise; the host
        // needs the topic (partitions, dead-letter headers) and the headers (copied downstream), not the time stamp.
        KafkaClients.SetDefault(consumerConfig, _kafka.For(_kafka.Consumer), KafkaClients.ConsumeResultFields, "topic,headers");
        var consumerBuilder = new ConsumerBuilder<byte[], byte[]>(consumerConfig)
            .SetValueDeserializer(KafkaClients.ValueDeserializer)
            .SetErrorHandler((_, e) => OnError("consumer", e))
            .SetLogHandler(KafkaClients.LogTo(_log))
            .SetPartitionsAssignedHandler((_, parts) => Assign(parts))
            .SetPartitionsRevokedHandler((_, parts) => Revoke(parts.Select(p => p.TopicPartition), lost: false))
            .SetPartitionsLostHandler((_, parts) => Revoke(parts.Select(p => p.TopicPartition), lost: true));
        using var consumer = KafkaClients.Build(() => consumerBuilder.Build(), "consumer");
        // Settings are checked by building the clients; the cluster and topics next, before anything is consumed.
        var timeout = TimeSpan.FromSeconds(_options.StartupTimeoutSeconds);
        IReadOnlyCollection<string> required = _options.CreateDestinationTopics ? [input, destinations.Topics[0], dlq] : [input, .. destinations.Topics, dlq];
        var partitionCounts = new Dictionary<string, int>(KafkaClients.CheckCluster(_kafka, required, timeout), StringComparer.Ordinal);
        // A routing step's named destinations (a filter's topic) are made when missing, as those it declares later are.
        foreach (var topic in destinations.Topics.Skip(1).Where(t => !partitionCounts.ContainsKey(t)).ToList())
            partitionCounts[topic] = DestinationTopic(topic, partitionCounts[input], timeout);
        var partitions = partitionCounts;
        _connected = true;
        var collector = _collector = new BatchCollector(consumer.Consume, _assignment, _fault, _options.BatchSize, _options.BatchWaitMs, _log);
        _committer = new OffsetCommitter(consumer.Commit, collector.Serve, _assignment, _fault, TimeSpan.FromSeconds(_options.CommitRetrySeconds), _log, _step.Name);
        _lag = new LagTracker(new ConsumerOffsets(consumer), _assignment, Counters, Metrics, _options.AutoOffsetReset);
        // A destination the step declares while running gets its topic first (or is refused), then its guard.
        destinations.Added += d => partitionCounts[destinations.Topics[d]] = DestinationTopic(destinations.Topics[d], partitionCounts[input], timeout);
        var guard = _options.DropReplayedOutputs
            ? ReplayGuard.Load(consumer, _kafka, (input, partitions[input]), destinations, partitions, BrokerHeaders.SourceHeader(_step.Name),
                ReplayCheckDepth, timeout, _log)
            : new ReplayGuard(BrokerHeaders.SourceHeader(_step.Name), destinations.Count);
        destinations.Added += d =>
        {
            if (_options.DropReplayedOutputs) guard.Add(consumer, _kafka, (input, partitionCounts[input]), destinations, d, partitionCounts, ReplayCheckDepth, timeout, _log);
            else guard.AddDestination();
            _log.LogInformation("Step {Step}: new destination {Destination} ({Topic})", _step.Name, destinations.Names[d], destinations.Topics[d]);
        };
        var writer = new OutputWriter(destinations, dlq, guard, Counters, Metrics, (topic, message, delivery) => TopicWriter.Produce(producer, topic, message, delivery), _log);
        consumer.Subscribe(input);
        _started = true;
        _log.LogInformation("Step {Step} consuming {Input} -> {Output} (dead letters {Dlq}), group {Group}, batches of {BatchSize}",
            _step.Name, input, string.Join(", ", destinations.Topics), dlq, _options.EffectiveGroupId(_step.Name), _options.BatchSize);

        long nextMetrics = Environment.TickCount64 + _options.MetricsIntervalSeconds * 1000L;
        try
        {
            _lag.Refresh();
            health.Write(RunningStatus, force: true);
            while (!stop.IsCancellationRequested && !_fault.IsRaised)
            {
                Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
                long started = Stopwatch.GetTimestamp();
                if (!collector.Collect(_committer.HasInFlight ? 0 : 200, stop))
                {
                    // Idle: finish the batch being delivered so its offsets do not wait for the next message.
                    CompleteInFlight();
                    // Idle: lag still moves (a producer writing to a partition held here but not yet fetched).
                    _lag.Refresh();
                    health.Write(RunningStatus);
                    continue;
                }
                var batch = collector.Take();
                // Step the new batch while the previous one is being delivered by librdkafka's threads ...
                var prepared = await PrepareAsync(batch, stop).ConfigureAwait(false);
                // ... but produce it only once the previous batch is delivered and committed: at most one batch is
                // ever produced and not committed, which bounds replays after a crash or a lost partition.
                CompleteInFlight();
                if (_fault.IsRaised) break;
                var flight = new InFlightBatch(batch, started);
                writer.Write(batch, prepared, flight);
                _committer.Track(flight);
                // Start sending now rather than after linger.ms: the batch is complete.
                producer.Poll(TimeSpan.Zero);
                // librdkafka holds its own copies now. These locals live in the async state machine until the next
                // batch replaces them, so drop their messages and outputs (two batches of alert-sized arrays) now:
                // kept alive through the next batch's step, they were promoted and copied by every gen0/gen1 GC.
                Array.Clear(batch);
                Array.Clear(prepared);
                if (_options.MetricsIntervalSeconds > 0 && Environment.TickCount64 >= nextMetrics)
                {
                    LogMetrics();
                    nextMetrics = Environment.TickCount64 + _options.MetricsIntervalSeconds * 1000L;
                }
                health.Write(RunningStatus);
            }
            CompleteInFlight();
            if (_fault.Reason is { } fatal) throw new StepException(FailureKind.Fatal, fatal);
            _log.LogInformation("Step {Step} stopping: closing the consumer", _step.Name);
            consumer.Close();
            health.Write("stopped", force: true);
            LogMetrics();
        }
        catch (Exception ex)
        {
            if (ex is not OperationCanceledException || !stop.IsCancellationRequested) _fault.Raise(ex.Message);
            health.Write("failed: " + ex.Message, force: true);
            // No Close(): leaving without committing is what at-least-once needs after a failure. Dispose still
            // leaves the group (its revoke callback commits nothing: the committer is abandoned below).
            throw;
        }
        finally
        {
            _ended = true;
            _committer.Abandon();
            _lag.Forget(_assignment.Held);
        }
    }

    /// <summary>The step's destinations and their topics; unknown names in <c>StepHost:DestinationTopics</c> are refused.</summary>
    private DestinationTable Destinations()
    {
        var table = DestinationTable.For(_step, _options.TopicOf);
        var unknown = _options.DestinationTopics.Keys.Where(k => !table.Names.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
            throw new StepHostConfigurationException(
                $"invalid configuration: StepHost:DestinationTopics names {string.Join(", ", unknown)}, not destinations of step {_step.Name} (its destinations: {string.Join(", ", table.Names.Skip(1).DefaultIfEmpty("none besides the default"))})");
        return table;
    }

    /// <summary>The partition count of a destination declared while running, creating its topic when it is missing and allowed.</summary>
    private int DestinationTopic(string topic, int inputPartitions, TimeSpan timeout)
    {
        if (_options.CreateDestinationTopics)
        {
            int n = KafkaClients.EnsureTopic(_kafka, topic, inputPartitions, timeout);
            _log.LogInformation("Step {Step}: destination topic {Topic} ready ({Partitions} partitions)", _step.Name, topic, n);
            return n;
        }
        if (KafkaClients.ListTopics(_kafka, timeout).TryGetValue(topic, out int present)) return present;
        throw new StepHostConfigurationException($"topic {topic} does not exist (StepHost:CreateDestinationTopics is off)");
    }

    private void OnError(string client, Error e)
    {
        if (e.IsFatal)
        {
            _fault.Raise($"fatal Kafka {client} error {e.Code}: {e.Reason}");
            _log.LogCritical("Fatal Kafka {Client} error {Code}: {Reason}", client, e.Code, e.Reason);
        }
        else if (!_connected)
        {
            // Before the start-up check has passed, its one message says what is wrong.
            _log.LogDebug("Kafka {Client} error {Code}: {Reason}", client, e.Code, e.Reason);
        }
        else
        {
            _log.LogWarning("Kafka {Client} error {Code}: {Reason}", client, e.Code, e.Reason);
        }
    }

    private void Assign(List<TopicPartition> parts)
    {
        _assignment.Add(parts);
        _log.LogInformation("Step {Step} assigned {Partitions}", _step.Name, string.Join(",", parts.Select(p => p.Partition.Value)));
    }

    /// <summary>
    /// Partitions revoked (cooperative-sticky: we still own them while this runs) or lost (another member may
    /// already own them). The committer commits what it can of the batch in flight (<see cref="OffsetCommitter.Release"/>);
    /// messages consumed but not yet stepped are left to the new owner, who starts from the last committed offset.
    /// </summary>
    private void Revoke(IEnumerable<TopicPartition> parts, bool lost)
    {
        var set = parts.ToHashSet();
        int replayable = _committer?.Release(set, lost) ?? 0;
        _assignment.Remove(set);
        _lag?.Forget(set);
        int dropped = _collector?.Drop(set) ?? 0;
        if (lost && replayable > 0)
        {
            _log.LogWarning("Step {Step} partitions lost: {Partitions}; up to {Replayable} alerts of the batch in flight were not committed and will be replayed by their new owner ({Dropped} not yet processed left to it)",
                _step.Name, string.Join(",", set.Select(p => p.Partition.Value)), replayable, dropped);
        }
        else
        {
            _log.LogInformation("Step {Step} partitions {How}: {Partitions} ({Dropped} messages in hand left to the new owner)",
                _step.Name, lost ? "lost" : "revoked", string.Join(",", set.Select(p => p.Partition.Value)), dropped);
        }
    }

    /// <summary>Decodes, runs the step and encodes each output for its destination; touches no Kafka client.</summary>
    private async Task<Prepared[]> PrepareAsync(ConsumeResult<byte[], byte[]>[] batch, CancellationToken stop)
    {
        var prepared = new Prepared[batch.Length];
        // Decode; undecodable messages become dead letters without reaching the step.
        var inputs = new List<TIn>(batch.Length);
        var positions = new List<int>(batch.Length);
        for (int i = 0; i < batch.Length; i++)
        {
            try
            {
                inputs.Add(_inputCodec.Decode(batch[i].Message.Value ?? []));
                positions.Add(i);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                prepared[i] = new Prepared(StepOutcome.DeadLettered, null, $"undecodable input: {ex.Message}");
            }
        }
        var stepResults = await StepRunner.ExecuteIsolatingAsync(_step, inputs, _options.TransientRetries, _log, stop).ConfigureAwait(false);
        var routes = new List<(int Destination, TOut Value)>();
        for (int j = 0; j < positions.Count; j++)
        {
            var r = stepResults[j];
            int i = positions[j];
            if (r.Outcome != StepOutcome.Emitted)
            {
                prepared[i] = new Prepared(r.Outcome, null, r.Reason);
                continue;
            }
            routes.Clear();
            if (_destinations!.Resolve(r, routes) is { } misrouted)
            {
                prepared[i] = new Prepared(StepOutcome.DeadLettered, null, misrouted);
                continue;
            }
            if (routes.Count == 0)
            {
                prepared[i] = new Prepared(StepOutcome.Filtered, null, StepResult<TOut>.NoDestination);
                continue;
            }
            try
            {
                // Encoded once, here; the bytes are handed to the producer as they are (no further copy in .NET).
                var outputs = new EncodedOutput[routes.Count];
                for (int k = 0; k < outputs.Length; k++)
                {
                    var (destination, value) = routes[k];
                    outputs[k] = new EncodedOutput(destination, _outputCodec.Encode(value), _outputCodec.KeyBytesOf(value) ?? batch[i].Message.Key);
                }
                prepared[i] = new Prepared(StepOutcome.Emitted, outputs, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                prepared[i] = new Prepared(StepOutcome.DeadLettered, null, $"output not encodable: {ex.Message}");
            }
        }
        return prepared;
    }

    /// <summary>Completes the batch in flight (<see cref="OffsetCommitter.Complete"/>) and records it.</summary>
    private void CompleteInFlight()
    {
        if (_committer!.Complete() is not { } done) return;
        long batchTicks = Stopwatch.GetTimestamp() - done.Started;
        Counters.BatchDone(batchTicks * 1_000_000 / Stopwatch.Frequency);
        Metrics.BatchDone(batchTicks / (double)Stopwatch.Frequency);
        _lag!.Refresh();
        BatchCompleted?.Invoke(Counters.Snapshot());
    }

    /// <summary>
    /// How far back the replay guard reads each destination partition: two batches, so that outputs written by another
    /// instance after the stopped one's last batch do not push that batch out of reach.
    /// </summary>
    private int ReplayCheckDepth => 2 * _options.BatchSize;

    /// <summary>The health status while the loop runs: <c>unassigned</c> while this instance holds no partition.</summary>
    private string RunningStatus => AssignedPartitions == 0 ? "unassigned" : "running";

    private void LogMetrics()
    {
        var s = Counters.Snapshot();
        _log.LogInformation("Step {Step}: in {In}, out {Out}, dead-lettered {DeadLettered}, duplicates {Duplicates} (replays {Replayed}), filtered {Filtered}, lag {Lag}, batch latency mean {MeanBatchMs:F1} ms max {MaxBatchMs:F1} ms",
            s.Step, s.In, s.Out, s.DeadLettered, s.Duplicates, s.Replayed, s.Filtered, s.Lag, s.MeanBatchMs, s.MaxBatchMs);
        if (s.Destinations is { Count: > 1 } destinations)
        {
            foreach (var d in destinations)
                _log.LogInformation("Step {Step} destination {Destination} ({Topic}): out {Out}, duplicates {Duplicates} (replays {Replayed})",
                    s.Step, d.Destination, d.Topic, d.Out, d.Duplicates, d.Replayed);
        }
    }
}
