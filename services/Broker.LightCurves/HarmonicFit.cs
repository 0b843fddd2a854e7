namespace Broker.LightCurves;

/// <summary>
/// Fourier series at a given period, fitted by weighted least squares (weights 1/σ²):
/// m(t) = c + Σ_k a_k cos(kωt) + b_k sin(kωt), k = 1..K, as ALeRCE's Harmonics features (Sánchez-Sáez et al. 2021,
/// table 2; the FATS "Freq1_harmonics" of Richards et al. 2011, ApJ 733, 10, eq. 2-4). Reported: amplitudes
/// A_k = √(a_k² + b_k²), phases relative to the first harmonic φ'_k = (φ_k - kφ_1) mod 2π with
/// φ_k = atan2(b_k, a_k) (so a time shift leaves them unchanged), and the mean squared residual, mag².
/// </summary>
/// <remarks>
/// ALeRCE always fits 7 harmonics, which on fewer than 15 points is underdetermined (numpy's least squares then gives
/// the minimum-norm solution: a perfect fit with huge amplitudes, Harmonics_mse ~1e-28 in its own tables). Here
/// K = min(7, ⌊(N-3)/2⌋), leaving at least two degrees of freedom, and the harmonics above K are NaN; fewer than 5
/// points give no fit.
/// </remarks>
internal static class HarmonicFit
{
    /// <summary>Most harmonics fitted.</summary>
    public const int MaxHarmonics = 7;

    /// <summary>Output: [0..7) amplitudes, [7..13) relative phases of harmonics 2..7, [13] mse.</summary>
    public const int OutputLength = 2 * MaxHarmonics;

    /// <summary>Fits and writes <see cref="OutputLength"/> values (NaN where not fitted).</summary>
    public static void Compute(ReadOnlySpan<double> t, ReadOnlySpan<double> m, ReadOnlySpan<double> e, double frequency, Span<double> output)
    {
        output[..OutputLength].Fill(double.NaN);
        int n = m.Length;
        int k = Math.Min(MaxHarmonics, (n - 3) / 2);
        if (k < 1 || !(frequency > 0) || !double.IsFinite(frequency)) return;
        int np = 2 * k + 1;
        Span<double> a = stackalloc double[np * np];
        Span<double> rhs = stackalloc double[np];
        Span<double> row = stackalloc double[np];
        a.Clear();
        rhs.Clear();
        double omega = 2 * Math.PI * frequency;
        double t0 = t[0];
        for (int i = 0; i < n; i++)
        {
            FillRow(row, omega * (t[i] - t0), k);
            double w = 1 / (e[i] * e[i]);
            for (int r = 0; r < np; r++)
            {
                double wr = w * row[r];
                rhs[r] += wr * m[i];
                for (int c = 0; c <= r; c++) a[r * np + c] += wr * row[c];
            }
        }
        for (int r = 0; r < np; r++)
            for (int c = r + 1; c < np; c++) a[r * np + c] = a[c * np + r];
        if (!Numerics.CholeskySolve(a, rhs, np)) return;

        double sq = 0;
        for (int i = 0; i < n; i++)
        {
            FillRow(row, omega * (t[i] - t0), k);
            double model = 0;
            for (int r = 0; r < np; r++) model += row[r] * rhs[r];
            sq += (m[i] - model) * (m[i] - model);
        }
        double phase1 = Math.Atan2(rhs[2], rhs[1]);
        for (int h = 1; h <= k; h++)
        {
            double ca = rhs[2 * h - 1], sb = rhs[2 * h];
            output[h - 1] = Math.Sqrt(ca * ca + sb * sb);
            if (h >= 2)
            {
                double rel = Math.Atan2(sb, ca) - h * phase1;
                rel %= 2 * Math.PI;
                if (rel < 0) rel += 2 * Math.PI;
                output[MaxHarmonics + h - 2] = rel;
            }
        }
        output[OutputLength - 1] = sq / n;
    }

    private static void FillRow(Span<double> row, double phase, int k)
    {
        // cos(hθ), sin(hθ) by the angle-addition recurrence from cos θ, sin θ.
        (double s1, double c1) = Math.SinCos(phase);
        row[0] = 1;
        double c = c1, s = s1;
        for (int h = 1; h <= k; h++)
        {
            row[2 * h - 1] = c;
            row[2 * h] = s;
            double cn = c * c1 - s * s1;
            s = s * c1 + c * s1;
            c = cn;
        }
    }
}
