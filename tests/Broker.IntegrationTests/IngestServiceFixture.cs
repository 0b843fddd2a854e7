using Broker.Alerts.Tests.TestSupport;
using Broker.Ingest;
using Broker.StepHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.IntegrationTests;

/// <summary>Configuration and hosts of the ingest service for tests.</summary>
internal static class IngestServiceFixture
{
    public const int BatchSize = 25;

    public static Dictionary<string, string?> Settings(string bootstrap, string group) => new()
    {
        ["Kafka:bootstrap.servers"] = bootstrap,
        ["StepHost:GroupId"] = group,
        ["StepHost:BatchSize"] = BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["StepHost:BatchWaitMs"] = "50",
        ["StepHost:MetricsIntervalSeconds"] = "0",
        ["Ingest:SchemaFolder"] = SharedData.Path("lsst/schema"),
        ["Logging:Level"] = "Warning",
    };

    public static KafkaStepHost<byte[], Broker.Alerts.Model.Alert> Host(string bootstrap, string group)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(Settings(bootstrap, group)).Build();
        return IngestService.CreateHost(config, NullLoggerFactory.Instance);
    }
}
