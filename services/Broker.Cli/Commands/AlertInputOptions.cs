using System.CommandLine;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Ingest;

namespace Broker.Cli.Commands;

/// <summary>The input options shared by every verb that reads alert files: paths, schema folder or registry, reader schema.</summary>
internal sealed class AlertInputOptions
{
    public Argument<string[]> Paths { get; } = new("paths")
    {
        Description = "Alert files, folders, .tar.gz bundles or Confluent-framed messages.",
        Arity = ArgumentArity.OneOrMore,
    };

    public Option<string?> Schemas { get; } = new("--schemas")
    {
        Description = "Folder of survey schema files for Confluent schema ids (Rubin: lsst.vX_Y.*.avsc, id = X*100+Y), e.g. ../shared/data/lsst/schema.",
    };

    public Option<string?> SchemaRegistry { get; } = new("--schema-registry")
    {
        Description = "URL of a Confluent-compatible schema registry (Rubin runs one) for Confluent schema ids.",
    };

    public Option<string?> ReaderSchema { get; } = new("--reader-schema")
    {
        Description = "Decode through this reader schema (.avsc; other .avsc files in its folder resolve its references).",
    };

    public Option<int> MaxInflatedBytes { get; } = new("--max-inflated-bytes")
    {
        Description = "Refuse (as bad input, naming the file) a gzip stream, tar member or Avro block that inflates to more than this many bytes.",
        DefaultValueFactory = _ => AlertLimits.DefaultBytes,
    };

    public Option<int> MaxMessageBytes { get; } = new("--max-message-bytes")
    {
        Description = "Refuse (as bad input, naming the file) a file or message read whole that is longer than this many bytes (gzip and tar files are streamed).",
        DefaultValueFactory = _ => AlertLimits.DefaultBytes,
    };

    /// <summary>Adds the options to a verb; <paramref name="readerSchema"/> only for verbs that decode through one.</summary>
    public void AddTo(Command command, bool pathsOptional = false, bool readerSchema = true)
    {
        if (pathsOptional) Paths.Arity = ArgumentArity.ZeroOrMore;
        command.Arguments.Add(Paths);
        command.Options.Add(Schemas);
        command.Options.Add(SchemaRegistry);
        if (readerSchema) command.Options.Add(ReaderSchema);
        command.Options.Add(MaxInflatedBytes);
        command.Options.Add(MaxMessageBytes);
    }

    /// <summary>What one input may cost, from <c>--max-inflated-bytes</c> and <c>--max-message-bytes</c>.</summary>
    /// <exception cref="CliUsageException">A limit is not positive.</exception>
    public AlertLimits Limits(ParseResult parse)
    {
        int inflated = parse.GetValue(MaxInflatedBytes), message = parse.GetValue(MaxMessageBytes);
        if (inflated < 1) throw new CliUsageException("--max-inflated-bytes must be at least 1");
        if (message < 1) throw new CliUsageException("--max-message-bytes must be at least 1");
        return new AlertLimits { MaxInflatedBytes = inflated, MaxMessageBytes = message };
    }

    /// <summary>The one line a verb writes to standard error for a damaged input.</summary>
    public static void ReportBadInput(string source, string reason) => Console.Error.WriteLine($"error: {source}: {reason}");

    /// <summary>The paths given, each checked to exist.</summary>
    /// <exception cref="CliUsageException">A path is neither a file nor a folder.</exception>
    public string[] ExistingPaths(ParseResult parse)
    {
        var paths = parse.GetValue(Paths) ?? [];
        foreach (var p in paths)
        {
            if (!File.Exists(p) && !Directory.Exists(p)) throw new CliUsageException($"no such file or folder: {p}");
        }
        return paths;
    }

    /// <summary>Builds the file reader the options describe.</summary>
    /// <exception cref="CliUsageException">A schema folder, registry URL or reader schema is unusable.</exception>
    public AlertFileReader CreateReader(ParseResult parse) =>
        new(CreateRegistry(parse), LoadReaderSchema(parse.GetValue(ReaderSchema)), Limits(parse));

    /// <summary>The schema registry the options name, or null.</summary>
    /// <exception cref="CliUsageException">Both were given, the folder is missing, or the URL is not http(s).</exception>
    public ISchemaRegistry? CreateRegistry(ParseResult parse) => Registry(parse.GetValue(Schemas), parse.GetValue(SchemaRegistry));

    /// <summary>A registry from a schema folder or a registry URL (at most one of them), or null for neither.</summary>
    /// <exception cref="CliUsageException">Both were given, the folder is missing, or the URL is not http(s).</exception>
    public static ISchemaRegistry? Registry(string? folder, string? url)
    {
        if (folder is not null && url is not null) throw new CliUsageException("give --schemas or --schema-registry, not both");
        if (folder is not null)
        {
            if (IngestOptions.SchemaFolderProblem(folder) is { } problem) throw new CliUsageException($"--schemas: folder '{folder}' {problem}");
            if (!IngestOptions.HasSchemaFiles(folder))
                Console.Error.WriteLine($"warning: --schemas: folder '{folder}' holds no .avsc file; Confluent-framed (Rubin) alerts cannot be decoded");
            return new FolderSchemaRegistry(folder);
        }
        if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new CliUsageException($"--schema-registry: '{url}' is not an http(s) URL");
            // Confluent's client, as the ingest service uses it; an unreachable registry is an error, not a dead letter.
            return new ConfluentSchemaRegistry(url, TimeSpan.FromSeconds(new IngestOptions().SchemaRegistryTimeoutSeconds));
        }
        return null;
    }

    private static AvroSchema? LoadReaderSchema(string? file)
    {
        if (file is null) return null;
        if (!File.Exists(file)) throw new CliUsageException($"--reader-schema: file '{file}' does not exist");
        try
        {
            var names = new AvroSchemaNames();
            var all = names.LoadFolder(Path.GetDirectoryName(Path.GetFullPath(file))!);
            return all[Path.GetFullPath(file)];
        }
        catch (FormatException e)
        {
            throw new CliUsageException($"--reader-schema: {e.Message}");
        }
    }
}

/// <summary>The command line asks for something impossible; the message says what, and the exit code is 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
