using System.Text;
using Broker.Alerts.Fits;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Fits;

public sealed class FitsWriterTests
{
    private static FitsImage Ramp(int width, int height, float offset = 0) =>
        new(width, height, Enumerable.Range(0, width * height).Select(i => offset + i * 0.25f).ToArray());

    [Fact]
    public void A_ztf_like_gzipped_stamp_reads_back_with_its_cards()
    {
        var stamp = Ramp(63, 63);
        stamp.Pixels[100] = float.NaN;
        var bytes = FitsWriter.WriteImage(stamp, [FitsCard.Create("BUNIT", "DN"), FitsCard.Create("MAGZP", 26.325, "zero point")], gzip: true);

        Assert.True(FitsFile.IsGzip(bytes));
        var hdu = Assert.Single(FitsFile.Read(bytes).Hdus);
        Assert.Equal(-32, hdu.Bitpix);
        Assert.Equal([63, 63], hdu.Axes);
        Assert.Equal("DN", hdu.Header.GetString("BUNIT"));
        Assert.Equal(26.325, hdu.Header.GetDouble("MAGZP"));
        Assert.Equal("zero point", hdu.Header.Find("MAGZP")!.Comment);
        Assert.False(hdu.Header.Contains("EXTEND"));
        Assert.Equal(stamp.Pixels, hdu.Image!.Pixels);
    }

    [Fact]
    public void A_rubin_like_file_has_a_primary_image_and_named_image_extensions()
    {
        var bytes = new FitsWriter()
            .AddImage(Ramp(30, 30), cards: [FitsCard.Create("CUTMINX", 1234L)])
            .AddImage(Ramp(30, 30, 5), "UNCERT")
            .AddImage(Ramp(41, 41, -1), "PSFIMAGE")
            .ToBytes();

        Assert.False(FitsFile.IsGzip(bytes));
        Assert.Equal(0, bytes.Length % FitsFile.BlockSize);
        var file = FitsFile.Read(bytes);
        Assert.Equal(3, file.Hdus.Count);
        Assert.Equal(true, file.Hdus[0].Header.GetBool("EXTEND"));
        Assert.Equal(1234, file.Hdus[0].Header.GetInt("CUTMINX"));
        Assert.Equal([null, "UNCERT", "PSFIMAGE"], file.Hdus.Select(h => h.Name));
        Assert.Equal([null, "IMAGE", "IMAGE"], file.Hdus.Select(h => h.ExtensionType));
        Assert.Equal(0, file.Hdus[1].Header.GetInt("PCOUNT"));
        Assert.Equal(1, file.Hdus[2].Header.GetInt("GCOUNT"));
        Assert.Equal(Ramp(41, 41, -1).Pixels, file.Hdus[2].Image!.Pixels);
        Assert.Same(file.Hdus[0].Image, file.FirstImage);
    }

    [Fact]
    public void Cards_are_written_in_fixed_format()
    {
        var bytes = FitsWriter.WriteImage(Ramp(2, 3), [FitsCard.Create("OBJECT", "O'Brien"), FitsCard.Create("FLAG", false), FitsCard.Commentary("HISTORY", "made by a test")]);
        string header = Encoding.ASCII.GetString(bytes, 0, FitsFile.BlockSize);
        string[] cards = Enumerable.Range(0, 36).Select(i => header.Substring(i * 80, 80)).ToArray();

        // §4.2: logical and numeric values right-justified in columns 11-30; strings from column 11, closing quote at 20 or later.
        Assert.Equal("SIMPLE  =                    T / conforms to FITS standard", cards[0].TrimEnd());
        Assert.Equal("BITPIX  =                  -32 / IEEE single precision floating point", cards[1].TrimEnd());
        Assert.Equal("NAXIS1  =                    2", cards[3].TrimEnd());
        Assert.Equal("NAXIS2  =                    3", cards[4].TrimEnd());
        Assert.Equal("OBJECT  = 'O''Brien'", cards[5].TrimEnd());
        Assert.Equal("FLAG    =                    F", cards[6].TrimEnd());
        Assert.Equal("HISTORY made by a test", cards[7].TrimEnd());
        Assert.Equal("END", cards[8].TrimEnd());
        Assert.All(cards[9..], c => Assert.Equal(new string(' ', 80), c));
        Assert.Equal("'DN      '", FitsCard.Create("BUNIT", "DN").ToString()[10..20]);
    }

    [Fact]
    public void Real_values_round_trip_exactly_and_stay_real()
    {
        double[] values = [0.1, 100, -2.5e-300, 1.7976931348623157e308, 26.325000762939453];
        var cards = values.Select((v, i) => FitsCard.Create($"R{i}", v)).ToArray();
        var header = FitsFile.Read(FitsWriter.WriteImage(Ramp(1, 1), cards)).Hdus[0].Header;
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], header.GetDouble($"R{i}"));
        Assert.Equal("100.0", header.GetString("R1"));
    }

    [Theory]
    [InlineData("NAXIS1")]
    [InlineData("BITPIX")]
    [InlineData("BZERO")]
    [InlineData("BLANK")]
    [InlineData("EXTNAME")]
    [InlineData("SIMPLE")]
    public void Cards_the_writer_owns_cannot_be_given_as_extras(string keyword)
    {
        var e = Assert.Throws<ArgumentException>(() => new FitsWriter().AddImage(Ramp(1, 1), cards: [FitsCard.Create(keyword, 1L)]));
        Assert.Contains(keyword, e.Message);
    }

    [Theory]
    [InlineData("lower")]
    [InlineData("TOOLONGKEY")]
    [InlineData("A B")]
    [InlineData("")]
    public void Invalid_keywords_are_rejected(string keyword) =>
        Assert.Throws<ArgumentException>(() => FitsCard.Create(keyword, 1L));

    [Fact]
    public void Cards_that_would_not_fit_in_80_characters_or_are_not_ascii_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => FitsCard.Create("LONG", new string('x', 69)));
        Assert.Throws<ArgumentException>(() => FitsCard.Create("NUM", 1L, new string('c', 48)));
        Assert.Throws<ArgumentException>(() => FitsCard.Create("TEXT", "Ångström"));
        Assert.Throws<ArgumentException>(() => FitsCard.Create("NAN", double.NaN));
        Assert.Throws<ArgumentException>(() => new FitsWriter().AddImage(Ramp(1, 1), new string('E', 69)));
        Assert.Throws<InvalidOperationException>(() => new FitsWriter().ToBytes());
    }

    [Fact]
    public void Images_reject_pixel_counts_that_do_not_match_their_size()
    {
        Assert.Throws<ArgumentException>(() => new FitsImage(3, 3, new float[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FitsImage(0, 3, []));
    }

    [OracleFact("astropy", "numpy", NeedsSharedData = false)]
    public void Astropy_reads_what_the_writer_writes_without_warnings()
    {
        string dir = Directory.CreateTempSubdirectory("broker-fits-writer-").FullName;
        try
        {
            var science = Ramp(63, 48, -50);
            science.Pixels[7] = float.NaN;
            File.WriteAllBytes(Path.Combine(dir, "ztf.fits.gz"), FitsWriter.WriteImage(science, [FitsCard.Create("BUNIT", "DN")], gzip: true));
            File.WriteAllBytes(Path.Combine(dir, "rubin.fits"),
                new FitsWriter().AddImage(Ramp(30, 30)).AddImage(Ramp(30, 30, 3), "UNCERT").AddImage(Ramp(41, 41, 9), "PSFIMAGE").ToBytes());
            const string code = """
                import gzip, sys, warnings
                import numpy as np
                from astropy.io import fits
                warnings.simplefilter("error")  # any VerifyWarning fails the test
                for path in sys.argv[1:]:
                    with open(path, "rb") as fh:
                        data = fh.read()
                    if data[:2] == b"\x1f\x8b":
                        data = gzip.decompress(data)
                    import io
                    with fits.open(io.BytesIO(data)) as hdus:
                        hdus.verify("exception")
                        for hdu in hdus:
                            d = hdu.data
                            print(hdu.name, d.shape[0], d.shape[1], int(np.isnan(d).sum()), '%.17g' % float(np.nansum(d.astype(np.float64))))
                """;
            string output = Python.RunCode(code, Path.Combine(dir, "ztf.fits.gz"), Path.Combine(dir, "rubin.fits"));
            static string Line(string name, FitsImage i) =>
                $"{name} {i.Height} {i.Width} {i.Pixels.Count(float.IsNaN)} {i.Pixels.Where(p => !float.IsNaN(p)).Sum(p => (double)p).ToString("G17", System.Globalization.CultureInfo.InvariantCulture)}";
            string expected = string.Join("\n",
                Line("PRIMARY", science), Line("PRIMARY", Ramp(30, 30)), Line("UNCERT", Ramp(30, 30, 3)), Line("PSFIMAGE", Ramp(41, 41, 9))) + "\n";
            Assert.Equal(expected, output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_float64_extension_is_written_as_bitpix_minus_64_and_reads_back()
    {
        var psf = new double[] { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6 };
        var bytes = new FitsWriter()
            .AddImage(new FitsImage(2, 2, [1f, 2f, 3f, 4f]))
            .AddImage64(3, 2, psf, "PSFIMAGE")
            .ToBytes();
        var file = FitsFile.Read(bytes);
        Assert.Equal(2, file.Hdus.Count);
        var hdu = file.Hdus[1];
        Assert.Equal(-64, hdu.Bitpix);
        Assert.Equal("PSFIMAGE", hdu.Name);
        Assert.Equal(psf.Select(v => (float)v), hdu.Image!.Pixels);
        Assert.Equal(0, bytes.Length % FitsFile.BlockSize);
        Assert.Throws<ArgumentException>(() => new FitsWriter().AddImage64(3, 3, psf));
    }
}
