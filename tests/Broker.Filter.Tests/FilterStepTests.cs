using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Filter;
using Broker.Filters;
using Broker.StepHost;
using Broker.TestSupport;

namespace Broker.Filter.Tests;

/// <summary>The filter step on the real alerts with the example filters, and on a folder of test filters.</summary>
public sealed class FilterStepTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-filter-step-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static List<Alert> RealAlerts() =>
        [.. BacktestAlerts.Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")], new FolderSchemaRegistry(SharedData.Path("lsst/schema")))
            .Select(a => a.Alert!)];

    [OracleFact]
    public async Task Each_match_goes_to_its_filters_topic_naming_filter_and_version_and_the_counts_reconcile()
    {
        var step = new FilterStep(new FilterOptions { Directory = SharedData.RepositoryPath("filters") });
        Assert.Equal(5, step.Destinations.Count);
        Assert.Contains("broker.filter.known_asteroids", step.Destinations);
        var alerts = RealAlerts();
        var results = await step.ExecuteAsync(alerts, CancellationToken.None);
        Assert.Equal(alerts.Count, results.Count);
        var byTopic = results.Where(r => r.Routes is not null).SelectMany(r => r.Routes!).GroupBy(r => r.Destination).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var c in step.Counts)
        {
            Assert.Equal(alerts.Count, c.Evaluated);
            Assert.Equal(c.Matched, c.Published + c.DroppedOverQuota);
            Assert.Equal(c.Published, byTopic.GetValueOrDefault("broker.filter." + c.Name)?.Count ?? 0);
            var golden = File.ReadAllLines(SharedData.RepositoryPath($"tests/Broker.Filters.Tests/golden/{c.Name}.txt")).Select(long.Parse).ToHashSet();
            Assert.True(c.Matched >= golden.Count, c.Name);
        }
        // ids content: the broker.filter.ids.v1 record.
        var ids = byTopic["broker.filter.known_asteroids"];
        var first = (AvroRecord)AvroDatumReader.For(FilterOutput.IdsSchema).Read(FilterPublicationCodec.Instance.Encode(ids[0].Value))!;
        Assert.Equal("known_asteroids", first["filter"]);
        Assert.Equal(FilterDefinition.Load(SharedData.RepositoryPath("filters/known_asteroids.yaml")).Version, first["filterVersion"]);
        // full content: the alert with the filter in filterMatches.
        var full = BrokerAlertCodec.Decode(FilterPublicationCodec.Instance.Encode(byTopic["broker.filter.fast_risers"][0].Value));
        Assert.Equal("fast_risers", Assert.Single(full.Filters).Name);
        // Every alert goes on to the default output, naming exactly the filters it was published to.
        Assert.All(results, r => Assert.Equal(StepOutcome.Emitted, r.Outcome));
        for (int i = 0; i < alerts.Count; i++)
        {
            var routes = results[i].Routes;
            var forwarded = routes is null ? results[i].Value! : Assert.Single(routes, x => x.Destination == Destination.Default).Value;
            Assert.Null(forwarded.Filter);
            Assert.Equal(alerts[i].AlertId, forwarded.Alert.AlertId);
            var published = (routes ?? []).Where(x => x.Destination != Destination.Default).Select(x => x.Destination["broker.filter.".Length..]).Order();
            Assert.Equal(published, forwarded.Alert.Filters.Select(f => f.Name).Order());
        }
    }

    [Fact]
    public async Task A_filter_over_its_quota_drops_and_counts_and_the_others_go_on()
    {
        File.WriteAllText(Path.Combine(_dir, "everything.yaml"), "name: everything\ndescription: All.\nowner: o\ncontent: ids\nquota: 3\nwhere: true\n");
        File.WriteAllText(Path.Combine(_dir, "bright.yaml"), "name: bright\ndescription: Bright.\nowner: o\ncontent: lite\nwhere: mag < 18\n");
        var step = new FilterStep(new FilterOptions { Directory = _dir, ForwardAll = false });
        var alerts = Enumerable.Range(0, 10).Select(i => new Alert { AlertId = i, Mag = 17 + i * 0.2, Band = "g", Ra = 1, Dec = 1, MjdTai = 60000, Cutouts = new Cutouts("fits", [1], [2], [3]) }).ToList();
        step.BeginBatch();
        var results = await step.ExecuteAsync(alerts, CancellationToken.None);
        step.CommitBatch();
        var counts = step.Counts.ToDictionary(c => c.Name);
        Assert.Equal((10L, 3L, 7L), (counts["everything"].Matched, counts["everything"].Published, counts["everything"].DroppedOverQuota));
        Assert.Equal((5L, 5L, 0L), (counts["bright"].Matched, counts["bright"].Published, counts["bright"].DroppedOverQuota));
        var lite = results.SelectMany(r => r.Routes ?? []).Where(r => r.Destination == "broker.filter.bright").Select(r => BrokerAlertCodec.Decode(FilterPublicationCodec.Instance.Encode(r.Value))).ToList();
        Assert.All(lite, a => Assert.Null(a.Cutouts));
        Assert.Equal(5, results.Count(r => r.Outcome == StepOutcome.Filtered));
    }

    [Fact]
    public void A_definition_that_does_not_compile_stops_the_service_at_start_with_its_file_and_position()
    {
        File.WriteAllText(Path.Combine(_dir, "bad.yaml"), "name: bad\ndescription: d.\nowner: o\ncontent: ids\nwhere: |\n  mag <\n");
        var e = Assert.Throws<StepHostConfigurationException>(() => new FilterStep(new FilterOptions { Directory = _dir }));
        Assert.Contains("bad.yaml: line 7, column 3: the expression ends too early", e.Message, StringComparison.Ordinal);
        Assert.Throws<StepHostConfigurationException>(() => new FilterStep(new FilterOptions { Directory = Path.Combine(_dir, "missing") }));
    }

    [Fact]
    public async Task A_filter_added_changed_and_deleted_in_the_registry_goes_live_at_the_next_batch()
    {
        static byte[] Yaml(string name, string where) => System.Text.Encoding.UTF8.GetBytes($"name: {name}\ndescription: Test.\nowner: o\ncontent: lite\nwhere: {where}\n");
        var registry = new FilterRegistry();
        registry.Apply("bright", Yaml("bright", "mag < 18"));
        var step = new FilterStep(new FilterOptions(), registry);
        var alerts = Enumerable.Range(0, 10).Select(i => new Alert { AlertId = i, Mag = 17 + i * 0.2, Band = "g", Ra = 1, Dec = 1, MjdTai = 60000 }).ToList();
        async Task<Dictionary<string, List<long>>> Batch()
        {
            step.BeginBatch();
            var results = await step.ExecuteAsync(alerts, CancellationToken.None);
            step.CommitBatch();
            return results.SelectMany(r => r.Routes ?? []).Where(r => r.Destination != Destination.Default)
                .GroupBy(r => r.Destination).ToDictionary(g => g.Key, g => g.Select(r => r.Value.Alert.AlertId).ToList());
        }

        Assert.Equal([0L, 1, 2, 3, 4], (await Batch())["broker.filter.bright"]);
        // Added: a new destination; the unchanged filter keeps its counts.
        registry.Apply("faint", Yaml("faint", "mag >= 18.5"));
        var second = await Batch();
        Assert.Contains("broker.filter.faint", step.Destinations);
        Assert.Equal([8L, 9], second["broker.filter.faint"]);
        Assert.Equal(10L, step.Counts.Single(c => c.Name == "bright").Matched);
        // Changed: the new version runs, counting afresh, and its matches name it.
        string before = step.Filters.Single(f => f.Name == "bright").Version;
        registry.Apply("bright", Yaml("bright", "mag < 17.5"));
        var third = await Batch();
        Assert.Equal([0L, 1, 2], third["broker.filter.bright"]);
        var bright = step.Counts.Single(c => c.Name == "bright");
        Assert.NotEqual(before, bright.Version);
        Assert.Equal(3L, bright.Matched);
        // Deleted: nothing more goes there; a refused record changes nothing.
        registry.Apply("faint", []);
        Assert.Equal(FilterRegistryChange.Refused, registry.Apply("bright", System.Text.Encoding.UTF8.GetBytes("name: bright\ndescription: d.\nowner: o\ncontent: lite\nwhere: mag <\n")).Change);
        var fourth = await Batch();
        Assert.False(fourth.ContainsKey("broker.filter.faint"));
        Assert.Equal([0L, 1, 2], fourth["broker.filter.bright"]);
        Assert.Equal(registry.Generation, step.Generation);
    }
}
