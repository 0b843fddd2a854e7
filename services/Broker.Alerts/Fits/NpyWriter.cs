using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Broker.Alerts.Fits;

/// <summary>
/// Writes an image as a NumPy <c>.npy</c> file, format version 1.0 (numpy/lib/format.py, NEP 1): little-endian
/// float32, C order, numpy shape (rows, columns), so <c>numpy.load</c> gives the same array as astropy's
/// <c>hdu.data.astype('&lt;f4')</c>. NaN pixels are kept.
/// </summary>
/// <remarks>
/// The bytes equal those of <c>numpy.save</c> (NumPy 1.24): NumPy pads the header dictionary with spaces for
/// growth of the first axis (<c>GROWTH_AXIS_MAX_DIGITS</c> = 21 digits) and then to a multiple of 64 bytes.
/// </remarks>
public static class NpyWriter
{
    // "\x93NUMPY": a byte array, since a u8 string literal would encode U+0093 as two UTF-8 bytes.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy/lib/format.py: header (magic, version, length and dictionary) aligned to ARRAY_ALIGN = 64 bytes, room
    // left after the dictionary for the first axis to grow to 21 digits.
    private const int Align = 64;
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>Writes the image to <paramref name="destination"/>, which stays open.</summary>
    public static void Write(Stream destination, FitsImage image)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(image);
        Span<byte> header = stackalloc byte[256];
        int headerLength = WriteHeader(header, image.Height, image.Width);
        destination.Write(header[..headerLength]);

        var pixels = MemoryMarshal.AsBytes(image.Pixels.AsSpan());
        if (BitConverter.IsLittleEndian)
        {
            destination.Write(pixels);
            return;
        }
        byte[] swapped = ArrayPool<byte>.Shared.Rent(pixels.Length);
        try
        {
            BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, int>(pixels), MemoryMarshal.Cast<byte, int>(swapped.AsSpan(0, pixels.Length)));
            destination.Write(swapped, 0, pixels.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(swapped);
        }
    }

    /// <summary>The <c>.npy</c> file as bytes.</summary>
    public static byte[] ToBytes(FitsImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var buffer = new MemoryStream(128 + image.Pixels.Length * 4);
        Write(buffer, image);
        return buffer.ToArray();
    }

    /// <summary>Writes magic, version, header length and the padded dictionary; returns the byte count (a multiple of 64).</summary>
    private static int WriteHeader(Span<byte> header, int rows, int columns)
    {
        string shape = string.Create(CultureInfo.InvariantCulture, $"({rows}, {columns})");
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
        int rowDigits = rows.ToString(CultureInfo.InvariantCulture).Length;
        // Magic (6) + version (2) + length (2) + dictionary + growth spaces + '\n', rounded up to 64.
        int unpadded = 10 + dict.Length + (GrowthAxisMaxDigits - rowDigits) + 1;
        int total = (unpadded + Align - 1) / Align * Align;

        Magic.CopyTo(header);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], (ushort)(total - 10));
        int pos = 10 + Encoding.ASCII.GetBytes(dict, header[10..]);
        header[pos..(total - 1)].Fill((byte)' ');
        header[total - 1] = (byte)'\n';
        return total;
    }
}
