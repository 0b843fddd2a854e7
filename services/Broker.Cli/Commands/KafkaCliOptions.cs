using System.CommandLine;
using Broker.Alerts.Avro;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary>Options shared by the Kafka verbs (serve, replay, subscribe): where the cluster is.</summary>
internal static class KafkaCliOptions
{
    /// <summary>Where <c>broker dev-kafka</c> publishes its bootstrap address for the other verbs.</summary>
    public static string DevBootstrapFile => Path.Combine(Path.GetTempPath(), "broker-dev-kafka.bootstrap");

    public static Option<string?> Bootstrap() => new("--bootstrap")
    {
        Description = "Kafka bootstrap servers (HOST:PORT,...). Default: $BROKER_KAFKA_BOOTSTRAP_SERVERS, else the running `broker dev-kafka`.",
    };

    /// <summary>The bootstrap address from the option, the environment or a running dev-kafka.</summary>
    /// <exception cref="CliUsageException">None found.</exception>
    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return option;
        var env = Environment.GetEnvironmentVariable(StepHostApp.KafkaEnvironmentPrefix + "BOOTSTRAP_SERVERS");
        if (!string.IsNullOrWhiteSpace(env)) return env;
        if (File.Exists(DevBootstrapFile))
        {
            var text = File.ReadAllText(DevBootstrapFile).Trim();
            if (text.Length > 0) return text;
        }
        throw new CliUsageException("no Kafka bootstrap address: give --bootstrap, set BROKER_KAFKA_BOOTSTRAP_SERVERS, or start `broker dev-kafka`");
    }

    /// <summary>The registry named by --schemas or --schema-registry (null for neither).</summary>
    public static ISchemaRegistry? Registry(string? folder, string? url)
    {
        if (folder is not null && url is not null) throw new CliUsageException("give --schemas or --schema-registry, not both");
        if (folder is not null)
        {
            if (!Directory.Exists(folder)) throw new CliUsageException($"--schemas: folder '{folder}' does not exist");
            return new FolderSchemaRegistry(folder);
        }
        if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new CliUsageException($"--schema-registry: '{url}' is not an http(s) URL");
            return new HttpSchemaRegistry(uri);
        }
        return null;
    }

    /// <summary>Runs a Kafka verb body, turning configuration errors into one line and exit code 2.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await CliRun.GuardAsync(body);
        }
        catch (StepHostConfigurationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Configuration;
        }
    }
}
