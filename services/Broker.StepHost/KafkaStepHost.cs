using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Runs one step on Kafka: consume a batch, decode, run the step, encode, produce (outputs to the output topic,
/// bad input to the dead-letter topic), wait until every message of the batch is delivered, then commit the
/// batch's offsets synchronously. At-least-once, and at most one batch is ever produced but not committed:
/// the next batch is consumed and run through the step while the previous one is being delivered (pipelining),
/// but it is produced only after the previous batch's offsets are committed. So a crash, or a partition lost in a
/// rebalance, replays at most one batch. Offsets are never stored or committed automatically
/// (<c>enable.auto.offset.store=false</c>, <c>enable.auto.commit=false</c>).
/// </summary>
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
    private readonly List<ConsumeResult<byte[], byte[]>> _batch = [];
    private readonly HashSet<TopicPartition> _assigned = [];
    private readonly HashSet<(int Partition, long Offset)> _replayPositions = [];
    private readonly HashSet<string> _outputKeys = new(StringComparer.Ordinal);
    private readonly string _timeHeader;
    private readonly string _sourceHeader;
    private readonly byte[] _stepNameBytes;
    private InFlightBatch? _inFlight;
    private IConsumer<byte[], byte[]>? _consumer;
    private IProducer<byte[], byte[]>? _producer;
    private volatile string? _fatal;
    private volatile bool _connected;
    private int _assignedCount;
    private long _nextLag;
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
        _timeHeader = BrokerHeaders.TimeHeader(step.Name);
        _sourceHeader = BrokerHeaders.SourceHeader(step.Name);
        _stepNameBytes = BrokerHeaders.Text(step.Name);
    }

    /// <summary>How many partitions this instance holds now.</summary>
    public int AssignedPartitions => Volatile.Read(ref _assignedCount);

    /// <summary>This host's accounting.</summary>
    public StepCounters Counters { get; }

    /// <inheritdoc />
    public StepMetrics Metrics { get; }

    /// <inheritdoc />
    public string Step => _step.Name;

    /// <inheritdoc />
    public StepHostOptions Options => _options;

    /// <inheritdoc />
    public StepServiceState State =>
        _ended ? (_fatal is null ? StepServiceState.Stopped : StepServiceState.Failed)
        : _fatal is not null ? StepServiceState.Failed
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
        var health = HealthReporter.Open(_options.HealthFile, Counters, () => AssignedPartitions, _log);
        // The step loads and verifies its files (models, catalogues) before any client exists (IStepStartup).
        await StepLifetime.StartAsync(_step, stop).ConfigureAwait(false);
        string input = _options.InputTopic, output = _options.OutputTopic, dlq = _options.EffectiveDeadLetterTopic;

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
            .SetPartitionsAssignedHandler((_, parts) =>
            {
                foreach (var p in parts) _assigned.Add(p);
                Volatile.Write(ref _assignedCount, _assigned.Count);
                _log.LogInformation("Step {Step} assigned {Partitions}", _step.Name, string.Join(",", parts.Select(p => p.Partition.Value)));
            })
            .SetPartitionsRevokedHandler((_, parts) => Revoke(parts.Select(p => p.TopicPartition), lost: false))
            .SetPartitionsLostHandler((_, parts) => Revoke(parts.Select(p => p.TopicPartition), lost: true));
        using var consumer = KafkaClients.Build(() => consumerBuilder.Build(), "consumer");
        // Settings are checked by building the clients; the cluster and topics next, before anything is consumed.
        var partitions = KafkaClients.CheckCluster(_kafka, [input, output, dlq], TimeSpan.FromSeconds(_options.StartupTimeoutSeconds));
        _connected = true;
        _consumer = consumer;
        _producer = producer;
        if (_options.DropReplayedOutputs) LoadReplayGuard(consumer, input, partitions[input], output, partitions[output]);
        consumer.Subscribe(input);
        _started = true;
        _log.LogInformation("Step {Step} consuming {Input} -> {Output} (dead letters {Dlq}), group {Group}, batches of {BatchSize}",
            _step.Name, input, output, dlq, _options.EffectiveGroupId(_step.Name), _options.BatchSize);

        long nextMetrics = Environment.TickCount64 + _options.MetricsIntervalSeconds * 1000L;
        try
        {
            RefreshLag(consumer);
            health.Write(RunningStatus, force: true);
            while (!stop.IsCancellationRequested && _fatal is null)
            {
                Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
                long started = Stopwatch.GetTimestamp();
                if (!Collect(consumer, stop))
                {
                    // Idle: finish the batch being delivered so its offsets do not wait for the next message.
                    CompleteInFlight();
                    // Idle: lag still moves (a producer writing to a partition held here but not yet fetched).
                    RefreshLag(consumer);
                    health.Write(RunningStatus);
                    continue;
                }
                var batch = _batch.ToArray();
                _batch.Clear();
                // Step the new batch while the previous one is being delivered by librdkafka's threads ...
                var prepared = await PrepareAsync(batch, stop).ConfigureAwait(false);
                // ... but produce it only once the previous batch is delivered and committed: at most one batch is
                // ever produced and not committed, which bounds replays after a crash or a lost partition.
                CompleteInFlight();
                if (_fatal is not null) break;
                _inFlight = ProduceBatch(batch, prepared, started, stop);
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
            if (_fatal is not null) throw new StepException(FailureKind.Fatal, _fatal);
            _log.LogInformation("Step {Step} stopping: closing the consumer", _step.Name);
            consumer.Close();
            health.Write("stopped", force: true);
            LogMetrics();
        }
        catch (Exception ex)
        {
            if (ex is not OperationCanceledException || !stop.IsCancellationRequested) _fatal ??= ex.Message;
            health.Write("failed: " + ex.Message, force: true);
            // No Close(): leaving without committing is what at-least-once needs after a failure. Dispose still
            // leaves the group.
            throw;
        }
        finally
        {
            _ended = true;
            _consumer = null;
            _producer = null;
            Metrics.ForgetLag(_assigned.Select(p => (p.Topic, p.Partition.Value)));
        }
    }

    private void OnError(string client, Error e)
    {
        if (e.IsFatal)
        {
            _fatal = $"fatal Kafka {client} error {e.Code}: {e.Reason}";
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

    /// <summary>
    /// Partitions revoked (cooperative-sticky: we still own them while this runs) or lost (another member may
    /// already own them). Revoked: the batch being delivered is waited for and its offsets committed now, before
    /// the partitions go, so the new owner starts exactly after it; messages consumed but not yet stepped are left
    /// to the new owner. Lost: nothing can be committed; the new owner replays at most the one batch that was
    /// produced and not committed, and that number is logged.
    /// </summary>
    private void Revoke(IEnumerable<TopicPartition> parts, bool lost)
    {
        var set = parts.ToHashSet();
        int replayable = 0;
        if (_inFlight is { } f)
        {
            if (!lost && _consumer is { } c && _producer is not null)
            {
                f.Delivery.Wait(() => _fatal);
                if (_fatal is null && f.Delivery.Error is null)
                {
                    var revoked = f.Offsets.Where(o => set.Contains(o.Key)).Select(o => new TopicPartitionOffset(o.Key, o.Value)).ToList();
                    if (revoked.Count > 0)
                    {
                        if (TryCommit(c, revoked, out var reason))
                        {
                            foreach (var o in revoked) f.Offsets.Remove(o.TopicPartition);
                        }
                        else
                        {
                            _log.LogWarning("Step {Step}: offsets of revoked partitions not committed ({Reason}); their new owner replays at most this batch", _step.Name, reason);
                        }
                    }
                }
            }
            foreach (var tp in set)
            {
                if (f.Offsets.Remove(tp)) replayable += f.CountIn(tp);
            }
        }
        foreach (var p in set) _assigned.Remove(p);
        Volatile.Write(ref _assignedCount, _assigned.Count);
        Metrics.ForgetLag(set.Select(p => (p.Topic, p.Partition.Value)));
        // Messages of a partition we no longer own must not be processed: their new owner starts from the last
        // committed offset and will process them.
        int dropped = _batch.RemoveAll(m => set.Contains(m.TopicPartition));
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

    /// <summary>Adds to <see cref="_batch"/> (which may hold messages carried over); false when it is empty.</summary>
    private bool Collect(IConsumer<byte[], byte[]> consumer, CancellationToken stop)
    {
        long deadline = _batch.Count > 0 ? Environment.TickCount64 + _options.BatchWaitMs : 0;
        while (_batch.Count < _options.BatchSize && !stop.IsCancellationRequested && _fatal is null)
        {
            int wait = _batch.Count == 0 ? (_inFlight is null ? 200 : 0) : (int)Math.Max(0, deadline - Environment.TickCount64);
            ConsumeResult<byte[], byte[]>? cr;
            try
            {
                cr = consumer.Consume(wait);
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                _log.LogWarning("Consume error {Code}: {Reason}", ex.Error.Code, ex.Error.Reason);
                continue;
            }
            if (cr is null || cr.IsPartitionEOF)
            {
                if (_batch.Count > 0 && Environment.TickCount64 >= deadline) break;
                if (_batch.Count == 0) return false;
                continue;
            }
            // A message fetched before its partition was revoked or lost belongs to the new owner.
            if (!_assigned.Contains(cr.TopicPartition)) continue;
            if (_batch.Count == 0) deadline = Environment.TickCount64 + _options.BatchWaitMs;
            _batch.Add(cr);
        }
        return _batch.Count > 0;
    }

    /// <summary>Decodes, runs the step and encodes; touches no Kafka client.</summary>
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
                prepared[i] = new Prepared(StepOutcome.DeadLettered, null, null, $"undecodable input: {ex.Message}");
            }
        }
        var stepResults = await StepRunner.ExecuteIsolatingAsync(_step, inputs, _options.TransientRetries, _log, stop).ConfigureAwait(false);
        for (int j = 0; j < positions.Count; j++)
        {
            var r = stepResults[j];
            int i = positions[j];
            if (r.Outcome != StepOutcome.Emitted)
            {
                prepared[i] = new Prepared(r.Outcome, null, null, r.Reason);
                continue;
            }
            try
            {
                // Encoded once, here; the bytes are handed to the producer as they are (no further copy in .NET).
                byte[] value = _outputCodec.Encode(r.Value!);
                prepared[i] = new Prepared(StepOutcome.Emitted, value, _outputCodec.KeyBytesOf(r.Value!) ?? batch[i].Message.Key, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                prepared[i] = new Prepared(StepOutcome.DeadLettered, null, null, $"output not encodable: {ex.Message}");
            }
        }
        return prepared;
    }

    /// <summary>Produces a prepared batch (outputs and dead letters) without waiting for delivery.</summary>
    private InFlightBatch ProduceBatch(ConsumeResult<byte[], byte[]>[] batch, Prepared[] prepared, long started, CancellationToken stop)
    {
        var producer = _producer!;
        var flight = new InFlightBatch(batch, started);
        Counters.AddIn(batch.Length);
        // One time stamp (and one header value) per batch: every output of the batch is produced now.
        long nowMicros = BrokerHeaders.NowMicros();
        byte[] now = BrokerHeaders.Number(nowMicros);
        int replays = 0, copies = 0;
        for (int i = 0; i < batch.Length; i++)
        {
            var m = batch[i];
            var r = prepared[i];
            if (r.Outcome == StepOutcome.Emitted)
            {
                if (_replayPositions.Count > 0 && _replayPositions.Remove((m.Partition.Value, m.Offset.Value)))
                {
                    // This very input was processed by an instance that stopped before committing it, and its output
                    // is in the output topic already: a replay. Not produced again.
                    replays++;
                    Counters.Count(StepOutcome.Duplicate);
                    Counters.AddReplayed(1);
                    continue;
                }
                if (_outputKeys.Count > 0 && r.Key is not null && ContainsOutputKey(r.Key))
                {
                    // The same alert, arriving again as a new input message (re-sent upstream): a true duplicate.
                    copies++;
                    Counters.Count(StepOutcome.Duplicate);
                    continue;
                }
                Metrics.RecordHop(m.Message.Headers, nowMicros);
                var headers = ForwardedHeaders(m.Message.Headers);
                headers.Add(_timeHeader, now);
                headers.Add(_sourceHeader, BrokerHeaders.Position(m.Partition.Value, m.Offset.Value));
                TopicWriter.Produce(producer, _options.OutputTopic, new Message<byte[], byte[]> { Key = r.Key!, Value = r.Value!, Headers = headers }, flight.Delivery);
                Counters.Count(StepOutcome.Emitted);
                continue;
            }
            if (r.Outcome == StepOutcome.DeadLettered)
            {
                var headers = ForwardedHeaders(m.Message.Headers);
                headers.Add(BrokerHeaders.DeadLetterStep, _stepNameBytes);
                headers.Add(BrokerHeaders.DeadLetterReason, BrokerHeaders.Text(r.Reason ?? "(no reason)"));
                headers.Add(BrokerHeaders.DeadLetterSourceTopic, BrokerHeaders.Text(m.Topic));
                headers.Add(BrokerHeaders.DeadLetterSourcePartition, BrokerHeaders.Number(m.Partition.Value));
                headers.Add(BrokerHeaders.DeadLetterSourceOffset, BrokerHeaders.Number(m.Offset.Value));
                var message = new Message<byte[], byte[]> { Key = m.Message.Key, Value = m.Message.Value, Headers = headers };
                TopicWriter.Produce(producer, _options.EffectiveDeadLetterTopic, message, flight.Delivery);
                if (_log.IsEnabled(LogLevel.Debug))
                    _log.LogDebug("Dead letter {Topic} {Partition} {Offset}: {Reason}", m.Topic, m.Partition.Value, m.Offset.Value, r.Reason);
            }
            Counters.Count(r.Outcome, r.Reason);
        }
        if (replays > 0)
        {
            _log.LogWarning("Step {Step}: {Replays} outputs of a batch that was in flight when an earlier instance stopped (delivered to {Output}, input offsets not committed) were not produced again; counted as replays",
                _step.Name, replays, _options.OutputTopic);
        }
        if (copies > 0 && _log.IsEnabled(LogLevel.Debug))
        {
            _log.LogDebug("Step {Step}: {Copies} alerts already in {Output} arrived again as new input; dropped as duplicates", _step.Name, copies, _options.OutputTopic);
        }
        // Start sending now rather than after linger.ms: the batch is complete.
        producer.Poll(TimeSpan.Zero);
        return flight;
    }

    /// <summary>
    /// Waits until the batch in flight is delivered, then commits its offsets synchronously. A commit refused during
    /// a rebalance is retried after serving the rebalance (messages consumed meanwhile are kept for the next
    /// batch); the next batch is not produced before this one is committed or its partitions are gone.
    /// </summary>
    private void CompleteInFlight()
    {
        if (_inFlight is not { } f || _consumer is not { } consumer || _producer is null) return;
        f.Delivery.Wait(() => _fatal);
        if (_fatal is not null) return;
        if (f.Delivery.Error is { } error)
        {
            _fatal = $"delivery failed after librdkafka's retries ({error}); offsets of the batch were not committed";
            return;
        }
        int attempt = 0;
        while (_fatal is null)
        {
            // Only partitions still ours: the revoke and lost handlers prune the others.
            var offsets = new List<TopicPartitionOffset>(f.Offsets.Count);
            foreach (var (tp, offset) in f.Offsets)
            {
                if (_assigned.Contains(tp)) offsets.Add(new TopicPartitionOffset(tp, offset));
            }
            if (offsets.Count < f.Offsets.Count)
            {
                foreach (var tp in f.Offsets.Keys.Where(tp => !_assigned.Contains(tp)).ToList()) f.Offsets.Remove(tp);
            }
            if (offsets.Count == 0) break;
            if (TryCommit(consumer, offsets, out var reason))
            {
                f.Offsets.Clear();
                break;
            }
            if (++attempt == 1 || attempt % 20 == 0)
                _log.LogInformation("Step {Step}: commit of a delivered batch refused ({Reason}); serving the rebalance and retrying", _step.Name, reason);
            if (attempt > 600)
            {
                _fatal = $"offsets of a delivered batch could not be committed: {reason}";
                return;
            }
            // Serve the rebalance for a while before asking again (revoke/lost handlers prune f.Offsets); keep
            // what arrives for the next batch, which is produced only after this one is settled.
            long until = Environment.TickCount64 + 500;
            while (Environment.TickCount64 < until && _fatal is null)
            {
                try
                {
                    var cr = consumer.Consume(50);
                    if (cr is not null && !cr.IsPartitionEOF && _assigned.Contains(cr.TopicPartition)) _batch.Add(cr);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    _log.LogWarning("Consume error {Code}: {Reason}", ex.Error.Code, ex.Error.Reason);
                }
                if (f.Offsets.Keys.All(tp => !_assigned.Contains(tp))) break;
            }
        }
        _inFlight = null;
        long batchTicks = Stopwatch.GetTimestamp() - f.Started;
        Counters.BatchDone(batchTicks * 1_000_000 / Stopwatch.Frequency);
        Metrics.BatchDone(batchTicks / (double)Stopwatch.Frequency);
        RefreshLag(consumer);
        BatchCompleted?.Invoke(Counters.Snapshot());
    }

    private static bool TryCommit(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets, out string? reason)
    {
        try
        {
            consumer.Commit(offsets);
            reason = null;
            return true;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            reason = $"{ex.Error.Code}: {ex.Error.Reason}";
            return false;
        }
    }

    /// <summary>
    /// Reads the end of the output topic (the last <see cref="ReplayCheckDepth"/> messages of each partition) before
    /// consuming, to find what an earlier instance delivered and did not commit. An output whose
    /// <see cref="BrokerHeaders.SourceHeader"/> names an input position at or after the group's committed offset of
    /// that partition came from a batch in flight when that instance stopped: if this instance consumes that same
    /// position again, its output is a replay, counted and not produced again. Every key read is remembered too: an
    /// output with one of these keys from any other input position is the same alert arriving again as new input,
    /// a duplicate (docs/kafka.md, "Replays and duplicates").
    /// </summary>
    private void LoadReplayGuard(IConsumer<byte[], byte[]> consumer, string input, int inputPartitions, string output, int outputPartitions)
    {
        var timeout = TimeSpan.FromSeconds(_options.StartupTimeoutSeconds);
        var committed = new Dictionary<int, long>();
        var inputs = new List<TopicPartition>(inputPartitions);
        for (int p = 0; p < inputPartitions; p++) inputs.Add(new TopicPartition(input, p));
        foreach (var c in consumer.Committed(inputs, timeout))
        {
            // No committed offset: everything ever consumed from that partition is uncommitted.
            committed[c.Partition.Value] = c.Offset.Value >= 0 ? c.Offset.Value : 0;
        }

        var config = KafkaClients.ConsumerConfig(_kafka, "broker-replay-check-" + Guid.NewGuid().ToString("N"), "earliest");
        config.EnableAutoCommit = false;
        config.Set("log_level", "0");
        using var reader = KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build(), "consumer");
        var ends = new Dictionary<int, long>();
        var assign = new List<TopicPartitionOffset>();
        for (int p = 0; p < outputPartitions; p++)
        {
            var w = reader.QueryWatermarkOffsets(new TopicPartition(output, p), timeout);
            if (w.High.Value <= w.Low.Value) continue;
            ends[p] = w.High.Value;
            assign.Add(new TopicPartitionOffset(output, p, Math.Max(w.Low.Value, w.High.Value - ReplayCheckDepth)));
        }
        if (assign.Count == 0) return;
        reader.Assign(assign);
        var until = DateTime.UtcNow + timeout;
        while (ends.Count > 0 && DateTime.UtcNow < until)
        {
            var cr = reader.Consume(100);
            if (cr is null || cr.IsPartitionEOF) continue;
            if (cr.Message.Key is { } key) _outputKeys.Add(Encoding.UTF8.GetString(key));
            if (cr.Message.Headers is { } headers && headers.TryGetLastBytes(_sourceHeader, out var source)
                && BrokerHeaders.ParsePosition(source) is { } position
                && position.Offset >= committed.GetValueOrDefault(position.Partition, 0))
            {
                _replayPositions.Add(position);
            }
            if (cr.Offset.Value + 1 >= ends.GetValueOrDefault(cr.Partition.Value, long.MaxValue)) ends.Remove(cr.Partition.Value);
        }
        _log.LogInformation("Step {Step}: {Keys} outputs at the end of {Output} read; {Uncommitted} of them came from input not yet committed and will not be produced again if replayed",
            _step.Name, _outputKeys.Count, output, _replayPositions.Count);
    }

    /// <summary>
    /// How far back the replay guard reads each output partition: two batches, so that outputs written by another
    /// instance after the stopped one's last batch do not push that batch out of reach.
    /// </summary>
    private int ReplayCheckDepth => 2 * _options.BatchSize;

    /// <summary>Whether an output's key is among the keys read from the output topic at start, without making a string of it.</summary>
    private bool ContainsOutputKey(byte[] key)
    {
        Span<char> chars = key.Length <= 64 ? stackalloc char[64] : new char[key.Length];
        int n = Encoding.UTF8.GetChars(key, chars);
        return _outputKeys.GetAlternateLookup<ReadOnlySpan<char>>().Contains(chars[..n]);
    }

    /// <summary>
    /// The headers an output or a dead letter carries on: the input's, less any dead-letter headers (a message replayed
    /// from a dead-letter topic starts afresh). The consumed message's own header list is reused and edited: it is not
    /// read again once its output or dead letter is produced.
    /// </summary>
    private static Headers ForwardedHeaders(Headers? source)
    {
        if (source is null) return new Headers();
        List<string>? deadLetterKeys = null;
        for (int i = 0; i < source.Count; i++)
        {
            if (IsDeadLetterHeader(source[i])) (deadLetterKeys ??= []).Add(source[i].Key);
        }
        if (deadLetterKeys is not null)
        {
            foreach (var key in deadLetterKeys) source.Remove(key);
        }
        return source;
    }

    private static bool IsDeadLetterHeader(IHeader h) => h.Key.StartsWith("dlq.", StringComparison.Ordinal);

    /// <summary>The health status while the loop runs: <c>unassigned</c> while this instance holds no partition.</summary>
    private string RunningStatus => AssignedPartitions == 0 ? "unassigned" : "running";

    /// <summary>Recomputes the lag at most once a second (after a batch and while idle).</summary>
    private void RefreshLag(IConsumer<byte[], byte[]> consumer)
    {
        if (Environment.TickCount64 < _nextLag) return;
        UpdateLag(consumer);
        _nextLag = Environment.TickCount64 + 1000;
    }

    private void UpdateLag(IConsumer<byte[], byte[]> consumer)
    {
        // Holding nothing, this instance is behind on nothing.
        if (_assigned.Count == 0)
        {
            Counters.Lag = 0;
            return;
        }
        long lag = 0;
        bool known = false;
        List<TopicPartition>? unconsumed = null;
        foreach (var tp in _assigned)
        {
            try
            {
                var pos = consumer.Position(tp);
                if (pos.Value < 0)
                {
                    // Nothing consumed here yet by this instance: its start is the group's committed offset.
                    (unconsumed ??= []).Add(tp);
                    continue;
                }
                var w = consumer.GetWatermarkOffsets(tp);
                if (w.High.Value < 0) continue;
                long behind = Math.Max(0, w.High.Value - pos.Value);
                Metrics.SetLag(tp.Topic, tp.Partition.Value, behind);
                lag += behind;
                known = true;
            }
            catch (KafkaException)
            {
                // Partition moving in a rebalance; its lag is counted next time.
            }
        }
        if (unconsumed is not null && UnconsumedLag(consumer, unconsumed) is { } more)
        {
            lag += more;
            known = true;
        }
        Counters.Lag = known ? lag : -1;
    }

    /// <summary>
    /// The lag of partitions this instance has consumed nothing from (an idle or empty partition, or one just
    /// assigned): from the committed offset, else from where <c>auto.offset.reset</c> starts, to the end. These ask
    /// the cluster (the client caches no position for them), so only while they stay unconsumed; null when unknown.
    /// </summary>
    private long? UnconsumedLag(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
    {
        var timeout = TimeSpan.FromMilliseconds(500);
        try
        {
            long lag = 0;
            foreach (var c in consumer.Committed(partitions, timeout))
            {
                var w = consumer.QueryWatermarkOffsets(c.TopicPartition, timeout);
                long from = c.Offset.Value >= 0 ? c.Offset.Value : _options.AutoOffsetReset == "latest" ? w.High.Value : w.Low.Value;
                long behind = Math.Max(0, w.High.Value - from);
                Metrics.SetLag(c.Topic, c.Partition.Value, behind);
                lag += behind;
            }
            return lag;
        }
        catch (KafkaException)
        {
            return null;
        }
    }

    private void LogMetrics()
    {
        var s = Counters.Snapshot();
        _log.LogInformation("Step {Step}: in {In}, out {Out}, dead-lettered {DeadLettered}, duplicates {Duplicates} (replays {Replayed}), filtered {Filtered}, lag {Lag}, batch latency mean {MeanBatchMs:F1} ms max {MaxBatchMs:F1} ms",
            s.Step, s.In, s.Out, s.DeadLettered, s.Duplicates, s.Replayed, s.Filtered, s.Lag, s.MeanBatchMs, s.MaxBatchMs);
    }

    /// <summary>One input's fate, decided before anything is produced.</summary>
    private readonly record struct Prepared(StepOutcome Outcome, byte[]? Value, byte[]? Key, string? Reason);

    /// <summary>A produced batch: its deliveries and the offsets to commit once they are all delivered.</summary>
    private sealed class InFlightBatch
    {
        public InFlightBatch(ConsumeResult<byte[], byte[]>[] batch, long started)
        {
            Started = started;
            foreach (var m in batch)
            {
                // ConsumeResult.TopicPartition makes a new object on every access.
                var tp = m.TopicPartition;
                long next = m.Offset.Value + 1;
                ref var offset = ref CollectionsMarshal.GetValueRefOrAddDefault(Offsets, tp, out bool seen);
                if (!seen || offset.Value < next) offset = new Offset(next);
                CollectionsMarshal.GetValueRefOrAddDefault(InCounts, tp, out _)++;
            }
        }

        public long Started { get; }

        public DeliveryTracker Delivery { get; } = new();

        /// <summary>Next offset to commit per partition; partitions revoked or lost are removed.</summary>
        public Dictionary<TopicPartition, Offset> Offsets { get; } = [];

        private Dictionary<TopicPartition, int> InCounts { get; } = [];

        public int CountIn(TopicPartition tp) => InCounts.GetValueOrDefault(tp);
    }
}
