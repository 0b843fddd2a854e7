using System.CommandLine;
using Broker.Alerts.IO;
using Broker.Cli.Pipeline;
using Broker.Ingest;
using Broker.Simulation;
using Broker.Stages;
using Broker.StepHost;

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
        var wait = new Option<bool>("--wait") { Description = "Return only when every alert in the chain's topics has been through every stage (downstream, dead-lettered, or counted as a duplicate or filtered), then print what each stage took in and gave out." };
        var stall = new Option<int>("--wait-stall") { Description = "With --wait: give up (exit 1) when a stage has made no progress for this many seconds.", DefaultValueFactory = _ => 120 };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var command = new Command("replay",
            "Produce alert files into a Kafka topic as the survey would: ZTF alerts as one-alert Avro containers, Rubin alerts as they are (Confluent-framed); key = alert id; header broker.time.replay.");
        inputs.AddTo(command, readerSchema: false);
        command.Options.Add(topic);
        command.Options.Add(rate);
        command.Options.Add(repeat);
        command.Options.Add(wait);
        command.Options.Add(stall);
        command.Options.Add(bootstrap);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            var settings = KafkaSettings.ForBootstrap(KafkaCliOptions.Resolve(parse.GetValue(bootstrap)));
            string t = parse.GetValue(topic)!;
            double r = parse.GetValue(rate);
            int times = parse.GetValue(repeat);
            if (r < 0) throw new CliUsageException("--rate must not be negative");
            if (times < 1) throw new CliUsageException("--repeat must be at least 1");
            var registry = inputs.CreateRegistry(parse);
            var paths = inputs.ExistingPaths(parse);
            if (parse.GetValue(stall) < 1) throw new CliUsageException("--wait-stall must be at least 1 second");
            KafkaClients.CheckCluster(settings, [t], TimeSpan.FromSeconds(10));
            // Before the first message: what the chain's topics hold now is what the counts are measured from.
            using var completion = parse.GetValue(wait) ? new ChainCompletion(BrokerStages.All, settings) : null;
            // Once: streamed. More often: read, split and keyed once, held in memory, and sent that many times.
            // Damaged inputs are named as they are read; those with bytes are sent as the survey would have sent them
            // (ingest dead-letters them), those without (unreadable, over a limit) are not sent. Reading never throws
            // for a damaged file, so the producer is never left with messages queued.
            long unsent = 0;
            void OnBadInput(RawAlertMessage bad)
            {
                if (bad.Bytes.IsEmpty) unsent++;
                AlertInputOptions.ReportBadInput(bad.Source, bad.Error + (bad.Bytes.IsEmpty ? " (not sent)" : " (sent without a key)"));
            }
            IEnumerable<SourceMessage> messages = SurveyFiles.Read(paths, registry, withKeys: true, inputs.Limits(parse), OnBadInput);
            if (times > 1)
            {
                var once = messages.ToList();
                messages = Enumerable.Range(0, times).SelectMany(_ => once);
            }
            var (sent, keyless) = TopicWriter.WriteAll(settings, t, messages, new StreamPacing(r).DueSeconds, ct, CliRun.KafkaLog);
            Console.Error.WriteLine($"replayed {sent} alerts to {t}" + (keyless > 0 ? $" ({keyless} undecodable, sent without a key)" : "")
                + (unsent > 0 ? $"; {unsent} inputs not sent" : ""));
            int exit = keyless + unsent > 0 ? 1 : 0;
            if (completion is null) return exit;
            try
            {
                await completion.WaitAsync(TimeSpan.FromSeconds(parse.GetValue(stall)), Console.Error.WriteLine, ct);
            }
            catch (TimeoutException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                Console.Out.WriteLine(ChainCompletion.Render(completion.Counts()));
                return 1;
            }
            Console.Error.WriteLine("every alert has been through the chain");
            Console.Out.WriteLine(ChainCompletion.Render(completion.Counts()));
            return exit;
        }));
        return command;
    }
}
