using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;

using Xunit.Abstractions;

namespace Broker.IntegrationTests;

/// <summary>
/// Issue 9: a schema registry that is down or slow is a dependency failing for a while, never a reason to
/// dead-letter an alert. Ingest runs over the mock cluster against an HTTP registry in this process; the registry
/// goes away after the first alert, the alerts of the other schema versions arrive while it is away, and it comes
/// back. Nothing may be dead-lettered and nothing lost.
/// </summary>
public class SchemaRegistryOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Alerts_arriving_while_the_registry_is_away_wait_for_it_and_none_is_dead_lettered_or_lost()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        using var registry = new SchemaRegistryServer(SharedData.Path("lsst/schema"));
        registry.Start();
        // The real Confluent-framed Rubin alerts: one from BOOM (schema 9.0, with cutouts) first, then Pitt-Google's
        // samples of schemas 9.0, 10.0, 11.0 and 11.1 (no cutouts).
        var framed = SurveyFiles.Read([SharedData.Path("lsst/alerts/confluent_wire_format")], new FolderSchemaRegistry(SharedData.Path("lsst/schema"))).ToList();
        Assert.All(framed, m => Assert.True(ConfluentWireFormat.TryParse(m.Value, out _, out _)));
        var first = framed.Where(m => m.Source.Contains("boom", StringComparison.Ordinal)).ToList();
        var rest = framed.Except(first).ToList();
        Assert.Single(first);
        Assert.Equal(4, rest.Count);

        using var cluster = new MockCluster();
        cluster.CreateTopology(2);
        var settings = IngestServiceFixture.Settings(cluster.Bootstrap, "registry-outage");
        settings.Remove("Ingest:SchemaFolder");
        settings["Ingest:SchemaRegistryUrl"] = registry.Url;
        settings["Ingest:SchemaRegistryTimeoutSeconds"] = "2";
        settings["StepHost:TransientRetries"] = "8";
        var host = IngestStep.Stage.CreateHost(IngestStep.Stage.BuildConfiguration([], settings), new TestOutputLoggerFactory(output));
        using var stop = new CancellationTokenSource();
        long done = 0;
        host.BatchCompleted += s => Interlocked.Exchange(ref done, s.In);
        // The host's loop runs synchronously until its first batch: on a thread of its own, so the test can feed it.
        var run = Task.Run(() => host.RunAsync(stop.Token));

        AlertStreams.Produce(cluster.Bootstrap, BrokerTopics.SurveyAlerts, first);
        Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref done) >= 1 || run.IsCompleted, TimeSpan.FromSeconds(60)), "the first alert was not processed");
        if (run.IsCompleted) await run;
        int answeredBefore = registry.Requests;
        Assert.True(answeredBefore > 0, $"no request reached the registry; counters {host.Counters.Snapshot()}, reasons {string.Join("; ", host.Counters.DeadLetterReasons.Keys)}");

        registry.Stop();
        AlertStreams.Produce(cluster.Bootstrap, BrokerTopics.SurveyAlerts, rest);
        // Long enough for the host to have tried, failed and backed off several times.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(run.IsCompleted, "the host gave up while the registry was away");
        Assert.Equal(1, Interlocked.Read(ref done));
        registry.Start();

        Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref done) >= framed.Count || run.IsCompleted, TimeSpan.FromSeconds(90)), "the alerts were not processed after the registry came back");
        stop.Cancel();
        await run;

        var c = host.Counters.Snapshot();
        Assert.Equal(framed.Count, c.In);
        Assert.Equal(0, c.DeadLettered);
        Assert.Equal(c.In, c.Out + c.Duplicates);
        Assert.True(registry.Requests > answeredBefore, "the schemas of the later versions were fetched after the registry came back");
        // Every alert id fed in is in the output topic.
        var outputs = TestTopics.Read(cluster.Bootstrap, BrokerTopics.Ingested, l => l.Count >= c.Out, TimeSpan.FromSeconds(30));
        Assert.Equal(framed.Select(m => m.Key!).ToHashSet().Order(), outputs.Select(AlertStreams.Key).ToHashSet().Order());
        var dead = TestTopics.Read(cluster.Bootstrap, BrokerTopics.DeadLetter(BrokerTopics.SurveyAlerts), l => l.Count > 0, TimeSpan.FromSeconds(3));
        Assert.Empty(dead);
    }
}
