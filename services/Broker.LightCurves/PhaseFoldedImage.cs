namespace Broker.LightCurves;

/// <summary>
/// The inputs of the periodic-variable CNN: an alert's g and r detections folded at a period and drawn as a small
/// image per band, plus a few scalars (period, colour, amplitudes, point counts). After Szklenár et al. 2020 (ApJL
/// 897, L12), who classify OGLE variables from images of their phase-folded light curves with a CNN, and Szklenár et
/// al. 2022 (arXiv:2209.02310), whose multiple-input network adds the period (and other numbers) beside the images;
/// their images are large single-band plots, these are 2 bands of <see cref="DefaultSide"/> pixels square so that the
/// network stays small enough for a streaming step on one core.
/// </summary>
/// <remarks>
/// <para>
/// Image layout (C order [band, row, column], band 0 = g, band 1 = r; <see cref="Layout"/> names it in the model
/// manifest): the phase φ = frac((t - t₀) / P) of every detection, with t₀ the time of the brightest detection of the
/// band with more detections (so both bands share one phase and maximum light sits at phase 0, the OGLE convention
/// for pulsators), is drawn twice, at φ and φ + 1, over <see cref="Cycles"/> cycles on the x axis: column
/// ⌊φ · side / 2⌋ and that plus side / 2. The y axis is the band's magnitude normalised to its own range,
/// y = (m - m_min) / (m_max - m_min), row round(y · (side - 1)): row 0 the brightest point, the last row the faintest
/// (magnitudes grow downwards, as astronomers plot them). A band whose points all have one magnitude draws them on the
/// middle row. A pixel that holds at least one point is 1, every other pixel 0 (a plot of dots, as the papers
/// draw them); a band with no detection stays all 0.
/// </para>
/// <para>
/// Scalars (<see cref="ScalarNames"/>, in order): log₁₀ P (days); g - r of the mean magnitudes (0 when a band is
/// missing); per band half the range of its magnitudes (0 below 2 points); per band log₁₀(1 + n) of its detections
/// (which also tells the network which band is missing). Times are MJD, magnitudes AB (<see cref="LightCurve"/>).
/// </para>
/// <para>
/// Only detections with finite time and magnitude are drawn (<see cref="LightCurve"/> already drops the others).
/// Allocation-free: the caller owns the spans.
/// </para>
/// </remarks>
public static class PhaseFoldedImage
{
    /// <summary>Image channels: g and r.</summary>
    public const int Channels = 2;

    /// <summary>The side of the images the committed model reads.</summary>
    public const int DefaultSide = 32;

    /// <summary>Phase cycles drawn along the x axis.</summary>
    public const int Cycles = 2;

    /// <summary>Fewest detections, g and r together, an image is drawn from.</summary>
    public const int MinPoints = 5;

    /// <summary>The name of this drawing, recorded in a model's manifest so that a model is served only with the rendering it was trained on.</summary>
    public const string Layout = "phase-folded-v1: channels g, r; x = phase over 2 cycles, maximum light of the better-sampled band at phase 0; y = magnitude normalised per band, brightest at row 0; occupied pixel 1, else 0";

    /// <summary>The scalar inputs, in order.</summary>
    public static IReadOnlyList<string> ScalarNames { get; } = ["log10_period", "g-r_mean", "half_range_g", "half_range_r", "log10_1p_ndet_g", "log10_1p_ndet_r"];

    /// <summary>Number of scalar inputs.</summary>
    public const int ScalarCount = 6;

    /// <summary>Reason: no usable period.</summary>
    public const string NoPeriod = "no period (not finite or not positive)";

    /// <summary>Reason: too few detections.</summary>
    public const string TooFewPoints = "fewer than 5 detections in g and r";

    /// <summary>Floats of one image of side <paramref name="side"/>.</summary>
    public static int ImageLength(int side = DefaultSide) => Channels * side * side;

    /// <summary>
    /// Writes the phase-folded image of <paramref name="lc"/>'s g and r detections at <paramref name="periodDays"/>
    /// into <paramref name="image"/> (length <see cref="ImageLength"/>) and the scalars into <paramref name="scalars"/>
    /// (length <see cref="ScalarCount"/>). Returns null when written, or the reason it is not (<see cref="NoPeriod"/>,
    /// <see cref="TooFewPoints"/>); then both spans are zero.
    /// </summary>
    /// <param name="lc">The light curve (time-sorted, as <see cref="LightCurve.Load"/> leaves it).</param>
    /// <param name="periodDays">The period, days (for example <c>Multiband_period</c> of <see cref="LightCurveFeatures"/>).</param>
    /// <param name="image">Receives [2, side, side].</param>
    /// <param name="scalars">Receives the <see cref="ScalarNames"/> values.</param>
    /// <param name="side">Image side, even, at least 4.</param>
    /// <exception cref="ArgumentException">A span of the wrong length, or a bad side.</exception>
    public static string? TryWrite(LightCurve lc, double periodDays, Span<float> image, Span<float> scalars, int side = DefaultSide)
    {
        ArgumentNullException.ThrowIfNull(lc);
        if (side < 4 || side % 2 != 0) throw new ArgumentException($"side {side} is not an even number of at least 4", nameof(side));
        if (image.Length != ImageLength(side)) throw new ArgumentException($"image has {image.Length} floats, side {side} needs {ImageLength(side)}", nameof(image));
        if (scalars.Length != ScalarCount) throw new ArgumentException($"scalars has {scalars.Length} floats, there are {ScalarCount}", nameof(scalars));
        image.Clear();
        scalars.Clear();
        if (!double.IsFinite(periodDays) || !(periodDays > 0)) return NoPeriod;

        var g = lc.Detections(LightCurveBands.G);
        var r = lc.Detections(LightCurveBands.R);
        var sg = Summarise(g);
        var sr = Summarise(r);
        if (sg.Count + sr.Count < MinPoints) return TooFewPoints;

        // One epoch for both bands: maximum light of the better-sampled band.
        double t0 = sg.Count >= sr.Count ? sg.BrightestTime : sr.BrightestTime;
        int plane = side * side;
        Draw(g, sg, t0, periodDays, image[..plane], side);
        Draw(r, sr, t0, periodDays, image.Slice(plane, plane), side);

        scalars[0] = (float)Math.Log10(periodDays);
        scalars[1] = sg.Count > 0 && sr.Count > 0 ? (float)(sg.Mean - sr.Mean) : 0f;
        scalars[2] = sg.Count >= 2 ? (float)((sg.Max - sg.Min) / 2) : 0f;
        scalars[3] = sr.Count >= 2 ? (float)((sr.Max - sr.Min) / 2) : 0f;
        scalars[4] = (float)Math.Log10(1 + sg.Count);
        scalars[5] = (float)Math.Log10(1 + sr.Count);
        return null;
    }

    private readonly record struct BandSummary(int Count, double Min, double Max, double Mean, double BrightestTime);

    private static BandSummary Summarise(PointSeries s)
    {
        var t = s.Time;
        var m = s.Mag;
        int n = 0;
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, brightest = double.NaN;
        for (int i = 0; i < s.Count; i++)
        {
            if (!double.IsFinite(t[i]) || !double.IsFinite(m[i])) continue;
            n++;
            sum += m[i];
            if (m[i] < min)
            {
                min = m[i];
                brightest = t[i];
            }
            if (m[i] > max) max = m[i];
        }
        return new BandSummary(n, min, max, n > 0 ? sum / n : double.NaN, brightest);
    }

    private static void Draw(PointSeries s, in BandSummary summary, double t0, double period, Span<float> plane, int side)
    {
        if (summary.Count == 0) return;
        var t = s.Time;
        var m = s.Mag;
        int half = side / Cycles;
        double range = summary.Max - summary.Min;
        for (int i = 0; i < s.Count; i++)
        {
            if (!double.IsFinite(t[i]) || !double.IsFinite(m[i])) continue;
            double x = (t[i] - t0) / period;
            double phase = x - Math.Floor(x);
            int column = Math.Min(half - 1, (int)(phase * half));
            int row = range > 0 ? (int)Math.Round((m[i] - summary.Min) / range * (side - 1)) : side / 2;
            plane[row * side + column] = 1f;
            plane[row * side + column + half] = 1f;
        }
    }
}
