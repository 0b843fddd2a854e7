namespace Broker.StepHost;

/// <summary>
/// A step that loads and verifies what it needs (model files against their manifest and SHA-256, catalogue files)
/// before its service consumes anything. The Kafka host (<see cref="KafkaStepHost{TIn,TOut}"/>) calls it once, before
/// it builds its clients; the in-process runner (<see cref="InProcessPipeline"/>) once per stage, before it reads its
/// source. A step that needs nothing does not implement this.
/// </summary>
/// <remarks>
/// A failure here stops the service with one clear line: a <see cref="StepHostConfigurationException"/> (a missing
/// file, a file that does not match its manifest: <see cref="FileVerifier"/>) exits 2, because restarting will not
/// help; any other exception exits 1 (fatal), so the orchestrator restarts the process.
/// </remarks>
public interface IStepStartup
{
    /// <summary>Loads and verifies what the step needs.</summary>
    /// <exception cref="StepHostConfigurationException">Something the step needs is missing or does not match its manifest.</exception>
    ValueTask StartAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The lifetime of a step as the hosts honour it: its start-up hook (<see cref="IStepStartup"/>) before anything is
/// consumed, and <see cref="IAsyncDisposable"/> or <see cref="IDisposable"/> when the host is done with it.
/// </summary>
public static class StepLifetime
{
    /// <summary>Runs the step's start-up hook, if it has one.</summary>
    /// <exception cref="StepHostConfigurationException">The hook found something missing or wrong.</exception>
    public static ValueTask StartAsync(object step, CancellationToken cancellationToken) =>
        step is IStepStartup startup ? startup.StartAsync(cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Disposes <paramref name="value"/> (asynchronously where it can be), if it is disposable.</summary>
    public static ValueTask DisposeAsync(object? value)
    {
        switch (value)
        {
            case IAsyncDisposable asynchronous:
                return asynchronous.DisposeAsync();
            case IDisposable disposable:
                disposable.Dispose();
                return ValueTask.CompletedTask;
            default:
                return ValueTask.CompletedTask;
        }
    }
}
