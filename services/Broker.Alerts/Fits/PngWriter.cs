using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Broker.Alerts.Fits;

/// <summary>How cutout values become grey levels.</summary>
public enum PngStretch
{
    /// <summary>Linear between the IRAF zscale limits (<see cref="ZScale"/>), as astropy's ZScaleInterval with LinearStretch.</summary>
    ZScale,

    /// <summary>
    /// Min-max normalised to [0, 1], then y = asinh(x / a) / asinh(1 / a), as astropy's MinMaxInterval with
    /// AsinhStretch (Lupton et al. 1999, AJ 118, 1406); shows faint wings and bright cores together.
    /// </summary>
    Asinh,
}

/// <summary>Options for <see cref="PngWriter"/>.</summary>
public sealed record PngOptions
{
    /// <summary>The stretch; zscale by default.</summary>
    public PngStretch Stretch { get; init; } = PngStretch.ZScale;

    /// <summary>The asinh softening parameter a, 0 &lt; a ≤ 1 (astropy's default 0.1).</summary>
    public double AsinhA { get; init; } = 0.1;

    /// <summary>Integer upscale factor, nearest neighbour (1 to 64): 4 makes a 63x63 stamp 252x252.</summary>
    public int Scale { get; init; } = 4;

    /// <summary>
    /// Draw the first stored row at the bottom, as ds9 and matplotlib's <c>imshow(origin="lower")</c> show FITS
    /// images; PNG's first row is the top. True by default.
    /// </summary>
    public bool FlipVertical { get; init; } = true;
}

/// <summary>
/// Writes a cutout as an 8-bit greyscale PNG (PNG specification, W3C Second Edition: signature, IHDR, one IDAT of zlib
/// data, IEND), for people to look at: the alert web page, a Slack message, a debugging session. NaN pixels are
/// black; when the limits are equal (a flat or all-NaN image) finite pixels are mid-grey.
/// </summary>
public static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Writes the PNG to <paramref name="destination"/>, which stays open.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or the upscaled image is too large.</exception>
    public static void Write(Stream destination, FitsImage image, PngOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(image);
        options ??= new PngOptions();
        int scale = options.Scale;
        if (scale is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(options), scale, "Scale must be 1 to 64");
        if (options.Stretch == PngStretch.Asinh && options.AsinhA is not (> 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.AsinhA, "AsinhA must be in (0, 1]");
        long outWidth = (long)image.Width * scale, outHeight = (long)image.Height * scale;
        long rawLength = (outWidth + 1) * outHeight;
        if (rawLength > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(options), scale, "the upscaled image is too large");

        int n = image.Pixels.Length;
        byte[] grey = ArrayPool<byte>.Shared.Rent(n);
        byte[] raw = ArrayPool<byte>.Shared.Rent((int)rawLength);
        try
        {
            ToGrey(image.Pixels, grey.AsSpan(0, n), options);
            int rowLength = (int)outWidth + 1;
            for (int y = 0; y < (int)outHeight; y++)
            {
                int sourceRow = y / scale;
                if (options.FlipVertical) sourceRow = image.Height - 1 - sourceRow;
                var source = grey.AsSpan(sourceRow * image.Width, image.Width);
                var row = raw.AsSpan(y * rowLength, rowLength);
                row[0] = 0; // filter type None (§7.3); upscaled rows repeat, which deflate handles well anyway.
                for (int x = 0; x < image.Width; x++) row.Slice(1 + x * scale, scale).Fill(source[x]);
            }

            destination.Write(Signature);
            Span<byte> ihdr = stackalloc byte[13];
            BinaryPrimitives.WriteInt32BigEndian(ihdr, (int)outWidth);
            BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], (int)outHeight);
            ihdr[8] = 8;  // bit depth
            ihdr[9] = 0;  // colour type 0: greyscale
            ihdr[10] = 0; // compression method 0: zlib deflate
            ihdr[11] = 0; // filter method 0
            ihdr[12] = 0; // no interlace
            WriteChunk(destination, "IHDR"u8, ihdr);

            using var idat = new MemoryStream();
            using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
                zlib.Write(raw, 0, (int)rawLength);
            WriteChunk(destination, "IDAT"u8, idat.GetBuffer().AsSpan(0, (int)idat.Length));
            WriteChunk(destination, "IEND"u8, []);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(grey);
            ArrayPool<byte>.Shared.Return(raw);
        }
    }

    /// <summary>The PNG as bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or the upscaled image is too large.</exception>
    public static byte[] ToBytes(FitsImage image, PngOptions? options = null)
    {
        using var buffer = new MemoryStream();
        Write(buffer, image, options);
        return buffer.ToArray();
    }

    /// <summary>Maps pixels to grey levels 0-255 with the chosen stretch; NaN to 0.</summary>
    private static void ToGrey(ReadOnlySpan<float> pixels, Span<byte> grey, PngOptions options)
    {
        double lo, hi;
        if (options.Stretch == PngStretch.ZScale)
        {
            (lo, hi) = ZScale.GetLimits(pixels);
        }
        else
        {
            lo = double.PositiveInfinity;
            hi = double.NegativeInfinity;
            foreach (float v in pixels)
            {
                if (!float.IsFinite(v)) continue;
                lo = Math.Min(lo, v);
                hi = Math.Max(hi, v);
            }
        }

        bool flat = !(hi > lo); // also true when there is no finite pixel (NaN or infinite limits)
        double range = hi - lo;
        bool asinh = options.Stretch == PngStretch.Asinh;
        double a = options.AsinhA, norm = Math.Asinh(1.0 / a);
        for (int i = 0; i < pixels.Length; i++)
        {
            float v = pixels[i];
            if (float.IsNaN(v))
            {
                grey[i] = 0;
                continue;
            }
            if (flat)
            {
                grey[i] = 128;
                continue;
            }
            double t = Math.Clamp((v - lo) / range, 0.0, 1.0);
            if (asinh) t = Math.Asinh(t / a) / norm;
            grey[i] = (byte)(t * 255.0 + 0.5);
        }
    }

    /// <summary>Length, type, data, and the CRC-32 of type and data (§5.3).</summary>
    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        output.Write(type);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Checksums.Crc32.Append(Checksums.Crc32.Compute(type), data));
        output.Write(word);
    }
}
