using System.Collections;
using System.Reflection;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace Broker.StepHost;

/// <summary>Process exit codes of a step service.</summary>
public static class ExitCodes
{
    /// <summary>Stopped cleanly (SIGTERM, SIGINT).</summary>
    public const int Ok = 0;

    /// <summary>Fatal error at run time: the orchestrator should restart the process.</summary>
    public const int Fatal = 1;

    /// <summary>Bad configuration: restarting will not help.</summary>
    public const int Configuration = 2;
}

/// <summary>
/// The plumbing of a step service's <c>Program.cs</c>: configuration (embedded defaults, <c>appsettings.json</c>
/// in the working directory, environment, command line), Serilog, SIGTERM/SIGINT, and exit codes.
/// </summary>
public static class StepHostApp
{
    /// <summary>Environment variables with this prefix set librdkafka settings: <c>BROKER_KAFKA_BOOTSTRAP_SERVERS</c> is <c>bootstrap.servers</c>.</summary>
    public const string KafkaEnvironmentPrefix = "BROKER_KAFKA_";

    /// <summary>The prefix of every environment variable a service reads (<c>BROKER_StepHost__BatchSize</c>).</summary>
    public const string EnvironmentPrefix = "BROKER_";

    /// <summary>
    /// Builds a service's configuration. Later sources win: the service's embedded <c>appsettings.json</c>, an
    /// <c>appsettings.json</c> in the working directory, <c>BROKER_</c> environment variables (<c>BROKER_StepHost__BatchSize</c>),
    /// <c>BROKER_KAFKA_*</c> librdkafka settings, then <c>--Section:Key=value</c> arguments.
    /// </summary>
    public static IConfiguration BuildConfiguration(Assembly serviceAssembly, string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = new ConfigurationBuilder();
        string? resource = serviceAssembly.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith("appsettings.json", StringComparison.Ordinal));
        if (resource is not null) builder.AddJsonStream(serviceAssembly.GetManifestResourceStream(resource)!);
        builder.AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(KafkaFromEnvironment());
        builder.AddCommandLine(args);
        if (overrides is not null) builder.AddInMemoryCollection(overrides);
        return builder.Build();
    }

    /// <summary>librdkafka settings from <c>BROKER_KAFKA_*</c> variables, as <c>Kafka:name.with.dots</c> keys.</summary>
    public static Dictionary<string, string?> KafkaFromEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string name = (string)e.Key;
            if (!name.StartsWith(KafkaEnvironmentPrefix, StringComparison.Ordinal)) continue;
            string key = name[KafkaEnvironmentPrefix.Length..].ToLowerInvariant().Replace('_', '.');
            result["Kafka:" + key] = (string?)e.Value;
        }
        return result;
    }

    /// <summary>Reads the Kafka sections (<c>Kafka</c>, <c>KafkaConsumer</c>, <c>KafkaProducer</c>).</summary>
    public static KafkaSettings KafkaSettings(IConfiguration configuration)
    {
        var settings = new KafkaSettings();
        foreach (var (section, into) in new[] { ("Kafka", settings.Common), ("KafkaConsumer", settings.Consumer), ("KafkaProducer", settings.Producer) })
        {
            foreach (var child in configuration.GetSection(section).GetChildren())
            {
                if (child.Value is not null) into[child.Key] = child.Value;
            }
        }
        return settings;
    }

    /// <summary>Binds and validates a typed options section.</summary>
    /// <exception cref="StepHostConfigurationException">A value cannot be converted, or validation fails.</exception>
    public static T Options<T>(IConfiguration configuration, string section) where T : new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>(o => o.ErrorOnUnknownConfiguration = true) ?? new T();
        }
        catch (InvalidOperationException ex)
        {
            throw new StepHostConfigurationException($"invalid configuration in section {section}: {ex.Message}", ex);
        }
    }

    /// <summary>The sections every step service reads besides its own options sections.</summary>
    public static IReadOnlyList<string> CommonSections { get; } = [StepHostOptions.Section, "Kafka", "KafkaConsumer", "KafkaProducer", LoggingSection];

    private const string LoggingSection = "Logging";

    /// <summary>
    /// Refuses a configuration with a top-level section nobody reads: a misspelt section (<c>StepHots:BatchSize</c>)
    /// would otherwise be ignored silently, while misspelt keys inside a known section are refused by
    /// <see cref="Options{T}"/>. Top-level values that a <c>BROKER_</c> environment variable without <c>__</c> makes
    /// (<c>BROKER_ROOT</c>, <c>BROKER_KAFKA_*</c>) are not sections and are let through.
    /// </summary>
    /// <param name="configuration">The service's configuration.</param>
    /// <param name="serviceSections">The service's own options sections (<c>Ingest</c>, ...).</param>
    /// <exception cref="StepHostConfigurationException">A section is unknown; the message names it and the known ones.</exception>
    public static void CheckSections(IConfiguration configuration, params string[] serviceSections)
    {
        var known = new HashSet<string>(CommonSections.Concat(serviceSections), StringComparer.OrdinalIgnoreCase);
        var fromEnvironment = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            string name = (string)e.Key;
            if (name.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase) && !name.Contains("__", StringComparison.Ordinal))
                fromEnvironment.Add(name[EnvironmentPrefix.Length..]);
        }
        var unknown = configuration.GetChildren()
            .Select(c => c.Key)
            .Where(k => !known.Contains(k) && !fromEnvironment.Contains(k))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (unknown.Count > 0)
        {
            throw new StepHostConfigurationException(
                $"unknown configuration section{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown)}; known: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
        }
    }

    /// <summary>The log level <c>Logging:Level</c> names (default Information); the section has no other key.</summary>
    /// <exception cref="StepHostConfigurationException">The level is not one of Serilog's, or the section has another key.</exception>
    public static LogEventLevel ConfiguredLogLevel(IConfiguration configuration)
    {
        var section = configuration.GetSection(LoggingSection);
        var others = section.GetChildren().Select(c => c.Key).Where(k => !k.Equals("Level", StringComparison.OrdinalIgnoreCase)).ToList();
        if (others.Count > 0)
            throw new StepHostConfigurationException($"invalid configuration in section {LoggingSection}: unknown key{(others.Count > 1 ? "s" : "")} {string.Join(", ", others)} (only Level)");
        string? text = section["Level"];
        if (string.IsNullOrWhiteSpace(text)) return LogEventLevel.Information;
        // Enum.TryParse also takes numbers ("7") and comma lists; only the names are levels here.
        if (!Enum.GetNames<LogEventLevel>().Contains(text.Trim(), StringComparer.OrdinalIgnoreCase))
            throw new StepHostConfigurationException($"invalid configuration: Logging:Level '{text}' is not one of {string.Join(", ", Enum.GetNames<LogEventLevel>())}");
        return Enum.Parse<LogEventLevel>(text.Trim(), ignoreCase: true);
    }

    /// <summary>Serilog to standard error behind <see cref="ILoggerFactory"/>, at a given minimum level.</summary>
    public static ILoggerFactory CreateLoggerFactory(LogEventLevel level)
    {
        var serilog = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
        return LoggerFactory.Create(b => b.AddSerilog(serilog, dispose: true));
    }

    /// <summary>
    /// Runs a service until SIGTERM or SIGINT and maps the outcome to an exit code: 0 clean stop, 1 fatal,
    /// 2 bad configuration (one clear message on standard error and in the log).
    /// </summary>
    /// <param name="name">The service name (for the log).</param>
    /// <param name="configuration">Its configuration.</param>
    /// <param name="run">Builds and runs the host; returns when stopped.</param>
    /// <param name="stop">An extra stop signal (tests, <c>broker serve</c>).</param>
    public static async Task<int> RunAsync(string name, IConfiguration configuration,
        Func<IConfiguration, ILoggerFactory, CancellationToken, Task> run, CancellationToken stop = default)
    {
        LogEventLevel level;
        try
        {
            level = ConfiguredLogLevel(configuration);
        }
        catch (StepHostConfigurationException ex)
        {
            // No level to log at: say it at the default one, which shows a Critical line.
            using var fallback = CreateLoggerFactory(LogEventLevel.Information);
            fallback.CreateLogger("Broker." + name).LogCritical("Service {Service} cannot start: {Reason}", name, ex.Message);
            return ExitCodes.Configuration;
        }
        using var loggerFactory = CreateLoggerFactory(level);
        var log = loggerFactory.CreateLogger("Broker." + name);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stop);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            log.LogInformation("Service {Service} received {Signal}: finishing the batch in hand", name, context.Signal);
            cts.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        try
        {
            KafkaNative.Load();
            await run(configuration, loggerFactory, cts.Token).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (StepHostConfigurationException ex)
        {
            log.LogCritical("Service {Service} cannot start: {Reason}", name, ex.Message);
            return ExitCodes.Configuration;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (Exception ex)
        {
            log.LogCritical(ex, "Service {Service} failed: {Reason}", name, ex.Message);
            return ExitCodes.Fatal;
        }
    }
}
