using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.StepHost;

/// <summary>What a stage needs besides its input stream (docs/stages.md; later, what the deployment chart mounts).</summary>
[Flags]
public enum StageNeeds
{
    /// <summary>Nothing beyond its input.</summary>
    None = 0,

    /// <summary>The alerts' cutouts (an alert without them is recorded as not classified, not failed).</summary>
    Cutouts = 1,

    /// <summary>Model files, checked against their manifest at start-up (<see cref="IStepStartup"/>, <see cref="FileVerifier"/>).</summary>
    Models = 2,

    /// <summary>Catalogue files, checked at start-up.</summary>
    Catalogues = 4,
}

/// <summary>A topic of the topology and what it carries (the rows of docs/kafka.md's topology table).</summary>
/// <param name="Name">The topic.</param>
/// <param name="Value">What a message's value is.</param>
/// <param name="Key">What a message's key is.</param>
/// <param name="WrittenBy">Who writes it, for a topic no stage writes (a survey's stream); null for a stage's output.</param>
public sealed record TopicDefinition(string Name, string Value, string Key = TopicDefinition.AlertIdKey, string? WrittenBy = null)
{
    /// <summary>Whether a topic name is a pattern of many topics (<c>broker.filter.&lt;name&gt;</c>: one per filter), not a topic.</summary>
    public static bool IsPattern(string name) => name.Contains('<', StringComparison.Ordinal);

    /// <summary>The key of every Broker topic: the alert id, so that every copy of an alert lands in the same partition.</summary>
    public const string AlertIdKey = "alert id in decimal";
}

/// <summary>A stage's options class: bound from its configuration section and checked before the stage is made.</summary>
public interface IStageOptions
{
    /// <summary>Checks the values; throws one clear message naming the bad setting.</summary>
    /// <exception cref="StepHostConfigurationException">A value is out of range, or a file or folder is missing.</exception>
    void Validate();

    /// <summary>Problems that let the service start but that an operator should hear of (logged once, at Warning).</summary>
    IEnumerable<string> Warnings() => [];
}

/// <summary>What a stage's factory is given besides its options: loggers, and what the caller provides (a schema registry for an in-process run).</summary>
public sealed class StageContext
{
    // Before Default, which needs it: static fields are initialised in the order they are written.
    private static readonly IServiceProvider EmptyServices = new ServiceCollection().BuildServiceProvider();

    /// <summary>Creates a context.</summary>
    /// <param name="loggers">Where the step logs; none when null.</param>
    /// <param name="services">What the caller provides; nothing when null.</param>
    /// <param name="kafka">The Kafka client settings when the stage is made for its Kafka service; null in-process.</param>
    public StageContext(ILoggerFactory? loggers = null, IServiceProvider? services = null, KafkaSettings? kafka = null)
    {
        Loggers = loggers ?? NullLoggerFactory.Instance;
        Services = services ?? EmptyServices;
        Kafka = kafka;
    }

    /// <summary>No loggers, no services.</summary>
    public static StageContext Default { get; } = new();

    /// <summary>Where the step logs.</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>What the caller provides (resolve with <c>GetService&lt;T&gt;()</c>; null where not provided).</summary>
    public IServiceProvider Services { get; }

    /// <summary>
    /// The cluster the stage's service runs on (its client settings), null in-process: for what the service wires
    /// besides the step (the filter service's registry follower); the step itself never touches Kafka.
    /// </summary>
    public KafkaSettings? Kafka { get; }

}

/// <summary>
/// One stage of the broker, as the stage registry lists it (docs/stages.md): its name, the topic it reads, the topics
/// it writes, its options section, what it needs, and how to make its step. Its Kafka service (a <c>Program.cs</c> of
/// one line: <c>StepHostApp.RunAsync(stage, args)</c>), its in-process stage, the topic list and the docs' tables are
/// derived from it, so that the topology and the defaults are written once.
/// </summary>
public abstract class StageDefinition
{
    /// <summary>Short stable name (<c>ingest</c>): the step's name, the service's name for <c>broker serve</c>, the default consumer group <c>broker-NAME</c>.</summary>
    public required string Name { get; init; }

    /// <summary>What it does, in one sentence (the docs' stage table).</summary>
    public required string Description { get; init; }

    /// <summary>The topic it reads; its dead letters go to <see cref="DeadLetterTopic"/>.</summary>
    public required string Input { get; init; }

    /// <summary>
    /// The topics it writes. The Kafka host produces to the first (<c>StepHost:OutputTopic</c>) until a step's result
    /// may go to several destinations (issue 10, item 3); the topic list and the docs already have them all.
    /// </summary>
    public required IReadOnlyList<TopicDefinition> Outputs { get; init; }

    /// <summary>What it needs besides its input.</summary>
    public StageNeeds Needs { get; init; }

    /// <summary>Its own configuration sections (besides <see cref="StepHostApp.CommonSections"/>).</summary>
    public abstract IReadOnlyList<string> Sections { get; }

    /// <summary>The assembly of its service, whose embedded <c>appsettings.json</c> is the service's deployment settings.</summary>
    public abstract Assembly ServiceAssembly { get; }

    /// <summary>Where its service lives in the repository (<c>services/Broker.Ingest</c>).</summary>
    public string ServiceFolder => "services/" + ServiceAssembly.GetName().Name;

    /// <summary>The dead-letter topic of its input.</summary>
    public string DeadLetterTopic => StepHostOptions.DeadLetterOf(Input);

    /// <summary>
    /// The configuration derived from this entry, below every other source (<see cref="StepHostApp.BuildConfiguration"/>):
    /// the topics, and the Kafka client id <c>broker-NAME</c>. Every other default is its options class's.
    /// </summary>
    public IReadOnlyDictionary<string, string?> Defaults => new Dictionary<string, string?>(StringComparer.Ordinal)
    {
        [StepHostOptions.Section + ":" + nameof(StepHostOptions.InputTopic)] = Input,
        [StepHostOptions.Section + ":" + nameof(StepHostOptions.OutputTopic)] = Outputs.Count > 0 ? Outputs[0].Name : null,
        ["Kafka:client.id"] = "broker-" + Name,
    };

    /// <summary>
    /// The service's configuration: <see cref="Defaults"/>, then its embedded <c>appsettings.json</c>,
    /// <c>./appsettings.json</c>, <c>BROKER_*</c> environment, <paramref name="args"/> and <paramref name="overrides"/>.
    /// </summary>
    public IConfiguration BuildConfiguration(string[] args, IDictionary<string, string?>? overrides = null) =>
        StepHostApp.BuildConfiguration(ServiceAssembly, args, overrides, Defaults);

    /// <summary>Builds the Kafka service from configuration, validating it; nothing connects yet.</summary>
    /// <exception cref="StepHostConfigurationException">Bad configuration.</exception>
    public abstract IStepService CreateService(IConfiguration configuration, ILoggerFactory loggers);

    /// <summary>Builds the stage for the in-process runner from <paramref name="settings"/> (its options section; defaults where absent).</summary>
    /// <exception cref="StepHostConfigurationException">A bad option value.</exception>
    public abstract PipelineStage CreateStage(IConfiguration settings, StageContext? context = null);

    /// <summary>Binds and validates its options sections from <paramref name="settings"/> without making the step (nothing is opened).</summary>
    /// <exception cref="StepHostConfigurationException">A value cannot be converted, a key is unknown, or validation fails.</exception>
    public abstract void CheckOptions(IConfiguration settings);

    /// <summary>
    /// Every setting of the service with its default, as <c>Section:Key</c> (the <c>StepHost</c> section with this
    /// entry's topics, consumer group and dead-letter topic; its own options section; the Kafka client id; the log
    /// level): what docs/stages.md lists, and what an <c>appsettings.json</c> should not say again.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> DefaultSettings()
    {
        var host = StepHostApp.Options<StepHostOptions>(new ConfigurationBuilder().AddInMemoryCollection(Defaults).Build(), StepHostOptions.Section);
        host.GroupId = host.EffectiveGroupId(Name);
        host.DeadLetterTopic = host.EffectiveDeadLetterTopic;
        var settings = new List<KeyValuePair<string, string>>();
        AddSettings(settings, StepHostOptions.Section, host);
        foreach (var (section, options) in DefaultOptions()) AddSettings(settings, section, options);
        settings.Add(new("Kafka:client.id", Defaults["Kafka:client.id"]!));
        settings.Add(new("Logging:Level", "Information"));
        return settings;
    }

    /// <summary>
    /// What the service's embedded <c>appsettings.json</c> sets, as <c>Section:Key</c>: its deployment's choices over
    /// <see cref="DefaultSettings"/> (ingest: the operators' endpoint's port). Empty when it embeds none.
    /// </summary>
    public IReadOnlyDictionary<string, string?> ServiceSettings()
    {
        string? resource = StepHostApp.EmbeddedSettings(ServiceAssembly);
        if (resource is null) return new Dictionary<string, string?>();
        using var stream = ServiceAssembly.GetManifestResourceStream(resource)!;
        var settings = new ConfigurationBuilder().AddJsonStream(stream).Build().AsEnumerable(makePathsRelative: true).Where(kv => kv.Value is not null);
        return new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Its options sections with an options object of default values each.</summary>
    protected abstract IEnumerable<(string Section, object Options)> DefaultOptions();

    private static void AddSettings(List<KeyValuePair<string, string>> settings, string section, object options)
    {
        // The settable properties are the settings (ErrorOnUnknownConfiguration refuses anything else); derived
        // ones (EffectiveDeadLetterTopic, Limits) have no setter.
        foreach (var p in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is not { IsPublic: true } || p.GetIndexParameters().Length > 0) continue;
            string value = p.GetValue(options) switch
            {
                null => "",
                bool b => b ? "true" : "false",
                // A map setting (StepHost:DestinationTopics): its entries, none by default.
                IDictionary<string, string> d => string.Join(", ", d.Select(kv => kv.Key + "=" + kv.Value)),
                // A map of numbers (Sso:RadiusArcsec): its entries, invariant culture.
                IDictionary<string, double> n => string.Join(", ", n.Select(kv => kv.Key + "=" + kv.Value.ToString(CultureInfo.InvariantCulture))),
                // A list setting (Crossmatch:Catalogs): its items, none by default.
                System.Collections.IList l => string.Join(", ", l.Cast<object?>()),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                var v => v.ToString() ?? "",
            };
            settings.Add(new(section + ":" + p.Name, value));
        }
    }
}

/// <summary>A stage over a step from <typeparamref name="TIn"/> to <typeparamref name="TOut"/> with options <typeparamref name="TOptions"/>.</summary>
/// <typeparam name="TIn">What the step reads.</typeparam>
/// <typeparam name="TOut">What it writes.</typeparam>
/// <typeparam name="TOptions">Its options class, bound from <see cref="Section"/>.</typeparam>
public sealed class StageDefinition<TIn, TOut, TOptions> : StageDefinition
    where TIn : notnull where TOut : notnull where TOptions : class, IStageOptions, new()
{
    /// <summary>Its options section (<c>Ingest</c>).</summary>
    public required string Section { get; init; }

    /// <summary>Decodes its input messages.</summary>
    public required IMessageCodec<TIn> InputCodec { get; init; }

    /// <summary>Encodes its outputs and names their keys.</summary>
    public required IMessageCodec<TOut> OutputCodec { get; init; }

    /// <summary>Makes the step from its validated options; the host that runs it disposes it (<see cref="StepLifetime"/>).</summary>
    public required Func<TOptions, StageContext, IStep<TIn, TOut>> Factory { get; init; }

    /// <inheritdoc />
    public override IReadOnlyList<string> Sections => [Section];

    /// <inheritdoc />
    /// <remarks>The options class's assembly: a stage's options class lives in its service's project.</remarks>
    public override Assembly ServiceAssembly => typeof(TOptions).Assembly;

    /// <summary>Binds and validates the options.</summary>
    /// <exception cref="StepHostConfigurationException">A value cannot be converted, a key is unknown, or validation fails.</exception>
    public TOptions BindOptions(IConfiguration configuration)
    {
        var options = StepHostApp.Options<TOptions>(configuration, Section);
        options.Validate();
        return options;
    }

    /// <summary>Builds the Kafka host from configuration (validating it; nothing connects yet). Its options' warnings are logged here.</summary>
    /// <exception cref="StepHostConfigurationException">Bad configuration.</exception>
    public KafkaStepHost<TIn, TOut> CreateHost(IConfiguration configuration, ILoggerFactory loggers)
    {
        StepHostApp.CheckSections(configuration, [.. Sections]);
        var hostOptions = StepHostApp.Options<StepHostOptions>(configuration, StepHostOptions.Section);
        var options = BindOptions(configuration);
        foreach (string warning in options.Warnings())
            loggers.CreateLogger("Broker." + Name).LogWarning("Service {Service} starts with a warning: {Warning}", Name, warning);
        var kafka = StepHostApp.KafkaSettings(configuration);
        var step = Factory(options, new StageContext(loggers, kafka: kafka));
        return new KafkaStepHost<TIn, TOut>(step, InputCodec, OutputCodec, hostOptions, kafka, loggers.CreateLogger("Broker.StepHost." + Name));
    }

    /// <inheritdoc />
    public override IStepService CreateService(IConfiguration configuration, ILoggerFactory loggers) => CreateHost(configuration, loggers);

    /// <summary>Wraps a step made by the caller for the in-process runner, keyed as the service keys its outputs.</summary>
    public PipelineStage Stage(IStep<TIn, TOut> step) => PipelineStage.From(step, OutputCodec);

    /// <inheritdoc />
    public override PipelineStage CreateStage(IConfiguration settings, StageContext? context = null) =>
        Stage(Factory(BindOptions(settings), context ?? StageContext.Default));

    /// <inheritdoc />
    public override void CheckOptions(IConfiguration settings) => BindOptions(settings);

    /// <inheritdoc />
    protected override IEnumerable<(string Section, object Options)> DefaultOptions() => [(Section, new TOptions())];
}
