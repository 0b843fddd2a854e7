namespace Broker.StepHost;

/// <summary>
/// The destinations of one step, numbered (0 is <see cref="Destination.Default"/>, then the names the step declared in
/// <see cref="IRoutingStep.Destinations"/>, in its order), each with its topic; and the check of a result's routes that
/// the Kafka host and the in-process runner share. Fixed once the step has started.
/// </summary>
internal sealed class DestinationTable
{
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly string _declared;

    /// <summary>The destinations of <paramref name="step"/>; <paramref name="topicOf"/> names each one's topic.</summary>
    /// <exception cref="StepHostConfigurationException">A name is empty, or two destinations share a topic.</exception>
    public DestinationTable(string step, IEnumerable<string> declared, Func<string, string> topicOf)
    {
        Step = step;
        var names = new List<string> { Destination.Default };
        _index[Destination.Default] = 0;
        foreach (var name in declared)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new StepHostConfigurationException($"step {step} declares a destination with an empty name");
            if (_index.TryAdd(name, names.Count)) names.Add(name);
        }
        Names = names;
        var topics = new string[names.Count];
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < topics.Length; i++)
        {
            topics[i] = topicOf(names[i]);
            // One topic per destination: each destination's replay guard reads its own topic's tail, and a key found
            // there must mean "already sent to this destination".
            if (!owner.TryAdd(topics[i], names[i]))
                throw new StepHostConfigurationException($"destinations {owner[topics[i]]} and {names[i]} of step {step} both go to topic {topics[i]}; each destination needs a topic of its own");
        }
        Topics = topics;
        _declared = names.Count == 1 ? "none besides the default" : string.Join(", ", names.Skip(1));
    }

    /// <summary>The destinations of <paramref name="step"/>: the default, and those it declares when it is an <see cref="IRoutingStep"/>.</summary>
    public static DestinationTable For<TIn, TOut>(IStep<TIn, TOut> step, Func<string, string> topicOf) =>
        new(step.Name, (step as IRoutingStep)?.Destinations ?? [], topicOf);

    /// <summary>The step.</summary>
    public string Step { get; }

    /// <summary>Destination names by number.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Each destination's topic (in-process: its name), by number.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>How many destinations (at least 1, the default).</summary>
    public int Count => Names.Count;

    /// <summary>
    /// Appends the destinations (by number) and values of an emitted result to <paramref name="into"/>, which the
    /// caller clears first. A result made by <see cref="StepResult{T}.Emit"/> goes to the default destination. Returns
    /// the dead-letter reason of a misrouted result (an unknown destination, or one named twice: a step bug, never a
    /// crash), else null; nothing appended means routed to no destination.
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
            if (name is null || !_index.TryGetValue(name, out int d))
                return $"misrouted: step {Step} routed a result to the unknown destination '{name}' (its destinations: {_declared})";
            for (int k = 0; k < into.Count; k++)
            {
                if (into[k].Destination == d) return $"misrouted: step {Step} routed a result twice to the destination '{name}'";
            }
            into.Add((d, routes[r].Value));
        }
        return null;
    }
}
