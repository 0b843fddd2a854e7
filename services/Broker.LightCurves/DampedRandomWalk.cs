namespace Broker.LightCurves;

/// <summary>
/// Damped random walk (Ornstein-Uhlenbeck process) fit by maximum likelihood: ALeRCE's GP_DRW_sigma and GP_DRW_tau
/// (Sánchez-Sáez et al. 2021, table 2: a Gaussian process with kernel σ² exp(-|Δt|/τ), which they fit with celerite).
/// The likelihood is evaluated in O(N) by the Kalman-filter recursion of Kelly, Bechtold &amp; Siemiginowska 2009
/// (ApJ 698, 895, eqs. A4-A8; the Rybicki &amp; Press 1992/1995 recursion for an exponential covariance): with
/// a_i = exp(-(t_i - t_i-1)/τ), the prediction x̂_i = a_i x̂⁺_i-1, Ω_i = a_i² Ω⁺_i-1 + σ²(1 - a_i²), the innovation
/// variance Ω_i + δ_i², and ln L = -½ Σ [ln 2π(Ω_i + δ_i²) + (y_i - x̂_i)²/(Ω_i + δ_i²)].
/// </summary>
/// <remarks>
/// σ here is the process's stationary standard deviation, magnitudes (celerite's RealTerm a = σ², c = 1/τ; Kelly et
/// al.'s σ_K relates by σ² = σ_K² τ/2). y is the magnitude minus its error-weighted mean (the mean is not a free
/// parameter). The maximum is found by Nelder-Mead in (ln σ, ln τ) with a fixed budget of 120 likelihood evaluations,
/// τ kept within [0.01, 10⁵] days and σ within [10⁻⁴, 10] mag; fewer than 6 points give NaN.
/// </remarks>
internal static class DampedRandomWalk
{
    /// <summary>Fewest points fitted.</summary>
    public const int MinPoints = 6;

    private const int Evaluations = 120;
    private const double LnTauMin = -4.605170185988091, LnTauMax = 11.512925464970229; // ln 0.01, ln 1e5
    private const double LnSigmaMin = -9.210340371976182, LnSigmaMax = 2.302585092994046; // ln 1e-4, ln 10

    /// <summary>Fits; returns (σ, τ) or NaNs. <paramref name="scratch"/> needs n doubles.</summary>
    public static (double Sigma, double Tau) Fit(ReadOnlySpan<double> t, ReadOnlySpan<double> m, ReadOnlySpan<double> e, Span<double> scratch)
    {
        int n = m.Length;
        if (n < MinPoints) return (double.NaN, double.NaN);
        double wsum = 0, wm = 0;
        for (int i = 0; i < n; i++)
        {
            double w = 1 / (e[i] * e[i]);
            wsum += w;
            wm += w * m[i];
        }
        wm /= wsum;
        var y = scratch[..n];
        double var = 0;
        for (int i = 0; i < n; i++)
        {
            y[i] = m[i] - wm;
            var += y[i] * y[i];
        }
        var /= n;
        double span = t[n - 1] - t[0];
        if (!(var > 0) || !(span > 0)) return (double.NaN, double.NaN);

        // Simplex start: σ from the scatter, τ a tenth of the baseline.
        Span<double> xs = stackalloc double[6]; // three vertices (lnσ, lnτ)
        Span<double> fs = stackalloc double[3];
        double s0 = Math.Clamp(0.5 * Math.Log(var), LnSigmaMin, LnSigmaMax), t0 = Math.Clamp(Math.Log(span / 10), LnTauMin, LnTauMax);
        xs[0] = s0; xs[1] = t0;
        xs[2] = s0 + 0.5; xs[3] = t0;
        xs[4] = s0; xs[5] = t0 + 1.0;
        for (int v = 0; v < 3; v++) fs[v] = NegLogLikelihood(t, y, e, xs[2 * v], xs[2 * v + 1]);
        int evaluations = 3;
        while (evaluations < Evaluations)
        {
            // Order: best (lo), worst (hi), middle.
            int lo = 0, hi = 0;
            for (int v = 1; v < 3; v++)
            {
                if (fs[v] < fs[lo]) lo = v;
                if (fs[v] > fs[hi]) hi = v;
            }
            if (lo == hi) hi = (lo + 1) % 3;
            int mid = 3 - lo - hi;
            double cx = 0.5 * (xs[2 * lo] + xs[2 * mid]), cy = 0.5 * (xs[2 * lo + 1] + xs[2 * mid + 1]);
            double rx = Clamp(cx + (cx - xs[2 * hi]), true), ry = Clamp(cy + (cy - xs[2 * hi + 1]), false);
            double fr = NegLogLikelihood(t, y, e, rx, ry); evaluations++;
            if (fr < fs[lo])
            {
                double ex = Clamp(cx + 2 * (cx - xs[2 * hi]), true), ey = Clamp(cy + 2 * (cy - xs[2 * hi + 1]), false);
                double fe = NegLogLikelihood(t, y, e, ex, ey); evaluations++;
                if (fe < fr) Set(xs, fs, hi, ex, ey, fe);
                else Set(xs, fs, hi, rx, ry, fr);
            }
            else if (fr < fs[mid])
            {
                Set(xs, fs, hi, rx, ry, fr);
            }
            else
            {
                double kx = cx + 0.5 * (xs[2 * hi] - cx), ky = cy + 0.5 * (xs[2 * hi + 1] - cy);
                double fk = NegLogLikelihood(t, y, e, kx, ky); evaluations++;
                if (fk < fs[hi]) Set(xs, fs, hi, kx, ky, fk);
                else
                {
                    // Shrink towards the best vertex.
                    for (int v = 0; v < 3; v++)
                    {
                        if (v == lo) continue;
                        xs[2 * v] = xs[2 * lo] + 0.5 * (xs[2 * v] - xs[2 * lo]);
                        xs[2 * v + 1] = xs[2 * lo + 1] + 0.5 * (xs[2 * v + 1] - xs[2 * lo + 1]);
                        fs[v] = NegLogLikelihood(t, y, e, xs[2 * v], xs[2 * v + 1]); evaluations++;
                    }
                }
            }
        }
        int best = 0;
        for (int v = 1; v < 3; v++) if (fs[v] < fs[best]) best = v;
        if (!double.IsFinite(fs[best])) return (double.NaN, double.NaN);
        return (Math.Exp(xs[2 * best]), Math.Exp(xs[2 * best + 1]));
    }

    /// <summary>-ln L of the centred magnitudes <paramref name="y"/> for ln σ, ln τ (Kelly et al. 2009, eqs. A4-A8).</summary>
    public static double NegLogLikelihood(ReadOnlySpan<double> t, ReadOnlySpan<double> y, ReadOnlySpan<double> e, double lnSigma, double lnTau)
    {
        double v = Math.Exp(2 * lnSigma), tau = Math.Exp(lnTau);
        double xhat = 0, omega = v, nll = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (i > 0)
            {
                double a = Math.Exp(-(t[i] - t[i - 1]) / tau);
                xhat *= a;
                omega = a * a * omega + v * (1 - a * a);
            }
            double s = omega + e[i] * e[i];
            double r = y[i] - xhat;
            nll += 0.5 * (Math.Log(2 * Math.PI * s) + r * r / s);
            double gain = omega / s;
            xhat += gain * r;
            omega *= 1 - gain;
        }
        return nll;
    }

    private static double Clamp(double x, bool sigma) => sigma ? Math.Clamp(x, LnSigmaMin, LnSigmaMax) : Math.Clamp(x, LnTauMin, LnTauMax);

    private static void Set(Span<double> xs, Span<double> fs, int v, double x, double y, double f)
    {
        xs[2 * v] = x;
        xs[2 * v + 1] = y;
        fs[v] = f;
    }
}
