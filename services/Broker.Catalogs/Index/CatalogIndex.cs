using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;

namespace Broker.Catalogs.Index;

/// <summary>
/// A catalogue index file (docs/catalogs.md), memory-mapped read-only: the columns are spans over the mapping, so
/// a catalogue of 10^9 rows serves with only the pages a query touches resident. Thread-safe for reading; each
/// thread queries through its own <see cref="CatalogSearcher"/>.
/// </summary>
/// <remarks>Spans are indexed by int, so a file holds at most 2^31 − 1 rows.</remarks>
public sealed unsafe class CatalogIndex : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _length;
    private readonly IndexSection? _idNumbers, _idOffsets, _idHeap;
    private bool _disposed;

    private CatalogIndex(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        Path = path;
        _map = map;
        _view = view;
        _length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
        try
        {
            var prefix = new ReadOnlySpan<byte>(_base, CatalogIndexHeader.PrefixBytes);
            if (!prefix[..8].SequenceEqual(CatalogIndexHeader.Magic)) throw Bad("not a catalogue index file (no BRKCATIX magic)");
            long headerOffset = BinaryPrimitives.ReadInt64LittleEndian(prefix[8..]);
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(prefix[16..]);
            if (headerOffset < CatalogIndexHeader.PrefixBytes || headerLength <= 0 || headerOffset + headerLength > length)
                throw Bad("the header lies outside the file (truncated?)");
            try { Header = JsonSerializer.Deserialize<CatalogIndexHeader>(new ReadOnlySpan<byte>(_base + headerOffset, (int)headerLength), CatalogIndexHeader.Json) ?? throw Bad("empty header"); }
            catch (JsonException e) { throw Bad($"the header is not valid JSON: {e.Message}"); }
            if (Header.Format != CatalogIndexHeader.FormatName || Header.Version is < 1 or > CatalogIndexHeader.CurrentVersion)
                throw Bad($"format '{Header.Format}' version {Header.Version}; this broker reads '{CatalogIndexHeader.FormatName}' versions 1 to {CatalogIndexHeader.CurrentVersion}");
            if (Header.Version == 1 && Header.Find("pmra") is not null && Header.Find("pmdec") is not null && Header.Find("epoch") is not null)
                throw Bad("a version 1 index with proper motions lacks the bounds that applying them needs; rebuild it with 'broker catalog build'");
            if (Header.Order is < 0 or > 29 || Header.Rows is < 0 or > int.MaxValue) throw Bad($"order {Header.Order} or row count {Header.Rows} out of range");
            foreach (var s in Header.Sections)
            {
                long bytes = s.Type == IndexColumnType.String ? s.Count : checked(s.Count * 8);
                if (s.Offset < CatalogIndexHeader.PrefixBytes || s.Count < 0 || s.Offset % 8 != 0 || s.Offset + bytes > headerOffset)
                    throw Bad($"section '{s.Name}' lies outside the file");
            }
            _directory = Require("directory", Broker.Sky.Healpix.PixelCount(Header.Order) + 1);
            _key = Require("key", Header.Rows);
            _x = Require("x", Header.Rows);
            _y = Require("y", Header.Rows);
            _z = Require("z", Header.Rows);
            _idNumbers = Header.Find("id");
            if (_idNumbers is null)
            {
                _idOffsets = Require("id.offsets", Header.Rows + 1);
                _idHeap = Header.Find("id.heap") ?? throw Bad("no id section");
            }
            else if (_idNumbers.Count != Header.Rows) throw Bad("section 'id' has the wrong length");
            var dir = Directory;
            if (dir[0] != 0 || dir[^1] != Header.Rows) throw Bad("the pixel directory does not add up to the row count");
        }
        catch
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            throw;
        }
    }

    private readonly IndexSection _directory = null!, _key = null!, _x = null!, _y = null!, _z = null!;

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The header: name, release, order, rows, columns, sections.</summary>
    public CatalogIndexHeader Header { get; } = null!;

    /// <summary>Rows in the catalogue.</summary>
    public int Rows => (int)Header.Rows;

    /// <summary>HEALPix nested order of the pixel directory.</summary>
    public int Order => Header.Order;

    /// <summary>Cumulative row counts by directory pixel: pixel p's rows are [Directory[p], Directory[p + 1]).</summary>
    public ReadOnlySpan<long> Directory => Int64(_directory);

    /// <summary>Each row's HEALPix nested pixel at order 29, ascending (ties in input order).</summary>
    public ReadOnlySpan<long> Keys => Int64(_key);

    /// <summary>ICRS unit vector x = cos dec cos ra, per row.</summary>
    public ReadOnlySpan<double> X => Float64(_x);

    /// <summary>ICRS unit vector y = cos dec sin ra, per row.</summary>
    public ReadOnlySpan<double> Y => Float64(_y);

    /// <summary>ICRS unit vector z = sin dec, per row.</summary>
    public ReadOnlySpan<double> Z => Float64(_z);

    /// <summary>True when identifiers are 64-bit integers (<see cref="IdNumber"/>); else strings (<see cref="IdUtf8"/>).</summary>
    public bool HasNumericIds => _idNumbers is not null;

    /// <summary>Row <paramref name="row"/>'s integer identifier (only when <see cref="HasNumericIds"/>).</summary>
    public long IdNumber(int row) => Int64(_idNumbers!)[row];

    /// <summary>Row <paramref name="row"/>'s identifier as UTF-8 (only when not <see cref="HasNumericIds"/>).</summary>
    public ReadOnlySpan<byte> IdUtf8(int row)
    {
        var offsets = Int64(_idOffsets!);
        long start = offsets[row], end = offsets[row + 1];
        return new ReadOnlySpan<byte>(_base + _idHeap!.Offset + start, (int)(end - start));
    }

    /// <summary>Row <paramref name="row"/>'s identifier (allocates for string identifiers).</summary>
    public CatalogId Id(int row) => HasNumericIds ? new CatalogId(IdNumber(row), null) : new CatalogId(0, Encoding.UTF8.GetString(IdUtf8(row)));

    /// <summary>A float64 column by role (<c>epoch</c>, <c>pmra</c>, <c>pmdec</c>) or extra column name; empty when absent or not float64.</summary>
    public ReadOnlySpan<double> Float64Column(string name)
    {
        var s = Section(name);
        return s is { Type: IndexColumnType.Float64 } ? Float64(s) : default;
    }

    /// <summary>The float64 section of a role column (<c>epoch</c>, <c>pmra</c>, <c>pmdec</c>) by its section name, never an extra column; empty when absent.</summary>
    public ReadOnlySpan<double> RoleFloat64(string role)
    {
        var s = Header.Find(role);
        return s is { Type: IndexColumnType.Float64 } && s.Count == Header.Rows ? Float64(s) : default;
    }

    /// <summary>An int64 extra column by name; empty when absent or not int64.</summary>
    public ReadOnlySpan<long> Int64Column(string name)
    {
        var s = Section(name);
        return s is { Type: IndexColumnType.Int64 } ? Int64(s) : default;
    }

    /// <summary>The extra column called <paramref name="name"/> (case-insensitive, as <see cref="Float64Column"/> finds it), or null.</summary>
    public IndexColumn? ExtraColumn(string name)
    {
        foreach (var c in Header.Columns)
            if (c.Role == "extra" && string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)) return c;
        return null;
    }

    /// <summary>
    /// Row <paramref name="row"/>'s value of the string extra column <paramref name="name"/> as UTF-8 (empty for null,
    /// docs/catalogs.md); empty when the column is absent or not a string column. Finds the column by name on each
    /// call: per-row readers take <see cref="Values"/> once.
    /// </summary>
    public ReadOnlySpan<byte> StringUtf8(string name, int row) =>
        Values(name) is { Type: IndexColumnType.String } values ? values.Utf8(row) : default;

    /// <summary>The extra column called <paramref name="name"/> with its sections found once, for reads per row; null when absent.</summary>
    public ExtraColumnValues? Values(string name)
    {
        if (ExtraColumn(name) is not { } column) return null;
        if (column.Type != IndexColumnType.String) return Header.Find(column.Section) is { } values ? new ExtraColumnValues(this, column, values, null) : null;
        var offsets = Header.Find(column.Section + ".offsets");
        var heap = Header.Find(column.Section + ".heap");
        return offsets is null || heap is null ? null : new ExtraColumnValues(this, column, offsets, heap);
    }

    /// <summary>One extra column of an open index, its sections found once (<see cref="Values"/>).</summary>
    public sealed class ExtraColumnValues
    {
        private readonly CatalogIndex _index;
        private readonly IndexSection _values;
        private readonly IndexSection? _heap;

        internal ExtraColumnValues(CatalogIndex index, IndexColumn column, IndexSection values, IndexSection? heap)
        {
            _index = index;
            Column = column;
            _values = values;
            _heap = heap;
        }

        /// <summary>The column as the header describes it.</summary>
        public IndexColumn Column { get; }

        /// <summary>Its stored type.</summary>
        public IndexColumnType Type => Column.Type;

        /// <summary>Row <paramref name="row"/>'s value of a float64 column (NaN for null).</summary>
        public double Float64(int row) => _index.Float64(_values)[row];

        /// <summary>Row <paramref name="row"/>'s value of an int64 column (<see cref="long.MinValue"/> for null).</summary>
        public long Int64(int row) => _index.Int64(_values)[row];

        /// <summary>Row <paramref name="row"/>'s value of a string column as UTF-8 (empty for null).</summary>
        public unsafe ReadOnlySpan<byte> Utf8(int row)
        {
            var offsets = _index.Int64(_values);
            long start = offsets[row], end = offsets[row + 1];
            return new ReadOnlySpan<byte>(_index._base + _heap!.Offset + start, (int)(end - start));
        }
    }

    private IndexSection? Section(string name)
    {
        foreach (var c in Header.Columns)
            if (c.Role == name || (c.Role == "extra" && string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)))
                return Header.Find(c.Section);
        return null;
    }

    /// <summary>Opens and checks <paramref name="path"/>.</summary>
    /// <exception cref="CatalogFormatException">The file cannot be read or is not a valid catalogue index (row 0, no column).</exception>
    public static CatalogIndex Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            long length = new FileInfo(path).Length;
            if (length < CatalogIndexHeader.PrefixBytes) throw new CatalogFormatException(path, 0, null, $"not a catalogue index file: {length} bytes is shorter than the {CatalogIndexHeader.PrefixBytes}-byte prefix");
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            return new CatalogIndex(path, map, view, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            view?.Dispose();
            map?.Dispose();
            throw new CatalogFormatException(path, 0, null, $"cannot read the catalogue index: {e.Message}", e);
        }
        catch
        {
            view?.Dispose();
            map?.Dispose();
            throw;
        }
    }

    private CatalogFormatException Bad(string reason) => new(Path, 0, null, reason);

    private IndexSection Require(string name, long count)
    {
        var s = Header.Find(name) ?? throw Bad($"no '{name}' section");
        if (s.Count != count) throw Bad($"section '{name}' has {s.Count} elements; {count} expected");
        return s;
    }

    private ReadOnlySpan<long> Int64(IndexSection s)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<long>(_base + s.Offset, (int)s.Count);
    }

    private ReadOnlySpan<double> Float64(IndexSection s)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ReadOnlySpan<double>(_base + s.Offset, (int)s.Count);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
