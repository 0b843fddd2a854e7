using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Broker.Alerts.Tests.Fits;

/// <summary>
/// Builds FITS bytes by hand, independently of FitsWriter, so reader tests can state exactly which cards and bytes
/// a file holds (including non-standard ones).
/// </summary>
internal static class FitsTestBytes
{
    public const int Block = 2880;

    /// <summary>A fixed-format value card: keyword in columns 1-8, "= ", value right-justified to column 30.</summary>
    public static string Card(string keyword, object value, string? comment = null)
    {
        string text = value switch
        {
            string s => "'" + s.Replace("'", "''").PadRight(8) + "'",
            bool b => b ? "T" : "F",
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => throw new ArgumentException($"unsupported card value {value}"),
        };
        string card = keyword.PadRight(8) + "= " + (value is string ? text : text.PadLeft(20));
        if (comment is not null) card += " / " + comment;
        return card;
    }

    /// <summary>Header bytes: each card padded to 80 characters, then END (unless <paramref name="end"/> is false), padded with spaces to 2880.</summary>
    public static byte[] Header(IEnumerable<string> cards, bool end = true)
    {
        var sb = new StringBuilder();
        foreach (string card in cards)
        {
            if (card.Length > 80) throw new ArgumentException($"card longer than 80: {card}");
            sb.Append(card.PadRight(80));
        }
        if (end) sb.Append("END".PadRight(80));
        int padded = (sb.Length + Block - 1) / Block * Block;
        return Encoding.ASCII.GetBytes(sb.ToString().PadRight(padded));
    }

    public static byte[] Header(params string[] cards) => Header((IEnumerable<string>)cards);

    /// <summary>Data bytes padded with zeros to 2880.</summary>
    public static byte[] Data(byte[] data)
    {
        var padded = new byte[(data.Length + Block - 1) / Block * Block];
        data.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>Stored values as big-endian bytes of the BITPIX type (integers must fit the type).</summary>
    public static byte[] Encode(int bitpix, IReadOnlyList<double> stored)
    {
        int size = Math.Abs(bitpix) / 8;
        var bytes = new byte[stored.Count * size];
        for (int i = 0; i < stored.Count; i++)
        {
            var span = bytes.AsSpan(i * size, size);
            switch (bitpix)
            {
                case 8: span[0] = checked((byte)stored[i]); break;
                case 16: BinaryPrimitives.WriteInt16BigEndian(span, checked((short)stored[i])); break;
                case 32: BinaryPrimitives.WriteInt32BigEndian(span, checked((int)stored[i])); break;
                case -32: BinaryPrimitives.WriteSingleBigEndian(span, (float)stored[i]); break;
                case -64: BinaryPrimitives.WriteDoubleBigEndian(span, stored[i]); break;
                default: throw new ArgumentException($"use Encode64 for BITPIX {bitpix}");
            }
        }
        return bytes;
    }

    /// <summary>64-bit integers as big-endian bytes (doubles cannot carry every long).</summary>
    public static byte[] Encode64(IReadOnlyList<long> stored)
    {
        var bytes = new byte[stored.Count * 8];
        for (int i = 0; i < stored.Count; i++) BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(i * 8), stored[i]);
        return bytes;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A primary image HDU with the mandatory cards, extra cards, and the given data.</summary>
    public static byte[] PrimaryImage(int bitpix, int width, int height, byte[] data, params string[] extra) =>
        Concat(
            Header([Card("SIMPLE", true), Card("BITPIX", bitpix), Card("NAXIS", 2), Card("NAXIS1", width), Card("NAXIS2", height), .. extra]),
            Data(data));

    /// <summary>Gzip of <paramref name="bytes"/>.</summary>
    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gz = new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
            gz.Write(bytes);
        return output.ToArray();
    }
}
