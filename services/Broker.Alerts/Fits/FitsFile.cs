using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Broker.Alerts.IO;

namespace Broker.Alerts.Fits;

/// <summary>
/// A FITS file read from bytes: plain or gzipped, every HDU's header, and the pixels of every 2-D image HDU.
/// Built for alert cutouts (ZTF: one gzipped 63x63 float image; Rubin: plain FITS with image, <c>UNCERT</c> and
/// <c>PSFIMAGE</c> HDUs), following the FITS Standard 4.0 (IAU FITS Working Group, 2016).
/// </summary>
public sealed class FitsFile
{
    /// <summary>FITS logical record length: headers and data are padded to multiples of 2880 bytes (§3.1).</summary>
    public const int BlockSize = 2880;

    /// <summary>
    /// Gzip input that inflates to more than this is refused: cutouts are kilobytes (a ZTF stamp inflates to 20 kB,
    /// a Rubin 3-HDU cutout to under 1 MB), so more is a gzip bomb. The same bound as every other gzip Broker reads
    /// (<see cref="AlertLimits.DefaultBytes"/>).
    /// </summary>
    public const int MaxDecompressedBytes = AlertLimits.DefaultBytes;

    // The NaN that BLANK pixels become: the positive quiet NaN 0x7FC00000 that numpy's np.nan casts to, rather
    // than .NET's float.NaN (0xFFC00000), so that undefined pixels are bit-identical to astropy's.
    private static readonly float BlankNaN = BitConverter.Int32BitsToSingle(0x7FC00000);

    private FitsFile(FitsHdu[] hdus) => Hdus = hdus;

    /// <summary>The HDUs in file order; <c>Hdus[0]</c> is the primary HDU.</summary>
    public IReadOnlyList<FitsHdu> Hdus { get; }

    /// <summary>
    /// The image of the first image HDU that has data: the primary HDU for ZTF and for the Rubin cutouts seen so
    /// far, or the first IMAGE extension when the primary HDU is empty (NAXIS = 0).
    /// </summary>
    /// <exception cref="FitsFormatException">No image HDU has data, or the first one is not two-dimensional.</exception>
    public FitsImage FirstImage => FirstImageHdu(Hdus).Image!;

    /// <summary>True when the bytes start with the gzip magic number 1f 8b (RFC 1952 §2.3.1).</summary>
    public static bool IsGzip(ReadOnlySpan<byte> bytes) => Gzip.IsGzip(bytes);

    /// <summary>Reads every HDU of a plain or gzipped FITS file.</summary>
    /// <exception cref="FitsFormatException">The bytes are not a readable FITS file; the message says where and why.</exception>
    public static FitsFile Read(ReadOnlySpan<byte> bytes) => new(Parse(bytes, firstImageOnly: false, decodePixels: true));

    /// <summary>
    /// Reads only as far as the first image HDU with data and returns its image: the cheap path for a cutout, which
    /// skips decoding Rubin's variance and PSF planes.
    /// </summary>
    /// <exception cref="FitsFormatException">The bytes are not a readable FITS file, or hold no 2-D image.</exception>
    public static FitsImage ReadFirstImage(ReadOnlySpan<byte> bytes) => FirstImageHdu(Parse(bytes, firstImageOnly: true, decodePixels: true)).Image!;

    /// <summary>
    /// Checks what <see cref="ReadFirstImage"/> would read, with the same errors, without converting the pixels: for
    /// validating cutouts that are passed on as they came (ingest).
    /// </summary>
    /// <exception cref="FitsFormatException">The bytes are not a readable FITS file, or hold no 2-D image.</exception>
    public static void CheckFirstImage(ReadOnlySpan<byte> bytes) => FirstImageHdu(Parse(bytes, firstImageOnly: true, decodePixels: false));

    private static FitsHdu FirstImageHdu(IReadOnlyList<FitsHdu> hdus)
    {
        foreach (var hdu in hdus)
        {
            if (!hdu.IsImage || !HasData(hdu.Axes)) continue;
            if (hdu.Axes.Count == 2) return hdu;
            throw new FitsFormatException(
                $"FITS HDU {hdu.Index} is a {hdu.Axes.Count}-dimensional image ({string.Join(" x ", hdu.Axes)}); a cutout must have NAXIS = 2");
        }
        throw new FitsFormatException($"FITS file has no image HDU with data among its {hdus.Count} HDU(s)");
    }

    private static bool HasData(IReadOnlyList<int> axes)
    {
        if (axes.Count == 0) return false;
        foreach (int n in axes) if (n == 0) return false;
        return true;
    }

    private static FitsHdu[] Parse(ReadOnlySpan<byte> bytes, bool firstImageOnly, bool decodePixels)
    {
        if (!IsGzip(bytes)) return ParsePlain(bytes, firstImageOnly, decodePixels);
        byte[] buffer = Gunzip(bytes, out int length);
        try
        {
            return ParsePlain(buffer.AsSpan(0, length), firstImageOnly, decodePixels);
        }
        catch (FitsFormatException e)
        {
            // GZipStream ends quietly at the end of a truncated stream, so a cut-off gzip shows up as a short FITS
            // file; the sizes tell the reader which it was.
            throw new FitsFormatException($"{e.Message} (after gunzip: {bytes.Length} gzip bytes inflated to {length})", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Inflates gzip into a pooled buffer (see <see cref="Gzip.InflatePooled"/>), up to <see cref="MaxDecompressedBytes"/>.</summary>
    private static byte[] Gunzip(ReadOnlySpan<byte> gz, out int length)
    {
        try
        {
            return Gzip.InflatePooled(gz, MaxDecompressedBytes, out length);
        }
        catch (GzipLimitException)
        {
            throw new FitsFormatException($"gzipped FITS inflates to more than {AlertLimits.Describe(MaxDecompressedBytes)}; refusing it (a gzip bomb?)");
        }
        catch (InvalidDataException e)
        {
            throw new FitsFormatException($"corrupt gzip stream in FITS cutout ({gz.Length} bytes): {e.Message}", e);
        }
    }

    private static FitsHdu[] ParsePlain(ReadOnlySpan<byte> bytes, bool firstImageOnly, bool decodePixels)
    {
        if (bytes.Length == 0) throw new FitsFormatException("empty input: no FITS header");
        var hdus = new List<FitsHdu>(3);
        var cards = new List<FitsCard>(36);
        long pos = 0;
        while (true)
        {
            int index = hdus.Count;
            cards.Clear();
            long dataStart = ReadHeader(bytes, (int)pos, index, cards);
            var header = new FitsHeader(cards);
            var hdu = ReadData(bytes, dataStart, index, header, decodePixels, out long dataBytes);
            hdus.Add(hdu);
            if (firstImageOnly && hdu.IsImage && HasData(hdu.Axes)) break;

            // §3.5: after the last extension only special records may follow, and they must not start with
            // XTENSION. So another HDU follows exactly when the next block starts with that keyword.
            pos = dataStart + PaddedLength(dataBytes);
            if (pos > bytes.Length - FitsCard.Length || !bytes.Slice((int)pos, 8).SequenceEqual("XTENSION"u8)) break;
        }
        return hdus.ToArray();
    }

    private static long PaddedLength(long n) => (n + BlockSize - 1) / BlockSize * BlockSize;

    /// <summary>Reads cards from <paramref name="start"/> to END; returns the offset of the data (the next block boundary).</summary>
    private static long ReadHeader(ReadOnlySpan<byte> bytes, int start, int index, List<FitsCard> cards)
    {
        for (int n = 0; ; n++)
        {
            long at = start + (long)n * FitsCard.Length;
            if (at + FitsCard.Length > bytes.Length)
            {
                if (index == 0 && n == 0)
                    throw new FitsFormatException($"not a FITS file: {bytes.Length} bytes, shorter than one 80-byte header card");
                throw new FitsFormatException(
                    $"truncated FITS: the header of HDU {index} (from byte {start}) stops after {n} cards at byte {bytes.Length} without an END card");
            }
            var raw = bytes.Slice((int)at, FitsCard.Length);
            // §4.4.1.1: SIMPLE opens a primary header. Only its position is checked, not its value's column: ZTF
            // writes "SIMPLE  =  T" with T in column 12 rather than 30. (Extensions are only entered when the block
            // starts with XTENSION, so their first card needs no check here.)
            if (n == 0 && index == 0 && !raw.StartsWith("SIMPLE  "u8))
                throw new FitsFormatException($"not a FITS file: the first card is '{Printable(raw)}', not SIMPLE");
            if (raw.StartsWith("END"u8) && raw[3..].IndexOfAnyExcept((byte)' ') < 0)
                return start + PaddedLength((n + 1L) * FitsCard.Length);
            var card = FitsCard.Parse(raw) ?? throw new FitsFormatException(
                $"FITS HDU {index} header has no END card: card {n + 1} (byte {at}) holds bytes that are not header text (FITS 4.0 §4.1.1)");
            cards.Add(card);
        }
    }

    private static FitsHdu ReadData(ReadOnlySpan<byte> bytes, long dataStart, int index, FitsHeader header, bool decodePixels, out long dataBytes)
    {
        int bitpix = Required(header, "BITPIX", index);
        if (bitpix is not (8 or 16 or 32 or 64 or -32 or -64))
            throw new FitsFormatException($"FITS HDU {index}: BITPIX = {bitpix} is not one of 8, 16, 32, 64, -32, -64 (FITS 4.0 §4.4.1.1)");
        int naxis = Required(header, "NAXIS", index);
        if (naxis is < 0 or > 999)
            throw new FitsFormatException($"FITS HDU {index}: NAXIS = {naxis} is outside 0-999 (FITS 4.0 §4.4.1.1)");
        var axes = new int[naxis];
        for (int k = 0; k < naxis; k++)
        {
            axes[k] = Required(header, "NAXIS" + (k + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), index);
            if (axes[k] < 0) throw new FitsFormatException($"FITS HDU {index}: NAXIS{k + 1} = {axes[k]} is negative");
        }

        string? extension = index == 0 ? null : header.GetString("XTENSION");
        // §6: random groups are a primary HDU with NAXIS1 = 0 and GROUPS = T; their size uses PCOUNT and GCOUNT.
        bool groups = index == 0 && naxis > 0 && axes[0] == 0 && header.Find("GROUPS")?.Value == "T";
        long pcount = 0, gcount = 1;
        if (index > 0 || groups)
        {
            pcount = header.GetLong("PCOUNT") ?? 0;
            gcount = header.GetLong("GCOUNT") ?? 1;
            if (pcount < 0 || gcount < 0)
                throw new FitsFormatException($"FITS HDU {index}: PCOUNT = {pcount}, GCOUNT = {gcount}; both must be non-negative");
        }

        // §4.4.1.1 eq. 1 and §4.4.1.2 eq. 2: Nbits = |BITPIX| x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISm). Every
        // extension type (BINTABLE included, whose heap is PCOUNT) is skipped by this size alone.
        try
        {
            long elements = naxis == 0 ? 0 : 1;
            for (int k = groups ? 1 : 0; k < naxis; k++) elements = checked(elements * axes[k]);
            dataBytes = checked(Math.Abs(bitpix) / 8 * gcount * (pcount + elements));
        }
        catch (OverflowException)
        {
            throw new FitsFormatException($"FITS HDU {index}: the data size ({string.Join(" x ", axes)}, PCOUNT {pcount}, GCOUNT {gcount}) overflows");
        }
        if (dataBytes > bytes.Length - dataStart)
            throw new FitsFormatException(
                $"truncated FITS: HDU {index} needs {dataBytes} data bytes from byte {dataStart}, but the file ends at byte {bytes.Length}");

        bool isImage = (index == 0 && !groups) || extension == "IMAGE";
        FitsImage? image = null;
        if (isImage && naxis == 2 && axes[0] > 0 && axes[1] > 0)
        {
            if ((long)axes[0] * axes[1] > Array.MaxLength)
                throw new FitsFormatException($"FITS HDU {index}: a {axes[0]} x {axes[1]} image is too large to hold");
            var data = bytes.Slice((int)dataStart, (int)dataBytes);
            var encoding = PixelEncoding.Read(data, bitpix, axes[0], axes[1], header, index);
            if (decodePixels) image = DecodeImage(data, bitpix, axes[0], axes[1], encoding);
        }
        return new FitsHdu(index, header, bitpix, axes, extension, isImage, image);
    }

    private static int Required(FitsHeader header, string keyword, int index) =>
        header.GetInt(keyword) ?? throw new FitsFormatException($"FITS HDU {index} header lacks the mandatory keyword {keyword} (FITS 4.0 §4.4.1)");

    /// <summary>
    /// Converts big-endian pixels (§5.2, §5.3) to float, applying physical = BZERO + BSCALE x stored (§4.4.2.5) and
    /// mapping integer pixels equal to BLANK to NaN. NaN float pixels stay NaN.
    /// </summary>
    /// <remarks>
    /// The arithmetic mirrors astropy.io.fits (ImageHDU._get_scaled_image_data), so that a cast of astropy's array to
    /// float32 matches bit for bit: 8- and 16-bit integers and float32 pixels are scaled in float32, 32- and 64-bit
    /// integers and float64 pixels in float64 and then rounded once to float32. Unsigned 64-bit data (BZERO = 2^63,
    /// §5.2.5) is converted exactly and rounded once. Unlike astropy, BLANK applies to unsigned data too and may be 0.
    /// </remarks>
    private static FitsImage DecodeImage(ReadOnlySpan<byte> data, int bitpix, int width, int height, PixelEncoding encoding)
    {
        int n = width * height;
        var pixels = new float[n];
        var (scaling, bscale, bzero, hasBlank, blank) = encoding;

        switch (bitpix)
        {
            case 8:
                for (int i = 0; i < n; i++)
                {
                    byte raw = data[i];
                    pixels[i] = hasBlank && raw == blank ? BlankNaN : scaling.Apply((float)raw);
                }
                break;
            case 16:
                for (int i = 0; i < n; i++)
                {
                    short raw = BinaryPrimitives.ReadInt16BigEndian(data[(i * 2)..]);
                    pixels[i] = hasBlank && raw == blank ? BlankNaN : scaling.Apply((float)raw);
                }
                break;
            case 32:
                for (int i = 0; i < n; i++)
                {
                    int raw = BinaryPrimitives.ReadInt32BigEndian(data[(i * 4)..]);
                    pixels[i] = hasBlank && raw == blank ? BlankNaN : (float)scaling.Apply((double)raw);
                }
                break;
            case 64:
                // astropy keeps unscaled, BLANK-free 64-bit data as int64 (so a float32 cast rounds once) and makes
                // unsigned data (BZERO = 2^63, §5.2.5) uint64; everything else goes through float64.
                bool direct = scaling.IsIdentity && !hasBlank;
                bool unsigned64 = bscale == 1.0 && bzero == 9223372036854775808.0;
                for (int i = 0; i < n; i++)
                {
                    long raw = BinaryPrimitives.ReadInt64BigEndian(data[(i * 8)..]);
                    pixels[i] = hasBlank && raw == blank ? BlankNaN
                        : direct ? raw
                        : unsigned64 ? UInt64ToSingle((ulong)(raw ^ long.MinValue))
                        : (float)scaling.Apply((double)raw);
                }
                break;
            case -32:
                var bits = MemoryMarshal.Cast<byte, int>(data[..(n * 4)]);
                var target = MemoryMarshal.Cast<float, int>(pixels.AsSpan());
                if (BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(bits, target);
                else bits.CopyTo(target);
                if (!scaling.IsIdentity)
                    for (int i = 0; i < n; i++) pixels[i] = scaling.Apply(pixels[i]);
                break;
            case -64:
                for (int i = 0; i < n; i++)
                    pixels[i] = (float)scaling.Apply(BinaryPrimitives.ReadDoubleBigEndian(data[(i * 8)..]));
                break;
            default:
                throw new FitsFormatException($"BITPIX = {bitpix} is not supported");
        }
        return new FitsImage(width, height, pixels);
    }

    /// <summary>How an image's stored values become pixels: the header's BSCALE, BZERO and BLANK, read and checked.</summary>
    private readonly record struct PixelEncoding(Scaling Scaling, double BScale, double BZero, bool HasBlank, long Blank)
    {
        public static PixelEncoding Read(ReadOnlySpan<byte> data, int bitpix, int width, int height, FitsHeader header, int index)
        {
            if ((long)width * height * (Math.Abs(bitpix) / 8) > data.Length)
                throw new FitsFormatException($"FITS HDU {index}: {data.Length} data bytes cannot hold a {width} x {height} image of BITPIX {bitpix}");
            double bscale = header.GetDouble("BSCALE") ?? 1.0;
            double bzero = header.GetDouble("BZERO") ?? 0.0;
            long? blank = bitpix > 0 ? header.GetLong("BLANK") : null;
            // astropy multiplies only when BSCALE != 1 and adds only when BZERO != 0; skipping them rather than
            // multiplying by 1 and adding 0 keeps the sign of a -0 result, so the bits stay identical.
            return new PixelEncoding(new Scaling(bscale, bzero), bscale, bzero, blank.HasValue, blank.GetValueOrDefault());
        }
    }

    /// <summary>BSCALE and BZERO, applied in the precision of the caller's overload as astropy does.</summary>
    private readonly struct Scaling(double bscale, double bzero)
    {
        private readonly bool _multiply = bscale != 1.0;
        private readonly bool _add = bzero != 0.0;

        public bool IsIdentity => !_multiply && !_add;

        public float Apply(float v)
        {
            if (_multiply) v *= (float)bscale;
            if (_add) v += (float)bzero;
            return v;
        }

        public double Apply(double v)
        {
            if (_multiply) v *= bscale;
            if (_add) v += bzero;
            return v;
        }
    }

    /// <summary>Rounds a ulong to the nearest float once (a detour through double could round twice).</summary>
    private static float UInt64ToSingle(ulong u)
    {
        if (u <= long.MaxValue) return (long)u;
        // Halve, keeping the lost bit as a sticky bit so that the rounding of the halved value is the rounding of u.
        return (long)((u >> 1) | (u & 1)) * 2f;
    }

    private static string Printable(ReadOnlySpan<byte> raw)
    {
        Span<char> chars = stackalloc char[raw.Length];
        for (int i = 0; i < raw.Length; i++) chars[i] = raw[i] is >= 0x20 and <= 0x7E ? (char)raw[i] : '?';
        return new string(chars).TrimEnd();
    }
}
