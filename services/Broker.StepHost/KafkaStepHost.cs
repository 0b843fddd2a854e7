using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Runs one step on Kafka: consume a batch, decode, run the step, encode, produce (outputs to the output topic,
/// bad input to the dead-letter topic), wait until every message of the batch is delivered, then store and commit
/// the batch's offsets. At-least-once: a crash between delivery and commit replays at most the one batch in
/// hand. Offsets are never stored automatically (<c>enable.auto.offset.store=false</c>).
/// </summary>
/// <typeparam name="TIn">The step's input type.</typeparam>
/// <typeparam name="TOut">The step's output type.</typeparam>
public sealed class KafkaStepHost<TIn, TOut>
{
    private readonly IStep<TIn, TOut> _step;
    private readonly IMessageCodec<TIn> _inputCodec;
    private readonly IMessageCodec<TOut> _outputCodec;
    private readonly StepHostOptions _options;
    private readonly KafkaSettings _kafka;
    private readonly ILogger _log;
    private readonly List<ConsumeResult<byte[], byte[]>> _batch = [];
    private readonly HashSet<TopicPartition> _assigned = [];
    private volatile string? _fatal;
    private volatile bool _connected;
    private int _assignedCount;

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
    }

    /// <summary>How many partitions this instance holds now.</summary>
    public int AssignedPartitions => Volatile.Read(ref _assignedCount);

    /// <summary>This host's accounting.</summary>
    public StepCounters Counters { get; }

    /// <summary>Raised after each batch is delivered and its offsets stored (tests and the load harness watch it).</summary>
    public event Action<StepCountersSnapshot>? BatchCompleted;

    /// <summary>
    /// Checks the configuration and the cluster, then runs until <paramref name="stop"/> is cancelled (clean close:
    /// the batch in hand is finished, offsets committed, the group left) or a fatal error occurs.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">Bad configuration; nothing was consumed.</exception>
    /// <exception cref="StepException">A fatal error (<see cref="FailureKind.Fatal"/>); offsets of the batch in hand were not stored.</exception>
    public async Task RunAsync(CancellationToken stop)
    {
        _options.Validate();
        string input = _options.InputTopic, output = _options.OutputTopic, dlq = _options.EffectiveDeadLetterTopic;

        using var producer = KafkaClients.Producer(_kafka, (_, e) => OnError("producer", e));
        var consumerBuilder = new ConsumerBuilder<byte[], byte[]>(KafkaClients.ConsumerConfig(_kafka, _options.EffectiveGroupId(_step.Name), _options.AutoOffsetReset))
            .SetErrorHandler((_, e) => OnError("consumer", e))
            .SetLogHandler((_, m) => _log.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .SetPartitionsAssignedHandler((_, parts) =>
            {
                foreach (var p in parts) _assigned.Add(p);
                Volatile.Write(ref _assignedCount, _assigned.Count);
                _log.LogInformation("Step {Step} assigned {Partitions}", _step.Name, string.Join(",", parts.Select(p => p.Partition.Value)));
            })
            .SetPartitionsRevokedHandler((_, parts) => Revoke(parts.Select(p => p.TopicPartition), "revoked"))
            .SetPartitionsLostHandler((_, parts) => Revoke(parts.Select(p => p.TopicPartition), "lost"));
        using var consumer = KafkaClients.Build(() => consumerBuilder.Build(), "consumer");
        // Settings are checked by building the clients; the cluster and topics next, before anything is consumed.
        KafkaClients.CheckCluster(_kafka, [input, output, dlq], TimeSpan.FromSeconds(_options.StartupTimeoutSeconds));
        _connected = true;
        consumer.Subscribe(input);
        _log.LogInformation("Step {Step} consuming {Input} -> {Output} (dead letters {Dlq}), group {Group}, batches of {BatchSize}",
            _step.Name, input, output, dlq, _options.EffectiveGroupId(_step.Name), _options.BatchSize);

        var health = new HealthReporter(_options.HealthFile, Counters);
        long nextMetrics = Environment.TickCount64 + _options.MetricsIntervalSeconds * 1000L;
        try
        {
            health.Write("running", force: true);
            while (!stop.IsCancellationRequested && _fatal is null)
            {
                long started = Stopwatch.GetTimestamp();
                if (!Collect(consumer, stop))
                {
                    health.Write("running");
                    continue;
                }
                await ProcessBatchAsync(consumer, producer, started, stop).ConfigureAwait(false);
                UpdateLag(consumer);
                health.Write("running");
                BatchCompleted?.Invoke(Counters.Snapshot());
                if (_options.MetricsIntervalSeconds > 0 && Environment.TickCount64 >= nextMetrics)
                {
                    LogMetrics();
                    nextMetrics = Environment.TickCount64 + _options.MetricsIntervalSeconds * 1000L;
                }
            }
            if (_fatal is not null) throw new StepException(FailureKind.Fatal, _fatal);
            _log.LogInformation("Step {Step} stopping: closing the consumer", _step.Name);
            consumer.Close();
            health.Write("stopped", force: true);
            LogMetrics();
        }
        catch (Exception ex)
        {
            health.Write("failed: " + ex.Message, force: true);
            // No Close(): leaving without committing is what at-least-once needs after a failure. Dispose still
            // leaves the group.
            throw;
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

    private void Revoke(IEnumerable<TopicPartition> parts, string how)
    {
        var set = parts.ToHashSet();
        foreach (var p in set) _assigned.Remove(p);
        Volatile.Write(ref _assignedCount, _assigned.Count);
        // Messages of a partition we no longer own must not be processed: their new owner starts from the last
        // committed offset and will process them. Dropping them here keeps duplicates to what was in flight.
        int dropped = _batch.RemoveAll(m => set.Contains(m.TopicPartition));
        _log.LogInformation("Step {Step} partitions {How}: {Partitions} ({Dropped} messages in hand left to the new owner)",
            _step.Name, how, string.Join(",", set.Select(p => p.Partition.Value)), dropped);
    }

    /// <summary>Fills <see cref="_batch"/>; false when nothing arrived.</summary>
    private bool Collect(IConsumer<byte[], byte[]> consumer, CancellationToken stop)
    {
        _batch.Clear();
        long deadline = 0;
        while (_batch.Count < _options.BatchSize && !stop.IsCancellationRequested && _fatal is null)
        {
            int wait = _batch.Count == 0 ? 200 : (int)Math.Max(0, deadline - Environment.TickCount64);
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
            if (_batch.Count == 0) deadline = Environment.TickCount64 + _options.BatchWaitMs;
            _batch.Add(cr);
        }
        return _batch.Count > 0;
    }

    private async Task ProcessBatchAsync(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, long started, CancellationToken stop)
    {
        var batch = _batch.ToArray();
        Counters.AddIn(batch.Length);

        // Decode; undecodable messages become dead letters without reaching the step.
        var results = new StepResult<TOut>[batch.Length];
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
                results[i] = StepResult<TOut>.DeadLetter($"undecodable input: {ex.Message}");
            }
        }
        var stepResults = await StepRunner.ExecuteIsolatingAsync(_step, inputs, _options.TransientRetries, _log, stop).ConfigureAwait(false);
        for (int j = 0; j < positions.Count; j++) results[positions[j]] = stepResults[j];

        // Produce everything, then wait for every delivery report.
        var delivery = new DeliveryTracker();
        long now = BrokerHeaders.NowMicros();
        for (int i = 0; i < batch.Length; i++)
        {
            var m = batch[i];
            var r = results[i];
            if (r.Outcome == StepOutcome.Emitted)
            {
                byte[]? value = null;
                string? key = null;
                try
                {
                    value = _outputCodec.Encode(r.Value!);
                    key = _outputCodec.KeyOf(r.Value!);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    r = results[i] = StepResult<TOut>.DeadLetter($"output not encodable: {ex.Message}");
                }
                if (value is not null)
                {
                    var headers = CopyHeaders(m.Message.Headers);
                    headers.Add(BrokerHeaders.TimeHeader(_step.Name), BrokerHeaders.Number(now));
                    var message = new Message<byte[], byte[]> { Key = key is null ? m.Message.Key : Encoding.UTF8.GetBytes(key), Value = value, Headers = headers };
                    Produce(producer, _options.OutputTopic, message, delivery, stop);
                    Counters.Count(StepOutcome.Emitted);
                    continue;
                }
            }
            if (r.Outcome == StepOutcome.DeadLettered)
            {
                var headers = CopyHeaders(m.Message.Headers);
                headers.Add(BrokerHeaders.DeadLetterStep, BrokerHeaders.Text(_step.Name));
                headers.Add(BrokerHeaders.DeadLetterReason, BrokerHeaders.Text(r.Reason ?? "(no reason)"));
                headers.Add(BrokerHeaders.DeadLetterSourceTopic, BrokerHeaders.Text(m.Topic));
                headers.Add(BrokerHeaders.DeadLetterSourcePartition, BrokerHeaders.Number(m.Partition.Value));
                headers.Add(BrokerHeaders.DeadLetterSourceOffset, BrokerHeaders.Number(m.Offset.Value));
                var message = new Message<byte[], byte[]> { Key = m.Message.Key, Value = m.Message.Value, Headers = headers };
                Produce(producer, _options.EffectiveDeadLetterTopic, message, delivery, stop);
                _log.LogDebug("Dead letter {Topic} {Partition} {Offset}: {Reason}", m.Topic, m.Partition.Value, m.Offset.Value, r.Reason);
            }
            Counters.Count(r.Outcome, r.Reason);
        }
        delivery.Wait(producer, () => _fatal);
        if (_fatal is not null) throw new StepException(FailureKind.Fatal, _fatal);
        if (delivery.Error is { } error)
            throw new StepException(FailureKind.Fatal, $"delivery failed after librdkafka's retries ({error}); offsets of the batch were not stored");

        // Every output of the batch is delivered: now, and only now, the input offsets may be stored.
        var offsets = batch.GroupBy(m => m.TopicPartition)
            .Select(g => new TopicPartitionOffset(g.Key, new Offset(g.Max(m => m.Offset.Value) + 1)))
            .ToList();
        try
        {
            foreach (var o in offsets) consumer.StoreOffset(o);
            consumer.Commit(offsets);
        }
        catch (KafkaException ex)
        {
            // A rebalance between delivery and commit: the new owner will replay this batch (bounded duplicates).
            _log.LogWarning("Offsets of a delivered batch not committed ({Reason}); up to {Count} alerts will be replayed", ex.Error.Reason, batch.Length);
        }
        Counters.BatchDone((Stopwatch.GetTimestamp() - started) * 1_000_000 / Stopwatch.Frequency);
    }

    private static Headers CopyHeaders(Headers? source)
    {
        var headers = new Headers();
        if (source is null) return headers;
        foreach (var h in source)
        {
            // A message replayed from a dead-letter topic starts afresh.
            if (h.Key.StartsWith("dlq.", StringComparison.Ordinal)) continue;
            headers.Add(h.Key, h.GetValueBytes());
        }
        return headers;
    }

    /// <summary>Produces, retrying a full local queue with backoff while serving delivery reports.</summary>
    internal static void Produce(IProducer<byte[], byte[]> producer, string topic, Message<byte[], byte[]> message, DeliveryTracker delivery, CancellationToken stop)
    {
        int backoff = 5;
        while (true)
        {
            try
            {
                delivery.Add();
                producer.Produce(topic, message, delivery.Report);
                return;
            }
            catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                delivery.Cancel();
                producer.Poll(TimeSpan.FromMilliseconds(backoff));
                backoff = Math.Min(backoff * 2, 500);
            }
            catch
            {
                delivery.Cancel();
                throw;
            }
        }
    }

    private void UpdateLag(IConsumer<byte[], byte[]> consumer)
    {
        long lag = 0;
        bool known = false;
        foreach (var tp in _assigned)
        {
            try
            {
                var w = consumer.GetWatermarkOffsets(tp);
                var pos = consumer.Position(tp);
                if (w.High.Value < 0 || pos.Value < 0) continue;
                lag += Math.Max(0, w.High.Value - pos.Value);
                known = true;
            }
            catch (KafkaException)
            {
                // Partition moving in a rebalance; its lag is counted next time.
            }
        }
        Counters.Lag = known ? lag : -1;
    }

    private void LogMetrics()
    {
        var s = Counters.Snapshot();
        _log.LogInformation("Step {Step}: in {In}, out {Out}, dead-lettered {DeadLettered}, duplicates {Duplicates}, filtered {Filtered}, lag {Lag}, batch latency mean {MeanBatchMs:F1} ms max {MaxBatchMs:F1} ms",
            s.Step, s.In, s.Out, s.DeadLettered, s.Duplicates, s.Filtered, s.Lag, s.MeanBatchMs, s.MaxBatchMs);
    }
}

/// <summary>Counts outstanding deliveries of a batch and remembers the first failure.</summary>
internal sealed class DeliveryTracker
{
    private int _pending;
    private string? _error;

    public string? Error => Volatile.Read(ref _error);

    public void Add() => Interlocked.Increment(ref _pending);

    public void Cancel() => Interlocked.Decrement(ref _pending);

    public void Report(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError) Interlocked.CompareExchange(ref _error, $"{report.Topic}: {report.Error.Code} {report.Error.Reason}", null);
        Interlocked.Decrement(ref _pending);
    }

    /// <summary>Serves delivery reports until none is outstanding (or a fatal error is raised).</summary>
    public void Wait(IProducer<byte[], byte[]> producer, Func<string?> fatal)
    {
        while (Volatile.Read(ref _pending) > 0 && fatal() is null)
            producer.Flush(TimeSpan.FromMilliseconds(100));
    }
}
