using System.CommandLine;
using Broker.StepHost;
using Microsoft.Extensions.Logging;
using Serilog.Events;

namespace Broker.Cli.Commands;

/// <summary>Runs a verb's body and turns usage and configuration errors into one clear line and exit code 2.</summary>
internal static class CliRun
{
    /// <summary>The exit code of every usage error.</summary>
    public const int UsageExitCode = 2;

    private static readonly Lazy<ILoggerFactory> KafkaLoggers = new(() => StepHostApp.CreateLoggerFactory(LogEventLevel.Warning));

    /// <summary>
    /// Where librdkafka's own log lines of the CLI's Kafka clients go: its warnings, through Serilog on standard
    /// error as a service logs them (<see cref="KafkaClients.LogTo"/>), never raw.
    /// </summary>
    public static ILogger KafkaLog => KafkaLoggers.Value.CreateLogger("Broker.Cli.Kafka");

    /// <inheritdoc cref="GuardAsync"/>
    public static Task<int> Guard(Func<int> body) => GuardAsync(() => Task.FromResult(body()));

    /// <summary>
    /// Runs a verb's body. A usage error (<see cref="CliUsageException"/>) and bad configuration
    /// (<see cref="StepHostConfigurationException"/>: an unreachable cluster, a bad <c>--set</c> value, a model file
    /// that does not match its manifest) are one line on standard error and exit code 2; a cancellation is exit 130.
    /// </summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (CliUsageException e)
        {
            return Usage(e.Message);
        }
        catch (StepHostConfigurationException e)
        {
            return Usage(e.Message);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("cancelled");
            return 130;
        }
    }

    /// <summary>Writes a usage error as one line on standard error; returns <see cref="UsageExitCode"/>.</summary>
    public static int Usage(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return UsageExitCode;
    }

    /// <summary>The parser's errors (an unparseable value, an unknown option, a missing argument) in one line, naming the verb's help.</summary>
    public static int UsageError(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string verb = command is RootCommand ? "broker" : "broker " + command.Name;
        return Usage($"{string.Join("; ", parse.Errors.Select(e => e.Message))} (see {verb} --help)");
    }

    /// <summary>
    /// An output folder, created if missing. A path that is a file, or a folder that cannot be made, is a usage
    /// error in one line rather than an exception out of the first write.
    /// </summary>
    /// <exception cref="CliUsageException">The path is a file or cannot be created.</exception>
    public static string OutputFolder(string option, string path)
    {
        if (File.Exists(path)) throw new CliUsageException($"{option}: '{path}' is a file, not a folder");
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliUsageException($"{option}: cannot create folder '{path}': {e.Message}");
        }
        return path;
    }
}
