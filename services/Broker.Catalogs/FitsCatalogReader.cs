using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Broker.Alerts.Fits;

namespace Broker.Catalogs;

/// <summary>
/// Reads a catalogue from the first FITS binary table (<c>XTENSION = 'BINTABLE'</c>, FITS Standard 4.0 §7.3) of a
/// file, as VizieR and most archives serve them. Columns are found by <c>TTYPEn</c>; <c>TFORMn</c> types
/// <c>L B I J K E D</c> (repeat 1) and <c>rA</c> (a string of r bytes, trailing spaces and NULs dropped) are read
/// big-endian, with <c>TSCALn</c>/<c>TZEROn</c> applied (§7.3.2) and <c>TNULLn</c> integers as null. Streams: the
/// header is parsed, then rows are read a buffer at a time, so memory does not grow with the table.
/// </summary>
public static class FitsCatalogReader
{
    private const int Block = 2880;

    /// <summary>The rows of the first BINTABLE in <paramref name="path"/>, read lazily as the enumeration advances.</summary>
    /// <exception cref="CatalogFormatException">On enumeration: the file cannot be read, is not FITS, has no binary table, lacks a column, has a column of an unsupported type, or a position is NaN or out of range.</exception>
    public static IEnumerable<CatalogRow> Read(string path, CatalogColumns columns) => CatalogFiles.Rows(path, columns, ReadRows);

    private static IEnumerable<CatalogRow> ReadRows(Stream stream, string path, CatalogColumns columns)
    {
        var table = OpenTable(stream, path);
        Column Find(string name) => table.Find(name) ?? throw new CatalogFormatException(path, 0, name,
            $"no such column in the binary table (TTYPEs: {string.Join(",", table.Columns.Select(c => c.Name))})");
        var found = columns.Find<Column?>(Find, absent: null);
        Column id = found.Id!, ra = found.Ra!, dec = found.Dec!;
        Column? epoch = found.Epoch, pmra = found.Pmra, pmdec = found.Pmdec;
        Column[] extra = found.Extra!;
        foreach (var c in found.Numeric)
            if (c is not null && c.Type is 'A' or 'L')
                throw new CatalogFormatException(path, 0, c.Name, $"TFORM '{c.Form}' is not numeric");

        int rowsPerBuffer = Math.Max(1, (1 << 16) / Math.Max(1, table.RowBytes));
        var buffer = new byte[rowsPerBuffer * table.RowBytes];
        for (long row = 1; row <= table.Rows;)
        {
            int n = (int)Math.Min(rowsPerBuffer, table.Rows - row + 1);
            int want = n * table.RowBytes;
            int got;
            try { got = stream.ReadAtLeast(buffer.AsSpan(0, want), want, throwOnEndOfStream: false); }
            catch (IOException e) { throw new CatalogFormatException(path, row, null, $"cannot read the file: {e.Message}", e); }
            if (got < want)
                throw new CatalogFormatException(path, row + got / table.RowBytes, null, $"truncated: the table declares {table.Rows} rows of {table.RowBytes} bytes; the file ends first");
            for (int k = 0; k < n; k++, row++)
            {
                var bytes = buffer.AsSpan(k * table.RowBytes, table.RowBytes);
                double r = Number(path, row, ra, bytes), d = Number(path, row, dec, bytes);
                CatalogChecks.Position(path, row, columns, r, d);
                var idValue = id.Value(bytes);
                var catalogId = idValue switch
                {
                    long v => new CatalogId(v, null),
                    string s when s.Length > 0 => new CatalogId(0, s),
                    double v when v == Math.Floor(v) && Math.Abs(v) < 9.2e18 => new CatalogId((long)v, null),
                    _ => throw new CatalogFormatException(path, row, id.Name, $"identifier {idValue ?? "null"} is not an integer or a non-empty string"),
                };
                var values = new object?[extra.Length];
                for (int e = 0; e < extra.Length; e++) values[e] = extra[e].Value(bytes);
                yield return new CatalogRow(catalogId, r, d, Optional(path, row, epoch, bytes), Optional(path, row, pmra, bytes), Optional(path, row, pmdec, bytes), values);
            }
        }
    }

    private static double? Optional(string path, long row, Column? column, ReadOnlySpan<byte> bytes)
    {
        if (column is null) return null;
        object? v = column.Value(bytes);
        return v is null ? null : CatalogChecks.Optional(path, row, column.Name, Convert.ToDouble(v, CultureInfo.InvariantCulture));
    }

    private static double Number(string path, long row, Column column, ReadOnlySpan<byte> bytes) => column.Value(bytes) switch
    {
        long v => v,
        double v => v,
        null => double.NaN,
        var v => throw new CatalogFormatException(path, row, column.Name, $"value {v} is not a number"),
    };

    /// <summary>Skips HDUs up to the first BINTABLE and leaves the stream at its first row.</summary>
    private static Table OpenTable(Stream stream, string path)
    {
        for (int index = 0; ; index++)
        {
            var header = ReadHeader(stream, path, index);
            long Get(string key) => header.GetLong(key) ?? throw new CatalogFormatException(path, 0, null, $"HDU {index} has no {key} keyword");
            try
            {
                if (index > 0 && header.GetString("XTENSION") == "BINTABLE") return Table.From(header, path);
                long bitpix = Get("BITPIX"), naxis = Get("NAXIS");
                long size = naxis == 0 ? 0 : 1;
                for (int k = 1; k <= naxis; k++) size *= Get("NAXIS" + k.ToString(CultureInfo.InvariantCulture));
                long bytes = Math.Abs(bitpix) / 8 * (header.GetLong("GCOUNT") ?? 1) * ((header.GetLong("PCOUNT") ?? 0) + size);
                stream.Seek((bytes + Block - 1) / Block * Block, SeekOrigin.Current);
            }
            catch (FitsFormatException e) { throw new CatalogFormatException(path, 0, null, $"HDU {index}: {e.Message}", e); }
        }
    }

    private static FitsHeader ReadHeader(Stream stream, string path, int index)
    {
        var cards = new List<FitsCard>();
        var block = new byte[Block];
        while (true)
        {
            int got;
            try { got = stream.ReadAtLeast(block, Block, throwOnEndOfStream: false); }
            catch (IOException e) { throw new CatalogFormatException(path, 0, null, $"cannot read the file: {e.Message}", e); }
            if (got < Block)
                throw new CatalogFormatException(path, 0, null, index == 0 && cards.Count == 0 && got == 0 ? "the file is empty" :
                    index == 0 ? "not a FITS file, or a truncated one: no complete header" : $"no binary table: the file ends after {index} HDU(s)");
            if (index == 0 && cards.Count == 0 && !block.AsSpan().StartsWith("SIMPLE  "u8))
                throw new CatalogFormatException(path, 0, null, "not a FITS file: it does not start with SIMPLE");
            for (int at = 0; at < Block; at += FitsCard.Length)
            {
                var raw = block.AsSpan(at, FitsCard.Length);
                if (raw.StartsWith("END"u8) && raw[3..].IndexOfAnyExcept((byte)' ') < 0) return new FitsHeader(cards);
                cards.Add(FitsCard.Parse(raw) ?? throw new CatalogFormatException(path, 0, null, $"HDU {index}: header card {cards.Count + 1} is not header text (no END card?)"));
            }
        }
    }

    private sealed record Table(IReadOnlyList<Column> Columns, int RowBytes, long Rows)
    {
        public Column? Find(string name)
        {
            foreach (var c in Columns) if (string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) return c;
            return null;
        }

        public static Table From(FitsHeader header, string path)
        {
            long rowBytes = header.GetLong("NAXIS1") ?? 0, rows = header.GetLong("NAXIS2") ?? 0, fields = header.GetLong("TFIELDS") ?? 0;
            var columns = new List<Column>();
            int offset = 0;
            for (int n = 1; n <= fields; n++)
            {
                string nn = n.ToString(CultureInfo.InvariantCulture);
                string name = header.GetString("TTYPE" + nn)?.Trim() ?? "col" + nn;
                string form = header.GetString("TFORM" + nn)?.Trim() ?? throw new CatalogFormatException(path, 0, name, $"TFORM{nn} is missing");
                int letter = 0;
                while (letter < form.Length && char.IsAsciiDigit(form[letter])) letter++;
                if (letter == form.Length) throw new CatalogFormatException(path, 0, name, $"TFORM{nn} = '{form}' has no type");
                int repeat = letter == 0 ? 1 : int.Parse(form.AsSpan(0, letter), CultureInfo.InvariantCulture);
                char type = char.ToUpperInvariant(form[letter]);
                int width = type switch
                {
                    'L' or 'B' or 'A' => 1, 'I' => 2, 'J' or 'E' => 4, 'K' or 'D' => 8, 'C' => 8, 'M' => 16, 'P' => 8, 'Q' => 16, 'X' => 0,
                    _ => throw new CatalogFormatException(path, 0, name, $"TFORM{nn} = '{form}': unknown type"),
                };
                int bytes = type == 'X' ? (repeat + 7) / 8 : repeat * width;
                columns.Add(new Column(name, form, type, repeat, offset, header.GetDouble("TSCAL" + nn) ?? 1, header.GetDouble("TZERO" + nn) ?? 0, header.GetLong("TNULL" + nn), path));
                offset += bytes;
            }
            if (offset != rowBytes) throw new CatalogFormatException(path, 0, null, $"the columns' TFORMs add up to {offset} bytes a row; NAXIS1 = {rowBytes}");
            return new Table(columns, (int)rowBytes, rows);
        }
    }

    private sealed record Column(string Name, string Form, char Type, int Repeat, int Offset, double Scale, double Zero, long? Null, string Path)
    {
        private bool Scaled => Scale != 1 || Zero != 0;

        /// <summary>The value in one row: long, double, bool, string, or null (TNULL, a logical of 0, or a NaN kept as NaN).</summary>
        public object? Value(ReadOnlySpan<byte> row)
        {
            if (Type == 'A')
            {
                var s = row.Slice(Offset, Repeat);
                int end = s.IndexOf((byte)0);
                return Encoding.ASCII.GetString(end < 0 ? s : s[..end]).TrimEnd(' ');
            }
            if (Repeat != 1) throw new CatalogFormatException(Path, 0, Name, $"TFORM '{Form}' has {Repeat} elements; only scalar columns are read");
            var b = row[Offset..];
            switch (Type)
            {
                case 'L': return b[0] switch { (byte)'T' => true, (byte)'F' => false, _ => null };
                case 'B': return Integer(b[0]);
                case 'I': return Integer(BinaryPrimitives.ReadInt16BigEndian(b));
                case 'J': return Integer(BinaryPrimitives.ReadInt32BigEndian(b));
                case 'K': return Integer(BinaryPrimitives.ReadInt64BigEndian(b));
                case 'E': return Zero + Scale * BinaryPrimitives.ReadSingleBigEndian(b);
                case 'D': return Zero + Scale * BinaryPrimitives.ReadDoubleBigEndian(b);
                default: throw new CatalogFormatException(Path, 0, Name, $"TFORM '{Form}' is not a type a catalogue column can have (L B I J K E D A)");
            }
        }

        private object? Integer(long raw)
        {
            if (Null == raw) return null;
            if (!Scaled) return raw;
            // TZERO = 2^(n-1) with TSCAL = 1 is how FITS stores unsigned integers (§7.3.2): keep them exact.
            if (Scale == 1 && Zero == Math.Floor(Zero) && Math.Abs(Zero) <= 9.2e18)
            {
                if (Zero == 9223372036854775808.0)
                {
                    ulong u = (ulong)raw ^ 0x8000_0000_0000_0000UL;
                    return u <= long.MaxValue ? (long)u : (double)u;
                }
                return raw + (long)Zero;
            }
            return Zero + Scale * raw;
        }
    }
}
