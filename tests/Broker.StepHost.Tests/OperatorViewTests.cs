using System.Text.Json;
using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Serilog.Events;

namespace Broker.StepHost.Tests;

/// <summary>What an operator sees: configuration refused when it would be ignored, the health file, librdkafka's log lines (issue 8).</summary>
public sealed class OperatorViewTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-operator").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key, v => (string?)v.Value)).Build();

    private static StepHostOptions Options(string? healthFile, string group = "g") => new()
    {
        InputTopic = "in", OutputTopic = "out", GroupId = group, BatchSize = 10, BatchWaitMs = 20, StartupTimeoutSeconds = 3,
        MetricsIntervalSeconds = 0, HealthFile = healthFile,
    };

    [Fact]
    public void A_misspelt_section_is_refused_naming_it_and_the_known_ones()
    {
        var ex = Assert.Throws<StepHostConfigurationException>(() =>
            StepHostApp.CheckSections(Config(("StepHots:BatchSize", "10"), ("StepHost:BatchSize", "10")), "Ingest"));
        Assert.Equal("unknown configuration section StepHots; known: Ingest, Kafka, KafkaConsumer, KafkaProducer, Logging, StepHost", ex.Message);
    }

    [Fact]
    public void Known_sections_in_any_case_and_top_level_values_from_BROKER_variables_pass()
    {
        Environment.SetEnvironmentVariable("BROKER_OPERATORTEST", "x");
        try
        {
            var config = StepHostApp.BuildConfiguration(typeof(OperatorViewTests).Assembly, [],
                new Dictionary<string, string?> { ["stephost:BatchSize"] = "10", ["Ingest:DuplicateWindow"] = "10", ["KafkaProducer:linger.ms"] = "1" });
            StepHostApp.CheckSections(config, "Ingest");
            // The same name as a section, from an appsettings file or --set, is refused.
            Assert.Throws<StepHostConfigurationException>(() => StepHostApp.CheckSections(Config(("OTHER:Key", "x"))));
        }
        finally
        {
            Environment.SetEnvironmentVariable("BROKER_OPERATORTEST", null);
        }
    }

    [Theory]
    [InlineData("Chatty")]
    [InlineData("7")]
    [InlineData("Debug,Error")]
    public void A_log_level_that_is_not_a_level_is_refused(string level)
    {
        var ex = Assert.Throws<StepHostConfigurationException>(() => StepHostApp.ConfiguredLogLevel(Config(("Logging:Level", level))));
        Assert.Contains($"Logging:Level '{level}' is not one of Verbose, Debug, Information, Warning, Error, Fatal", ex.Message);
    }

    [Fact]
    public void Log_levels_are_read_in_any_case_and_other_logging_keys_are_refused()
    {
        Assert.Equal(LogEventLevel.Warning, StepHostApp.ConfiguredLogLevel(Config(("Logging:Level", "warning"))));
        Assert.Equal(LogEventLevel.Information, StepHostApp.ConfiguredLogLevel(Config()));
        var ex = Assert.Throws<StepHostConfigurationException>(() => StepHostApp.ConfiguredLogLevel(Config(("Logging:Levle", "Debug"))));
        Assert.Contains("Levle", ex.Message);
    }

    [Fact]
    public async Task A_health_file_in_a_missing_folder_is_refused_before_connecting()
    {
        string path = Path.Combine(_dir, "missing", "health.json");
        var host = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options(path), KafkaSettings.ForBootstrap("127.0.0.1:1"), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.StartsWith($"invalid configuration: StepHost:HealthFile '{path}' cannot be written", ex.Message);
    }

    [Fact]
    public async Task A_health_file_that_is_a_folder_is_refused_before_connecting()
    {
        var host = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options(_dir), KafkaSettings.ForBootstrap("127.0.0.1:1"), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("StepHost:HealthFile", ex.Message);
    }

    [Fact]
    public async Task An_idle_instance_reports_its_lag_and_one_without_partitions_says_so()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out" }) cluster.CreateTopic(t, 1);
        var kafka = KafkaSettings.ForBootstrap(cluster.Bootstrap);
        kafka.Consumer["session.timeout.ms"] = "6000";
        kafka.Consumer["heartbeat.interval.ms"] = "500";
        string first = Path.Combine(_dir, "first.json"), second = Path.Combine(_dir, "second.json");
        using var stop = new CancellationTokenSource();
        var one = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options(first), kafka, NullLogger.Instance);
        var running = Task.Run(() => one.RunAsync(stop.Token));
        try
        {
            // Nothing to consume, so no batch ever completes: the lag must still become known while idle.
            var health = await WaitForHealth(first, h => h.Status == "running" && h.Partitions == 1 && h.Lag == 0);
            Assert.Equal(0, health.In);

            var two = new KafkaStepHost<int, int>(new ParityStep(), new IntCodec(), new IntCodec(), Options(second), kafka, NullLogger.Instance);
            var alsoRunning = Task.Run(() => two.RunAsync(stop.Token));
            // One partition, two members: one of them holds nothing, and says so.
            var healths = await WaitFor(() => new[] { Read(first), Read(second) },
                h => h.Count(x => x?.Status == "unassigned" && x.Lag == 0) == 1 && h.Count(x => x?.Status == "running") == 1);
            var idle = Assert.Single(healths, h => h!.Status == "unassigned")!;
            Assert.Equal(0, idle.Partitions);
            stop.Cancel();
            await alsoRunning;
        }
        finally
        {
            stop.Cancel();
            await running;
        }
        Assert.Equal("stopped", Read(first)!.Status);
    }

    [Fact]
    public void librdkafka_warnings_are_logged_as_warnings_and_its_other_lines_as_debug()
    {
        var log = new CapturingLogger();
        var handler = KafkaClients.LogTo(log);
        handler(null!, new LogMessage("rdkafka#producer-1", SyslogLevel.Warning, "CONFWARN", "linger.ms ignored"));
        handler(null!, new LogMessage("rdkafka#producer-1", SyslogLevel.Error, "FAIL", "Connect to ipv4#127.0.0.1:1 failed"));
        Assert.Equal(
            [(LogLevel.Warning, "librdkafka CONFWARN rdkafka#producer-1: linger.ms ignored"), (LogLevel.Debug, "librdkafka FAIL rdkafka#producer-1: Connect to ipv4#127.0.0.1:1 failed")],
            log.Lines);
    }

    private sealed record Health(string Status, int Partitions, long Lag, long In);

    private static Health? Read(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            return new Health(r.GetProperty("status").GetString()!, r.GetProperty("partitions").GetInt32(), r.GetProperty("lag").GetInt64(), r.GetProperty("in").GetInt64());
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static Task<Health> WaitForHealth(string path, Func<Health, bool> done) =>
        WaitFor(() => Read(path)!, h => h is not null && done(h));

    /// <summary>Polls until <paramref name="done"/>, failing with the last value seen after a minute (the mock cluster's first join alone takes ~3 s).</summary>
    private static async Task<T> WaitFor<T>(Func<T> read, Func<T, bool> done)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        T last = read();
        while (!done(last))
        {
            Assert.True(DateTime.UtcNow < until, $"not reached; last seen: {JsonSerializer.Serialize(last)}");
            await Task.Delay(100);
            last = read();
        }
        return last;
    }

    private sealed class CapturingLogger : ILogger
    {
        public List<(LogLevel, string)> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
    }
}
