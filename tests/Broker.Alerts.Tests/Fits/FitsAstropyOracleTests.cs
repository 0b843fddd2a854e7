using System.Text;
using Broker.Alerts.Fits;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Alerts.Tests.Fits;

/// <summary>
/// The reader against astropy on every real cutout in shared/data (ZTF gzipped stamps, Rubin 3-HDU cutouts),
/// with raw stamp bytes extracted by the Python oracle while the C# Avro decoder is written elsewhere.
/// </summary>
[Collection(AstropyStampOracleCollection.Name)]
public sealed class FitsAstropyOracleTests(AstropyStampOracle oracle, ITestOutputHelper output)
{
    [OracleFact("avro", "astropy", "numpy")]
    public void Every_real_cutout_reads_bit_for_bit_as_astropy_reads_it()
    {
        var failures = new List<string>();
        int ztf = 0, rubin = 0, hdusCompared = 0;
        foreach (var stamp in oracle.Stamps)
        {
            var file = FitsFile.Read(stamp.StampBytes());
            if (file.Hdus.Count != stamp.HduCount) failures.Add($"{stamp}: {file.Hdus.Count} HDUs, astropy {stamp.HduCount}");
            if (Compare(stamp.Name, file.FirstImage, stamp.NpyBytes()) is { } first) failures.Add(first);
            if (!ReferenceEquals(file.FirstImage, file.Hdus[stamp.FirstImageHdu].Image))
                failures.Add($"{stamp}: FirstImage is not HDU {stamp.FirstImageHdu}, the first astropy image");
            for (int i = 0; i < file.Hdus.Count; i++)
            {
                if (i == stamp.FirstImageHdu || stamp.HduNpyBytes(i) is not { } npy) continue;
                hdusCompared++;
                if (file.Hdus[i].Image is not { } image) failures.Add($"{stamp}: HDU {i} has no image; astropy has one");
                else if (Compare($"{stamp} HDU {i}", image, npy) is { } other) failures.Add(other);
            }
            if (stamp.IsRubin) rubin++;
            else ztf++;
        }
        output.WriteLine($"{ztf} ZTF and {rubin} Rubin cutouts, plus {hdusCompared} extension images, compared with astropy");

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        // shared/data holds about 1,840 ZTF and 57 Rubin cutouts; far fewer means the oracle missed files.
        Assert.True(ztf > 1500, $"only {ztf} ZTF cutouts");
        Assert.True(rubin > 50, $"only {rubin} Rubin cutouts");
        Assert.True(hdusCompared >= 2 * rubin);
    }

    [OracleFact("avro", "astropy", "numpy")]
    public void Read_first_image_gives_the_same_pixels_as_a_full_read()
    {
        foreach (var stamp in oracle.Stamps.Where((_, i) => i % 10 == 0))
        {
            var bytes = stamp.StampBytes();
            Assert.Equal(FitsFile.Read(bytes).FirstImage.Pixels, FitsFile.ReadFirstImage(bytes).Pixels);
        }
    }

    [OracleFact("avro", "astropy", "numpy")]
    public void Npy_writer_writes_the_same_bytes_as_numpy_save()
    {
        var failures = new List<string>();
        foreach (var stamp in oracle.Stamps)
        {
            var mine = NpyWriter.ToBytes(FitsFile.ReadFirstImage(stamp.StampBytes()));
            if (!mine.AsSpan().SequenceEqual(stamp.NpyBytes())) failures.Add(stamp.Name);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differ, first: {string.Join(", ", failures.Take(10))}");
    }

    [OracleTheory("avro", "astropy", "numpy")]
    [InlineData("697252844715015001_science", 63, 48)]
    [InlineData("2481525652515015015_difference", 63, 48)]
    [InlineData("2481247442315015000_science", 57, 63)]
    [InlineData("2481458493315010007_template", 53, 63)]
    [InlineData("3367504081715010000_science", 58, 63)]
    [InlineData("595277915515015000_difference", 51, 63)]
    public void Ztf_stamps_at_chip_edges_keep_their_odd_shapes(string name, int rows, int columns)
    {
        var image = FitsFile.ReadFirstImage(oracle.Get(name).StampBytes());
        Assert.Equal((rows, columns), (image.Height, image.Width));
        Assert.Equal(rows * columns, image.Pixels.Length);
    }

    [OracleFact("avro", "astropy", "numpy")]
    public void Ztf_primary_headers_with_the_value_of_simple_outside_column_30_are_read()
    {
        var stamp = oracle.Stamps.First(s => !s.IsRubin);
        var raw = stamp.StampBytes();
        Assert.True(FitsFile.IsGzip(raw));
        using var gz = new System.IO.Compression.GZipStream(new MemoryStream(raw), System.IO.Compression.CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gz.CopyTo(plain);
        string firstCard = Encoding.ASCII.GetString(plain.GetBuffer(), 0, 80);
        // The quirk astropy warns about: "SIMPLE  =  T" with T in column 12, where the fixed format puts it in 30.
        Assert.Equal('T', firstCard[11]);
        Assert.Equal(' ', firstCard[29]);

        var hdu = FitsFile.Read(raw).Hdus[0];
        Assert.True(hdu.Header.GetBool("SIMPLE"));
        Assert.Equal(-32, hdu.Bitpix);
        Assert.Equal("DN", hdu.Header.GetString("BUNIT"));
    }

    [OracleFact("avro", "astropy", "numpy")]
    public void Rubin_cutouts_hold_the_image_in_the_primary_hdu_then_uncert_and_psf_image()
    {
        var rubin = oracle.Stamps.Where(s => s.IsRubin).ToList();
        Assert.NotEmpty(rubin);
        foreach (var stamp in rubin)
        {
            var bytes = stamp.StampBytes();
            Assert.False(FitsFile.IsGzip(bytes), $"{stamp} is gzipped");
            var file = FitsFile.Read(bytes);
            Assert.Equal(3, file.Hdus.Count);
            var (image, uncert, psf) = (file.Hdus[0], file.Hdus[1], file.Hdus[2]);
            Assert.Null(image.ExtensionType);
            Assert.Same(image.Image, file.FirstImage);
            Assert.Equal(("IMAGE", "UNCERT"), (uncert.ExtensionType, uncert.Name));
            Assert.Equal(("IMAGE", "PSFIMAGE"), (psf.ExtensionType, psf.Name));
            Assert.Equal((-32, -32, -64), (image.Bitpix, uncert.Bitpix, psf.Bitpix));
            Assert.Equal((image.Image!.Width, image.Image.Height), (uncert.Image!.Width, uncert.Image.Height));
            Assert.NotNull(psf.Image);
        }
    }

    [OracleFact("avro", "astropy", "numpy")]
    public void ZScale_limits_agree_with_astropy()
    {
        var failures = new List<string>();
        foreach (var stamp in oracle.Stamps)
        {
            var image = FitsFile.ReadFirstImage(stamp.StampBytes());
            var (min, max) = ZScale.GetLimits(image.Pixels);
            if (double.IsNaN(stamp.ZScaleMin))
            {
                if (!double.IsNaN(min)) failures.Add($"{stamp}: astropy has no finite pixel, we found limits");
                continue;
            }
            // numpy's polyfit (lstsq) and our closed-form fit agree to rounding; the limits to far better than a grey level.
            double tolerance = 1e-6 * Math.Max(1.0, Math.Abs(stamp.ZScaleMax - stamp.ZScaleMin)) + 1e-9 * Math.Abs(stamp.ZScaleMax);
            if (Math.Abs(min - stamp.ZScaleMin) > tolerance || Math.Abs(max - stamp.ZScaleMax) > tolerance)
                failures.Add($"{stamp}: ({min}, {max}), astropy ({stamp.ZScaleMin}, {stamp.ZScaleMax})");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} differ:\n{string.Join("\n", failures.Take(20))}");
    }

    [OracleFact("avro", "astropy", "numpy", "PIL")]
    public void Pngs_of_real_cutouts_open_in_pillow_with_the_same_pixels()
    {
        var dir = Directory.CreateTempSubdirectory("broker-png-").FullName;
        try
        {
            var picks = new[] { oracle.Stamps.First(s => !s.IsRubin), oracle.Stamps.First(s => s.IsRubin), oracle.Get("697252844715015001_science") };
            var expected = new StringBuilder();
            var paths = new List<string>();
            foreach (var (stamp, i) in picks.Select((s, i) => (s, i)))
            {
                var image = FitsFile.ReadFirstImage(stamp.StampBytes());
                var options = new PngOptions { Stretch = i % 2 == 0 ? PngStretch.ZScale : PngStretch.Asinh, Scale = 3 };
                var png = PngWriter.ToBytes(image, options);
                string path = Path.Combine(dir, $"{i}.png");
                File.WriteAllBytes(path, png);
                paths.Add(path);
                var (width, height, grey) = PngTestReader.ReadGrey(png);
                expected.Append($"{width} {height} L {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(grey))}\n");
            }
            const string code = """
                import hashlib, sys
                from PIL import Image
                for path in sys.argv[1:]:
                    with Image.open(path) as im:
                        im.load()
                        print(im.width, im.height, im.mode, hashlib.sha256(im.tobytes()).hexdigest())
                """;
            Assert.Equal(expected.ToString(), Python.RunCode(code, [.. paths]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Null when <paramref name="image"/> equals astropy's array bit for bit (so NaN where astropy has NaN), else why not.</summary>
    internal static string? Compare(string what, FitsImage image, byte[] npy)
    {
        var (rows, columns, expected) = NpyTestFile.Read(npy);
        if ((rows, columns) != (image.Height, image.Width))
            return $"{what}: {image.Height}x{image.Width}, astropy {rows}x{columns}";
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(image.Pixels[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                return $"{what}: pixel (row {i / columns}, column {i % columns}) is {image.Pixels[i]:R}, astropy {expected[i]:R}";
        }
        return null;
    }
}
