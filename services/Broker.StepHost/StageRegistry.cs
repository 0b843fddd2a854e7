using System.Text;
using Microsoft.Extensions.Configuration;

namespace Broker.StepHost;

/// <summary>
/// The stage registry's table: the topics that enter the broker from outside (a survey's stream) and the stages in
/// chain order. From it are derived the topic list (<c>broker dev-kafka</c>, the tests' clusters), <c>broker serve</c>'s
/// services, the in-process chain of <c>broker run</c> and <c>broker demo</c>, and the docs' topology and stage tables
/// (docs/kafka.md, docs/stages.md; a test renders them and compares). The concrete table is Broker.Stages's
/// <c>BrokerStages.All</c>: this project holds the generic types and references no stage.
/// </summary>
public sealed class StageRegistry
{
    /// <summary>Creates the table and checks that it is a topology.</summary>
    /// <param name="sources">Topics that no stage writes.</param>
    /// <param name="stages">The stages; each reads a source or what a stage before it writes.</param>
    /// <exception cref="ArgumentException">Two stages share a name or an options section; a topic is written twice (dead-letter topics aside: stages reading one topic share its); a stage reads a topic nothing before it writes, or writes none.</exception>
    public StageRegistry(IReadOnlyList<TopicDefinition> sources, IReadOnlyList<StageDefinition> stages)
    {
        if (stages.Count == 0) throw new ArgumentException("a registry needs at least one stage", nameof(stages));
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in sources)
        {
            if (!written.TryAdd(s.Name, s.WrittenBy ?? "outside Broker")) throw new ArgumentException($"source topic {s.Name} is listed twice", nameof(sources));
        }
        var deadLetters = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var sections = new HashSet<string>(StepHostApp.CommonSections, StringComparer.OrdinalIgnoreCase);
        foreach (var stage in stages)
        {
            if (string.IsNullOrWhiteSpace(stage.Name) || !names.Add(stage.Name)) throw new ArgumentException($"stage name '{stage.Name}' is empty or listed twice", nameof(stages));
            foreach (string section in stage.Sections)
            {
                if (!sections.Add(section)) throw new ArgumentException($"stage {stage.Name}: options section {section} is another stage's or the host's", nameof(stages));
            }
            if (!written.ContainsKey(stage.Input))
                throw new ArgumentException($"stage {stage.Name} reads {stage.Input}, which neither a source nor a stage before it writes", nameof(stages));
            if (stage.Outputs.Count == 0) throw new ArgumentException($"stage {stage.Name} writes no topic", nameof(stages));
            foreach (var output in stage.Outputs)
            {
                if (deadLetters.Contains(output.Name)) throw new ArgumentException($"stage {stage.Name} writes {output.Name}, which is a dead-letter topic", nameof(stages));
                if (!written.TryAdd(output.Name, stage.Name)) throw new ArgumentException($"stage {stage.Name} writes {output.Name}, which {written[output.Name]} writes already", nameof(stages));
            }
            if (written.ContainsKey(stage.DeadLetterTopic) && !deadLetters.Contains(stage.DeadLetterTopic))
                throw new ArgumentException($"stage {stage.Name}'s dead-letter topic {stage.DeadLetterTopic} is {written[stage.DeadLetterTopic]}'s output", nameof(stages));
            deadLetters.Add(stage.DeadLetterTopic);
        }
        Sources = sources;
        Stages = stages;
        // A topic per filter (broker.filter.<name>) is a pattern: made when its filter is published, not with the topology.
        Topics = [.. Rows().Select(r => r.Topic).Where(t => !TopicDefinition.IsPattern(t))];
    }

    /// <summary>Topics that enter from outside.</summary>
    public IReadOnlyList<TopicDefinition> Sources { get; }

    /// <summary>The stages, in chain order.</summary>
    public IReadOnlyList<StageDefinition> Stages { get; }

    /// <summary>Every topic of the topology, dead-letter topics included, in chain order: what <c>broker dev-kafka</c> creates (not the pattern rows, <see cref="TopicDefinition.IsPattern"/>).</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>The stages' names, in chain order.</summary>
    public IReadOnlyList<string> Names => [.. Stages.Select(s => s.Name)];

    /// <summary>The stage called <paramref name="name"/>, or null.</summary>
    public StageDefinition? Find(string name) => Stages.FirstOrDefault(s => s.Name.Equals(name, StringComparison.Ordinal));

    /// <summary>
    /// The stages as the in-process runner's chain, each made from <paramref name="settings"/> (its options section;
    /// defaults where absent). The runner is a linear chain: each stage reads what the one before it writes first.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">A section no stage reads, or a bad option value.</exception>
    /// <exception cref="InvalidOperationException">The registry is not a linear chain.</exception>
    public IReadOnlyList<PipelineStage> CreateChain(IConfiguration settings, StageContext? context = null)
    {
        for (int i = 1; i < Stages.Count; i++)
        {
            if (Stages[i].Input != Stages[i - 1].Outputs[0].Name)
                throw new InvalidOperationException($"the in-process runner chains stages one after another: stage {Stages[i].Name} reads {Stages[i].Input}, not {Stages[i - 1].Name}'s {Stages[i - 1].Outputs[0].Name}");
        }
        CheckSections(settings);
        var chain = new List<PipelineStage>(Stages.Count);
        try
        {
            foreach (var stage in Stages) chain.Add(stage.CreateStage(settings, context));
        }
        catch
        {
            foreach (var made in chain) made.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return chain;
    }

    /// <summary>
    /// Checks <paramref name="settings"/> as <see cref="CreateChain"/> would (sections, keys, values) without making
    /// any step: a command refuses a bad setting before it spends time on anything else.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">A section no stage reads, or a bad option value.</exception>
    public void CheckSettings(IConfiguration settings)
    {
        CheckSections(settings);
        foreach (var stage in Stages) stage.CheckOptions(settings);
    }

    // Only the stages' own sections: in one process there is no StepHost or Kafka section to read.
    private void CheckSections(IConfiguration settings) => StepHostApp.CheckKnownSections(settings, Stages.SelectMany(s => s.Sections));

    /// <summary>The topology table of docs/kafka.md ("Topology"), in Markdown.</summary>
    public string RenderTopology()
    {
        var text = new StringBuilder("| topic | written by | value | key |\n|---|---|---|---|\n");
        foreach (var (topic, writer, value, key) in Rows()) text.Append(Row($"`{topic}`", writer, value, key));
        return text.ToString();
    }

    /// <summary>The stage table of docs/stages.md, in Markdown.</summary>
    public string RenderStages()
    {
        var text = new StringBuilder("| stage | reads | writes | options | needs | service | what it does |\n|---|---|---|---|---|---|---|\n");
        foreach (var s in Stages)
        {
            string needs = s.Needs == StageNeeds.None ? "nothing beyond its input"
                : string.Join(", ", Enum.GetValues<StageNeeds>().Where(n => n != StageNeeds.None && s.Needs.HasFlag(n)).Select(n => n.ToString().ToLowerInvariant()));
            text.Append(Row($"`{s.Name}`", $"`{s.Input}`", string.Join(", ", s.Outputs.Select(o => $"`{o.Name}`")),
                string.Join(", ", s.Sections.Select(x => $"`{x}`")), needs, $"`{s.ServiceFolder}`", s.Description));
        }
        return text.ToString();
    }

    /// <summary>
    /// A stage's settings as a Markdown table: each with its default (<see cref="StageDefinition.DefaultSettings"/>)
    /// and what its service's <c>appsettings.json</c> sets instead (<see cref="StageDefinition.ServiceSettings"/>).
    /// </summary>
    public static string RenderDefaults(StageDefinition stage)
    {
        static string Value(string? v) => v is null ? "" : v.Length == 0 ? "(empty)" : $"`{v}`";
        var service = stage.ServiceSettings();
        var text = new StringBuilder($"| setting | default | `{stage.ServiceFolder}/appsettings.json` |\n|---|---|---|\n");
        var defaults = stage.DefaultSettings();
        foreach (var (key, value) in defaults) text.Append(Row($"`{key}`", Value(value), Value(service.GetValueOrDefault(key))));
        foreach (var (key, value) in service)
        {
            if (!defaults.Any(d => d.Key.Equals(key, StringComparison.OrdinalIgnoreCase))) text.Append(Row($"`{key}`", "", Value(value)));
        }
        return text.ToString();
    }

    /// <summary>Each topic once, in chain order: a stage's input (where no stage before wrote it), its dead letters, its outputs.</summary>
    private IEnumerable<(string Topic, string WrittenBy, string Value, string Key)> Rows()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stage in Stages)
        {
            if (seen.Add(stage.Input) && Sources.FirstOrDefault(s => s.Name == stage.Input) is { } source)
                yield return (source.Name, source.WrittenBy ?? "outside Broker", source.Value, source.Key);
            if (seen.Add(stage.DeadLetterTopic))
            {
                string readers = string.Join(", ", Stages.Where(s => s.DeadLetterTopic == stage.DeadLetterTopic).Select(s => s.Name));
                yield return (stage.DeadLetterTopic, readers, "the original message bytes, unchanged (header `dlq.step` names the stage)", "the original key");
            }
            foreach (var output in stage.Outputs)
            {
                if (seen.Add(output.Name)) yield return (output.Name, stage.Name, output.Value, output.Key);
            }
        }
        foreach (var source in Sources)
        {
            if (seen.Add(source.Name)) yield return (source.Name, source.WrittenBy ?? "outside Broker", source.Value, source.Key);
        }
    }

    private static string Row(params string[] cells) => "| " + string.Join(" | ", cells.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |\n";
}
