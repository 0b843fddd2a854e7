using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;
using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker subscribe TOPIC --out DIR</c>: consume Broker output and write each alert as an Avro container file
/// (<c>&lt;alertId&gt;.avro</c>, broker schema) plus its cutouts as PNG (<c>&lt;alertId&gt;_science.png</c>, ...).
/// Dead-letter topics (<c>*.dlq</c>) are written as the original bytes (<c>.bin</c>) and their headers (<c>.json</c>).
/// </summary>
internal static class SubscribeCommand
{
    public static Command Create()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to read (broker.ingested, or a .dlq topic)." };
        var output = new Option<string>("--out") { Description = "Folder to write alerts and cutouts into.", Required = true };
        var group = new Option<string?>("--group") { Description = "Consumer group (default: a new group per run, so nothing is committed for others)." };
        var from = new Option<string>("--from") { Description = "Where a new group starts: beginning or end.", DefaultValueFactory = _ => "end" };
        var max = new Option<long>("--max") { Description = "Stop after this many alerts (0: never)." };
        var idle = new Option<double>("--idle-exit") { Description = "Stop after this many seconds without a message (0: never)." };
        var noPng = new Option<bool>("--no-png") { Description = "Do not write cutout PNGs." };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var command = new Command("subscribe", "Consume a Broker topic and write each alert as Avro plus its cutouts as PNG, with a progress line.");
        command.Arguments.Add(topic);
        command.Options.Add(output);
        command.Options.Add(group);
        command.Options.Add(from);
        command.Options.Add(max);
        command.Options.Add(idle);
        command.Options.Add(noPng);
        command.Options.Add(bootstrap);
        command.SetAction((parse, ct) => CliRun.GuardAsync(() =>
        {
            string t = parse.GetValue(topic)!, dir = parse.GetValue(output)!, start = parse.GetValue(from)!;
            if (start is not ("beginning" or "end")) throw new CliUsageException("--from must be beginning or end");
            var settings = KafkaSettings.ForBootstrap(KafkaCliOptions.Resolve(parse.GetValue(bootstrap)));
            KafkaClients.CheckCluster(settings, [t], TimeSpan.FromSeconds(10));
            CliRun.OutputFolder("--out", dir);
            string groupId = parse.GetValue(group) ?? "broker-subscribe-" + Guid.NewGuid().ToString("N")[..12];
            var config = KafkaClients.ConsumerConfig(settings, groupId, start == "beginning" ? "earliest" : "latest");
            config.EnableAutoOffsetStore = true;
            config.EnableAutoCommit = true;
            using var consumer = KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(config).SetValueDeserializer(KafkaClients.ValueDeserializer).SetLogHandler(KafkaClients.LogTo(CliRun.KafkaLog)).Build(), "consumer");
            consumer.Subscribe(t);
            bool dlq = t.EndsWith(".dlq", StringComparison.Ordinal);
            long count = 0, limit = parse.GetValue(max), failed = 0;
            double idleSeconds = parse.GetValue(idle);
            bool png = !parse.GetValue(noPng);
            bool terminal = !Console.IsErrorRedirected;
            var lastMessage = DateTime.UtcNow;
            while (!ct.IsCancellationRequested && (limit == 0 || count < limit))
            {
                ConsumeResult<byte[], byte[]>? cr;
                try
                {
                    cr = consumer.Consume(TimeSpan.FromMilliseconds(200));
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    Console.Error.WriteLine($"warning: {e.Error.Reason}");
                    continue;
                }
                if (cr is null)
                {
                    if (idleSeconds > 0 && (DateTime.UtcNow - lastMessage).TotalSeconds >= idleSeconds) break;
                    continue;
                }
                lastMessage = DateTime.UtcNow;
                try
                {
                    if (dlq) WriteDeadLetter(dir, cr);
                    else WriteAlert(dir, cr.Message.Value, png);
                }
                catch (Exception e) when (e is FormatException or InvalidCastException or IOException)
                {
                    failed++;
                    Console.Error.WriteLine($"{(terminal ? "\n" : "")}error: {cr.Topic}[{cr.Partition.Value}]@{cr.Offset.Value}: {e.Message}");
                }
                count++;
                if (terminal && count % 10 == 0) Console.Error.Write($"\r{count} alerts from {t} -> {dir}");
            }
            consumer.Close();
            Console.Error.WriteLine($"{(terminal ? "\r" : "")}{count} alerts from {t} -> {dir}" + (failed > 0 ? $" ({failed} could not be written)" : ""));
            return Task.FromResult(failed > 0 ? 1 : 0);
        }));
        return command;
    }

    private static void WriteAlert(string dir, byte[] value, bool png)
    {
        var alert = BrokerAlertCodec.Decode(value);
        string id = alert.AlertId.ToString(CultureInfo.InvariantCulture);
        // The bytes as they came, under the schema they were written with (1.0 and 1.1 records may share a topic).
        using (var writer = new AvroContainerWriter(File.Create(Path.Combine(dir, id + ".avro")), BrokerAlertCodec.WriterSchemaOf(value)))
            writer.AppendEncoded(value);
        if (!png || alert.Cutouts is not { } c) return;
        for (int i = 0; i < SurveyAlertMapper.CutoutKinds.Length; i++)
        {
            if (c[i] is not { } bytes) continue;
            var image = FitsFile.ReadFirstImage(bytes);
            using var f = File.Create(Path.Combine(dir, $"{id}_{SurveyAlertMapper.CutoutKinds[i]}.png"));
            PngWriter.Write(f, image);
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static void WriteDeadLetter(string dir, ConsumeResult<byte[], byte[]> cr)
    {
        string name = $"{cr.Partition.Value}-{cr.Offset.Value}";
        File.WriteAllBytes(Path.Combine(dir, name + ".bin"), cr.Message.Value ?? []);
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in cr.Message.Headers ?? []) headers[h.Key] = Encoding.UTF8.GetString(h.GetValueBytes());
        var key = cr.Message.Key is null ? null : Encoding.UTF8.GetString(cr.Message.Key);
        File.WriteAllText(Path.Combine(dir, name + ".json"), JsonSerializer.Serialize(new { key, headers }, IndentedJson));
    }
}
