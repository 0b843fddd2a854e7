using System.Collections;
using System.Runtime.CompilerServices;

namespace Broker.Alerts.Avro;

/// <summary>
/// Encodes generic values (see <see cref="AvroRecord"/>) in Avro binary encoding for one schema. The schema is
/// compiled once into a tree of encoders; a union value picks its branch from the value's runtime type.
/// </summary>
public sealed class AvroDatumWriter
{
    private static readonly ConditionalWeakTable<AvroSchema, AvroDatumWriter> Cache = new();
    private readonly ValueEncoder _root;

    private AvroDatumWriter(AvroSchema schema)
    {
        Schema = schema;
        _root = new EncoderBuilder().Build(schema);
    }

    /// <summary>The schema values are written with.</summary>
    public AvroSchema Schema { get; }

    /// <summary>The compiled writer for a schema, built once and cached.</summary>
    public static AvroDatumWriter For(AvroSchema schema) => Cache.GetValue(schema, static s => new AvroDatumWriter(s));

    /// <summary>Appends the encoding of <paramref name="value"/>.</summary>
    /// <exception cref="AvroDataException">The value does not fit the schema (the message names the field).</exception>
    public void Write(AvroWriter output, object? value) => _root.Write(output, value, "");

    /// <summary>The encoding of <paramref name="value"/> as a new array of its exact size (written in the thread's <see cref="AvroScratchWriter"/>).</summary>
    /// <exception cref="AvroDataException">The value does not fit the schema (the message names the field).</exception>
    public byte[] ToBytes(object? value)
    {
        var w = AvroScratchWriter.Rent();
        try
        {
            Write(w, value);
            return w.ToArray();
        }
        finally
        {
            AvroScratchWriter.Return(w);
        }
    }

    private sealed class EncoderBuilder
    {
        private readonly Dictionary<AvroSchema, ValueEncoder> _built = new(ReferenceEqualityComparer.Instance);

        public ValueEncoder Build(AvroSchema s)
        {
            if (_built.TryGetValue(s, out var e)) return e;
            switch (s)
            {
                case RecordSchema r:
                {
                    var re = new RecordEncoder(r);
                    _built[s] = re;
                    re.Fields = r.Fields.Select(f => Build(f.Schema)).ToArray();
                    return re;
                }
                case ArraySchema a: e = new ArrayEncoder(Build(a.Items)); break;
                case MapSchema m: e = new MapEncoder(Build(m.Values)); break;
                case UnionSchema u: e = new UnionEncoder(u, u.Branches.Select(Build).ToArray()); break;
                case EnumSchema en: e = new EnumEncoder(en); break;
                case FixedSchema f: e = new FixedEncoder(f); break;
                default: e = new PrimitiveEncoder(s.Type); break;
            }
            _built[s] = e;
            return e;
        }
    }

    private abstract class ValueEncoder
    {
        public abstract void Write(AvroWriter w, object? value, string path);

        /// <summary>Whether a value can be written as this schema (used to pick a union branch).</summary>
        public abstract bool Accepts(object? value);

        protected static AvroDataException Mismatch(string path, object? value, string expected) =>
            new($"{(path.Length == 0 ? "" : $"field {path}: ")}{(value is null ? "null" : value.GetType().Name)} value cannot be written as {expected}");
    }

    private sealed class PrimitiveEncoder(AvroType type) : ValueEncoder
    {
        public override void Write(AvroWriter w, object? value, string path)
        {
            switch (type)
            {
                case AvroType.Null:
                    if (value is not null) throw Mismatch(path, value, "null");
                    return;
                case AvroType.Boolean:
                    w.WriteBoolean(value is bool b ? b : throw Mismatch(path, value, "boolean"));
                    return;
                case AvroType.Int:
                    w.WriteInt(value switch
                    {
                        int i => i,
                        short s => s,
                        byte by => by,
                        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                        _ => throw Mismatch(path, value, "int"),
                    });
                    return;
                case AvroType.Long:
                    w.WriteLong(value switch
                    {
                        long l => l,
                        int i => i,
                        short s => s,
                        _ => throw Mismatch(path, value, "long"),
                    });
                    return;
                case AvroType.Float:
                    w.WriteFloat(value switch
                    {
                        float f => f,
                        double d => (float)d,
                        int i => i,
                        long l => l,
                        _ => throw Mismatch(path, value, "float"),
                    });
                    return;
                case AvroType.Double:
                    w.WriteDouble(value switch
                    {
                        double d => d,
                        float f => f,
                        int i => i,
                        long l => l,
                        _ => throw Mismatch(path, value, "double"),
                    });
                    return;
                case AvroType.Bytes:
                    w.WriteBytes(value switch
                    {
                        byte[] bytes => bytes,
                        ReadOnlyMemory<byte> m => m.Span,
                        _ => throw Mismatch(path, value, "bytes"),
                    });
                    return;
                case AvroType.String:
                    w.WriteString(value as string ?? throw Mismatch(path, value, "string"));
                    return;
                default:
                    throw new InvalidOperationException($"no primitive encoder for {type}");
            }
        }

        public override bool Accepts(object? value) => type switch
        {
            AvroType.Null => value is null,
            AvroType.Boolean => value is bool,
            AvroType.Int => value is int or short or byte,
            AvroType.Long => value is long or int or short,
            AvroType.Float => value is float,
            AvroType.Double => value is double or float,
            AvroType.Bytes => value is byte[] or ReadOnlyMemory<byte>,
            AvroType.String => value is string,
            _ => false,
        };
    }

    private sealed class EnumEncoder(EnumSchema schema) : ValueEncoder
    {
        public override void Write(AvroWriter w, object? value, string path)
        {
            int index = value switch
            {
                AvroEnumValue e => schema.IndexOf(e.Symbol),
                string s => schema.IndexOf(s),
                _ => throw Mismatch(path, value, schema.FullName),
            };
            if (index < 0) throw Mismatch(path, value, $"a symbol of {schema.FullName}");
            w.WriteInt(index);
        }

        public override bool Accepts(object? value) =>
            value is AvroEnumValue e ? schema.IndexOf(e.Symbol) >= 0 : value is string s && schema.IndexOf(s) >= 0;
    }

    private sealed class FixedEncoder(FixedSchema schema) : ValueEncoder
    {
        public override void Write(AvroWriter w, object? value, string path)
        {
            var bytes = value switch
            {
                AvroFixed f => f.Bytes,
                byte[] b => b,
                _ => throw Mismatch(path, value, schema.FullName),
            };
            if (bytes.Length != schema.Size) throw Mismatch(path, value, $"fixed of {schema.Size} bytes");
            w.WriteRaw(bytes);
        }

        public override bool Accepts(object? value) =>
            value is AvroFixed f ? f.Schema.FullName == schema.FullName || f.Bytes.Length == schema.Size : value is byte[] b && b.Length == schema.Size;
    }

    private sealed class ArrayEncoder(ValueEncoder items) : ValueEncoder
    {
        public override void Write(AvroWriter w, object? value, string path)
        {
            if (value is not IList list) throw Mismatch(path, value, "array");
            if (list.Count > 0)
            {
                w.WriteLong(list.Count);
                for (int i = 0; i < list.Count; i++) items.Write(w, list[i], path);
            }
            w.WriteLong(0);
        }

        public override bool Accepts(object? value) => value is IList and not byte[];
    }

    private sealed class MapEncoder(ValueEncoder values) : ValueEncoder
    {
        public override void Write(AvroWriter w, object? value, string path)
        {
            if (value is not IDictionary map) throw Mismatch(path, value, "map");
            if (map.Count > 0)
            {
                w.WriteLong(map.Count);
                foreach (DictionaryEntry e in map)
                {
                    w.WriteString(e.Key as string ?? throw Mismatch(path, e.Key, "map key (string)"));
                    values.Write(w, e.Value, path);
                }
            }
            w.WriteLong(0);
        }

        public override bool Accepts(object? value) => value is IDictionary;
    }

    private sealed class UnionEncoder(UnionSchema schema, ValueEncoder[] branches) : ValueEncoder
    {
        public override void Write(AvroWriter w, object? value, string path)
        {
            int branch = Pick(value);
            if (branch < 0) throw Mismatch(path, value, schema.DisplayName);
            w.WriteInt(branch);
            branches[branch].Write(w, value, path);
        }

        private int Pick(object? value)
        {
            if (value is null) return schema.NullIndex;
            // A record goes to the branch with its own name first.
            if (value is AvroRecord rec)
            {
                for (int i = 0; i < branches.Length; i++)
                {
                    if (schema.Branches[i] is RecordSchema rs && rs.FullName == rec.Schema.FullName) return i;
                }
            }
            // Exact types before promotions, so 1.0f goes to "float" ahead of "double".
            for (int i = 0; i < branches.Length; i++)
            {
                if (ExactType(schema.Branches[i].Type, value)) return i;
            }
            for (int i = 0; i < branches.Length; i++)
            {
                if (branches[i].Accepts(value)) return i;
            }
            return -1;
        }

        private static bool ExactType(AvroType t, object value) => t switch
        {
            AvroType.Boolean => value is bool,
            AvroType.Int => value is int,
            AvroType.Long => value is long,
            AvroType.Float => value is float,
            AvroType.Double => value is double,
            AvroType.Bytes => value is byte[],
            AvroType.String => value is string,
            _ => false,
        };

        public override bool Accepts(object? value) => Pick(value) >= 0;
    }

    private sealed class RecordEncoder(RecordSchema schema) : ValueEncoder
    {
        public ValueEncoder[] Fields { get; set; } = [];

        public override void Write(AvroWriter w, object? value, string path)
        {
            if (value is not AvroRecord rec) throw Mismatch(path, value, schema.FullName);
            var fields = schema.Fields;
            int i = 0;
            try
            {
                if (ReferenceEquals(rec.Schema, schema) || rec.Schema.FullName == schema.FullName && rec.Values.Length == fields.Count)
                {
                    for (; i < Fields.Length; i++) Fields[i].Write(w, rec.Values[i], fields[i].Name);
                    return;
                }
                // A record of another schema: match fields by name.
                for (; i < Fields.Length; i++)
                {
                    int j = rec.Schema.IndexOf(fields[i].Name);
                    if (j < 0) throw new AvroDataException($"field {fields[i].Name}: missing from the {rec.Schema.FullName} value");
                    Fields[i].Write(w, rec.Values[j], fields[i].Name);
                }
            }
            catch (AvroDataException e) when (path.Length > 0)
            {
                // Field paths are built only on the error path, so encoding allocates no strings.
                throw new AvroDataException($"field {path}.{e.Message["field ".Length..]}", e);
            }
        }

        public override bool Accepts(object? value) => value is AvroRecord;
    }
}
