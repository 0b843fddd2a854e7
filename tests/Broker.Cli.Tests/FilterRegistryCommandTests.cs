using System.Text;
using System.Text.Json;
using Broker.Filters;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;

namespace Broker.Cli.Tests;

/// <summary><c>broker filter publish|delete|list</c> as a process, against librdkafka's mock cluster in the test process.</summary>
public sealed class FilterRegistryCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-filter-registry-cli-").FullName;
    private readonly MockCluster _cluster = new();

    public void Dispose()
    {
        _cluster.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private BrokerProcess.Result Broker(params string[] args) => BrokerProcess.Run([.. args, "--bootstrap", _cluster.Bootstrap]);

    [Fact]
    public void Publish_then_list_shows_each_filter_then_delete_takes_it_off()
    {
        string risers = SharedData.RepositoryPath("filters/fast_risers.yaml");
        string asteroids = SharedData.RepositoryPath("filters/known_asteroids.yaml");
        var published = Broker("filter", "publish", risers, asteroids, "--partitions", "2");
        Assert.Equal(0, published.ExitCode);
        var risersVersion = FilterDefinition.Load(risers).Version;
        Assert.Equal(2, published.OutputLines.Length);
        Assert.StartsWith($"fast_risers  version {risersVersion}  topic broker.filter.fast_risers (", published.OutputLines[0], StringComparison.Ordinal);
        Assert.StartsWith("known_asteroids  version ", published.OutputLines[1], StringComparison.Ordinal);
        var topics = KafkaClients.ListTopics(KafkaSettings.ForBootstrap(_cluster.Bootstrap), TimeSpan.FromSeconds(10));
        Assert.Contains("broker.filter.fast_risers", topics.Keys);

        var list = Broker("filter", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Equal(3, list.OutputLines.Length);
        Assert.Matches(@"^name +version +active +content +quota +owner +description$", list.OutputLines[0]);
        Assert.StartsWith($"fast_risers      {risersVersion}  true", list.OutputLines[1], StringComparison.Ordinal);

        var json = Broker("filter", "list", "--json");
        Assert.Equal(0, json.ExitCode);
        using (var doc = JsonDocument.Parse(json.StandardOutput))
        {
            var filters = doc.RootElement.GetProperty("filters").EnumerateArray().ToList();
            Assert.Equal(["fast_risers", "known_asteroids"], filters.Select(f => f.GetProperty("name").GetString()));
            Assert.Equal(risersVersion, filters[0].GetProperty("version").GetString());
            Assert.Empty(doc.RootElement.GetProperty("refused").EnumerateArray());
        }

        var deleted = Broker("filter", "delete", "fast_risers");
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal("fast_risers  deleted", Assert.Single(deleted.OutputLines));
        var after = Broker("filter", "list", "--json");
        using (var doc = JsonDocument.Parse(after.StandardOutput))
            Assert.Equal(["known_asteroids"], doc.RootElement.GetProperty("filters").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
    }

    [Fact]
    public void Publish_with_a_file_that_does_not_compile_exits_2_and_publishes_nothing()
    {
        string good = SharedData.RepositoryPath("filters/fast_risers.yaml");
        string bad = Write("bad.yaml", "name: bad\ndescription: d.\nowner: o\ncontent: ids\nwhere: |\n  mag < 18\n  and candidate.nosuch > 1\n");
        var r = Broker("filter", "publish", good, bad);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"{bad}: line 7, column 7: unknown field 'candidate.nosuch'", Assert.Single(r.ErrorLines));
        Assert.Empty(r.StandardOutput);
        var topics = KafkaClients.ListTopics(KafkaSettings.ForBootstrap(_cluster.Bootstrap), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(FilterRegistry.Topic, topics.Keys);
        Assert.DoesNotContain("broker.filter.fast_risers", topics.Keys);
        Assert.Equal("no filters", Assert.Single(Broker("filter", "list").OutputLines));
    }

    [Fact]
    public void Delete_of_a_filter_the_registry_does_not_hold_exits_2_and_deletes_nothing()
    {
        Assert.Equal(0, Broker("filter", "publish", SharedData.RepositoryPath("filters/fast_risers.yaml")).ExitCode);
        var r = Broker("filter", "delete", "fast_risers", "nosuch");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: no filter nosuch in broker.filters; nothing deleted (see broker filter list)", Assert.Single(r.ErrorLines));
        Assert.Equal(2, Broker("filter", "list").OutputLines.Length);
    }

    [Fact]
    public void List_shows_a_refused_record_and_the_version_its_filter_keeps()
    {
        string risers = SharedData.RepositoryPath("filters/fast_risers.yaml");
        Assert.Equal(0, Broker("filter", "publish", risers).ExitCode);
        TestTopics.Produce(_cluster.Bootstrap, FilterRegistry.Topic,
            [new Message<byte[], byte[]> { Key = FilterRegistry.KeyOf("fast_risers"), Value = Encoding.UTF8.GetBytes("name: fast_risers\n") }]);
        var r = Broker("filter", "list");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"refused fast_risers: line 1, column 1: 'description' is missing (keeps version {FilterDefinition.Load(risers).Version})", r.OutputLines[^1]);
    }

    [Fact]
    public void List_with_an_unreachable_cluster_is_one_line_and_exit_2()
    {
        var r = BrokerProcess.Run("filter", "list", "--bootstrap", "127.0.0.1:1");
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: cannot reach Kafka at 127.0.0.1:1", Assert.Single(r.ErrorLines), StringComparison.Ordinal);
    }
}
