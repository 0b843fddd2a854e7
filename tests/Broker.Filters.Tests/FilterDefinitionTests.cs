using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Filters;
using Broker.TestSupport;

namespace Broker.Filters.Tests;

/// <summary>Filter definitions in YAML, the example filters in filters/ with their golden matches, and what a match publishes.</summary>
public sealed class FilterDefinitionTests
{
    private const string Yaml = """
        # a comment
        name: bright_g
        description: Detections brighter than 18 in g.
        owner: someone@example.org
        content: ids
        quota: 10
        where: |
          mag < 18
          and band = 'g'
        """;

    public static TheoryData<string> Examples() => [.. Directory.GetFiles(SharedData.RepositoryPath("filters"), "*.yaml").Order(StringComparer.Ordinal).Select(f => Path.GetFileName(f))];

    [Fact]
    public void A_definition_reads_every_field()
    {
        var d = FilterDefinition.Parse(Yaml);
        Assert.Equal("bright_g", d.Name);
        Assert.Equal("Detections brighter than 18 in g.", d.Description);
        Assert.Equal("someone@example.org", d.Owner);
        Assert.Equal(FilterContent.Ids, d.Content);
        Assert.Equal(10, d.QuotaPerHour);
        Assert.True(d.Active);
        Assert.Equal("mag < 18\nand band = 'g'", d.Where);
        Assert.Equal("broker.filter.bright_g", d.Topic);
        Assert.Matches("^[0-9a-f]{16}$", d.Version);
        Assert.True(d.Compile().Matches(new Alert { Band = "g", Mag = 17 }));
    }

    [Fact]
    public void The_version_changes_whenever_the_definition_does_and_not_with_comments()
    {
        var d = FilterDefinition.Parse(Yaml);
        Assert.Equal(d.Version, FilterDefinition.Parse("# another comment\n" + Yaml).Version);
        Assert.NotEqual(d.Version, FilterDefinition.Parse(Yaml.Replace("mag < 18", "mag < 18.5", StringComparison.Ordinal)).Version);
        Assert.NotEqual(d.Version, FilterDefinition.Parse(Yaml.Replace("quota: 10", "quota: 11", StringComparison.Ordinal)).Version);
        Assert.NotEqual(d.Version, FilterDefinition.Parse(Yaml.Replace("content: ids", "content: full", StringComparison.Ordinal)).Version);
        Assert.NotEqual(d.Version, (d with { Active = false }).Version);
    }

    [Fact]
    public void A_definition_written_as_yaml_reads_back_the_same()
    {
        var d = FilterDefinition.Parse(Yaml) with { Description = "It's a 'quoted' one: with colons." };
        var back = FilterDefinition.Parse(d.ToYaml());
        Assert.Equal(d.Version, back.Version);
        Assert.Equal(d.Description, back.Description);
    }

    [Theory]
    [InlineData("name: Bad\ndescription: d\nowner: o\ncontent: ids\nwhere: true\n", 1, 7, "lowercase letter")]
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: some\nwhere: true\n", 4, 10, "not one of full, lite, ids")]
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: ids\nquota: -5\nwhere: true\n", 5, 8, "whole number")]
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: ids\nactive: yes\nwhere: true\n", 5, 9, "true or false")]
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: ids\nwhen: true\n", 5, 1, "unknown key 'when'")]
    [InlineData("name: x\ndescription: d\ncontent: ids\nwhere: true\n", 1, 1, "'owner' is missing")]
    [InlineData("name: x\ndescription: [a, b]\nowner: o\ncontent: ids\nwhere: true\n", 2, 14, "single value")]
    [InlineData("name: x\n  description: : :\n", 2, 14, "not valid YAML")]
    [InlineData("- a\n- b\n", 1, 1, "a mapping")]
    // Errors in the expression are placed in the file: block, plain and quoted.
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: ids\nwhere: |\n  mag < 18\n  and nosuch > 1\n", 7, 7, "unknown field 'nosuch'")]
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: ids\nwhere: mag < 18 and band = 1\n", 5, 26, "cannot compare")]
    [InlineData("name: x\ndescription: d\nowner: o\ncontent: ids\nwhere: 'mag <'\n", 5, 14, "ends too early")]
    public void A_bad_definition_is_refused_at_its_line_and_column(string yaml, int line, int column, string says)
    {
        var e = Assert.Throws<FilterCompileException>(() => FilterDefinition.Parse(yaml).Compile());
        Assert.Contains(says, e.Reason, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition(line, column), e.Position);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_filter_compiles_states_its_cuts_and_is_active(string file)
    {
        var d = FilterDefinition.Load(SharedData.RepositoryPath("filters/" + file));
        Assert.Equal(Path.GetFileNameWithoutExtension(file), d.Name);
        Assert.EndsWith(".", d.Description, StringComparison.Ordinal);
        Assert.True(d.Active);
        d.Compile();
    }

    [OracleTheory]
    [MemberData(nameof(Examples))]
    public void Every_example_filter_matches_its_golden_alerts(string file)
    {
        var d = FilterDefinition.Load(SharedData.RepositoryPath("filters/" + file));
        var f = d.Compile();
        var ours = RealAlerts.Alerts.Where(a => f.Matches(a.Alert)).Select(a => a.Alert.AlertId).Distinct().Order().ToList();
        var golden = File.ReadAllLines(SharedData.RepositoryPath($"tests/Broker.Filters.Tests/golden/{d.Name}.txt")).Select(long.Parse).ToList();
        Assert.NotEmpty(golden);
        Assert.Equal(golden, ours);
    }

    [OracleFact("avro", "yaml")]
    public void The_golden_files_are_what_the_oracle_computes_now()
    {
        string dir = Path.Combine(Path.GetTempPath(), "broker-golden-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            Python.Run(SharedData.RepositoryPath("tests/Broker.Filters.Tests/oracle/filter_oracle.py"), SharedData.RepositoryRoot, SharedData.Root,
                SharedData.RepositoryPath("filters"), "--golden", dir, SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts"));
            foreach (var file in Directory.GetFiles(dir))
                Assert.Equal(File.ReadAllText(file), File.ReadAllText(SharedData.RepositoryPath("tests/Broker.Filters.Tests/golden/" + Path.GetFileName(file))));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_match_names_the_filter_and_its_version_in_every_content()
    {
        var alert = new Alert
        {
            Survey = Survey.Ztf, AlertId = 123, ObjectId = "ZTF24x", Ra = 1, Dec = 2, MjdTai = 60000, Band = "g", Mag = 17,
            Cutouts = new Cutouts("fits.gz", [1], [2], [3]),
        };
        var d = FilterDefinition.Parse(Yaml);
        var ids = FilterOutput.IdsRecord(d, alert);
        var bytes = FilterOutput.Encode(d, alert);
        var back = (AvroRecord)AvroDatumReader.For(FilterOutput.IdsSchema).Read(bytes)!;
        Assert.Equal("bright_g", back["filter"]);
        Assert.Equal(d.Version, back["filterVersion"]);
        Assert.Equal(123L, back["alertId"]);
        Assert.Equal(ids["objectId"], back["objectId"]);

        var lite = BrokerAlertCodec.Decode(FilterOutput.Encode(d with { Content = FilterContent.Lite }, alert));
        Assert.Null(lite.Cutouts);
        Assert.Equal(new FilterMatch("bright_g", (d with { Content = FilterContent.Lite }).Version), Assert.Single(lite.Filters));
        var full = BrokerAlertCodec.Decode(FilterOutput.Encode(d with { Content = FilterContent.Full }, alert));
        Assert.NotNull(full.Cutouts);
        Assert.Equal("bright_g", Assert.Single(full.Filters).Name);
    }
}
