using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Broker.Alerts.Avro;

/// <summary>
/// Decodes Avro binary data written with one schema (the writer's) into generic values shaped by another (the
/// reader's), following the schema resolution rules of the Avro 1.11 specification ("Schema Resolution"):
/// fields matched by name or alias in any order, writer-only fields skipped, reader-only fields filled from their
/// defaults, numeric promotion (int to long, float, double; long to float, double; float to double), string and
/// bytes interchange, enum symbols by name, and union branches matched to the first fitting reader branch.
/// The pair is compiled once into a tree of decoders; decoding a record does no schema work and no reflection.
/// </summary>
public sealed class AvroDatumReader
{
    private static readonly ConditionalWeakTable<AvroSchema, ConcurrentDictionary<AvroSchema, AvroDatumReader>> Cache = new();
    private readonly ValueDecoder _root;

    private AvroDatumReader(AvroSchema writer, AvroSchema reader)
    {
        WriterSchema = writer;
        ReaderSchema = reader;
        _root = new AvroResolver().Resolve(writer, reader, "");
    }

    /// <summary>The schema the data was written with.</summary>
    public AvroSchema WriterSchema { get; }

    /// <summary>The schema the values take.</summary>
    public AvroSchema ReaderSchema { get; }

    /// <summary>The compiled reader for a schema pair, built once and cached (reader defaults to the writer).</summary>
    /// <exception cref="AvroResolutionException">The writer's data can never be read as the reader schema.</exception>
    public static AvroDatumReader For(AvroSchema writer, AvroSchema? reader = null)
    {
        reader ??= writer;
        var byReader = Cache.GetValue(writer, static _ => new ConcurrentDictionary<AvroSchema, AvroDatumReader>(ReferenceEqualityComparer.Instance));
        return byReader.GetOrAdd(reader, static (r, w) => new AvroDatumReader(w, r), writer);
    }

    /// <summary>Decodes one value from the reader's position.</summary>
    public object? Read(ref AvroReader input) => _root.Read(ref input);

    /// <summary>Decodes one value that must fill <paramref name="data"/> exactly.</summary>
    public object? Read(ReadOnlySpan<byte> data)
    {
        var r = new AvroReader(data);
        var value = _root.Read(ref r);
        if (!r.End) throw new AvroDataException($"{r.Remaining} bytes left after the value (written with another schema?)");
        return value;
    }
}

/// <summary>A writer schema can never be read as the requested reader schema.</summary>
public sealed class AvroResolutionException(string message) : FormatException(message);

internal abstract class ValueDecoder
{
    public abstract object? Read(ref AvroReader r);
}

internal abstract class ValueSkipper
{
    public abstract void Skip(ref AvroReader r);
}

/// <summary>Builds decoder trees for (writer, reader) pairs; records are memoised so recursive types terminate.</summary>
internal sealed class AvroResolver
{
    private readonly Dictionary<(AvroSchema, AvroSchema), RecordDecoder> _records = new();
    private readonly Dictionary<AvroSchema, ValueSkipper> _skippers = new(ReferenceEqualityComparer.Instance);

    public ValueDecoder Resolve(AvroSchema writer, AvroSchema reader, string path)
    {
        if (writer is UnionSchema wu)
        {
            var branches = new ValueDecoder[wu.Branches.Count];
            for (int i = 0; i < branches.Length; i++)
            {
                var wb = wu.Branches[i];
                var rb = reader is UnionSchema ru ? MatchBranch(wb, ru) : (CanResolve(wb, reader) ? reader : null);
                // A writer branch without a match is an error only when data actually takes it (specification).
                branches[i] = rb is null
                    ? new UnmatchedBranchDecoder(path, wb, reader)
                    : Resolve(wb, rb, path);
            }
            return new UnionDecoder(branches, path);
        }
        if (reader is UnionSchema readerUnion)
        {
            var rb = MatchBranch(writer, readerUnion)
                ?? throw new AvroResolutionException($"{Where(path)}writer type {writer.DisplayName} matches no branch of reader union {reader.DisplayName}");
            return Resolve(writer, rb, path);
        }
        switch (reader.Type)
        {
            case AvroType.Null: Expect(writer, path, reader, AvroType.Null); return NullDecoder.Instance;
            case AvroType.Boolean: Expect(writer, path, reader, AvroType.Boolean); return BooleanDecoder.Instance;
            case AvroType.Int: Expect(writer, path, reader, AvroType.Int); return IntDecoder.Instance;
            case AvroType.Long:
                Expect(writer, path, reader, AvroType.Int, AvroType.Long);
                return writer.Type == AvroType.Int ? IntToLongDecoder.Instance : LongDecoder.Instance;
            case AvroType.Float:
                Expect(writer, path, reader, AvroType.Int, AvroType.Long, AvroType.Float);
                return new FloatDecoder(writer.Type);
            case AvroType.Double:
                Expect(writer, path, reader, AvroType.Int, AvroType.Long, AvroType.Float, AvroType.Double);
                return writer.Type == AvroType.Double ? DoubleDecoder.Instance : new PromotedDoubleDecoder(writer.Type);
            case AvroType.Bytes: Expect(writer, path, reader, AvroType.Bytes, AvroType.String); return BytesDecoder.Instance;
            case AvroType.String: Expect(writer, path, reader, AvroType.String, AvroType.Bytes); return StringDecoder.Instance;
            case AvroType.Fixed:
            {
                Expect(writer, path, reader, AvroType.Fixed);
                var wf = (FixedSchema)writer;
                var rf = (FixedSchema)reader;
                if (wf.Size != rf.Size) throw new AvroResolutionException($"{Where(path)}fixed {wf.FullName} has size {wf.Size}, reader {rf.FullName} has {rf.Size}");
                return new FixedDecoder(rf);
            }
            case AvroType.Enum:
            {
                Expect(writer, path, reader, AvroType.Enum);
                var we = (EnumSchema)writer;
                var re = (EnumSchema)reader;
                var map = new int[we.Symbols.Count];
                int fallback = re.DefaultSymbol is null ? -1 : re.IndexOf(re.DefaultSymbol);
                for (int i = 0; i < map.Length; i++)
                {
                    int j = re.IndexOf(we.Symbols[i]);
                    map[i] = j >= 0 ? j : fallback;
                }
                return new EnumDecoder(re, we, map, path);
            }
            case AvroType.Array:
                Expect(writer, path, reader, AvroType.Array);
                return new ArrayDecoder(Resolve(((ArraySchema)writer).Items, ((ArraySchema)reader).Items, path + "[]"));
            case AvroType.Map:
                Expect(writer, path, reader, AvroType.Map);
                return new MapDecoder(Resolve(((MapSchema)writer).Values, ((MapSchema)reader).Values, path + "{}"));
            case AvroType.Record:
                Expect(writer, path, reader, AvroType.Record);
                return ResolveRecord((RecordSchema)writer, (RecordSchema)reader, path);
            default:
                throw new AvroResolutionException($"{Where(path)}unsupported reader type {reader.DisplayName}");
        }
    }

    private RecordDecoder ResolveRecord(RecordSchema writer, RecordSchema reader, string path)
    {
        if (_records.TryGetValue((writer, reader), out var existing)) return existing;
        var decoder = new RecordDecoder(reader);
        _records[(writer, reader)] = decoder;

        var steps = new RecordDecoder.Step[writer.Fields.Count];
        var filled = new bool[reader.Fields.Count];
        for (int i = 0; i < writer.Fields.Count; i++)
        {
            var wf = writer.Fields[i];
            var rf = FindReaderField(reader, wf);
            string fieldPath = path.Length == 0 ? wf.Name : path + "." + wf.Name;
            if (rf is null)
            {
                steps[i] = new RecordDecoder.Step(-1, null, Skipper(wf.Schema), wf.Name);
            }
            else
            {
                filled[rf.Position] = true;
                steps[i] = new RecordDecoder.Step(rf.Position, Resolve(wf.Schema, rf.Schema, fieldPath), null, wf.Name);
            }
        }
        var defaults = new List<(int, object?)>();
        foreach (var rf in reader.Fields)
        {
            if (filled[rf.Position]) continue;
            if (rf.Default is not { } d)
                throw new AvroResolutionException($"{Where(path)}reader field '{rf.Name}' of {reader.FullName} is missing from writer {writer.FullName} and has no default");
            defaults.Add((rf.Position, AvroDefaults.FromJson(d, rf.Schema, $"{reader.FullName}.{rf.Name}")));
        }
        decoder.Initialise(steps, defaults.ToArray());
        return decoder;
    }

    private static AvroField? FindReaderField(RecordSchema reader, AvroField writerField)
    {
        var direct = reader.GetField(writerField.Name);
        if (direct is not null) return direct;
        foreach (var rf in reader.Fields)
        {
            if (rf.Aliases.Contains(writerField.Name)) return rf;
        }
        return null;
    }

    /// <summary>
    /// The reader branch a writer type resolves to: first a branch of the same type and name (full name, alias or
    /// unqualified name), then the first branch the writer type can be promoted to, then, for records, the only
    /// record branch (re-serialisers such as Spark rename every record).
    /// </summary>
    internal static AvroSchema? MatchBranch(AvroSchema writer, UnionSchema reader)
    {
        foreach (var b in reader.Branches)
        {
            if (b.Type != writer.Type) continue;
            if (writer is not NamedSchema wn) return b;
            var bn = (NamedSchema)b;
            if (bn.Matches(wn) || bn.Name == wn.Name) return b;
        }
        foreach (var b in reader.Branches)
        {
            if (b.Type != writer.Type && b.IsPrimitive && writer.IsPrimitive && IsPromotable(writer.Type, b.Type)) return b;
        }
        AvroSchema? onlyNamed = null;
        int count = 0;
        foreach (var b in reader.Branches)
        {
            if (b.Type == writer.Type && writer is NamedSchema) { onlyNamed = b; count++; }
        }
        return count == 1 ? onlyNamed : null;
    }

    private static bool CanResolve(AvroSchema writer, AvroSchema reader) =>
        writer.Type == reader.Type || (writer.IsPrimitive && reader.IsPrimitive && IsPromotable(writer.Type, reader.Type));

    internal static bool IsPromotable(AvroType from, AvroType to) => (from, to) switch
    {
        (AvroType.Int, AvroType.Long or AvroType.Float or AvroType.Double) => true,
        (AvroType.Long, AvroType.Float or AvroType.Double) => true,
        (AvroType.Float, AvroType.Double) => true,
        (AvroType.String, AvroType.Bytes) => true,
        (AvroType.Bytes, AvroType.String) => true,
        _ => false,
    };

    private static void Expect(AvroSchema writer, string path, AvroSchema reader, params AvroType[] allowed)
    {
        if (Array.IndexOf(allowed, writer.Type) < 0)
            throw new AvroResolutionException($"{Where(path)}writer type {writer.DisplayName} cannot be read as {reader.DisplayName}");
    }

    private static string Where(string path) => path.Length == 0 ? "" : $"field {path}: ";

    public ValueSkipper Skipper(AvroSchema writer)
    {
        if (_skippers.TryGetValue(writer, out var s)) return s;
        switch (writer)
        {
            case RecordSchema r:
            {
                var rs = new RecordSkipper();
                _skippers[writer] = rs;
                rs.Fields = r.Fields.Select(f => Skipper(f.Schema)).ToArray();
                return rs;
            }
            case ArraySchema a: s = new BlockSkipper(Skipper(a.Items), isMap: false); break;
            case MapSchema m: s = new BlockSkipper(Skipper(m.Values), isMap: true); break;
            case UnionSchema u: s = new UnionSkipper(u.Branches.Select(Skipper).ToArray()); break;
            case FixedSchema f: s = new FixedSkipper(f.Size); break;
            default: s = new PrimitiveSkipper(writer.Type); break;
        }
        _skippers[writer] = s;
        return s;
    }
}

internal sealed class NullDecoder : ValueDecoder
{
    public static readonly NullDecoder Instance = new();
    public override object? Read(ref AvroReader r) => null;
}

internal sealed class BooleanDecoder : ValueDecoder
{
    public static readonly BooleanDecoder Instance = new();
    private static readonly object True = true, False = false;
    public override object? Read(ref AvroReader r) => r.ReadBoolean() ? True : False;
}

internal sealed class IntDecoder : ValueDecoder
{
    public static readonly IntDecoder Instance = new();
    public override object? Read(ref AvroReader r) => r.ReadInt();
}

internal sealed class LongDecoder : ValueDecoder
{
    public static readonly LongDecoder Instance = new();
    public override object? Read(ref AvroReader r) => r.ReadLong();
}

internal sealed class IntToLongDecoder : ValueDecoder
{
    public static readonly IntToLongDecoder Instance = new();
    public override object? Read(ref AvroReader r) => (long)r.ReadInt();
}

internal sealed class FloatDecoder(AvroType writer) : ValueDecoder
{
    public override object? Read(ref AvroReader r) => writer switch
    {
        AvroType.Int => (float)r.ReadInt(),
        AvroType.Long => (float)r.ReadLong(),
        _ => r.ReadFloat(),
    };
}

internal sealed class DoubleDecoder : ValueDecoder
{
    public static readonly DoubleDecoder Instance = new();
    public override object? Read(ref AvroReader r) => r.ReadDouble();
}

internal sealed class PromotedDoubleDecoder(AvroType writer) : ValueDecoder
{
    public override object? Read(ref AvroReader r) => writer switch
    {
        AvroType.Int => (double)r.ReadInt(),
        AvroType.Long => (double)r.ReadLong(),
        _ => (double)r.ReadFloat(),
    };
}

internal sealed class BytesDecoder : ValueDecoder
{
    public static readonly BytesDecoder Instance = new();
    public override object? Read(ref AvroReader r) => r.ReadBytes();
}

internal sealed class StringDecoder : ValueDecoder
{
    public static readonly StringDecoder Instance = new();
    public override object? Read(ref AvroReader r) => r.ReadString();
}

internal sealed class FixedDecoder(FixedSchema schema) : ValueDecoder
{
    public override object? Read(ref AvroReader r) => new AvroFixed(schema, r.ReadRaw(schema.Size).ToArray());
}

internal sealed class EnumDecoder(EnumSchema reader, EnumSchema writer, int[] map, string path) : ValueDecoder
{
    public override object? Read(ref AvroReader r)
    {
        int i = r.ReadInt();
        if ((uint)i >= (uint)map.Length) throw new AvroDataException($"{Prefix}enum index {i} out of range for {writer.FullName}");
        int j = map[i];
        if (j < 0) throw new AvroDataException($"{Prefix}writer symbol '{writer.Symbols[i]}' is not in reader enum {reader.FullName}, which has no default");
        return new AvroEnumValue(reader, j);
    }

    private string Prefix => path.Length == 0 ? "" : $"field {path}: ";
}

internal sealed class ArrayDecoder(ValueDecoder items) : ValueDecoder
{
    public override object? Read(ref AvroReader r)
    {
        var list = new List<object?>();
        while (true)
        {
            long count = r.ReadLong();
            if (count == 0) return list;
            if (count < 0)
            {
                count = -count;
                r.ReadLong(); // block size in bytes, only needed for skipping
            }
            if (count > r.Remaining) throw new AvroDataException($"array block of {count} items exceeds the {r.Remaining} bytes left");
            list.EnsureCapacity(list.Count + (int)count);
            for (long i = 0; i < count; i++) list.Add(items.Read(ref r));
        }
    }
}

internal sealed class MapDecoder(ValueDecoder values) : ValueDecoder
{
    public override object? Read(ref AvroReader r)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (true)
        {
            long count = r.ReadLong();
            if (count == 0) return map;
            if (count < 0)
            {
                count = -count;
                r.ReadLong();
            }
            if (count > r.Remaining) throw new AvroDataException($"map block of {count} entries exceeds the {r.Remaining} bytes left");
            for (long i = 0; i < count; i++)
            {
                string key = r.ReadString();
                map[key] = values.Read(ref r);
            }
        }
    }
}

internal sealed class UnionDecoder(ValueDecoder[] branches, string path) : ValueDecoder
{
    public override object? Read(ref AvroReader r)
    {
        long i = r.ReadLong();
        if ((ulong)i >= (ulong)branches.Length)
            throw new AvroDataException($"{(path.Length == 0 ? "" : $"field {path}: ")}union branch {i} out of range (union has {branches.Length})");
        return branches[i].Read(ref r);
    }
}

internal sealed class UnmatchedBranchDecoder(string path, AvroSchema writerBranch, AvroSchema reader) : ValueDecoder
{
    public override object? Read(ref AvroReader r) =>
        throw new AvroDataException($"{(path.Length == 0 ? "" : $"field {path}: ")}writer union branch {writerBranch.DisplayName} cannot be read as {reader.DisplayName}");
}

internal sealed class RecordDecoder(RecordSchema reader) : ValueDecoder
{
    internal readonly record struct Step(int ReaderPosition, ValueDecoder? Decoder, ValueSkipper? Skipper, string WriterName);

    private Step[] _steps = [];
    private (int Position, object? Value)[] _defaults = [];

    public void Initialise(Step[] steps, (int, object?)[] defaults)
    {
        _steps = steps;
        _defaults = defaults;
    }

    public override object? Read(ref AvroReader r)
    {
        var record = new AvroRecord(reader);
        var values = record.Values;
        var steps = _steps;
        int i = 0;
        try
        {
            for (; i < steps.Length; i++)
            {
                ref readonly var s = ref steps[i];
                if (s.Decoder is not null) values[s.ReaderPosition] = s.Decoder.Read(ref r);
                else s.Skipper!.Skip(ref r);
            }
        }
        catch (AvroDataException e) when (!e.Message.StartsWith("field ", StringComparison.Ordinal))
        {
            throw new AvroDataException($"field {reader.FullName}.{steps[i].WriterName}: {e.Message}", e);
        }
        foreach (var (pos, value) in _defaults) values[pos] = AvroDefaults.Copy(value);
        return record;
    }
}

internal sealed class PrimitiveSkipper(AvroType type) : ValueSkipper
{
    public override void Skip(ref AvroReader r)
    {
        switch (type)
        {
            case AvroType.Null: return;
            case AvroType.Boolean: r.Skip(1); return;
            case AvroType.Int or AvroType.Long or AvroType.Enum: r.ReadLong(); return;
            case AvroType.Float: r.Skip(4); return;
            case AvroType.Double: r.Skip(8); return;
            case AvroType.Bytes or AvroType.String: r.SkipBytes(); return;
            default: throw new InvalidOperationException($"no primitive skipper for {type}");
        }
    }
}

internal sealed class FixedSkipper(int size) : ValueSkipper
{
    public override void Skip(ref AvroReader r) => r.Skip(size);
}

internal sealed class RecordSkipper : ValueSkipper
{
    public ValueSkipper[] Fields { get; set; } = [];

    public override void Skip(ref AvroReader r)
    {
        foreach (var f in Fields) f.Skip(ref r);
    }
}

internal sealed class UnionSkipper(ValueSkipper[] branches) : ValueSkipper
{
    public override void Skip(ref AvroReader r)
    {
        long i = r.ReadLong();
        if ((ulong)i >= (ulong)branches.Length) throw new AvroDataException($"union branch {i} out of range (union has {branches.Length})");
        branches[i].Skip(ref r);
    }
}

internal sealed class BlockSkipper(ValueSkipper item, bool isMap) : ValueSkipper
{
    public override void Skip(ref AvroReader r)
    {
        while (true)
        {
            long count = r.ReadLong();
            if (count == 0) return;
            if (count < 0)
            {
                // A negative count is followed by the block's size in bytes, so the block can be skipped whole.
                long size = r.ReadLong();
                if (size < 0 || size > r.Remaining) throw new AvroDataException($"block size {size} exceeds the {r.Remaining} bytes left");
                r.Skip((int)size);
                continue;
            }
            for (long i = 0; i < count; i++)
            {
                if (isMap) r.SkipBytes();
                item.Skip(ref r);
            }
        }
    }
}

/// <summary>Turns JSON default values into generic values (Avro 1.11 specification, "field default values").</summary>
internal static class AvroDefaults
{
    public static object? FromJson(JsonElement json, AvroSchema schema, string where)
    {
        try
        {
            return Convert(json, schema);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new AvroSchemaException($"default of {where} does not fit its schema {schema.DisplayName}: {e.Message}");
        }
    }

    private static object? Convert(JsonElement json, AvroSchema schema)
    {
        switch (schema)
        {
            case UnionSchema u:
                // The default of a union is a value of its first branch (Avro 1.11); be lenient and accept any branch,
                // as the Spark-written schemas put null last but keep null defaults.
                foreach (var b in u.Branches)
                {
                    try { return Convert(json, b); }
                    catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException) { }
                }
                throw new FormatException($"{json.GetRawText()} fits no branch");
            case RecordSchema r:
            {
                var rec = new AvroRecord(r);
                foreach (var f in r.Fields)
                {
                    if (json.TryGetProperty(f.Name, out var v)) rec.Values[f.Position] = Convert(v, f.Schema);
                    else if (f.Default is { } d) rec.Values[f.Position] = Convert(d, f.Schema);
                    else throw new FormatException($"missing field {f.Name}");
                }
                return rec;
            }
            case EnumSchema e:
            {
                int i = e.IndexOf(json.GetString() ?? throw new FormatException("enum default must be a string"));
                if (i < 0) throw new FormatException($"'{json.GetString()}' is not a symbol");
                return new AvroEnumValue(e, i);
            }
            case FixedSchema f:
            {
                var bytes = Latin1(json.GetString()!);
                if (bytes.Length != f.Size) throw new FormatException($"fixed default has {bytes.Length} bytes, not {f.Size}");
                return new AvroFixed(f, bytes);
            }
            case ArraySchema a:
                if (json.ValueKind != JsonValueKind.Array) throw new FormatException("array default must be a JSON array");
                return json.EnumerateArray().Select(x => Convert(x, a.Items)).ToList();
            case MapSchema m:
                if (json.ValueKind != JsonValueKind.Object) throw new FormatException("map default must be a JSON object");
                return json.EnumerateObject().ToDictionary(p => p.Name, p => Convert(p.Value, m.Values), StringComparer.Ordinal);
        }
        return schema.Type switch
        {
            AvroType.Null => json.ValueKind == JsonValueKind.Null ? null : throw new FormatException("null default must be null"),
            AvroType.Boolean => json.GetBoolean(),
            AvroType.Int => json.GetInt32(),
            AvroType.Long => json.GetInt64(),
            AvroType.Float => json.ValueKind == JsonValueKind.String ? SpecialFloat(json.GetString()!) : json.GetSingle(),
            AvroType.Double => json.ValueKind == JsonValueKind.String ? SpecialDouble(json.GetString()!) : json.GetDouble(),
            AvroType.Bytes => Latin1(json.GetString()!),
            AvroType.String => json.GetString() ?? throw new FormatException("string default must be a string"),
            _ => throw new FormatException($"no default for {schema.DisplayName}"),
        };
    }

    private static float SpecialFloat(string s) => (float)SpecialDouble(s);

    private static double SpecialDouble(string s) => s switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => throw new FormatException($"'{s}' is not a number"),
    };

    // Bytes and fixed defaults are JSON strings whose code points 0-255 are the byte values (specification).
    private static byte[] Latin1(string s)
    {
        var bytes = new byte[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] > 255) throw new FormatException("bytes default has a code point above 255");
            bytes[i] = (byte)s[i];
        }
        return bytes;
    }

    /// <summary>Defaults are built once per schema pair; mutable ones are copied so records never share them.</summary>
    public static object? Copy(object? value) => value switch
    {
        List<object?> l => l.Select(Copy).ToList(),
        Dictionary<string, object?> d => d.ToDictionary(p => p.Key, p => Copy(p.Value), StringComparer.Ordinal),
        byte[] b => b.ToArray(),
        AvroRecord r => CopyRecord(r),
        _ => value,
    };

    private static AvroRecord CopyRecord(AvroRecord r)
    {
        var c = new AvroRecord(r.Schema);
        for (int i = 0; i < r.Values.Length; i++) c.Values[i] = Copy(r.Values[i]);
        return c;
    }
}
