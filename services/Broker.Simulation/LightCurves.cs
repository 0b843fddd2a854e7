using Broker.Sky;
using static System.Globalization.CultureInfo;

namespace Broker.Simulation;

/// <summary>
/// A persistent astrophysical object: its class, position, and flux in each band at any time. Fluxes are in
/// "AB-magnitude flux" units: 10^(-0.4 m). The template (reference) flux is what the survey's reference image holds
/// at the position, so the difference-image flux is <see cref="Flux"/> minus <see cref="TemplateFlux"/>.
/// </summary>
internal sealed class SkyObject
{
    public required long Key { get; init; }
    public required ObjectClass Class { get; init; }
    public required double RaDeg { get; init; }
    public required double DecDeg { get; init; }
    public required double[] Parameters { get; init; }
    public required string ParameterText { get; init; }
    public double HostMag { get; init; } = double.NaN;
    public double HostOffsetArcsec { get; init; }
    public double HostRadiusArcsec { get; init; }
    public double HostAxisRatio { get; init; } = 1;
    public double HostAngleDeg { get; init; }
    public double HostEastArcsec { get; init; }
    public double HostNorthArcsec { get; init; }
    public double[]? DrwGrid { get; init; }
    public double DrwStartMjd { get; init; }
    public double[] Color { get; init; } = [];

    /// <summary>Flux at the object's position in the template (the host nucleus or quiescent star), per band.</summary>
    public double TemplateFlux(int band) => Class switch
    {
        ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN or ObjectClass.Nova => 0,
        _ => MeanFlux(band),
    };

    private double MeanFlux(int band) => SimulationEngine.FluxOfMag(Parameters[0] + Color[band]);

    /// <summary>True flux of the variable or transient component at a UTC MJD in a band.</summary>
    public double Flux(double mjd, int band)
    {
        var p = Parameters;
        double c = Color.Length > band ? Color[band] : 0;
        switch (Class)
        {
            case ObjectClass.SNIa:
            case ObjectClass.SNIbc:
            case ObjectClass.SLSN:
            {
                // Bazin et al. 2009 (A&A 499, 653): f = A exp(-(t-t0)/τfall) / (1 + exp(-(t-t0)/τrise)); bluer bands fade
                // faster, as in Villar et al. 2019 (ApJ 884, 83) fits.
                double t0 = p[1], rise = p[2], fall = p[3] * (band <= 1 ? 0.75 : band == 2 ? 1.0 : 1.2), z1 = 1 + p[4];
                double dt = (mjd - t0) / z1;
                if (dt < -8 * rise) return 0;
                double bazin = Math.Exp(-dt / fall) / (1 + Math.Exp(-dt / rise));
                double peakNorm = PeakOfBazin(rise, fall);
                double cc = c + (band <= 1 ? 0.02 : 0) * Math.Max(0, dt);
                return SimulationEngine.FluxOfMag(p[0] + cc) * bazin / peakNorm;
            }
            case ObjectClass.SNII:
            {
                // Villar et al. 2019 eq. 1: a linear plateau of slope β after the peak until t1, then exponential decline.
                double t0 = p[1], rise = p[2], plateau = p[3], beta = 0.008, fall = 25, z1 = 1 + p[4];
                double dt = (mjd - t0) / z1;
                if (dt < -8 * rise) return 0;
                double shape = dt < plateau ? (1 - beta * Math.Max(0, dt)) : (1 - beta * plateau) * Math.Exp(-(dt - plateau) / fall);
                double cc = c + (band <= 1 ? 0.015 : 0) * Math.Max(0, dt);
                return SimulationEngine.FluxOfMag(p[0] + cc) * Math.Max(0, shape) / (1 + Math.Exp(-dt / rise));
            }
            case ObjectClass.RRLyrae:
            case ObjectClass.Cepheid:
            {
                // Sawtooth from a 4-term Fourier series with RRab-like phase lags (Simon and Lee 1981: φ21 ≈ 2.4,
                // R21 ≈ 0.5); amplitude shrinks to the red.
                double period = p[1], epoch = p[2], amp = p[3] * (band <= 1 ? 1 : band == 2 ? 0.75 : 0.6);
                double phase = 2 * Math.PI * Frac((mjd - epoch) / period);
                double s = Math.Sin(phase) + 0.5 * Math.Sin(2 * phase + 2.4) + 0.3 * Math.Sin(3 * phase + 4.9) + 0.15 * Math.Sin(4 * phase + 1.1);
                return SimulationEngine.FluxOfMag(p[0] + c - amp * 0.45 * s);
            }
            case ObjectClass.DeltaScuti:
            {
                double period = p[1], epoch = p[2], amp = p[3];
                double phase = 2 * Math.PI * Frac((mjd - epoch) / period);
                return SimulationEngine.FluxOfMag(p[0] + c - amp / 2 * (Math.Sin(phase) + 0.15 * Math.Sin(2 * phase)));
            }
            case ObjectClass.EclipsingBinary:
            {
                // Two Gaussian eclipses of depths d1 and d2 at phases 0 and 0.5 (a detached EA-type system).
                double period = p[1], epoch = p[2], d1 = p[3], d2 = p[4], width = p[5];
                double ph = Frac((mjd - epoch) / period);
                double e1 = Math.Min(ph, 1 - ph), e2 = Math.Abs(ph - 0.5);
                double dm = d1 * Math.Exp(-0.5 * e1 * e1 / (width * width)) + d2 * Math.Exp(-0.5 * e2 * e2 / (width * width));
                return SimulationEngine.FluxOfMag(p[0] + c + dm);
            }
            case ObjectClass.LPV:
            {
                double period = p[1], epoch = p[2], amp = p[3] * (band <= 1 ? 1 : 0.6);
                return SimulationEngine.FluxOfMag(p[0] + c - amp / 2 * Math.Sin(2 * Math.PI * (mjd - epoch) / period));
            }
            case ObjectClass.AGN:
            case ObjectClass.QSO:
            case ObjectClass.YSO:
            {
                // Damped random walk (Kelly et al. 2009, ApJ 698, 895; MacLeod et al. 2010, ApJ 721, 1014) sampled on
                // a 0.5-day grid, interpolated linearly; redder bands vary less (MacLeod et al. 2010 fig. 14).
                double dm = DrwAt(mjd) * (band <= 1 ? 1 : band == 2 ? 0.8 : 0.65);
                return SimulationEngine.FluxOfMag(p[0] + c + dm);
            }
            case ObjectClass.Blazar:
            {
                // A fast, large damped random walk (blazars vary more and on shorter timescales than radio-quiet quasars:
                // Ruan et al. 2012, ApJ 760, 51, SF_inf about twice, tau of days to weeks) plus flares, each a fast
                // exponential rise and slower exponential decay (Abdo et al. 2010, ApJ 722, 520, eq. 7: f ∝ 1/(e^{-Δt/τr} + e^{Δt/τd})).
                // Synchrotron variability is nearly achromatic in the optical: r varies 0.9 as much as g.
                double scale = band <= 1 ? 1 : band == 2 ? 0.9 : 0.85;
                double dm = DrwAt(mjd) * scale - FlareMag(mjd, p[3], p[4], p[5], p[6], p[7]) * scale;
                return SimulationEngine.FluxOfMag(p[0] + c + dm);
            }
            case ObjectClass.PeriodicOther:
            {
                // Periodic-Other (ALeRCE, Sánchez-Sáez et al. 2021 §2: rotational variables, ellipsoidal binaries,
                // semi-regular and other periodic stars not in the named classes). p[4] picks the kind: 0 rotational
                // (spotted star: a sinusoid with a weak second harmonic, Strassmeier 2009, A&ARv 17, 251), 1 ellipsoidal
                // (cos 2φ with unequal minima, Morris 1985, ApJ 295, 143), 2 semi-regular (a sinusoid whose amplitude
                // wanders on p[7] periods, as SR giants do, Kiss et al. 1999, A&A 346, 542).
                double period = p[1], epoch = p[2], amp = p[3] * (band <= 1 ? 1 : band == 2 ? 0.85 : 0.75);
                double phase = 2 * Math.PI * Frac((mjd - epoch) / period);
                double s = p[4] switch
                {
                    0 => Math.Sin(phase) + p[5] * Math.Sin(2 * phase + p[6]),
                    1 => Math.Cos(2 * phase) + p[5] * Math.Cos(phase),
                    _ => Math.Sin(phase) * (1 + 0.5 * Math.Sin(2 * Math.PI * (mjd - epoch) / (p[7] * period) + p[6])),
                };
                return SimulationEngine.FluxOfMag(p[0] + c - amp / 2 * s);
            }
            case ObjectClass.CV:
            {
                // Dwarf-nova outbursts: recurrence p[1] days with 30% jitter, duration p[3], amplitude p[2] mag
                // (Warner 1995, Cataclysmic Variable Stars, ch. 3).
                double rec = p[1], amp = p[2], dur = p[3];
                long k = (long)Math.Floor((mjd - p[4]) / rec);
                double dm = 0;
                for (long j = k - 1; j <= k; j++)
                {
                    double start = p[4] + j * rec + rec * 0.3 * (Unit((ulong)Key, (ulong)(j + 1_000_000)) - 0.5);
                    double dt = mjd - start;
                    if (dt < -0.5 || dt > dur + 20) continue;
                    double shape = dt < 0 ? 0 : dt < 1 ? dt : dt < dur ? 1 : Math.Exp(-(dt - dur) / 1.5);
                    dm = Math.Max(dm, amp * shape);
                }
                return SimulationEngine.FluxOfMag(p[0] + c - dm);
            }
            case ObjectClass.Nova:
            {
                // Fast rise (about 2 days), then a linear decline of 2 mag in t2 days (Payne-Gaposchkin 1957).
                double t0 = p[1], t2 = p[2], peak = p[0];
                double dt = mjd - t0;
                if (dt < -2) return 0;
                double m = dt < 0 ? peak + 4 * (-dt) : peak + 2 * dt / t2;
                return SimulationEngine.FluxOfMag(m + c);
            }
            default:
                return 0;
        }
    }

    /// <summary>
    /// Flare brightening in magnitudes at <paramref name="mjd"/>: flares recur every <paramref name="recurrence"/> days
    /// with 50% jitter, each present with probability 0.7 and of amplitude up to <paramref name="amp"/> mag, shape
    /// 1/(e^{-Δt/τr} + e^{Δt/τd}) normalised to 1 at its peak (Abdo et al. 2010, ApJ 722, 520, eq. 7).
    /// </summary>
    private double FlareMag(double mjd, double recurrence, double amp, double rise, double decay, double epoch)
    {
        long k = (long)Math.Floor((mjd - epoch) / recurrence);
        double dm = 0;
        // The peak of 1/(e^{-x/τr} + e^{x/τd}) is at x* = τr τd/(τr+τd) ln(τd/τr).
        double xPeak = rise * decay / (rise + decay) * Math.Log(decay / rise);
        double norm = 1 / (Math.Exp(-xPeak / rise) + Math.Exp(xPeak / decay));
        for (long j = k - 3; j <= k; j++)
        {
            ulong id = (ulong)(j + 2_000_000);
            if (Unit((ulong)Key, id) >= 0.7) continue;
            double peak = epoch + j * recurrence + recurrence * 0.5 * (Unit((ulong)Key, id + 5_000_000) - 0.5);
            double a = amp * (0.3 + 0.7 * Unit((ulong)Key, id + 9_000_000));
            double x = mjd - peak + xPeak;
            if (x < -8 * rise || x > 12 * decay) continue;
            double f = 1 / (Math.Exp(-x / rise) + Math.Exp(x / decay)) / norm;
            dm = Math.Max(dm, a * f);
        }
        return dm;
    }

    private static double PeakOfBazin(double rise, double fall)
    {
        // The maximum of exp(-t/τf)/(1+exp(-t/τr)) is at t = τr ln(τf/τr - 1) for τf > τr.
        double t = fall > rise * 1.01 ? rise * Math.Log(fall / rise - 1) : 0;
        return Math.Exp(-t / fall) / (1 + Math.Exp(-t / rise));
    }

    private double DrwAt(double mjd)
    {
        var g = DrwGrid!;
        double x = (mjd - DrwStartMjd) / 0.5;
        if (x <= 0) return g[0];
        if (x >= g.Length - 1) return g[^1];
        int i = (int)x;
        double f = x - i;
        return g[i] * (1 - f) + g[i + 1] * f;
    }

    private static double Frac(double x) => x - Math.Floor(x);

    private static double Unit(ulong a, ulong b) => SimRandom.ToUnit(SimRandom.Hash(0xC7, a, b));

    /// <summary>Builds the DRW on a 0.5-day grid with the exact Ornstein-Uhlenbeck update (Kelly et al. 2009 eq. A4).</summary>
    public static double[] DampedRandomWalk(ref SimRandom rng, int points, double tauDays, double sfInf)
    {
        var g = new double[points];
        double sigma = sfInf / Math.Sqrt(2);
        double a = Math.Exp(-0.5 / tauDays), s = sigma * Math.Sqrt(1 - a * a);
        g[0] = rng.Normal(0, sigma);
        for (int i = 1; i < points; i++) g[i] = a * g[i - 1] + s * rng.Gaussian();
        return g;
    }
}

/// <summary>Draws objects of each class with literature parameter ranges.</summary>
internal static class ObjectFactory
{
    /// <summary>
    /// Relative density of Galactic objects at latitude b: an exponential disc seen from inside, 0.3 + 3 exp(-|b|/12°),
    /// a rough fit to star counts to 20th magnitude (Bahcall and Soneira 1980).
    /// </summary>
    public static double StellarDensity(double bDeg) => 0.3 + 3 * Math.Exp(-Math.Abs(bDeg) / 12);

    /// <summary>Field stars per square arcminute to the survey depth (same latitude law, 1.5 per arcmin² at the poles for ZTF depth).</summary>
    public static double StarsPerArcmin2(double bDeg, double depth) => 1.5 / 0.3 * StellarDensity(bDeg) * 0.3 * Math.Pow(10, 0.25 * (depth - 20.7));

    /// <summary>Visibility of galaxies behind the Galactic dust: 1 - 0.9 exp(-|b|/8°).</summary>
    public static double ExtragalacticWeight(double bDeg) => 1 - 0.9 * Math.Exp(-Math.Abs(bDeg) / 8);

    /// <summary>
    /// Draws an object of class <paramref name="cls"/> from its key. With <paramref name="describe"/> false the
    /// parameter text for truth.csv is left empty (the population scan draws far more objects than alert).
    /// </summary>
    public static SkyObject Create(ulong seed, long key, SurveyField field, SurveyModel survey, double tMin, double tMax, ObjectClass cls, bool describe = true)
    {
        var rng = SimRandom.For(seed, 0x0B7EC7, (ulong)key);
        double ra = field.RaDeg, dec = field.DecDeg;
        (ra, dec) = Coordinates.Offset(ra, dec, rng.Uniform(-1, 1) * field.HalfWidthDeg * 3600 * 0.95, rng.Uniform(-1, 1) * field.HalfWidthDeg * 3600 * 0.95);
        double depth = survey.MedianDepth[Math.Min(2, survey.MedianDepth.Length - 1)];
        int nb = survey.Bands.Length;
        var color = new double[nb];
        double[] p;
        string text;
        // The parameter text is formatted only when describe is set: string.Create with an interpolated string
        // formats into a buffer (no FormattableString, no boxed arguments), and the whole expression is skipped otherwise.
        double hostMag = double.NaN, hostR = 0, hostOff = 0, q = 1, pa = 0, he = 0, hn = 0;
        double[]? drw = null;
        double drwStart = tMin - 5;
        // Apparent magnitudes near the limit dominate a flux-limited sample: N(<m) ∝ 10^(0.6 m) for a uniform
        // Euclidean population; draw m = mmax + log10(u)/0.6 (truncated at the bright end).
        double Euclid(double bright, double faint, double slope) => Math.Max(bright, faint + Math.Log10(rng.NextDouble() + 1e-12) / slope);
        // Pulsating variables (RR Lyrae, Cepheids, delta Scuti, LPVs) share one parameter layout:
        // mean magnitude, period, phase zero point, amplitude.
        (double[] P, string Text) Pulsator(double period, double amp, double meanMag, double colour, string periodFormat)
        {
            double[] parameters = [meanMag, period, rng.Uniform(0, period), amp];
            SetColors(color, survey, colour);
            return (parameters, describe ? string.Create(InvariantCulture, $"mean_mag={meanMag:F2};period_d={period.ToString(periodFormat, InvariantCulture)};amplitude={amp:F2}") : "");
        }
        switch (cls)
        {
            case ObjectClass.SNIa:
            case ObjectClass.SNIbc:
            case ObjectClass.SLSN:
            case ObjectClass.SNII:
            {
                double absPeak = cls switch { ObjectClass.SNIa => rng.Normal(-19.3, 0.3), ObjectClass.SNIbc => rng.Normal(-17.6, 0.6), ObjectClass.SNII => rng.Normal(-16.9, 0.8), _ => rng.Normal(-21.3, 0.5) };
                double mPeak = Euclid(14.5, depth + 0.8, 0.6);
                double mu = mPeak - absPeak;
                double dl = Math.Pow(10, mu / 5 - 5); // Mpc
                double z = Redshift(dl);
                double t0 = rng.Uniform(tMin - 40, tMax + 10);
                double rise = cls switch { ObjectClass.SNIa => rng.Uniform(2.5, 4.5), ObjectClass.SNIbc => rng.Uniform(2, 5), ObjectClass.SNII => rng.Uniform(1.5, 4), _ => rng.Uniform(12, 30) };
                double fall = cls switch { ObjectClass.SNIa => rng.Uniform(18, 30), ObjectClass.SNIbc => rng.Uniform(12, 22), ObjectClass.SNII => rng.Uniform(70, 110), _ => rng.Uniform(40, 90) };
                p = [mPeak, t0, rise, fall, z];
                // Colours at peak relative to r (g - r ≈ -0.1 for Ia, 0.1-0.3 for Ibc and II; SLSN blue).
                double gr = cls switch { ObjectClass.SNIa => -0.05, ObjectClass.SNIbc => 0.25, ObjectClass.SNII => 0.1, _ => -0.2 };
                SetColors(color, survey, gr);
                hostMag = mPeak + rng.Uniform(-1, 2.5) + (cls == ObjectClass.SLSN ? 3 : 0);
                hostR = Math.Clamp(rng.LogNormal(2.0, 0.5) / Math.Max(0.3, z * 20), 0.4, 8);
                q = rng.Uniform(0.35, 1);
                pa = rng.Uniform(0, 180);
                hostOff = Math.Abs(rng.Normal(0, hostR * 0.8));
                double ang = rng.Uniform(0, 2 * Math.PI);
                he = -hostOff * Math.Cos(ang);
                hn = -hostOff * Math.Sin(ang);
                text = !describe ? ""
                    : cls == ObjectClass.SNII ? string.Create(InvariantCulture, $"peak_mag={mPeak:F2};abs_peak={absPeak:F2};z={z:F4};t0_mjd={t0:F3};trise={rise:F2};plateau={fall:F1}")
                    : string.Create(InvariantCulture, $"peak_mag={mPeak:F2};abs_peak={absPeak:F2};z={z:F4};t0_mjd={t0:F3};trise={rise:F2};tfall={fall:F2}");
                break;
            }
            case ObjectClass.RRLyrae:
            {
                double period = rng.Uniform(0.45, 0.75), amp = rng.Uniform(0.5, 1.1);
                (p, text) = Pulsator(period, amp, Euclid(13.5, depth + 0.3, 0.35), 0.25, "F4");
                break;
            }
            case ObjectClass.Cepheid:
            {
                double period = rng.LogUniform(3, 50), amp = rng.Uniform(0.4, 1.0);
                (p, text) = Pulsator(period, amp, Euclid(12.5, depth - 1, 0.3), 0.6, "F3");
                break;
            }
            case ObjectClass.DeltaScuti:
            {
                double period = rng.LogUniform(0.03, 0.25), amp = rng.Uniform(0.1, 0.4);
                (p, text) = Pulsator(period, amp, Euclid(13, depth, 0.35), 0.15, "F5");
                break;
            }
            case ObjectClass.EclipsingBinary:
            {
                double period = rng.LogUniform(0.3, 10), d1 = rng.Uniform(0.3, 1.2), d2 = d1 * rng.Uniform(0.1, 0.8), w = rng.Uniform(0.02, 0.06);
                p = [Euclid(13, depth, 0.35), period, rng.Uniform(0, period), d1, d2, w];
                SetColors(color, survey, rng.Uniform(0.1, 0.8));
                text = describe ? string.Create(InvariantCulture, $"mean_mag={p[0]:F2};period_d={period:F4};depth1={d1:F2};depth2={d2:F2}") : "";
                break;
            }
            case ObjectClass.LPV:
            {
                double period = rng.Uniform(100, 500), amp = rng.Uniform(2.5, 6);
                (p, text) = Pulsator(period, amp, Euclid(11, depth - 1, 0.3), 1.4, "F1");
                break;
            }
            case ObjectClass.AGN:
            case ObjectClass.QSO:
            case ObjectClass.YSO:
            {
                double tau = cls == ObjectClass.YSO ? rng.Uniform(3, 20) : rng.LogUniform(100, 600);
                double sf = cls == ObjectClass.YSO ? rng.Uniform(0.4, 1.2) : rng.Uniform(0.15, 0.35);
                double mean = cls == ObjectClass.YSO ? Euclid(13, depth, 0.3) : Euclid(16, depth + 0.3, 0.6);
                int points = (int)((tMax - tMin + 10) / 0.5) + 4;
                drw = SkyObject.DampedRandomWalk(ref rng, points, tau, sf);
                p = [mean, tau, sf];
                SetColors(color, survey, cls == ObjectClass.YSO ? 1.0 : 0.2);
                if (cls == ObjectClass.AGN)
                {
                    hostMag = mean + rng.Uniform(-0.5, 1.5);
                    hostR = rng.Uniform(1.0, 3.5);
                    q = rng.Uniform(0.5, 1);
                    pa = rng.Uniform(0, 180);
                }
                text = describe ? string.Create(InvariantCulture, $"mean_mag={mean:F2};drw_tau_d={tau:F1};sf_inf={sf:F3}") : "";
                break;
            }
            case ObjectClass.Blazar:
            {
                // Ruan et al. 2012 (ApJ 760, 51): blazars' DRW SF_inf ≈ 0.3-1 mag with τ from days to months;
                // flares every 20-200 days, of 0.5-2 mag, rising in 1-5 days and decaying in 3-20.
                double tau = rng.LogUniform(5, 80), sf = rng.Uniform(0.35, 1.0);
                double mean = Euclid(15.5, depth + 0.5, 0.6);
                int points = (int)((tMax - tMin + 10) / 0.5) + 4;
                drw = SkyObject.DampedRandomWalk(ref rng, points, tau, sf);
                double rec = rng.LogUniform(20, 200), famp = rng.Uniform(0.5, 2.0), frise = rng.Uniform(1, 5), fdecay = rng.Uniform(3, 20);
                p = [mean, tau, sf, rec, famp, frise, fdecay, rng.Uniform(tMin - rec, tMin)];
                SetColors(color, survey, rng.Uniform(0.2, 0.6));
                text = describe ? string.Create(InvariantCulture, $"mean_mag={mean:F2};drw_tau_d={tau:F1};sf_inf={sf:F3};flare_recurrence_d={rec:F1};flare_amp={famp:F2}") : "";
                break;
            }
            case ObjectClass.PeriodicOther:
            {
                // Periods 0.5-50 days, amplitudes 0.05-0.6 mag (rotational and ellipsoidal variables are small, semi-regulars larger).
                double kind = rng.Next(3), period = rng.LogUniform(0.5, 50);
                double amp = kind == 2 ? rng.Uniform(0.2, 0.8) : rng.Uniform(0.08, 0.5);
                double mean = Euclid(13, depth, 0.35);
                p = [mean, period, rng.Uniform(0, period), amp, kind, rng.Uniform(0, 0.4), rng.Uniform(0, 2 * Math.PI), rng.Uniform(3, 10)];
                SetColors(color, survey, rng.Uniform(0.3, 1.2));
                text = describe ? string.Create(InvariantCulture, $"mean_mag={mean:F2};period_d={period:F4};amplitude={amp:F2};kind={(kind == 0 ? "rotational" : kind == 1 ? "ellipsoidal" : "semiregular")}") : "";
                break;
            }
            case ObjectClass.CV:
            {
                double rec = rng.LogUniform(10, 120), amp = rng.Uniform(2, 5), dur = rng.Uniform(3, 12);
                p = [Euclid(16, depth + 2, 0.35), rec, amp, dur, rng.Uniform(tMin - rec, tMin)];
                SetColors(color, survey, 0.1);
                text = describe ? string.Create(InvariantCulture, $"quiescent_mag={p[0]:F2};recurrence_d={rec:F1};outburst_amp={amp:F2};duration_d={dur:F1}") : "";
                break;
            }
            default: // Nova
            {
                double t2 = rng.LogUniform(5, 60);
                p = [Euclid(8, depth - 2, 0.35), rng.Uniform(tMin - 40, tMax), t2];
                SetColors(color, survey, 0.4);
                text = describe ? string.Create(InvariantCulture, $"peak_mag={p[0]:F2};t0_mjd={p[1]:F3};t2_d={t2:F1}") : "";
                break;
            }
        }
        return new SkyObject
        {
            Key = key, Class = cls, RaDeg = ra, DecDeg = dec, Parameters = p, ParameterText = text, Color = color,
            HostMag = hostMag, HostRadiusArcsec = hostR, HostOffsetArcsec = hostOff, HostAxisRatio = q, HostAngleDeg = pa,
            HostEastArcsec = he, HostNorthArcsec = hn, DrwGrid = drw, DrwStartMjd = drwStart,
        };
    }

    /// <summary>Colours relative to r from a g - r colour, with a smooth blackbody-like extension to ugizy.</summary>
    private static void SetColors(double[] color, SurveyModel survey, double gr)
    {
        if (survey.Kind == SurveyKind.Ztf)
        {
            color[0] = gr;
            color[1] = 0;
            return;
        }
        // u g r i z y offsets relative to r.
        color[0] = 2.2 * gr + 0.3;
        color[1] = gr;
        color[2] = 0;
        color[3] = -0.45 * gr - 0.05;
        color[4] = -0.75 * gr - 0.08;
        color[5] = -0.95 * gr - 0.1;
    }

    private static readonly double[] DlTable = BuildDlTable();

    private static double[] BuildDlTable()
    {
        var t = new double[2001];
        for (int i = 0; i < t.Length; i++) t[i] = LuminosityDistance(i * 0.0025);
        return t;
    }

    /// <summary>Redshift from luminosity distance (Mpc), flat ΛCDM H0 = 70, Ωm = 0.3: a table on z = 0..5 in steps of 0.0025, interpolated.</summary>
    public static double Redshift(double dlMpc)
    {
        var t = DlTable;
        if (dlMpc <= 0) return 0;
        int lo = 0, hi = t.Length - 1;
        if (dlMpc >= t[hi]) return 5;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) / 2;
            if (t[mid] < dlMpc) lo = mid;
            else hi = mid;
        }
        return (lo + (dlMpc - t[lo]) / (t[hi] - t[lo])) * 0.0025;
    }

    private static double LuminosityDistance(double z)
    {
        const int n = 32;
        double h = z / n, sum = 0;
        for (int i = 0; i <= n; i++)
        {
            double zi = i * h, e = 1 / Math.Sqrt(0.3 * Math.Pow(1 + zi, 3) + 0.7);
            sum += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * e;
        }
        return (1 + z) * 299792.458 / 70 * sum * h / 3;
    }

    
}
