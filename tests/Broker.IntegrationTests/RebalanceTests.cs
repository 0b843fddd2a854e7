using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.IntegrationTests;

public class RebalanceTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_second_instance_started_mid_stream_shares_the_partitions_and_nothing_is_lost()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        using var cluster = new MockCluster();
        cluster.CreateTopology(AlertStreams.Partitions);
        var messages = AlertStreams.Messages;
        var expected = messages.Select(m => m.Key!).ToHashSet();
        using var watcher = new AlertStreams.Watcher(cluster.Bootstrap, BrokerTopics.Ingested, BrokerTopics.DeadLetter(BrokerTopics.SurveyAlerts));
        int half = messages.Count / 2;
        AlertStreams.Produce(cluster.Bootstrap, BrokerTopics.SurveyAlerts, messages.Take(half));

        using var stop = new CancellationTokenSource();
        var first = IngestServiceFixture.Host(cluster.Bootstrap, "rebalance", new TestOutputLoggerFactory(output));
        var firstRun = Task.Run(() => first.RunAsync(stop.Token));
        Assert.True(watcher.WaitFor(() => first.Counters.In >= 50 || firstRun.IsCompleted, TimeSpan.FromSeconds(60)), "the first instance made no progress");
        if (firstRun.IsFaulted) await firstRun;

        var second = IngestServiceFixture.Host(cluster.Bootstrap, "rebalance", new TestOutputLoggerFactory(output));
        var secondRun = Task.Run(() => second.RunAsync(stop.Token));
        bool shared = watcher.WaitFor(() => second.AssignedPartitions > 0 && first.AssignedPartitions > 0
            && first.AssignedPartitions + second.AssignedPartitions == AlertStreams.Partitions || secondRun.IsCompleted, TimeSpan.FromSeconds(60));
        if (secondRun.IsFaulted) await secondRun;
        output.WriteLine($"partitions: first {first.AssignedPartitions}, second {second.AssignedPartitions}");
        Assert.True(shared, "the instances did not come to share the partitions");

        AlertStreams.Produce(cluster.Bootstrap, BrokerTopics.SurveyAlerts, messages.Skip(half));
        bool complete = watcher.WaitFor(() => expected.IsSubsetOf(watcher.SeenKeys()), TimeSpan.FromSeconds(120));
        stop.Cancel();
        await Task.WhenAll(firstRun, secondRun);

        Assert.True(complete, $"missing: {string.Join(", ", expected.Except(watcher.SeenKeys()).Take(20))}");
        output.WriteLine($"first: {first.Counters.Snapshot()}\nsecond: {second.Counters.Snapshot()}");
        Assert.True(first.Counters.In > 0 && second.Counters.In > 0, "both instances must have processed alerts");
        Assert.Equal(first.Counters.In + second.Counters.In,
            first.Counters.Out + first.Counters.DeadLettered + first.Counters.Duplicates + second.Counters.Out + second.Counters.DeadLettered + second.Counters.Duplicates);
        // Replays after a rebalance are allowed (at-least-once), never losses, and bounded: the host commits the
        // batch in flight before revoked partitions go and never has more than one batch produced but not
        // committed, so at most one batch is replayed per rebalance (one here: the second instance joining). Each
        // repeated output must be an exact copy of the first but for the time ingest stamped on it (schema 1.1's stageTimes).
        List<Confluent.Kafka.ConsumeResult<byte[], byte[]>> outputs;
        lock (watcher.Outputs) outputs = [.. watcher.Outputs];
        int replays = 0;
        foreach (var group in outputs.GroupBy(AlertStreams.Key))
        {
            var original = AlertStreams.Timeless(Broker.Alerts.Model.BrokerAlertCodec.Decode(group.First().Message.Value));
            foreach (var again in group.Skip(1))
            {
                replays++;
                Assert.True(original.AsSpan().SequenceEqual(AlertStreams.Timeless(Broker.Alerts.Model.BrokerAlertCodec.Decode(again.Message.Value))), $"alert {group.Key} replayed with different content");
            }
        }
        output.WriteLine($"{outputs.Count} outputs, {replays} replayed after the rebalance (bound: one batch, {IngestServiceFixture.BatchSize})");
        Assert.InRange(replays, 0, IngestServiceFixture.BatchSize);
    }
}
