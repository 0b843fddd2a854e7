using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Broker.Catalogs.Index;

/// <summary>
/// The body of <c>broker xmatch</c> (issue 11, item 3): positions from CSV (header <c>id,ra,dec</c>, ICRS degrees,
/// and optionally <c>epoch</c>, Julian year) against a catalogue index, written as a header line and then
/// <c>id,catalog_id,separation_arcsec</c> per pair.
/// </summary>
/// <remarks>
/// The whole command is the unit of speed, so the CSV is parsed from UTF-8 bytes in place (RFC 4180: quoted fields
/// may hold commas, newlines and doubled quotes) and the pairs are formatted straight into a UTF-8 buffer: no
/// string per line or per field, except for an identifier that needs unquoting.
/// </remarks>
public static class CatalogXmatch
{
    /// <summary>The first line of the output.</summary>
    public const string HeaderLine = "id,catalog_id,separation_arcsec";

    /// <summary>The optional positions column giving each position's epoch (Julian year).</summary>
    public const string EpochColumn = "epoch";

    private static readonly CatalogColumns PositionColumns = new("id", "ra", "dec") { Epoch = EpochColumn };

    /// <summary>
    /// Matches every position of <paramref name="positionsPath"/> within <paramref name="radiusArcsec"/> and writes the
    /// pairs to <paramref name="output"/>: per position in input order, its pairs by increasing separation (ties by
    /// file row), or only the nearest with <paramref name="nearest"/>. Separations are written round-trip ("R").
    /// Where the positions have an <c>epoch</c> column, a position with an epoch is matched against the catalogue
    /// moved to that epoch (<see cref="CatalogSearcher.Cone(double, double, double, double?, List{CatalogMatch})"/>);
    /// an empty epoch means the catalogue as stored.
    /// </summary>
    /// <returns>The number of pairs written.</returns>
    /// <exception cref="CatalogFormatException">The positions file is unreadable, lacks a column, or has a NaN or out-of-range coordinate: names file, row and column.</exception>
    public static long Run(CatalogIndex index, string positionsPath, double radiusArcsec, bool nearest, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return Run(index, positionsPath, radiusArcsec, nearest, new Utf8Output(null, output));
    }

    /// <summary>
    /// As <see cref="Run(CatalogIndex, string, double, bool, TextWriter)"/>, writing UTF-8 straight to
    /// <paramref name="output"/> (what <c>broker xmatch</c> does with standard output): the bytes are formatted once
    /// and never decoded to text.
    /// </summary>
    /// <returns>The number of pairs written.</returns>
    /// <exception cref="CatalogFormatException">As <see cref="Run(CatalogIndex, string, double, bool, TextWriter)"/>.</exception>
    public static long Run(CatalogIndex index, string positionsPath, double radiusArcsec, bool nearest, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return Run(index, positionsPath, radiusArcsec, nearest, new Utf8Output(output, null));
    }

    private static long Run(CatalogIndex index, string positionsPath, double radiusArcsec, bool nearest, Utf8Output output)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(positionsPath);
        var searcher = new CatalogSearcher(index);
        var matches = new List<CatalogMatch>(64);
        long pairs = 0;
        output.Write(Encoding.UTF8.GetBytes(HeaderLine + "\n"));
        output.EndLine();
        using (var reader = new PositionReader(positionsPath))
        {
            while (reader.Next())
            {
                matches.Clear();
                if (nearest)
                {
                    if (searcher.Nearest(reader.Ra, reader.Dec, radiusArcsec, reader.Epoch, out var m)) matches.Add(m);
                }
                else
                {
                    searcher.Cone(reader.Ra, reader.Dec, radiusArcsec, reader.Epoch, matches);
                    CatalogMatch.SortBySeparation(CollectionsMarshal.AsSpan(matches));
                }
                foreach (var m in matches)
                {
                    output.Write(reader.Id);
                    output.Write((byte)',');
                    if (index.HasNumericIds) output.Write(index.IdNumber(m.Row));
                    else output.Write(index.IdUtf8(m.Row));
                    output.Write((byte)',');
                    output.Write(m.SeparationArcsec);
                    output.Write((byte)'\n');
                    output.EndLine();
                    pairs++;
                }
            }
        }
        output.Flush();
        return pairs;
    }

    /// <summary>A buffer of UTF-8 output, flushed to a stream, or decoded to a text writer, at whole lines.</summary>
    private sealed class Utf8Output(Stream? stream, TextWriter? writer)
    {
        private const int FlushAt = 1 << 16;
        private byte[] _buffer = new byte[FlushAt + 1024];
        private int _used;

        public void Write(byte b)
        {
            if (_used == _buffer.Length) Grow(1);
            _buffer[_used++] = b;
        }

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (_used + bytes.Length > _buffer.Length) Grow(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(_used));
            _used += bytes.Length;
        }

        public void Write(long value)
        {
            if (_used + 20 > _buffer.Length) Grow(20);
            Utf8Formatter.TryFormat(value, _buffer.AsSpan(_used), out int written);
            _used += written;
        }

        public void Write(double value)
        {
            if (_used + 32 > _buffer.Length) Grow(32);
            value.TryFormat(_buffer.AsSpan(_used), out int written, "R", CultureInfo.InvariantCulture);
            _used += written;
        }

        /// <summary>Writes out what is buffered; called after a newline, so a UTF-8 sequence is never split.</summary>
        public void Flush()
        {
            if (_used == 0) return;
            if (stream is not null) stream.Write(_buffer, 0, _used);
            else writer!.Write(Encoding.UTF8.GetString(_buffer, 0, _used));
            _used = 0;
        }

        private void Grow(int more)
        {
            // Flushing here could split a line (and a character) for a text writer, so the buffer grows instead.
            Array.Resize(ref _buffer, Math.Max(2 * _buffer.Length, _used + more));
        }

        /// <summary>Called after each line's newline: flushes once the buffer is full enough.</summary>
        public void EndLine()
        {
            if (_used >= FlushAt) Flush();
        }
    }

    /// <summary>
    /// Reads the positions CSV record by record from UTF-8 bytes: the identifier (as it will be written), ra, dec
    /// and the epoch when the file has that column. Errors as <see cref="CsvCatalogReader"/>'s: file, row, column.
    /// </summary>
    private sealed class PositionReader : IDisposable
    {
        private readonly string _path;
        private readonly FileStream _file;
        private byte[] _buffer = new byte[1 << 16];
        private int _start, _end;
        private bool _eof;
        private long _row;
        private readonly int _idField, _raField, _decField, _epochField, _fieldCount, _lastNeeded;
        private readonly string[] _header;
        // Each needed field's byte range within the record: start and end, and whether it was quoted.
        private readonly int[] _fieldStart, _fieldEnd;
        private readonly bool[] _fieldQuoted;
        private byte[] _id = new byte[64];
        private int _idLength;

        public PositionReader(string path)
        {
            _path = path;
            _file = CatalogFiles.OpenRead(path);
            try
            {
                if (!NextRecord(out int recordStart, out int recordEnd)) throw new CatalogFormatException(path, 0, null, "the file is empty: no header line");
                var record = _buffer.AsSpan(recordStart, recordEnd - recordStart);
                if (record.StartsWith("\uFEFF"u8)) record = record[3..];
                _header = SplitHeader(record);
                int Find(string name, bool required)
                {
                    int i = Array.FindIndex(_header, h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
                    if (i < 0 && required) throw new CatalogFormatException(path, 0, name, $"no such column in the header ({string.Join(",", _header)})");
                    return i;
                }
                _idField = Find(PositionColumns.Id, true);
                _raField = Find(PositionColumns.Ra, true);
                _decField = Find(PositionColumns.Dec, true);
                _epochField = Find(EpochColumn, false);
                _fieldCount = _header.Length;
                _lastNeeded = Math.Max(Math.Max(_idField, _raField), Math.Max(_decField, _epochField));
                _fieldStart = new int[_fieldCount];
                _fieldEnd = new int[_fieldCount];
                _fieldQuoted = new bool[_fieldCount];
            }
            catch
            {
                _file.Dispose();
                throw;
            }
        }

        /// <summary>The identifier as UTF-8: the integer re-formatted where it is one (as <see cref="CatalogId"/> prints it), else the trimmed text.</summary>
        public ReadOnlySpan<byte> Id => _id.AsSpan(0, _idLength);

        public double Ra { get; private set; }

        public double Dec { get; private set; }

        public double? Epoch { get; private set; }

        /// <summary>Reads the next position; false at the end of the file.</summary>
        public bool Next()
        {
            while (true)
            {
                if (!NextRecord(out int recordStart, out int recordEnd)) return false;
                _row++;
                var record = _buffer.AsSpan(recordStart, recordEnd - recordStart);
                if (record.IsEmpty) { _row--; continue; } // blank line
                int fields = Split(record);
                if (fields < _fieldCount)
                    throw new CatalogFormatException(_path, _row, _header[fields], $"the row has {fields} fields; the header names {_fieldCount}");
                Ra = Number(record, _raField, PositionColumns.Ra);
                Dec = Number(record, _decField, PositionColumns.Dec);
                CatalogChecks.Position(_path, _row, PositionColumns, Ra, Dec);
                Epoch = null;
                if (_epochField >= 0 && !Field(record, _epochField).Trim(" \t"u8).IsEmpty)
                    Epoch = CatalogChecks.Optional(_path, _row, EpochColumn, Number(record, _epochField, EpochColumn));
                ReadId(record);
                return true;
            }
        }

        private void ReadId(ReadOnlySpan<byte> record)
        {
            var text = Field(record, _idField);
            if (_fieldQuoted[_idField] && text.IndexOf((byte)'"') >= 0) text = Unquote(text);
            text = text.Trim(" \t\r\n\f\v"u8);
            if (text.IsEmpty) throw new CatalogFormatException(_path, _row, PositionColumns.Id, "the identifier is empty");
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number))
            {
                Utf8Formatter.TryFormat(number, _id, out _idLength);
                return;
            }
            if (_id.Length < text.Length) _id = new byte[Math.Max(text.Length, 2 * _id.Length)];
            text.CopyTo(_id);
            _idLength = text.Length;
        }

        // The field's bytes with the doubled quotes of a quoted field made single (into a scratch array).
        private static byte[] Unquote(ReadOnlySpan<byte> text)
        {
            var bytes = new byte[text.Length];
            int n = 0;
            for (int i = 0; i < text.Length; i++)
            {
                bytes[n++] = text[i];
                if (text[i] == (byte)'"' && i + 1 < text.Length && text[i + 1] == (byte)'"') i++;
            }
            return bytes.AsSpan(0, n).ToArray();
        }

        private double Number(ReadOnlySpan<byte> record, int field, string column)
        {
            var text = Field(record, field);
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
            throw new CatalogFormatException(_path, _row, column, $"'{Encoding.UTF8.GetString(text)}' is not a number");
        }

        private ReadOnlySpan<byte> Field(ReadOnlySpan<byte> record, int field) => record[_fieldStart[field].._fieldEnd[field]];

        // Records where the needed fields lie (a quoted field: between its quotes); returns the number of fields.
        private int Split(ReadOnlySpan<byte> record)
        {
            int count = 0, at = 0;
            while (true)
            {
                int start = at, end;
                bool quoted = at < record.Length && record[at] == (byte)'"';
                if (quoted)
                {
                    start = ++at;
                    while (true)
                    {
                        int q = record[at..].IndexOf((byte)'"');
                        if (q < 0) throw new CatalogFormatException(_path, _row, null, "a quoted field is not closed before the end of the file");
                        at += q + 1;
                        if (at < record.Length && record[at] == (byte)'"') { at++; continue; }
                        break;
                    }
                    end = at - 1;
                    int comma = record[at..].IndexOf((byte)',');
                    at = comma < 0 ? record.Length : at + comma;
                }
                else
                {
                    int comma = record[at..].IndexOf((byte)',');
                    end = at = comma < 0 ? record.Length : at + comma;
                }
                if (count <= _lastNeeded)
                {
                    _fieldStart[count] = start;
                    _fieldEnd[count] = end;
                    _fieldQuoted[count] = quoted;
                }
                count++;
                if (at >= record.Length) return count;
                at++; // the comma
                // Every needed field is placed and the row has enough fields: the rest need not be split.
                if (count > _lastNeeded && count >= _fieldCount) return count + 1;
            }
        }

        private string[] SplitHeader(ReadOnlySpan<byte> record)
        {
            var names = new List<string>();
            bool inQuotes = false;
            var name = new StringBuilder();
            foreach (char c in Encoding.UTF8.GetString(record))
            {
                if (c == '"') inQuotes = !inQuotes;
                else if (c == ',' && !inQuotes) { names.Add(name.ToString().Trim()); name.Clear(); }
                else name.Append(c);
            }
            names.Add(name.ToString().Trim());
            return names.ToArray();
        }

        /// <summary>
        /// The next record's bytes in the buffer, without its line ending; false at the end of the file. A record
        /// ends at the first newline outside double quotes.
        /// </summary>
        private bool NextRecord(out int recordStart, out int recordEnd)
        {
            int searchFrom = _start;
            while (true)
            {
                var pending = _buffer.AsSpan(searchFrom, _end - searchFrom);
                int newline = pending.IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    int lineEnd = searchFrom + newline;
                    // A quote before the newline may open a field that the newline is inside of.
                    if (_buffer.AsSpan(_start, lineEnd - _start).IndexOf((byte)'"') < 0 || !InsideQuotes(_buffer.AsSpan(_start, lineEnd - _start)))
                    {
                        recordStart = _start;
                        recordEnd = lineEnd > _start && _buffer[lineEnd - 1] == (byte)'\r' ? lineEnd - 1 : lineEnd;
                        _start = lineEnd + 1;
                        return true;
                    }
                    searchFrom = lineEnd + 1;
                    continue;
                }
                if (_eof)
                {
                    if (_start == _end) { recordStart = recordEnd = 0; return false; }
                    if (InsideQuotes(_buffer.AsSpan(_start, _end - _start)))
                        throw new CatalogFormatException(_path, _row + 1, null, "a quoted field is not closed before the end of the file");
                    recordStart = _start;
                    recordEnd = _end > _start && _buffer[_end - 1] == (byte)'\r' ? _end - 1 : _end;
                    _start = _end;
                    return true;
                }
                int searched = searchFrom - _start;
                Fill();
                searchFrom = _start + searched;
            }
        }

        // True when the bytes leave a double-quoted field open (an odd number of quotes: "" inside one counts twice).
        private static bool InsideQuotes(ReadOnlySpan<byte> bytes) => (bytes.Count((byte)'"') & 1) != 0;

        // Moves the unread bytes to the front, grows the buffer when a record fills it, and reads more.
        private void Fill()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, 2 * _buffer.Length);
            try
            {
                int n = _file.Read(_buffer, _end, _buffer.Length - _end);
                if (n == 0) _eof = true;
                _end += n;
            }
            catch (IOException e)
            {
                throw new CatalogFormatException(_path, _row, null, $"cannot read the file: {e.Message}", e);
            }
        }

        public void Dispose() => _file.Dispose();
    }
}
