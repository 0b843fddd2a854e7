using System.Buffers;
using Broker.Alerts.Fits;
using Broker.Alerts.IO;
using Broker.Alerts.Model;

namespace Broker.Onnx;

/// <summary>Why <see cref="BraaiPreprocessor"/> could not make an input from an alert's cutouts.</summary>
public sealed class BraaiInputException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// ZTF's braai real/bogus input (Duev et al. 2019; models up to d6_m7) from an alert's three stamps, channels
/// first [3, 63, 63] (science, template, difference): each gzipped FITS stamp is inflated and decoded, NaN set to
/// 0, each image row (numpy's <c>data[i, :]</c>, a stored FITS row) divided by its L2 norm (rows of norm 0 left as
/// they are), then padded at the end of both axes (bottom/right in numpy's view) to 63 x 63 with 1e-9.
/// </summary>
/// <remarks>
/// Allocation-light: the output goes into the caller's span; the inflated FITS bytes are pooled. The FITS reader
/// (<see cref="FitsFile.ReadFirstImage"/>) allocates one pixel array per stamp.
/// </remarks>
public static class BraaiPreprocessor
{
    /// <summary>The stamp side the model takes.</summary>
    public const int Side = 63;

    /// <summary>Channels: science, template, difference.</summary>
    public const int Channels = 3;

    /// <summary>Floats per alert: 3 x 63 x 63.</summary>
    public const int Length = Channels * Side * Side;

    /// <summary>The padding value braai's pipeline uses.</summary>
    public const float Pad = 1e-9f;

    /// <summary>Writes the braai input of <paramref name="cutouts"/> into <paramref name="destination"/> (<see cref="Length"/> floats).</summary>
    /// <exception cref="BraaiInputException">A stamp is absent, not FITS, or larger than 63 x 63.</exception>
    public static void Write(Cutouts cutouts, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(cutouts);
        if (destination.Length < Length) throw new ArgumentException($"destination holds {destination.Length} floats, needs {Length}", nameof(destination));
        for (int c = 0; c < Channels; c++)
        {
            var stamp = cutouts[c] ?? throw new BraaiInputException($"no {SurveyAlertMapper.CutoutKinds[c]} cutout");
            FitsImage image;
            try
            {
                if (Gzip.IsGzip(stamp))
                {
                    byte[] fits = Gzip.InflatePooled(stamp, FitsFile.MaxDecompressedBytes, out int length);
                    try
                    {
                        image = FitsFile.ReadFirstImage(fits.AsSpan(0, length));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(fits);
                    }
                }
                else image = FitsFile.ReadFirstImage(stamp);
            }
            catch (Exception e) when (e is FitsFormatException or InvalidDataException or GzipLimitException)
            {
                throw new BraaiInputException($"{SurveyAlertMapper.CutoutKinds[c]} cutout: {e.Message}", e);
            }
            WriteChannel(image.Pixels, image.Width, image.Height, destination.Slice(c * Side * Side, Side * Side));
        }
    }

    /// <summary>
    /// One channel: <paramref name="pixels"/> (row-major, <paramref name="height"/> rows of <paramref name="width"/>)
    /// normalised per row and padded into <paramref name="destination"/> (63 x 63).
    /// </summary>
    /// <exception cref="BraaiInputException">The image is larger than 63 x 63.</exception>
    public static void WriteChannel(ReadOnlySpan<float> pixels, int width, int height, Span<float> destination)
    {
        if (width > Side || height > Side) throw new BraaiInputException($"stamp is {width}x{height}, larger than {Side}x{Side}");
        if (pixels.Length != width * height) throw new ArgumentException($"{width}x{height} needs {width * height} pixels, got {pixels.Length}", nameof(pixels));
        destination[..(Side * Side)].Fill(Pad);
        for (int r = 0; r < height; r++)
        {
            var src = pixels.Slice(r * width, width);
            var dst = destination.Slice(r * Side, width);
            double sum = 0;
            for (int x = 0; x < width; x++)
            {
                float v = src[x];
                if (float.IsNaN(v)) v = 0;
                dst[x] = v;
                sum += (double)v * v;
            }
            if (sum == 0) continue;
            float norm = (float)Math.Sqrt(sum);
            for (int x = 0; x < width; x++) dst[x] /= norm;
        }
    }
}
