using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary><c>broker filter check</c> and <c>broker filter test</c> as a process.</summary>
public sealed class FilterCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-filter-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Check_accepts_an_example_filter_and_prints_its_version_and_topic()
    {
        var r = BrokerProcess.Run("filter", "check", SharedData.RepositoryPath("filters/fast_risers.yaml"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("topic    broker.filter.fast_risers", r.StandardOutput, StringComparison.Ordinal);
        Assert.Matches("version  [0-9a-f]{16}", r.StandardOutput);
    }

    [Fact]
    public void Check_refuses_a_filter_that_does_not_compile_with_its_line_and_column_and_exit_code_2()
    {
        string path = Write("bad.yaml", "name: bad\ndescription: d.\nowner: o\ncontent: ids\nwhere: |\n  mag < 18\n  and candidate.nosuch > 1\n");
        var r = BrokerProcess.Run("filter", "check", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("line 7, column 7: unknown field 'candidate.nosuch'", Assert.Single(r.ErrorLines));
        Assert.Empty(r.StandardOutput);
    }

    [OracleFact]
    public void Test_prints_the_ids_of_the_matching_real_alerts_one_per_line_and_a_summary()
    {
        var r = BrokerProcess.Run("filter", "test", SharedData.RepositoryPath("filters/known_asteroids.yaml"),
            "--alerts", SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts"), "--schemas", SharedData.Path("lsst/schema"));
        Assert.Equal(0, r.ExitCode);
        var golden = File.ReadAllLines(SharedData.RepositoryPath("tests/Broker.Filters.Tests/golden/known_asteroids.txt")).Select(long.Parse).ToList();
        var printed = r.OutputLines.Select(long.Parse).ToList();
        Assert.Equal(golden, printed.Distinct().Order().ToList());
        Assert.Matches(@"^filter known_asteroids \(version [0-9a-f]{16}\): \d+ of 651 alerts matched", Assert.Single(r.ErrorLines));
    }

    [OracleFact]
    public void Test_with_where_prints_rubin_dia_source_ids()
    {
        var r = BrokerProcess.Run("filter", "test", "--where", "survey = 'lsst' and diaSource.psfFlux < 0", "--alerts", SharedData.Path("lsst/alerts"), "--schemas", SharedData.Path("lsst/schema"));
        Assert.Equal(0, r.ExitCode);
        Assert.NotEmpty(r.OutputLines);
        Assert.All(r.OutputLines, l => Assert.True(long.Parse(l) > 0));
        Assert.Contains("7912941781254298", r.OutputLines);
    }

    [Fact]
    public void Test_with_a_where_that_does_not_compile_exits_2_with_line_and_column()
    {
        string alerts = Write("none.avro", "");
        var r = BrokerProcess.Run("filter", "test", "--where", "mag < 18 and\n band = 1", "--alerts", alerts);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("line 2, column 7: '=' cannot compare a string with an integer", Assert.Single(r.ErrorLines));
        Assert.Empty(r.StandardOutput);
    }

    [Fact]
    public void Test_needs_exactly_one_of_a_file_and_where()
    {
        string alerts = Write("none.avro", "");
        var both = BrokerProcess.Run("filter", "test", SharedData.RepositoryPath("filters/fast_risers.yaml"), "--where", "true", "--alerts", alerts);
        Assert.Equal(2, both.ExitCode);
        Assert.StartsWith("error: give a filter definition FILE or --where", both.StandardError, StringComparison.Ordinal);
        var neither = BrokerProcess.Run("filter", "test", "--alerts", alerts);
        Assert.Equal(2, neither.ExitCode);
        var noAlerts = BrokerProcess.Run("filter", "test", "--where", "true");
        Assert.Equal(2, noAlerts.ExitCode);
    }
}
