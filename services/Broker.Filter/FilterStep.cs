using Broker.Alerts.Model;
using Broker.Filters;
using Broker.StepHost;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.Filter;

/// <summary>
/// The filter step (issue 15), last in the chain: evaluates every active filter of the registry on every classified
/// alert and routes each match to the filter's topic, <c>broker.filter.&lt;name&gt;</c>, as its content says
/// (<see cref="FilterPublication"/>), and, with <see cref="FilterOptions.ForwardAll"/>, every alert to its default
/// output <c>broker.filtered</c> with the filters it passed in <c>filterMatches</c>. Matches over a filter's quota are
/// dropped and counted per filter (<see cref="Counts"/>); a filter that fails cannot stop the others
/// (<see cref="FilterEngine"/>).
/// <para>The filters are a <see cref="FilterRegistry"/>: on Kafka, the compacted topic <c>broker.filters</c>, which the
/// service follows while it runs (its follower, <see cref="KafkaFilterRegistry"/>, is wired by <see cref="Stage"/>;
/// the step never touches Kafka); in-process, the YAML files of <see cref="FilterOptions.Directory"/>. Before each
/// batch the step takes the registry's newest generation, so a filter published, changed or deleted goes live at the
/// next batch, with no restart: a new filter's topic becomes a new destination (<see cref="IRoutingStep"/>), an
/// unchanged filter keeps its counts and quota.</para>
/// </summary>
public sealed class FilterStep : IStep<Alert, FilterPublication>, IRoutingStep, IStepState, IStepInstruments, IDisposable
{
    /// <summary>The step's name.</summary>
    public const string StepName = "filter";

    /// <summary>What the step reads.</summary>
    public const string InputTopic = "broker.classified";

    /// <summary>The version this build of the step stamps on the alerts it passes on (<see cref="Alert.StageVersions"/>).</summary>
    public static string StageVersion { get; } = BrokerBuild.VersionOf(typeof(FilterStep).Assembly);

    /// <summary>Its default output: every alert, with the filters it passed (<see cref="FilterOptions.ForwardAll"/>).</summary>
    public const string OutputTopic = "broker.filtered";

    private readonly FilterEngine _engine;
    private readonly TimeProvider _clock;
    private readonly FilterRegistry _registry;
    private readonly IDisposable? _follower;
    private readonly ILogger _log;
    private readonly bool _forwardAll;
    private readonly List<FilterDefinition> _publish = [];
    private readonly HashSet<string> _destinations = new(StringComparer.Ordinal);
    private long _generation = -1;

    /// <summary>The filter step's stage definition.</summary>
    public static StageDefinition<Alert, FilterPublication, FilterOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Evaluates every active user filter (the live registry broker.filters; in-process, filters/) on each classified alert, publishes each match to broker.filter.<name> within the filter's quota, and passes every alert on with the filters it passed.",
        Input = InputTopic,
        Outputs =
        [
            new TopicDefinition(OutputTopic, "Broker alert record: every classified alert, with the filters it passed in filterMatches (Filter:ForwardAll)"),
            new TopicDefinition(FilterDefinition.TopicPrefix + "<name>", "per filter, made when it is published: the Broker alert record naming the filter and its version (full, or lite without cutouts), or broker.filter.ids.v1 (ids); docs/filters.md"),
        ],
        Section = FilterOptions.Section,
        InputCodec = AlertMessageCodec.Instance,
        OutputCodec = FilterPublicationCodec.Instance,
        Factory = Create,
    };

    /// <summary>
    /// The step of the stage: on Kafka (<see cref="StageContext.Kafka"/>) following the registry topic, which is read
    /// to its end before this returns, so the service starts with every published filter; in-process the directory.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">A definition file does not compile, or the registry topic cannot be read.</exception>
    public static FilterStep Create(FilterOptions options, StageContext context)
    {
        options.Validate();
        var log = context.Loggers.CreateLogger("Broker.Filter");
        if (!options.FollowsTopic(context.Kafka is not null)) return new FilterStep(options, FromDirectory(options), log: log);
        var kafka = context.Kafka ?? throw new StepHostConfigurationException($"{FilterOptions.Section}:Registry=Topic needs Kafka (in-process runs read {FilterOptions.Section}:Directory)");
        var registry = new FilterRegistry();
        var follower = KafkaFilterRegistry.Start(kafka, registry, log, options.RegistryTopic, TimeSpan.FromSeconds(options.RegistryStartupSeconds));
        return new FilterStep(options, registry, follower, log: log);
    }

    private static FilterRegistry FromDirectory(FilterOptions options)
    {
        if (!Directory.Exists(options.ResolvedDirectory))
            throw new StepHostConfigurationException($"{FilterOptions.Section}:Directory: folder '{options.ResolvedDirectory}' does not exist");
        try
        {
            return FilterRegistry.FromDirectory(options.ResolvedDirectory);
        }
        catch (FilterCompileException e)
        {
            throw new StepHostConfigurationException(e.Message);
        }
    }

    /// <summary>A step running the filters of <paramref name="registry"/>, taking its changes between batches.</summary>
    /// <param name="options">Its settings.</param>
    /// <param name="registry">The filters.</param>
    /// <param name="follower">What keeps the registry up to date (disposed with the step); null when nothing does.</param>
    /// <param name="clock">The quotas' clock.</param>
    /// <param name="log">Where changes are told.</param>
    public FilterStep(FilterOptions options, FilterRegistry registry, IDisposable? follower = null, TimeProvider? clock = null, ILogger? log = null)
    {
        _registry = registry;
        _follower = follower;
        _forwardAll = options.ForwardAll;
        _log = log ?? NullLogger.Instance;
        _clock = clock ?? TimeProvider.System;
        _engine = new FilterEngine(_clock);
        TakeRegistry();
    }

    /// <summary>A step running the filters of <paramref name="options"/>' directory.</summary>
    /// <exception cref="StepHostConfigurationException">A definition does not parse or compile, or two share a name.</exception>
    public FilterStep(FilterOptions options, TimeProvider? clock = null) : this(options, FromDirectory(options), clock: clock)
    {
    }

    /// <inheritdoc/>
    public string Name => StepName;

    /// <inheritdoc/>
    /// <remarks>The topic of every filter the step has run; a deleted filter's stays (nothing is routed there).</remarks>
    public IReadOnlyCollection<string> Destinations => _destinations;

    /// <summary>Per filter running now: evaluated, matched, published, dropped over quota, failed.</summary>
    public IReadOnlyList<FilterCounts> Counts => _engine.Counts();

    /// <summary>The registry generation running now (<see cref="FilterRegistry.Generation"/>).</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The filters running now.</summary>
    public IReadOnlyList<FilterDefinition> Filters => _engine.Filters;

    /// <summary>The registry the step takes its filters from (on Kafka, the one its follower keeps up to date).</summary>
    public FilterRegistry Registry => _registry;

    /// <summary>Raised on the step's thread when a new registry generation goes live, with the filters then running.</summary>
    public event Action<long, IReadOnlyList<FilterDefinition>>? Changed;

    /// <summary>Runs the registry's newest generation, if it is not running yet.</summary>
    private void TakeRegistry()
    {
        var snapshot = _registry.Snapshot();
        if (snapshot.Generation == _generation) return;
        foreach (var (definition, error) in _engine.Replace(snapshot.Filters))
        {
            // The registry compiled it; only a catalogue that differs from the registry's can get here.
            _log.LogWarning("Filter {Filter} {Version} does not compile and is not running: {Error}", definition.Name, definition.Version, error.Message);
        }
        var running = _engine.Filters;
        foreach (var f in running) _destinations.Add(f.Topic);
        Interlocked.Exchange(ref _generation, snapshot.Generation);
        _log.LogInformation("Filters of registry generation {Generation} running: {Filters}", snapshot.Generation,
            running.Count == 0 ? "none" : string.Join(", ", running.Select(f => f.Name + " " + f.Version)));
        Changed?.Invoke(snapshot.Generation, running);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StepResult<FilterPublication>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<FilterPublication>[batch.Count];
        var finished = _clock.GetUtcNow();
        for (int i = 0; i < batch.Count; i++)
        {
            // Evaluated as it came; published with this stage's time and version, as every stage stamps its output.
            var input = batch[i];
            var alert = input.WithStage(StepName, StageVersion, finished);
            _publish.Clear();
            _engine.Evaluate(input, _publish);
            if (_publish.Count == 0)
            {
                results[i] = _forwardAll ? StepResult<FilterPublication>.Emit(new FilterPublication(alert, null)) : StepResult<FilterPublication>.Filter("matched no filter within its quota");
                continue;
            }
            int forward = _forwardAll ? 1 : 0;
            var routes = new Routed<FilterPublication>[_publish.Count + forward];
            var matches = new FilterMatch[_publish.Count];
            for (int k = 0; k < _publish.Count; k++)
            {
                var f = _publish[k];
                routes[forward + k] = Destination.To(f.Topic, new FilterPublication(FilterOutput.AlertFor(f, alert), f));
                matches[k] = new FilterMatch(f.Name, f.Version);
            }
            // One copy with every filter passed, rather than one copy per filter (Alert.WithFilter).
            if (_forwardAll) routes[0] = Destination.To(Destination.Default, new FilterPublication(alert with { Filters = [.. alert.Filters, .. matches] }, null));
            results[i] = StepResult<FilterPublication>.Route(routes);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<FilterPublication>>>(results);
    }

    /// <inheritdoc/>
    /// <remarks>A new registry generation goes live here, between batches (so never within a batch being retried).</remarks>
    public void BeginBatch()
    {
        TakeRegistry();
        _engine.BeginBatch();
    }

    /// <inheritdoc/>
    public void CommitBatch() => _engine.CommitBatch();

    /// <inheritdoc/>
    public void RollbackBatch() => _engine.RollbackBatch();

    /// <inheritdoc/>
    /// <remarks>
    /// Per filter (tags <c>filter</c>, <c>version</c>): <c>broker.filter.evaluated</c>, <c>.matched</c>,
    /// <c>.published</c>, <c>.dropped_over_quota</c>, <c>.failed</c>; and <c>broker.filters.active</c>,
    /// <c>broker.filters.generation</c> and <c>broker.filters.refused</c> (registry records refused).
    /// </remarks>
    public void AddInstruments(System.Diagnostics.Metrics.Meter meter, KeyValuePair<string, object?> stepTag)
    {
        void PerFilter(string name, string description, Func<FilterCounts, long> value) =>
            meter.CreateObservableCounter(name, () => Counts.Select(c => new System.Diagnostics.Metrics.Measurement<long>(value(c), stepTag, new("filter", c.Name), new("version", c.Version))), "{alert}", description);
        PerFilter("broker.filter.evaluated", "Alerts each filter was evaluated on.", static c => c.Evaluated);
        PerFilter("broker.filter.matched", "Alerts each filter matched (published plus dropped over quota).", static c => c.Matched);
        PerFilter("broker.filter.published", "Matches published to each filter's topic.", static c => c.Published);
        PerFilter("broker.filter.dropped_over_quota", "Matches dropped because the filter's quota was spent.", static c => c.DroppedOverQuota);
        PerFilter("broker.filter.failed", "Evaluations that failed (taken as no match; the other filters go on).", static c => c.Failed);
        meter.CreateObservableGauge("broker.filters.active", () => new System.Diagnostics.Metrics.Measurement<int>(_engine.Filters.Count, stepTag), "{filter}", "Active filters running now.");
        meter.CreateObservableGauge("broker.filters.generation", () => new System.Diagnostics.Metrics.Measurement<long>(Generation, stepTag), "{change}", "Registry changes taken so far.");
        meter.CreateObservableCounter("broker.filters.refused", () => new System.Diagnostics.Metrics.Measurement<long>(_registry.Refused, stepTag), "{record}", "Registry records refused (not a valid definition); the filter keeps its last good one.");
    }

    /// <summary>Stops following the registry.</summary>
    public void Dispose() => _follower?.Dispose();
}
