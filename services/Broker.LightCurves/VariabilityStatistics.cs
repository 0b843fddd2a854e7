namespace Broker.LightCurves;

/// <summary>
/// The FATS variability statistics of one band's magnitudes (Kim et al. 2011, ApJ 735, 68; Nun et al. 2015,
/// arXiv:1506.00010), as ALeRCE's turbofats computes them (Sánchez-Sáez et al. 2021, AJ 161, 141, table 2), with the
/// light-curve package's definitions (Malanchev et al. 2021, MNRAS 502, 5147) noted where they differ
/// (docs/lightcurve-features.md lists every difference). Input: times (MJD, ascending), magnitudes, magnitude errors.
/// </summary>
internal static class VariabilityStatistics
{
    /// <summary>Feature names in output order (each gets the band suffix).</summary>
    public static readonly string[] Names =
    [
        "Amplitude", "AndersonDarling", "Beyond1Std", "Con", "Eta_e", "ExcessVar", "Gskew", "LinearTrend", "MaxSlope",
        "Mean", "Meanvariance", "MedianAbsDev", "MedianBRP", "PairSlopeTrend", "PercentAmplitude", "Q31", "Rcs", "Skew",
        "SmallKurtosis", "Std", "StetsonJ", "StetsonK",
    ];

    private const int Amplitude = 0, AndersonDarling = 1, Beyond1Std = 2, Con = 3, EtaE = 4, ExcessVar = 5, Gskew = 6, LinearTrend = 7,
        MaxSlope = 8, Mean = 9, Meanvariance = 10, MedianAbsDev = 11, MedianBrp = 12, PairSlopeTrend = 13, PercentAmplitude = 14,
        Q31 = 15, Rcs = 16, Skew = 17, SmallKurtosis = 18, Std = 19, StetsonJ = 20, StetsonK = 21;

    /// <summary>
    /// Writes <see cref="Names"/>.Length values to <paramref name="output"/>; NaN where a statistic is undefined
    /// (fewer than 2 points for most; Skew and Con need 3, SmallKurtosis 4; a zero spread makes the normalised ones NaN).
    /// <paramref name="scratch"/> needs 2·n doubles.
    /// </summary>
    public static void Compute(ReadOnlySpan<double> t, ReadOnlySpan<double> m, ReadOnlySpan<double> e, Span<double> scratch, Span<double> output)
    {
        output[..Names.Length].Fill(double.NaN);
        int n = m.Length;
        if (n == 0) return;

        double sum = 0, wsum = 0, wmsum = 0, e2sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += m[i];
            double w = 1 / (e[i] * e[i]);
            wsum += w;
            wmsum += w * m[i];
            e2sum += e[i] * e[i];
        }
        double mean = sum / n;
        output[Mean] = mean;
        if (n < 2) return;
        double weightedMean = wmsum / wsum;

        double m2 = 0, m3 = 0, m4 = 0;
        for (int i = 0; i < n; i++)
        {
            double d = m[i] - mean, d2 = d * d;
            m2 += d2; m3 += d2 * d; m4 += d2 * d2;
        }
        double varPop = m2 / n;
        double stdPop = Math.Sqrt(varPop);
        double stdSample = Math.Sqrt(m2 / (n - 1));

        // Std: FATS/turbofats np.std, population (light-curve's StandardDeviation divides by N-1).
        output[Std] = stdPop;
        // Meanvariance: σ/⟨m⟩ (FATS).
        output[Meanvariance] = stdPop / mean;
        // ExcessVar: (σ² - ⟨δ²⟩)/⟨m⟩² (Sánchez-Sáez et al. 2021 eq. after Allevato et al. 2013; light-curve's ExcessVariance uses the N-1 variance).
        output[ExcessVar] = (varPop - e2sum / n) / (mean * mean);

        var sorted = scratch[..n];
        m.CopyTo(sorted);
        sorted.Sort();
        double median = Numerics.Median(sorted);
        double min = sorted[0], max = sorted[n - 1];

        // Amplitude: half the difference between the medians of the brightest and faintest 5% (FATS;
        // light-curve's Amplitude is (max - min)/2).
        int k = (int)Math.Ceiling(0.05 * n);
        output[Amplitude] = (Numerics.Median(sorted[(n - k)..]) - Numerics.Median(sorted[..k])) / 2;

        // Q31: interquartile range, numpy linear percentiles (FATS; light-curve InterPercentileRange(0.25)).
        output[Q31] = Numerics.Percentile(sorted, 75) - Numerics.Percentile(sorted, 25);

        // Gskew: median-based skew, median(m ≤ p3) + median(m ≥ p97) - 2 median (Sánchez-Sáez et al. 2021, table 2).
        double p3 = Numerics.Percentile(sorted, 3), p97 = Numerics.Percentile(sorted, 97);
        int lo = 0;
        while (lo < n && sorted[lo] <= p3) lo++;
        int hi = n;
        while (hi > 0 && sorted[hi - 1] >= p97) hi--;
        output[Gskew] = Numerics.Median(sorted[..lo]) + Numerics.Median(sorted[hi..]) - 2 * median;

        // PercentAmplitude: max |m - median| / median (FATS; light-curve's PercentAmplitude is the same without the division).
        output[PercentAmplitude] = Math.Max(max - median, median - min) / median;

        // MedianBRP: fraction strictly within (max - min)/10 of the median (FATS, Richards et al. 2011).
        double band = (max - min) / 10;
        int within = 0;
        for (int i = 0; i < n; i++) if (m[i] < median + band && m[i] > median - band) within++;
        output[MedianBrp] = (double)within / n;

        // MedianAbsDev: median |m - median| (FATS; light-curve MedianAbsoluteDeviation).
        var dev = scratch.Slice(n, n);
        for (int i = 0; i < n; i++) dev[i] = Math.Abs(m[i] - median);
        dev.Sort();
        output[MedianAbsDev] = Numerics.Median(dev);

        // Beyond1Std: fraction farther than σ from the error-weighted mean (FATS; light-curve's BeyondNStd uses the plain mean and N-1 σ).
        int beyond = 0;
        for (int i = 0; i < n; i++) if (Math.Abs(m[i] - weightedMean) > stdPop) beyond++;
        output[Beyond1Std] = (double)beyond / n;

        // Rcs: range of the cumulative sum of (m - ⟨m⟩)/(Nσ) (Ellaway 1978; FATS).
        if (stdPop > 0)
        {
            double s = 0, sMin = double.PositiveInfinity, sMax = double.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                s += (m[i] - mean) / (n * stdPop);
                sMin = Math.Min(sMin, s);
                sMax = Math.Max(sMax, s);
            }
            output[Rcs] = sMax - sMin;
        }

        // LinearTrend: ordinary least-squares slope of m(t), mag/day (FATS; light-curve LinearTrend).
        double tMean = 0;
        for (int i = 0; i < n; i++) tMean += t[i];
        tMean /= n;
        double stt = 0, stm = 0;
        for (int i = 0; i < n; i++)
        {
            stt += (t[i] - tMean) * (t[i] - tMean);
            stm += (t[i] - tMean) * (m[i] - mean);
        }
        if (stt > 0) output[LinearTrend] = stm / stt;

        // MaxSlope: max |Δm/Δt| over consecutive points (FATS; light-curve MaximumSlope).
        double maxSlope = 0;
        for (int i = 1; i < n; i++)
        {
            double dt = t[i] - t[i - 1];
            if (dt > 0) maxSlope = Math.Max(maxSlope, Math.Abs(m[i] - m[i - 1]) / dt);
        }
        output[MaxSlope] = maxSlope;

        // PairSlopeTrend: over the last 30 points, (rises - non-rises)/30 (FATS, Richards et al. 2011; divided by 30 even when fewer).
        int first = Math.Max(0, n - 30), up = 0, down = 0;
        for (int i = first + 1; i < n; i++)
        {
            if (m[i] - m[i - 1] > 0) up++;
            else down++;
        }
        output[PairSlopeTrend] = (up - down) / 30.0;

        // Eta_e: von Neumann ratio for uneven sampling, FATS/turbofats form
        // w̄ (t_N-1 - t_0)² Σ w_i (m_i+1 - m_i)² / (σ² Σ w_i N²), w_i = 1/(t_i+1 - t_i)² (Kim et al. 2014, A&A 566, A43).
        // light-curve's EtaE is (t_N-1 - t_0)²/(N-1)³ Σ ((m_i+1 - m_i)/(t_i+1 - t_i))² / σ²(N-1): same idea, other normalisation.
        if (varPop > 0 && n >= 3)
        {
            double s1 = 0, s2 = 0;
            int pairs = 0;
            for (int i = 1; i < n; i++)
            {
                double dt = t[i] - t[i - 1];
                if (!(dt > 0)) continue;
                double w = 1 / (dt * dt);
                double dm = m[i] - m[i - 1];
                s1 += w * dm * dm;
                s2 += w;
                pairs++;
            }
            if (pairs > 0)
            {
                double span = t[n - 1] - t[0];
                output[EtaE] = (s2 / pairs) * span * span * s1 / (varPop * s2 * (double)n * n);
            }
        }

        // Con: fraction of runs of 3 consecutive points all beyond ⟨m⟩ ± 2σ (FATS, Kim et al. 2011).
        if (n >= 3)
        {
            int runs = 0;
            for (int i = 0; i + 2 < n; i++)
            {
                bool all = true;
                for (int j = 0; j < 3; j++)
                {
                    double d = m[i + j] - mean;
                    if (!(d > 2 * stdPop || d < -2 * stdPop)) { all = false; break; }
                }
                if (all) runs++;
            }
            output[Con] = (double)runs / (n - 2);
        }

        // Skew: biased sample skewness m3/m2^1.5 (scipy.stats.skew as turbofats calls it; light-curve's Skew is the
        // adjusted G1 = g1·√(N(N-1))/(N-2)).
        if (n >= 3 && varPop > 0) output[Skew] = (m3 / n) / Math.Pow(varPop, 1.5);

        // SmallKurtosis: small-sample excess kurtosis (FATS), N(N+1)/((N-1)(N-2)(N-3)) Σ((m-⟨m⟩)/s)⁴ - 3(N-1)²/((N-2)(N-3)),
        // s the N-1 standard deviation; this is light-curve's Kurtosis (G2) as well.
        if (n >= 4 && stdSample > 0)
        {
            double s4 = m4 / (stdSample * stdSample * stdSample * stdSample);
            double nn = n;
            output[SmallKurtosis] = nn * (nn + 1) / ((nn - 1) * (nn - 2) * (nn - 3)) * s4 - 3 * (nn - 1) * (nn - 1) / ((nn - 2) * (nn - 3));
        }

        // Stetson J and K (Stetson 1996, PASP 108, 851, eqs. 1-3), residuals δ_i = √(N/(N-1)) (m_i - m̄_w)/σ_i about
        // the error-weighted mean. K = (1/√N) Σ|δ| / √(Σδ²) (FATS StetsonK; light-curve StetsonK). J here pairs
        // each observation with itself (P_i = δ_i² - 1, one band, no simultaneous pairs): Σ sgn(P)√|P| / N.
        double scale = Math.Sqrt((double)n / (n - 1));
        double sumAbs = 0, sumSq = 0, j2 = 0;
        for (int i = 0; i < n; i++)
        {
            double d = scale * (m[i] - weightedMean) / e[i];
            sumAbs += Math.Abs(d);
            sumSq += d * d;
            double p = d * d - 1;
            j2 += Math.Sign(p) * Math.Sqrt(Math.Abs(p));
        }
        if (sumSq > 0) output[StetsonK] = sumAbs / Math.Sqrt(n) / Math.Sqrt(sumSq);
        output[StetsonJ] = j2 / n;

        // AndersonDarling: FATS maps the normality statistic A² (scipy.stats.anderson: mean and N-1 σ estimated, no
        // small-sample factor) through 1/(1 + exp(-10(A² - 0.3))) (Kim et al. 2009).
        if (n >= 3 && stdSample > 0)
        {
            double a = 0;
            for (int i = 0; i < n; i++)
            {
                double zi = (sorted[i] - mean) / stdSample;
                double zj = (sorted[n - 1 - i] - mean) / stdSample;
                double logCdf = Math.Log(Math.Max(Numerics.NormalCdf(zi), 1e-300));
                double logSf = Math.Log(Math.Max(Numerics.NormalCdf(-zj), 1e-300));
                a += (2 * i + 1) * (logCdf + logSf);
            }
            double a2 = -n - a / n;
            output[AndersonDarling] = 1 / (1 + Math.Exp(-10 * (a2 - 0.3)));
        }
    }
}
