namespace Broker.LightCurves;

/// <summary>
/// The inputs of the periodic-variable CNN: an alert's g and r light curves folded at a period and drawn as a small
/// image per band, plus a few scalars (period, its power, amplitudes, colour, point counts). After Szklenár et al. 2020
/// (ApJL 897, L12), who classify OGLE variables from images of their phase-folded light curves with a CNN, and Szklenár
/// et al. 2022 (arXiv:2209.02310), whose multiple-input network adds the period (and other numbers) beside the images;
/// their images are large single-band plots, these are 2 bands of <see cref="DefaultSide"/> pixels square so that the
/// network stays small enough for a streaming step on one core.
/// </summary>
/// <remarks>
/// <para>
/// What is drawn: the signed difference flux (nJy) of every detection and every forced-photometry point of the band.
/// A variable star's difference flux is its flux less the template's, so it is the light curve itself up to a
/// constant, which the per-band normalisation removes; the detections' magnitudes are of |Δf| and fold the faint half
/// of the cycle onto the bright half, so they are not used here.
/// </para>
/// <para>
/// Image layout (C order [band, row, column], band 0 = g, band 1 = r; <see cref="Layout"/> names it in the model
/// manifest): the phase φ = frac((t - t₀) / P) of every point, with t₀ the time of the largest flux of the band with
/// more points (so both bands share one phase and maximum light sits at phase 0, the OGLE convention for
/// pulsators), is drawn twice, at φ and φ + 1, over <see cref="Cycles"/> cycles on the x axis: column ⌊φ · side / 2⌋
/// and that plus side / 2. The y axis is the band's flux normalised to its own range, y = (f_max - f) / (f_max - f_min),
/// row round(y · (side - 1)): row 0 the brightest point, the last row the faintest (as magnitudes are plotted). A band
/// whose points all have one flux draws them on the middle row. A pixel that holds at least one point is 1, every other
/// pixel 0 (a plot of dots, as the papers draw them); a band with no point stays all 0.
/// </para>
/// <para>
/// Scalars (<see cref="ScalarNames"/>, in order): log₁₀ P (days); the period's multiband power (0..1); per band
/// log₁₀(1 + A) with A half the range of its fluxes in nJy (0 below 2 points); the colour of the variation,
/// -2.5 log₁₀(A_g / A_r) (0 when a band has no amplitude); per band log₁₀(1 + n) of its points (which also tells the
/// network which band is missing).
/// </para>
/// <para>
/// Only points with finite time and flux are drawn (<see cref="LightCurve"/> already drops the others). Allocation-free:
/// the caller owns the spans. <see cref="PhaseFoldedInputs"/> finds the period (on the same fluxes) and draws.
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

    /// <summary>Fewest points (detections and forced photometry), g and r together, an image is drawn from.</summary>
    public const int MinPoints = 5;

    /// <summary>The name of this drawing, recorded in a model's manifest so that a model is served only with the rendering it was trained on.</summary>
    public const string Layout = "phase-folded-v2: channels g, r; signed difference flux of detections and forced photometry; x = phase over 2 cycles, maximum flux of the better-sampled band at phase 0; y = flux normalised per band, brightest at row 0; occupied pixel 1, else 0";

    /// <summary>The scalar inputs, in order.</summary>
    public static IReadOnlyList<string> ScalarNames { get; } = ["log10_period", "period_power", "log10_1p_amplitude_g", "log10_1p_amplitude_r", "g-r_amplitude", "log10_1p_n_g", "log10_1p_n_r"];

    /// <summary>Number of scalar inputs.</summary>
    public const int ScalarCount = 7;

    /// <summary>Reason: no usable period.</summary>
    public const string NoPeriod = "no period (not finite or not positive)";

    /// <summary>Reason: too few points.</summary>
    public const string TooFewPoints = "fewer than 5 detections and forced-photometry points in g and r";

    /// <summary>Floats of one image of side <paramref name="side"/>.</summary>
    public static int ImageLength(int side = DefaultSide) => Channels * side * side;

    /// <summary>
    /// Writes the phase-folded image of <paramref name="lc"/>'s g and r fluxes at <paramref name="periodDays"/> into
    /// <paramref name="image"/> (length <see cref="ImageLength"/>) and the scalars into <paramref name="scalars"/>
    /// (length <see cref="ScalarCount"/>). Returns null when written, or the reason it is not (<see cref="NoPeriod"/>,
    /// <see cref="TooFewPoints"/>); then both spans are zero.
    /// </summary>
    /// <param name="lc">The light curve.</param>
    /// <param name="periodDays">The period, days (<see cref="PhaseFoldedInputs"/> finds it).</param>
    /// <param name="periodPower">The period's power, 0..1 (NaN is written as 0).</param>
    /// <param name="image">Receives [2, side, side].</param>
    /// <param name="scalars">Receives the <see cref="ScalarNames"/> values.</param>
    /// <param name="side">Image side, even, at least 4.</param>
    /// <exception cref="ArgumentException">A span of the wrong length, or a bad side.</exception>
    public static string? TryWrite(LightCurve lc, double periodDays, double periodPower, Span<float> image, Span<float> scalars, int side = DefaultSide)
    {
        ArgumentNullException.ThrowIfNull(lc);
        if (side < 4 || side % 2 != 0) throw new ArgumentException($"side {side} is not an even number of at least 4", nameof(side));
        if (image.Length != ImageLength(side)) throw new ArgumentException($"image has {image.Length} floats, side {side} needs {ImageLength(side)}", nameof(image));
        if (scalars.Length != ScalarCount) throw new ArgumentException($"scalars has {scalars.Length} floats, there are {ScalarCount}", nameof(scalars));
        image.Clear();
        scalars.Clear();
        int g = LightCurveBands.G, r = LightCurveBands.R;
        var sg = Summarise(lc.Detections(g), Summarise(lc.Forced(g), default));
        var sr = Summarise(lc.Detections(r), Summarise(lc.Forced(r), default));
        if (sg.Count + sr.Count < MinPoints) return TooFewPoints;
        if (!double.IsFinite(periodDays) || !(periodDays > 0)) return NoPeriod;

        // One epoch for both bands: maximum light of the better-sampled band.
        double t0 = sg.Count >= sr.Count ? sg.BrightestTime : sr.BrightestTime;
        int plane = side * side;
        Draw(lc.Detections(g), sg, t0, periodDays, image[..plane], side);
        Draw(lc.Forced(g), sg, t0, periodDays, image[..plane], side);
        Draw(lc.Detections(r), sr, t0, periodDays, image.Slice(plane, plane), side);
        Draw(lc.Forced(r), sr, t0, periodDays, image.Slice(plane, plane), side);

        double ag = sg.Count >= 2 ? (sg.Max - sg.Min) / 2 : 0, ar = sr.Count >= 2 ? (sr.Max - sr.Min) / 2 : 0;
        scalars[0] = (float)Math.Log10(periodDays);
        scalars[1] = double.IsFinite(periodPower) ? (float)periodPower : 0f;
        scalars[2] = (float)Math.Log10(1 + ag);
        scalars[3] = (float)Math.Log10(1 + ar);
        scalars[4] = ag > 0 && ar > 0 ? (float)(-2.5 * Math.Log10(ag / ar)) : 0f;
        scalars[5] = (float)Math.Log10(1 + sg.Count);
        scalars[6] = (float)Math.Log10(1 + sr.Count);
        return null;
    }

    private readonly record struct BandSummary(int Count, double Min, double Max, double BrightestTime);

    /// <summary>Adds <paramref name="s"/>'s finite fluxes to <paramref name="so"/> (count, range, time of the largest flux).</summary>
    private static BandSummary Summarise(PointSeries s, BandSummary so)
    {
        var t = s.Time;
        var f = s.Flux;
        int n = so.Count;
        double min = n > 0 ? so.Min : double.PositiveInfinity, max = n > 0 ? so.Max : double.NegativeInfinity, brightest = so.BrightestTime;
        for (int i = 0; i < s.Count; i++)
        {
            if (!double.IsFinite(t[i]) || !double.IsFinite(f[i])) continue;
            n++;
            if (f[i] > max)
            {
                max = f[i];
                brightest = t[i];
            }
            if (f[i] < min) min = f[i];
        }
        return new BandSummary(n, min, max, brightest);
    }

    private static void Draw(PointSeries s, in BandSummary summary, double t0, double period, Span<float> plane, int side)
    {
        if (summary.Count == 0) return;
        var t = s.Time;
        var f = s.Flux;
        int half = side / Cycles;
        double range = summary.Max - summary.Min;
        for (int i = 0; i < s.Count; i++)
        {
            if (!double.IsFinite(t[i]) || !double.IsFinite(f[i])) continue;
            double x = (t[i] - t0) / period;
            double phase = x - Math.Floor(x);
            int column = Math.Min(half - 1, (int)(phase * half));
            int row = range > 0 ? (int)Math.Round((summary.Max - f[i]) / range * (side - 1)) : side / 2;
            plane[row * side + column] = 1f;
            plane[row * side + column + half] = 1f;
        }
    }
}

/// <summary>
/// A worker's workspace for the periodic CNN's inputs: finds the period of an alert's g and r light curves with the
/// multiband generalised Lomb-Scargle search of <see cref="LightCurveFeatures"/> (VanderPlas &amp; Ivezić 2015;
/// Zechmeister &amp; Kürster 2009), run on the signed difference fluxes of the detections and forced photometry
/// (<see cref="PhaseFoldedImage"/> says why not the magnitudes), and draws <see cref="PhaseFoldedImage"/> at it.
/// Allocation-free once its arrays have grown to the longest light curve seen. Not thread-safe: one per worker.
/// </summary>
public sealed class PhaseFoldedInputs
{
    private static readonly int[] Bands = [LightCurveBands.G, LightCurveBands.R];
    private readonly MultibandPeriodogram _periodogram = new();

    /// <summary>A workspace drawing images of side <paramref name="side"/>.</summary>
    public PhaseFoldedInputs(int side = PhaseFoldedImage.DefaultSide) => Side = side;

    /// <summary>Image side.</summary>
    public int Side { get; }

    /// <summary>The period of the last <see cref="TryWrite"/>, days, or NaN.</summary>
    public double LastPeriod { get; private set; } = double.NaN;

    /// <summary>Its multiband power (0..1), or NaN.</summary>
    public double LastPower { get; private set; } = double.NaN;

    /// <summary>
    /// The period of <paramref name="lc"/>'s g and r fluxes (days) and its power; NaN when no band has
    /// <see cref="MultibandPeriodogram.MinPointsPerBand"/> points or the baseline is zero. Searched from 1/T (T the
    /// baseline) to 20 d⁻¹.
    /// </summary>
    public (double PeriodDays, double Power) FindPeriod(LightCurve lc)
    {
        if (!_periodogram.SearchFlux(lc, Bands)) return (double.NaN, double.NaN);
        return (1 / _periodogram.BestFrequency, _periodogram.BestPower);
    }

    /// <summary>Finds the period and writes the image and scalars; null when written, else the reason (<see cref="PhaseFoldedImage.NoPeriod"/>, <see cref="PhaseFoldedImage.TooFewPoints"/>).</summary>
    public string? TryWrite(LightCurve lc, Span<float> image, Span<float> scalars)
    {
        (LastPeriod, LastPower) = FindPeriod(lc);
        return PhaseFoldedImage.TryWrite(lc, LastPeriod, LastPower, image, scalars, Side);
    }
}
