using System.Globalization;

namespace Broker.LightCurves.Tests;

public class PhaseFoldedImageTests
{
    private const int Side = PhaseFoldedImage.DefaultSide;
    private const int Half = Side / 2;
    private static readonly int Plane = Side * Side;

    /// <summary>m(t) = mean - amp cos(2π (t - tMax) / P): maximum light (smallest magnitude) at tMax.</summary>
    private static double Sinusoid(double t, double mean, double amp, double period, double tMax) => mean - amp * Math.Cos(2 * Math.PI * (t - tMax) / period);

    private static LightCurve Curve(IEnumerable<(int Band, double Mjd, double Mag)> points)
    {
        var lc = new LightCurve();
        foreach (var (band, mjd, mag) in points) lc.AddDetection(band, mjd, mag, 0.02, double.NaN, double.NaN, true);
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
            points.Add((band, tMax + 40 * period, mean - amp));
            points.Add((band, tMax + 40.5 * period, mean + amp));
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
        var points = SinusoidPoints(LightCurveBands.G, 400, 17.0, 0.5, period, tMax, 1, includeMaximum: true);
        points.AddRange(SinusoidPoints(LightCurveBands.R, 300, 16.6, 0.3, period, tMax, 2, includeMaximum: true));
        var lc = Curve(points);
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, period, image, scalars));

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
        Assert.Equal(0.4, scalars[1], 2);     // g - r of the means: 17.0 - 16.6
        Assert.Equal(0.5, scalars[2], 4);     // half the g range
        Assert.Equal(0.3, scalars[3], 4);     // half the r range
        Assert.Equal(Math.Log10(1 + 402), scalars[4], 4);
        Assert.Equal(Math.Log10(1 + 302), scalars[5], 4);
    }

    [Fact]
    public void Folding_at_a_wrong_period_scatters_the_points_the_right_period_lines_up()
    {
        const double period = 0.613;
        var lc = Curve(SinusoidPoints(LightCurveBands.G, 400, 17.0, 0.5, period, 60000.2, 3, includeMaximum: true));
        var right = new float[PhaseFoldedImage.ImageLength()];
        var wrong = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, period, right, scalars));
        Assert.Null(PhaseFoldedImage.TryWrite(lc, period * 1.37, wrong, scalars));
        int Occupied(float[] image) => image.Count(v => v != 0);
        // A folded sinusoid is a thin curve; the wrong fold fills much of the plane.
        Assert.True(Occupied(wrong) > 3 * Occupied(right), $"right fold {Occupied(right)} pixels, wrong fold {Occupied(wrong)}");
    }

    [Fact]
    public void An_empty_light_curve_is_too_short_and_leaves_zeros()
    {
        var image = Enumerable.Repeat(7f, PhaseFoldedImage.ImageLength()).ToArray();
        var scalars = Enumerable.Repeat(7f, PhaseFoldedImage.ScalarCount).ToArray();
        Assert.Equal(PhaseFoldedImage.TooFewPoints, PhaseFoldedImage.TryWrite(new LightCurve(), 1.0, image, scalars));
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
        var lc = Curve(SinusoidPoints(LightCurveBands.G, 30, 17, 0.5, 0.6, 60000, 4, includeMaximum: false));
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Equal(PhaseFoldedImage.NoPeriod, PhaseFoldedImage.TryWrite(lc, period, image, scalars));
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
        }
        lc.Complete();
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Equal(PhaseFoldedImage.TooFewPoints, PhaseFoldedImage.TryWrite(lc, 0.7, image, scalars));
        lc.AddDetection(LightCurveBands.G, 60005, 17.5, 0.02, double.NaN, double.NaN, true);
        lc.Complete();
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 0.7, image, scalars));
        // Five g points (at most two columns each cycle coincide), nothing in r.
        Assert.InRange(image.AsSpan(0, Plane).ToArray().Count(v => v != 0), 2, 10);
        Assert.All(image.AsSpan(Plane, Plane).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void One_band_draws_that_band_only_and_says_the_other_is_missing()
    {
        var lc = Curve(SinusoidPoints(LightCurveBands.R, 40, 16, 0.4, 2.5, 60001, 5, includeMaximum: true));
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 2.5, image, scalars));
        Assert.All(image.AsSpan(0, Plane).ToArray(), v => Assert.Equal(0f, v));
        Assert.True(image.AsSpan(Plane, Plane).ToArray().Count(v => v != 0) >= 20);
        Assert.Equal(0f, scalars[1]);   // no colour
        Assert.Equal(0f, scalars[2]);   // no g range
        Assert.Equal(0.4, scalars[3], 4);
        Assert.Equal(0f, scalars[4]);   // log10(1 + 0)
        // The epoch comes from r (the better-sampled band): its maximum is at phase 0.
        Assert.Equal(1f, image[Plane]);
    }

    [Fact]
    public void A_constant_band_is_drawn_on_the_middle_row()
    {
        var points = Enumerable.Range(0, 8).Select(i => (LightCurveBands.G, 60000 + 0.37 * i, 18.0)).ToList();
        var lc = Curve(points);
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        Assert.Null(PhaseFoldedImage.TryWrite(lc, 1.0, image, scalars));
        for (int i = 0; i < Plane; i++)
            if (image[i] != 0) Assert.Equal(Side / 2, i / Side);
        Assert.Equal(0f, scalars[2]);
    }

    [Fact]
    public void Spans_of_the_wrong_length_and_odd_sides_are_argument_errors()
    {
        var lc = new LightCurve();
        Assert.Throws<ArgumentException>(() => PhaseFoldedImage.TryWrite(lc, 1, new float[10], new float[PhaseFoldedImage.ScalarCount]));
        Assert.Throws<ArgumentException>(() => PhaseFoldedImage.TryWrite(lc, 1, new float[PhaseFoldedImage.ImageLength()], new float[3]));
        Assert.Throws<ArgumentException>(() => PhaseFoldedImage.TryWrite(lc, 1, new float[2 * 31 * 31], new float[PhaseFoldedImage.ScalarCount], side: 31));
        Assert.Null(PhaseFoldedImage.TryWrite(Curve(SinusoidPoints(0, 20, 17, 0.3, 0.9, 60000, 6, false)), 0.9, new float[2 * 16 * 16], new float[PhaseFoldedImage.ScalarCount], side: 16));
    }

    [Fact]
    public void Drawing_allocates_nothing()
    {
        var lc = Curve(SinusoidPoints(LightCurveBands.G, 200, 17, 0.5, 0.61, 60000, 7, true).Concat(SinusoidPoints(LightCurveBands.R, 200, 16.5, 0.3, 0.61, 60000, 8, true)));
        var image = new float[PhaseFoldedImage.ImageLength()];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        PhaseFoldedImage.TryWrite(lc, 0.61, image, scalars);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) PhaseFoldedImage.TryWrite(lc, 0.61 + 0.001 * i, image, scalars);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
