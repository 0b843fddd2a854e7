namespace Broker.LightCurves;

/// <summary>
/// ALeRCE's supernova parametric model (SPM; Sánchez-Sáez et al. 2021, AJ 161, 141, eq. 1, a variant of Villar et al.
/// 2019, ApJ 884, 83, eq. 1), fitted per band to the difference flux by a bounded Levenberg-Marquardt with a fixed
/// iteration budget:
/// <code>
/// F(t) = A / (1 + e^(-(t - t0)/τ_rise)) · [ (1 - σ(t)) (1 - β (t - t0)/γ) + σ(t) (1 - β) e^(-(t - t1)/τ_fall) ],
/// t1 = t0 + γ,  σ(t) = 1 / (1 + e^(-(t - t1)/3))
/// </code>
/// (the 1/3-day sigmoid joins the linear plateau decline to the exponential fall smoothly, as in ALeRCE).
/// </summary>
/// <remarks>
/// Units: t in days from the band's first detection, F and A in mJy (ALeRCE's mag_to_flux scale: nJy × 10⁻⁶). Bounds
/// (the ranges ALeRCE's published SPM values fill): A ∈ [0, 100 F_max], t0 ∈ [-50, 50], γ ∈ [1, 100], β ∈ [0, 1],
/// τ_rise ∈ [1, 100], τ_fall ∈ [1, 100]. SPM_chi is χ²/N of the best fit (ALeRCE: χ² of curve_fit's result per point).
/// Three starts (a short, a medium and a long plateau), 40 Levenberg-Marquardt iterations each, analytic Jacobian; the better fit
/// is kept. Needs 4 points and a positive maximum flux.
/// </remarks>
internal static class SupernovaModel
{
    /// <summary>Parameter count and output order: A, t0, gamma, beta, tau_rise, tau_fall.</summary>
    public const int ParameterCount = 6;

    /// <summary>Fewest points fitted.</summary>
    public const int MinPoints = 4;

    private const int Iterations = 40;
    private const int Starts = 3;
    private const double SigmoidScale = 3.0;

    /// <summary>The model at <paramref name="t"/> for parameters <paramref name="p"/> (A, t0, γ, β, τ_rise, τ_fall).</summary>
    public static double Evaluate(double t, ReadOnlySpan<double> p)
    {
        double a = p[0], t0 = p[1], gamma = p[2], beta = p[3], tauRise = p[4], tauFall = p[5];
        double u = t - t0;
        double v = u - gamma;
        double r = 1 / (1 + Math.Exp(Math.Min(-u / tauRise, 300)));
        double sg = 1 / (1 + Math.Exp(Math.Min(-v / SigmoidScale, 300)));
        double fall = (1 - beta) * Math.Exp(Math.Min(-v / tauFall, 300));
        double plateau = 1 - beta * u / gamma;
        return a * r * (sg * fall + (1 - sg) * plateau);
    }

    /// <summary>The model and its gradient with respect to the parameters (written to <paramref name="grad"/>).</summary>
    public static double EvaluateWithGradient(double t, ReadOnlySpan<double> p, Span<double> grad)
    {
        double a = p[0], t0 = p[1], gamma = p[2], beta = p[3], tauRise = p[4], tauFall = p[5];
        double u = t - t0;
        double v = u - gamma;
        double er = Math.Exp(Math.Min(-u / tauRise, 300));
        double r = 1 / (1 + er);
        double sg = 1 / (1 + Math.Exp(Math.Min(-v / SigmoidScale, 300)));
        double ef = Math.Exp(Math.Min(-v / tauFall, 300));
        double plateau = 1 - beta * u / gamma;
        double fall = (1 - beta) * ef;
        double h = sg * fall + (1 - sg) * plateau;
        double dsg = sg * (1 - sg) / SigmoidScale;        // dσ/dv
        double drdt0 = -r * (1 - r) / tauRise;             // ∂R/∂t0
        double drdTau = -r * r * er * u / (tauRise * tauRise);
        double dhdt0 = -dsg * (fall - plateau) + sg * (1 - beta) * ef / tauFall + (1 - sg) * beta / gamma;
        double dhdGamma = -dsg * (fall - plateau) + sg * (1 - beta) * ef / tauFall + (1 - sg) * beta * u / (gamma * gamma);
        double dhdBeta = -sg * ef - (1 - sg) * u / gamma;
        double dhdTauFall = sg * (1 - beta) * ef * v / (tauFall * tauFall);
        grad[0] = r * h;
        grad[1] = a * (drdt0 * h + r * dhdt0);
        grad[2] = a * r * dhdGamma;
        grad[3] = a * r * dhdBeta;
        grad[4] = a * drdTau * h;
        grad[5] = a * r * dhdTauFall;
        return a * r * h;
    }

    /// <summary>
    /// Fits the flux <paramref name="f"/> ± <paramref name="fe"/> (mJy) at times <paramref name="t"/> (days from the first
    /// point); writes the parameters to <paramref name="best"/> and returns χ²/N, or NaN when not fitted.
    /// </summary>
    public static double Fit(ReadOnlySpan<double> t, ReadOnlySpan<double> f, ReadOnlySpan<double> fe, Span<double> best)
    {
        best[..ParameterCount].Fill(double.NaN);
        int n = t.Length;
        if (n < MinPoints) return double.NaN;
        double fMax = double.NegativeInfinity, tPeak = 0;
        for (int i = 0; i < n; i++)
        {
            if (f[i] > fMax) { fMax = f[i]; tPeak = t[i]; }
        }
        if (!(fMax > 0)) return double.NaN;
        Span<double> lower = stackalloc double[ParameterCount];
        Span<double> upper = stackalloc double[ParameterCount];
        lower[0] = 0; lower[1] = -50; lower[2] = 1; lower[3] = 0; lower[4] = 1; lower[5] = 1;
        upper[0] = 100 * fMax; upper[1] = 50; upper[2] = 100; upper[3] = 1; upper[4] = 100; upper[5] = 100;
        Span<double> p = stackalloc double[ParameterCount];
        double bestChi2 = double.PositiveInfinity;
        for (int start = 0; start < Starts; start++)
        {
            // Starts: amplitude at the brightest point, half-rise a few days before it; a short, a medium and a long plateau.
            p[0] = fMax * 1.2;
            p[4] = 3;
            p[1] = Math.Clamp(tPeak - 2 * p[4], lower[1], upper[1]);
            p[2] = start switch { 0 => 5, 1 => 20, _ => 50 };
            p[3] = start switch { 0 => 0.3, 1 => 0.3, _ => 0.5 };
            p[5] = start switch { 0 => 30, 1 => 20, _ => 15 };
            double chi2 = LevenbergMarquardt(t, f, fe, p, lower, upper);
            if (chi2 < bestChi2)
            {
                bestChi2 = chi2;
                p.CopyTo(best);
            }
        }
        return double.IsFinite(bestChi2) ? bestChi2 / n : double.NaN;
    }

    private static double Chi2(ReadOnlySpan<double> t, ReadOnlySpan<double> f, ReadOnlySpan<double> fe, ReadOnlySpan<double> p)
    {
        double chi2 = 0;
        for (int i = 0; i < t.Length; i++)
        {
            double r = (f[i] - Evaluate(t[i], p)) / fe[i];
            chi2 += r * r;
        }
        return chi2;
    }

    private static double LevenbergMarquardt(ReadOnlySpan<double> t, ReadOnlySpan<double> f, ReadOnlySpan<double> fe, Span<double> p,
        ReadOnlySpan<double> lower, ReadOnlySpan<double> upper)
    {
        const int np = ParameterCount;
        Span<double> jtj = stackalloc double[np * np];
        Span<double> a = stackalloc double[np * np];
        Span<double> jtr = stackalloc double[np];
        Span<double> step = stackalloc double[np];
        Span<double> grad = stackalloc double[np];
        Span<double> trial = stackalloc double[np];
        double lambda = 1e-2;
        double chi2 = Chi2(t, f, fe, p);
        if (!double.IsFinite(chi2)) return double.PositiveInfinity;
        bool recompute = true;
        for (int it = 0; it < Iterations; it++)
        {
            if (recompute)
            {
                jtj.Clear();
                jtr.Clear();
                for (int i = 0; i < t.Length; i++)
                {
                    double model = EvaluateWithGradient(t[i], p, grad);
                    double w = 1 / (fe[i] * fe[i]);
                    double r = f[i] - model;
                    for (int j = 0; j < np; j++)
                    {
                        double wg = w * grad[j];
                        jtr[j] += wg * r;
                        for (int k = 0; k <= j; k++) jtj[j * np + k] += wg * grad[k];
                    }
                }
                for (int j = 0; j < np; j++)
                    for (int k = j + 1; k < np; k++) jtj[j * np + k] = jtj[k * np + j];
                recompute = false;
            }
            jtj.CopyTo(a);
            for (int j = 0; j < np; j++) a[j * np + j] += lambda * Math.Max(jtj[j * np + j], 1e-12);
            jtr.CopyTo(step);
            if (!Numerics.CholeskySolve(a, step, np)) { lambda *= 10; continue; }
            for (int j = 0; j < np; j++) trial[j] = Math.Clamp(p[j] + step[j], lower[j], upper[j]);
            double trialChi2 = Chi2(t, f, fe, trial);
            if (trialChi2 < chi2)
            {
                double gain = chi2 - trialChi2;
                trial.CopyTo(p);
                chi2 = trialChi2;
                lambda = Math.Max(lambda * 0.3, 1e-9);
                recompute = true;
                if (gain < 1e-7 * chi2) break; // converged: a relative χ² gain below 1e-7
            }
            else
            {
                lambda *= 4;
                if (lambda > 1e8) break; // no downhill step left
            }
        }
        return chi2;
    }
}
