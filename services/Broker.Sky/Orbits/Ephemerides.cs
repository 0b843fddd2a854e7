namespace Broker.Sky.Orbits;

/// <summary>An astrometric position of a solar-system body as seen by an observer.</summary>
/// <param name="RaDeg">Astrometric RA, degrees (ICRS, light-time corrected, no aberration or light deflection: JPL Horizons' "astrometric RA/Dec", quantity 1).</param>
/// <param name="DecDeg">Astrometric Dec, degrees.</param>
/// <param name="DeltaAu">Observer-body distance, au (the body at the light-time-retarded time).</param>
/// <param name="RAu">Sun-body distance, au (at the retarded time).</param>
/// <param name="PhaseDeg">Sun-body-observer phase angle, degrees.</param>
/// <param name="ElongationDeg">Sun-observer-body elongation, degrees.</param>
/// <param name="RaRateArcsecPerHour">dRA/dt cos Dec, arcsec per hour (as Horizons' RA_rate); NaN when not computed.</param>
/// <param name="DecRateArcsecPerHour">dDec/dt, arcsec per hour; NaN when not computed.</param>
public readonly record struct Ephemeris(double RaDeg, double DecDeg, double DeltaAu, double RAu, double PhaseDeg, double ElongationDeg,
    double RaRateArcsecPerHour = double.NaN, double DecRateArcsecPerHour = double.NaN)
{
    /// <summary>
    /// Predicted V magnitude with the IAU H,G system (Bowell et al. 1989, in Asteroids II, p. 524): H + 5 log10(r Δ) -
    /// 2.5 log10((1 - G) Φ1 + G Φ2), Φi = exp(-Ai tan(α/2)^Bi), A = (3.33, 1.87), B = (0.63, 1.22).
    /// </summary>
    public double VMagnitude(double h, double g)
    {
        double t = Math.Tan(PhaseDeg * Coordinates.DegToRad / 2);
        double phi1 = Math.Exp(-3.33 * Math.Pow(t, 0.63)), phi2 = Math.Exp(-1.87 * Math.Pow(t, 1.22));
        return h + 5 * Math.Log10(RAu * DeltaAu) - 2.5 * Math.Log10((1 - g) * phi1 + g * phi2);
    }
}

/// <summary>
/// Where an observer is at one instant: heliocentric position and velocity (ICRS, au and au/day) and the Sun's
/// barycentric velocity, computed once per exposure and shared by every body observed in it.
/// </summary>
/// <param name="MjdTdb">The instant, MJD TDB.</param>
/// <param name="X">Heliocentric position, au.</param>
/// <param name="Y">Heliocentric position, au.</param>
/// <param name="Z">Heliocentric position, au.</param>
/// <param name="Vx">Heliocentric velocity, au/day.</param>
/// <param name="Vy">Heliocentric velocity, au/day.</param>
/// <param name="Vz">Heliocentric velocity, au/day.</param>
/// <param name="SunVx">The Sun's barycentric velocity, au/day (moves the Sun during the light time).</param>
/// <param name="SunVy">The Sun's barycentric velocity, au/day.</param>
/// <param name="SunVz">The Sun's barycentric velocity, au/day.</param>
public readonly record struct ObserverState(double MjdTdb, double X, double Y, double Z, double Vx, double Vy, double Vz, double SunVx, double SunVy, double SunVz);

/// <summary>
/// Astrometric ephemerides of solar-system bodies from any motion (two-body, N-body) for an MPC observatory: the
/// Earth from ERFA <c>eraEpv00</c>, the site from its parallax constants (<see cref="Observatory.GeocentricIcrs"/>),
/// UTC -> TT -> TDB (<see cref="TimeScales.MjdUtcToMjdTdb"/>), light time iterated. docs/ephemerides.md.
/// </summary>
public static class Ephemerides
{
    /// <summary>Speed of light, au/day (c = 299,792.458 km/s, IAU 2012 au).</summary>
    public const double SpeedOfLightAuPerDay = 299792.458 * 86400 / Observatory.AuKm;

    private const double RadPerDayToArcsecPerHour = 180 / Math.PI * 3600 / 24;

    /// <summary>The observer's heliocentric position, au, ICRS axes: the Earth (<c>eraEpv00</c>) plus the site, at a UTC MJD.</summary>
    public static (double X, double Y, double Z) ObserverHeliocentric(Observatory site, double mjdUtc)
    {
        var o = Observer(site, mjdUtc);
        return (o.X, o.Y, o.Z);
    }

    /// <summary>The observer's state at a UTC MJD (position, velocity, the Sun's barycentric velocity), for <see cref="Observe(IHeliocentricMotion, in ObserverState)"/>.</summary>
    public static ObserverState Observer(Observatory site, double mjdUtc)
    {
        ArgumentNullException.ThrowIfNull(site);
        double tdb = TimeScales.MjdUtcToMjdTdb(mjdUtc);
        var earth = EarthState(tdb);
        var (sx, sy, sz, svx, svy, svz) = site.GeocentricIcrsState(mjdUtc);
        return earth with { X = earth.X + sx, Y = earth.Y + sy, Z = earth.Z + sz, Vx = earth.Vx + svx, Vy = earth.Vy + svy, Vz = earth.Vz + svz };
    }

    /// <summary>
    /// The geocentre's state at MJD TDB: ERFA <c>eraEpv00</c> (heliocentric Earth; the Sun's barycentric velocity
    /// as the barycentric minus the heliocentric Earth velocity), else <see cref="EarthEphemeris.LowPrecision"/>
    /// differenced for the velocity.
    /// </summary>
    public static ObserverState EarthState(double mjdTdb)
    {
        if (Erfa.Available)
        {
            Span<double> pvh = stackalloc double[6];
            Span<double> pvb = stackalloc double[6];
            Erfa.Epv00(TimeScales.MjdOffset, mjdTdb, pvh, pvb);
            return new ObserverState(mjdTdb, pvh[0], pvh[1], pvh[2], pvh[3], pvh[4], pvh[5], pvb[3] - pvh[3], pvb[4] - pvh[4], pvb[5] - pvh[5]);
        }
        var p = EarthEphemeris.LowPrecision(mjdTdb);
        var a = EarthEphemeris.LowPrecision(mjdTdb - 0.05);
        var b = EarthEphemeris.LowPrecision(mjdTdb + 0.05);
        return new ObserverState(mjdTdb, p.X, p.Y, p.Z, (b.X - a.X) / 0.1, (b.Y - a.Y) / 0.1, (b.Z - a.Z) / 0.1, 0, 0, 0);
    }

    /// <summary>The astrometric ephemeris of <paramref name="body"/> from <paramref name="site"/> at a UTC MJD.</summary>
    public static Ephemeris Observe(IHeliocentricMotion body, Observatory site, double mjdUtc) => Observe(body, Observer(site, mjdUtc));

    /// <summary>
    /// The astrometric ephemeris of <paramref name="body"/> from an observer state: the body's heliocentric state at
    /// the observation time t, taken back over the light time τ = Δ/c by two-body motion (over minutes the
    /// planets' pull changes the position by under 1e-12 au), and the Sun's barycentric motion during τ, so that the
    /// direction is the barycentric body at t - τ minus the barycentric observer at t (Explanatory Supplement 3rd ed.
    /// §7.2.2, the "astrometric place"; no aberration, no light deflection). Rates are analytic: the time derivative
    /// of the light-time-corrected topocentric vector, with dτ/dt = û·(v_body - v_obs)/(c + û·v_body).
    /// </summary>
    public static Ephemeris Observe(IHeliocentricMotion body, in ObserverState observer)
    {
        ArgumentNullException.ThrowIfNull(body);
        var now = body.StateAt(observer.MjdTdb);
        var b = now;
        double tau = 0, gx = 0, gy = 0, gz = 0, delta = 0;
        for (int i = 0; i < 4; i++)
        {
            if (i > 0) b = UniversalKepler.Propagate(now, observer.MjdTdb - tau);
            gx = b.X - observer.X - tau * observer.SunVx;
            gy = b.Y - observer.Y - tau * observer.SunVy;
            gz = b.Z - observer.Z - tau * observer.SunVz;
            delta = Math.Sqrt(gx * gx + gy * gy + gz * gz);
            double next = delta / SpeedOfLightAuPerDay;
            if (Math.Abs(next - tau) < 1e-12) { tau = next; break; }
            tau = next;
        }
        double r = b.R, rObs = Math.Sqrt(observer.X * observer.X + observer.Y * observer.Y + observer.Z * observer.Z);
        var (ra, dec) = Coordinates.FromVector(gx, gy, gz);
        double cosPhase = (b.X * gx + b.Y * gy + b.Z * gz) / (r * delta);
        double cosElong = (-observer.X * gx - observer.Y * gy - observer.Z * gz) / (rObs * delta);

        // Rates: dρ/dt = v_b (1 - dτ/dt) - v_o.
        double ux = gx / delta, uy = gy / delta, uz = gz / delta;
        double wx = b.Vx - observer.Vx, wy = b.Vy - observer.Vy, wz = b.Vz - observer.Vz;
        double dTau = (ux * wx + uy * wy + uz * wz) / (SpeedOfLightAuPerDay + ux * b.Vx + uy * b.Vy + uz * b.Vz);
        double dx = b.Vx * (1 - dTau) - observer.Vx, dy = b.Vy * (1 - dTau) - observer.Vy, dz = b.Vz * (1 - dTau) - observer.Vz;
        double rho2 = gx * gx + gy * gy;
        double rho = Math.Sqrt(rho2);
        // RA = atan2(y, x): dRA/dt cos Dec = (x ẏ - y ẋ) / (ρ_xy |g|); Dec = atan2(z, ρ_xy): dDec/dt = (ż ρ_xy² - z (x ẋ + y ẏ)) / (|g|² ρ_xy).
        double raRate = rho > 0 ? (gx * dy - gy * dx) / (rho * delta) : double.NaN;
        double decRate = rho > 0 ? (dz * rho2 - gz * (gx * dx + gy * dy)) / (delta * delta * rho) : double.NaN;
        return new Ephemeris(ra, dec, delta, r,
            Math.Acos(Math.Clamp(cosPhase, -1, 1)) * Coordinates.RadToDeg,
            Math.Acos(Math.Clamp(cosElong, -1, 1)) * Coordinates.RadToDeg,
            raRate * RadPerDayToArcsecPerHour, decRate * RadPerDayToArcsecPerHour);
    }
}
