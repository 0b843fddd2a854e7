using System.Reflection;
using System.Text.RegularExpressions;
using Broker.Ingest;
using Broker.StepHost;
using Broker.TestSupport;
using Microsoft.Extensions.Configuration;

namespace Broker.Stages.Tests;

/// <summary>
/// The stage registry (<see cref="BrokerStages.All"/>) against what is derived from it or must agree with it: the
/// topology, the docs' tables, the add-a-stage recipe in docs/stages.md, each service's folder and settings.
/// </summary>
public sealed class BrokerStagesTests
{
    private static string Docs(string file) => File.ReadAllText(SharedData.RepositoryPath("docs/" + file)).ReplaceLineEndings("\n");

    [Fact]
    public void The_topology_is_every_stages_input_its_dead_letters_and_its_outputs_in_chain_order()
    {
        Assert.Equal(["survey.alerts", "survey.alerts.dlq", "broker.ingested", "broker.ingested.dlq", "broker.xmatched", "broker.xmatched.dlq", "broker.sso", "broker.sso.dlq", "broker.stamps", "broker.stamps.dlq", "broker.classified", "broker.classified.dlq", "broker.filtered", "broker.filters"], BrokerStages.All.Topics);
        Assert.Equal(["ingest", "crossmatch", "sso", "stamp", "lightcurve", "filter"], BrokerStages.All.Names);
    }

    [Fact]
    public void The_topology_table_in_docs_kafka_md_is_the_one_rendered_from_the_registry()
    {
        string table = BrokerStages.All.RenderTopology();
        Assert.True(Docs("kafka.md").Contains(table, StringComparison.Ordinal),
            "docs/kafka.md's \"Topology\" table is not the registry's; replace it with:\n" + table);
    }

    [Fact]
    public void The_stage_table_and_each_stages_defaults_in_docs_stages_md_are_the_ones_rendered_from_the_registry()
    {
        string docs = Docs("stages.md");
        string stages = BrokerStages.All.RenderStages();
        Assert.True(docs.Contains(stages, StringComparison.Ordinal), "docs/stages.md's stage table is not the registry's; replace it with:\n" + stages);
        foreach (var stage in BrokerStages.All.Stages)
        {
            string defaults = $"### `{stage.Name}`\n\n{StageRegistry.RenderDefaults(stage)}";
            Assert.True(docs.Contains(defaults, StringComparison.Ordinal), $"docs/stages.md's defaults of {stage.Name} are not the registry's; replace them with:\n" + defaults);
        }
    }

    [Fact]
    public void Every_registered_stage_is_a_service_folder_whose_Program_is_the_one_line_the_recipe_gives()
    {
        string docs = Docs("stages.md");
        const string Template = "return await Broker.StepHost.StepHostApp.RunAsync(Broker.<Name>.<Name>Step.Stage, args);";
        Assert.Contains(Template, docs);
        string registry = File.ReadAllText(SharedData.RepositoryPath("services/Broker.Stages/BrokerStages.cs"));
        foreach (var stage in BrokerStages.All.Stages)
        {
            string folder = SharedData.RepositoryPath(stage.ServiceFolder);
            string name = stage.ServiceAssembly.GetName().Name!["Broker.".Length..];
            var code = File.ReadAllLines(Path.Combine(folder, "Program.cs")).Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("//", StringComparison.Ordinal)).ToList();
            Assert.Equal([Template.Replace("<Name>", name, StringComparison.Ordinal)], code);
            Assert.True(File.Exists(Path.Combine(folder, name + "Step.cs")), $"{stage.ServiceFolder} has no {name}Step.cs");
            Assert.True(File.Exists(Path.Combine(folder, name + "Options.cs")), $"{stage.ServiceFolder} has no {name}Options.cs");
            Assert.True(File.Exists(Path.Combine(folder, "appsettings.json")), $"{stage.ServiceFolder} has no appsettings.json");
            Assert.Contains(stage.ServiceAssembly.GetManifestResourceNames(), n => n.EndsWith("appsettings.json", StringComparison.Ordinal));
            // The step class's Stage is the very entry the registry lists, and the registry lists it in one line.
            var step = stage.ServiceAssembly.GetType($"Broker.{name}.{name}Step", throwOnError: true)!;
            Assert.Same(stage, step.GetProperty("Stage", BindingFlags.Public | BindingFlags.Static)!.GetValue(null));
            Assert.Contains($"        {name}Step.Stage,\n", registry.ReplaceLineEndings("\n"));
        }
    }

    [Fact]
    public void Every_repository_path_the_recipe_names_exists()
    {
        var paths = Regex.Matches(Docs("stages.md"), "`((?:services|tests|docs|schemas|models|charts|benchmarks)/[^`<>* ]+)`")
            .Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.NotEmpty(paths);
        foreach (var p in paths)
        {
            string full = SharedData.RepositoryPath(p.TrimEnd('/'));
            Assert.True(File.Exists(full) || Directory.Exists(full), $"docs/stages.md names {p}, which does not exist");
        }
    }

    [Fact]
    public void No_service_appsettings_restates_a_default_or_names_a_setting_its_service_does_not_have()
    {
        foreach (var stage in BrokerStages.All.Stages)
        {
            var defaults = stage.DefaultSettings().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);
            var service = stage.ServiceSettings();
            Assert.NotEmpty(service);
            foreach (var (key, value) in service)
            {
                // librdkafka's settings are free-form: any name librdkafka has.
                bool kafka = key.StartsWith("Kafka", StringComparison.OrdinalIgnoreCase);
                Assert.True(kafka || defaults.ContainsKey(key), $"{stage.ServiceFolder}/appsettings.json sets {key}, which {stage.Name} does not read");
                if (defaults.TryGetValue(key, out var fallback))
                    Assert.False(string.Equals(fallback, value, StringComparison.OrdinalIgnoreCase), $"{stage.ServiceFolder}/appsettings.json restates the default {key} = {value}: defaults are the options classes' and the registry's");
            }
        }
    }

    [Fact]
    public void A_service_gets_its_topics_and_client_id_from_the_registry_and_the_rest_from_its_options_classes()
    {
        var configuration = IngestStep.Stage.BuildConfiguration([], new Dictionary<string, string?> { ["Ingest:DuplicateWindow"] = "5" });
        Assert.Equal("survey.alerts", configuration["StepHost:InputTopic"]);
        Assert.Equal("broker.ingested", configuration["StepHost:OutputTopic"]);
        Assert.Equal("broker-ingest", configuration["Kafka:client.id"]);
        Assert.Equal("http://0.0.0.0:9401", configuration["StepHost:HttpUrl"]);
        var host = IngestStep.Stage.CreateHost(configuration, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        Assert.Equal(500, host.Options.BatchSize);
        Assert.Equal("survey.alerts.dlq", host.Options.EffectiveDeadLetterTopic);
        Assert.Equal("broker-ingest", host.Options.EffectiveGroupId(host.Step));
    }

    [Fact]
    public async Task The_in_process_chain_is_the_registrys_made_from_settings_and_a_bad_or_unknown_setting_is_refused_in_one_line()
    {
        static IConfiguration Settings(params (string Key, string Value)[] values) =>
            new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

        // The crossmatch stage needs a catalogue: one row, built where the test can remove it.
        string folder = Directory.CreateTempSubdirectory("broker-stages-").FullName;
        try
        {
            string catalogue = Path.Combine(folder, "one.bci");
            Broker.Catalogs.Index.CatalogIndexBuilder.Build([new Broker.Catalogs.CatalogRow(new Broker.Catalogs.CatalogId(1, null), 10, 20, null, null, null, [])],
                new Broker.Catalogs.CatalogColumns("id", "ra", "dec"), "one.csv", catalogue, new Broker.Catalogs.Index.CatalogIndexBuildOptions { Name = "one" });
            var chain = BrokerStages.All.CreateChain(Settings(("Ingest:DuplicateWindow", "0"), ("Crossmatch:Catalogs:0:Path", catalogue), ("Crossmatch:Catalogs:0:RadiusArcsec", "1")));
            Assert.Equal(BrokerStages.All.Names, chain.Select(s => s.Name));
            foreach (var stage in chain) await stage.DisposeAsync();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        var empty = Assert.Throws<StepHostConfigurationException>(() => BrokerStages.All.CreateChain(Settings(("Ingest:DuplicateWindow", "0"))));
        Assert.StartsWith("invalid configuration: Crossmatch:Catalogs is empty", empty.Message);
        var bad = Assert.Throws<StepHostConfigurationException>(() => BrokerStages.All.CreateChain(Settings(("Ingest:DuplicateWindow", "-5"))));
        Assert.Equal("invalid configuration: Ingest:DuplicateWindow -5 is not in 0..10000000", bad.Message);
        var unknown = Assert.Throws<StepHostConfigurationException>(() => BrokerStages.All.CreateChain(Settings(("Ingset:DuplicateWindow", "0"))));
        Assert.StartsWith("unknown configuration section Ingset; known: ", unknown.Message);
    }
}
