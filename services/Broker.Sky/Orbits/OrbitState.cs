namespace Broker.Sky.Orbits;

/// <summary>
/// A heliocentric position and velocity in the ICRS-aligned equator of J2000 (au, au/day), at a time in MJD TDB.
/// Every propagator (two-body, N-body) works in this frame; elements published in the ecliptic of J2000 (MPC, SBDB)
/// are rotated into it once, when read.
/// </summary>
/// <param name="X">Position, au.</param>
/// <param name="Y">Position, au.</param>
/// <param name="Z">Position, au.</param>
/// <param name="Vx">Velocity, au/day.</param>
/// <param name="Vy">Velocity, au/day.</param>
/// <param name="Vz">Velocity, au/day.</param>
/// <param name="MjdTdb">The time of the state, MJD TDB.</param>
public readonly record struct OrbitState(double X, double Y, double Z, double Vx, double Vy, double Vz, double MjdTdb)
{
    /// <summary>Heliocentric distance, au.</summary>
    public double R => Math.Sqrt(X * X + Y * Y + Z * Z);

    /// <summary>The same state given in the ecliptic of J2000 (rotated into the equator).</summary>
    public static OrbitState FromEcliptic(double x, double y, double z, double vx, double vy, double vz, double mjdTdb)
    {
        var (px, py, pz) = Coordinates.EclipticToEquatorial(x, y, z);
        var (qx, qy, qz) = Coordinates.EclipticToEquatorial(vx, vy, vz);
        return new OrbitState(px, py, pz, qx, qy, qz, mjdTdb);
    }

    /// <summary>Its position and velocity in the ecliptic of J2000.</summary>
    public (double X, double Y, double Z, double Vx, double Vy, double Vz) ToEcliptic()
    {
        var (px, py, pz) = Coordinates.EquatorialToEcliptic(X, Y, Z);
        var (qx, qy, qz) = Coordinates.EquatorialToEcliptic(Vx, Vy, Vz);
        return (px, py, pz, qx, qy, qz);
    }
}

/// <summary>
/// Osculating heliocentric elements in the ecliptic and mean equinox of J2000, in the cometary form that covers every
/// conic: perihelion distance q, eccentricity e (elliptic below 1, parabolic at 1, hyperbolic above), inclination,
/// node, argument of perihelion and the time of perihelion passage. Angles in degrees, q in au, times MJD TDB.
/// </summary>
/// <param name="Q">Perihelion distance, au (positive).</param>
/// <param name="E">Eccentricity (non-negative).</param>
/// <param name="IDeg">Inclination to the ecliptic of J2000, degrees.</param>
/// <param name="NodeDeg">Longitude of the ascending node, degrees.</param>
/// <param name="PeriDeg">Argument of perihelion, degrees.</param>
/// <param name="PerihelionMjdTdb">Time of perihelion passage, MJD TDB.</param>
/// <param name="EpochMjdTdb">Epoch of osculation, MJD TDB (where the elements are exact; the N-body integration starts there).</param>
public sealed record CometaryElements(double Q, double E, double IDeg, double NodeDeg, double PeriDeg, double PerihelionMjdTdb, double EpochMjdTdb)
{
    /// <summary>The Sun's GM, au³/day²: the square of the Gaussian gravitational constant (IAU 1976).</summary>
    public const double SunGm = KeplerOrbit.GaussK * KeplerOrbit.GaussK;

    /// <summary>
    /// From Keplerian elements: semi-major axis a (au; negative for a hyperbola, as MPC and JPL write it), e, angles,
    /// and the mean anomaly M at the epoch; time of perihelion T = epoch - M / n with n = k / |a|^1.5.
    /// </summary>
    public static CometaryElements FromKeplerian(double a, double e, double iDeg, double nodeDeg, double periDeg, double meanAnomalyDeg, double epochMjdTdb)
    {
        double q = a * (1 - e);
        double n = KeplerOrbit.GaussK / Math.Pow(Math.Abs(a), 1.5);
        // An ellipse's M in (-180, 180] so the chosen perihelion is the nearest one to the epoch; a hyperbola's M is
        // not an angle (M = n (t - T) without wrapping).
        double m = (e < 1 ? Math.IEEERemainder(meanAnomalyDeg, 360) : meanAnomalyDeg) * Coordinates.DegToRad;
        return new CometaryElements(q, e, iDeg, nodeDeg, periDeg, epochMjdTdb - m / n, epochMjdTdb);
    }

    /// <summary>
    /// The heliocentric state at <see cref="EpochMjdTdb"/>: the perihelion state (on the conic's axis, speed
    /// √(μ(1+e)/q)) propagated by the universal-variable solution over epoch - T.
    /// </summary>
    public OrbitState StateAtEpoch()
    {
        var ((px, py, pz), (qx, qy, qz)) = PerifocalAxes(IDeg, NodeDeg, PeriDeg);
        double v = Math.Sqrt(SunGm * (1 + E) / Q);
        var perihelion = OrbitState.FromEcliptic(Q * px, Q * py, Q * pz, v * qx, v * qy, v * qz, PerihelionMjdTdb);
        return UniversalKepler.Propagate(perihelion, EpochMjdTdb, SunGm);
    }

    /// <summary>
    /// The perifocal unit vectors in the ecliptic frame: P towards perihelion and Q 90° ahead in the direction of motion,
    /// the columns of Rz(Ω) Rx(i) Rz(ω) (Murray &amp; Dermott 1999, eq. 2.122). Every element-to-state conversion uses them.
    /// </summary>
    public static ((double X, double Y, double Z) P, (double X, double Y, double Z) Q) PerifocalAxes(double iDeg, double nodeDeg, double periDeg)
    {
        double w = periDeg * Coordinates.DegToRad, o = nodeDeg * Coordinates.DegToRad, inc = iDeg * Coordinates.DegToRad;
        double cw = Math.Cos(w), sw = Math.Sin(w), co = Math.Cos(o), so = Math.Sin(o), ci = Math.Cos(inc), si = Math.Sin(inc);
        return ((co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si), (-co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si));
    }
}

/// <summary>
/// Two-body motion by universal variables (Battin 1987, §4.5; Vallado 2013, Algorithm 8): one formulation for the
/// ellipse, parabola and hyperbola, so a comet or 1I/'Oumuamua propagates as an asteroid does.
/// </summary>
public static class UniversalKepler
{
    /// <summary>The state of a body moving under the gravity of one mass <paramref name="gm"/> (au³/day²), at <paramref name="toMjdTdb"/>.</summary>
    /// <exception cref="ArithmeticException">The solution did not converge (a degenerate state: zero position).</exception>
    public static OrbitState Propagate(in OrbitState state, double toMjdTdb, double gm = CometaryElements.SunGm)
    {
        double dt = toMjdTdb - state.MjdTdb;
        if (dt == 0) return state;
        double r0 = state.R;
        if (!(r0 > 0)) throw new ArithmeticException("universal Kepler propagation of a state at the origin");
        double sqrtMu = Math.Sqrt(gm);
        double rv = state.X * state.Vx + state.Y * state.Vy + state.Z * state.Vz;
        double v2 = state.Vx * state.Vx + state.Vy * state.Vy + state.Vz * state.Vz;
        double alpha = 2 / r0 - v2 / gm; // 1/a: positive for an ellipse, zero for a parabola, negative for a hyperbola
        double sigma0 = rv / sqrtMu;

        // Laguerre's method on the universal Kepler equation F(χ) = σ0 χ² C(αχ²) + (1 - α r0) χ³ S(αχ²) + r0 χ - √μ Δt
        // (Conway 1986, Celest. Mech. 39, 199): unlike Newton's it converges from a rough start for every conic,
        // including nearly parabolic comets with a ~ 10^5 au (Newton from the elliptic guess χ = √μ Δt α crawls there).
        // F' is the radius r; F'' = σ0 (1 - ψC) + (1 - α r0) χ (1 - ψS).
        const double order = 5;
        double chi;
        if (alpha * r0 > 1e-3) chi = sqrtMu * dt * alpha; // ellipse: χ = √a E-difference, first guess from the mean motion
        else if (alpha * r0 < -1e-3)
        {
            // Hyperbola (Vallado 2013, Algorithm 8): χ ≈ sign(Δt) √(-a) ln(-2μαΔt / (r·v + sign(Δt) √(-μa) (1 - r0 α))).
            double a = 1 / alpha;
            double arg = -2 * gm * alpha * dt / (rv + Math.Sign(dt) * Math.Sqrt(-gm * a) * (1 - r0 * alpha));
            chi = arg > 0 ? Math.Sign(dt) * Math.Sqrt(-a) * Math.Log(arg) : sqrtMu * dt / r0;
        }
        else chi = sqrtMu * dt / r0; // nearly parabolic
        double c = 0, s = 0, r = r0;
        bool converged = false;
        for (int iteration = 0; iteration < 200; iteration++)
        {
            double psi = alpha * chi * chi;
            (c, s) = Stumpff(psi);
            double chi2 = chi * chi;
            double f = sigma0 * chi2 * c + (1 - alpha * r0) * chi2 * chi * s + r0 * chi - sqrtMu * dt;
            r = sigma0 * chi * (1 - psi * s) + (1 - alpha * r0) * chi2 * c + r0;
            double fpp = sigma0 * (1 - psi * c) + (1 - alpha * r0) * chi * (1 - psi * s);
            double root = Math.Sqrt(Math.Abs((order - 1) * (order - 1) * r * r - order * (order - 1) * f * fpp));
            double step = order * f / (r + Math.Sign(r) * root);
            chi -= step;
            if (Math.Abs(step) <= 1e-13 * Math.Max(1, Math.Abs(chi)))
            {
                psi = alpha * chi * chi;
                (c, s) = Stumpff(psi);
                chi2 = chi * chi;
                r = sigma0 * chi * (1 - psi * s) + (1 - alpha * r0) * chi2 * c + r0;
                converged = true;
                break;
            }
        }
        if (!converged || !(r > 0)) throw new ArithmeticException($"universal Kepler propagation did not converge over {dt} days");

        double chiSq = chi * chi;
        // Lagrange coefficients f, g and their derivatives (Battin 1987, eq. 4.84).
        double fl = 1 - chiSq / r0 * c;
        double gl = dt - chiSq * chi / sqrtMu * s;
        double fdot = sqrtMu / (r * r0) * chi * (alpha * chiSq * s - 1);
        double gdot = 1 - chiSq / r * c;
        return new OrbitState(
            fl * state.X + gl * state.Vx, fl * state.Y + gl * state.Vy, fl * state.Z + gl * state.Vz,
            fdot * state.X + gdot * state.Vx, fdot * state.Y + gdot * state.Vy, fdot * state.Z + gdot * state.Vz,
            toMjdTdb);
    }

    /// <summary>Stumpff functions C(ψ) = (1 - cos √ψ)/ψ and S(ψ) = (√ψ - sin √ψ)/ψ^1.5, by their series for |ψ| &lt; 1.</summary>
    /// <remarks>
    /// The closed forms lose digits as ψ → 0 (1 - cos √ψ cancels: at ψ = 1e-5, 11 digits), which is where nearly parabolic
    /// orbits live, so below |ψ| = 1 the series C = Σ (-ψ)^k / (2k+2)!, S = Σ (-ψ)^k / (2k+3)! is summed instead; twelve
    /// terms reach 1e-17 at |ψ| = 1.
    /// </remarks>
    public static (double C, double S) Stumpff(double psi)
    {
        if (psi >= 1)
        {
            double sq = Math.Sqrt(psi);
            return ((1 - Math.Cos(sq)) / psi, (sq - Math.Sin(sq)) / (psi * sq));
        }
        if (psi <= -1)
        {
            double sq = Math.Sqrt(-psi);
            return ((1 - Math.Cosh(sq)) / psi, (Math.Sinh(sq) - sq) / (-psi * sq));
        }
        double c = 0, s = 0, termC = 0.5, termS = 1.0 / 6;
        for (int k = 0; k < 12; k++)
        {
            c += termC;
            s += termS;
            termC *= -psi / ((2 * k + 3) * (2 * k + 4));
            termS *= -psi / ((2 * k + 4) * (2 * k + 5));
        }
        return (c, s);
    }
}

/// <summary>What an ephemeris reads a body's heliocentric state from: two-body motion or an N-body integration.</summary>
public interface IHeliocentricMotion
{
    /// <summary>The body's heliocentric equatorial state at <paramref name="mjdTdb"/>.</summary>
    OrbitState StateAt(double mjdTdb);
}

/// <summary>Two-body (Keplerian) motion from a state at the epoch, by universal variables: what association screens every orbit with.</summary>
/// <param name="Epoch">The state at the orbit's epoch.</param>
public sealed record TwoBodyMotion(OrbitState Epoch) : IHeliocentricMotion
{
    /// <summary>From cometary elements.</summary>
    public TwoBodyMotion(CometaryElements elements) : this((elements ?? throw new ArgumentNullException(nameof(elements))).StateAtEpoch())
    {
    }

    /// <inheritdoc />
    public OrbitState StateAt(double mjdTdb) => UniversalKepler.Propagate(Epoch, mjdTdb);
}

/// <summary>A known solar-system object's orbit, as read from any orbit source (MPCORB, SBDB, MPC comets, Rubin's <c>mpc_orbits</c>, CSV).</summary>
/// <param name="Designation">
/// The MPC number when numbered ("4826"), else the unpacked provisional designation with its space ("2004 JQ12"), or a
/// comet's ("C/1995 O1", "1P"). Designations.Key compares it with what surveys write.
/// </param>
/// <param name="Name">The full name as the source gives it ("1 Ceres (A801 AA)"); the designation when it gives none.</param>
/// <param name="Elements">Osculating heliocentric ecliptic J2000 elements.</param>
/// <param name="H">Absolute magnitude (asteroids' H; NaN when unknown).</param>
/// <param name="G">Slope parameter (0.15 when the source gives none).</param>
/// <param name="Source">Where the orbit came from (<c>MPCORB</c>, <c>JPL SBDB</c>, <c>MPC comets</c>, <c>Rubin mpc_orbits</c>, <c>CSV</c>), for the ephemeris source of an association.</param>
public sealed record SolarSystemOrbit(string Designation, string Name, CometaryElements Elements, double H, double G, string Source);
