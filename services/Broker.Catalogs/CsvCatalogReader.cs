using System.Globalization;
using System.Text;

namespace Broker.Catalogs;

/// <summary>
/// Reads a catalogue from CSV (RFC 4180): a header line naming the columns, comma-separated fields, fields in
/// double quotes may hold commas, newlines and doubled quotes. Streams: one row in memory at a time.
/// </summary>
public static class CsvCatalogReader
{
    /// <summary>The rows of <paramref name="path"/>, read lazily as the enumeration advances.</summary>
    /// <exception cref="CatalogFormatException">On enumeration: the file cannot be read, a column is missing, a row has too few fields, a value does not parse, or a position is NaN or out of range.</exception>
    public static IEnumerable<CatalogRow> Read(string path, CatalogColumns columns) => CatalogFiles.Rows(path, columns, ReadRows);

    private static IEnumerable<CatalogRow> ReadRows(Stream stream, string path, CatalogColumns columns)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16);
        var fields = new List<string>();
        var field = new StringBuilder();
        if (!NextRecord(reader, path, 0, fields, field))
            throw new CatalogFormatException(path, 0, null, "the file is empty: no header line");
        var header = fields.Select(f => f.Trim()).ToArray();
        int Find(string name)
        {
            int i = Array.FindIndex(header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
            return i >= 0 ? i : throw new CatalogFormatException(path, 0, name, $"no such column in the header ({string.Join(",", header)})");
        }
        var (id, ra, dec, epoch, pmra, pmdec, extra) = columns.Find(Find, absent: -1);

        for (long row = 1; ; row++)
        {
            if (!NextRecord(reader, path, row, fields, field)) yield break;
            if (fields.Count == 1 && fields[0].Length == 0) { row--; continue; } // blank line
            if (fields.Count < header.Length)
                throw new CatalogFormatException(path, row, header[fields.Count], $"the row has {fields.Count} fields; the header names {header.Length}");
            double r = Number(path, row, columns.Ra, fields[ra]);
            double d = Number(path, row, columns.Dec, fields[dec]);
            CatalogChecks.Position(path, row, columns, r, d);
            var values = new object?[extra.Length];
            for (int k = 0; k < extra.Length; k++) values[k] = Typed(fields[extra[k]]);
            string idText = fields[id].Trim();
            if (idText.Length == 0) throw new CatalogFormatException(path, row, columns.Id, "the identifier is empty");
            var catalogId = long.TryParse(idText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)
                ? new CatalogId(n, null) : new CatalogId(0, idText);
            yield return new CatalogRow(catalogId, r, d,
                OptionalNumber(path, row, columns.Epoch, epoch, fields),
                OptionalNumber(path, row, columns.Pmra, pmra, fields),
                OptionalNumber(path, row, columns.Pmdec, pmdec, fields),
                values);
        }
    }

    private static double? OptionalNumber(string path, long row, string? column, int index, List<string> fields)
    {
        if (index < 0) return null;
        string text = fields[index].Trim();
        return text.Length == 0 ? null : CatalogChecks.Optional(path, row, column!, Number(path, row, column!, text));
    }

    private static double Number(string path, long row, string column, string text)
    {
        if (double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
        throw new CatalogFormatException(path, row, column, $"'{text}' is not a number");
    }

    private static object? Typed(string text)
    {
        string t = text.Trim();
        if (t.Length == 0) return null;
        if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)) return n;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        return text;
    }

    /// <summary>Reads one record (which may span lines inside quotes) into <paramref name="fields"/>; false at the end of the file.</summary>
    private static bool NextRecord(StreamReader reader, string path, long row, List<string> fields, StringBuilder field)
    {
        fields.Clear();
        field.Clear();
        int c = reader.Read();
        if (c < 0) return false;
        bool quoted = false, wasQuoted = false;
        try
        {
            while (true)
            {
                if (quoted)
                {
                    if (c < 0) throw new CatalogFormatException(path, row, null, "a quoted field is not closed before the end of the file");
                    if (c == '"')
                    {
                        if (reader.Peek() == '"') { field.Append('"'); reader.Read(); }
                        else quoted = false;
                    }
                    else field.Append((char)c);
                }
                else if (c is < 0 or '\n')
                {
                    if (!wasQuoted && field.Length > 0 && field[^1] == '\r') field.Length--;
                    fields.Add(field.ToString());
                    return true;
                }
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                    wasQuoted = false;
                }
                else if (c == '"' && field.Length == 0 && !wasQuoted) { quoted = true; wasQuoted = true; }
                else if (c == '\r' && wasQuoted) { /* CR of a CRLF after a closing quote */ }
                else field.Append((char)c);
                c = reader.Read();
            }
        }
        catch (IOException e)
        {
            throw new CatalogFormatException(path, row, null, $"cannot read the file: {e.Message}", e);
        }
    }
}
