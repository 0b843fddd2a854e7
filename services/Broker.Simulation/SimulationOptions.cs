namespace Broker.Simulation;

/// <summary>Which survey's alert stream to simulate.</summary>
public enum SurveyKind
{
    /// <summary>Zwicky Transient Facility: g and r, Palomar, alert schema 4.02.</summary>
    Ztf,

    /// <summary>Vera C. Rubin Observatory LSST: ugrizy, Cerro Pachón, alert schema lsst.v11_0.</summary>
    Lsst,
}

/// <summary>What to simulate. Equal options and seed give byte-identical output.</summary>
public sealed record SimulationOptions
{
    /// <summary>The survey.</summary>
    public SurveyKind Survey { get; init; } = SurveyKind.Ztf;

    /// <summary>Nights to simulate (each a full dark window at the site).</summary>
    public int Nights { get; init; } = 1;

    /// <summary>
    /// Target alerts per night. The simulator sizes each field's object population and the bogus rate so that the
    /// expected count is this; the actual count varies by a few percent (objects are detected or not, by their light curves).
    /// </summary>
    public int AlertsPerNight { get; init; } = 1000;

    /// <summary>Seed for every random draw.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>UTC MJD of the calendar date of the first night's evening (local date at the site). Default 2025-01-15.</summary>
    public double StartMjd { get; init; } = 60690;

    /// <summary>Render cutouts (false leaves them null; for load tests of everything else).</summary>
    public bool Cutouts { get; init; } = true;

    /// <summary>Fraction of alerts that are bogus (artefacts), 0 to 1.</summary>
    public double BogusFraction { get; init; } = 0.2;

    /// <summary>Worker threads for encoding (output order and bytes do not depend on it).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Checks ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Nights);
        ArgumentOutOfRangeException.ThrowIfNegative(AlertsPerNight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Workers);
        if (BogusFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(BogusFraction), BogusFraction, "must be in [0, 1]");
    }
}
