using Broker.Alerts.IO;
using Broker.Alerts.Avro;
using Broker.StepHost;

namespace Broker.Ingest;

/// <summary>Settings of the ingest step (configuration section <c>Ingest</c>).</summary>
/// <remarks>
/// There is no setting for cutouts: an alert without them is valid and always passes (issue 10; the former
/// <c>Ingest:RequireCutouts</c> is refused as an unknown key), and a stamp that is present must decode.
/// </remarks>
public sealed class IngestOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "Ingest";

    /// <summary>How many recent alert ids are remembered to drop exact duplicates (0 disables).</summary>
    public int DuplicateWindow { get; set; } = 100_000;

    /// <summary>Folder of Rubin schema files used as the schema registry for Confluent-framed alerts.</summary>
    public string? SchemaFolder { get; set; }

    /// <summary>URL of a Confluent-compatible schema registry (used when <see cref="SchemaFolder"/> is empty).</summary>
    public string? SchemaRegistryUrl { get; set; }

    /// <summary>
    /// How long one request to <see cref="SchemaRegistryUrl"/> may take before the registry counts as unavailable
    /// (a transient failure: the host retries the batch with backoff, <c>StepHost:TransientRetries</c> times).
    /// </summary>
    public int SchemaRegistryTimeoutSeconds { get; set; } = 10;

    /// <summary>Messages longer than this are dead-lettered unread (a bound on what one input may cost; default 64 MiB).</summary>
    public int MaxMessageBytes { get; set; } = AlertLimits.DefaultBytes;

    /// <summary>Gzip or tar inside a message that would inflate to more than this is dead-lettered (a gzip bomb; default 64 MiB).</summary>
    public int MaxInflatedBytes { get; set; } = AlertLimits.DefaultBytes;

    /// <summary>The bounds on one message these options set.</summary>
    public AlertLimits Limits => new() { MaxMessageBytes = MaxMessageBytes, MaxInflatedBytes = MaxInflatedBytes };

    /// <summary>Checks the values.</summary>
    /// <exception cref="StepHostConfigurationException">A value is out of range or a folder is missing.</exception>
    public void Validate()
    {
        if (DuplicateWindow is < 0 or > 10_000_000)
            throw new StepHostConfigurationException($"invalid configuration: Ingest:DuplicateWindow {DuplicateWindow} is not in 0..10000000");
        if (!string.IsNullOrWhiteSpace(SchemaFolder) && SchemaFolderProblem(SchemaFolder) is { } problem)
            throw new StepHostConfigurationException($"invalid configuration: Ingest:SchemaFolder '{SchemaFolder}' {problem}");
        if (MaxMessageBytes < 1)
            throw new StepHostConfigurationException($"invalid configuration: Ingest:MaxMessageBytes {MaxMessageBytes} is not a positive number of bytes");
        if (MaxInflatedBytes < 1)
            throw new StepHostConfigurationException($"invalid configuration: Ingest:MaxInflatedBytes {MaxInflatedBytes} is not a positive number of bytes");
        if (SchemaRegistryTimeoutSeconds is < 1 or > 600)
            throw new StepHostConfigurationException($"invalid configuration: Ingest:SchemaRegistryTimeoutSeconds {SchemaRegistryTimeoutSeconds} is not in 1..600");
        if (!string.IsNullOrWhiteSpace(SchemaRegistryUrl) && !Uri.TryCreate(SchemaRegistryUrl, UriKind.Absolute, out _))
            throw new StepHostConfigurationException($"invalid configuration: Ingest:SchemaRegistryUrl '{SchemaRegistryUrl}' is not an absolute URL");
    }

    /// <inheritdoc />
    /// <remarks>The schema source's problem, if any (<see cref="SchemaSourceWarning"/>).</remarks>
    public IEnumerable<string> Warnings() => SchemaSourceWarning() is { } warning ? [warning] : [];

    /// <summary>
    /// Why the schema source these options name would dead-letter every Confluent-framed (Rubin) alert: none is
    /// configured, or the folder holds no schema file; null when there is one. ZTF alerts carry their own schema.
    /// </summary>
    public string? SchemaSourceWarning()
    {
        if (!string.IsNullOrWhiteSpace(SchemaFolder))
            return HasSchemaFiles(SchemaFolder) ? null : $"schema folder '{SchemaFolder}' holds no .avsc file: every Confluent-framed (Rubin) alert will be dead-lettered";
        if (!string.IsNullOrWhiteSpace(SchemaRegistryUrl)) return null;
        return "no schema source for Confluent-framed (Rubin) alerts (set Ingest:SchemaFolder or Ingest:SchemaRegistryUrl): every Rubin alert will be dead-lettered; ZTF alerts carry their own schema";
    }

    /// <summary>What makes <paramref name="folder"/> unusable as a schema folder ("is a file, not a folder", "does not exist"), or null.</summary>
    public static string? SchemaFolderProblem(string folder) =>
        Directory.Exists(folder) ? null : File.Exists(folder) ? "is a file, not a folder" : "does not exist";

    /// <summary>Whether an existing folder holds any <c>.avsc</c> file, at any depth (where <see cref="FolderSchemaRegistry"/> looks).</summary>
    public static bool HasSchemaFiles(string folder) => Directory.EnumerateFiles(folder, "*.avsc", SearchOption.AllDirectories).Any();

    /// <summary>The schema registry these options name, or null for none.</summary>
    public ISchemaRegistry? CreateRegistry() =>
        !string.IsNullOrWhiteSpace(SchemaFolder) ? new FolderSchemaRegistry(SchemaFolder)
        : !string.IsNullOrWhiteSpace(SchemaRegistryUrl) ? new ConfluentSchemaRegistry(SchemaRegistryUrl, TimeSpan.FromSeconds(SchemaRegistryTimeoutSeconds))
        : null;
}
