using Broker.Alerts.IO;
using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.IntegrationTests;

public class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public void Killing_the_ingest_service_mid_stream_loses_no_alert_and_duplicates_stay_within_one_batch_per_kill()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        using var cluster = new MockCluster();
        cluster.CreateTopology(AlertStreams.Partitions);
        // The input is paced: 25 messages at a time, never more than 75 ahead of what has come out, and only until
        // the running instance has written 80 more outputs; so every kill falls mid-stream however fast the machine
        // is. The rest is produced for the last instance.
        var pending = new Queue<SourceMessage>(AlertStreams.Messages);
        int produced = 0;
        using var producer = KafkaClients.Producer(KafkaSettings.ForBootstrap(cluster.Bootstrap));
        void ProduceSome(int n)
        {
            for (; n > 0 && pending.TryDequeue(out var m); n--, produced++)
                producer.Produce(BrokerTopics.SurveyAlerts, new Confluent.Kafka.Message<byte[], byte[]> { Key = System.Text.Encoding.UTF8.GetBytes(m.Key!), Value = m.Value });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
        }
        var expected = AlertStreams.Messages.Select(m => m.Key!).ToHashSet();
        var settings = IngestServiceFixture.Settings(cluster.Bootstrap, "crash");
        using var watcher = new AlertStreams.Watcher(cluster.Bootstrap, BrokerTopics.Ingested, BrokerTopics.DeadLetter(BrokerTopics.SurveyAlerts));

        const int kills = 3;
        var logs = new List<string>();
        for (int k = 0; k < kills; k++)
        {
            int before = watcher.OutputCount;
            using var service = new ServiceProcess(settings);
            bool progressed = watcher.WaitFor(() =>
            {
                if (watcher.OutputCount >= before + 80 || service.HasExited) return true;
                if (produced - watcher.SeenCount < 50) ProduceSome(25);
                return false;
            }, TimeSpan.FromSeconds(90));
            Assert.False(service.HasExited, "the service exited on its own:\n" + service.Log);
            Assert.True(progressed, "the service made no progress:\n" + service.Log);
            service.Kill();
            logs.Add(service.Log);
            output.WriteLine($"kill {k + 1}: {watcher.OutputCount} outputs so far");
        }
        Assert.True(pending.Count > 0, "the kills came too late to interrupt the stream");
        ProduceSome(pending.Count);

        using (var last = new ServiceProcess(settings))
        {
            bool complete = watcher.WaitFor(() => expected.IsSubsetOf(watcher.SeenKeys()), TimeSpan.FromSeconds(120));
            Assert.True(complete, $"missing after restart: {string.Join(", ", expected.Except(watcher.SeenKeys()).Take(20))}\n{last.Log}");
            Assert.Equal(0, last.Terminate(TimeSpan.FromSeconds(30)));
            logs.Add(last.Log);
        }

        List<string> keys;
        lock (watcher.Outputs) keys = watcher.Outputs.Select(AlertStreams.Key).ToList();
        int duplicates = keys.Count - keys.Distinct().Count();
        // Each restarted instance reads the end of broker.ingested and reports (Warning, and the Replayed counter)
        // the outputs of the replayed batch it found already delivered, instead of sending them again.
        int reported = logs.SelectMany(l => l.Split('\n'))
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"(\d+) outputs of a batch that was in flight when an earlier instance stopped"))
            .Where(m => m.Success).Sum(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        output.WriteLine($"{keys.Count} outputs, {keys.Distinct().Count()} distinct alerts, {duplicates} duplicates downstream, {reported} replays reported by the restarted services after {kills} kills (bound {kills * IngestServiceFixture.BatchSize})");
        // Bounded: at most one batch replayed per kill, whether sent again or recognised and reported. The input's
        // own repeated ids can be recognised the same way after a restart (ingest's window is gone), so they are
        // allowed on top.
        int repeats = AlertStreams.Messages.Count - AlertStreams.Messages.Select(m => m.Key).Distinct().Count();
        Assert.InRange(duplicates + reported, 0, kills * IngestServiceFixture.BatchSize + repeats);
        // Reported: a replay is recognised from the end of the output topic, so none reaches downstream unannounced.
        Assert.Equal(0, duplicates);
    }
}
