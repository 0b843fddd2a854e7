using System.Globalization;
using System.Text;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Filters;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Broker.Filter.Tests;

/// <summary>
/// The filter service over librdkafka's mock cluster while its filters change (issue 15, "Done means": the registry):
/// a filter is published, changed and deleted, and another added, on <c>broker.filters</c> while the service runs,
/// with the real alerts fed in three rounds. Each change is live before the next round (the test waits, bounded,
/// until the service's follower has it); every alert is accounted for on
/// <c>broker.filtered</c>, and each filter's topic holds exactly the matches of the version live in each round, each
/// naming that version, as the language evaluates them in process.
/// </summary>
public sealed class FilterServiceTests(ITestOutputHelper output)
{
    private static FilterDefinition Definition(string name, string where) => FilterDefinition.Parse(
        $"name: {name}\ndescription: Test filter.\nowner: tests\ncontent: lite\nwhere: \"{where}\"\n");

    [Fact]
    public async Task Filters_published_changed_and_deleted_while_the_service_runs_go_live_and_every_match_is_published_once()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        var alerts = BacktestAlerts.Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")], new FolderSchemaRegistry(SharedData.Path("lsst/schema")))
            // Without their cutouts (no filter here reads them): the mock cluster keeps only ~5 MB per partition, less
            // than the 651 alerts with their stamps.
            .Select(a => a.Alert! with { Cutouts = null }).DistinctBy(a => a.AlertId).ToList();
        var rounds = alerts.Chunk((alerts.Count + 2) / 3).ToArray();
        Assert.Equal(3, rounds.Length);

        using var cluster = new MockCluster();
        foreach (var t in new[] { FilterStep.InputTopic, StepHostOptions.DeadLetterOf(FilterStep.InputTopic), FilterStep.OutputTopic, FilterRegistry.Topic })
            cluster.CreateTopic(t, 2);
        var kafka = TestTopics.Kafka(cluster.Bootstrap);
        var client = new FilterRegistryClient(kafka);
        // Round 1: bright (v1). Round 2: bright changed (v2) and red added. Round 3: bright deleted.
        var bright1 = Definition("bright", "mag < 18");
        var bright2 = Definition("bright", "mag < 17 and band = 'r'");
        var red = Definition("red", "band = 'r' and mag < 19");
        client.Publish(bright1, partitions: 2);

        var step = FilterStep.Create(new FilterOptions(), new StageContext(kafka: kafka));
        var options = new StepHostOptions
        {
            InputTopic = FilterStep.InputTopic, OutputTopic = FilterStep.OutputTopic, GroupId = "filter-live-test",
            BatchSize = 50, BatchWaitMs = 20, MetricsIntervalSeconds = 0,
        };
        await using var host = new KafkaStepHost<Alert, FilterPublication>(step, AlertMessageCodec.Instance, FilterPublicationCodec.Instance, options, kafka, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        // On a thread of its own: the host's loop runs synchronously until it has something to wait for.
        var run = Task.Run(() => host.RunAsync(stop.Token));
        long fed = 0;
        async Task Feed(Alert[] round)
        {
            TestTopics.Produce(cluster.Bootstrap, FilterStep.InputTopic, round.Select(a => new Message<byte[], byte[]>
            {
                Key = Encoding.UTF8.GetBytes(a.AlertId.ToString(CultureInfo.InvariantCulture)),
                Value = AlertMessageCodec.Instance.Encode(a),
            }));
            fed += round.Length;
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (host.Counters.Snapshot().In < fed && DateTime.UtcNow < until && !run.IsCompleted) await Task.Delay(50);
            Assert.Equal(fed, host.Counters.Snapshot().In);
        }
        async Task Live(Action change, long generation)
        {
            change();
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (step.Registry.Generation < generation && DateTime.UtcNow < until) await Task.Delay(10);
            Assert.Equal(generation, step.Registry.Generation);
        }

        Assert.Equal(1, step.Registry.Generation);
        await Feed(rounds[0]);
        await Live(() => { client.Publish(bright2); client.Publish(red, partitions: 2); }, 3);
        await Feed(rounds[1]);
        await Live(() => client.Delete("bright"), 4);
        await Feed(rounds[2]);
        stop.Cancel();
        await run;

        // What each round's live filters match, evaluated in process.
        static HashSet<long> Matches(FilterDefinition f, IEnumerable<Alert> alerts)
        {
            var e = f.Compile();
            return [.. alerts.Where(e.Matches).Select(a => a.AlertId)];
        }
        var expected = new Dictionary<string, Dictionary<long, string>>
        {
            ["bright"] = Matches(bright1, rounds[0]).ToDictionary(id => id, _ => bright1.Version),
            ["red"] = Matches(red, rounds[1].Concat(rounds[2])).ToDictionary(id => id, _ => red.Version),
        };
        foreach (var id in Matches(bright2, rounds[1])) expected["bright"][id] = bright2.Version;
        Assert.NotEmpty(expected["bright"]);
        Assert.NotEmpty(expected["red"]);

        var counters = host.Counters.Snapshot();
        Assert.Equal(alerts.Count, counters.In);
        Assert.Equal(alerts.Count, counters.Out);
        Assert.Equal(0, counters.DeadLettered + counters.Duplicates + counters.Filtered);
        var filtered = TestTopics.Read(cluster.Bootstrap, FilterStep.OutputTopic, l => l.Count >= alerts.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(alerts.Select(a => a.AlertId).Order(), filtered.Select(m => BrokerAlertCodec.Decode(m.Message.Value).AlertId).Order());
        foreach (var (name, want) in expected)
        {
            var topic = FilterDefinition.TopicPrefix + name;
            var got = TestTopics.Read(cluster.Bootstrap, topic, l => l.Count >= want.Count, TimeSpan.FromSeconds(60))
                .Select(m => BrokerAlertCodec.Decode(m.Message.Value)).ToList();
            Assert.Equal(want.Count, got.Count);
            foreach (var a in got)
            {
                var match = Assert.Single(a.Filters);
                Assert.Equal(name, match.Name);
                Assert.Equal(want[a.AlertId], match.Version);
            }
            Assert.Equal(want.Count, host.Counters.Destinations.Single(d => d.Topic == topic).Out);
            output.WriteLine($"{topic}: {got.Count} matches, versions {string.Join(", ", got.GroupBy(a => a.Filters[0].Version).Select(g => $"{g.Key} x{g.Count()}"))}");
        }
        // The forwarded alerts name the filters they passed, by the version live when they were evaluated.
        var passed = filtered.Select(m => BrokerAlertCodec.Decode(m.Message.Value)).ToDictionary(a => a.AlertId);
        foreach (var (name, want) in expected)
            foreach (var (id, version) in want) Assert.Contains(passed[id].Filters, f => f.Name == name && f.Version == version);
        Assert.Equal(expected.Values.Sum(v => v.Count), passed.Values.Sum(a => a.Filters.Count));
        // Per filter, the counts reconcile: every evaluation of the running filter, every match published.
        var red1 = Assert.Single(step.Counts);
        Assert.Equal("red", red1.Name);
        Assert.Equal(rounds[1].Length + rounds[2].Length, red1.Evaluated);
        Assert.Equal(red1.Matched, red1.Published);
    }
}
