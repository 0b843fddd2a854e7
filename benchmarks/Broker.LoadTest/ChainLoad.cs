using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Alerts.IO;
using Broker.Simulation;
using Broker.Stages;
using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.LoadTest;

/// <summary>
/// The whole chain over Kafka (issue 16, items 3 and 4): a paced stream of simulated alerts into a running
/// <c>broker up</c>, read back from the chain's last topic, with per-hop and end-to-end latency from the
/// <c>broker.time.&lt;stage&gt;</c> headers each stage stamps (carried forward, so the last topic holds them all), and
/// the CPU each stage's processes spent per alert (from /proc, the instances <c>broker up</c> lists).
/// </summary>
/// <remarks>
/// Usage: <c>Broker.LoadTest.dll --chain --bootstrap HOST:PORT --up-logs DIR [--rate 300] [--seconds 30]
/// [--survey ztf|lsst] [--seed 1] [--warmup 3]</c>. <c>--rate 0</c> sends as fast as the producer can and measures
/// the chain's throughput instead. The first <c>--warmup</c> seconds of alerts are sent but not measured.
/// </remarks>
internal static class ChainLoad
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var c = CultureInfo.InvariantCulture;
        string bootstrap = Arg("--bootstrap", "");
        string upLogs = Arg("--up-logs", "");
        double rate = double.Parse(Arg("--rate", "300"), c);
        double seconds = double.Parse(Arg("--seconds", "30"), c);
        double warmup = double.Parse(Arg("--warmup", "3"), c);
        var survey = Arg("--survey", "ztf") == "lsst" ? SurveyKind.Lsst : SurveyKind.Ztf;
        ulong seed = ulong.Parse(Arg("--seed", "1"), c);
        if (bootstrap.Length == 0 || upLogs.Length == 0)
        {
            Console.Error.WriteLine("usage: --chain --bootstrap HOST:PORT --up-logs DIR (broker up --logs DIR) [--rate 300] [--seconds 30] [--survey ztf|lsst]");
            return 2;
        }
        int count = rate > 0 ? (int)(rate * seconds) : (int)seconds * 100;
        int skip = rate > 0 ? (int)(rate * warmup) : 0;
        Console.Error.WriteLine($"simulating {count} {survey} alerts (seed {seed})...");
        var messages = AlertSimulator.Generate(new SimulationOptions { Survey = survey, Seed = seed, AlertsPerNight = count })
            .Take(count).Select((a, i) => new SourceMessage("chain-load", i, a.ToPacket(survey), a.AlertId.ToString(c))).ToList();
        count = messages.Count;
        var settings = KafkaSettings.ForBootstrap(bootstrap);
        var stages = BrokerStages.All.Stages;
        string last = stages[^1].Outputs[0].Name;
        var partitions = KafkaClients.CheckCluster(settings, [last], TimeSpan.FromSeconds(10))[last];

        using var consumer = new ConsumerBuilder<byte[], Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "chain-load-" + Guid.NewGuid().ToString("N"), EnableAutoCommit = false, FetchWaitMaxMs = 10 })
            .SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(last, p, Offset.End)));
        // Assignment at the end takes effect on the first consume: one short poll fixes the positions before any send.
        consumer.Consume(TimeSpan.FromMilliseconds(500));
        var cpuBefore = StageCpu(upLogs);
        var measured = new HashSet<string>(messages.Skip(skip).Select(m => m.Key!), StringComparer.Ordinal);
        var producer = Task.Run(() => TopicWriter.WriteAll(settings, BrokerTopics.SurveyAlerts, messages, rate > 0 ? new StreamPacing(rate).DueSeconds : null, CancellationToken.None));
        var clock = Stopwatch.StartNew();
        var hops = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var endToEnd = new List<double>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        double lastArrival = 0;
        var idleSince = Stopwatch.StartNew();
        while (seen.Count < count && idleSince.Elapsed < TimeSpan.FromSeconds(60))
        {
            var m = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (m?.Message is null) continue;
            idleSince.Restart();
            string key = Encoding.UTF8.GetString(m.Message.Key ?? []);
            if (!seen.Add(key)) continue;
            lastArrival = clock.Elapsed.TotalSeconds;
            if (!measured.Contains(key)) continue;
            string? previous = null;
            long first = 0, previousStamp = 0, lastStamp = 0;
            foreach (var h in m.Message.Headers)
            {
                if (!h.Key.StartsWith(BrokerHeaders.TimePrefix, StringComparison.Ordinal) || BrokerHeaders.ParseNumber(h.GetValueBytes()) is not { } stamp) continue;
                string stage = h.Key[BrokerHeaders.TimePrefix.Length..];
                if (previous is null) first = stamp;
                else
                {
                    string hop = previous + " -> " + stage;
                    if (!hops.TryGetValue(hop, out var list)) hops[hop] = list = [];
                    list.Add((stamp - previousStamp) / 1000.0);
                }
                previous = stage;
                previousStamp = lastStamp = stamp;
            }
            if (first > 0) endToEnd.Add((lastStamp - first) / 1000.0);
        }
        var (sent, _) = producer.GetAwaiter().GetResult();
        var cpuAfter = StageCpu(upLogs);
        Console.WriteLine($"chain over Kafka: {survey}, {sent} alerts sent at {(rate > 0 ? rate.ToString("F0", c) + "/s" : "full speed")}, {seen.Count} read back from {last} in {lastArrival:F1} s ({seen.Count / Math.Max(lastArrival, 1e-9):F0} alerts/s); {endToEnd.Count} measured (after {skip} warm-up alerts)");
        Console.WriteLine($"{"hop",-26} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9} {"max ms",9}");
        foreach (var (hop, list) in hops) Console.WriteLine(Row(hop, list));
        Console.WriteLine(Row("end to end", endToEnd));
        Console.WriteLine($"{"stage",-12} {"instances",9} {"CPU s",8} {"CPU ms/alert",13}");
        string busiest = "";
        double busiestCost = -1;
        foreach (var stage in stages)
        {
            var (instances, before) = cpuBefore.GetValueOrDefault(stage.Name);
            var (_, after) = cpuAfter.GetValueOrDefault(stage.Name);
            double cpu = after - before, perAlert = 1000 * cpu / Math.Max(1, seen.Count);
            Console.WriteLine($"{stage.Name,-12} {instances,9} {cpu,8:F2} {perAlert,13:F3}");
            if (perAlert / Math.Max(1, instances) > busiestCost) (busiest, busiestCost) = (stage.Name, perAlert / Math.Max(1, instances));
        }
        Console.WriteLine($"scale first: {busiest} ({busiestCost:F3} CPU ms per alert per instance, the most of any stage)");
        return seen.Count == count ? 0 : 1;
    }

    private static string Row(string name, List<double> values)
    {
        if (values.Count == 0) return $"{name,-26} (none)";
        values.Sort();
        double P(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture, $"{name,-26} {P(0.5),9:F1} {P(0.9),9:F1} {P(0.99),9:F1} {values[^1],9:F1}");
    }

    /// <summary>Per stage: its instances and their user + system CPU seconds so far (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
    private static Dictionary<string, (int Instances, double Seconds)> StageCpu(string upLogs)
    {
        var result = new Dictionary<string, (int, double)>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(upLogs, "instances.json")));
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            string stage = e.GetProperty("stage").GetString()!;
            int pid = e.GetProperty("pid").GetInt32();
            double cpu = 0;
            try
            {
                // Fields after the command name (which is in parentheses and may hold spaces): utime is the 14th field, stime the 15th.
                string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
                // The instance is gone (restarting): its CPU is not counted.
            }
            var (n, s) = result.GetValueOrDefault(stage);
            result[stage] = (n + 1, s + cpu);
        }
        return result;
    }
}
