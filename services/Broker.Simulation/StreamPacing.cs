namespace Broker.Simulation;

/// <summary>
/// When each alert of a simulated stream is due, for writing into Kafka at a chosen rate. Without bursts the alerts
/// are spread evenly (ZTF-like: ~200k a night, a steady trickle); with bursts of N, N alerts go out at once and the
/// stream then waits so that the mean rate is kept (Rubin-like: ~10k alerts per visit, a visit every ~40 s).
/// </summary>
public sealed class StreamPacing
{
    /// <summary>A pacing of <paramref name="alertsPerSecond"/> (0: as fast as possible) in bursts of <paramref name="burst"/> (0 or 1: no bursts).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite rate, or a negative burst.</exception>
    public StreamPacing(double alertsPerSecond, int burst = 0)
    {
        if (!(alertsPerSecond >= 0) || double.IsInfinity(alertsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(alertsPerSecond), alertsPerSecond, "the rate must be a finite number >= 0");
        ArgumentOutOfRangeException.ThrowIfNegative(burst);
        Rate = alertsPerSecond;
        Burst = Math.Max(1, burst);
    }

    /// <summary>Mean alerts per second; 0 for unpaced.</summary>
    public double Rate { get; }

    /// <summary>Alerts sent together (1: evenly spaced).</summary>
    public int Burst { get; }

    /// <summary>
    /// Seconds after the start at which alert <paramref name="index"/> (0-based) may be sent: the start of its burst,
    /// which is <c>floor(index / Burst) * Burst / Rate</c>. Always 0 when unpaced.
    /// </summary>
    public double DueSeconds(long index) => Rate == 0 ? 0 : index / Burst * (double)Burst / Rate;
}
