using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Broker.Ingest;
using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.Cli.Commands;

/// <summary><c>broker replay PATH... --topic T</c>: alert files into a topic, one message per alert, keyed by alert id.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var topic = new Option<string>("--topic") { Description = "Topic to produce to.", DefaultValueFactory = _ => BrokerTopics.SurveyAlerts };
        var rate = new Option<double>("--rate") { Description = "Alerts per second (0: as fast as possible)." };
        var repeat = new Option<int>("--repeat") { Description = "Replay the files this many times (load tests; the alerts are then held in memory).", DefaultValueFactory = _ => 1 };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var command = new Command("replay",
            "Produce alert files into a Kafka topic as the survey would: ZTF alerts as one-alert Avro containers, Rubin alerts as they are (Confluent-framed); key = alert id; header broker.time.replay.");
        inputs.AddTo(command);
        command.Options.Add(topic);
        command.Options.Add(rate);
        command.Options.Add(repeat);
        command.Options.Add(bootstrap);
        command.SetAction((parse, ct) => KafkaCliOptions.GuardAsync(() =>
        {
            var settings = KafkaSettings.ForBootstrap(KafkaCliOptions.Resolve(parse.GetValue(bootstrap)));
            string t = parse.GetValue(topic)!;
            double r = parse.GetValue(rate);
            int times = parse.GetValue(repeat);
            if (r < 0) throw new CliUsageException("--rate must not be negative");
            if (times < 1) throw new CliUsageException("--repeat must be at least 1");
            var registry = KafkaCliOptions.Registry(parse.GetValue(inputs.Schemas), parse.GetValue(inputs.SchemaRegistry));
            var paths = parse.GetValue(inputs.Paths)!;
            foreach (var p in paths)
            {
                if (!File.Exists(p) && !Directory.Exists(p)) throw new CliUsageException($"no such file or folder: {p}");
            }
            KafkaClients.CheckCluster(settings, [t], TimeSpan.FromSeconds(10));
            // Once: streamed. More often: read, split and keyed once, held in memory, and sent that many times.
            IEnumerable<SourceMessage> messages = SurveyFiles.Read(paths, registry);
            if (times > 1)
            {
                var once = messages.ToList();
                messages = Enumerable.Range(0, times).SelectMany(_ => once);
            }
            var (sent, keyless) = Replay(settings, t, messages, r, ct);
            Console.Error.WriteLine($"replayed {sent} alerts to {t}" + (keyless > 0 ? $" ({keyless} undecodable, sent without a key)" : ""));
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Produces the messages and waits until all are delivered; returns (sent, without key).</summary>
    /// <exception cref="KafkaException">Delivery failed.</exception>
    public static (long Sent, long Keyless) Replay(KafkaSettings settings, string topic, IEnumerable<SourceMessage> messages, double rate, CancellationToken ct)
    {
        using var producer = KafkaClients.Producer(settings);
        var delivery = new List<string>();
        long sent = 0, keyless = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        foreach (var m in messages)
        {
            ct.ThrowIfCancellationRequested();
            if (rate > 0)
            {
                double due = sent / rate * 1000;
                double wait = due - clock.Elapsed.TotalMilliseconds;
                if (wait > 1) Thread.Sleep(TimeSpan.FromMilliseconds(wait));
            }
            var headers = new Headers { { BrokerHeaders.TimeHeader("replay"), BrokerHeaders.Number(BrokerHeaders.NowMicros()) } };
            var message = new Message<byte[], byte[]> { Key = m.Key is null ? null! : Encoding.UTF8.GetBytes(m.Key), Value = m.Value, Headers = headers };
            if (m.Key is null) keyless++;
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, r =>
                    {
                        if (r.Error.IsError && Interlocked.Increment(ref failed) == 1) lock (delivery) delivery.Add(r.Error.Reason);
                    });
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
            sent++;
        }
        while (producer.Flush(TimeSpan.FromSeconds(1)) > 0) ct.ThrowIfCancellationRequested();
        if (failed > 0) throw new KafkaException(new Error(ErrorCode.Local_Fail, $"{failed} messages not delivered: {delivery[0]}"));
        return (sent, keyless);
    }
}
