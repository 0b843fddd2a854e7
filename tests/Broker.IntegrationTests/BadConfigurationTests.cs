using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;

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
            ["Ingest:SchemaFolder"] = SharedData.Path("lsst/schema"),
        });
        Assert.Equal(ExitCodes.Configuration, service.WaitForExit(TimeSpan.FromSeconds(60)));
        var lines = service.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = lines.Where(l => l.Contains("[FTL]", StringComparison.Ordinal) || l.Contains("[ERR]", StringComparison.Ordinal) || l.Contains("[WRN]", StringComparison.Ordinal)).ToList();
        var error = Assert.Single(errors);
        Assert.Contains("cannot reach Kafka at 127.0.0.1:1", error);
        // librdkafka's own lines (%3|1700000000.123|FAIL|rdkafka#producer-1| ...) go through the logger, at Debug.
        Assert.DoesNotContain(lines, l => l.StartsWith('%'));
    }

    [Theory]
    [InlineData("StepHots:BatchSize", "10", "unknown configuration section StepHots; known: Ingest, Kafka, KafkaConsumer, KafkaProducer, Logging, StepHost")]
    [InlineData("Logging:Level", "Chatty", "Logging:Level 'Chatty' is not one of")]
    [InlineData("StepHost:HealthFile", "/no/such/folder/health.json", "StepHost:HealthFile '/no/such/folder/health.json' cannot be written")]
    // Gone in issue 10 (alerts without cutouts always pass): a deployment that still sets it is told, not ignored.
    [InlineData("Ingest:RequireCutouts", "true", "were not found on the instance of Broker.Ingest.IngestOptions: 'RequireCutouts'")]
    public void A_setting_that_would_be_ignored_makes_the_service_exit_2_with_one_line_naming_it(string key, string value, string expected)
    {
        using var service = new ServiceProcess(new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = "127.0.0.1:1",
            ["StepHost:StartupTimeoutSeconds"] = "2",
            ["Ingest:SchemaFolder"] = SharedData.Path("lsst/schema"),
            [key] = value,
        });
        Assert.Equal(ExitCodes.Configuration, service.WaitForExit(TimeSpan.FromSeconds(60)));
        var lines = service.Log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var error = Assert.Single(lines, l => l.Contains("[FTL]", StringComparison.Ordinal));
        Assert.Contains(expected, error);
        // Refused before anything reaches for the cluster.
        Assert.DoesNotContain(lines, l => l.Contains("cannot reach Kafka", StringComparison.Ordinal));
    }

    [Fact]
    public void A_schema_folder_that_is_a_file_is_refused_saying_so()
    {
        string file = Path.GetTempFileName();
        try
        {
            var ex = Assert.Throws<StepHostConfigurationException>(new IngestOptions { SchemaFolder = file }.Validate);
            Assert.Equal($"invalid configuration: Ingest:SchemaFolder '{file}' is a file, not a folder", ex.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Ingest_without_a_schema_source_or_with_an_empty_schema_folder_warns_at_start_that_Rubin_alerts_will_be_dead_lettered()
    {
        var empty = Directory.CreateTempSubdirectory("broker-empty-schemas");
        try
        {
            foreach (var (folder, expected) in new[] { ("", "no schema source for Confluent-framed (Rubin) alerts"), (empty.FullName, $"schema folder '{empty.FullName}' holds no .avsc file") })
            {
                var loggers = new WarningCollector();
                var config = IngestStep.Stage.BuildConfiguration([],
                    new Dictionary<string, string?> { ["Kafka:bootstrap.servers"] = "127.0.0.1:1", ["Ingest:SchemaFolder"] = folder });
                IngestStep.Stage.CreateHost(config, loggers);
                var warning = Assert.Single(loggers.Warnings);
                Assert.Contains(expected, warning);
                Assert.Contains("dead-lettered", warning);
            }
            // A folder with the schemas: no warning.
            var ok = new WarningCollector();
            IngestStep.Stage.CreateHost(IngestStep.Stage.BuildConfiguration([],
                new Dictionary<string, string?> { ["Ingest:SchemaFolder"] = SharedData.Path("lsst/schema") }), ok);
            Assert.Empty(ok.Warnings);
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    /// <summary>Collects the Warning lines every logger of a factory writes.</summary>
    private sealed class WarningCollector : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Warnings { get; } = [];

        public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider)
        {
        }

        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == Microsoft.Extensions.Logging.LogLevel.Warning) Warnings.Add(formatter(state, exception));
        }
    }

    [Fact]
    public async Task A_missing_topic_stops_the_service_with_exit_code_2_naming_the_topic()
    {
        using var cluster = new MockCluster();
        cluster.CreateTopic(BrokerTopics.SurveyAlerts, 1);
        int code = await StepHostApp.RunAsync(IngestStep.Stage, [], new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = cluster.Bootstrap, ["Logging:Level"] = "Fatal", ["StepHost:HttpUrl"] = IngestServiceFixture.HttpUrl,
        });
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
        int code = await StepHostApp.RunAsync(IngestStep.Stage, [], new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = "127.0.0.1:1",
            ["Logging:Level"] = "Fatal",
            ["StepHost:HttpUrl"] = IngestServiceFixture.HttpUrl,
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
