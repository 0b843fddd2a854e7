using System.Buffers;

namespace Broker.Alerts.Fits;

/// <summary>
/// IRAF's zscale display interval, ported from astropy.visualization.ZScaleInterval.get_limits (astropy 5.2, itself
/// after stsci.numdisplay's zscale.py): sample the finite pixels, sort them, fit a line to the sorted samples with
/// iterative k-sigma rejection, and take the limits from the median and the line's slope divided by the contrast.
/// </summary>
public static class ZScale
{
    /// <summary>
    /// The zscale limits of <paramref name="values"/>, in the units of the data. Non-finite values are ignored; when
    /// none is finite both limits are NaN. The parameters and their defaults are astropy's.
    /// </summary>
    /// <param name="values">Pixels in row-major order (the sampling takes every stride-th finite pixel in this order).</param>
    /// <param name="samples">Number of pixels to sample (astropy <c>n_samples</c>).</param>
    /// <param name="contrast">Scaling of the fitted slope; larger values widen the interval.</param>
    /// <param name="maxReject">If more than this fraction of samples is rejected, the limits are the sample minimum and maximum.</param>
    /// <param name="minPixels">If fewer samples than this remain after rejection, the limits are the sample minimum and maximum.</param>
    /// <param name="krej">Rejection threshold in standard deviations of the residuals.</param>
    /// <param name="maxIterations">Maximum number of rejection iterations (at least 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is out of range.</exception>
    public static (double Min, double Max) GetLimits(
        ReadOnlySpan<float> values,
        int samples = 1000,
        double contrast = 0.25,
        double maxReject = 0.5,
        int minPixels = 5,
        double krej = 2.5,
        int maxIterations = 5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxIterations);

        int finite = 0;
        foreach (float v in values) if (float.IsFinite(v)) finite++;
        if (finite == 0) return (double.NaN, double.NaN);

        // stride = int(max(1.0, size / n_samples)); samples = values[::stride][:n_samples]
        int stride = (int)Math.Max(1.0, (double)finite / samples);
        int npix = Math.Min(samples, (finite + stride - 1) / stride);
        float[] sampleBuffer = ArrayPool<float>.Shared.Rent(npix);
        bool[] badBuffer = ArrayPool<bool>.Shared.Rent(npix);
        bool[] grownBuffer = ArrayPool<bool>.Shared.Rent(npix);
        try
        {
            var sample = sampleBuffer.AsSpan(0, npix);
            int taken = 0, seen = 0;
            for (int i = 0; i < values.Length && taken < npix; i++)
            {
                float v = values[i];
                if (!float.IsFinite(v)) continue;
                if (seen++ % stride == 0) sample[taken++] = v;
            }
            sample.Sort();

            double vmin = sample[0], vmax = sample[npix - 1];
            int minpix = Math.Max(minPixels, (int)(npix * maxReject));
            int ngrow = Math.Max(1, (int)(npix * 0.01));
            var bad = badBuffer.AsSpan(0, npix);
            var grown = grownBuffer.AsSpan(0, npix);
            bad.Clear();

            int ngood = npix, lastNgood = npix + 1;
            double slope = 0, intercept = 0;
            for (int iteration = 0; iteration < maxIterations; iteration++)
            {
                if (ngood >= lastNgood || ngood < minpix) break;

                // np.polyfit(x, samples, 1, w=~badpix): least squares over the good samples, x = sample index.
                double sw = 0, sx = 0, sy = 0;
                for (int i = 0; i < npix; i++)
                {
                    if (bad[i]) continue;
                    sw++;
                    sx += i;
                    sy += sample[i];
                }
                double xm = sx / sw, ym = sy / sw, sxx = 0, sxy = 0;
                for (int i = 0; i < npix; i++)
                {
                    if (bad[i]) continue;
                    double dx = i - xm;
                    sxx += dx * dx;
                    sxy += dx * (sample[i] - ym);
                }
                slope = sxy / sxx;
                intercept = ym - slope * xm;

                // threshold = krej * std of the residuals of the good samples (population standard deviation).
                double mean = 0;
                for (int i = 0; i < npix; i++) if (!bad[i]) mean += sample[i] - (intercept + slope * i);
                mean /= sw;
                double variance = 0;
                for (int i = 0; i < npix; i++)
                {
                    if (bad[i]) continue;
                    double d = sample[i] - (intercept + slope * i) - mean;
                    variance += d * d;
                }
                double threshold = krej * Math.Sqrt(variance / sw);

                for (int i = 0; i < npix; i++)
                {
                    double flat = sample[i] - (intercept + slope * i);
                    if (flat < -threshold || flat > threshold) bad[i] = true;
                }

                // np.convolve(badpix, ones(ngrow), mode="same"): sample i is bad when any of samples
                // i - ngrow/2 .. i + (ngrow - 1 - ngrow/2) is.
                int left = ngrow / 2, right = ngrow - 1 - left;
                for (int i = 0; i < npix; i++)
                {
                    bool any = false;
                    int hi = Math.Min(npix - 1, i + right);
                    for (int j = Math.Max(0, i - left); j <= hi && !any; j++) any = bad[j];
                    grown[i] = any;
                }
                grown.CopyTo(bad);

                lastNgood = ngood;
                ngood = 0;
                foreach (bool b in bad) if (!b) ngood++;
            }

            if (ngood >= minpix)
            {
                if (contrast > 0) slope /= contrast;
                int center = (npix - 1) / 2;
                // np.median of float32 samples: the middle one, or the float32 mean of the middle two.
                float median = npix % 2 == 1 ? sample[npix / 2] : (sample[npix / 2 - 1] + sample[npix / 2]) / 2f;
                vmin = Math.Max(vmin, median - (center - 1) * slope);
                vmax = Math.Min(vmax, median + (npix - center) * slope);
            }
            return (vmin, vmax);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sampleBuffer);
            ArrayPool<bool>.Shared.Return(badBuffer);
            ArrayPool<bool>.Shared.Return(grownBuffer);
        }
    }
}
