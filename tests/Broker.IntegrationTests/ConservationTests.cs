using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;

using Confluent.Kafka;

namespace Broker.IntegrationTests;

/// <summary>Runs every real alert plus broken messages through the mock cluster and the ingest service once, for the tests below.</summary>
public sealed class KafkaIngestRun : IAsyncLifetime
{
    public MockCluster Cluster { get; } = new();
    public StepCountersSnapshot Counters { get; private set; } = null!;
    public List<ConsumeResult<byte[], byte[]>> Outputs { get; private set; } = [];
    public List<ConsumeResult<byte[], byte[]>> DeadLetters { get; private set; } = [];

    public async Task InitializeAsync()
    {
        if (!SharedData.Exists) return;
        Cluster.CreateTopology(AlertStreams.Partitions);
        AlertStreams.Produce(Cluster.Bootstrap, BrokerTopics.SurveyAlerts, AlertStreams.Messages);
        var host = IngestServiceFixture.Host(Cluster.Bootstrap, "conservation");
        await IngestServiceFixture.RunUntilAsync(host, AlertStreams.Messages.Count);
        Counters = host.Counters.Snapshot();
        Outputs = TestTopics.Read(Cluster.Bootstrap, BrokerTopics.Ingested, l => l.Count >= Counters.Out, TimeSpan.FromSeconds(60));
        DeadLetters = TestTopics.Read(Cluster.Bootstrap, BrokerTopics.DeadLetter(BrokerTopics.SurveyAlerts), l => l.Count >= Counters.DeadLettered, TimeSpan.FromSeconds(60));
    }

    public Task DisposeAsync()
    {
        Cluster.Dispose();
        return Task.CompletedTask;
    }
}

public class ConservationTests(KafkaIngestRun run) : IClassFixture<KafkaIngestRun>
{
    [Fact]
    public void Every_message_is_output_dead_lettered_or_counted_as_a_duplicate_and_the_counts_reconcile()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        var input = AlertStreams.Messages;
        var c = run.Counters;
        Assert.Equal(input.Count, c.In);
        Assert.Equal(c.In, c.Out + c.DeadLettered + c.Duplicates);
        Assert.Equal(c.Out, run.Outputs.Count);
        Assert.Equal(c.DeadLettered, run.DeadLetters.Count);

        // Every id exactly once downstream; dead letters once per message (by source offset).
        var outputKeys = run.Outputs.Select(AlertStreams.Key).ToList();
        Assert.Equal(outputKeys.Count, outputKeys.Distinct().Count());
        var deadOffsets = run.DeadLetters.Select(m => (AlertStreams.Header(m, BrokerHeaders.DeadLetterSourcePartition), AlertStreams.Header(m, BrokerHeaders.DeadLetterSourceOffset))).ToList();
        Assert.Equal(deadOffsets.Count, deadOffsets.Distinct().Count());
        var inputKeys = input.Select(m => m.Key!).ToHashSet();
        var seen = outputKeys.Concat(run.DeadLetters.Select(AlertStreams.Key)).ToHashSet();
        Assert.Equal(inputKeys.Order(), seen.Order());
        // Duplicates are exactly the repeated ids of messages not dead-lettered.
        int repeats = input.Count - input.Select(m => m.Key).Distinct().Count();
        Assert.InRange(c.Duplicates, 1, repeats);
    }

    [Fact]
    public void Dead_letters_keep_the_original_bytes_and_say_which_step_why_and_where_from()
    {
        var byKey = AlertStreams.Messages.GroupBy(m => m.Key!).ToDictionary(g => g.Key, g => g.Select(m => m.Value).ToList());
        Assert.NotEmpty(run.DeadLetters);
        foreach (var m in run.DeadLetters)
        {
            Assert.Contains(byKey[AlertStreams.Key(m)], v => v.AsSpan().SequenceEqual(m.Message.Value ?? []));
            Assert.Equal("ingest", AlertStreams.Header(m, BrokerHeaders.DeadLetterStep));
            Assert.False(string.IsNullOrWhiteSpace(AlertStreams.Header(m, BrokerHeaders.DeadLetterReason)));
            Assert.Equal(BrokerTopics.SurveyAlerts, AlertStreams.Header(m, BrokerHeaders.DeadLetterSourceTopic));
        }
        foreach (var (key, reason) in AlertStreams.BrokenReasons)
        {
            var dead = Assert.Single(run.DeadLetters, m => AlertStreams.Key(m) == key);
            Assert.Contains(reason, AlertStreams.Header(dead, BrokerHeaders.DeadLetterReason));
        }
    }

    [Fact]
    public void Outputs_are_broker_alert_records_keyed_by_alert_id_with_the_ingest_time_in_the_record_and_the_header()
    {
        Assert.NotEmpty(run.Outputs);
        foreach (var m in run.Outputs)
        {
            Assert.Same(BrokerAlertCodec.Schema, BrokerAlertCodec.WriterSchemaOf(m.Message.Value));
            var alert = BrokerAlertCodec.Decode(m.Message.Value);
            Assert.Equal(AlertMessageCodec.KeyFor(alert.AlertId), AlertStreams.Key(m));
            long produced = BrokerHeaders.ParseNumber(m.Message.Headers.GetLastBytes(BrokerHeaders.TimeHeader("ingest")))!.Value;
            // The record's stage time is when the step finished the alert; the host produced it afterwards.
            Assert.InRange(alert.StageTimes["ingest"], produced - 600_000_000, produced);
            Assert.Equal(IngestStep.StageVersion, alert.StageVersions["ingest"]);
            Assert.Equal(m.Message.Value, BrokerAlertCodec.Encode(alert));
        }
    }

    [Fact]
    public void Alerts_without_cutouts_or_without_one_stamp_pass_with_them_absent()
    {
        var outputs = run.Outputs.ToDictionary(AlertStreams.Key, m => BrokerAlertCodec.Decode(m.Message.Value));
        var partial = outputs[AlertStreams.WithoutTemplate];
        Assert.NotNull(partial.Cutouts!.Science);
        Assert.Null(partial.Cutouts.Template);
        Assert.False(partial.HasAllCutouts);
        // The real ones without stamps (AMPEL's archive copies, the pittgoogle Rubin samples): none is a dead letter.
        Assert.True(outputs.Values.Count(a => a.Cutouts is null) >= 9);
        Assert.DoesNotContain(run.DeadLetters, m => AlertStreams.Header(m, BrokerHeaders.DeadLetterReason)!.Contains("cutout", StringComparison.Ordinal)
            && AlertStreams.Key(m) != "2");
    }

    [Fact]
    public async Task The_in_process_runner_gives_the_same_output_records_as_the_Kafka_path()
    {
        var pipeline = new InProcessPipeline([IngestStep.Stage.Stage(new IngestStep(new IngestOptions(), AlertStreams.Registry))]);
        var inProcess = new Dictionary<string, byte[]>();
        async IAsyncEnumerable<SourceMessage> Source()
        {
            foreach (var m in AlertStreams.Messages) yield return m;
            await Task.CompletedTask;
        }
        var summary = await pipeline.RunAsync(Source(), o => inProcess.Add(o.Key!, AlertStreams.Timeless((Alert)o.Value)));

        Assert.Equal(run.Counters.DeadLettered, summary.Stages[0].DeadLettered);
        Assert.Equal(run.Counters.Duplicates, summary.Stages[0].Duplicates);
        var kafka = run.Outputs.ToDictionary(AlertStreams.Key, m => AlertStreams.Timeless(BrokerAlertCodec.Decode(m.Message.Value)));
        Assert.Equal(kafka.Keys.Order(), inProcess.Keys.Order());
        foreach (var (key, bytes) in kafka) Assert.True(bytes.AsSpan().SequenceEqual(inProcess[key]), $"alert {key} differs between the in-process and Kafka paths");
    }
}
