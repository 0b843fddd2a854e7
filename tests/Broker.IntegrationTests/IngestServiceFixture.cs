using Broker.Ingest;
using Broker.StepHost;
using Broker.TestSupport;

using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.IntegrationTests;

/// <summary>Configuration and hosts of the ingest service for tests.</summary>
internal static class IngestServiceFixture
{
    public const int BatchSize = 25;

    /// <summary>The operators' endpoints on a free port of the loopback: test services run side by side.</summary>
    public const string HttpUrl = "http://127.0.0.1:0";

    public static Dictionary<string, string?> Settings(string bootstrap, string group) => new()
    {
        ["Kafka:bootstrap.servers"] = bootstrap,
        ["StepHost:GroupId"] = group,
        ["StepHost:BatchSize"] = BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["StepHost:BatchWaitMs"] = "50",
        ["StepHost:MetricsIntervalSeconds"] = "0",
        ["StepHost:HttpUrl"] = HttpUrl,
        ["Ingest:SchemaFolder"] = SharedData.Path("lsst/schema"),
        ["Logging:Level"] = "Warning",
        // A killed member holds its partitions until the session times out: keep that short for the crash test.
        ["KafkaConsumer:session.timeout.ms"] = "6000",
        ["KafkaConsumer:heartbeat.interval.ms"] = "500",
    };

    public static KafkaStepHost<byte[], Broker.Alerts.Model.Alert> Host(string bootstrap, string group, Microsoft.Extensions.Logging.ILoggerFactory? loggers = null)
    {
        var config = IngestStep.Stage.BuildConfiguration([], Settings(bootstrap, group));
        return IngestStep.Stage.CreateHost(config, loggers ?? NullLoggerFactory.Instance);
    }

    /// <summary>Runs <paramref name="host"/> until it has read <paramref name="inputs"/> messages (<see cref="HostRuns.RunUntilAsync"/>).</summary>
    public static Task RunUntilAsync(KafkaStepHost<byte[], Broker.Alerts.Model.Alert> host, long inputs) => HostRuns.RunUntilAsync(host, inputs);
}
