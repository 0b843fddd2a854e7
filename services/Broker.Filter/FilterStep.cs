using Broker.Alerts.Model;
using Broker.Filters;
using Broker.StepHost;

namespace Broker.Filter;

/// <summary>
/// The filter step (issue 15): evaluates every active filter of <see cref="FilterOptions.Directory"/> on every
/// classified alert and routes each match to the filter's topic, <c>broker.filter.&lt;name&gt;</c>, as its content says
/// (<see cref="FilterOutput"/>: the alert with the filter and its version in <c>filterMatches</c>, without cutouts for
/// <c>lite</c>, or the <c>ids</c> record). An alert no filter wants is dropped and counted as filtered. Matches over a
/// filter's quota are dropped and counted per filter (<see cref="Counts"/>); a filter that fails cannot stop the
/// others (<see cref="FilterEngine"/>). A definition that does not parse or compile stops the service at start
/// (exit 2, with its file and <c>line L, column C</c>). The filters are fixed for the life of the process: the
/// registry on <c>broker.filters</c> that swaps them while running is not built yet (docs/filters.md).
/// </summary>
public sealed class FilterStep : IStep<Alert, byte[]>, IRoutingStep, IStepState
{
    /// <summary>The step's name.</summary>
    public const string StepName = "filter";

    /// <summary>What the step reads.</summary>
    public const string InputTopic = "broker.classified";

    private readonly FilterEngine _engine;
    private readonly List<FilterDefinition> _publish = [];

    /// <summary>The filter step's stage definition (not yet in the stage registry: the coordinator wires stages).</summary>
    public static StageDefinition<Alert, byte[], FilterOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Evaluates every active user filter on each classified alert and publishes each match to broker.filter.<name> (full or lite alert with the filter's name and version, or the ids record), within the filter's quota.",
        Input = InputTopic,
        Outputs = [new TopicDefinition("broker.filter.<name>", "per filter: the Broker alert record (full, lite) or broker.filter.ids.v1 (ids), naming the filter and its version (docs/filters.md)")],
        Section = FilterOptions.Section,
        InputCodec = AlertMessageCodec.Instance,
        OutputCodec = RawBytesCodec.Instance,
        Factory = (options, context) => new FilterStep(options),
    };

    /// <summary>Loads and compiles the definitions.</summary>
    /// <exception cref="StepHostConfigurationException">A definition does not parse or compile, or two share a name.</exception>
    public FilterStep(FilterOptions options, TimeProvider? clock = null)
    {
        options.Validate();
        var definitions = new List<FilterDefinition>();
        foreach (var file in Directory.GetFiles(options.ResolvedDirectory, "*.yaml").Order(StringComparer.Ordinal))
        {
            try
            {
                var definition = FilterDefinition.Load(file);
                definition.Compile();
                definitions.Add(definition);
            }
            catch (FilterCompileException e)
            {
                throw new StepHostConfigurationException($"{file}: {e.Message}");
            }
        }
        var duplicate = definitions.GroupBy(d => d.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new StepHostConfigurationException($"{options.ResolvedDirectory}: two filters are named '{duplicate.Key}'");
        _engine = new FilterEngine(clock);
        var errors = _engine.Replace(definitions);
        if (errors.Count > 0) throw new StepHostConfigurationException($"filter {errors[0].Definition.Name}: {errors[0].Error.Message}");
        Destinations = [.. _engine.Filters.Select(d => d.Topic)];
    }

    /// <inheritdoc/>
    public string Name => StepName;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Destinations { get; }

    /// <summary>Per filter: evaluated, matched, published, dropped over quota, failed.</summary>
    public IReadOnlyList<FilterCounts> Counts => _engine.Counts();

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StepResult<byte[]>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<byte[]>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            _publish.Clear();
            _engine.Evaluate(batch[i], _publish);
            if (_publish.Count == 0)
            {
                results[i] = StepResult<byte[]>.Filter("matched no filter within its quota");
                continue;
            }
            var routes = new Routed<byte[]>[_publish.Count];
            for (int k = 0; k < routes.Length; k++) routes[k] = Destination.To(_publish[k].Topic, FilterOutput.Encode(_publish[k], batch[i]));
            results[i] = StepResult<byte[]>.Route(routes);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<byte[]>>>(results);
    }

    /// <inheritdoc/>
    public void BeginBatch() => _engine.BeginBatch();

    /// <inheritdoc/>
    public void CommitBatch() => _engine.CommitBatch();

    /// <inheritdoc/>
    public void RollbackBatch() => _engine.RollbackBatch();
}
