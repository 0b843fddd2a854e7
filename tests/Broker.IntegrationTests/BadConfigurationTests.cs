using Broker.Ingest;
using Broker.StepHost;

namespace Broker.IntegrationTests;

public class BadConfigurationTests
{
    [Fact]
    public void An_unreachable_bootstrap_makes_the_service_exit_2_with_one_clear_message()
    {
        using var service = new ServiceProcess(new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = "127.0.0.1:1",
            ["StepHost:StartupTimeoutSeconds"] = "2",
        });
        Assert.Equal(ExitCodes.Configuration, service.WaitForExit(TimeSpan.FromSeconds(60)));
        var lines = service.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = lines.Where(l => l.Contains("[FTL]", StringComparison.Ordinal) || l.Contains("[ERR]", StringComparison.Ordinal) || l.Contains("[WRN]", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("cannot reach Kafka at 127.0.0.1:1", error);
    }

    [Fact]
    public async Task A_missing_topic_stops_the_service_with_exit_code_2_naming_the_topic()
    {
        using var cluster = new MockCluster();
        cluster.CreateTopic(BrokerTopics.SurveyAlerts, 1);
        int code = await IngestService.RunAsync([], new Dictionary<string, string?> { ["Kafka:bootstrap.servers"] = cluster.Bootstrap, ["Logging:Level"] = "Fatal" });
        Assert.Equal(ExitCodes.Configuration, code);
    }

    [Theory]
    [InlineData("StepHost:BatchSize", "many")]
    [InlineData("StepHost:BatchSize", "0")]
    [InlineData("Ingest:DuplicateWindow", "-5")]
    [InlineData("Ingest:SchemaFolder", "/no/such/folder")]
    [InlineData("KafkaConsumer:session.timeout.ms", "forever")]
    public async Task A_bad_option_value_stops_the_service_with_exit_code_2(string key, string value)
    {
        int code = await IngestService.RunAsync([], new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = "127.0.0.1:1",
            ["Logging:Level"] = "Fatal",
            [key] = value,
        });
        Assert.Equal(ExitCodes.Configuration, code);
    }

    [Fact]
    public void The_message_for_a_missing_topic_names_it()
    {
        using var cluster = new MockCluster();
        cluster.CreateTopic(BrokerTopics.SurveyAlerts, 1);
        var ex = Assert.Throws<StepHostConfigurationException>(() =>
            KafkaClients.CheckCluster(KafkaSettings.ForBootstrap(cluster.Bootstrap), [BrokerTopics.SurveyAlerts, BrokerTopics.Ingested], TimeSpan.FromSeconds(5)));
        Assert.Equal($"topic {BrokerTopics.Ingested} not found at {cluster.Bootstrap}; create it (broker dev-kafka creates Broker's topology)", ex.Message);
    }
}
