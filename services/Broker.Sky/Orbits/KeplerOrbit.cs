namespace Broker.Sky.Orbits;

/// <summary>
/// Osculating heliocentric elements in the ecliptic and mean equinox of J2000 (as JPL SBDB and MPC publish them)
/// and their two-body (Keplerian) motion. Angles in degrees, distances in au, times in MJD TDB.
/// Two-body motion ignores planetary perturbations: for a main-belt asteroid the error grows to roughly
/// 10-100 arcsec a year from the epoch, which is why elements are refreshed (SBDB gives a recent epoch).
/// </summary>
/// <param name="A">Semi-major axis, au (positive; elliptic orbits only).</param>
/// <param name="E">Eccentricity, 0 &lt;= e &lt; 1.</param>
/// <param name="IDeg">Inclination, degrees.</param>
/// <param name="NodeDeg">Longitude of the ascending node, degrees.</param>
/// <param name="PeriDeg">Argument of perihelion, degrees.</param>
/// <param name="MeanAnomalyDeg">Mean anomaly at the epoch, degrees.</param>
/// <param name="EpochMjd">Epoch of the elements, MJD TDB.</param>
public sealed record KeplerOrbit(double A, double E, double IDeg, double NodeDeg, double PeriDeg, double MeanAnomalyDeg, double EpochMjd) : IHeliocentricMotion
{
    /// <summary>Gaussian gravitational constant k, rad/day (IAU 1976): the Sun's GM = k² au³/day².</summary>
    public const double GaussK = 0.01720209895;

    /// <summary>Mean motion, radians/day.</summary>
    public double MeanMotion => GaussK / Math.Sqrt(A * A * A);

    /// <summary>Solves Kepler's equation E - e sin E = M for the eccentric anomaly (radians) by Newton's method.</summary>
    public static double EccentricAnomaly(double meanAnomalyRad, double e)
    {
        double m = Math.IEEERemainder(meanAnomalyRad, 2 * Math.PI);
        double ea = e < 0.8 ? m : Math.PI * Math.Sign(m == 0 ? 1 : m);
        for (int i = 0; i < 50; i++)
        {
            double f = ea - e * Math.Sin(ea) - m;
            double step = f / (1 - e * Math.Cos(ea));
            ea -= step;
            if (Math.Abs(step) < 1e-14) break;
        }
        return ea;
    }

    /// <summary>Heliocentric position, au, in the ecliptic and equinox of J2000, at MJD TDB.</summary>
    public (double X, double Y, double Z) HeliocentricEcliptic(double mjdTdb)
    {
        double m = MeanAnomalyDeg * Coordinates.DegToRad + MeanMotion * (mjdTdb - EpochMjd);
        double ea = EccentricAnomaly(m, E);
        double xp = A * (Math.Cos(ea) - E), yp = A * Math.Sqrt(1 - E * E) * Math.Sin(ea);
        var (p, q) = CometaryElements.PerifocalAxes(IDeg, NodeDeg, PeriDeg);
        return (p.X * xp + q.X * yp, p.Y * xp + q.Y * yp, p.Z * xp + q.Z * yp);
    }

    /// <summary>Heliocentric position, au, in the ICRS-aligned equator of J2000, at MJD TDB.</summary>
    public (double X, double Y, double Z) HeliocentricEquatorial(double mjdTdb)
    {
        var (x, y, z) = HeliocentricEcliptic(mjdTdb);
        return Coordinates.EclipticToEquatorial(x, y, z);
    }

    /// <summary>
    /// The heliocentric equatorial state at MJD TDB, so that <see cref="Ephemerides"/> observes it as any other motion:
    /// the perifocal velocity (-a n sin E, a n √(1-e²) cos E) / (1 - e cos E) rotated as the position is.
    /// </summary>
    public OrbitState StateAt(double mjdTdb)
    {
        double n = MeanMotion;
        double ea = EccentricAnomaly(MeanAnomalyDeg * Coordinates.DegToRad + n * (mjdTdb - EpochMjd), E);
        double cosE = Math.Cos(ea), sinE = Math.Sin(ea), root = Math.Sqrt(1 - E * E), denominator = 1 - E * cosE;
        double xp = A * (cosE - E), yp = A * root * sinE;
        double vxp = -A * n * sinE / denominator, vyp = A * n * root * cosE / denominator;
        var ((px, py, pz), (qx, qy, qz)) = CometaryElements.PerifocalAxes(IDeg, NodeDeg, PeriDeg);
        return OrbitState.FromEcliptic(px * xp + qx * yp, py * xp + qy * yp, pz * xp + qz * yp,
            px * vxp + qx * vyp, py * vxp + qy * vyp, pz * vxp + qz * vyp, mjdTdb);
    }
}

/// <summary>Two-body ephemerides: observer position from <see cref="EarthEphemeris"/>, light time iterated.</summary>
public static class TwoBodyEphemeris
{
    /// <summary>
    /// The astrometric place of a body at MJD TDB as seen from the geocentre (<paramref name="site"/> null) or from a
    /// site (topocentric, <see cref="SiteGeocentric"/>).
    /// </summary>
    public static Ephemeris Observe(KeplerOrbit orbit, double mjdTdb, ObservatorySite? site = null) =>
        Observe(orbit, mjdTdb, ObserverPosition(mjdTdb, site));

    /// <summary>
    /// Heliocentric equatorial position of the observer (au): the Earth from <see cref="EarthEphemeris"/> plus the site's
    /// geocentric offset when <paramref name="site"/> is given. Compute it once per exposure and pass it to
    /// <see cref="Observe(KeplerOrbit, double, ValueTuple{double, double, double})"/> for every body.
    /// </summary>
    public static (double X, double Y, double Z) ObserverPosition(double mjdTdb, ObservatorySite? site)
    {
        var (ex, ey, ez) = EarthEphemeris.HeliocentricEquatorial(mjdTdb);
        if (site is not null)
        {
            var (sx, sy, sz) = SiteGeocentric(site, TimeScales.MjdTdbToMjdUtc(mjdTdb) + TimeScales.MjdOffset);
            ex += sx; ey += sy; ez += sz;
        }
        return (ex, ey, ez);
    }

    /// <summary>
    /// As <see cref="Observe(KeplerOrbit, double, ObservatorySite?)"/>, from an observer position (au) given by
    /// <see cref="ObserverPosition"/>: <see cref="Ephemerides.Observe(IHeliocentricMotion, in ObserverState)"/>, the
    /// one ephemeris path, with the observer at rest (so no rates: they are NaN; use <see cref="Ephemerides"/> for them).
    /// </summary>
    public static Ephemeris Observe(KeplerOrbit orbit, double mjdTdb, (double X, double Y, double Z) observer)
    {
        ArgumentNullException.ThrowIfNull(orbit);
        var e = Ephemerides.Observe(orbit, new ObserverState(mjdTdb, observer.X, observer.Y, observer.Z, 0, 0, 0, 0, 0, 0));
        return e with { RaRateArcsecPerHour = double.NaN, DecRateArcsecPerHour = double.NaN };
    }

    /// <summary>
    /// Geocentric position of a site, au, in the ICRS: <see cref="Observatory.FromGeodetic"/> (WGS84) and
    /// <see cref="Observatory.GeocentricIcrs"/> (IAU 2006/2000A precession-nutation and Earth rotation), at a UT Julian date.
    /// </summary>
    public static (double X, double Y, double Z) SiteGeocentric(ObservatorySite site, double jdUt)
    {
        ArgumentNullException.ThrowIfNull(site);
        return Observatory.FromGeodetic(site.Name, site.LongitudeDeg, site.LatitudeDeg, site.HeightM).GeocentricIcrs(jdUt - TimeScales.MjdOffset);
    }
}
