using System.Numerics;
using System.Runtime.InteropServices;

namespace Broker.LightCurves;

/// <summary>
/// Multiband period search: the generalised Lomb-Scargle periodogram (floating mean, error weights; Zechmeister &amp;
/// Kürster 2009, A&amp;A 496, 577, eqs. 5-20) of each band, combined over bands as the fraction of the total χ²
/// that per-band sinusoids with one shared frequency remove: P(f) = Σ_b χ²₀,b p_b(f) / Σ_b χ²₀,b. That is the
/// multiband periodogram of VanderPlas &amp; Ivezić 2015 (ApJ 812, 18, eq. 20 and §3.2) with N_base = 0,
/// N_band = 1 (each band its own offset, amplitude and phase, one period), which needs only per-band sums and so
/// keeps the O(N·N_f) cost of a single-band periodogram. ALeRCE's Multiband_period uses a multi-harmonic AOV
/// (Schwarzenberg-Czerny 1996) on the same frequency-shared idea; docs/lightcurve-features.md says where they differ.
/// </summary>
/// <remarks>
/// <para>
/// Grid: f from 1/T (T the baseline, at most 1000 d) to 20 d⁻¹ (periods down to 72 minutes, ALeRCE's shortest) in steps of
/// 1/(5T) (oversampling 5), the peak refined by a golden-section search of the exact power within a grid step.
/// </para>
/// <para>
/// Speed: the trigonometric sums are evaluated for <see cref="Vector{T}.Count"/> neighbouring frequencies at once
/// (one SIMD lane per frequency), and cos/sin of each point's phase advance from one block of frequencies to the
/// next by a rotation (cos(θ+Δ) = cos θ cos Δ - sin θ sin Δ), so the inner loop has no transcendental calls
/// (Press &amp; Rybicki 1989 use the same recurrence); 2ωt terms come from the double-angle identities. Rounding
/// grows about linearly with the number of steps, ~1e-12 after 10,000 blocks.
/// </para>
/// </remarks>
internal sealed class MultibandPeriodogram
{
    /// <summary>Highest frequency searched, d⁻¹.</summary>
    public const double MaxFrequency = 20.0;

    /// <summary>Frequency steps per 1/T.</summary>
    public const double Oversampling = 5.0;

    /// <summary>Longest baseline the grid spans, days.</summary>
    public const double MaxBaseline = 1000.0;

    /// <summary>Fewest points a band needs to take part (3 parameters per band and one degree of freedom).</summary>
    public const int MinPointsPerBand = 4;

    private Vector<double>[] _cos = new Vector<double>[64], _sin = new Vector<double>[64];
    private double[] _w = new double[64], _wy = new double[64], _rotCos = new double[64], _rotSin = new double[64], _t = new double[64];
    private double[] _power = new double[1024];
    private double[][] _bandPower = new double[LightCurveBands.Count][];
    private readonly int[] _bandStart = new int[LightCurveBands.Count + 1];
    private readonly double[] _bandChi0 = new double[LightCurveBands.Count];
    private readonly double[] _bandYy = new double[LightCurveBands.Count];
    private readonly int[] _bandId = new int[LightCurveBands.Count];

    public MultibandPeriodogram()
    {
        for (int b = 0; b < _bandPower.Length; b++) _bandPower[b] = new double[1024];
    }

    /// <summary>Bands that took part in the last <see cref="Search"/>.</summary>
    public int BandCount { get; private set; }

    /// <summary>Best frequency of the last search, d⁻¹, or NaN.</summary>
    public double BestFrequency { get; private set; }

    /// <summary>Combined power at the best frequency (0..1).</summary>
    public double BestPower { get; private set; }

    /// <summary>False-alarm probability of <see cref="BestPower"/> (Baluev 2008).</summary>
    public double FalseAlarmProbability { get; private set; }

    /// <summary>Number of frequencies of the last grid.</summary>
    public int FrequencyCount { get; private set; }

    private double _f0, _df;
    private int _nPoints;

    /// <summary>
    /// Runs the search over the bands of <paramref name="lc"/> listed in <paramref name="bands"/> that have at least
    /// <see cref="MinPointsPerBand"/> detections, on magnitudes. False (and NaN results) when no band qualifies.
    /// </summary>
    public bool Search(LightCurve lc, ReadOnlySpan<int> bands)
    {
        _fromFlux = false;
        return SearchCore(lc, bands);
    }

    /// <summary>
    /// The same search on the signed difference fluxes (nJy) of each band's detections and forced photometry together:
    /// the variable star's own light curve less a constant (its template flux), where the detections' difference
    /// magnitudes give |Δf| and lose the sign. For the periodic CNN's folding (<see cref="PhaseFoldedImage"/>).
    /// Bands need <see cref="MinPointsPerBand"/> points of the two kinds together.
    /// </summary>
    public bool SearchFlux(LightCurve lc, ReadOnlySpan<int> bands)
    {
        _fromFlux = true;
        foreach (int b in bands)
        {
            var d = lc.Detections(b);
            var f = lc.Forced(b);
            int n = d.Count + f.Count;
            if (_fluxT[b].Length < n)
            {
                int size = Math.Max(n, 2 * _fluxT[b].Length);
                _fluxT[b] = new double[size];
                _fluxY[b] = new double[size];
                _fluxE[b] = new double[size];
            }
            d.Time.CopyTo(_fluxT[b]);
            d.Flux.CopyTo(_fluxY[b]);
            d.FluxErr.CopyTo(_fluxE[b]);
            f.Time.CopyTo(_fluxT[b].AsSpan(d.Count));
            f.Flux.CopyTo(_fluxY[b].AsSpan(d.Count));
            f.FluxErr.CopyTo(_fluxE[b].AsSpan(d.Count));
            _fluxN[b] = n;
        }
        return SearchCore(lc, bands);
    }

    private bool _fromFlux;
    private readonly double[][] _fluxT = NewBandArrays(), _fluxY = NewBandArrays(), _fluxE = NewBandArrays();
    private readonly int[] _fluxN = new int[LightCurveBands.Count];

    private static double[][] NewBandArrays()
    {
        var a = new double[LightCurveBands.Count][];
        for (int b = 0; b < a.Length; b++) a[b] = new double[64];
        return a;
    }

    /// <summary>Band <paramref name="b"/>'s points of the current search: detection magnitudes, or signed fluxes (unsorted: detections, then forced photometry).</summary>
    private void Points(LightCurve lc, int b, out ReadOnlySpan<double> t, out ReadOnlySpan<double> y, out ReadOnlySpan<double> e)
    {
        if (_fromFlux)
        {
            int n = _fluxN[b];
            t = _fluxT[b].AsSpan(0, n);
            y = _fluxY[b].AsSpan(0, n);
            e = _fluxE[b].AsSpan(0, n);
            return;
        }
        var s = lc.Detections(b);
        t = s.Time;
        y = s.Mag;
        e = s.MagErr;
    }

    private bool SearchCore(LightCurve lc, ReadOnlySpan<int> bands)
    {
        BestFrequency = BestPower = FalseAlarmProbability = double.NaN;
        BandCount = 0;
        FrequencyCount = 0;
        int total = 0;
        double tMin = double.PositiveInfinity, tMax = double.NegativeInfinity;
        foreach (int b in bands)
        {
            Points(lc, b, out var bt, out _, out _);
            if (bt.Length < MinPointsPerBand) continue;
            total += bt.Length;
            foreach (double ti in bt)
            {
                tMin = Math.Min(tMin, ti);
                tMax = Math.Max(tMax, ti);
            }
        }
        if (total == 0) return false;
        double baseline = Math.Min(tMax - tMin, MaxBaseline);
        if (!(baseline > 0)) return false;
        EnsurePoints(total);

        // Points, band by band: normalised weights and weighted-mean-centred magnitudes.
        int p = 0, nb = 0;
        foreach (int b in bands)
        {
            Points(lc, b, out var t, out var m, out var e);
            if (t.Length < MinPointsPerBand) continue;
            double wsum = 0, wm = 0;
            for (int i = 0; i < t.Length; i++)
            {
                double w = 1 / (e[i] * e[i]);
                wsum += w;
                wm += w * m[i];
            }
            wm /= wsum;
            double yy = 0;
            _bandStart[nb] = p;
            for (int i = 0; i < t.Length; i++, p++)
            {
                double w = 1 / (e[i] * e[i]);
                double y = m[i] - wm;
                _w[p] = w / wsum;
                _wy[p] = w / wsum * y;
                _t[p] = t[i] - tMin;
                yy += w * y * y;
            }
            if (!(yy > 0)) { p = _bandStart[nb]; continue; }
            _bandChi0[nb] = yy;
            _bandYy[nb] = yy / wsum;
            _bandId[nb] = b;
            nb++;
        }
        _bandStart[nb] = p;
        if (nb == 0) return false;
        BandCount = nb;
        _nPoints = p;

        int lanes = Vector<double>.Count;
        _df = 1 / (Oversampling * baseline);
        _f0 = 1 / baseline;
        int nf = (int)Math.Ceiling((MaxFrequency - _f0) / _df) + 1;
        int blocks = (nf + lanes - 1) / lanes;
        nf = blocks * lanes;
        EnsureFrequencies(nf, nb);
        FrequencyCount = nf;

        // Each point's phase at the first block's frequencies, and the rotation that advances it by one block.
        Span<double> c0 = stackalloc double[lanes], s0 = stackalloc double[lanes];
        for (int i = 0; i < p; i++)
        {
            double ti = _t[i];
            for (int j = 0; j < lanes; j++)
            {
                (s0[j], c0[j]) = Math.SinCos(2 * Math.PI * (_f0 + j * _df) * ti);
            }
            _cos[i] = new Vector<double>(c0);
            _sin[i] = new Vector<double>(s0);
            (_rotSin[i], _rotCos[i]) = Math.SinCos(2 * Math.PI * lanes * _df * ti);
        }

        double chi0Total = 0;
        for (int k = 0; k < nb; k++) chi0Total += _bandChi0[k];
        var power = MemoryMarshal.Cast<double, Vector<double>>(_power.AsSpan(0, nf));
        var half = new Vector<double>(0.5);
        var one = Vector<double>.One;
        var two = new Vector<double>(2.0);
        var tiny = new Vector<double>(1e-12);
        for (int blk = 0; blk < blocks; blk++)
        {
            var total2 = Vector<double>.Zero;
            for (int k = 0; k < nb; k++)
            {
                Vector<double> sc = Vector<double>.Zero, ss = Vector<double>.Zero, syc = Vector<double>.Zero, sys = Vector<double>.Zero,
                    sc2 = Vector<double>.Zero, ss2 = Vector<double>.Zero;
                for (int i = _bandStart[k]; i < _bandStart[k + 1]; i++)
                {
                    var c = _cos[i];
                    var s = _sin[i];
                    var w = new Vector<double>(_w[i]);
                    var wy = new Vector<double>(_wy[i]);
                    sc += w * c;
                    ss += w * s;
                    syc += wy * c;
                    sys += wy * s;
                    sc2 += w * (c * c - s * s);
                    ss2 += w * (two * c * s);
                    var rc = new Vector<double>(_rotCos[i]);
                    var rs = new Vector<double>(_rotSin[i]);
                    _cos[i] = c * rc - s * rs;
                    _sin[i] = s * rc + c * rs;
                }
                // Zechmeister & Kürster 2009 eqs. 10-15 with Σw = 1 and centred y (so Y = 0): CC, SS, CS about the
                // weighted means; p = (SS·YC² + CC·YS² - 2·CS·YC·YS) / (YY·D), D = CC·SS - CS².
                var cc = half * (one + sc2) - sc * sc;
                var sn = half * (one - sc2) - ss * ss;
                var cs = half * ss2 - sc * ss;
                var d = cc * sn - cs * cs;
                var num = sn * syc * syc + cc * sys * sys - two * cs * syc * sys;
                var pb = num / (d * new Vector<double>(_bandYy[k]));
                pb = Vector.ConditionalSelect(Vector.GreaterThan(d, tiny), pb, Vector<double>.Zero);
                MemoryMarshal.Cast<double, Vector<double>>(_bandPower[k].AsSpan(0, nf))[blk] = pb;
                total2 += pb * new Vector<double>(_bandChi0[k]);
            }
            power[blk] = total2 / new Vector<double>(chi0Total);
        }

        int best = ArgMax(_power.AsSpan(0, nf), out _);
        BestFrequency = Refine(best, -1, out double bestPower);
        BestPower = bestPower;

        // Baluev 2008 (MNRAS 385, 1279) eq. 5-6 "alias-free" bound, in astropy's form for the standard normalisation:
        // FAP = 1 - (1 - (1-Z)^(N_K/2)) e^(-τ), τ = γ(N_H) W (1-Z)^((N_K-1)/2) √(N_H Z / 2), W = f_max √(4π var_w(t)).
        // With several bands the degrees of freedom are N_H = N - N_bands, N_K = N - 3·N_bands (an approximation: Baluev's
        // derivation is for one sinusoid; the number of independent frequencies is the same).
        FalseAlarmProbability = BaluevFap(bestPower, nb);
        return true;
    }

    /// <summary>Band <paramref name="index"/> of the last search (a <see cref="LightCurveBands"/> index).</summary>
    public int BandOf(int index) => _bandId[index];

    /// <summary>Best frequency of band <paramref name="index"/> alone (its own generalised Lomb-Scargle), d⁻¹.</summary>
    public double BandBestFrequency(int index, out double power)
    {
        var span = _bandPower[index].AsSpan(0, FrequencyCount);
        int best = ArgMax(span, out _);
        return Refine(best, index, out power);
    }

    /// <summary>
    /// The exact power at frequency <paramref name="f"/>: of band <paramref name="band"/> (its index in this search) or,
    /// with -1, the multiband combination. Direct sums with one sin/cos per point, for refining the grid's peak.
    /// </summary>
    public double PowerAt(double f, int band)
    {
        double omega = 2 * Math.PI * f, total = 0, chi0 = 0;
        int first = band < 0 ? 0 : band, last = band < 0 ? BandCount - 1 : band;
        double result = 0;
        for (int k = first; k <= last; k++)
        {
            double sc = 0, ss = 0, syc = 0, sys = 0, sc2 = 0, ss2 = 0;
            for (int i = _bandStart[k]; i < _bandStart[k + 1]; i++)
            {
                (double s, double c) = Math.SinCos(omega * _t[i]);
                double w = _w[i], wy = _wy[i];
                sc += w * c; ss += w * s; syc += wy * c; sys += wy * s;
                sc2 += w * (c * c - s * s); ss2 += w * 2 * c * s;
            }
            double cc = 0.5 * (1 + sc2) - sc * sc, sn = 0.5 * (1 - sc2) - ss * ss, cs = 0.5 * ss2 - sc * ss;
            double d = cc * sn - cs * cs;
            double pb = d > 1e-12 ? (sn * syc * syc + cc * sys * sys - 2 * cs * syc * sys) / (_bandYy[k] * d) : 0;
            result = pb;
            total += pb * _bandChi0[k];
            chi0 += _bandChi0[k];
        }
        return band < 0 ? total / chi0 : result;
    }

    private static int ArgMax(ReadOnlySpan<double> values, out double max)
    {
        int best = 0;
        max = values[0];
        for (int i = 1; i < values.Length; i++)
        {
            if (values[i] > max) { max = values[i]; best = i; }
        }
        return best;
    }

    /// <summary>
    /// Golden-section search for the maximum of the exact power within one grid step either side of grid point
    /// <paramref name="k"/> (the grid's 1/(5T) spacing alone can miss a narrow peak's top by a few per cent of power).
    /// </summary>
    private double Refine(int k, int band, out double power)
    {
        const double InvPhi = 0.6180339887498949;
        double a = _f0 + (k - 1) * _df, b = _f0 + (k + 1) * _df;
        double x1 = b - InvPhi * (b - a), x2 = a + InvPhi * (b - a);
        double p1 = PowerAt(x1, band), p2 = PowerAt(x2, band);
        for (int it = 0; it < 16; it++)
        {
            if (p1 > p2)
            {
                b = x2; x2 = x1; p2 = p1;
                x1 = b - InvPhi * (b - a);
                p1 = PowerAt(x1, band);
            }
            else
            {
                a = x1; x1 = x2; p1 = p2;
                x2 = a + InvPhi * (b - a);
                p2 = PowerAt(x2, band);
            }
        }
        double f = 0.5 * (a + b);
        power = PowerAt(f, band);
        double grid = PowerAt(_f0 + k * _df, band);
        if (grid > power)
        {
            power = grid;
            return _f0 + k * _df;
        }
        return f;
    }

    private double BaluevFap(double z, int bands)
    {
        int n = _nPoints;
        double nh = n - bands, nk = n - 3.0 * bands;
        if (!(z > 0) || nk <= 1) return double.NaN;
        if (z >= 1) return 0;
        // Effective baseline from the variance of the times (unweighted; astropy weights it by 1/σ²).
        double tm = 0;
        for (int i = 0; i < n; i++) tm += _t[i];
        tm /= n;
        double vt = 0;
        for (int i = 0; i < n; i++) vt += (_t[i] - tm) * (_t[i] - tm);
        vt /= n;
        double teff = Math.Sqrt(4 * Math.PI * vt);
        double w2 = MaxFrequency * teff;
        double gamma = Math.Sqrt(2 / nh) * Math.Exp(Numerics.LogGamma(nh / 2) - Numerics.LogGamma((nh - 1) / 2));
        double tau = gamma * w2 * Math.Pow(1 - z, 0.5 * (nk - 1)) * Math.Sqrt(0.5 * nh * z);
        double fapSingle = Math.Pow(1 - z, 0.5 * nk);
        double fap = 1 - (1 - fapSingle) * Math.Exp(-tau);
        return Math.Clamp(fap, 0, 1);
    }

    private void EnsurePoints(int n)
    {
        if (_w.Length >= n) return;
        int size = Math.Max(n, _w.Length * 2);
        _cos = new Vector<double>[size]; _sin = new Vector<double>[size];
        _w = new double[size]; _wy = new double[size]; _rotCos = new double[size]; _rotSin = new double[size]; _t = new double[size];
    }

    private void EnsureFrequencies(int nf, int bands)
    {
        if (_power.Length < nf) _power = new double[Math.Max(nf, _power.Length * 2)];
        for (int b = 0; b < bands; b++)
            if (_bandPower[b].Length < nf) _bandPower[b] = new double[Math.Max(nf, _bandPower[b].Length * 2)];
    }
}
