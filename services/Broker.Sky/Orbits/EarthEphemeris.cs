namespace Broker.Sky.Orbits;

/// <summary>
/// The Earth's heliocentric position. Uses ERFA's <c>eraEpv00</c> (the SOFA iauEpv00 series: 4.6 km in position,
/// 1900-2100) from Debian's <c>liberfa1</c> when the library loads, else the Astronomical Almanac's low-precision
/// solar formulae (<see cref="SolarPosition"/>: about 2e-4 au).
/// </summary>
public static class EarthEphemeris
{
    /// <summary>Which model <see cref="HeliocentricEquatorial"/> uses: "erfa-epv00" or "aa-low-precision-sun".</summary>
    public static string ModelName => Erfa.Available ? "erfa-epv00" : "aa-low-precision-sun";

    /// <summary>Heliocentric position of the Earth, au, ICRS-aligned equator of J2000, at MJD TDB.</summary>
    public static (double X, double Y, double Z) HeliocentricEquatorial(double mjdTdb)
    {
        if (Erfa.Available)
        {
            Span<double> pvh = stackalloc double[6];
            Span<double> pvb = stackalloc double[6];
            Erfa.Epv00(TimeScales.MjdOffset, mjdTdb, pvh, pvb);
            return (pvh[0], pvh[1], pvh[2]);
        }
        return LowPrecision(mjdTdb);
    }

    /// <summary>The Astronomical Almanac low-precision Earth position (the negated geocentric Sun, ecliptic of date rotated with the mean obliquity), au.</summary>
    public static (double X, double Y, double Z) LowPrecision(double mjdTdb)
    {
        var (lambda, _, r) = SolarPosition.Ecliptic(mjdTdb + TimeScales.MjdOffset);
        // λ is of date; precession since J2000 in longitude is 1.3969713°/century (Lieske et al. 1977).
        double t = (mjdTdb + TimeScales.MjdOffset - Coordinates.J2000) / 36525.0;
        double l = (lambda - 1.3969713 * t) * Coordinates.DegToRad;
        return Coordinates.EclipticToEquatorial(-r * Math.Cos(l), -r * Math.Sin(l), 0);
    }
}
