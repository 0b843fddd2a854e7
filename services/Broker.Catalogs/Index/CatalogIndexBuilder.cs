using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Broker.Sky;

namespace Broker.Catalogs.Index;

/// <summary>Settings of one index build.</summary>
public sealed record CatalogIndexBuildOptions
{
    /// <summary>The catalogue's name, recorded in the header.</summary>
    public string Name { get; init; } = "";

    /// <summary>The catalogue's release, recorded in the header.</summary>
    public string Release { get; init; } = "";

    /// <summary>Rows sorted in memory at a time before a chunk spills to a temporary file. Bounds the build's memory.</summary>
    public int ChunkRows { get; init; } = 1 << 20;

    /// <summary>Mean rows per directory pixel the order is chosen for (the deepest order whose mean is at least this).</summary>
    public int TargetRowsPerPixel { get; init; } = 32;
}

/// <summary>What a build did.</summary>
public sealed record CatalogIndexBuildResult(long Rows, int Order, int Chunks);

/// <summary>
/// Writes a catalogue index file (format in docs/catalogs.md) from a stream of rows, in memory that does not grow
/// with the catalogue: rows are read <see cref="CatalogIndexBuildOptions.ChunkRows"/> at a time, each chunk sorted
/// by (HEALPix nested pixel at order 29, input row number) and spilled to a temporary file, and the chunks k-way
/// merged into the final structure-of-arrays file. The sort key is a total order, so the file is byte-identical
/// whatever the chunk size.
/// </summary>
public static class CatalogIndexBuilder
{
    private const int KeyOrder = 29;

    /// <summary>Builds <paramref name="outPath"/> from <paramref name="rows"/> (as read with <paramref name="columns"/> from <paramref name="sourcePath"/>).</summary>
    /// <exception cref="CatalogFormatException">From the reader: bad input, naming file, row and column.</exception>
    /// <exception cref="IOException">The output or the temporary files cannot be written.</exception>
    public static CatalogIndexBuildResult Build(IEnumerable<CatalogRow> rows, CatalogColumns columns, string sourcePath, string outPath, CatalogIndexBuildOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(outPath);
        options ??= new CatalogIndexBuildOptions();
        if (options.ChunkRows < 1) throw new ArgumentOutOfRangeException(nameof(options), options.ChunkRows, "ChunkRows must be at least 1");
        string folder = Path.GetDirectoryName(Path.GetFullPath(outPath))!;
        // Spills go beside the output (a large catalogue's chunks may not fit in /tmp).
        string spill = Path.Combine(folder, "." + Path.GetFileName(outPath) + ".spill-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(spill);
        try
        {
            var stats = new Stats(columns);
            var chunks = Spill(rows, columns, options.ChunkRows, spill, stats);
            int order = ChooseOrder(stats.Rows, options.TargetRowsPerPixel);
            string temp = outPath + ".partial";
            Merge(chunks, columns, stats, order, temp, new CatalogIndexHeader
            {
                Name = options.Name,
                Release = options.Release,
                Source = Path.GetFileName(sourcePath),
                Order = order,
                Rows = stats.Rows,
            });
            File.Move(temp, outPath, overwrite: true);
            return new CatalogIndexBuildResult(stats.Rows, order, chunks.Count);
        }
        finally
        {
            try { Directory.Delete(spill, recursive: true); }
            catch (IOException) { /* left for the OS */ }
        }
    }

    /// <summary>The deepest order (0-29) whose mean rows per pixel, rows / (12 · 4^order), is at least <paramref name="target"/>; 0 for small catalogues.</summary>
    public static int ChooseOrder(long rows, int target)
    {
        int order = 0;
        while (order < KeyOrder && rows / (12.0 * Math.Pow(4, order + 1)) >= target) order++;
        return order;
    }

    private sealed class Stats(CatalogColumns columns)
    {
        public long Rows;
        public bool IdIsString;
        public long IdHeapBytes;
        public readonly ExtraStats[] Extra = columns.Extra.Select(_ => new ExtraStats()).ToArray();
    }

    private sealed class ExtraStats
    {
        public bool Strings, Doubles, Integers;
        public long HeapBytes;

        public IndexColumnType Type => Strings ? IndexColumnType.String : Doubles || !Integers ? IndexColumnType.Float64 : IndexColumnType.Int64;
    }

    private static List<string> Spill(IEnumerable<CatalogRow> rows, CatalogColumns columns, int chunkRows, string folder, Stats stats)
    {
        var chunks = new List<string>();
        var buffer = new CatalogRow[Math.Min(chunkRows, 1 << 16)];
        var keys = new (long Key, long Seq)[buffer.Length];
        int n = 0;
        foreach (var row in rows)
        {
            if (n == buffer.Length)
            {
                if (n == chunkRows) { WriteChunk(buffer, keys, n, columns, folder, chunks); n = 0; }
                else { Array.Resize(ref buffer, Math.Min(chunkRows, 2 * n)); Array.Resize(ref keys, buffer.Length); }
            }
            buffer[n] = row;
            keys[n] = (Healpix.RaDecToPixNested(KeyOrder, row.Ra, row.Dec), stats.Rows);
            n++;
            stats.Rows++;
            Observe(row, stats);
        }
        if (n > 0) WriteChunk(buffer, keys, n, columns, folder, chunks);
        return chunks;
    }

    private static void Observe(CatalogRow row, Stats stats)
    {
        if (row.Id.Text is not null) stats.IdIsString = true;
        stats.IdHeapBytes += Encoding.UTF8.GetByteCount(row.Id.ToString());
        for (int e = 0; e < stats.Extra.Length; e++)
        {
            object? v = e < row.Extra.Length ? row.Extra[e] : null;
            var s = stats.Extra[e];
            switch (v)
            {
                case null: break;
                case string: s.Strings = true; break;
                case double or float: s.Doubles = true; break;
                default: s.Integers = true; break;
            }
            if (v is not null) s.HeapBytes += Encoding.UTF8.GetByteCount(Text(v));
        }
    }

    private static string Text(object v) => v switch
    {
        string s => s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    private static void WriteChunk(CatalogRow[] buffer, (long Key, long Seq)[] keys, int n, CatalogColumns columns, string folder, List<string> chunks)
    {
        // Sort an index permutation by (key, input row): a total order, so chunking cannot change the result.
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var sortKeys = keys.AsSpan(0, n).ToArray();
        Array.Sort(sortKeys, order);
        string path = Path.Combine(folder, chunks.Count.ToString("D6", CultureInfo.InvariantCulture) + ".chunk");
        using (var w = new BinaryWriter(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16), Encoding.UTF8))
        {
            w.Write((long)n);
            for (int i = 0; i < n; i++)
            {
                var row = buffer[order[i]];
                w.Write(sortKeys[i].Key);
                w.Write(sortKeys[i].Seq);
                w.Write(row.Ra);
                w.Write(row.Dec);
                if (row.Id.Text is { } text) { w.Write((byte)1); w.Write(text); }
                else { w.Write((byte)0); w.Write(row.Id.Number); }
                if (columns.Epoch is not null) w.Write(row.Epoch ?? double.NaN);
                if (columns.Pmra is not null) w.Write(row.Pmra ?? double.NaN);
                if (columns.Pmdec is not null) w.Write(row.Pmdec ?? double.NaN);
                for (int e = 0; e < columns.Extra.Count; e++)
                {
                    switch (e < row.Extra.Length ? row.Extra[e] : null)
                    {
                        case null: w.Write((byte)0); break;
                        case long v: w.Write((byte)1); w.Write(v); break;
                        case int v: w.Write((byte)1); w.Write((long)v); break;
                        case short v: w.Write((byte)1); w.Write((long)v); break;
                        case byte v: w.Write((byte)1); w.Write((long)v); break;
                        case bool v: w.Write((byte)1); w.Write(v ? 1L : 0L); break;
                        case double v: w.Write((byte)2); w.Write(v); break;
                        case float v: w.Write((byte)2); w.Write((double)v); break;
                        case var v: w.Write((byte)3); w.Write(Text(v)); break;
                    }
                }
                buffer[order[i]] = null!;
            }
        }
        chunks.Add(path);
    }

    /// <summary>One spilled row, as read back during the merge.</summary>
    private sealed class SpilledRow
    {
        public long Key, Seq, IdNumber;
        public double Ra, Dec, Epoch, Pmra, Pmdec;
        public string? IdText;
        public readonly byte[] ExtraTag;
        public readonly long[] ExtraLong;
        public readonly double[] ExtraDouble;
        public readonly string?[] ExtraText;

        public SpilledRow(int extras)
        {
            ExtraTag = new byte[extras];
            ExtraLong = new long[extras];
            ExtraDouble = new double[extras];
            ExtraText = new string?[extras];
        }
    }

    private sealed class ChunkReader : IDisposable
    {
        private readonly BinaryReader _reader;
        private readonly CatalogColumns _columns;
        private long _left;

        public ChunkReader(string path, CatalogColumns columns)
        {
            _reader = new BinaryReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan | FileOptions.DeleteOnClose), Encoding.UTF8);
            _columns = columns;
            _left = _reader.ReadInt64();
            Row = new SpilledRow(columns.Extra.Count);
        }

        public SpilledRow Row { get; }

        public bool Next()
        {
            if (_left == 0) return false;
            _left--;
            var r = Row;
            r.Key = _reader.ReadInt64();
            r.Seq = _reader.ReadInt64();
            r.Ra = _reader.ReadDouble();
            r.Dec = _reader.ReadDouble();
            if (_reader.ReadByte() == 1) { r.IdText = _reader.ReadString(); r.IdNumber = 0; }
            else { r.IdText = null; r.IdNumber = _reader.ReadInt64(); }
            r.Epoch = _columns.Epoch is null ? double.NaN : _reader.ReadDouble();
            r.Pmra = _columns.Pmra is null ? double.NaN : _reader.ReadDouble();
            r.Pmdec = _columns.Pmdec is null ? double.NaN : _reader.ReadDouble();
            for (int e = 0; e < r.ExtraTag.Length; e++)
            {
                byte tag = r.ExtraTag[e] = _reader.ReadByte();
                if (tag == 1) r.ExtraLong[e] = _reader.ReadInt64();
                else if (tag == 2) r.ExtraDouble[e] = _reader.ReadDouble();
                else if (tag == 3) r.ExtraText[e] = _reader.ReadString();
            }
            return true;
        }

        public void Dispose() => _reader.Dispose();
    }

    /// <summary>Writes one section sequentially from its offset.</summary>
    private sealed class SectionWriter : IDisposable
    {
        private readonly BinaryWriter _writer;

        public SectionWriter(string path, long offset)
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
            stream.Seek(offset, SeekOrigin.Begin);
            _writer = new BinaryWriter(stream);
        }

        public void Write(long v) => _writer.Write(v);

        public void Write(double v) => _writer.Write(v);

        public void Write(ReadOnlySpan<byte> v) => _writer.Write(v);

        public void Dispose() => _writer.Dispose();
    }

    /// <summary>A string column: offsets and heap writers and the running heap offset.</summary>
    private sealed class StringColumn(SectionWriter offsets, SectionWriter heap) : IDisposable
    {
        private long _at;
        private byte[] _scratch = new byte[256];

        public void Start() => offsets.Write(0L);

        public void Add(string? s)
        {
            if (!string.IsNullOrEmpty(s))
            {
                int max = Encoding.UTF8.GetMaxByteCount(s.Length);
                if (_scratch.Length < max) _scratch = new byte[max];
                int n = Encoding.UTF8.GetBytes(s, _scratch);
                heap.Write(_scratch.AsSpan(0, n));
                _at += n;
            }
            offsets.Write(_at);
        }

        public void Dispose() { offsets.Dispose(); heap.Dispose(); }
    }

    private static void Merge(List<string> chunks, CatalogColumns columns, Stats stats, int order, string path, CatalogIndexHeader header)
    {
        long n = stats.Rows;
        long pixels = Healpix.PixelCount(order);
        var sections = new List<IndexSection>();
        var indexColumns = new List<IndexColumn>();
        long at = CatalogIndexHeader.PrefixBytes;
        IndexSection Add(string name, IndexColumnType type, long count, int elementBytes)
        {
            var s = new IndexSection(name, type, at, count);
            sections.Add(s);
            at += (count * elementBytes + CatalogIndexHeader.Alignment - 1) / CatalogIndexHeader.Alignment * CatalogIndexHeader.Alignment;
            return s;
        }
        (IndexSection Offsets, IndexSection Heap) AddString(string name, long heapBytes) =>
            (Add(name + ".offsets", IndexColumnType.Int64, n + 1, 8), Add(name + ".heap", IndexColumnType.String, heapBytes, 1));

        var directory = Add("directory", IndexColumnType.Int64, pixels + 1, 8);
        var key = Add("key", IndexColumnType.Int64, n, 8);
        var x = Add("x", IndexColumnType.Float64, n, 8);
        var y = Add("y", IndexColumnType.Float64, n, 8);
        var z = Add("z", IndexColumnType.Float64, n, 8);
        IndexSection? idNumbers = null;
        (IndexSection Offsets, IndexSection Heap)? idStrings = null;
        if (stats.IdIsString) idStrings = AddString("id", stats.IdHeapBytes);
        else idNumbers = Add("id", IndexColumnType.Int64, n, 8);
        indexColumns.Add(new IndexColumn(columns.Id, "id", stats.IdIsString ? IndexColumnType.String : IndexColumnType.Int64, "id"));
        IndexSection? Optional(string? name, string role)
        {
            if (name is null) return null;
            indexColumns.Add(new IndexColumn(name, role, IndexColumnType.Float64, role));
            return Add(role, IndexColumnType.Float64, n, 8);
        }
        var epoch = Optional(columns.Epoch, "epoch");
        var pmra = Optional(columns.Pmra, "pmra");
        var pmdec = Optional(columns.Pmdec, "pmdec");
        var extraSections = new object[columns.Extra.Count];
        for (int e = 0; e < columns.Extra.Count; e++)
        {
            var type = stats.Extra[e].Type;
            string name = "extra." + e.ToString(CultureInfo.InvariantCulture);
            indexColumns.Add(new IndexColumn(columns.Extra[e], "extra", type, name));
            extraSections[e] = type == IndexColumnType.String ? AddString(name, stats.Extra[e].HeapBytes) : Add(name, type, n, 8);
        }
        long headerOffset = at;

        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
            file.SetLength(headerOffset);

        var writers = new List<IDisposable>();
        SectionWriter Open(IndexSection s) { var w = new SectionWriter(path, s.Offset); writers.Add(w); return w; }
        StringColumn OpenString((IndexSection Offsets, IndexSection Heap) s) { var c = new StringColumn(new SectionWriter(path, s.Offsets.Offset), new SectionWriter(path, s.Heap.Offset)); writers.Add(c); c.Start(); return c; }
        var readers = new List<ChunkReader>();
        try
        {
            var wDirectory = Open(directory);
            var wKey = Open(key);
            var wx = Open(x);
            var wy = Open(y);
            var wz = Open(z);
            var wIdNumber = idNumbers is null ? null : Open(idNumbers);
            var wIdString = idStrings is null ? null : OpenString(idStrings.Value);
            var wEpoch = epoch is null ? null : Open(epoch);
            var wPmra = pmra is null ? null : Open(pmra);
            var wPmdec = pmdec is null ? null : Open(pmdec);
            var wExtra = new object[extraSections.Length];
            for (int e = 0; e < wExtra.Length; e++)
                wExtra[e] = extraSections[e] is IndexSection s ? Open(s) : OpenString(((IndexSection, IndexSection))extraSections[e]);

            var queue = new PriorityQueue<int, (long, long)>(Math.Max(1, chunks.Count));
            foreach (var c in chunks)
            {
                var r = new ChunkReader(c, columns);
                readers.Add(r);
                if (r.Next()) queue.Enqueue(readers.Count - 1, (r.Row.Key, r.Row.Seq));
            }
            int shift = 2 * (KeyOrder - order);
            long nextPixel = 0, written = 0;
            // The proper-motion bounds the search widens by: over rows with an epoch and both components.
            double maxMotion = 0, minEpoch = double.PositiveInfinity, maxEpoch = double.NegativeInfinity;
            bool anyMotion = false;
            while (queue.TryDequeue(out int which, out _))
            {
                var row = readers[which].Row;
                long pixel = row.Key >> shift;
                // Directory: cumulative counts, entry p = rows in pixels below p.
                for (; nextPixel <= pixel; nextPixel++) wDirectory.Write(written);
                wKey.Write(row.Key);
                var (sinRa, cosRa) = Math.SinCos(row.Ra * (Math.PI / 180.0));
                var (sinDec, cosDec) = Math.SinCos(row.Dec * (Math.PI / 180.0));
                wx.Write(cosDec * cosRa);
                wy.Write(cosDec * sinRa);
                wz.Write(sinDec);
                if (wIdNumber is not null) wIdNumber.Write(row.IdNumber);
                else wIdString!.Add(row.IdText ?? row.IdNumber.ToString(CultureInfo.InvariantCulture));
                wEpoch?.Write(row.Epoch);
                wPmra?.Write(row.Pmra);
                wPmdec?.Write(row.Pmdec);
                if (double.IsFinite(row.Epoch) && double.IsFinite(row.Pmra) && double.IsFinite(row.Pmdec))
                {
                    anyMotion = true;
                    maxMotion = Math.Max(maxMotion, Math.Sqrt(row.Pmra * row.Pmra + row.Pmdec * row.Pmdec));
                    minEpoch = Math.Min(minEpoch, row.Epoch);
                    maxEpoch = Math.Max(maxEpoch, row.Epoch);
                }
                for (int e = 0; e < wExtra.Length; e++)
                {
                    byte tag = row.ExtraTag[e];
                    switch (wExtra[e])
                    {
                        case StringColumn s:
                            s.Add(tag switch
                            {
                                1 => row.ExtraLong[e].ToString(CultureInfo.InvariantCulture),
                                2 => row.ExtraDouble[e].ToString("R", CultureInfo.InvariantCulture),
                                3 => row.ExtraText[e],
                                _ => null,
                            });
                            break;
                        case SectionWriter w when stats.Extra[e].Type == IndexColumnType.Int64:
                            w.Write(tag == 1 ? row.ExtraLong[e] : long.MinValue);
                            break;
                        case SectionWriter w:
                            w.Write(tag == 1 ? row.ExtraLong[e] : tag == 2 ? row.ExtraDouble[e] : double.NaN);
                            break;
                    }
                }
                written++;
                if (readers[which].Next()) queue.Enqueue(which, (readers[which].Row.Key, readers[which].Row.Seq));
            }
            for (; nextPixel <= pixels; nextPixel++) wDirectory.Write(written);
            if (anyMotion) header = header with { MaxProperMotionMasPerYear = maxMotion, MinEpoch = minEpoch, MaxEpoch = maxEpoch };
        }
        finally
        {
            foreach (var w in writers) w.Dispose();
            foreach (var r in readers) r.Dispose();
        }

        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header with { Columns = indexColumns, Sections = sections }, CatalogIndexHeader.Json);
        using var output = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
        output.Seek(headerOffset, SeekOrigin.Begin);
        output.Write(json);
        Span<byte> prefix = stackalloc byte[CatalogIndexHeader.PrefixBytes];
        prefix.Clear();
        CatalogIndexHeader.Magic.CopyTo(prefix);
        BinaryPrimitives.WriteInt64LittleEndian(prefix[8..], headerOffset);
        BinaryPrimitives.WriteInt64LittleEndian(prefix[16..], json.Length);
        output.Seek(0, SeekOrigin.Begin);
        output.Write(prefix);
    }
}
