using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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
/// in the working directory, environment, command line), the generic host with Serilog, the operators' endpoints,
/// SIGTERM/SIGINT, and exit codes.
/// </summary>
public static class StepHostApp
{
    /// <summary>Environment variables with this prefix set librdkafka settings: <c>BROKER_KAFKA_BOOTSTRAP_SERVERS</c> is <c>bootstrap.servers</c>.</summary>
    public const string KafkaEnvironmentPrefix = "BROKER_KAFKA_";

    /// <summary>The prefix of every environment variable a service reads (<c>BROKER_StepHost__BatchSize</c>).</summary>
    public const string EnvironmentPrefix = "BROKER_";

    /// <summary>
    /// Builds a service's configuration. Later sources win: <paramref name="defaults"/> (what the stage registry's
    /// entry derives: topics, client id; <see cref="StageDefinition.Defaults"/>), the service's embedded
    /// <c>appsettings.json</c>, an <c>appsettings.json</c> in the working directory, <c>BROKER_</c> environment
    /// variables (<c>BROKER_StepHost__BatchSize</c>), <c>BROKER_KAFKA_*</c> librdkafka settings, then
    /// <c>--Section:Key=value</c> arguments and <paramref name="overrides"/>. Every other default is the options classes'.
    /// </summary>
    public static IConfiguration BuildConfiguration(Assembly serviceAssembly, string[] args, IDictionary<string, string?>? overrides = null,
        IEnumerable<KeyValuePair<string, string?>>? defaults = null)
    {
        var builder = new ConfigurationBuilder();
        if (defaults is not null) builder.AddInMemoryCollection(defaults);
        string? resource = EmbeddedSettings(serviceAssembly);
        if (resource is not null) builder.AddJsonStream(serviceAssembly.GetManifestResourceStream(resource)!);
        builder.AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true);
        builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddInMemoryCollection(KafkaFromEnvironment());
        builder.AddCommandLine(args);
        if (overrides is not null) builder.AddInMemoryCollection(overrides);
        return builder.Build();
    }

    /// <summary>The name of a service assembly's embedded <c>appsettings.json</c>, or null.</summary>
    public static string? EmbeddedSettings(Assembly serviceAssembly) =>
        serviceAssembly.GetManifestResourceNames().FirstOrDefault(n => n.EndsWith("appsettings.json", StringComparison.Ordinal));

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
            // Inside a list of objects (Crossmatch:Catalogs) the binder wraps the message that names the key in one
            // that does not ("binding has failed"): the innermost says what is wrong.
            var cause = ex;
            while (cause.InnerException is InvalidOperationException inner) cause = inner;
            throw new StepHostConfigurationException($"invalid configuration in section {section}: {cause.Message}", ex);
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
    public static void CheckSections(IConfiguration configuration, params string[] serviceSections) =>
        CheckKnownSections(configuration, CommonSections.Concat(serviceSections));

    /// <summary>Refuses a configuration with a top-level section other than <paramref name="sections"/> (see <see cref="CheckSections"/>).</summary>
    /// <exception cref="StepHostConfigurationException">A section is unknown; the message names it and the known ones.</exception>
    internal static void CheckKnownSections(IConfiguration configuration, IEnumerable<string> sections)
    {
        var known = new HashSet<string>(sections, StringComparer.OrdinalIgnoreCase);
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

    /// <summary>Serilog to standard error, at a given minimum level; ASP.NET Core's and the generic host's own chatter from Warning.</summary>
    public static Serilog.ILogger CreateSerilog(LogEventLevel level) => new LoggerConfiguration()
        .MinimumLevel.Is(level)
        .MinimumLevel.Override("Microsoft", (LogEventLevel)Math.Max((int)level, (int)LogEventLevel.Warning))
        .WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
            standardErrorFromLevel: LogEventLevel.Verbose)
        .CreateLogger();

    /// <summary>Serilog to standard error behind <see cref="ILoggerFactory"/>, at a given minimum level.</summary>
    public static ILoggerFactory CreateLoggerFactory(LogEventLevel level) =>
        LoggerFactory.Create(b => b.AddSerilog(CreateSerilog(level), dispose: true));

    /// <summary>How long a stop may take to finish the batch in hand and commit before the process gives up on it.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// The one entry point of a stage's service (its <c>Program.cs</c> is <c>return await StepHostApp.RunAsync(MyStep.Stage, args);</c>,
    /// <c>broker serve</c> calls the same): configuration from the stage's registry entry and its sources
    /// (<see cref="StageDefinition.BuildConfiguration"/>), then <see cref="RunAsync(string, IConfiguration, Func{IConfiguration, ILoggerFactory, IStepService}, CancellationToken, Action{IReadOnlyCollection{string}})"/>.
    /// </summary>
    /// <param name="stage">The stage's registry entry.</param>
    /// <param name="args">Command-line arguments (<c>--Section:Key=value</c>).</param>
    /// <param name="overrides">Settings that win over every source (<c>broker serve --set</c>, tests).</param>
    /// <param name="stop">An extra stop signal.</param>
    /// <returns>The exit code (<see cref="ExitCodes"/>).</returns>
    public static Task<int> RunAsync(StageDefinition stage, string[] args, IDictionary<string, string?>? overrides = null, CancellationToken stop = default) =>
        RunAsync(stage.Name, stage.BuildConfiguration(args, overrides), stage.CreateService, stop);

    /// <summary>
    /// Runs a service on the .NET generic host until SIGTERM or SIGINT (the host's console lifetime) and maps the
    /// outcome to an exit code: 0 clean stop, 1 fatal, 2 bad configuration (one clear message on standard error and
    /// in the log). Logging is Serilog behind <see cref="ILogger{T}"/>; with <c>StepHost:HttpUrl</c> set, Kestrel
    /// serves the operators' endpoints (<see cref="OperatorEndpoints"/>) in the same host.
    /// </summary>
    /// <param name="name">The service name (for the log).</param>
    /// <param name="configuration">Its configuration.</param>
    /// <param name="create">Builds the service from configuration (validating it; nothing connects yet). The service is disposed at the end when it is disposable (<see cref="StepLifetime"/>).</param>
    /// <param name="stop">An extra stop signal (tests, <c>broker serve</c>).</param>
    /// <param name="listening">Told the endpoints' addresses once Kestrel listens (the real port where 0 was asked for).</param>
    public static async Task<int> RunAsync(string name, IConfiguration configuration,
        Func<IConfiguration, ILoggerFactory, IStepService> create, CancellationToken stop = default,
        Action<IReadOnlyCollection<string>>? listening = null)
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
        var serilog = CreateSerilog(level);
        using var loggerFactory = new Serilog.Extensions.Logging.SerilogLoggerFactory(serilog, dispose: true);
        var log = loggerFactory.CreateLogger("Broker." + name);
        IStepService? service = null;
        try
        {
            KafkaNative.Load();
            service = create(configuration, loggerFactory);
            service.Options.Validate();
            var (code, running) = await RunHostAsync(name, service, log, serilog, stop, listening).ConfigureAwait(false);
            // A service still busy with its last batch is not disposed under it: the process is about to exit.
            if (running) service = null;
            return code;
        }
        catch (StepHostConfigurationException ex)
        {
            log.LogCritical("Service {Service} cannot start: {Reason}", name, ex.Message);
            return ExitCodes.Configuration;
        }
        catch (Exception ex)
        {
            log.LogCritical(ex, "Service {Service} failed: {Reason}", name, ex.Message);
            return ExitCodes.Fatal;
        }
        finally
        {
            // The service and its step (model sessions, a registry client) are released on every way out.
            await StepLifetime.DisposeAsync(service).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a built service in the generic host and maps how it ended to an exit code; says whether it is still running.</summary>
    private static async Task<(int Code, bool Running)> RunHostAsync(string name, IStepService service, Microsoft.Extensions.Logging.ILogger log,
        Serilog.ILogger serilog, CancellationToken stop, Action<IReadOnlyCollection<string>>? listening)
    {
        using (service.Metrics)
        {
            var builder = new HostBuilder()
                .UseSerilog(serilog)
                .UseConsoleLifetime(o => o.SuppressStatusMessages = true)
                .ConfigureServices(s => s.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout));
            string? url = service.Options.HttpUrl;
            // Kestrel first: hosted services start in order, so a port that cannot be bound stops the start before
            // anything is consumed.
            if (!string.IsNullOrWhiteSpace(url)) builder.ConfigureWebHost(web => OperatorEndpoints.Configure(web, service, service.Options, url));
            builder.ConfigureServices(s => s.AddSingleton(service).AddHostedService<StepServiceWorker>());
            using var host = builder.Build();
            try
            {
                await host.StartAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return (ExitCodes.Ok, false);
            }
            catch (IOException ex) when (url is not null)
            {
                log.LogCritical("Service {Service} cannot start: StepHost:HttpUrl '{Url}' cannot be listened on: {Reason}", name, url, ex.Message);
                return (ExitCodes.Configuration, false);
            }
            if (url is not null)
            {
                var addresses = OperatorEndpoints.Addresses(host.Services);
                log.LogInformation("Service {Service} operators' endpoints: {Addresses} (/metrics, /health/live, /health/ready)", name, string.Join(", ", addresses));
                listening?.Invoke(addresses);
            }
            await host.WaitForShutdownAsync(stop).ConfigureAwait(false);
            var worker = host.Services.GetServices<IHostedService>().OfType<StepServiceWorker>().Single();
            if (worker.ExecuteTask is { IsCompleted: false })
            {
                log.LogCritical("Service {Service} did not stop within {Timeout}: the batch in hand was not committed", name, ShutdownTimeout);
                return (ExitCodes.Fatal, true);
            }
            switch (worker.Failure)
            {
                case null:
                    return (ExitCodes.Ok, false);
                case StepHostConfigurationException ex:
                    log.LogCritical("Service {Service} cannot start: {Reason}", name, ex.Message);
                    return (ExitCodes.Configuration, false);
                case var ex:
                    log.LogCritical(ex, "Service {Service} failed: {Reason}", name, ex.Message);
                    return (ExitCodes.Fatal, false);
            }
        }
    }

    /// <summary>Runs the service inside the generic host; stops the host when the service ends, whatever the cause.</summary>
    private sealed class StepServiceWorker(IStepService service, IHostApplicationLifetime lifetime, ILogger<StepServiceWorker> log) : BackgroundService
    {
        /// <summary>Why the service ended, when not by a stop request.</summary>
        public Exception? Failure { get; private set; }

        protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
            // Its own thread-pool work: the host's loop runs synchronously until its first batch, and the generic host
            // waits for ExecuteAsync's first await before starting the next service.
            Task.Run(async () =>
            {
                using var said = stoppingToken.Register(() =>
                    log.LogInformation("Service {Service} stopping (SIGTERM, SIGINT or a stop request): finishing the batch in hand", service.Step));
                try
                {
                    await service.RunAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                }
                catch (Exception ex)
                {
                    Failure = ex;
                }
                finally
                {
                    lifetime.StopApplication();
                }
            }, CancellationToken.None);
    }
}
