namespace Broker.LightCurves.Tests;

public class VariabilityStatisticsTests
{
    /// <summary>m = 1..5 at t = 0..4, errors 1: every value below worked by hand from the FATS definitions.</summary>
    [Fact]
    public void LinearRampHasHandComputedStatistics()
    {
        var lc = new LightCurve();
        for (int i = 0; i < 5; i++) lc.AddDetection(LightCurveBands.G, 60000 + i, 1 + i, 1, double.NaN, double.NaN, true);
        lc.Complete();
        var f = Synthetic.Features(lc);
        const double tol = 1e-12;
        Assert.Equal(3, f["Mean_1"], tol);
        Assert.Equal(Math.Sqrt(2), f["Std_1"], tol);                 // population σ
        Assert.Equal(Math.Sqrt(2) / 3, f["Meanvariance_1"], tol);
        Assert.Equal(2, f["Amplitude_1"], tol);                      // (median of top 5% - bottom 5%)/2, one point each
        Assert.Equal(2, f["Q31_1"], tol);
        Assert.Equal(2, f["iqr_1"], tol);
        Assert.Equal(1, f["MedianAbsDev_1"], tol);
        Assert.Equal(0.2, f["MedianBRP_1"], tol);
        Assert.Equal(0.4, f["Beyond1Std_1"], tol);
        Assert.Equal(1, f["LinearTrend_1"], tol);
        Assert.Equal(1, f["MaxSlope_1"], tol);
        Assert.Equal(4 / 30.0, f["PairSlopeTrend_1"], tol);
        Assert.Equal(2.0 / 3, f["PercentAmplitude_1"], tol);
        Assert.Equal(0, f["Skew_1"], tol);
        Assert.Equal(-1.2, f["SmallKurtosis_1"], tol);                // 1.25·34/6.25 - 8
        Assert.Equal(3 / (5 * Math.Sqrt(2)), f["Rcs_1"], tol);
        Assert.Equal(0.32, f["Eta_e_1"], tol);                       // 1·4²·4/(2·4·5²)
        Assert.Equal(0, f["Con_1"], tol);
        Assert.Equal(6 / Math.Sqrt(50), f["StetsonK_1"], tol);
        Assert.Equal(0.8, f["StetsonJ_1"], tol);                     // (2 + 0.5 - 1 + 0.5 + 2)/5
        Assert.Equal(0, f["Gskew_1"], tol);
        Assert.Equal(1.0 / 9, f["ExcessVar_1"], tol);
        // A² = 0.14359 (python: math.erfc, the same formula); erfc's 1.2e-7 error bounds the match.
        Assert.Equal(0.1730651266333263, f["AndersonDarling_1"], 1e-5);
        Assert.Equal(4, f["delta_mag_fid_1"], tol);
        Assert.Equal(4, f["delta_mjd_fid_1"], tol);
        Assert.Equal(5, f["n_pos_1"]);
        Assert.Equal(1, f["positive_fraction_1"]);
    }

    [Fact]
    public void ConCountsRunsOfThreeBeyondTwoSigma()
    {
        // 20 points at 0 and three consecutive at 10: mean 1.304, σ 3.37; the three are beyond mean + 2σ = 8.05.
        var lc = new LightCurve();
        for (int i = 0; i < 23; i++) lc.AddDetection(LightCurveBands.R, 60000 + i, i is >= 10 and < 13 ? 10 : 0, 0.1, double.NaN, double.NaN, true);
        lc.Complete();
        var f = Synthetic.Features(lc);
        Assert.Equal(1.0 / 21, f["Con_2"], 1e-12);
        Assert.True(f["Skew_2"] > 0);
    }

    [Fact]
    public void NonDetectionFeaturesUseLimitsBeforeAndAfterTheFirstDetection()
    {
        var lc = new LightCurve();
        lc.AddUpperLimit(LightCurveBands.G, 59990, 20.0);
        lc.AddUpperLimit(LightCurveBands.G, 59995, 20.6);
        lc.AddUpperLimit(LightCurveBands.G, 59998, 20.4);
        lc.AddUpperLimit(LightCurveBands.G, 60003, 19.0);
        lc.AddDetection(LightCurveBands.G, 60000, 19.5, 0.1, double.NaN, double.NaN, true);
        lc.AddDetection(LightCurveBands.G, 60002, 18.5, 0.1, double.NaN, double.NaN, true);
        lc.AddDetection(LightCurveBands.R, 60002.1, 18.0, 0.1, double.NaN, double.NaN, true);
        lc.AlertMjd = 60004;
        lc.Complete();
        var f = Synthetic.Features(lc);
        Assert.Equal(3, f["n_non_det_before_fid_1"]);
        Assert.Equal(1, f["n_non_det_after_fid_1"]);
        Assert.Equal(20.4, f["last_diffmaglim_before_fid_1"]);
        Assert.Equal(59998, f["last_mjd_before_fid_1"]);
        Assert.Equal(20.6, f["max_diffmaglim_before_fid_1"]);
        Assert.Equal(20.4, f["median_diffmaglim_before_fid_1"]);
        Assert.Equal(20.4 - 19.5, f["dmag_first_det_fid_1"], 1e-12);   // rise since the last limit
        Assert.Equal(20.4 - 18.5, f["dmag_non_det_fid_1"], 1e-12);
        Assert.Equal(19.0, f["max_diffmaglim_after_fid_1"]);
        Assert.Equal(2, f["dt_non_det_first_det_fid_1"], 1e-9);
        Assert.Equal(4, f["dt_first_det_fid_1"], 1e-9);
        Assert.Equal(18.5 - 18.0, f["g-r_max"], 1e-12);
        Assert.Equal(19.0 - 18.0, f["g-r_mean"], 1e-12);
        Assert.Equal(0, f["n_non_det_before_fid_2"]);
    }
}

public class PeriodTests
{
    [Theory]
    [InlineData(0.3137, 0.25)]
    [InlineData(0.71, 0.4)]
    [InlineData(2.37, 0.1)]
    [InlineData(13.3, 0.3)]
    public void PureSinusoidPeriodAndAmplitudeAreRecoveredFromZtfSampling(double period, double amplitude)
    {
        var rng = new Random(11);
        var lc = new LightCurve();
        foreach (var (mjd, band) in Synthetic.ZtfEpochs(rng, 90))
        {
            // Same period in both bands, a colour offset and a phase lag in r.
            double phase = 2 * Math.PI * mjd / period + (band == LightCurveBands.R ? 0.4 : 0);
            double mag = (band == LightCurveBands.R ? 17.6 : 18) + amplitude * Math.Sin(phase);
            lc.AddDetection(band, mjd, mag, 0.02, double.NaN, double.NaN, true);
        }
        lc.Complete();
        var f = Synthetic.Features(lc);
        Assert.Equal(period, f["Multiband_period"], period * 2e-3);
        Assert.Equal(period, f["Period_band_1"], period * 2e-3);
        Assert.Equal(period, f["Period_band_2"], period * 2e-3);
        Assert.True(f["Multiband_period_power"] > 0.99, $"power {f["Multiband_period_power"]}");
        Assert.True(f["Multiband_period_fap"] < 1e-10, $"fap {f["Multiband_period_fap"]}");
        // Harmonics at the found period: the first is the amplitude, the others ~0 (period error limits it).
        Assert.Equal(amplitude, f["Harmonics_mag_1_1"], amplitude * 0.02);
        Assert.Equal(amplitude, f["Harmonics_mag_1_2"], amplitude * 0.02);
        Assert.True(f["Harmonics_mag_2_1"] < 0.02 * amplitude);
        Assert.True(f["Harmonics_mse_1"] < 1e-4 * amplitude * amplitude);
    }

    [Fact]
    public void PureNoiseHasLargeFalseAlarmProbability()
    {
        var rng = new Random(12);
        var lc = new LightCurve();
        foreach (var (mjd, band) in Synthetic.ZtfEpochs(rng, 30))
            lc.AddDetection(band, mjd, 18 + 0.05 * Synthetic.Gaussian(rng), 0.05, double.NaN, double.NaN, true);
        lc.Complete();
        var f = Synthetic.Features(lc);
        Assert.True(f["Multiband_period_fap"] > 0.05, $"fap {f["Multiband_period_fap"]} on noise");
        Assert.True(f["Multiband_period_power"] < 0.9);
    }

    [Fact]
    public void HarmonicsRecoverAmplitudesAndRelativePhase()
    {
        // m = 18 + 0.3 cos(ωt) + 0.1 cos(2ωt - 1.0) at a given period: A1 = 0.3, A2 = 0.1, φ'2 = 1.0 - 2·0 = 1.0.
        var rng = new Random(13);
        int n = 60;
        var t = new double[n];
        var m = new double[n];
        var e = new double[n];
        double f0 = 1 / 0.537;
        for (int i = 0; i < n; i++)
        {
            t[i] = 60000 + 50 * rng.NextDouble();
            e[i] = 0.01;
        }
        Array.Sort(t);
        for (int i = 0; i < n; i++)
        {
            double w = 2 * Math.PI * f0 * (t[i] - t[0]);
            m[i] = 18 + 0.3 * Math.Cos(w) + 0.1 * Math.Cos(2 * w - 1.0);
        }
        var output = new double[HarmonicFit.OutputLength];
        HarmonicFit.Compute(t, m, e, f0, output);
        Assert.Equal(0.3, output[0], 1e-9);
        Assert.Equal(0.1, output[1], 1e-9);
        Assert.Equal(1.0, output[HarmonicFit.MaxHarmonics], 1e-9);
        Assert.True(output[2] < 1e-9);
        Assert.True(output[^1] < 1e-18);
    }
}

public class DampedRandomWalkTests
{
    /// <summary>
    /// An exactly simulated OU process (x_i = a x_i-1 + √(σ²(1-a²)) N(0,1), a = e^(-Δt/τ)) with τ = 40 d, σ = 0.2 mag,
    /// 300 epochs over 4000 d (baseline 100τ, where the ML estimate is close to unbiased: Kozłowski 2017, A&amp;A 597, A128),
    /// 0.02 mag noise, 16 realisations. The error of one fit is estimated by the spread of ln τ̂ over the realisations;
    /// the true τ must lie within 3 standard errors of their mean, and each fit within 4 spreads.
    /// </summary>
    [Fact]
    public void SimulatedDampedRandomWalkTimescaleIsRecoveredWithinItsError()
    {
        const double tau = 40, sigma = 0.2, noise = 0.02;
        const int realisations = 16, points = 300;
        var rng = new Random(21);
        var lnTau = new double[realisations];
        var sigmas = new double[realisations];
        for (int r = 0; r < realisations; r++)
        {
            var t = new double[points];
            for (int i = 0; i < points; i++) t[i] = 4000 * rng.NextDouble();
            Array.Sort(t);
            var m = new double[points];
            var e = new double[points];
            double x = sigma * Synthetic.Gaussian(rng);
            for (int i = 0; i < points; i++)
            {
                if (i > 0)
                {
                    double a = Math.Exp(-(t[i] - t[i - 1]) / tau);
                    x = a * x + Math.Sqrt(sigma * sigma * (1 - a * a)) * Synthetic.Gaussian(rng);
                }
                m[i] = 19 + x + noise * Synthetic.Gaussian(rng);
                e[i] = noise;
            }
            var (s, tt) = DampedRandomWalk.Fit(t, m, e, new double[points]);
            lnTau[r] = Math.Log(tt);
            sigmas[r] = s;
        }
        double mean = lnTau.Average();
        double spread = Math.Sqrt(lnTau.Select(v => (v - mean) * (v - mean)).Sum() / (realisations - 1));
        Assert.True(spread > 0 && spread < 0.5, $"spread of ln tau {spread}");
        Assert.True(Math.Abs(mean - Math.Log(tau)) < 3 * spread / Math.Sqrt(realisations),
            $"mean fitted tau {Math.Exp(mean):F1} d, true {tau}, spread of ln tau {spread:F3}");
        foreach (double v in lnTau) Assert.True(Math.Abs(v - Math.Log(tau)) < 4 * spread);
        Assert.Equal(sigma, sigmas.Average(), 0.03);
    }

    [Fact]
    public void LikelihoodMatchesTheDenseGaussianProcess()
    {
        // Kalman recursion against the direct N-dimensional Gaussian: -ln L = ½ (yᵀK⁻¹y + ln|2πK|).
        double[] t = [0, 0.7, 3.1, 3.2, 9.0, 15.5];
        double[] y = [0.1, -0.05, 0.2, 0.18, -0.3, 0.05];
        double[] e = [0.05, 0.04, 0.06, 0.05, 0.05, 0.07];
        double sigma = 0.2, tau = 4.0;
        int n = t.Length;
        var k = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) k[i * n + j] = sigma * sigma * Math.Exp(-Math.Abs(t[i] - t[j]) / tau) + (i == j ? e[i] * e[i] : 0);
        var chol = (double[])k.Clone();
        var alpha = (double[])y.Clone();
        Assert.True(Numerics.CholeskySolve(chol, alpha, n));
        double logDet = 0;
        for (int i = 0; i < n; i++) logDet += 2 * Math.Log(chol[i * n + i]);
        double quad = 0;
        for (int i = 0; i < n; i++) quad += y[i] * alpha[i];
        double expected = 0.5 * (quad + logDet + n * Math.Log(2 * Math.PI));
        Assert.Equal(expected, DampedRandomWalk.NegLogLikelihood(t, y, e, Math.Log(sigma), Math.Log(tau)), 1e-10);
    }
}

public class SupernovaModelTests
{
    private static readonly double[] Truth = [0.5, 8, 20, 0.3, 3, 25]; // A mJy, t0, γ, β, τ_rise, τ_fall

    [Fact]
    public void AnalyticGradientMatchesFiniteDifferences()
    {
        var g = new double[6];
        var p = (double[])Truth.Clone();
        foreach (double t in new[] { -5.0, 3, 8, 15, 28, 29, 40, 90 })
        {
            SupernovaModel.EvaluateWithGradient(t, p, g);
            for (int j = 0; j < 6; j++)
            {
                double h = 1e-6 * Math.Max(1, Math.Abs(p[j]));
                var hi = (double[])p.Clone(); hi[j] += h;
                var lo = (double[])p.Clone(); lo[j] -= h;
                double numeric = (SupernovaModel.Evaluate(t, hi) - SupernovaModel.Evaluate(t, lo)) / (2 * h);
                Assert.True(Math.Abs(numeric - g[j]) < 1e-6 * Math.Max(1, Math.Abs(numeric)), $"t={t} param {j}: analytic {g[j]}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void NoiselessSupernovaModelIsRecovered()
    {
        // ZTF-like sampling of the model in g (flux in nJy), from 5 days before t0 to 90 days after the first point.
        var rng = new Random(31);
        double start = 60000;
        // Only fluxes from day 3 on are "detected".
        var times = Synthetic.ZtfEpochs(rng, 90, start).Where(e => e.Band == LightCurveBands.G && e.Mjd >= start + 3).Select(e => e.Mjd).ToArray();
        var lc = new LightCurve();
        foreach (double mjd in times)
        {
            double flux = SupernovaModel.Evaluate(mjd - times[0], Truth) * 1e6;
            lc.AddDetection(LightCurveBands.G, mjd, double.NaN, double.NaN, flux, 0.01 * Truth[0] * 1e6, true);
        }
        lc.Complete();
        Assert.True(times.Length > 20);
        var f = Synthetic.Features(lc);
        string fitted = string.Join(", ", new[] { "A", "t0", "gamma", "beta", "tau_rise", "tau_fall", "chi" }.Select(n => $"{n}={f["SPM_" + n + "_1"]:G5}"));
        Assert.True(Math.Abs(Truth[0] - f["SPM_A_1"]) < 0.005, fitted);
        Assert.Equal(Truth[1], f["SPM_t0_1"], 0.05);
        Assert.Equal(Truth[2], f["SPM_gamma_1"], 0.1);
        Assert.Equal(Truth[3], f["SPM_beta_1"], 0.005);
        Assert.Equal(Truth[4], f["SPM_tau_rise_1"], 0.05);
        Assert.Equal(Truth[5], f["SPM_tau_fall_1"], 0.1);
        Assert.True(f["SPM_chi_1"] < 1e-6, $"chi {f["SPM_chi_1"]}");
    }
}
