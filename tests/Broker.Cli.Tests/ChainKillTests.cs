using System.Diagnostics;
using System.Globalization;
using System.Text;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Ingest;
using Broker.Stages;
using Broker.TestSupport;
using Confluent.Kafka;
using Xunit.Abstractions;

namespace Broker.Cli.Tests;

/// <summary>
/// Issue 16, item 2: conservation across every hop. Every real alert is fed through <c>broker up</c> (each stage its
/// own process over the mock cluster) while service instances are killed with SIGKILL and restarted; each alert id
/// then appears in every stage's output topic or in that stage's dead-letter topic, every filter's topic holds exactly
/// its matches, and the duplicates the kills cause are counted per hop and bounded by what was in flight. Six stages,
/// the filter service last, each its own process.
/// </summary>
public sealed class ChainKillTests(ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 16;
    private const int BatchSize = 50;
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-chain-kill").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [OracleFact]
    public async Task Every_alert_reaches_every_hop_or_its_dead_letters_while_instances_are_killed_and_restarted()
    {
        string schemas = SharedData.Path("lsst/schema");
        string[] inputs = [SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")];
        var expected = new HashSet<long>();
        foreach (var item in new AlertFileReader(new FolderSchemaRegistry(schemas)).Read(inputs))
            expected.Add(SurveyAlertMapper.Map(item.Record!).AlertId);

        string logs = Path.Combine(_dir, "logs");
        using var up = Start("up", "--logs", logs, "--partitions", Partitions.ToString(CultureInfo.InvariantCulture), "--instances", "crossmatch=2",
            "--set", "Ingest:SchemaFolder=" + schemas, "--set", "StepHost:BatchSize=" + BatchSize.ToString(CultureInfo.InvariantCulture));
        var upErr = up.StandardError.ReadToEndAsync();
        try
        {
            string? bootstrap = null;
            while (up.StandardOutput.ReadLine() is { } line && line != "ready")
                if (line.StartsWith("bootstrap ", StringComparison.Ordinal)) bootstrap = line["bootstrap ".Length..];
            Assert.True(bootstrap is not null && !up.HasExited, up.HasExited ? await upErr : "no bootstrap line");

            using var replay = Start(["replay", .. inputs, "--schemas", schemas, "--rate", "40", "--wait", "--wait-stall", "180", "--bootstrap", bootstrap!]);
            var replayOut = replay.StandardOutput.ReadToEndAsync();
            var replayErr = replay.StandardError.ReadToEndAsync();
            // Four SIGKILLs of instances chosen at random (seeded), a few seconds apart, while the stream is fed and
            // processed; each comes back under broker up's supervision.
            var random = new Random(16);
            var killed = new List<string>();
            for (int k = 0; k < 4 && !replay.HasExited; k++)
            {
                await Task.Delay(TimeSpan.FromSeconds(2 + random.Next(3)));
                var instances = UpInstance.Read(logs);
                var victim = instances[random.Next(instances.Count)];
                try
                {
                    using var p = Process.GetProcessById(victim.Pid);
                    p.Kill();
                    killed.Add($"{victim.Stage}-{victim.Number}");
                }
                catch (ArgumentException)
                {
                    // Between two starts: no process to kill this time.
                }
            }
            Assert.True(replay.WaitForExit(TimeSpan.FromMinutes(8)), "replay --wait did not return");
            replay.WaitForExit();
            string counts = await replayOut;
            output.WriteLine($"killed: {string.Join(", ", killed)}\n{counts}\n{await replayErr}");
            Assert.True(replay.ExitCode == 0, await replayErr);
            Assert.NotEmpty(killed);

            var restarts = UpInstance.Read(logs).Sum(i => i.Restarts);
            Assert.True(restarts >= killed.Count, $"{restarts} restarts for {killed.Count} kills");
            // Every hop: each alert id in the stage's output or its dead letters; duplicates counted and bounded by
            // what a killed instance can have had in flight (a batch delivered but not committed, per kill).
            var report = new StringBuilder();
            foreach (var stage in BrokerStages.All.Stages)
            {
                var (outIds, outMessages) = Keys(bootstrap!, stage.Outputs[0].Name);
                var (deadIds, _) = Keys(bootstrap!, stage.DeadLetterTopic);
                var missing = expected.Where(id => !outIds.Contains(id) && !deadIds.Contains(id)).ToList();
                Assert.True(missing.Count == 0, $"{stage.Name}: {missing.Count} alert ids in neither {stage.Outputs[0].Name} nor {stage.DeadLetterTopic}: {string.Join(", ", missing.Take(10))}");
                Assert.Empty(outIds.Except(expected));
                int duplicates = outMessages - outIds.Count;
                report.AppendLine(CultureInfo.InvariantCulture, $"{stage.Name}: {outIds.Count} ids in {stage.Outputs[0].Name} ({outMessages} messages, {duplicates} duplicates), {deadIds.Count} dead-lettered");
                Assert.True(duplicates <= killed.Count * BatchSize * Partitions, $"{stage.Name}: {duplicates} duplicates");
            }
            // The filters broker up published: each one's topic holds exactly the alerts it matches among those the
            // filter service read (broker.classified), as the language evaluates them in process; duplicates bounded.
            var classified = ReadAll(bootstrap!, "broker.classified")
                .Select(m => BrokerAlertCodec.Decode(m.Message.Value)).DistinctBy(a => a.AlertId).ToList();
            Assert.Equal(expected.Count, classified.Count);
            var filters = Broker.Filters.FilterRegistry.FromDirectory(SharedData.RepositoryPath("filters")).Snapshot().Filters;
            Assert.NotEmpty(filters);
            foreach (var filter in filters)
            {
                var compiled = filter.Compile();
                var want = classified.Where(compiled.Matches).Select(a => a.AlertId).Order().ToList();
                var (ids, messages) = Keys(bootstrap!, filter.Topic);
                Assert.Equal(want, ids.Order());
                int duplicates = messages - ids.Count;
                report.AppendLine(CultureInfo.InvariantCulture, $"filter {filter.Name}: {ids.Count} matches in {filter.Topic} ({messages} messages, {duplicates} duplicates)");
                Assert.True(duplicates <= killed.Count * BatchSize * Partitions, $"{filter.Topic}: {duplicates} duplicates");
            }
            output.WriteLine(report.ToString());

            using (var term = Process.Start("kill", ["-TERM", up.Id.ToString(CultureInfo.InvariantCulture)])) term.WaitForExit();
            Assert.True(up.WaitForExit(TimeSpan.FromMinutes(3)), "broker up did not stop");
            up.WaitForExit();
            Assert.True(up.ExitCode == 0, await upErr);
        }
        finally
        {
            if (!up.HasExited) up.Kill(entireProcessTree: true);
        }
    }

    private static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "broker.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    /// <summary>Every message of a whole topic, each read back (TestTopics).</summary>
    private static List<ConsumeResult<byte[], byte[]>> ReadAll(string bootstrap, string topic)
    {
        long total;
        using (var watermarks = new ConsumerBuilder<byte[], Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "chain-kill-watermarks" }).SetLogHandler((_, _) => { }).Build())
            total = Enumerable.Range(0, Partitions).Sum(p => watermarks.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)) is var w ? w.High - w.Low : 0);
        var messages = TestTopics.Read(bootstrap, topic, l => l.Count >= total, TimeSpan.FromMinutes(1));
        Assert.True(messages.Count == total, $"{topic}: {messages.Count} of {total} messages read back");
        return messages;
    }

    /// <summary>The distinct alert ids (message keys) of a whole topic and its message count, every message read back (TestTopics).</summary>
    private static (HashSet<long> Ids, int Messages) Keys(string bootstrap, string topic)
    {
        var messages = ReadAll(bootstrap, topic);
        var ids = new HashSet<long>();
        foreach (var m in messages)
            if (m.Message.Key is { } key && long.TryParse(Encoding.UTF8.GetString(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long id)) ids.Add(id);
        return (ids, messages.Count);
    }
}
