using System.Collections.Concurrent;
using System.Text;
using Broker.Filters;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Broker.Filter.Tests;

/// <summary>The registry topic over librdkafka's mock cluster: publish, change, delete and bad records, seen by followers started before and after.</summary>
public sealed class KafkaFilterRegistryTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly MockCluster _cluster = new();

    public void Dispose() => _cluster.Dispose();

    private KafkaSettings Kafka => KafkaSettings.ForBootstrap(_cluster.Bootstrap);

    private static FilterDefinition Definition(string name, string where, bool active = true) => new()
    {
        Name = name, Description = "Test cut.", Owner = "tests", Where = where, Content = FilterContent.Ids, Active = active,
    };

    /// <summary>Waits until <paramref name="done"/> holds or <see cref="Patience"/> runs out; the caller asserts.</summary>
    private static void WaitFor(Func<bool> done)
    {
        var until = DateTime.UtcNow + Patience;
        while (!done() && DateTime.UtcNow < until) Thread.Sleep(20);
    }

    private static string Show(IEnumerable<FilterDefinition> filters) => string.Join(" ", filters.Select(f => f.Name + "@" + f.Version));

    [Fact]
    public void A_published_filter_is_listed_with_its_version_and_its_topic_is_made()
    {
        var client = new FilterRegistryClient(Kafka);
        Assert.Empty(client.List().Snapshot.Filters);
        var bright = Definition("bright", "mag < 18");
        var p = client.Publish(bright);
        Assert.Equal(("bright", bright.Version, "broker.filter.bright", true), (p.Name, p.Version, p.Topic, p.TopicCreated));
        var topics = KafkaClients.ListTopics(Kafka, TimeSpan.FromSeconds(10));
        Assert.Equal(p.Partitions, topics["broker.filter.bright"]);
        Assert.Contains(FilterRegistry.Topic, topics.Keys);
        var listing = client.List();
        Assert.Equal("bright@" + bright.Version, Show(listing.Snapshot.Filters));
        Assert.Equal(bright.ToYaml(), Assert.Single(listing.Snapshot.Filters).ToYaml());
        Assert.Empty(listing.Refused);
        Assert.Equal(1, listing.Records);
    }

    [Fact]
    public void An_existing_filter_topic_is_kept_as_it_is()
    {
        _cluster.CreateTopic("broker.filter.bright", 3);
        var p = new FilterRegistryClient(Kafka).Publish(Definition("bright", "mag < 18"), partitions: 5);
        Assert.Equal((3, false), (p.Partitions, p.TopicCreated));
        Assert.Equal(3, KafkaClients.ListTopics(Kafka, TimeSpan.FromSeconds(10))["broker.filter.bright"]);
    }

    [Theory]
    [InlineData(null, 3, 3)]
    [InlineData(null, null, 1)]
    [InlineData(6, 3, 6)]
    [InlineData(2, null, 2)]
    public void A_new_filter_topic_has_the_partitions_asked_for_else_those_of_the_classified_topic_else_one(int? asked, int? classified, int expected)
    {
        var topics = new Dictionary<string, int>(StringComparer.Ordinal) { ["broker.ingested"] = 9 };
        if (classified is { } c) topics[FilterRegistryClient.InputTopic] = c;
        Assert.Equal(expected, FilterRegistryClient.NewTopicPartitions(asked, topics));
    }

    [Fact]
    public void A_definition_that_does_not_compile_is_not_published()
    {
        var client = new FilterRegistryClient(Kafka);
        Assert.Throws<FilterCompileException>(() => client.Publish(Definition("bad", "candidate.nosuch > 1")));
        Assert.Empty(client.List().Snapshot.Filters);
        Assert.DoesNotContain("broker.filter.bad", KafkaClients.ListTopics(Kafka, TimeSpan.FromSeconds(10)).Keys);
    }

    [Fact]
    public void A_running_follower_sees_each_change_and_a_follower_started_later_reads_the_same_state()
    {
        var client = new FilterRegistryClient(Kafka);
        var v1 = Definition("riser", "mag < 18");
        client.Publish(v1);
        client.Publish(Definition("keep", "mag < 19", active: false));
        var log = new CollectingLogger();
        var events = new ConcurrentQueue<FilterRegistryEvent>();
        var registry = new FilterRegistry();
        registry.Applied += events.Enqueue;
        using var follower = KafkaFilterRegistry.Start(Kafka, registry, log);
        // Start returns with everything published before it.
        Assert.Equal(["keep", "riser"], registry.Snapshot().Filters.Select(f => f.Name));
        Assert.Equal(2, follower.Applied);

        var v2 = v1 with { Where = "mag < 17.5" };
        Assert.NotEqual(v1.Version, v2.Version);
        client.Publish(v2);
        WaitFor(() => events.Any(e => e.Change == FilterRegistryChange.Changed));
        var changed = Assert.Single(events, e => e.Change == FilterRegistryChange.Changed);
        Assert.Equal(("riser", v2.Version), (changed.Name, changed.Version));
        Assert.Equal("keep@" + Definition("keep", "mag < 19", active: false).Version + " riser@" + v2.Version, Show(registry.Snapshot().Filters));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("riser changed, version " + v2.Version, StringComparison.Ordinal));

        client.Delete("keep");
        WaitFor(() => events.Any(e => e.Change == FilterRegistryChange.Deleted));
        Assert.Equal("keep", Assert.Single(events, e => e.Change == FilterRegistryChange.Deleted).Name);
        Assert.Equal(["riser"], registry.Snapshot().Filters.Select(f => f.Name));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.StartsWith("Filter keep deleted", StringComparison.Ordinal));
        Assert.Equal(4, follower.Applied);

        using var later = KafkaFilterRegistry.Start(Kafka, new FilterRegistry(), new CollectingLogger());
        Assert.Equal("riser@" + v2.Version, Show(registry.Snapshot().Filters));
        Assert.Equal(Show(registry.Snapshot().Filters), Show(later.Registry.Snapshot().Filters));
        Assert.Equal(Show(registry.Snapshot().Filters), Show(client.List().Snapshot.Filters));
        Assert.Equal(4, later.Applied);
    }

    [Fact]
    public void A_bad_record_is_refused_and_the_filter_keeps_its_last_good_definition()
    {
        var client = new FilterRegistryClient(Kafka);
        var good = Definition("bright", "mag < 18");
        client.Publish(good);
        var log = new CollectingLogger();
        var events = new ConcurrentQueue<FilterRegistryEvent>();
        var registry = new FilterRegistry();
        registry.Applied += events.Enqueue;
        using var follower = KafkaFilterRegistry.Start(Kafka, registry, log);

        // Raw records, as something other than broker filter publish might write them.
        string badYaml = good.ToYaml().Replace("mag < 18", "mag <", StringComparison.Ordinal);
        TestTopics.Produce(_cluster.Bootstrap, FilterRegistry.Topic,
        [
            new Message<byte[], byte[]> { Key = FilterRegistry.KeyOf("bright"), Value = Encoding.UTF8.GetBytes(badYaml) },
            new Message<byte[], byte[]> { Key = null!, Value = FilterRegistry.ValueOf(good) },
            new Message<byte[], byte[]> { Key = FilterRegistry.KeyOf("other"), Value = FilterRegistry.ValueOf(good) },
        ]);
        WaitFor(() => events.Count(e => e.Change == FilterRegistryChange.Refused) >= 2);
        // The keys may lie in different partitions of the registry topic: no order between them.
        var refused = events.Where(e => e.Change == FilterRegistryChange.Refused).OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["bright", "other"], refused.Select(e => e.Name));
        Assert.Equal(good.Version, refused[0].Version);
        Assert.StartsWith("line ", refused[0].Error, StringComparison.Ordinal);
        Assert.Contains("the definition is named 'bright'", refused[1].Error, StringComparison.Ordinal);
        Assert.Equal("bright@" + good.Version, Show(registry.Snapshot().Filters));
        Assert.True(follower.IsFollowing);
        Assert.Equal(1, follower.Keyless);
        Assert.Equal(2, log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("refused", StringComparison.Ordinal)));

        // List shows the refused records still last of their key, with the version each filter keeps.
        var listing = client.List();
        Assert.Equal("bright@" + good.Version, Show(listing.Snapshot.Filters));
        Assert.Equal([("bright", good.Version), ("other", null)], listing.Refused.Select(e => (e.Name, e.Version)));

        // A good record after the bad one puts the filter right; the follower keeps following.
        var fixedUp = good with { Where = "mag < 18.5" };
        client.Publish(fixedUp);
        WaitFor(() => events.Any(e => e.Change == FilterRegistryChange.Changed));
        Assert.Equal("bright@" + fixedUp.Version, Show(registry.Snapshot().Filters));
        Assert.Equal(["other"], client.List().Refused.Select(e => e.Name));
    }

    [Fact]
    public void An_empty_value_and_a_tombstone_both_delete()
    {
        var client = new FilterRegistryClient(Kafka);
        client.Publish(Definition("a", "mag < 18"));
        client.Publish(Definition("b", "mag < 18"));
        TestTopics.Produce(_cluster.Bootstrap, FilterRegistry.Topic,
        [
            new Message<byte[], byte[]> { Key = FilterRegistry.KeyOf("a"), Value = [] },
            new Message<byte[], byte[]> { Key = FilterRegistry.KeyOf("b"), Value = null! },
        ]);
        using var follower = KafkaFilterRegistry.Start(Kafka, new FilterRegistry(), new CollectingLogger());
        Assert.Empty(follower.Registry.Snapshot().Filters);
        Assert.Equal(4, follower.Applied);
        Assert.Equal(4, follower.Registry.Generation);
    }

    [Fact]
    public void Deleting_a_filter_the_registry_does_not_hold_fails_and_writes_nothing()
    {
        var client = new FilterRegistryClient(Kafka);
        client.Publish(Definition("a", "mag < 18"));
        var e = Assert.Throws<FilterRegistryException>(() => client.Delete("nosuch"));
        Assert.Contains("no filter 'nosuch'", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, client.List().Records);
    }

    [Fact]
    public void A_follower_creates_a_missing_registry_topic_and_starts_empty()
    {
        using var follower = KafkaFilterRegistry.Start(Kafka, new FilterRegistry(), new CollectingLogger(), topic: "test.filters");
        Assert.Empty(follower.Registry.Snapshot().Filters);
        Assert.Contains("test.filters", KafkaClients.ListTopics(Kafka, TimeSpan.FromSeconds(10)).Keys);
        new FilterRegistryClient(Kafka, "test.filters").Publish(Definition("late", "mag < 18"));
        WaitFor(() => follower.Applied == 1);
        Assert.Equal("late", Assert.Single(follower.Registry.Snapshot().Filters).Name);
    }

    [Fact]
    public void Start_fails_with_one_clear_message_when_the_cluster_cannot_be_reached()
    {
        var nowhere = KafkaSettings.ForBootstrap("127.0.0.1:1");
        var e = Assert.Throws<StepHostConfigurationException>(() => KafkaFilterRegistry.Start(nowhere, new FilterRegistry(), new CollectingLogger(), startupTimeout: TimeSpan.FromSeconds(2)));
        Assert.StartsWith("cannot reach Kafka at 127.0.0.1:1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: a\nname: a\ndescription: d.\nowner: o\ncontent: ids\nwhere: true\n")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[")]
    [InlineData("--- a\n--- b\n")]
    [InlineData("\u0000\uFFFE")]
    [InlineData("name: a\ndescription: d.\nowner: o\ncontent: ids\nwhere: { x: 1 }\n")]
    public void A_hostile_record_value_is_refused_not_thrown(string value)
    {
        var registry = new FilterRegistry();
        var e = registry.Apply("a", Encoding.UTF8.GetBytes(value));
        Assert.Equal(FilterRegistryChange.Refused, e.Change);
        Assert.Matches(@"^line \d+, column \d+: ", e.Error);
        Assert.Equal(FilterRegistryChange.Refused, registry.Apply("a", [0xC3, 0x28, 0xFF]).Change);
    }

    private sealed class CollectingLogger : ILogger
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Entries.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}
