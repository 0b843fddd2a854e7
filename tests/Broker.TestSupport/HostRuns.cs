using Broker.StepHost;
namespace Broker.TestSupport;

/// <summary>Runs Kafka hosts under test. Shared by the step-host and integration tests (linked into Broker.IntegrationTests).</summary>
public static class HostRuns
{
    /// <summary>
    /// Runs <paramref name="host"/> until it has read <paramref name="inputs"/> messages, or two minutes pass (a hang
    /// is a failure of its own: the caller's assertions then report what is missing), and stops it cleanly.
    /// </summary>
    public static async Task<StepCountersSnapshot> RunUntilAsync<TIn, TOut>(KafkaStepHost<TIn, TOut> host, long inputs)
    {
        using var stop = new CancellationTokenSource();
        host.BatchCompleted += s => { if (s.In >= inputs) stop.Cancel(); };
        var run = host.RunAsync(stop.Token);
        await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2)));
        stop.Cancel();
        await run;
        return host.Counters.Snapshot();
    }
}
