using Broker.Alerts.Fits;
using Broker.TestSupport;
using static Broker.Alerts.Tests.Fits.FitsTestBytes;

namespace Broker.Alerts.Tests.Fits;

public sealed class FitsFileTests
{
    /// <summary>One BITPIX/BSCALE/BZERO/BLANK combination: stored values and the floats the reader must give.</summary>
    public sealed record BitpixCase(string Name, int Bitpix, double? Bscale, double? Bzero, long? Blank, double[] Stored, float[] Expected, long[]? Stored64 = null)
    {
        public byte[] Fits()
        {
            var extra = new List<string>();
            if (Bscale is { } s) extra.Add(Card("BSCALE", s));
            if (Bzero is { } z) extra.Add(Card("BZERO", z));
            if (Blank is { } b) extra.Add(Card("BLANK", b));
            var data = Bitpix == 64 ? Encode64(Stored64!) : Encode(Bitpix, Stored);
            int count = Stored64?.Length ?? Stored.Length;
            return PrimaryImage(Bitpix, count, 1, data, [.. extra]);
        }
    }

    private const float NaN = float.NaN;

    // Expected values written as the arithmetic the FITS Standard 4.0 §4.4.2.5 prescribes (physical = BZERO +
    // BSCALE x stored) in the precision astropy uses: float32 for 8- and 16-bit integers and float32 data, float64
    // otherwise. Case names double as file names for the astropy cross-check, so they carry no dots.
    public static readonly BitpixCase[] Cases =
    [
        new("u8", 8, null, null, null, [0, 1, 200, 255], [0, 1, 200, 255]),
        new("u8-signed-via-bzero", 8, null, -128, null, [0, 127, 128, 255], [-128, -1, 0, 127]),
        new("u8-scaled-blank", 8, 0.5, 10, 255, [0, 3, 255], [10, 11.5f, NaN]),
        new("i16", 16, null, null, null, [-32768, -1, 0, 32767], [-32768, -1, 0, 32767]),
        new("i16-unsigned-via-bzero", 16, null, 32768, null, [-32768, -1, 0, 32767], [0, 32767, 32768, 65535]),
        new("i16-scaled-blank", 16, 0.1, -3, -32768, [-32768, -1, 7, 32767], [NaN, -1 * 0.1f + -3f, 7 * 0.1f + -3f, 32767 * 0.1f + -3f]),
        new("i16-blank-unscaled", 16, null, null, 99, [99, 100], [NaN, 100]),
        new("i32", 32, null, null, null, [int.MinValue, -1, 0, 16777217, int.MaxValue], [int.MinValue, -1, 0, 16777217f, int.MaxValue]),
        new("i32-unsigned-via-bzero", 32, null, 2147483648, null, [int.MinValue, 0, int.MaxValue], [0, 2147483648f, 4294967295f]),
        new("i32-scaled-blank", 32, 2.5e-3, 100, -1, [-1, 123456789, -987654321], [NaN, (float)(123456789 * 2.5e-3 + 100), (float)(-987654321 * 2.5e-3 + 100)]),
        new("i64", 64, null, null, null, [], [long.MinValue, -1, 0, 9007199254740993f, long.MaxValue],
            [long.MinValue, -1, 0, 9007199254740993, long.MaxValue]),
        new("i64-unsigned-via-bzero", 64, null, 9223372036854775808.0, null, [], [0, 9223372036854775807f, 9223372036854775808f, 18446744073709551615f],
            [long.MinValue, -1, 0, long.MaxValue]),
        new("i64-scaled", 64, 0.25, -7, null, [], [(float)(123456789012 * 0.25 - 7), -7],
            [123456789012, 0]),
        new("f32", -32, null, null, null, [1.5, double.NaN, double.NegativeInfinity, 3.4e38, -0.0], [1.5f, NaN, float.NegativeInfinity, 3.4e38f, -0f]),
        new("f32-scaled", -32, 3, 0.5, null, [1.1, double.NaN], [1.1f * 3f + 0.5f, NaN]),
        new("f64", -64, null, null, null, [0.1, 1e-50, 1e300, double.NaN, -2.5], [0.1f, 0f, float.PositiveInfinity, NaN, -2.5f]),
        new("f64-scaled", -64, 10, 1, null, [0.1, double.NaN], [(float)(0.1 * 10 + 1), NaN]),
    ];

    public static TheoryData<string> CaseNames => new(Cases.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Each_bitpix_is_scaled_by_bscale_and_bzero_with_blank_as_nan(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        var hdu = FitsFile.Read(c.Fits()).Hdus[0];
        Assert.Equal(c.Bitpix, hdu.Bitpix);
        var image = Assert.IsType<FitsImage>(hdu.Image);
        Assert.Equal(c.Expected.Length, image.Width);
        Assert.Equal(1, image.Height);
        for (int i = 0; i < c.Expected.Length; i++)
            Assert.True(
                BitConverter.SingleToInt32Bits(c.Expected[i]) == BitConverter.SingleToInt32Bits(image.Pixels[i])
                    || (float.IsNaN(c.Expected[i]) && float.IsNaN(image.Pixels[i])),
                $"pixel {i}: expected {c.Expected[i]:R}, got {image.Pixels[i]:R}");
    }

    [OracleFact("astropy", "numpy", NeedsSharedData = false)]
    public void Each_bitpix_case_reads_as_astropy_reads_it()
    {
        string dir = Directory.CreateTempSubdirectory("broker-fits-bitpix-").FullName;
        try
        {
            var paths = new List<string>();
            foreach (var c in Cases)
            {
                string path = Path.Combine(dir, c.Name + ".fits");
                File.WriteAllBytes(path, c.Fits());
                paths.Add(path);
            }
            string output = Path.Combine(dir, "out");
            Python.Run(SharedData.RepositoryPath(AstropyStampOracle.Script), [output, .. paths]);
            var failures = new List<string>();
            foreach (var c in Cases)
            {
                var image = FitsFile.ReadFirstImage(c.Fits());
                if (FitsAstropyOracleTests.Compare(c.Name, image, File.ReadAllBytes(Path.Combine(output, c.Name + ".npy"))) is { } f) failures.Add(f);
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Blank_of_zero_marks_zero_pixels_undefined_though_astropy_ignores_it()
    {
        // astropy tests "if self._blank:", so BLANK = 0 is silently ignored there; §4.4.2.5 makes any integer valid.
        var image = FitsFile.ReadFirstImage(PrimaryImage(16, 3, 1, Encode(16, [0, 1, 0]), Card("BLANK", 0)));
        Assert.True(float.IsNaN(image.Pixels[0]));
        Assert.Equal(1f, image.Pixels[1]);
        Assert.True(float.IsNaN(image.Pixels[2]));
    }

    [Fact]
    public void Pixels_are_row_major_with_the_first_stored_row_first()
    {
        var image = FitsFile.ReadFirstImage(PrimaryImage(16, 3, 2, Encode(16, [1, 2, 3, 4, 5, 6])));
        Assert.Equal((3, 2), (image.Width, image.Height));
        Assert.Equal([1f, 2, 3, 4, 5, 6], image.Pixels);
        Assert.Equal([4f, 5, 6], image.Row(1).ToArray());
    }

    [Theory]
    [InlineData(63, 48)]
    [InlineData(57, 63)]
    [InlineData(53, 63)]
    [InlineData(58, 63)]
    [InlineData(1, 1)]
    [InlineData(63, 63)]
    public void Images_of_any_size_including_chip_edge_stamps_round_trip(int width, int height)
    {
        var pixels = Enumerable.Range(0, width * height).Select(i => i * 0.5f - 100).ToArray();
        pixels[^1] = float.NaN;
        var bytes = FitsWriter.WriteImage(new FitsImage(width, height, pixels), gzip: true);
        var image = FitsFile.ReadFirstImage(bytes);
        Assert.Equal((width, height), (image.Width, image.Height));
        Assert.Equal(pixels, image.Pixels);
    }

    [Fact]
    public void Cards_are_parsed_leniently_in_free_format()
    {
        var bytes = Concat(
            Header(
                "SIMPLE  =  T",
                "BITPIX  = 8 / bits",
                "NAXIS   =                    0",
                "OBJECT  = 'O''Brien  '           / a name with a quote",
                "EMPTY   = ''",
                "NOVALUE =                      / undefined value",
                "EXPO    = 1.5D3",
                "COMMENT   free text / not a comment",
                "HISTORY written by hand",
                "BADSTR  = 'no closing quote",
                "        blank keyword card"));
        var header = FitsFile.Read(bytes).Hdus[0].Header;
        Assert.Equal(true, header.GetBool("SIMPLE"));
        Assert.Equal(8, header.GetInt("BITPIX"));
        Assert.Equal("bits", header.Find("BITPIX")!.Comment);
        Assert.Equal("O'Brien", header.GetString("OBJECT"));
        Assert.True(header.Find("OBJECT")!.IsString);
        Assert.Equal("a name with a quote", header.Find("OBJECT")!.Comment);
        Assert.Equal("", header.GetString("EMPTY"));
        Assert.True(header.Contains("NOVALUE"));
        Assert.Null(header.GetString("NOVALUE"));
        Assert.Null(header.GetDouble("NOVALUE"));
        Assert.Equal("undefined value", header.Find("NOVALUE")!.Comment);
        Assert.Equal(1500.0, header.GetDouble("expo"));
        Assert.Null(header.Find("COMMENT")!.Value);
        Assert.Equal("  free text / not a comment", header.Find("COMMENT")!.Comment);
        Assert.Equal("written by hand", header.Find("HISTORY")!.Comment?.Trim());
        Assert.Equal("no closing quote", header.GetString("BADSTR"));
        Assert.Equal("", header[10].Keyword);
        Assert.Null(header.GetInt("MISSING"));
    }

    [Fact]
    public void Header_getters_reject_values_of_the_wrong_type()
    {
        var header = FitsFile.Read(Header("SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 0", "NAME    = 'x'", "REAL    = 2.5", "BIG     = 99999999999")).Hdus[0].Header;
        Assert.Contains("NAME", Assert.Throws<FitsFormatException>(() => header.GetDouble("NAME")).Message);
        Assert.Throws<FitsFormatException>(() => header.GetInt("REAL"));
        Assert.Throws<FitsFormatException>(() => header.GetBool("REAL"));
        Assert.Contains("out of range", Assert.Throws<FitsFormatException>(() => header.GetInt("BIG")).Message);
        Assert.Equal(99999999999L, header.GetLong("BIG"));
    }

    [Fact]
    public void Binary_tables_are_skipped_by_size_and_the_image_after_them_is_found()
    {
        // A BINTABLE of 3 rows x 5 bytes with a 7-byte heap (PCOUNT): 22 bytes, padded to one block.
        var table = Concat(
            Header(Card("XTENSION", "BINTABLE"), Card("BITPIX", 8), Card("NAXIS", 2), Card("NAXIS1", 5), Card("NAXIS2", 3),
                Card("PCOUNT", 7), Card("GCOUNT", 1), Card("TFIELDS", 1), Card("TFORM1", "5A")),
            Data(Enumerable.Repeat((byte)'X', 22).ToArray()));
        var image = Concat(
            Header(Card("XTENSION", "IMAGE"), Card("BITPIX", -32), Card("NAXIS", 2), Card("NAXIS1", 2), Card("NAXIS2", 2),
                Card("PCOUNT", 0), Card("GCOUNT", 1), Card("EXTNAME", "SCI")),
            Data(Encode(-32, [1, 2, 3, 4])));
        var file = FitsFile.Read(Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 0), Card("EXTEND", true)), table, image));

        Assert.Equal(3, file.Hdus.Count);
        Assert.Null(file.Hdus[0].Image);
        Assert.Empty(file.Hdus[0].Axes);
        Assert.Equal("BINTABLE", file.Hdus[1].ExtensionType);
        Assert.False(file.Hdus[1].IsImage);
        Assert.Null(file.Hdus[1].Image);
        Assert.Equal([5, 3], file.Hdus[1].Axes);
        Assert.Equal("SCI", file.Hdus[2].Name);
        Assert.Same(file.Hdus[2].Image, file.FirstImage);
        Assert.Equal([1f, 2, 3, 4], file.FirstImage.Pixels);
    }

    [Fact]
    public void Bytes_after_the_last_hdu_that_are_not_an_extension_are_ignored()
    {
        var bytes = Concat(PrimaryImage(8, 1, 1, [7]), new byte[FitsTestBytes.Block]);
        var file = FitsFile.Read(bytes);
        Assert.Single(file.Hdus);
        Assert.Equal([7f], file.FirstImage.Pixels);
    }

    [Fact]
    public void The_last_hdu_may_lack_its_trailing_padding()
    {
        var bytes = PrimaryImage(-32, 2, 1, Encode(-32, [1, 2]));
        var image = FitsFile.ReadFirstImage(bytes.AsSpan(0, FitsTestBytes.Block + 8));
        Assert.Equal([1f, 2], image.Pixels);
    }

    public static TheoryData<string, byte[], string> BadInputs()
    {
        var good = PrimaryImage(-32, 63, 63, Encode(-32, new double[63 * 63]));
        var gz = Gzip(good);
        var corruptGz = (byte[])gz.Clone();
        for (int i = 20; i < 60; i++) corruptGz[i] ^= 0x5A;
        return new TheoryData<string, byte[], string>
        {
            { "empty input", [], "empty input" },
            { "not FITS at all", System.Text.Encoding.ASCII.GetBytes("PK\u0003\u0004 a zip file".PadRight(200)), "not a FITS file: the first card is 'PK?? a zip file'" },
            { "shorter than one card", "SIMPLE  =  T"u8.ToArray(), "shorter than one 80-byte header card" },
            { "truncated data", good.AsSpan(0, FitsTestBytes.Block + 1000).ToArray(), "truncated FITS: HDU 0 needs 15876 data bytes" },
            { "truncated header", good.AsSpan(0, 400).ToArray(), "without an END card" },
            { "missing END before data", Concat(Header([Card("SIMPLE", true), Card("BITPIX", -32), Card("NAXIS", 2), Card("NAXIS1", 2), Card("NAXIS2", 1)], end: false), Data(Encode(-32, [1e-30, -7.5]))), "has no END card" },
            { "missing END to the end of the file", Header([Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 0)], end: false), "without an END card" },
            { "corrupt gzip", corruptGz, "corrupt gzip stream" },
            { "truncated gzip", gz.AsSpan(0, gz.Length / 2).ToArray(), $"without an END card (after gunzip: {gz.Length / 2} gzip bytes inflated to" },
            { "gzip header only", gz.AsSpan(0, 10).ToArray(), "empty input: no FITS header (after gunzip: 10 gzip bytes inflated to 0)" },
            { "bad BITPIX", PrimaryImage(12, 1, 1, [0, 0]), "BITPIX = 12 is not one of" },
            { "missing NAXIS2", Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 2), Card("NAXIS1", 1)), Data([1])), "mandatory keyword NAXIS2" },
            { "non-integer NAXIS1", Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 1), Card("NAXIS1", "ten")), Data([1])), "NAXIS1 = 'ten' is not an integer" },
            { "negative axis", Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 1), Card("NAXIS1", -4))), "NAXIS1 = -4 is negative" },
            { "truncated extension", Concat(PrimaryImage(8, 1, 1, [1]), Header(Card("XTENSION", "IMAGE"), Card("BITPIX", 16), Card("NAXIS", 2), Card("NAXIS1", 100), Card("NAXIS2", 100), Card("PCOUNT", 0), Card("GCOUNT", 1))), "HDU 1 needs 20000 data bytes" },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_throws_fits_format_exception_saying_what_is_wrong(string why, byte[] bytes, string message)
    {
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.Read(bytes));
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{why}: message was \"{e.Message}\"");
        Assert.IsAssignableFrom<FormatException>(e);
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Checking_the_first_image_fails_as_reading_it_does(string why, byte[] bytes, string message)
    {
        static string? Failure(Action read)
        {
            try
            {
                read();
                return null;
            }
            catch (FitsFormatException e)
            {
                return e.Message;
            }
        }
        string? check = Failure(() => FitsFile.CheckFirstImage(bytes));
        Assert.Equal(Failure(() => FitsFile.ReadFirstImage(bytes)), check);
        // Reading only to the first image stops before damage in a later HDU.
        if (why != "truncated extension") Assert.True(check?.Contains(message, StringComparison.Ordinal), $"{why}: message was \"{check}\"");
    }

    [Fact]
    public void Checking_the_first_image_accepts_what_reading_it_accepts_and_reads_its_scaling()
    {
        var good = PrimaryImage(-32, 63, 63, Encode(-32, new double[63 * 63]));
        FitsFile.CheckFirstImage(good);
        FitsFile.CheckFirstImage(Gzip(good));
        var badScale = Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 2), Card("NAXIS1", 1), Card("NAXIS2", 1), Card("BSCALE", "two")), Data([1]));
        Assert.Equal(Assert.ThrowsAny<FormatException>(() => FitsFile.ReadFirstImage(badScale)).Message,
            Assert.ThrowsAny<FormatException>(() => FitsFile.CheckFirstImage(badScale)).Message);
        var cube = Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 3), Card("NAXIS1", 2), Card("NAXIS2", 2), Card("NAXIS3", 2)), Data(new byte[8]));
        Assert.Contains("3-dimensional", Assert.Throws<FitsFormatException>(() => FitsFile.CheckFirstImage(cube)).Message);
    }

    [Fact]
    public void Corrupt_gzip_wraps_the_invalid_data_exception()
    {
        var gz = Gzip(PrimaryImage(8, 1, 1, [1]));
        gz[^8] ^= 0xFF; // CRC-32 of the uncompressed data (RFC 1952 §2.3.1)
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.Read(gz));
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void Asking_for_the_image_of_a_cube_says_it_is_not_two_dimensional()
    {
        var cube = Concat(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 3), Card("NAXIS1", 2), Card("NAXIS2", 2), Card("NAXIS3", 2)), Data(new byte[8]));
        var file = FitsFile.Read(cube);
        Assert.Null(file.Hdus[0].Image);
        Assert.Equal([2, 2, 2], file.Hdus[0].Axes);
        var e = Assert.Throws<FitsFormatException>(() => file.FirstImage);
        Assert.Contains("3-dimensional", e.Message);
        Assert.Throws<FitsFormatException>(() => FitsFile.ReadFirstImage(cube));
    }

    [Fact]
    public void A_file_without_image_data_has_no_first_image()
    {
        var file = FitsFile.Read(Header(Card("SIMPLE", true), Card("BITPIX", 8), Card("NAXIS", 0)));
        Assert.Contains("no image HDU with data", Assert.Throws<FitsFormatException>(() => file.FirstImage).Message);
    }

    [Fact]
    public void Gzip_that_inflates_beyond_the_isize_hint_is_still_read_whole()
    {
        // Two gzip members: ISIZE describes only the last, so the buffer must grow.
        var fits = PrimaryImage(-32, 63, 63, Encode(-32, Enumerable.Range(0, 63 * 63).Select(i => (double)i).ToArray()));
        var bytes = Concat(Gzip(fits.AsSpan(0, fits.Length - 100).ToArray()), Gzip(fits.AsSpan(fits.Length - 100).ToArray()));
        var image = FitsFile.ReadFirstImage(bytes);
        Assert.Equal(63 * 63 - 1, image.Pixels[^1]);
    }
}
