namespace Broker.Sky.Orbits;

/// <summary>Settings of an <see cref="NBodyMotion"/> integration.</summary>
/// <param name="RelativeTolerance">
/// Per-step error bound relative to |r| and |v| (Bulirsch-Stoer extrapolation error estimate). 1e-12 keeps the
/// accumulated error of a ten-year integration at about 1e-9 au, 0.0002" at 1 au.
/// </param>
/// <param name="GeneralRelativity">Add the Sun's first post-Newtonian (Schwarzschild) term, which moves perihelia of NEOs by arcseconds a century.</param>
/// <param name="Planets">Where planet positions come from; null: <see cref="PlanetPositions.Default"/> (VSOP87 from kstars-data).</param>
public sealed record NBodyOptions(double RelativeTolerance = 1e-12, bool GeneralRelativity = true, PlanetPositions? Planets = null);

/// <summary>
/// Heliocentric motion of a massless body in the field of the Sun and the eight planets, integrated numerically from
/// a state at the epoch, forward or backward. Equation of motion in heliocentric coordinates (the indirect term is
/// the Sun's acceleration towards each planet; Murray &amp; Dermott 1999, Solar System Dynamics, eq. 6.7):
/// r̈ = -μ☉ r/r³ + Σ μ_i [(r_i - r)/|r_i - r|³ - r_i/r_i³] (+ the Sun's 1PN term,
/// μ☉/(c² r³) [(4μ☉/r - v²) r + 4 (r·v) v], as in Anderson et al. 1975 and the Explanatory Supplement 3rd ed. §8.3).
/// GMs are JPL DE440's (Park et al. 2021, AJ 161, 105); planet positions are VSOP87 and the Moon's ERFA eraMoon98
/// (<see cref="PlanetPositions"/>); without liberfa the Earth-Moon system's GM is placed at the Earth.
/// The integrator is Bulirsch-Stoer: Gragg's modified midpoint rule with polynomial extrapolation to zero step
/// (Stoer &amp; Bulirsch, Introduction to Numerical Analysis, §7.2.14; Hairer, Nørsett &amp; Wanner, Solving ODEs I,
/// §II.9), step sequence 2, 4, 6, ... (Deuflhard 1983), adaptive step size. Every accepted step is kept, so a state
/// at any time is one short step from the nearest kept one: many times in one night cost one integration.
/// Thread-safe.
/// </summary>
public sealed class NBodyMotion : IHeliocentricMotion
{
    /// <summary>The Sun's GM, au³/day² (DE440).</summary>
    public const double SunGm = 2.9591220828411956e-04;

    /// <summary>GMs of Mercury ... Neptune (planetary systems; the Earth's includes the Moon), au³/day², DE440.</summary>
    public static readonly IReadOnlyList<double> PlanetGm =
    [
        4.912500194889318e-11, 7.243452332644119e-10, 8.997011392947347e-10, 9.549548829725812e-11,
        2.825345825225792e-07, 8.45970599337629e-08, 1.29202656496824e-08, 1.524357347885194e-08,
    ];

    private static readonly int[] Sequence = [2, 4, 6, 8, 10, 12, 14, 16];
    private const double MaxStepDays = 64;
    private const int MaxSteps = 2_000_000;

    /// <summary>DE440's Earth/Moon mass ratio, which splits the Earth-Moon system's GM between the two.</summary>
    public const double EarthMoonMassRatio = 81.30056822149722;

    private readonly double[] gm;
    private readonly NBodyOptions options;
    private readonly PlanetPositions planets;
    private readonly object gate = new();
    private readonly List<Checkpoint> forward = [];
    private readonly List<Checkpoint> backward = [];

    private readonly record struct Checkpoint(double T, double[] Y, double NextStep);

    /// <summary>Motion from a heliocentric state (the orbit's osculating state at its epoch).</summary>
    public NBodyMotion(OrbitState epochState, NBodyOptions? options = null)
    {
        this.options = options ?? new NBodyOptions();
        if (!(this.options.RelativeTolerance > 0)) throw new ArgumentOutOfRangeException(nameof(options), "RelativeTolerance must be positive");
        planets = this.options.Planets ?? PlanetPositions.Default;
        // With the Moon (eraMoon98) the Earth and the Moon are separate bodies; without it, the system's mass sits at the Earth.
        gm = [.. PlanetGm, 0];
        if (PlanetPositions.HasMoon)
        {
            gm[2] = PlanetGm[2] * EarthMoonMassRatio / (1 + EarthMoonMassRatio);
            gm[8] = PlanetGm[2] / (1 + EarthMoonMassRatio);
        }
        Epoch = epochState;
        double[] y = [epochState.X, epochState.Y, epochState.Z, epochState.Vx, epochState.Vy, epochState.Vz];
        if (!(epochState.R > 0) || y.Any(v => !double.IsFinite(v))) throw new ArgumentException("the epoch state must be finite and away from the Sun", nameof(epochState));
        // First step: a fiftieth of the osculating "circular period" at r, within [0.01, 20] days.
        double h = Math.Clamp(0.02 * 2 * Math.PI * Math.Sqrt(Math.Pow(epochState.R, 3) / SunGm), 0.01, 20);
        forward.Add(new Checkpoint(epochState.MjdTdb, y, h));
        backward.Add(new Checkpoint(epochState.MjdTdb, y, -h));
    }

    /// <summary>Motion from cometary elements (their state at the epoch).</summary>
    public NBodyMotion(CometaryElements elements, NBodyOptions? options = null)
        : this((elements ?? throw new ArgumentNullException(nameof(elements))).StateAtEpoch(), options)
    {
    }

    /// <summary>The state the integration starts from.</summary>
    public OrbitState Epoch { get; }

    /// <summary>How many steps have been kept so far (forward and backward).</summary>
    public int StepCount { get { lock (gate) return forward.Count + backward.Count - 2; } }

    /// <inheritdoc />
    /// <exception cref="ArithmeticException">The integration failed (a collision with the Sun or a planet, or runaway step halving).</exception>
    public OrbitState StateAt(double mjdTdb)
    {
        if (!double.IsFinite(mjdTdb)) throw new ArgumentOutOfRangeException(nameof(mjdTdb), "time must be finite");
        if (mjdTdb == Epoch.MjdTdb) return Epoch;
        lock (gate)
        {
            double direction = mjdTdb > Epoch.MjdTdb ? 1 : -1;
            var steps = direction > 0 ? forward : backward;
            while (direction * (steps[^1].T - mjdTdb) < 0)
            {
                if (steps.Count > MaxSteps) throw new ArithmeticException($"N-body integration took over {MaxSteps} steps");
                var last = steps[^1];
                var y = new double[6];
                double h = last.NextStep;
                double next = Advance(last.T, last.Y, ref h, y);
                steps.Add(new Checkpoint(last.T + h, y, next));
            }
            // The last kept state not past the requested time, then one short step to it.
            int lo = 0, hi = steps.Count - 1;
            while (lo < hi)
            {
                int mid = (lo + hi + 1) / 2;
                if (direction * (steps[mid].T - mjdTdb) <= 0) lo = mid; else hi = mid - 1;
            }
            var from = steps[lo];
            if (from.T == mjdTdb) return ToState(from.Y, mjdTdb);
            double t = from.T;
            var state = from.Y.ToArray();
            var output = new double[6];
            int guard = 0;
            while (t != mjdTdb)
            {
                if (++guard > 10_000) throw new ArithmeticException("N-body interpolation step did not converge");
                double h = mjdTdb - t;
                double trial = h;
                Advance(t, state, ref trial, output);
                // Advance may shrink the step; take what it did.
                t = Math.Abs(trial - h) == 0 ? mjdTdb : t + trial;
                (state, output) = (output, state);
            }
            return ToState(state, mjdTdb);
        }
    }

    private static OrbitState ToState(double[] y, double t) => new(y[0], y[1], y[2], y[3], y[4], y[5], t);

    /// <summary>
    /// One accepted Bulirsch-Stoer step from (t, y): tries <paramref name="h"/>, shrinking it until the extrapolation
    /// converges; on return <paramref name="h"/> is the step taken and the result is the suggested next step.
    /// </summary>
    private double Advance(double t, double[] y, ref double h, double[] result)
    {
        h = Math.Sign(h) * Math.Min(Math.Abs(h), MaxStepDays);
        for (int attempt = 0; attempt < 60; attempt++)
        {
            int k = TryStep(t, y, h, result);
            if (k >= 0)
            {
                // Converged at column k (0-based in Sequence): aim for convergence around column 5.
                double grow = k switch { <= 2 => 2.0, 3 => 1.6, 4 => 1.25, 5 => 1.0, 6 => 0.8, _ => 0.6 };
                return h * grow;
            }
            h *= 0.35;
            if (Math.Abs(h) < 1e-9) break;
        }
        throw new ArithmeticException($"N-body step size underflow at MJD {t}: the body collided or the state is degenerate");
    }

    /// <summary>Modified midpoint sequences and Aitken-Neville extrapolation in h²; the converged column, or -1.</summary>
    private int TryStep(double t, double[] y0, double bigH, double[] result)
    {
        int rows = Sequence.Length;
        // T[k][j] (k, j < rows) of 6 values each: T[k][0] the midpoint result with n_k substeps,
        // T[k][j] = T[k][j-1] + (T[k][j-1] - T[k-1][j-1]) / ((n_k / n_{k-j})² - 1).
        Span<double> table = stackalloc double[rows * rows * 6];
        Span<double> f0 = stackalloc double[6];
        Span<double> zPrev = stackalloc double[6];
        Span<double> z = stackalloc double[6];
        Span<double> f = stackalloc double[6];
        Derivative(t, y0, f0);
        double rScale = Math.Sqrt(y0[0] * y0[0] + y0[1] * y0[1] + y0[2] * y0[2]);
        double vScale = Math.Sqrt(y0[3] * y0[3] + y0[4] * y0[4] + y0[5] * y0[5]);
        double tol = options.RelativeTolerance;
        for (int k = 0; k < rows; k++)
        {
            int n = Sequence[k];
            double h = bigH / n;
            // Gragg: z0 = y0, z1 = z0 + h f(z0), z_{m+1} = z_{m-1} + 2h f(z_m), then the smoothed end value
            // (z_n + z_{n-1} + h f(z_n)) / 2.
            for (int i = 0; i < 6; i++) { zPrev[i] = y0[i]; z[i] = y0[i] + h * f0[i]; }
            for (int m = 1; m < n; m++)
            {
                Derivative(t + m * h, z, f);
                for (int i = 0; i < 6; i++)
                {
                    double next = zPrev[i] + 2 * h * f[i];
                    zPrev[i] = z[i];
                    z[i] = next;
                }
            }
            Derivative(t + bigH, z, f);
            var t0 = table.Slice((k * rows) * 6, 6);
            for (int i = 0; i < 6; i++) t0[i] = 0.5 * (z[i] + zPrev[i] + h * f[i]);
            for (int j = 1; j <= k; j++)
            {
                var left = table.Slice((k * rows + j - 1) * 6, 6);
                var upper = table.Slice(((k - 1) * rows + j - 1) * 6, 6);
                var cell = table.Slice((k * rows + j) * 6, 6);
                double ratio = (double)Sequence[k] / Sequence[k - j];
                double denominator = ratio * ratio - 1;
                for (int i = 0; i < 6; i++) cell[i] = left[i] + (left[i] - upper[i]) / denominator;
            }
            if (k < 2) continue;
            var best = table.Slice((k * rows + k) * 6, 6);
            var second = table.Slice((k * rows + k - 1) * 6, 6);
            double dr = 0, dv = 0;
            for (int i = 0; i < 3; i++) { double d = best[i] - second[i]; dr += d * d; }
            for (int i = 3; i < 6; i++) { double d = best[i] - second[i]; dv += d * d; }
            double error = Math.Max(Math.Sqrt(dr) / (tol * rScale), Math.Sqrt(dv) / (tol * vScale + 1e-300));
            if (error <= 1)
            {
                best.CopyTo(result);
                return k;
            }
        }
        return -1;
    }

    private void Derivative(double t, ReadOnlySpan<double> y, Span<double> dy)
    {
        Span<double> p = stackalloc double[27];
        planets.AtWithMoon(t, p);
        double x = y[0], yy = y[1], z = y[2];
        double r2 = x * x + yy * yy + z * z, r = Math.Sqrt(r2), r3 = r2 * r;
        double ax = -SunGm * x / r3, ay = -SunGm * yy / r3, az = -SunGm * z / r3;
        for (int i = 0; i < 9; i++)
        {
            if (gm[i] == 0) continue;
            double px = p[3 * i], py = p[3 * i + 1], pz = p[3 * i + 2];
            double dx = px - x, dyy = py - yy, dz = pz - z;
            double d2 = dx * dx + dyy * dyy + dz * dz, d3 = d2 * Math.Sqrt(d2);
            double p2 = px * px + py * py + pz * pz, p3 = p2 * Math.Sqrt(p2);
            ax += gm[i] * (dx / d3 - px / p3);
            ay += gm[i] * (dyy / d3 - py / p3);
            az += gm[i] * (dz / d3 - pz / p3);
        }
        double vx = y[3], vy = y[4], vz = y[5];
        if (options.GeneralRelativity)
        {
            const double c2 = Ephemerides.SpeedOfLightAuPerDay * Ephemerides.SpeedOfLightAuPerDay;
            double v2 = vx * vx + vy * vy + vz * vz, rv = x * vx + yy * vy + z * vz;
            double factor = SunGm / (c2 * r3), radial = 4 * SunGm / r - v2;
            ax += factor * (radial * x + 4 * rv * vx);
            ay += factor * (radial * yy + 4 * rv * vy);
            az += factor * (radial * z + 4 * rv * vz);
        }
        dy[0] = vx; dy[1] = vy; dy[2] = vz; dy[3] = ax; dy[4] = ay; dy[5] = az;
    }
}
