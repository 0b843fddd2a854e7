using System.Collections.Concurrent;
using Broker.Alerts.Avro;

namespace Broker.Simulation;

/// <summary>
/// Sets generic record fields by name with the boxed type the schema wants (a float field gets a float, a nullable
/// long a long), and starts every record from the schema's defaults (null for optional fields, zero or empty for the rest).
/// </summary>
internal static class RecordFiller
{
    private static readonly ConcurrentDictionary<RecordSchema, AvroType[]> Types = new();

    public static AvroRecord New(RecordSchema schema)
    {
        var types = TypesOf(schema);
        var r = new AvroRecord(schema);
        for (int i = 0; i < types.Length; i++)
        {
            if (schema.Fields[i].Schema is UnionSchema) continue;
            r[i] = types[i] switch
            {
                AvroType.Int => 0,
                AvroType.Long => 0L,
                AvroType.Float => 0f,
                AvroType.Double => 0.0,
                AvroType.Boolean => false,
                AvroType.String => "",
                AvroType.Bytes => Array.Empty<byte>(),
                _ => null,
            };
        }
        return r;
    }

    private static AvroType[] TypesOf(RecordSchema schema) => Types.GetOrAdd(schema, static s =>
    {
        var t = new AvroType[s.Fields.Count];
        for (int i = 0; i < t.Length; i++)
        {
            var f = s.Fields[i].Schema;
            if (f is UnionSchema u) f = u.OptionalOf ?? u.Branches[^1];
            t[i] = f.Type;
        }
        return t;
    });

    /// <summary>Sets a numeric field, converting to its type; NaN writes null where the field is nullable.</summary>
    public static void Num(this AvroRecord r, string name, double value)
    {
        int i = r.Schema.IndexOf(name);
        if (i < 0) throw new KeyNotFoundException($"{r.Schema.FullName} has no field {name}");
        if (double.IsNaN(value) && r.Schema.Fields[i].Schema is UnionSchema)
        {
            r[i] = null;
            return;
        }
        r[i] = TypesOf(r.Schema)[i] switch
        {
            AvroType.Int => (object)(int)Math.Round(value),
            AvroType.Long => (long)Math.Round(value),
            AvroType.Float => (float)value,
            AvroType.Double => value,
            AvroType.Boolean => value != 0,
            var t => throw new InvalidOperationException($"{name} is {t}, not numeric"),
        };
    }

    public static void Long(this AvroRecord r, string name, long value)
    {
        int i = r.Schema.IndexOf(name);
        r[i] = TypesOf(r.Schema)[i] == AvroType.Int ? (object)(int)value : value;
    }

    public static void Str(this AvroRecord r, string name, string? value) => r[name] = value;

    public static void Bool(this AvroRecord r, string name, bool? value) => r[name] = value;
}
