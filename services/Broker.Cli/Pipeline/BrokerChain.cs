using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Filter;
using Broker.Filters;
using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Broker.Cli.Pipeline;

/// <summary>Options of an in-process run of Broker's chain.</summary>
internal sealed class BrokerRunOptions
{
    /// <summary>Schema registry for Confluent-framed (Rubin) alerts; null: such alerts are dead letters.</summary>
    public ISchemaRegistry? Registry { get; init; }

    /// <summary>Where to write <c>alerts.avro</c>, <c>dead-letters.jsonl</c>, <c>summary.json</c> and <c>summary.txt</c>; null writes nothing.</summary>
    public string? OutputDirectory { get; init; }

    /// <summary>
    /// The stages' settings as <c>Section:Key</c> (<c>Ingest:DuplicateWindow</c>: 0), as their services read them
    /// (<c>broker run --set</c>); each stage's options class gives the rest.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>
    /// Resume a run stopped earlier in <see cref="OutputDirectory"/> with the same inputs (its <c>checkpoint.json</c>):
    /// skip what it finished and write the rest to a new part file (<c>alerts-2.avro</c>, ...). Otherwise start afresh.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>Runner settings (batch size, channel capacity).</summary>
    public InProcessOptions Runner { get; init; } = new();

    /// <summary>Told of each output alert, in one thread, as it is written (for a summary of what came out).</summary>
    public Action<Alert>? OnAlert { get; init; }

    /// <summary>What one input file, member or message may cost.</summary>
    public AlertLimits Limits { get; init; } = AlertLimits.Default;

    /// <summary>Told of damage found while reading the files (see <see cref="SurveyFiles.Read"/>): what has no bytes never reaches a step.</summary>
    public Action<RawAlertMessage>? OnBadInput { get; init; }
}

/// <summary>
/// Broker's chain, the stage registry's (<see cref="BrokerStages.All"/>), run in one process over alert files: the
/// same step classes the Kafka services run. Used by <c>broker run</c> and <c>broker demo</c>.
/// </summary>
internal static class BrokerChain
{
    /// <summary>
    /// The output files' Avro block codec: none. An alert's bulk is its cutouts, already gzip-compressed FITS, so
    /// deflate saved under 1% (473 MB against 469 MB on an 8,885-alert simulated night) and cost about 0.7 ms of CPU
    /// per alert, a quarter of the whole chain's (issue 16, ContainerWriterBenchmarks).
    /// </summary>
    private const string OutputCodec = "null";

    /// <summary>The in-process stages, in chain order, made from <see cref="BrokerRunOptions.Settings"/>; the run's schema registry is given to the stages that ask for one.</summary>
    /// <exception cref="StepHostConfigurationException">A setting no stage reads, or a bad value.</exception>
    public static IReadOnlyList<PipelineStage> Stages(BrokerRunOptions options)
    {
        // Made before the source is read: a bad setting is refused before anything runs.
        var services = new ServiceCollection();
        if (options.Registry is { } registry) services.AddSingleton(registry);
        var settings = new ConfigurationBuilder().AddInMemoryCollection(options.Settings).Build();
        return BrokerStages.All.CreateChain(settings, new StageContext(services: services.BuildServiceProvider()));
    }

    /// <summary>Counts the messages the paths hold (for a progress bar; reads the files once, splits nothing).</summary>
    public static long CountMessages(IReadOnlyList<string> paths, AlertLimits? limits = null) => SurveyFiles.Count(paths, limits);

    /// <summary>
    /// Runs the chain over every alert in <paramref name="paths"/> (files, folders, .tar.gz) and, when
    /// <see cref="BrokerRunOptions.OutputDirectory"/> is set, writes the output alerts as Avro container files
    /// (schemas/broker/broker.alert.v1.avsc, no block codec: <c>alerts.avro</c> for the chain's default output,
    /// <c>alerts.&lt;destination&gt;.avro</c> for each destination a stage routes to), the dead letters and the summary there.
    /// </summary>
    /// <param name="paths">Alert files or folders.</param>
    /// <param name="options">Registry, output folder, step settings.</param>
    /// <param name="progress">Told how many alerts are accounted for so far.</param>
    /// <param name="cancellationToken">Stops reading; what was read is finished and counted.</param>
    /// <exception cref="FileNotFoundException">A path does not exist.</exception>
    public static async Task<RunSummary> RunAsync(IReadOnlyList<string> paths, BrokerRunOptions options,
        IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        foreach (var p in paths)
        {
            if (!File.Exists(p) && !Directory.Exists(p)) throw new FileNotFoundException($"no such file or folder: {p}", p);
        }
        await using var pipeline = new InProcessPipeline(Stages(options), options.Runner);
        // One file per destination: alerts.avro for the chain's default output, alerts.<destination>.avro for each
        // destination a stage routes to (RunCheckpoint.PartFor: alerts.broker.filter.<name>.avro per filter), the
        // others when their first record comes, so a filter that matched nothing has no file.
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var writers = new Dictionary<string, AvroContainerWriter>(StringComparer.Ordinal);
        RunCheckpoint? checkpoint = null;
        var source = SurveyFiles.ReadAsync(paths, options.Registry, withKeys: false, options.Limits, options.OnBadInput);
        RunSummary summary;
        try
        {
            if (options.OutputDirectory is { } dir)
            {
                Directory.CreateDirectory(dir);
                checkpoint = RunCheckpoint.Begin(dir, paths, options.Resume, "alerts.avro", n => $"alerts-{n}.avro", pipeline.Destinations);
                checkpoint.Save(dir);
                if (checkpoint.Resumed) source = RunCheckpoint.Skip(source, checkpoint.Done);
                foreach (var (destination, file) in checkpoint.FilesOf(checkpoint.InProgress!)) files[destination] = Path.Combine(dir, file);
                writers[Destination.Default] = new AvroContainerWriter(File.Create(files[Destination.Default]), BrokerAlertCodec.Schema, OutputCodec);
            }
            summary = await pipeline.RunAsync(source, output =>
            {
                // The chain's last stage is the filter stage: its outputs are alerts, or a filter's ids records.
                var (alert, ids) = output.Value switch
                {
                    FilterPublication p => (p.Alert, p.IsIds ? p : null),
                    var other => ((Alert)other, null),
                };
                if (files.TryGetValue(output.Destination, out var file))
                {
                    // Made at the first record: a destination's schema is its first record's (a filter's ids, or the alert).
                    if (!writers.TryGetValue(output.Destination, out var writer))
                        writers[output.Destination] = writer = new AvroContainerWriter(File.Create(file), ids is null ? BrokerAlertCodec.Schema : FilterOutput.IdsSchema, OutputCodec);
                    if (ids is null) writer.Append(BrokerAlertCodec.ToRecord(alert));
                    else writer.AppendEncoded(FilterPublicationCodec.Instance.Encode(ids));
                }
                if (output.Destination == Destination.Default) options.OnAlert?.Invoke(alert);
            }, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Closed cleanly on a stop too: each part is a complete container file.
            foreach (var writer in writers.Values) writer.Dispose();
        }
        if (options.OutputDirectory is { } outDir)
        {
            bool append = checkpoint!.Resumed;
            await using (var dl = new StreamWriter(Path.Combine(outDir, "dead-letters.jsonl"), append))
            {
                foreach (var d in summary.DeadLetters)
                    await dl.WriteLineAsync(JsonSerializer.Serialize(new { stage = d.Stage, source = d.Source, index = d.Index, key = d.Key, reason = d.Reason })).ConfigureAwait(false);
            }
            await File.WriteAllTextAsync(Path.Combine(outDir, "summary.json"), summary.ToJson(), CancellationToken.None).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(outDir, "summary.txt"), summary.Render(), CancellationToken.None).ConfigureAwait(false);
            if (summary.InFlight == 0)
            {
                checkpoint.End(summary.Read, summary.Stopped);
                checkpoint.Save(outDir);
            }
        }
        return summary;
    }
}
