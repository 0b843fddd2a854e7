namespace Broker.LightCurves;

/// <summary>Small numerical helpers the features share (order statistics, special functions, a dense solver).</summary>
internal static class Numerics
{
    /// <summary>
    /// The <paramref name="percent"/> percentile of an ascending <paramref name="sorted"/> span with numpy's default
    /// ("linear") interpolation: position p/100·(n-1) between neighbours, as FATS/turbofats compute Q31 and Gskew.
    /// </summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double percent)
    {
        int n = sorted.Length;
        if (n == 0) return double.NaN;
        double pos = percent / 100.0 * (n - 1);
        int lo = (int)Math.Floor(pos);
        if (lo >= n - 1) return sorted[n - 1];
        double frac = pos - lo;
        return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
    }

    /// <summary>Median of an ascending span.</summary>
    public static double Median(ReadOnlySpan<double> sorted) => Percentile(sorted, 50);

    /// <summary>
    /// Complementary error function, fractional error below 1.2e-7 everywhere (Chebyshev fit, Press et al.,
    /// Numerical Recipes 2nd ed. §6.2, <c>erfcc</c>); enough for the Anderson-Darling statistic, which only needs log Φ.
    /// </summary>
    public static double Erfc(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2.0 - r;
    }

    /// <summary>Standard normal CDF Φ(x) = erfc(-x/√2)/2.</summary>
    public static double NormalCdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    /// <summary>ln Γ(x), x &gt; 0 (Lanczos, g=7, 9 terms; relative error ~1e-15).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        ReadOnlySpan<double> c =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        double a = c[0];
        double t = x + 7.5;
        for (int i = 1; i < 9; i++) a += c[i] / (x + i);
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(a);
    }

    /// <summary>
    /// Solves the symmetric positive-definite system <paramref name="a"/>·x = <paramref name="b"/> (n×n, row-major)
    /// in place by Cholesky; x is left in <paramref name="b"/>. False when the matrix is not positive definite.
    /// </summary>
    public static bool CholeskySolve(Span<double> a, Span<double> b, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
            if (!(d > 0)) return false;
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
                a[i * n + j] = s / d;
            }
        }
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= a[i * n + k] * b[k];
            b[i] = s / a[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= a[k * n + i] * b[k];
            b[i] = s / a[i * n + i];
        }
        return true;
    }
}
