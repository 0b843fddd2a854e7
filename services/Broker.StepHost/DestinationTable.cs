namespace Broker.StepHost;

/// <summary>
/// The destinations of one step, numbered (0 is <see cref="Destination.Default"/>, then the names the step declared in
/// <see cref="IRoutingStep.Destinations"/>, in its order), each with its topic; and the check of a result's routes that
/// the Kafka host and the in-process runner share. A destination keeps its number for the life of the step; the table
/// grows when a routing step declares a new destination while it runs (<see cref="IRoutingStep"/>: the filter service
/// adds one per filter published after it started), and never shrinks. Used by one thread at a time (the host's loop,
/// or the stage's worker); <see cref="Added"/> is raised on that thread.
/// </summary>
internal sealed class DestinationTable
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _owner = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<string> _topics = [];
    private readonly Func<string, string> _topicOf;
    private readonly IRoutingStep? _routing;

    /// <summary>The destinations of <paramref name="step"/>; <paramref name="topicOf"/> names each one's topic.</summary>
    /// <param name="step">The step's name.</param>
    /// <param name="declared">The destinations declared at start, besides the default.</param>
    /// <param name="topicOf">Each destination's topic.</param>
    /// <param name="routing">The routing step, asked again about a name it routes to that the table does not hold yet; null: the table is fixed.</param>
    /// <exception cref="StepHostConfigurationException">A name is empty, or two destinations share a topic.</exception>
    public DestinationTable(string step, IEnumerable<string> declared, Func<string, string> topicOf, IRoutingStep? routing = null)
    {
        Step = step;
        _topicOf = topicOf;
        _routing = routing;
        Add(Destination.Default);
        foreach (var name in declared)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new StepHostConfigurationException($"step {step} declares a destination with an empty name");
            if (!_index.ContainsKey(name)) Add(name);
        }
    }

    /// <summary>The destinations of <paramref name="step"/>: the default, and those it declares when it is an <see cref="IRoutingStep"/> (which may declare more while it runs).</summary>
    public static DestinationTable For<TIn, TOut>(IStep<TIn, TOut> step, Func<string, string> topicOf) =>
        new(step.Name, (step as IRoutingStep)?.Destinations ?? [], topicOf, step as IRoutingStep);

    /// <summary>The step.</summary>
    public string Step { get; }

    /// <summary>Destination names by number.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Each destination's topic (in-process: its name), by number.</summary>
    public IReadOnlyList<string> Topics => _topics;

    /// <summary>
    /// Raised with its number when a destination the step declared while running is added, before any output is
    /// routed there: the Kafka host makes sure its topic exists, the counters and the replay guard make room for it.
    /// A handler that throws refuses the destination (the result routed there is dead-lettered with the message).
    /// </summary>
    public event Action<int>? Added;

    private int Add(string name)
    {
        string topic = _topicOf(name);
        // One topic per destination: each destination's replay guard reads its own topic's tail, and a key found
        // there must mean "already sent to this destination".
        if (!_owner.TryAdd(topic, name))
            throw new StepHostConfigurationException($"destinations {_owner[topic]} and {name} of step {Step} both go to topic {topic}; each destination needs a topic of its own");
        int d = _names.Count;
        _index[name] = d;
        _names.Add(name);
        _topics.Add(topic);
        return d;
    }

    /// <summary>
    /// The number of the destination <paramref name="name"/>, adding it when the step declares it now; null with the
    /// reason when it is not (or cannot be) a destination.
    /// </summary>
    private int? Find(string? name, out string? refused)
    {
        refused = null;
        if (name is not null && _index.TryGetValue(name, out int d)) return d;
        if (name is null || string.IsNullOrWhiteSpace(name) || _routing is null || !_routing.Destinations.Contains(name))
        {
            refused = $"misrouted: step {Step} routed a result to the unknown destination '{name}' (its destinations: {Declared})";
            return null;
        }
        try
        {
            d = Add(name);
        }
        catch (StepHostConfigurationException e)
        {
            refused = $"misrouted: {e.Message}";
            return null;
        }
        try
        {
            Added?.Invoke(d);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Taken back: the next result routed there tries again.
            _index.Remove(name);
            _owner.Remove(_topics[d]);
            _names.RemoveAt(d);
            _topics.RemoveAt(d);
            refused = $"destination {name} of step {Step} could not be added: {e.Message}";
            return null;
        }
        return d;
    }

    private string Declared => _names.Count == 1 ? "none besides the default" : string.Join(", ", _names.Skip(1));

    /// <summary>How many destinations (at least 1, the default).</summary>
    public int Count => Names.Count;

    /// <summary>
    /// Appends the destinations (by number) and values of an emitted result to <paramref name="into"/>, which the
    /// caller clears first. A result made by <see cref="StepResult{T}.Emit"/> goes to the default destination. Returns
    /// the dead-letter reason of a misrouted result (an unknown destination, or one named twice: a step bug, never a
    /// crash; or a destination the step declared while running whose topic could not be set up), else null; nothing
    /// appended means routed to no destination.
    /// </summary>
    public string? Resolve<T>(in StepResult<T> result, List<(int Destination, T Value)> into)
    {
        if (result.Routes is not { } routes)
        {
            into.Add((0, result.Value!));
            return null;
        }
        for (int r = 0; r < routes.Count; r++)
        {
            string? name = routes[r].Destination;
            if (Find(name, out var refused) is not { } d) return refused;
            for (int k = 0; k < into.Count; k++)
            {
                if (into[k].Destination == d) return $"misrouted: step {Step} routed a result twice to the destination '{name}'";
            }
            into.Add((d, routes[r].Value));
        }
        return null;
    }
}
