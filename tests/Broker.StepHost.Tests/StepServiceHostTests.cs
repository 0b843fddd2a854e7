using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace Broker.StepHost.Tests;

/// <summary>
/// The process host of a step service (<c>StepHostApp.RunAsync</c>, the generic host with Kestrel): what the
/// probes answer in each state, and the exit codes, over a service whose state the test sets.
/// </summary>
public sealed class StepServiceHostTests
{
    private static readonly IConfiguration Quiet = new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Level"] = "Fatal" }).Build();

    /// <summary>A service that does nothing but wait, in whatever state the test puts it.</summary>
    private sealed class ScriptedService(string? httpUrl, Exception? failure = null) : IStepService, IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Step => "scripted";

        public StepHostOptions Options { get; } = new() { InputTopic = "in", OutputTopic = "out", HttpUrl = httpUrl, LivenessTimeoutSeconds = 5 };

        public StepCounters Counters { get; } = new("scripted");

        public StepMetrics Metrics => _metrics ??= new StepMetrics(Counters);

        private StepMetrics? _metrics;

        public StepServiceState State { get; set; } = StepServiceState.Starting;

        public long LastProgress { get; set; } = Environment.TickCount64;

        public int AssignedPartitions { get; set; }

        public async Task RunAsync(CancellationToken stop)
        {
            Started.SetResult();
            if (failure is not null) throw failure;
            await Task.Delay(Timeout.Infinite, stop);
        }
    }

    [Fact]
    public async Task The_probes_follow_the_state_and_a_stop_request_exits_0()
    {
        var service = new ScriptedService("http://127.0.0.1:0");
        using var stop = new CancellationTokenSource();
        var address = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = StepHostApp.RunAsync("scripted", Quiet, (_, _) => service, stop.Token, a => address.SetResult(a.Single()));
        await service.Started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = new Uri(await address.Task.WaitAsync(TimeSpan.FromSeconds(30))) };

        async Task<(HttpStatusCode Live, HttpStatusCode Ready, string Status)> Probe()
        {
            var live = await http.GetAsync("/health/live");
            var ready = await http.GetAsync("/health/ready");
            using var doc = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            return (live.StatusCode, ready.StatusCode, doc.RootElement.GetProperty("status").GetString()!);
        }

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable, "starting"), await Probe());
        service.State = StepServiceState.Running;
        service.AssignedPartitions = 3;
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, "running"), await Probe());
        service.State = StepServiceState.Unassigned;
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable, "unassigned"), await Probe());
        // A loop that has shown no progress for longer than the liveness timeout is not alive.
        service.State = StepServiceState.Running;
        service.LastProgress = Environment.TickCount64 - 6000;
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK, "running"), await Probe());
        service.State = StepServiceState.Failed;
        Assert.Equal((HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, "failed"), await Probe());

        // The service's counters are what /metrics says.
        service.Counters.AddIn(7);
        service.Counters.Count(StepOutcome.Emitted);
        service.Counters.Count(StepOutcome.DeadLettered, "undecodable: not Avro");
        // Per destination: one output to each of two topics, and a replay not produced again to the second.
        service.Counters.Route(new DestinationTable("scripted", ["slim"], d => d == Destination.Default ? "out" : "out.slim"));
        service.Counters.Destination(0).AddOut();
        service.Counters.Destination(1).AddOut();
        service.Counters.Destination(1).AddDuplicate(replay: true);
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Matches(new Regex("^broker_alerts_in_total\\{[^}]*step=\"scripted\"[^}]*\\} 7$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^broker_alerts_dead_lettered_total\\{[^}]*reason=\"undecodable\"[^}]*\\} 1$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^broker_destination_out_total\\{[^}]*destination=\"out\"[^}]*\\} 1$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^broker_destination_out_total\\{[^}]*destination=\"out.slim\"[^}]*\\} 1$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^broker_destination_duplicates_total\\{[^}]*destination=\"out.slim\"[^}]*\\} 1$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^broker_destination_replayed_total\\{[^}]*destination=\"out.slim\"[^}]*\\} 1$", RegexOptions.Multiline), metrics);
        // (The service is in state Failed here: the body is still the health document.)
        using (var health = JsonDocument.Parse(await (await http.GetAsync("/health/live")).Content.ReadAsStringAsync()))
        {
            var slim = health.RootElement.GetProperty("destinations")[1];
            Assert.Equal("out.slim", slim.GetProperty("topic").GetString());
            Assert.Equal(1, slim.GetProperty("replayed").GetInt64());
        }

        stop.Cancel();
        Assert.Equal(ExitCodes.Ok, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(service.Disposed);
    }

    [Fact]
    public async Task A_service_that_fails_exits_1_and_one_refused_at_start_exits_2()
    {
        var fatal = new ScriptedService(null, new StepException(FailureKind.Fatal, "the cluster went away"));
        Assert.Equal(ExitCodes.Fatal, await StepHostApp.RunAsync("scripted", Quiet, (_, _) => fatal).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(fatal.Disposed);
        var refused = new ScriptedService(null, new StepHostConfigurationException("invalid configuration: topic x not found"));
        Assert.Equal(ExitCodes.Configuration, await StepHostApp.RunAsync("scripted", Quiet, (_, _) => refused).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(ExitCodes.Configuration, await StepHostApp.RunAsync("scripted", Quiet,
            (_, _) => throw new StepHostConfigurationException("invalid configuration: StepHost:BatchSize")).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_port_already_taken_exits_2_before_the_service_runs()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var service = new ScriptedService($"http://127.0.0.1:{port}");
        Assert.Equal(ExitCodes.Configuration, await StepHostApp.RunAsync("scripted", Quiet, (_, _) => service).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(service.Started.Task.IsCompleted);
        Assert.True(service.Disposed);
    }

    [Theory]
    [InlineData("localhost:9401", "is not an http://ADDRESS:PORT address")]
    [InlineData("https://0.0.0.0:9401", "is not an http://ADDRESS:PORT address")]
    [InlineData("http://0.0.0.0:9401/metrics", "has a path")]
    [InlineData("http://0.0.0.0", "names no port")]
    public void A_bad_http_url_is_refused_naming_it(string url, string expected)
    {
        var options = new StepHostOptions { InputTopic = "in", OutputTopic = "out", HttpUrl = url };
        var ex = Assert.Throws<StepHostConfigurationException>(options.Validate);
        Assert.Contains($"StepHost:HttpUrl '{url}' {expected}", ex.Message);
    }
}
