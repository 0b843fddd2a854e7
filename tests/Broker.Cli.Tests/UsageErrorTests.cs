using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>Every usage error of the <c>broker</c> command is one line on standard error and exit code 2, never the whole help or a stack trace (issue 8).</summary>
public sealed class UsageErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-usage").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string OneAlert => SharedData.Path("ztf/alerts/fink-alert-simulator_20181129_v3.2/697251920815010004.avro");

    private static string AssertOneLineUsageError(BrokerProcess.Result result)
    {
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.StandardOutput);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", line);
        return line;
    }

    [Fact]
    public void An_unparseable_option_value_is_one_line_and_exit_2_without_the_help()
    {
        var line = AssertOneLineUsageError(BrokerProcess.Run("run", OneAlert, "--out", Path.Combine(_dir, "out"), "--batch-size", "abc"));
        Assert.Contains("abc", line);
        Assert.Contains("--batch-size", line);
        Assert.EndsWith("(see broker run --help)", line);
    }

    [Fact]
    public void Serve_names_the_registered_stages_when_given_another()
    {
        Assert.Equal("error: unknown step 'nothing'; known: ingest, crossmatch, sso, stamp, lightcurve, filter", AssertOneLineUsageError(BrokerProcess.Run("serve", "nothing", "--bootstrap", "127.0.0.1:1")));
    }

    [Fact]
    public void Run_refuses_a_stage_setting_it_cannot_use_or_would_ignore_in_one_line()
    {
        Assert.Equal("error: invalid configuration: Ingest:DuplicateWindow -5 is not in 0..10000000",
            AssertOneLineUsageError(BrokerProcess.Run("run", OneAlert, "--out", Path.Combine(_dir, "out"), "--set", "Ingest:DuplicateWindow=-5")));
        // The host's sections mean nothing in one process: refused, not ignored.
        Assert.Equal("error: unknown configuration section StepHost; known: Crossmatch, Filter, Ingest, LightCurveClassifier, Sso, StampClassifier",
            AssertOneLineUsageError(BrokerProcess.Run("run", OneAlert, "--out", Path.Combine(_dir, "out"), "--set", "StepHost:BatchSize=5")));
    }

    [Fact]
    public void An_out_of_range_value_and_an_unknown_option_give_the_same_kind_of_answer()
    {
        Assert.Contains("--batch-size must be between 1 and 100000",
            AssertOneLineUsageError(BrokerProcess.Run("run", OneAlert, "--out", Path.Combine(_dir, "out"), "--batch-size", "0")));
        Assert.Contains("--no-such-option", AssertOneLineUsageError(BrokerProcess.Run("dev-kafka", "--no-such-option")));
        Assert.Contains("--out", AssertOneLineUsageError(BrokerProcess.Run("subscribe", "broker.ingested")));
        Assert.Contains("(see broker --help)", AssertOneLineUsageError(BrokerProcess.Run("no-such-verb")));
    }

    [Fact]
    public void Run_with_out_pointing_at_a_file_says_so_in_one_line()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        Assert.Equal($"error: --out: '{file}' is a file, not a folder", AssertOneLineUsageError(BrokerProcess.Run("run", OneAlert, "--out", file)));
    }

    [Fact]
    public void A_schema_folder_that_is_a_file_says_so()
    {
        Assert.Equal($"error: --schemas: folder '{OneAlert}' is a file, not a folder", AssertOneLineUsageError(BrokerProcess.Run("decode", "--schemas", OneAlert, OneAlert)));
    }

    [Theory]
    [InlineData("StepHots:BatchSize=10", "unknown configuration section StepHots; known:")]
    [InlineData("Logging:Level=Chatty", "Logging:Level 'Chatty' is not one of")]
    public void Serve_refuses_a_setting_it_would_ignore_with_exit_2_naming_it(string setting, string expected)
    {
        var result = BrokerProcess.Run("serve", "ingest", "--bootstrap", "127.0.0.1:1", "--set", setting, "--set", "Ingest:SchemaFolder=" + SharedData.Path("lsst/schema"));
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void Serve_against_an_unreachable_bootstrap_prints_the_clear_message_and_no_raw_librdkafka_line()
    {
        var result = BrokerProcess.Run("serve", "ingest", "--bootstrap", "127.0.0.1:1", "--set", "StepHost:StartupTimeoutSeconds=2",
            "--set", "Ingest:SchemaFolder=" + SharedData.Path("lsst/schema"));
        Assert.Equal(2, result.ExitCode);
        var lines = result.ErrorLines.Concat(result.OutputLines).ToList();
        Assert.Contains(lines, l => l.Contains("cannot reach Kafka at 127.0.0.1:1", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith('%'));
    }
}
