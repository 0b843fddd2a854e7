namespace Broker.StepHost;

/// <summary>Where a running step service is, as its probes report it.</summary>
public enum StepServiceState
{
    /// <summary>Checking the cluster and reading the replay guard: not ready yet.</summary>
    Starting,

    /// <summary>Consuming, with at least one partition assigned: ready.</summary>
    Running,

    /// <summary>Running but holding no partition (a rebalance, or more instances than partitions): alive, not ready.</summary>
    Unassigned,

    /// <summary>Stopped cleanly.</summary>
    Stopped,

    /// <summary>Stopped by a fatal error.</summary>
    Failed,
}

/// <summary>
/// What the process host (<see cref="StepHostApp"/>) runs: a step on Kafka, with its accounting, its instruments
/// and its state for the liveness and readiness probes.
/// </summary>
public interface IStepService
{
    /// <summary>The step's name.</summary>
    string Step { get; }

    /// <summary>How it runs (topics, batches, the operators' endpoint).</summary>
    StepHostOptions Options { get; }

    /// <summary>Its accounting (the summary it logs).</summary>
    StepCounters Counters { get; }

    /// <summary>Its instruments.</summary>
    StepMetrics Metrics { get; }

    /// <summary>Where it is.</summary>
    StepServiceState State { get; }

    /// <summary>
    /// <see cref="Environment.TickCount64"/> when the service last showed progress (its loop went round, or a batch
    /// was being delivered): a loop stuck longer than <see cref="StepHostOptions.LivenessTimeoutSeconds"/> is not alive.
    /// </summary>
    long LastProgress { get; }

    /// <summary>Partitions held now.</summary>
    int AssignedPartitions { get; }

    /// <summary>Runs until <paramref name="stop"/> is cancelled (clean stop) or a fatal error.</summary>
    Task RunAsync(CancellationToken stop);
}
