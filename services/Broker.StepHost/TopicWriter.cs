using System.Text;
using Broker.Alerts.IO;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Produces messages into Kafka with the host's delivery rules: a full local queue is retried with backoff while
/// delivery reports are served, every delivery is tracked, and the first failure is reported. The host produces its
/// batches through <see cref="Produce"/>; <c>broker replay</c>, <c>broker simulate --kafka</c>, the load harness and
/// the tests write whole streams through <see cref="WriteAll"/>.
/// </summary>
public static class TopicWriter
{
    /// <summary>
    /// Produces <paramref name="messages"/> into <paramref name="topic"/>, each keyed by its alert id (when known) and
    /// stamped with a <c>broker.time.replay</c> header, message <c>i</c> no earlier than <paramref name="dueSeconds"/>(i)
    /// after the start (null: as fast as possible); then waits until every one is delivered. librdkafka's log lines go to
    /// <paramref name="logger"/> (none when null).
    /// </summary>
    /// <returns>How many were sent, and how many of them had no key.</returns>
    /// <exception cref="KafkaException">A message was not delivered.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="stop"/> was cancelled.</exception>
    public static (long Sent, long Keyless) WriteAll(KafkaSettings settings, string topic, IEnumerable<SourceMessage> messages,
        Func<long, double>? dueSeconds, CancellationToken stop, ILogger? logger = null)
    {
        using var producer = KafkaClients.Producer(settings, logger: logger);
        var delivery = new DeliveryTracker();
        string replayHeader = BrokerHeaders.TimeHeader("replay");
        long sent = 0, keyless = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var m in messages)
        {
            stop.ThrowIfCancellationRequested();
            if (dueSeconds is not null)
            {
                double wait = dueSeconds(sent) - clock.Elapsed.TotalSeconds;
                if (wait > 0.001) Thread.Sleep(TimeSpan.FromSeconds(wait));
            }
            if (m.Key is null) keyless++;
            var headers = new Headers { { replayHeader, BrokerHeaders.Number(BrokerHeaders.NowMicros()) } };
            Produce(producer, topic, new Message<byte[], byte[]> { Key = m.Key is null ? null! : Encoding.UTF8.GetBytes(m.Key), Value = m.Value, Headers = headers }, delivery);
            sent++;
        }
        delivery.Wait(() => stop.IsCancellationRequested ? "cancelled" : null);
        stop.ThrowIfCancellationRequested();
        if (delivery.Error is { } error)
            throw new KafkaException(new Error(ErrorCode.Local_Fail, $"{delivery.Failed} of {sent} messages not delivered: {error}"));
        return (sent, keyless);
    }

    /// <summary>Produces, retrying a full local queue with backoff while serving delivery reports.</summary>
    internal static void Produce(IProducer<byte[], byte[]> producer, string topic, Message<byte[], byte[]> message, DeliveryTracker delivery)
    {
        int backoff = 5;
        while (true)
        {
            try
            {
                delivery.Add();
                producer.Produce(topic, message, delivery.Handler);
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
}

/// <summary>Counts outstanding deliveries of a batch, remembers the first failure, and wakes a waiter when none is left.</summary>
internal sealed class DeliveryTracker
{
    private readonly object _gate = new();
    private int _pending;
    private string? _error;
    private long _failed;

    public string? Error => Volatile.Read(ref _error);

    public void Add()
    {
        lock (_gate) _pending++;
    }

    public void Cancel() => Settle();

    public DeliveryTracker() => Handler = Report;

    /// <summary>The delivery handler, one delegate per batch rather than one per message.</summary>
    public Action<DeliveryReport<byte[], byte[]>> Handler { get; }

    /// <summary>How many deliveries failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public void Report(DeliveryReport<byte[], byte[]> report)
    {
        if (report.Error.IsError)
        {
            Interlocked.Increment(ref _failed);
            Interlocked.CompareExchange(ref _error, $"{report.Topic}: {report.Error.Code} {report.Error.Reason}", null);
        }
        Settle();
    }

    private void Settle()
    {
        lock (_gate)
        {
            if (--_pending == 0) Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Waits until no delivery is outstanding (or a fatal error is raised). Confluent.Kafka's background poll thread
    /// serves the delivery reports; the last one wakes this wait. (Waiting in <c>Flush</c> instead cost up to 10 ms per
    /// batch: librdkafka's flush re-checks the queue every 10 ms, and the poll thread takes the reports it waits for.)
    /// </summary>
    public void Wait(Func<string?> fatal)
    {
        lock (_gate)
        {
            while (_pending > 0 && fatal() is null) Monitor.Wait(_gate, 50);
        }
    }
}
