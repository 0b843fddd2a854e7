using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Broker.Alerts.Checksums;

namespace Broker.Alerts.Avro;

/// <summary>
/// Reads Avro Object Container Files (Avro 1.11 specification, "Object Container Files"): the header (magic
/// <c>Obj\x01</c>, metadata map with <c>avro.schema</c> and <c>avro.codec</c>, 16-byte sync marker) followed by
/// blocks of (record count, byte size, data, sync). Codecs: <c>null</c>, <c>deflate</c> (raw RFC 1951) and
/// <c>snappy</c> (each block followed by the big-endian CRC-32 of the uncompressed data).
/// </summary>
public sealed class AvroContainerReader
{
    /// <summary>The four magic bytes at the start of every container file.</summary>
    public static ReadOnlySpan<byte> Magic => "Obj\u0001"u8;

    private readonly ReadOnlyMemory<byte> _file;
    private readonly int _metadataEnd;
    private readonly int _firstBlock;
    private readonly ReadOnlyMemory<byte> _sync;
    private Dictionary<string, byte[]>? _metadata;

    private readonly int _maxBlockBytes;

    private AvroContainerReader(ReadOnlyMemory<byte> file, AvroSchema schema, string codec, int metadataEnd, int maxBlockBytes)
    {
        _file = file;
        _maxBlockBytes = maxBlockBytes;
        WriterSchema = schema;
        Codec = codec;
        _metadataEnd = metadataEnd;
        _sync = file.Slice(metadataEnd, 16);
        _firstBlock = metadataEnd + 16;
    }

    /// <summary>The schema the records were written with (from the header).</summary>
    public AvroSchema WriterSchema { get; }

    /// <summary>The block codec: <c>null</c>, <c>deflate</c> or <c>snappy</c>.</summary>
    public string Codec { get; }

    /// <summary>The header's metadata (copied out of the file on first use).</summary>
    public IReadOnlyDictionary<string, byte[]> Metadata => _metadata ??= ReadMetadata();

    /// <summary>True when the bytes start with the container magic.</summary>
    public static bool IsContainer(ReadOnlySpan<byte> data) => data.StartsWith(Magic);

    /// <summary>Reads the header of a container file held in memory.</summary>
    /// <param name="file">The whole file.</param>
    /// <param name="maxBlockBytes">
    /// The most bytes one compressed block may decompress to (default <see cref="IO.AlertLimits.DefaultBytes"/>); a
    /// larger one is refused as corrupt, so a deflate or snappy bomb costs no more than this.
    /// </param>
    /// <exception cref="AvroDataException">Not a container file, or a corrupt header.</exception>
    /// <exception cref="AvroSchemaException">The embedded schema is not valid (not JSON, or not a schema).</exception>
    public static AvroContainerReader Open(ReadOnlyMemory<byte> file, int maxBlockBytes = IO.AlertLimits.DefaultBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBlockBytes);
        var r = new AvroReader(file.Span);
        if (file.Length < 4 || !file.Span.StartsWith(Magic))
            throw new AvroDataException("not an Avro container file (wrong magic; expected 'Obj' 0x01)");
        r.Skip(4);
        // ZTF sends one container per alert, so this runs per message: only avro.schema and avro.codec are looked
        // at, as spans of the file; Metadata copies entries out only when asked. A later duplicate key wins, as in
        // a map read into a dictionary.
        ReadOnlySpan<byte> schemaBytes = default, codecBytes = default;
        bool hasSchema = false, hasCodec = false;
        while (true)
        {
            long count = r.ReadLong();
            if (count == 0) break;
            if (count < 0) { count = -count; r.ReadLong(); }
            for (long i = 0; i < count; i++)
            {
                var key = ReadKey(ref r);
                var value = r.ReadBytesSpan();
                if (key.SequenceEqual("avro.schema"u8)) { schemaBytes = value; hasSchema = true; }
                else if (key.SequenceEqual("avro.codec"u8)) { codecBytes = value; hasCodec = true; }
            }
        }
        int metadataEnd = r.Position;
        r.Skip(16);
        if (!hasSchema)
            throw new AvroDataException("container header has no avro.schema");
        string codec = !hasCodec || codecBytes.SequenceEqual("null"u8) ? "null"
            : codecBytes.SequenceEqual("deflate"u8) ? "deflate"
            : codecBytes.SequenceEqual("snappy"u8) ? "snappy"
            : throw new AvroDataException($"unsupported container codec '{Encoding.UTF8.GetString(codecBytes)}'");
        var schema = ParseCached(schemaBytes);
        return new AvroContainerReader(file, schema, codec, metadataEnd, maxBlockBytes);
    }

    // A metadata key is an Avro string: it must be valid UTF-8 even when it is only compared, never decoded.
    private static ReadOnlySpan<byte> ReadKey(ref AvroReader r)
    {
        var key = r.ReadBytesSpan();
        if (!System.Text.Unicode.Utf8.IsValid(key))
            throw new AvroDataException($"string is not valid UTF-8 at byte {r.Position - key.Length}");
        return key;
    }

    private Dictionary<string, byte[]> ReadMetadata()
    {
        // Open has already read this range without error.
        var r = new AvroReader(_file.Span[.._metadataEnd]);
        r.Skip(4);
        var metadata = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (true)
        {
            long count = r.ReadLong();
            if (count == 0) break;
            if (count < 0) { count = -count; r.ReadLong(); }
            for (long i = 0; i < count; i++)
            {
                string key = r.ReadString();
                metadata[key] = r.ReadBytes();
            }
        }
        return metadata;
    }

    // A ZTF stream is one container per alert, each repeating the same writer schema. Parsing that JSON per
    // message cost about a third of ingest's CPU, and a new schema object also meant a new compiled decoder
    // (decoders are cached per schema instance). Schemas are immutable, so equal texts share one instance.
    // The cache is keyed on the schema's bytes and looked up with the header's span, so a hit allocates nothing
    // (no copy, no 15-23 kB string per alert).
    private const int SchemaCacheLimit = 256;
    private static readonly ConcurrentDictionary<byte[], AvroSchema> SchemaCache = new(SchemaBytesComparer.Instance);
    private static readonly ConcurrentDictionary<byte[], AvroSchema>.AlternateLookup<ReadOnlySpan<byte>> SchemaCacheBySpan =
        SchemaCache.GetAlternateLookup<ReadOnlySpan<byte>>();

    private static AvroSchema ParseCached(ReadOnlySpan<byte> schemaBytes)
    {
        if (SchemaCacheBySpan.TryGetValue(schemaBytes, out var cached)) return cached;
        var schema = AvroSchema.Parse(Encoding.UTF8.GetString(schemaBytes));
        // Bounded: a stream of ever-changing schemas (not a real survey) must not grow memory without limit.
        if (SchemaCache.Count >= SchemaCacheLimit) SchemaCache.Clear();
        return SchemaCache.GetOrAdd(schemaBytes.ToArray(), schema);
    }

    /// <summary>Compares schema texts by their bytes; looks them up by span without copying.</summary>
    private sealed class SchemaBytesComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly SchemaBytesComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null || y is null ? ReferenceEquals(x, y) : x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] bytes) => Hash(bytes);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

        // The length and 16 evenly spread 8-byte words, not every byte: equal hashes are confirmed by SequenceEqual
        // (vectorised), so sampling can only lengthen a bucket of this small cache, never give a wrong schema, and
        // a hit costs one pass over the bytes instead of two.
        private static int Hash(ReadOnlySpan<byte> bytes)
        {
            var h = new HashCode();
            h.Add(bytes.Length);
            if (bytes.Length < 8)
            {
                h.AddBytes(bytes);
                return h.ToHashCode();
            }
            int last = bytes.Length - 8;
            for (int i = 0; i < 16; i++) h.Add(BinaryPrimitives.ReadUInt64LittleEndian(bytes[(int)((long)last * i / 15)..]));
            return h.ToHashCode();
        }
    }

    /// <summary>Each block's data, decompressed, in order (a block holds one or more records back to back).</summary>
    public IEnumerable<ReadOnlyMemory<byte>> Blocks()
    {
        int pos = _firstBlock;
        while (pos < _file.Length)
        {
            var (count, data, next) = ReadBlock(pos);
            pos = next;
            if (count > 0) yield return data;
        }
    }

    /// <summary>
    /// Each record's binary encoding, in order, without decoding it: record boundaries are found by skipping
    /// with the writer schema (lengths and counts only), so splitting a file into single records is cheap.
    /// </summary>
    /// <exception cref="AvroDataException">A block or record is corrupt; the message names the record index.</exception>
    public IEnumerable<ReadOnlyMemory<byte>> RawDatums()
    {
        var skipper = new AvroResolver().Skipper(WriterSchema);
        foreach (var (datum, _) in Walk(new SkippingRecordReader(skipper))) yield return datum;
    }

    /// <summary>Every record decoded through <paramref name="readerSchema"/> (default: the writer schema).</summary>
    /// <exception cref="AvroDataException">A block or record is corrupt; the message names the record index.</exception>
    public IEnumerable<object?> Records(AvroSchema? readerSchema = null)
    {
        var datumReader = AvroDatumReader.For(WriterSchema, readerSchema);
        foreach (var (_, value) in Datums(datumReader)) yield return value;
    }

    /// <summary>Every record with its raw datum bytes (for dead-lettering the original bytes of a bad record).</summary>
    /// <exception cref="AvroDataException">A block or record is corrupt; the message names the record index.</exception>
    public IEnumerable<(ReadOnlyMemory<byte> Datum, object? Value)> Datums(AvroDatumReader datumReader) =>
        Walk(new DecodingRecordReader(datumReader));

    /// <summary>Reads or skips one record at the reader's position.</summary>
    private interface IRecordReader
    {
        object? Read(ref AvroReader r);
    }

    private sealed class DecodingRecordReader(AvroDatumReader datumReader) : IRecordReader
    {
        public object? Read(ref AvroReader r) => datumReader.Read(ref r);
    }

    private sealed class SkippingRecordReader(ValueSkipper skipper) : IRecordReader
    {
        public object? Read(ref AvroReader r)
        {
            skipper.Skip(ref r);
            return null;
        }
    }

    private IEnumerable<(ReadOnlyMemory<byte> Datum, object? Value)> Walk(IRecordReader records)
    {
        int index = 0;
        int pos = _firstBlock;
        while (pos < _file.Length)
        {
            var (count, data, next) = ReadBlock(pos);
            pos = next;
            int offset = 0;
            for (long i = 0; i < count; i++, index++)
            {
                var (value, length) = ReadOne(records, data, offset, index);
                yield return (data.Slice(offset, length), value);
                offset += length;
            }
            if (offset != data.Length)
                throw new AvroDataException($"record {index}: block holds {data.Length - offset} bytes after its {count} records (schema mismatch?)");
        }
    }

    private static (object? Value, int Length) ReadOne(IRecordReader records, ReadOnlyMemory<byte> block, int offset, int index)
    {
        var r = new AvroReader(block.Span[offset..]);
        try
        {
            var value = records.Read(ref r);
            return (value, r.Position);
        }
        catch (AvroDataException e)
        {
            throw new AvroDataException($"record {index}: {e.Message}", e);
        }
    }

    private (long Count, ReadOnlyMemory<byte> Data, int Next) ReadBlock(int pos)
    {
        var r = new AvroReader(_file.Span[pos..]);
        long count = r.ReadLong();
        long size = r.ReadLong();
        if (count < 0 || size < 0 || size > r.Remaining)
            throw new AvroDataException($"block at byte {pos} claims {count} records in {size} bytes but {r.Remaining} remain (truncated file)");
        int dataStart = pos + r.Position;
        r.Skip((int)size);
        if (r.Remaining < 16) throw new AvroDataException($"block at byte {pos} has no sync marker (truncated file)");
        if (!r.ReadRaw(16).SequenceEqual(_sync.Span)) throw new AvroDataException($"block at byte {pos} ends without the file's sync marker (corrupt file)");
        var raw = _file.Slice(dataStart, (int)size);
        return (count, Decompress(raw, pos), pos + r.Position);
    }

    private ReadOnlyMemory<byte> Decompress(ReadOnlyMemory<byte> raw, int pos)
    {
        try
        {
            switch (Codec)
            {
                case "null":
                    return raw;
                case "deflate":
                {
                    using var input = new MemoryStream(raw.ToArray(), writable: false);
                    using var deflate = new DeflateStream(input, CompressionMode.Decompress);
                    using var output = new MemoryStream(raw.Length * 4);
                    var chunk = new byte[1 << 16];
                    int n;
                    while ((n = deflate.Read(chunk, 0, chunk.Length)) > 0)
                    {
                        if (output.Length + n > _maxBlockBytes) throw BlockTooLarge(pos);
                        output.Write(chunk, 0, n);
                    }
                    return output.GetBuffer().AsMemory(0, (int)output.Length);
                }
                default:
                {
                    if (raw.Length < 4) throw new AvroDataException("snappy block shorter than its checksum");
                    // The snappy stream starts with its uncompressed length (a varint); check it before the decoder
                    // allocates that much.
                    var header = new AvroReader(raw.Span);
                    ulong declared = 0;
                    for (int shift = 0; shift < 35; shift += 7)
                    {
                        byte b = header.ReadRaw(1)[0];
                        declared |= (ulong)(b & 0x7f) << shift;
                        if (b < 0x80) break;
                    }
                    if (declared > (ulong)_maxBlockBytes) throw BlockTooLarge(pos);
                    var data = IronSnappy.Snappy.Decode(raw.Span[..^4]);
                    uint expected = BinaryPrimitives.ReadUInt32BigEndian(raw.Span[^4..]);
                    if (Crc32.Compute(data) != expected) throw new AvroDataException("snappy block checksum mismatch");
                    return data;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or IndexOutOfRangeException or OverflowException or InvalidOperationException)
        {
            throw new AvroDataException($"block at byte {pos} does not decompress with codec '{Codec}': {e.Message}", e);
        }
    }

    private AvroDataException BlockTooLarge(int pos) =>
        new($"block at byte {pos} decompresses to more than {IO.AlertLimits.Describe(_maxBlockBytes)} (--max-inflated-bytes); refusing it");
}

/// <summary>Writes Avro Object Container Files with the null, deflate or snappy codec.</summary>
public sealed class AvroContainerWriter : IDisposable
{
    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly AvroDatumWriter _datumWriter;
    private readonly AvroWriter _frame = new(64);
    private readonly byte[] _sync;
    private readonly int _blockBytes;
    private AvroWriter? _block;
    // The deflate codec's output, kept between blocks: a fresh MemoryStream grows by doubling and ToArray copies it
    // once more, which for megabyte blocks of already-gzipped cutouts cost as much as the compression.
    private MemoryStream? _deflated;
    private long _count;

    /// <summary>Writes the header and prepares to append records.</summary>
    /// <param name="output">Where the file goes.</param>
    /// <param name="schema">The writer schema stored in the header.</param>
    /// <param name="codec"><c>null</c>, <c>deflate</c> or <c>snappy</c>.</param>
    /// <param name="blockBytes">Uncompressed bytes after which a block is written.</param>
    /// <param name="metadata">Extra header metadata (keys must not start with <c>avro.</c>).</param>
    /// <param name="leaveOpen">Leave <paramref name="output"/> open on dispose.</param>
    /// <param name="syncMarker">
    /// The file's 16-byte sync marker, or null for a random one. Give one to make the output reproducible (equal
    /// records and marker, equal bytes); the specification only asks that the marker be unlikely to occur in the data,
    /// so derive it from a good hash, not a constant.
    /// </param>
    /// <exception cref="ArgumentException">Unknown codec, or a sync marker that is not 16 bytes long.</exception>
    public AvroContainerWriter(Stream output, AvroSchema schema, string codec = "null", int blockBytes = 1 << 20,
        IReadOnlyDictionary<string, byte[]>? metadata = null, bool leaveOpen = false, byte[]? syncMarker = null)
    {
        if (codec is not ("null" or "deflate" or "snappy")) throw new ArgumentException($"unsupported codec '{codec}'", nameof(codec));
        if (syncMarker is not null && syncMarker.Length != 16)
            throw new ArgumentException($"an Avro sync marker is 16 bytes, not {syncMarker.Length}", nameof(syncMarker));
        _sync = syncMarker is null ? RandomNumberGenerator.GetBytes(16) : (byte[])syncMarker.Clone();
        _output = output;
        _leaveOpen = leaveOpen;
        Codec = codec;
        _blockBytes = blockBytes;
        _datumWriter = AvroDatumWriter.For(schema);
        WriteHeader(schema, metadata);
    }

    // Callers write one file per alert (ZTF packets), so the header goes straight to the output: the schema's JSON
    // bytes are made once per schema instance, and only the small parts pass through a scratch buffer. The map is
    // avro.schema, avro.codec, then the caller's entries in their order, a caller's avro.schema or avro.codec
    // replacing the value in place (as a dictionary of all three would).
    private void WriteHeader(AvroSchema schema, IReadOnlyDictionary<string, byte[]>? metadata)
    {
        ReadOnlySpan<byte> schemaJson = schema.JsonUtf8;
        ReadOnlySpan<byte> codecBytes = Codec switch
        {
            "deflate" => "deflate"u8,
            "snappy" => "snappy"u8,
            _ => "null"u8,
        };
        int count = 2;
        if (metadata is not null)
        {
            foreach (var (k, v) in metadata)
            {
                if (k == "avro.schema") schemaJson = v;
                else if (k == "avro.codec") codecBytes = v;
                else count++;
            }
        }
        var w = _frame;
        w.Reset();
        w.WriteRaw(AvroContainerReader.Magic);
        w.WriteLong(count);
        w.WriteBytes("avro.schema"u8);
        w.WriteLong(schemaJson.Length);
        _output.Write(w.WrittenSpan);
        _output.Write(schemaJson);
        w.Reset();
        w.WriteBytes("avro.codec"u8);
        w.WriteBytes(codecBytes);
        if (metadata is not null)
        {
            foreach (var (k, v) in metadata)
            {
                if (k is "avro.schema" or "avro.codec") continue;
                w.WriteString(k);
                w.WriteBytes(v);
            }
        }
        w.WriteLong(0);
        w.WriteRaw(_sync);
        _output.Write(w.WrittenSpan);
        w.Reset();
    }

    /// <summary>The block codec.</summary>
    public string Codec { get; }

    /// <summary>Appends one record (a generic value of the writer schema).</summary>
    public void Append(object? value)
    {
        var block = _block ??= new AvroWriter(Math.Min(_blockBytes, 4096));
        _datumWriter.Write(block, value);
        _count++;
        if (block.Length >= _blockBytes) Flush();
    }

    /// <summary>Appends one datum already in the writer schema's binary encoding.</summary>
    public void AppendEncoded(ReadOnlySpan<byte> datum)
    {
        // Sized to the first datum: a one-record file (the common case) copies it once and never grows.
        var block = _block ??= new AvroWriter(datum.Length);
        block.WriteRaw(datum);
        _count++;
        if (block.Length >= _blockBytes) Flush();
    }

    /// <summary>Writes the pending records as one block.</summary>
    public void Flush()
    {
        if (_count == 0 || _block is null) return;
        ReadOnlySpan<byte> data = _block.WrittenSpan;
        ReadOnlySpan<byte> payload = data;
        if (Codec == "deflate")
        {
            // Room for the block plus an eighth: the fastest level codes incompressible bytes (the gzipped cutouts)
            // with fixed Huffman codes, up to 9 bits a byte, so the stream does not grow while it writes.
            var ms = _deflated ??= new MemoryStream();
            ms.SetLength(0);
            int bound = (int)Math.Min(Array.MaxLength, data.Length + (long)data.Length / 8 + 1024);
            if (ms.Capacity < bound) ms.Capacity = bound;
            using (var deflate = new DeflateStream(ms, CompressionLevel.Fastest, leaveOpen: true)) deflate.Write(data);
            payload = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        }
        else if (Codec == "snappy")
        {
            var body = IronSnappy.Snappy.Encode(data);
            var compressed = new byte[body.Length + 4];
            body.CopyTo(compressed, 0);
            BinaryPrimitives.WriteUInt32BigEndian(compressed.AsSpan(body.Length), Crc32.Compute(data));
            payload = compressed;
        }
        _frame.Reset();
        _frame.WriteLong(_count);
        _frame.WriteLong(payload.Length);
        _output.Write(_frame.WrittenSpan);
        _output.Write(payload);
        _output.Write(_sync);
        _block.Reset();
        _count = 0;
    }

    /// <summary>Flushes the last block and closes the stream unless asked to leave it open.</summary>
    public void Dispose()
    {
        Flush();
        _output.Flush();
        _deflated?.Dispose();
        if (!_leaveOpen) _output.Dispose();
    }
}
