using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// The transport's floor for the host's pass-through (issue 9): a consume-and-produce loop written by hand on bare
/// Confluent.Kafka, with the host's client settings and batch rules and nothing else. Its consumer and producer are
/// built from the same <see cref="KafkaSettings"/> through <see cref="KafkaClients.ConsumerConfig"/> and
/// <see cref="KafkaClients.ProducerConfig"/> (so the same librdkafka settings: manual offset store and commit,
/// cooperative-sticky, <c>fetch.wait.max.ms</c>, <c>fetch.max.bytes</c>, <c>acks</c>, <c>linger.ms</c>, delivery
/// report fields), with the host consumer's consume-result fields and value deserializer. It consumes up to
/// <c>batchSize</c> messages (waiting at most <c>batchWaitMs</c> after the first, as the host does), produces each
/// message's key, value and headers as they came to <c>output</c>, waits until every one is delivered, then commits
/// the batch's next offset per partition synchronously. No decoding, step, dead letters, accounting, replay guard,
/// added headers or pipelining.
/// </summary>
internal sealed class BareLoop(KafkaSettings kafka, string groupId, string input, string output, int batchSize, int batchWaitMs)
{
    private int _assigned;

    /// <summary>How many partitions the loop's consumer holds now.</summary>
    public int AssignedPartitions => Volatile.Read(ref _assigned);

    /// <summary>Raised after each batch is delivered and committed, with the number of messages committed so far.</summary>
    public event Action<long>? BatchCompleted;

    /// <summary>Runs until <paramref name="stop"/> is cancelled, then closes the consumer (leaves the group).</summary>
    public void Run(CancellationToken stop)
    {
        var config = KafkaClients.ConsumerConfig(kafka, groupId);
        // The host's own consumer asks Confluent.Kafka for these fields only (unless configured); so does this loop.
        const string consumeResultFields = "dotnet.consumer.consume.result.fields";
        if (!kafka.For(kafka.Consumer).ContainsKey(consumeResultFields)) config.Set(consumeResultFields, "topic,headers");
        using var producer = KafkaClients.Producer(kafka);
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetValueDeserializer(KafkaClients.ValueDeserializer)
            .SetLogHandler(KafkaClients.LogTo(NullLogger.Instance))
            .SetPartitionsAssignedHandler((_, parts) => Interlocked.Add(ref _assigned, parts.Count))
            .SetPartitionsRevokedHandler((_, parts) => Interlocked.Add(ref _assigned, -parts.Count))
            .Build();
        consumer.Subscribe(input);
        var batch = new List<ConsumeResult<byte[], byte[]>>(batchSize);
        var delivery = new Delivery();
        long committed = 0;
        while (!stop.IsCancellationRequested)
        {
            if (!Collect(consumer, batch, stop)) continue;
            Produce(producer, batch, delivery);
            delivery.Wait();
            Commit(consumer, batch);
            committed += batch.Count;
            batch.Clear();
            BatchCompleted?.Invoke(committed);
        }
        consumer.Close();
    }

    private bool Collect(IConsumer<byte[], byte[]> consumer, List<ConsumeResult<byte[], byte[]>> batch, CancellationToken stop)
    {
        long deadline = 0;
        while (batch.Count < batchSize && !stop.IsCancellationRequested)
        {
            var cr = consumer.Consume(batch.Count == 0 ? 200 : (int)Math.Max(0, deadline - Environment.TickCount64));
            if (cr is null || cr.IsPartitionEOF)
            {
                if (batch.Count == 0 || Environment.TickCount64 >= deadline) break;
                continue;
            }
            if (batch.Count == 0) deadline = Environment.TickCount64 + batchWaitMs;
            batch.Add(cr);
        }
        return batch.Count > 0;
    }

    private void Produce(IProducer<byte[], byte[]> producer, List<ConsumeResult<byte[], byte[]>> batch, Delivery delivery)
    {
        delivery.Expect(batch.Count);
        foreach (var cr in batch)
        {
            var message = new Message<byte[], byte[]> { Key = cr.Message.Key, Value = cr.Message.Value, Headers = cr.Message.Headers };
            while (true)
            {
                try
                {
                    producer.Produce(output, message, delivery.Handler);
                    break;
                }
                catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(5));
                }
            }
        }
    }

    private static void Commit(IConsumer<byte[], byte[]> consumer, List<ConsumeResult<byte[], byte[]>> batch)
    {
        var next = new Dictionary<TopicPartition, long>();
        foreach (var cr in batch)
        {
            var tp = cr.TopicPartition;
            if (!next.TryGetValue(tp, out long offset) || offset <= cr.Offset.Value) next[tp] = cr.Offset.Value + 1;
        }
        var offsets = new List<TopicPartitionOffset>(next.Count);
        foreach (var (tp, offset) in next) offsets.Add(new TopicPartitionOffset(tp, offset));
        consumer.Commit(offsets);
    }

    /// <summary>Counts a batch's outstanding deliveries; <see cref="Wait"/> returns when none is left, throws on a failure.</summary>
    private sealed class Delivery
    {
        private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
        private int _pending;
        private string? _error;

        public Delivery() => Handler = Report;

        public Action<DeliveryReport<byte[], byte[]>> Handler { get; }

        public void Expect(int count)
        {
            _done.Reset();
            Volatile.Write(ref _pending, count);
        }

        public void Wait()
        {
            _done.Wait();
            if (Volatile.Read(ref _error) is { } error) throw new InvalidOperationException($"delivery failed: {error}");
        }

        private void Report(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError) Interlocked.CompareExchange(ref _error, $"{report.Error.Code} {report.Error.Reason}", null);
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }
}
