using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Broker.Alerts.Fits;

/// <summary>
/// Writes float32 images as a FITS file: the first image is the primary HDU, later ones IMAGE extensions
/// (FITS Standard 4.0 §3.3, §7.1), optionally gzipped. Enough to make ZTF-like stamps (one gzipped 63x63 image) and
/// Rubin-like cutouts (plain FITS: image, then <c>UNCERT</c> and <c>PSFIMAGE</c> extensions).
/// </summary>
/// <example>
/// <code>
/// byte[] ztf = FitsWriter.WriteImage(stamp, [FitsCard.Create("BUNIT", "DN")], gzip: true);
/// byte[] rubin = new FitsWriter().AddImage(image).AddImage(variance, "UNCERT").AddImage(psf, "PSFIMAGE").ToBytes();
/// </code>
/// </example>
public sealed class FitsWriter
{
    // Keywords this writer owns: the structural ones of §4.4.1, and the scaling ones, since the data is written as
    // plain float32 and BSCALE, BZERO or BLANK would change what readers make of it.
    private static readonly string[] Reserved =
        ["SIMPLE", "BITPIX", "NAXIS", "EXTEND", "XTENSION", "PCOUNT", "GCOUNT", "EXTNAME", "END", "BSCALE", "BZERO", "BLANK", "GROUPS"];

    // One HDU: float32 pixels (BITPIX -32) or, for PSF models and other double data, float64 (BITPIX -64).
    private readonly record struct Hdu(int Width, int Height, float[]? Pixels32, double[]? Pixels64, FitsCard? Name, FitsCard[] Cards);

    private readonly List<Hdu> _hdus = [];

    /// <summary>HDUs added so far.</summary>
    public int Count => _hdus.Count;

    /// <summary>Adds an image: the primary HDU if it is the first, else an IMAGE extension.</summary>
    /// <param name="image">The pixels, written as BITPIX -32 in the row order of <see cref="FitsImage.Pixels"/>.</param>
    /// <param name="extensionName">EXTNAME, for example <c>UNCERT</c>; null for none.</param>
    /// <param name="cards">Extra header cards after the mandatory ones (for example BUNIT or WCS keywords).</param>
    /// <returns>This writer, to chain calls.</returns>
    /// <exception cref="ArgumentException">
    /// A card uses a keyword the writer sets itself (SIMPLE, BITPIX, NAXISn, EXTNAME, BSCALE, ...), or the name is not
    /// printable ASCII short enough for a card.
    /// </exception>
    public FitsWriter AddImage(FitsImage image, string? extensionName = null, IEnumerable<FitsCard>? cards = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        _hdus.Add(new Hdu(image.Width, image.Height, image.Pixels, null, NameCard(extensionName), CheckedCards(cards)));
        return this;
    }

    /// <summary>Adds a float64 image (BITPIX -64), for example a PSF model: the primary HDU if first, else an IMAGE extension.</summary>
    /// <param name="width">NAXIS1, columns.</param>
    /// <param name="height">NAXIS2, rows.</param>
    /// <param name="pixels">Row-major pixels, first stored row first; width x height of them.</param>
    /// <param name="extensionName">EXTNAME, for example <c>PSFIMAGE</c>; null for none.</param>
    /// <param name="cards">Extra header cards after the mandatory ones.</param>
    /// <returns>This writer, to chain calls.</returns>
    /// <exception cref="ArgumentException">The pixel count is not width x height, or a card uses a keyword the writer sets itself.</exception>
    public FitsWriter AddImage64(int width, int height, double[] pixels, string? extensionName = null, IEnumerable<FitsCard>? cards = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width < 0 || height < 0 || (long)width * height != pixels.Length)
            throw new ArgumentException($"{pixels.Length} pixels do not make a {width} x {height} image", nameof(pixels));
        _hdus.Add(new Hdu(width, height, null, pixels, NameCard(extensionName), CheckedCards(cards)));
        return this;
    }

    private static FitsCard? NameCard(string? extensionName) =>
        extensionName is null ? null : FitsCard.Create("EXTNAME", extensionName, "extension name");

    private static FitsCard[] CheckedCards(IEnumerable<FitsCard>? cards)
    {
        var extra = cards?.ToArray() ?? [];
        foreach (var card in extra)
        {
            bool reserved = Array.IndexOf(Reserved, card.Keyword) >= 0
                || (card.Keyword.StartsWith("NAXIS", StringComparison.Ordinal) && card.Keyword.Length > 5);
            if (reserved) throw new ArgumentException($"{card.Keyword} is set by FitsWriter and cannot be given as an extra card", nameof(cards));
        }
        return extra;
    }

    /// <summary>Writes one image as a single-HDU FITS file.</summary>
    /// <param name="image">The pixels.</param>
    /// <param name="cards">Extra header cards after the mandatory ones.</param>
    /// <param name="gzip">Whether to gzip the file.</param>
    /// <param name="level">The gzip compression level (ZTF's stamps are small: <see cref="CompressionLevel.Fastest"/> costs a few per cent in size).</param>
    /// <exception cref="ArgumentException">A card uses a keyword the writer sets itself.</exception>
    public static byte[] WriteImage(FitsImage image, IEnumerable<FitsCard>? cards = null, bool gzip = false, CompressionLevel level = CompressionLevel.Optimal) =>
        new FitsWriter().AddImage(image, null, cards).ToBytes(gzip, level);

    /// <summary>The file as bytes.</summary>
    /// <param name="gzip">Whether to gzip the file.</param>
    /// <param name="level">The gzip compression level.</param>
    /// <exception cref="InvalidOperationException">No image was added.</exception>
    public byte[] ToBytes(bool gzip = false, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var buffer = new MemoryStream(EstimatedLength());
        WriteTo(buffer, gzip, level);
        return buffer.ToArray();
    }

    /// <summary>Writes the file to <paramref name="destination"/>, which stays open.</summary>
    /// <param name="destination">Where the file goes.</param>
    /// <param name="gzip">Whether to gzip the file.</param>
    /// <param name="level">The gzip compression level.</param>
    /// <exception cref="InvalidOperationException">No image was added.</exception>
    public void WriteTo(Stream destination, bool gzip = false, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (_hdus.Count == 0) throw new InvalidOperationException("a FITS file needs at least one HDU; call AddImage first");
        if (!gzip)
        {
            WriteHdus(destination);
            return;
        }
        // The finished file is compressed in one call, so the gzip bytes depend only on the file and the level, not on
        // how the header and data writes happen to be split.
        using var file = new MemoryStream(EstimatedLength());
        WriteHdus(file);
        using var compressor = new GZipStream(destination, level, leaveOpen: true);
        compressor.Write(file.GetBuffer().AsSpan(0, (int)file.Length));
    }

    // The file's size, give or take a header block: each HDU's header (its cards and a few mandatory ones) and its
    // padded data. Only a buffer's starting capacity.
    private int EstimatedLength()
    {
        long total = 0;
        foreach (var hdu in _hdus)
        {
            long data = (long)hdu.Width * hdu.Height * (hdu.Pixels64 is null ? 4 : 8);
            total += ((hdu.Cards.Length + 10L) * FitsCard.Length + FitsFile.BlockSize - 1) / FitsFile.BlockSize * FitsFile.BlockSize;
            total += (data + FitsFile.BlockSize - 1) / FitsFile.BlockSize * FitsFile.BlockSize;
        }
        return (int)Math.Min(total, Array.MaxLength);
    }

    private void WriteHdus(Stream output)
    {
        var header = new List<FitsCard>(16);
        for (int h = 0; h < _hdus.Count; h++)
        {
            var hdu = _hdus[h];
            header.Clear();
            // §4.4.1.1 and §4.4.1.2: the mandatory keywords, in the mandatory order.
            header.Add(h == 0 ? FitsCard.Create("SIMPLE", true, "conforms to FITS standard") : FitsCard.Create("XTENSION", "IMAGE", "image extension"));
            header.Add(hdu.Pixels64 is null
                ? FitsCard.Create("BITPIX", -32L, "IEEE single precision floating point")
                : FitsCard.Create("BITPIX", -64L, "IEEE double precision floating point"));
            header.Add(FitsCard.Create("NAXIS", 2L));
            header.Add(FitsCard.Create("NAXIS1", (long)hdu.Width));
            header.Add(FitsCard.Create("NAXIS2", (long)hdu.Height));
            if (h == 0)
            {
                if (_hdus.Count > 1) header.Add(FitsCard.Create("EXTEND", true));
            }
            else
            {
                header.Add(FitsCard.Create("PCOUNT", 0L));
                header.Add(FitsCard.Create("GCOUNT", 1L));
            }
            if (hdu.Name is { } name) header.Add(name);
            header.AddRange(hdu.Cards);
            WriteHeader(output, header);
            if (hdu.Pixels64 is { } doubles) WriteData(output, MemoryMarshal.AsBytes(doubles.AsSpan()), 8);
            else WriteData(output, MemoryMarshal.AsBytes(hdu.Pixels32.AsSpan()), 4);
        }
    }

    private static void WriteHeader(Stream output, List<FitsCard> cards)
    {
        int length = (int)((cards.Count + 1L) * FitsCard.Length + FitsFile.BlockSize - 1) / FitsFile.BlockSize * FitsFile.BlockSize;
        byte[] block = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = block.AsSpan(0, length);
            // §4.4.1: the header ends with END and is padded to the block with spaces.
            span.Fill((byte)' ');
            for (int i = 0; i < cards.Count; i++) cards[i].WriteTo(span.Slice(i * FitsCard.Length, FitsCard.Length));
            "END"u8.CopyTo(span[(cards.Count * FitsCard.Length)..]);
            output.Write(span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    // §5.3: IEEE floats and doubles are stored big-endian; §3.3.2: the data is padded to the block with zeros.
    private static void WriteData(Stream output, ReadOnlySpan<byte> native, int elementSize)
    {
        int bytes = native.Length;
        int length = (int)(((long)bytes + FitsFile.BlockSize - 1) / FitsFile.BlockSize * FitsFile.BlockSize);
        byte[] block = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var span = block.AsSpan(0, length);
            native.CopyTo(span);
            if (BitConverter.IsLittleEndian)
            {
                if (elementSize == 8) BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, long>(span[..bytes]), MemoryMarshal.Cast<byte, long>(span[..bytes]));
                else BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(span[..bytes]), MemoryMarshal.Cast<byte, int>(span[..bytes]));
            }
            span[bytes..].Clear();
            output.Write(span);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }
}
