using System.Globalization;

namespace Broker.LightCurves.Tests;

public class PhaseFoldedImageTests
{
    private const int Side = PhaseFoldedImage.DefaultSide;
    private const int Half = Side / 2;
    private static readonly int Plane = Side * Side;

    /// <summary>Difference flux f(t) = mean + amp cos(2π (t - tMax) / P), nJy: maximum light at tMax; negative where the star is fainter than its template.</summary>
    private static double Sinusoid(double t, double mean, double amp, double period, double tMax) => mean + amp * Math.Cos(2 * Math.PI * (t - tMax) / period);

    /// <summary>A light curve of detections with these signed difference fluxes (magnitudes derived from |f|, as the library does).</summary>
    private static LightCurve Curve(IEnumerable<(int Band, double Mjd, double Flux)> points)
    {
        var lc = new LightCurve();
        foreach (var (band, mjd, flux) in points) lc.AddDetection(band, mjd, double.NaN, double.NaN, flux, 50, flux > 0);
        lc.Complete();
        return lc;
    }

    private static List<(int, double, double)> SinusoidPoints(int band, int n, double mean, double amp, double period, double tMax, int seed, bool includeMaximum)
    {
        var rng = new Random(seed);
        var points = new List<(int, double, double)>();
        for (int i = 0; i < n; i++)
        {
            double t = 60000 + rng.NextDouble() * 100;
            points.Add((band, t, Sinusoid(t, mean, amp, period, tMax)));
        }
        // One point exactly at maximum light (and one at minimum), so the epoch and the range are known exactly.
        if (includeMaximum)
        {
            points.Add((band, tMax + 40 * period, mean + amp));
            points.Add((band, tMax + 40.5 * period, mean - amp));
        }
        return points;
    }

    private static List<int> Rows(ReadOnlySpan<float> plane, int column)
    {
        var rows = new List<int>();
        for (int row = 0; row < Side; row++) if (plane[row * Side + column] != 0) rows.Add(row);
        return rows;
    }

    [Fact]
    public void A_noiseless_sinusoid_lands_on_its_analytic_curve_in_both_cycles_and_bands()
    {
        const double period = 0.613, tMax = 60000.2;
        // g swings from -3000 to +5000 nJy about its template (through zero: fainter and brighter than it), r from 500 to 6500.
        var points = SinusoidPoints(LightCurveBands.G, 400, 1000, 4000, period, tMax, 1, includeMaximum: true);
        points.AddRange(SinusoidPoints(LightCurveBands.R, 300, 3500, 3000, period, tMax, 2, includeMaximum: true));
        var lc = Curve(points);
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, period, 0.9, image, scalars));

        for (int band = 0; band < 2; band++)
        {
            var plane = image.AsSpan(band * Plane, Plane);
            for (int column = 0; column < Half; column++)
            {
                // Over this column's phase interval, y = (1 - cos 2πφ) / 2 (maximum light at phase 0, row 0) spans these rows.
                double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
                for (int k = 0; k <= 20; k++)
                {
                    double phase = (column + k / 20.0) / Half;
                    double row = (1 - Math.Cos(2 * Math.PI * phase)) / 2 * (Side - 1);
                    lo = Math.Min(lo, row);
                    hi = Math.Max(hi, row);
                }
                var rows = Rows(plane, column);
                Assert.NotEmpty(rows);
                foreach (int row in rows)
                    Assert.True(row >= Math.Floor(lo) - 1 && row <= Math.Ceiling(hi) + 1, string.Create(CultureInfo.InvariantCulture, $"band {band} column {column}: row {row} outside [{lo:F1}, {hi:F1}]"));
                // The second cycle repeats the first.
                Assert.Equal(rows, Rows(plane, column + Half));
            }
            // Maximum light at phase 0 (top row, first column of each cycle), minimum at phase 0.5 (bottom row).
            Assert.Equal(1f, plane[0]);
            Assert.Equal(1f, plane[Half]);
            // (t - t0) / P of the minimum is 0.5 to rounding: column Half / 2, or the one before it.
            Assert.True(plane[(Side - 1) * Side + Half / 2] == 1f || plane[(Side - 1) * Side + Half / 2 - 1] == 1f);
        }

        Assert.Equal(Math.Log10(period), scalars[0], 4);
        Assert.Equal(0.9, scalars[1], 4);
        Assert.Equal(Math.Log10(1 + 4000), scalars[2], 4);    // half the g range, nJy
        Assert.Equal(Math.Log10(1 + 3000), scalars[3], 4);
        Assert.Equal(-2.5 * Math.Log10(4000.0 / 3000), scalars[4], 4);
        Assert.Equal(Math.Log10(1 + 402), scalars[5], 4);
        Assert.Equal(Math.Log10(1 + 302), scalars[6], 4);
    }

    [Fact]
    public void Folding_at_a_wrong_period_scatters_the_points_the_right_period_lines_up()
    {
        const double period = 0.613;
        var lc = Curve(SinusoidPoints(LightCurveBands.G, 400, 0, 3000, period, 60000.2, 3, includeMaximum: true));
        var right = new float[PhaseFoldedImage.ImageLength()];
        var wrong = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, period, 1, right, scalars));
        Assert.Null(PhaseFoldedImage.TryWrite(lc, period * 1.37, 1, wrong, scalars));
        int Occupied(float[] image) => image.Count(v => v != 0);
        // A folded sinusoid is a thin curve; the wrong fold fills much of the plane.
        Assert.True(Occupied(wrong) > 3 * Occupied(right), $"right fold {Occupied(right)} pixels, wrong fold {Occupied(wrong)}");
    }

    [Fact]
    public void An_empty_light_curve_is_too_short_and_leaves_zeros()
    {
        var image = Enumerable.Repeat(7f, PhaseFoldedImage.ImageLength()).ToArray();
        var scalars = Enumerable.Repeat(7f, PhaseFoldedImage.ScalarCount).ToArray();
        Assert.Equal(PhaseFoldedImage.TooFewPoints, PhaseFoldedImage.TryWrite(new LightCurve(), 1.0, 1, image, scalars));
        Assert.Equal(PhaseFoldedImage.TooFewPoints, new PhaseFoldedInputs().TryWrite(new LightCurve(), image, scalars));
        Assert.All(image, v => Assert.Equal(0f, v));
        Assert.All(scalars, v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(0.0)]
    [InlineData(-2.0)]
    public void A_period_that_is_not_finite_and_positive_is_refused(double period)
    {
        var lc = Curve(SinusoidPoints(LightCurveBands.G, 30, 0, 2000, 0.6, 60000, 4, includeMaximum: false));
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Equal(PhaseFoldedImage.NoPeriod, PhaseFoldedImage.TryWrite(lc, period, 1, image, scalars));
        Assert.All(image, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Nan_points_are_not_drawn_and_do_not_count_towards_the_minimum()
    {
        var lc = new LightCurve();
        for (int i = 0; i < 4; i++) lc.AddDetection(LightCurveBands.G, 60000 + i, 17 + 0.1 * i, 0.02, double.NaN, double.NaN, true);
        for (int i = 0; i < 10; i++)
        {
            lc.AddDetection(LightCurveBands.R, 60010 + i, double.NaN, 0.02, double.NaN, double.NaN, true);
            lc.AddDetection(LightCurveBands.R, double.NaN, 17, 0.02, double.NaN, double.NaN, true);
            lc.AddForced(LightCurveBands.R, 60020 + i, double.NaN, 30);
            lc.AddForced(LightCurveBands.R, 60030 + i, 100, double.NaN);
        }
        lc.Complete();
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Equal(PhaseFoldedImage.TooFewPoints, PhaseFoldedImage.TryWrite(lc, 0.7, 1, image, scalars));
        lc.AddDetection(LightCurveBands.G, 60005, 17.5, 0.02, double.NaN, double.NaN, true);
        lc.Complete();
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 0.7, 1, image, scalars));
        // Five g points (at most two columns each cycle coincide), nothing in r.
        Assert.InRange(image.AsSpan(0, Plane).ToArray().Count(v => v != 0), 2, 10);
        Assert.All(image.AsSpan(Plane, Plane).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void One_band_draws_that_band_only_and_says_the_other_is_missing()
    {
        var lc = Curve(SinusoidPoints(LightCurveBands.R, 40, 0, 400, 2.5, 60001, 5, includeMaximum: true));
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 2.5, double.NaN, image, scalars));
        Assert.All(image.AsSpan(0, Plane).ToArray(), v => Assert.Equal(0f, v));
        Assert.True(image.AsSpan(Plane, Plane).ToArray().Count(v => v != 0) >= 20);
        Assert.Equal(0f, scalars[1]);   // NaN power written as 0
        Assert.Equal(0f, scalars[2]);   // no g amplitude
        Assert.Equal(Math.Log10(401), scalars[3], 4);
        Assert.Equal(0f, scalars[4]);   // no colour
        Assert.Equal(0f, scalars[5]);   // log10(1 + 0)
        // The epoch comes from r (the better-sampled band): its maximum is at phase 0.
        Assert.Equal(1f, image[Plane]);
    }

    [Fact]
    public void A_constant_band_is_drawn_on_the_middle_row()
    {
        var points = Enumerable.Range(0, 8).Select(i => (LightCurveBands.G, 60000 + 0.37 * i, 1800.0)).ToList();
        var lc = Curve(points);
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 1.0, 1, image, scalars));
        for (int i = 0; i < Plane; i++)
            if (image[i] != 0) Assert.Equal(Side / 2, i / Side);
        Assert.Equal(0f, scalars[2]);
    }

    [Fact]
    public void Spans_of_the_wrong_length_and_odd_sides_are_argument_errors()
    {
        var lc = new LightCurve();
        Assert.Throws<ArgumentException>(() => PhaseFoldedImage.TryWrite(lc, 1, 1, new float[10], new float[PhaseFoldedImage.ScalarCount]));
        Assert.Throws<ArgumentException>(() => PhaseFoldedImage.TryWrite(lc, 1, 1, new float[PhaseFoldedImage.ImageLength()], new float[3]));
        Assert.Throws<ArgumentException>(() => PhaseFoldedImage.TryWrite(lc, 1, 1, new float[2 * 31 * 31], new float[PhaseFoldedImage.ScalarCount], side: 31));
        Assert.Null(PhaseFoldedImage.TryWrite(Curve(SinusoidPoints(0, 20, 0, 300, 0.9, 60000, 6, false)), 0.9, 1, new float[2 * 16 * 16], new float[PhaseFoldedImage.ScalarCount], side: 16));
    }

    [Fact]
    public void Drawing_allocates_nothing()
    {
        var lc = Curve(SinusoidPoints(LightCurveBands.G, 200, 0, 2000, 0.61, 60000, 7, true).Concat(SinusoidPoints(LightCurveBands.R, 200, 500, 1500, 0.61, 60000, 8, true)));
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        var inputs = new PhaseFoldedInputs();
        Assert.Null(inputs.TryWrite(lc, image, scalars));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) PhaseFoldedImage.TryWrite(lc, 0.61 + 0.001 * i, 1, image, scalars);
        for (int i = 0; i < 3; i++) inputs.TryWrite(lc, image, scalars);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void The_period_search_on_signed_fluxes_finds_a_sinusoid_whose_difference_magnitudes_fold_at_half_its_period()
    {
        // A star swinging symmetrically about its template: |Δf| repeats every half period, the signed flux every period.
        const double period = 0.613;
        var rng = new Random(9);
        var lc = new LightCurve();
        for (int i = 0; i < 120; i++)
        {
            double t = 60000 + rng.NextDouble() * 200;
            int band = i % 2;
            double f = (band == 0 ? 3000 : 2000) * Math.Sin(2 * Math.PI * t / period) + 40 * Synthetic.Gaussian(rng);
            if (i % 3 == 0) lc.AddForced(band, t, f, 40);
            else lc.AddDetection(band, t, double.NaN, double.NaN, f, 40, f > 0);
        }
        lc.Complete();
        var inputs = new PhaseFoldedInputs();
        var (found, power) = inputs.FindPeriod(lc);
        Assert.Equal(period, found, 3);
        Assert.InRange(power, 0.9, 1.0);
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(inputs.TryWrite(lc, image, scalars));
        Assert.Equal(found, inputs.LastPeriod);
        Assert.Equal(Math.Log10(found), scalars[0], 4);
        Assert.Equal(power, scalars[1], 4);
        // g's amplitude 3000 against r's 2000: the variation is bluer in g.
        Assert.Equal(-2.5 * Math.Log10(1.5), scalars[4], 1);
    }

    [Fact]
    public void Forced_photometry_is_drawn_beside_the_detections_and_fainter_than_template_points_sit_lower()
    {
        var lc = new LightCurve();
        // Detections above the template at phase 0.25, forced points below it at phase 0.75 (period 1 day).
        for (int i = 0; i < 4; i++) lc.AddDetection(LightCurveBands.G, 60000.25 + i, double.NaN, double.NaN, 2000, 30, true);
        for (int i = 0; i < 4; i++) lc.AddForced(LightCurveBands.G, 60000.75 + i, -1000, 30);
        lc.Complete();
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 1.0, 1, image, scalars));
        // The brightest point's time is the epoch: the detections fold to phase 0 (top row), the forced points to 0.5 (bottom).
        Assert.Equal(1f, image[0]);
        Assert.Equal(1f, image[(Side - 1) * Side + Half / 2]);
        Assert.Equal(4, image.AsSpan(0, Plane).ToArray().Count(v => v != 0));
        Assert.Equal(Math.Log10(1 + 1500), scalars[2], 4);
    }
}
