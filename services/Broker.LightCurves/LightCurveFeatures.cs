namespace Broker.LightCurves;

/// <summary>The bands a feature vector covers, and so its column names (<see cref="LightCurveFeatures.NamesFor"/>).</summary>
public sealed class FeatureBands
{
    private FeatureBands(string name, int[] bands)
    {
        Name = name;
        Bands = bands;
    }

    /// <summary>ZTF: g and r, suffixes _1 and _2, ALeRCE's column names (ZTF i is too sparse in alerts to use).</summary>
    public static FeatureBands Ztf { get; } = new("ztf", [LightCurveBands.G, LightCurveBands.R]);

    /// <summary>Rubin: u g r i z y, suffixes _4 _1 _2 _3 _5 _6 (<see cref="LightCurveBands"/>), in wavelength order.</summary>
    public static FeatureBands Rubin { get; } = new("rubin", [3, 0, 1, 2, 4, 5]);

    /// <summary>The layout's name.</summary>
    public string Name { get; }

    /// <summary>The <see cref="LightCurveBands"/> indices covered, in column order.</summary>
    public IReadOnlyList<int> Bands { get; }
}

/// <summary>
/// Light-curve classification features of one alert: per band, FATS variability statistics, period-search results,
/// Fourier harmonics at the multiband period, a damped-random-walk fit, ALeRCE's supernova parametric model, and
/// detection / non-detection features; across bands, the multiband period, colours and the context from earlier
/// stages. Column names follow ALeRCE's lc_classifier (<c>Amplitude_1</c> is g, <c>_2</c> r); every definition, its
/// source and where it differs from lc_classifier and the light-curve package are in docs/lightcurve-features.md.
/// </summary>
/// <remarks>
/// An instance is a workspace: it owns the scratch buffers and the periodogram's arrays, so <see cref="Compute(LightCurve, Span{double})"/>
/// allocates nothing once they have grown to the longest light curve seen. Not thread-safe: one per worker.
/// Undefined features (too few points, no band, a fit that failed) are NaN, never an exception.
/// </remarks>
public sealed class LightCurveFeatures
{
    private static readonly string[] PeriodNames = ["Period_band", "delta_period", "Psi_CS", "Psi_eta"];
    private static readonly string[] HarmonicNames = BuildHarmonicNames();
    private static readonly string[] DrwNames = ["GP_DRW_sigma", "GP_DRW_tau"];
    private static readonly string[] SpmNames = ["SPM_A", "SPM_t0", "SPM_gamma", "SPM_beta", "SPM_tau_rise", "SPM_tau_fall", "SPM_chi"];
    private static readonly string[] DetectionNames =
    [
        "n_det", "n_pos", "n_neg", "positive_fraction", "delta_mag_fid", "delta_mjd_fid", "first_mag", "mean_mag", "min_mag", "max_mag", "iqr",
        "dmag_first_det_fid", "dmag_non_det_fid", "last_diffmaglim_before_fid", "last_mjd_before_fid", "max_diffmaglim_before_fid",
        "median_diffmaglim_before_fid", "n_non_det_before_fid", "max_diffmaglim_after_fid", "median_diffmaglim_after_fid",
        "n_non_det_after_fid", "dt_first_det_fid", "dt_non_det_first_det_fid",
    ];
    private static readonly string[] MultibandNames =
    [
        "Multiband_period", "Multiband_period_power", "Multiband_period_fap", "g-r_max", "g-r_mean",
        "sgscore1", "distpsnr1", "extendedness", "rb", "gal_l", "gal_b", "xmatch_nearest_arcsec", "xmatch_type",
    ];

    private static readonly int VariabilityOffset = 0;
    private static readonly int PeriodOffset = VariabilityStatistics.Names.Length;
    private static readonly int HarmonicOffset = PeriodOffset + PeriodNames.Length;
    private static readonly int DrwOffset = HarmonicOffset + HarmonicNames.Length;
    private static readonly int SpmOffset = DrwOffset + DrwNames.Length;
    private static readonly int DetectionOffset = SpmOffset + SpmNames.Length;

    /// <summary>Features per band.</summary>
    public static int PerBandCount { get; } = DetectionOffset + DetectionNames.Length;

    /// <summary>The ZTF layout's feature names in output order (<see cref="FeatureBands.Ztf"/>).</summary>
    public static IReadOnlyList<string> Names { get; } = NamesFor(FeatureBands.Ztf);

    /// <summary>The Rubin layout's feature names in output order (<see cref="FeatureBands.Rubin"/>).</summary>
    public static IReadOnlyList<string> RubinNames { get; } = NamesFor(FeatureBands.Rubin);

    private readonly FeatureBands _layout;
    private readonly int[] _bands;
    private readonly MultibandPeriodogram _periodogram = new();
    private double[] _a = new double[64], _b = new double[64], _c = new double[64];
    private readonly double[] _band = new double[PerBandCount];
    private readonly double[] _spm = new double[SupernovaModel.ParameterCount];

    /// <summary>A workspace for the ZTF layout.</summary>
    public LightCurveFeatures() : this(FeatureBands.Ztf) { }

    /// <summary>A workspace for <paramref name="layout"/>.</summary>
    public LightCurveFeatures(FeatureBands layout)
    {
        _layout = layout;
        _bands = [.. layout.Bands];
        FeatureNames = NamesFor(layout);
    }

    /// <summary>This workspace's feature names in output order.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The band layout.</summary>
    public FeatureBands Layout => _layout;

    /// <summary>Frequencies in the last period search's grid (for benchmarks and logs).</summary>
    public int LastFrequencyCount => _periodogram.FrequencyCount;

    /// <summary>Which feature groups <see cref="Compute(LightCurve, Span{double}, FeatureGroups)"/> evaluates.</summary>
    [Flags]
    public enum FeatureGroups
    {
        /// <summary>Variability statistics.</summary>
        Variability = 1,
        /// <summary>Period search, Psi_CS/Psi_eta and harmonics.</summary>
        Period = 2,
        /// <summary>Damped random walk.</summary>
        DampedRandomWalk = 4,
        /// <summary>Supernova parametric model.</summary>
        SupernovaModel = 8,
        /// <summary>Detection and non-detection features, colours, context.</summary>
        Detections = 16,
        /// <summary>Everything.</summary>
        All = 31,
    }

    /// <summary>Column names of <paramref name="layout"/>: per-band features (feature-major, band-minor), then multiband ones.</summary>
    public static IReadOnlyList<string> NamesFor(FeatureBands layout)
    {
        var names = new List<string>();
        foreach (var group in new[] { VariabilityStatistics.Names, PeriodNames, HarmonicNames, DrwNames, SpmNames, DetectionNames })
            foreach (string f in group)
                foreach (int b in layout.Bands) names.Add(f + "_" + LightCurveBands.Suffix(b));
        names.AddRange(MultibandNames);
        return names.AsReadOnly();
    }

    /// <summary>Computes every feature of <paramref name="lc"/> into <paramref name="output"/> (length ≥ <see cref="FeatureNames"/>.Count).</summary>
    public void Compute(LightCurve lc, Span<double> output) => Compute(lc, output, FeatureGroups.All);

    /// <summary>Computes the feature groups <paramref name="groups"/> (the others are left NaN); for benchmarks of each group's cost.</summary>
    public void Compute(LightCurve lc, Span<double> output, FeatureGroups groups)
    {
        int nb = _bands.Length;
        int count = PerBandCount * nb + MultibandNames.Length;
        if (output.Length < count) throw new ArgumentException($"output has {output.Length} slots; this layout has {count} features", nameof(output));
        output = output[..count];
        output.Fill(double.NaN);
        int maxN = 0;
        foreach (int b in _bands)
        {
            maxN = Math.Max(maxN, lc.Detections(b).Count);
            maxN = Math.Max(maxN, lc.UpperLimits(b).Count);
        }
        EnsureScratch(maxN);
        int multi = PerBandCount * nb;

        double multibandFrequency = double.NaN;
        if ((groups & FeatureGroups.Period) != 0 && _periodogram.Search(lc, _bands))
        {
            multibandFrequency = _periodogram.BestFrequency;
            output[multi + 0] = 1 / multibandFrequency;
            output[multi + 1] = _periodogram.BestPower;
            output[multi + 2] = _periodogram.FalseAlarmProbability;
        }

        double reference = lc.AlertMjd;
        if (!double.IsFinite(reference))
        {
            foreach (int b in _bands)
            {
                var s = lc.Detections(b);
                if (s.Count > 0) reference = double.IsFinite(reference) ? Math.Max(reference, s.Time[s.Count - 1]) : s.Time[s.Count - 1];
            }
        }

        for (int bi = 0; bi < nb; bi++)
        {
            int b = _bands[bi];
            var det = lc.Detections(b);
            var band = _band.AsSpan();
            band.Fill(double.NaN);
            var t = det.Time; var m = det.Mag; var e = det.MagErr;

            if ((groups & FeatureGroups.Variability) != 0)
                VariabilityStatistics.Compute(t, m, e, _a, band.Slice(VariabilityOffset, VariabilityStatistics.Names.Length));

            if ((groups & FeatureGroups.Period) != 0)
            {
                for (int k = 0; k < _periodogram.BandCount; k++)
                {
                    if (_periodogram.BandOf(k) != b) continue;
                    double fb = _periodogram.BandBestFrequency(k, out _);
                    band[PeriodOffset] = 1 / fb;
                    band[PeriodOffset + 1] = Math.Abs(1 / fb - 1 / multibandFrequency);
                }
                if (double.IsFinite(multibandFrequency) && det.Count >= 3) Folded(t, m, multibandFrequency, band.Slice(PeriodOffset + 2, 2));
                if (double.IsFinite(multibandFrequency)) HarmonicFit.Compute(t, m, e, multibandFrequency, band.Slice(HarmonicOffset, HarmonicNames.Length));
            }

            if ((groups & FeatureGroups.DampedRandomWalk) != 0)
            {
                var (sigma, tau) = DampedRandomWalk.Fit(t, m, e, _a);
                band[DrwOffset] = sigma;
                band[DrwOffset + 1] = tau;
            }

            if ((groups & FeatureGroups.SupernovaModel) != 0 && det.Count >= SupernovaModel.MinPoints)
            {
                var ts = _a.AsSpan(0, det.Count);
                var fs = _b.AsSpan(0, det.Count);
                var fes = _c.AsSpan(0, det.Count);
                var flux = det.Flux; var fluxErr = det.FluxErr;
                // ALeRCE's mag_to_flux scale, mJy, and days from the band's first detection.
                for (int i = 0; i < det.Count; i++)
                {
                    ts[i] = t[i] - t[0];
                    fs[i] = flux[i] * 1e-6;
                    fes[i] = fluxErr[i] * 1e-6;
                }
                var p = _spm.AsSpan();
                double chi = SupernovaModel.Fit(ts, fs, fes, p);
                if (double.IsFinite(chi))
                {
                    for (int j = 0; j < SupernovaModel.ParameterCount; j++) band[SpmOffset + j] = p[j];
                    band[SpmOffset + 6] = chi;
                }
            }

            if ((groups & FeatureGroups.Detections) != 0)
                DetectionFeatures(det, lc.UpperLimits(b), reference, band.Slice(DetectionOffset, DetectionNames.Length));

            for (int f = 0; f < PerBandCount; f++) output[f * nb + bi] = band[f];
        }

        if ((groups & FeatureGroups.Detections) != 0)
        {
            // g - r at the brightest point of each band (ALeRCE g-r_max) and of the mean magnitudes (g-r_mean), from
            // the difference magnitudes (ALeRCE's _corr variants need the reference flux, which alerts of Broker's
            // schema do not carry through the history).
            var g = lc.Detections(LightCurveBands.G);
            var r = lc.Detections(LightCurveBands.R);
            if (g.Count > 0 && r.Count > 0)
            {
                output[multi + 3] = Min(g.Mag) - Min(r.Mag);
                output[multi + 4] = Mean(g.Mag) - Mean(r.Mag);
            }
            output[multi + 5] = lc.StarGalaxyScore;
            output[multi + 6] = lc.DistancePs1Arcsec;
            output[multi + 7] = lc.Extendedness;
            output[multi + 8] = lc.RealBogus;
            output[multi + 9] = lc.GalacticL;
            output[multi + 10] = lc.GalacticB;
            output[multi + 11] = lc.NearestCrossmatchArcsec;
            output[multi + 12] = lc.NearestCrossmatchType;
        }
    }

    /// <summary>
    /// Psi_CS and Psi_eta (Sánchez-Sáez et al. 2021, table 2; Kim et al. 2014, A&amp;A 566, A43, ψ^CS and ψ^η): Rcs and the
    /// von Neumann η of the light curve folded at the multiband period, points ordered by phase.
    /// </summary>
    private void Folded(ReadOnlySpan<double> t, ReadOnlySpan<double> m, double frequency, Span<double> output)
    {
        int n = t.Length;
        var phase = _b.AsSpan(0, n);
        var mag = _c.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            double x = (t[i] - t[0]) * frequency;
            phase[i] = x - Math.Floor(x);
            mag[i] = m[i];
        }
        phase.Sort(mag);
        double mean = 0;
        for (int i = 0; i < n; i++) mean += mag[i];
        mean /= n;
        double v = 0;
        for (int i = 0; i < n; i++) v += (mag[i] - mean) * (mag[i] - mean);
        v /= n;
        if (!(v > 0)) return;
        double sd = Math.Sqrt(v), s = 0, sMin = double.PositiveInfinity, sMax = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            s += (mag[i] - mean) / (n * sd);
            sMin = Math.Min(sMin, s);
            sMax = Math.Max(sMax, s);
        }
        output[0] = sMax - sMin;
        // η = Σ (m_i+1 - m_i)² / ((N-1) σ²) over the phase-ordered magnitudes (von Neumann 1941 ratio; Kim et al. 2014's ψ^η
        // uses η, not the time-weighted Eta_e): ~2 for noise, small for a smooth folded curve.
        double sq = 0;
        for (int i = 1; i < n; i++) sq += (mag[i] - mag[i - 1]) * (mag[i] - mag[i - 1]);
        double sampleVar = v * n / (n - 1);
        output[1] = sq / ((n - 1) * sampleVar);
    }

    /// <summary>
    /// ALeRCE's detection and non-detection features of one band (Sánchez-Sáez et al. 2021, table 2, "SN features" and
    /// "non-detection features"): counts, first/mean/min/max magnitude, the limits before and after the first detection,
    /// and the rise from the last limit before the first detection to it (dmag_first_det_fid).
    /// </summary>
    private void DetectionFeatures(PointSeries det, PointSeries limits, double reference, Span<double> o)
    {
        int n = det.Count;
        o[0] = n;
        if (n == 0) return;
        var m = det.Mag;
        var t = det.Time;
        int pos = 0;
        foreach (bool p in det.IsPositive) if (p) pos++;
        o[1] = pos;
        o[2] = n - pos;
        o[3] = (double)pos / n;
        double min = Min(m), max = Max(m);
        o[4] = max - min;
        o[5] = t[n - 1] - t[0];
        o[6] = m[0];
        o[7] = Mean(m);
        o[8] = min;
        o[9] = max;
        var sorted = _a.AsSpan(0, n);
        m.CopyTo(sorted);
        sorted.Sort();
        o[10] = Numerics.Percentile(sorted, 75) - Numerics.Percentile(sorted, 25);
        o[21] = reference - t[0];

        double first = t[0];
        var lt = limits.Time;
        var lm = limits.Mag;
        var before = _b.AsSpan(0, limits.Count);
        var after = _c.AsSpan(0, limits.Count);
        int nb = 0, na = 0;
        double lastBefore = double.NaN, lastBeforeMjd = double.NaN;
        for (int i = 0; i < limits.Count; i++)
        {
            if (lt[i] < first)
            {
                before[nb++] = lm[i];
                lastBefore = lm[i];
                lastBeforeMjd = lt[i];
            }
            else after[na++] = lm[i];
        }
        o[17] = nb;
        o[20] = na;
        if (nb > 0)
        {
            var bs = before[..nb];
            o[13] = lastBefore;
            o[14] = lastBeforeMjd;
            o[15] = Max(bs);
            bs.Sort();
            double median = Numerics.Median(bs);
            o[16] = median;
            o[11] = lastBefore - m[0];
            o[12] = median - min;
            o[22] = first - lastBeforeMjd;
        }
        if (na > 0)
        {
            var asSpan = after[..na];
            o[18] = Max(asSpan);
            asSpan.Sort();
            o[19] = Numerics.Median(asSpan);
        }
    }

    private static double Min(ReadOnlySpan<double> x)
    {
        double v = double.PositiveInfinity;
        foreach (double d in x) v = Math.Min(v, d);
        return v;
    }

    private static double Max(ReadOnlySpan<double> x)
    {
        double v = double.NegativeInfinity;
        foreach (double d in x) v = Math.Max(v, d);
        return v;
    }

    private static double Mean(ReadOnlySpan<double> x)
    {
        double s = 0;
        foreach (double d in x) s += d;
        return s / x.Length;
    }

    private void EnsureScratch(int n)
    {
        int need = 2 * Math.Max(n, 1);
        if (_a.Length >= need) return;
        int size = Math.Max(need, _a.Length * 2);
        _a = new double[size]; _b = new double[size]; _c = new double[size];
    }

    private static string[] BuildHarmonicNames()
    {
        var names = new List<string>();
        for (int k = 1; k <= HarmonicFit.MaxHarmonics; k++) names.Add($"Harmonics_mag_{k}");
        for (int k = 2; k <= HarmonicFit.MaxHarmonics; k++) names.Add($"Harmonics_phase_{k}");
        names.Add("Harmonics_mse");
        return [.. names];
    }
}
