using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Broker.Alerts.IO;
using Broker.Simulation;
using Broker.Stages;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker simulate</c>: writes a simulated ZTF or Rubin alert stream with ground truth (issue 4), to files or, with
/// <c>--kafka</c>, straight into a topic at a chosen rate.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var outDir = new Option<string>("--out") { Description = "Output folder: alerts/ and truth.csv (with --kafka: truth.csv only)", DefaultValueFactory = _ => "simulated" };
        var layout = new Option<string>("--layout") { Description = "visit: one Avro container file per exposure; alert: one file per alert as the survey sends it", DefaultValueFactory = _ => "visit" };
        var noCutouts = new Option<bool>("--no-cutouts") { Description = "Leave cutouts null (faster load tests)" };
        var workers = new Option<int>("--workers") { Description = "Encoding threads (output does not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var kafka = new Option<string?>("--kafka")
        {
            Description = "Produce into Kafka at this bootstrap address (HOST:PORT,...) instead of writing alert files; 'dev' for the running `broker dev-kafka`",
        };
        var topic = new Option<string>("--topic") { Description = "Topic for --kafka", DefaultValueFactory = _ => BrokerTopics.SurveyAlerts };
        var rate = new Option<double>("--rate") { Description = "With --kafka: mean alerts per second (0: as fast as they are made)" };
        var burst = new Option<int>("--burst") { Description = "With --kafka: send N alerts at once, then wait to keep --rate (Rubin: ~10000 per visit every ~40 s)" };
        var command = new Command("simulate", "Simulate a ZTF or Rubin alert stream with cutouts and ground truth (truth.csv), into files or a Kafka topic");
        // The options that shape the populations are catalog build --simulated's too (SimulationSkyOptions).
        var sky = new SimulationSkyOptions(descriptionPrefix: "");
        sky.AddTo(command);
        foreach (var o in new Option[] { outDir, layout, noCutouts, workers, kafka, topic, rate, burst }) command.Options.Add(o);
        command.SetAction((parseResult, ct) => CliRun.GuardAsync(async () =>
        {
            var options = sky.Options(parseResult) with
            {
                Cutouts = !parseResult.GetValue(noCutouts),
                Workers = parseResult.GetValue(workers),
            };
            string dir = parseResult.GetValue(outDir) ?? "simulated";
            var clock = Stopwatch.StartNew();
            string? bootstrap = parseResult.GetValue(kafka);
            if (bootstrap is not null)
            {
                double r = parseResult.GetValue(rate);
                int b = parseResult.GetValue(burst);
                if (r < 0) throw new CliUsageException("--rate must not be negative");
                if (b < 0) throw new CliUsageException("--burst must not be negative");
                string t = parseResult.GetValue(topic)!;
                var settings = KafkaSettings.ForBootstrap(KafkaCliOptions.Resolve(bootstrap == "dev" ? null : bootstrap));
                KafkaClients.CheckCluster(settings, [t], TimeSpan.FromSeconds(10));
                long sent = ProduceToKafka(options, settings, t, new StreamPacing(r, b), dir, ct);
                double sec = clock.Elapsed.TotalSeconds;
                Console.WriteLine(FormattableString.Invariant(
                    $"{sent} alerts produced to {t}; truth in {Path.Combine(dir, "truth.csv")}; {sec:F1} s, {sent / Math.Max(sec, 1e-9):F0} alerts/s"));
                return 0;
            }
            var lay = parseResult.GetValue(layout) == "alert" ? OutputLayout.PerAlert : OutputLayout.PerVisit;
            var summary = await AlertSimulator.WriteAsync(options, dir, lay, ct);
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(FormattableString.Invariant(
                $"{summary.Alerts} alerts from {summary.Visits} visits in {summary.Files} files under {Path.Combine(dir, "alerts")}; truth in {Path.Combine(dir, "truth.csv")}; {seconds:F1} s, {summary.Alerts / Math.Max(seconds, 1e-9):F0} alerts/s on {options.Workers} workers"));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Streams the simulated alerts into <paramref name="topic"/> through <c>broker replay</c>'s writer (one
    /// message per alert, the survey's packet, keyed by alert id), paced by <paramref name="pacing"/>, writing
    /// truth.csv as it goes. Returns the alerts sent.
    /// </summary>
    private static long ProduceToKafka(SimulationOptions options, KafkaSettings settings, string topic, StreamPacing pacing, string dir, CancellationToken ct)
    {
        Directory.CreateDirectory(dir);
        using var truth = new StreamWriter(Path.Combine(dir, "truth.csv"), false, new UTF8Encoding(false), 1 << 16);
        truth.WriteLine(TruthRecord.Header);
        var (sent, _) = TopicWriter.WriteAll(settings, topic, Messages(options, truth, ct), pacing.DueSeconds, ct);
        return sent;
    }

    private static IEnumerable<SourceMessage> Messages(SimulationOptions options, StreamWriter truth, CancellationToken ct)
    {
        string ephemeris = AlertSimulator.EphemerisName;
        int index = 0;
        foreach (var alert in AlertSimulator.Generate(options, ct))
        {
            truth.WriteLine(alert.Truth.ToCsv(ephemeris));
            string key = alert.AlertId.ToString(CultureInfo.InvariantCulture);
            yield return new SourceMessage("simulate", index++, alert.ToPacket(options.Survey), key);
        }
    }
}
