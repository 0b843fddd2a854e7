using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Broker.Alerts.Checksums;
using Broker.Alerts.Fits;

namespace Broker.Alerts.Tests.Fits;

public sealed class PngWriterTests
{
    [Fact]
    public void A_png_has_the_signature_an_ihdr_for_eight_bit_grey_and_valid_crcs()
    {
        var png = PngWriter.ToBytes(new FitsImage(63, 48, Enumerable.Range(0, 63 * 48).Select(i => (float)Math.Sin(i)).ToArray()));
        var chunks = PngTestReader.Chunks(png);

        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        var ihdr = chunks[0].Data;
        Assert.Equal(13, ihdr.Length);
        Assert.Equal(63 * 4, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(48 * 4, BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)));
        Assert.Equal([8, 0, 0, 0, 0], ihdr[8..]); // bit depth 8, greyscale, deflate, filter 0, no interlace
        Assert.Empty(chunks[2].Data);
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value() =>
        // The CRC-32 check value of "123456789" (the catalogue of parametrised CRCs, CRC-32/ISO-HDLC).
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public void NaN_pixels_are_black_and_the_first_stored_row_is_drawn_at_the_bottom()
    {
        // Row 0 (stored first) is a bright ramp, row 1 is all NaN.
        float[] pixels = [0, 50, 100, float.NaN, float.NaN, float.NaN];
        var (width, height, grey) = PngTestReader.ReadGrey(PngWriter.ToBytes(new FitsImage(3, 2, pixels), new PngOptions { Scale = 1, Stretch = PngStretch.Asinh }));
        Assert.Equal((3, 2), (width, height));
        Assert.Equal([0, 0, 0], grey[..3]); // top of the PNG: the NaN row
        Assert.Equal(0, grey[3]);
        Assert.Equal(255, grey[5]);
        // asinh(0.5 / 0.1) / asinh(1 / 0.1) of the mid value, not the linear 128.
        Assert.Equal((byte)(Math.Asinh(5) / Math.Asinh(10) * 255 + 0.5), grey[4]);
    }

    [Fact]
    public void Without_flipping_the_first_stored_row_is_at_the_top()
    {
        float[] pixels = [0, 1, 2, 3];
        var (_, _, grey) = PngTestReader.ReadGrey(PngWriter.ToBytes(new FitsImage(2, 2, pixels), new PngOptions { Scale = 1, Stretch = PngStretch.Asinh, FlipVertical = false }));
        Assert.Equal(0, grey[0]);
        Assert.Equal(255, grey[3]);
    }

    [Fact]
    public void Upscaling_repeats_each_pixel_in_a_square()
    {
        float[] pixels = [0, 10, 20, 30];
        var (width, height, grey) = PngTestReader.ReadGrey(PngWriter.ToBytes(new FitsImage(2, 2, pixels), new PngOptions { Scale = 3, FlipVertical = false, Stretch = PngStretch.Asinh }));
        Assert.Equal((6, 6), (width, height));
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 6; x++)
                Assert.Equal(grey[(y / 3) * 3 * 6 + (x / 3) * 3], grey[y * 6 + x]);
        Assert.NotEqual(grey[0], grey[3]);
    }

    [Fact]
    public void A_flat_image_is_mid_grey_and_an_all_nan_image_is_black()
    {
        var (_, _, flat) = PngTestReader.ReadGrey(PngWriter.ToBytes(new FitsImage(2, 2, [5, 5, 5, 5]), new PngOptions { Scale = 1 }));
        Assert.All(flat, g => Assert.Equal(128, g));
        var (_, _, nan) = PngTestReader.ReadGrey(PngWriter.ToBytes(new FitsImage(2, 2, [float.NaN, float.NaN, float.NaN, float.NaN]), new PngOptions { Scale = 1 }));
        Assert.All(nan, g => Assert.Equal(0, g));
    }

    [Fact]
    public void ZScale_clips_outliers_that_min_max_would_let_dominate()
    {
        // A gentle ramp with one hot pixel: min-max would crush the ramp into a few grey levels.
        var pixels = Enumerable.Range(0, 63 * 63).Select(i => 100f + (i % 63) * 0.1f).ToArray();
        pixels[2000] = 1e6f;
        var (min, max) = ZScale.GetLimits(pixels);
        Assert.InRange(min, 100, 101);
        Assert.InRange(max, 105, 107);
        var (_, _, grey) = PngTestReader.ReadGrey(PngWriter.ToBytes(new FitsImage(63, 63, pixels), new PngOptions { Scale = 1, FlipVertical = false }));
        Assert.Equal(255, grey[2000]);
        Assert.True(grey.Distinct().Count() > 50);
    }

    [Fact]
    public void ZScale_of_an_image_without_finite_pixels_is_nan()
    {
        var (min, max) = ZScale.GetLimits([float.NaN, float.PositiveInfinity]);
        Assert.True(double.IsNaN(min) && double.IsNaN(max));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Scales_outside_1_to_64_are_rejected(int scale) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PngWriter.ToBytes(new FitsImage(1, 1, [0]), new PngOptions { Scale = scale }));
}

/// <summary>Reads the PNGs PngWriter makes (8-bit grey, filter 0), checking each chunk's CRC with its own bitwise CRC-32.</summary>
internal static class PngTestReader
{
    public static List<(string Type, byte[] Data)> Chunks(byte[] png)
    {
        Assert.Equal([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        var chunks = new List<(string, byte[])>();
        int pos = 8;
        while (pos < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = Encoding.ASCII.GetString(png, pos + 4, 4);
            byte[] data = png[(pos + 8)..(pos + 8 + length)];
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(BitwiseCrc(png.AsSpan(pos + 4, 4 + length)), crc);
            chunks.Add((type, data));
            pos += 12 + length;
        }
        Assert.Equal(png.Length, pos);
        return chunks;
    }

    public static (int Width, int Height, byte[] Grey) ReadGrey(byte[] png)
    {
        var chunks = Chunks(png);
        int width = BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data);
        int height = BinaryPrimitives.ReadInt32BigEndian(chunks[0].Data.AsSpan(4));
        using var zlib = new ZLibStream(new MemoryStream(chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray()), CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        var scanlines = raw.ToArray();
        Assert.Equal((width + 1) * height, scanlines.Length);
        var grey = new byte[width * height];
        for (int y = 0; y < height; y++)
        {
            Assert.Equal(0, scanlines[y * (width + 1)]);
            scanlines.AsSpan(y * (width + 1) + 1, width).CopyTo(grey.AsSpan(y * width));
        }
        return (width, height, grey);
    }

    private static uint BitwiseCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (uint)-(int)(crc & 1));
        }
        return ~crc;
    }
}
