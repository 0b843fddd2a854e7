using System.CommandLine;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary>Options shared by the Kafka verbs (serve, replay, subscribe): where the cluster is.</summary>
internal static class KafkaCliOptions
{
    /// <summary>Where <c>broker dev-kafka</c> publishes its bootstrap address for the other verbs.</summary>
    public static string DevBootstrapFile => Path.Combine(Path.GetTempPath(), "broker-dev-kafka.bootstrap");

    /// <summary>What <c>broker dev-kafka</c> writes: its process id on the first line, the bootstrap address on the second.</summary>
    public static string DevBootstrapContent(int pid, string bootstrap) =>
        pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n" + bootstrap + "\n";

    /// <summary>
    /// The bootstrap address in a dev-kafka file, or null when there is none or the process that wrote it is no
    /// longer alive (a dev-kafka killed with SIGKILL cannot remove its file). A one-line file (older dev-kafka) is
    /// taken as it is.
    /// </summary>
    public static string? ReadDevBootstrap(string file)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        if (lines.Length == 1) return lines[0];
        if (lines.Length != 2 || !int.TryParse(lines[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)) return null;
        return IsAlive(pid) ? lines[1] : null;
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

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
        if (ReadDevBootstrap(DevBootstrapFile) is { } dev) return dev;
        throw new CliUsageException("no Kafka bootstrap address: give --bootstrap, set BROKER_KAFKA_BOOTSTRAP_SERVERS, or start `broker dev-kafka`");
    }
}
