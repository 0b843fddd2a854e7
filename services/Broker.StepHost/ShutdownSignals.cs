using System.Runtime.InteropServices;

namespace Broker.StepHost;

/// <summary>
/// SIGTERM, SIGINT and SIGQUIT as one cancellation token, for the commands that do not run on the generic host
/// (<c>broker run</c>, <c>broker dev-kafka</c>); the services get the same three signals from the host's console
/// lifetime (<see cref="StepHostApp"/>).
/// A signal is taken over (the runtime's default, ending the process, is cancelled) so that the command can finish
/// what it has in hand and exit by itself.
/// </summary>
public sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly Action? _onSignal;

    private ShutdownSignals(CancellationToken linked, Action? onSignal)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(linked);
        _onSignal = onSignal;
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT])
        {
            // Windows has no SIGQUIT to register.
            if (signal == PosixSignal.SIGQUIT && OperatingSystem.IsWindows()) continue;
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    /// <summary>Starts listening; <see cref="Token"/> is cancelled by the first signal or by <paramref name="linked"/>.</summary>
    /// <param name="linked">Another stop (the command line's own cancellation).</param>
    /// <param name="onSignal">Run in the signal handler before the token is cancelled (remove a file that must not outlive the process).</param>
    public static ShutdownSignals Listen(CancellationToken linked = default, Action? onSignal = null) => new(linked, onSignal);

    /// <summary>Cancelled by a signal or by the linked token.</summary>
    public CancellationToken Token => _stop.Token;

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        _onSignal?.Invoke();
        _stop.Cancel();
    }

    /// <summary>Stops listening: the runtime's default handling is back.</summary>
    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _stop.Dispose();
    }
}
