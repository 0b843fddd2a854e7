using Microsoft.Extensions.Configuration;

namespace Broker.StepHost.Tests;

/// <summary>Options of the test stages: a limit that must not be negative.</summary>
public sealed class TestStageOptions : IStageOptions
{
    public int Limit { get; set; } = 3;

    public bool Loud { get; set; }

    public string? Note { get; set; }

    public void Validate()
    {
        if (Limit < 0) throw new StepHostConfigurationException($"invalid configuration: Test:Limit {Limit} is not positive");
    }

    public IEnumerable<string> Warnings() => Loud ? ["loud"] : [];
}

/// <summary>The generic registry: the topology checks, what it derives (topics, defaults, the chain, the docs' tables).</summary>
public sealed class StageRegistryTests
{
    private static readonly TopicDefinition Source = new("raw", "numbers as bytes", WrittenBy: "the test");

    internal static StageDefinition<byte[], int, TestStageOptions> Parse(string input = "raw", string output = "parsed", string section = "Parse") => new()
    {
        Name = "parse",
        Description = "Parses numbers.",
        Input = input,
        Outputs = [new TopicDefinition(output, "numbers")],
        Section = section,
        InputCodec = RawBytesCodec.Instance,
        OutputCodec = new IntCodec(),
        Factory = (_, _) => new ParseStep(),
    };

    internal static StageDefinition<int, int, TestStageOptions> Parity(string input = "parsed", string section = "Parity", string output = "even") => new()
    {
        Name = "parity",
        Description = "Keeps even numbers.",
        Input = input,
        Outputs = [new TopicDefinition(output, "even numbers times ten"), new TopicDefinition("even.slim", "the same, for a subscriber", "none")],
        Needs = StageNeeds.Models | StageNeeds.Cutouts,
        Section = section,
        InputCodec = new IntCodec(),
        OutputCodec = new IntCodec(),
        Factory = (_, _) => new ParityStep(),
    };

    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void The_topics_are_each_stages_input_dead_letters_and_outputs_in_chain_order()
    {
        var registry = new StageRegistry([Source], [Parse(), Parity()]);
        Assert.Equal(["raw", "raw.dlq", "parsed", "parsed.dlq", "even", "even.slim"], registry.Topics);
        Assert.Equal(["parse", "parity"], registry.Names);
        Assert.Same(registry.Stages[1], registry.Find("parity"));
        Assert.Null(registry.Find("nosuch"));
    }

    [Fact]
    public void A_table_that_is_not_a_topology_is_refused_naming_the_stage_and_topic()
    {
        Assert.Equal("stage parity reads parsed, which neither a source nor a stage before it writes (Parameter 'stages')",
            Assert.Throws<ArgumentException>(() => new StageRegistry([Source], [Parity(), Parse()])).Message);
        Assert.Equal("stage parity writes parsed, which parse writes already (Parameter 'stages')",
            Assert.Throws<ArgumentException>(() => new StageRegistry([Source], [Parse(), Parity(output: "parsed")])).Message);
        Assert.Equal("stage parity writes raw.dlq, which is a dead-letter topic (Parameter 'stages')",
            Assert.Throws<ArgumentException>(() => new StageRegistry([Source], [Parse(), Parity(output: "raw.dlq")])).Message);
        Assert.StartsWith("stage parity: options section Parse is another stage's",
            Assert.Throws<ArgumentException>(() => new StageRegistry([Source], [Parse(), Parity(section: "Parse")])).Message);
        Assert.StartsWith("stage parse: options section StepHost is another stage's or the host's",
            Assert.Throws<ArgumentException>(() => new StageRegistry([Source], [Parse(section: "StepHost")])).Message);
    }

    [Fact]
    public void A_service_configuration_starts_from_the_entrys_topics_and_client_id_and_every_later_source_wins()
    {
        var stage = Parse();
        var configuration = stage.BuildConfiguration(["--StepHost:OutputTopic=elsewhere"]);
        Assert.Equal("raw", configuration["StepHost:InputTopic"]);
        Assert.Equal("elsewhere", configuration["StepHost:OutputTopic"]);
        Assert.Equal("broker-parse", configuration["Kafka:client.id"]);
    }

    [Fact]
    public void The_default_settings_are_the_options_classes_with_the_entrys_topics_group_and_client_id()
    {
        var defaults = Parity().DefaultSettings().ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("parsed", defaults["StepHost:InputTopic"]);
        Assert.Equal("even", defaults["StepHost:OutputTopic"]);
        Assert.Equal("parsed.dlq", defaults["StepHost:DeadLetterTopic"]);
        Assert.Equal("broker-parity", defaults["StepHost:GroupId"]);
        Assert.Equal("500", defaults["StepHost:BatchSize"]);
        Assert.Equal("true", defaults["StepHost:DropReplayedOutputs"]);
        Assert.Equal("3", defaults["Parity:Limit"]);
        Assert.Equal("false", defaults["Parity:Loud"]);
        Assert.Equal("", defaults["Parity:Note"]);
        Assert.Equal("broker-parity", defaults["Kafka:client.id"]);
        Assert.Equal("Information", defaults["Logging:Level"]);
        // Derived values are not settings.
        Assert.DoesNotContain("StepHost:EffectiveDeadLetterTopic", defaults.Keys);
    }

    [Fact]
    public async Task The_chain_is_made_from_settings_and_runs_the_stages_in_order()
    {
        var registry = new StageRegistry([Source], [Parse(), Parity()]);
        await using var pipeline = new InProcessPipeline(registry.CreateChain(Settings(("Parity:Limit", "1"))));
        var summary = await pipeline.RunAsync(TestSupport.NumberedMessages.Read("test", 100));
        Assert.Equal(["parse", "parity"], summary.Stages.Select(s => s.Step));
        Assert.Equal(100, summary.Read);

        Assert.Equal("invalid configuration: Test:Limit -1 is not positive",
            Assert.Throws<StepHostConfigurationException>(() => registry.CreateChain(Settings(("Parity:Limit", "-1")))).Message);
        Assert.StartsWith("unknown configuration section Parrity; known: ",
            Assert.Throws<StepHostConfigurationException>(() => registry.CreateChain(Settings(("Parrity:Limit", "1")))).Message);
        Assert.StartsWith("invalid configuration in section Parity: ",
            Assert.Throws<StepHostConfigurationException>(() => registry.CreateChain(Settings(("Parity:Limt", "1")))).Message);
    }

    [Fact]
    public void Stages_reading_one_topic_share_its_dead_letters_but_are_not_an_in_process_chain_yet()
    {
        var branch = new StageRegistry([Source], [Parse(), Parity(input: "raw")]);
        Assert.Equal(["raw", "raw.dlq", "parsed", "even", "even.slim"], branch.Topics);
        Assert.Contains("| `raw.dlq` | parse, parity |", branch.RenderTopology());
        Assert.Equal("the in-process runner chains stages one after another: stage parity reads raw, not parse's parsed",
            Assert.Throws<InvalidOperationException>(() => branch.CreateChain(Settings())).Message);
    }

    [Fact]
    public void The_docs_tables_render_every_topic_and_stage()
    {
        var registry = new StageRegistry([Source], [Parse(), Parity()]);
        Assert.Equal("""
            | topic | written by | value | key |
            |---|---|---|---|
            | `raw` | the test | numbers as bytes | alert id in decimal |
            | `raw.dlq` | parse | the original message bytes, unchanged (header `dlq.step` names the stage) | the original key |
            | `parsed` | parse | numbers | alert id in decimal |
            | `parsed.dlq` | parity | the original message bytes, unchanged (header `dlq.step` names the stage) | the original key |
            | `even` | parity | even numbers times ten | alert id in decimal |
            | `even.slim` | parity | the same, for a subscriber | none |

            """.ReplaceLineEndings("\n"), registry.RenderTopology());
        string stages = registry.RenderStages();
        Assert.Contains("| `parity` | `parsed` | `even`, `even.slim` | `Parity` | cutouts, models | `services/Broker.StepHost.Tests` | Keeps even numbers. |\n", stages);
        Assert.Contains("| `parse` | `raw` | `parsed` | `Parse` | nothing beyond its input |", stages);
        Assert.Contains("| `Parse:Note` | (empty) |  |\n", StageRegistry.RenderDefaults(Parse()));
    }
}
