using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.StepHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Broker.Ingest;

/// <summary>The ingest service as a process: <c>Broker.Ingest</c>'s Program and <c>broker serve ingest</c> both run this.</summary>
public static class IngestService
{
    /// <summary>
    /// Runs ingest on Kafka until SIGTERM/SIGINT or <paramref name="stop"/>. Configuration: embedded
    /// appsettings.json, ./appsettings.json, <c>BROKER_*</c> environment, then <paramref name="args"/>
    /// (<c>--Kafka:bootstrap.servers=HOST:PORT</c>) and <paramref name="overrides"/>.
    /// </summary>
    /// <returns>The exit code (<see cref="ExitCodes"/>).</returns>
    public static Task<int> RunAsync(string[] args, IDictionary<string, string?>? overrides = null, CancellationToken stop = default)
    {
        var configuration = StepHostApp.BuildConfiguration(typeof(IngestService).Assembly, args, overrides);
        return StepHostApp.RunAsync(IngestStep.StepName, configuration, CreateHost, stop);
    }

    /// <summary>Builds the Kafka host for ingest from configuration (validating it).</summary>
    /// <exception cref="StepHostConfigurationException">Bad configuration.</exception>
    public static KafkaStepHost<byte[], Alert> CreateHost(IConfiguration configuration, ILoggerFactory loggers)
    {
        StepHostApp.CheckSections(configuration, IngestOptions.Section);
        var hostOptions = StepHostApp.Options<StepHostOptions>(configuration, StepHostOptions.Section);
        var ingestOptions = StepHostApp.Options<IngestOptions>(configuration, IngestOptions.Section);
        ingestOptions.Validate();
        if (ingestOptions.SchemaSourceWarning() is { } warning)
            loggers.CreateLogger("Broker.Ingest").LogWarning("Ingest starts with a schema problem: {Warning}", warning);
        var step = new IngestStep(ingestOptions, null, loggers.CreateLogger<IngestStep>());
        return new KafkaStepHost<byte[], Alert>(step, RawBytesCodec.Instance, AlertMessageCodec.Instance, hostOptions,
            StepHostApp.KafkaSettings(configuration), loggers.CreateLogger("Broker.StepHost." + IngestStep.StepName));
    }

    /// <summary>The ingest step as an in-process stage (for <c>broker run</c> and <c>broker demo</c>).</summary>
    public static PipelineStage Stage(IngestOptions options, ISchemaRegistry? registry = null) =>
        PipelineStage.From(new IngestStep(options, registry), AlertMessageCodec.Instance);
}
