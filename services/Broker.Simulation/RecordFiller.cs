using System.Collections.Concurrent;
using Broker.Alerts.Avro;

namespace Broker.Simulation;

/// <summary>
/// Sets generic record fields with the boxed type the schema wants (a float field gets a float, a nullable long a
/// long), and starts every record from the schema's defaults (null for optional fields, zero or empty for the rest).
/// Fields are set by position, or by name with one lookup; builders resolve the names they set in loops once.
/// </summary>
internal static class RecordFiller
{
    // Per schema, the default value of every field, boxed once: a boxed number or an empty string or array cannot be
    // changed, so every record can start from the same objects.
    private static readonly ConcurrentDictionary<RecordSchema, object?[]> Defaults = new();

    public static AvroRecord New(RecordSchema schema)
    {
        var r = new AvroRecord(schema);
        DefaultsOf(schema).CopyTo(r.Values, 0);
        return r;
    }

    private static object?[] DefaultsOf(RecordSchema schema) => Defaults.GetOrAdd(schema, static s =>
    {
        var values = new object?[s.Fields.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (s.Fields[i].Schema is UnionSchema) continue;
            values[i] = s.Fields[i].Schema.Type switch
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
        return values;
    });

    /// <summary>The position of a field, resolved once by a builder.</summary>
    /// <exception cref="KeyNotFoundException">The record has no such field.</exception>
    public static int Field(this RecordSchema schema, string name)
    {
        int i = schema.IndexOf(name);
        return i >= 0 ? i : throw new KeyNotFoundException($"{schema.FullName} has no field {name}");
    }

    // The type a field's values are written as: an optional field's non-null branch.
    private static AvroType ValueType(AvroRecord r, int i)
    {
        var f = r.Schema.Fields[i].Schema;
        if (f is UnionSchema u) f = u.OptionalOf ?? u.Branches[^1];
        return f.Type;
    }

    /// <summary>Sets a numeric field, converting to its type; NaN writes null where the field is nullable.</summary>
    public static void Num(this AvroRecord r, string name, double value) => r.Num(r.Schema.Field(name), value);

    /// <summary>Sets the numeric field at position <paramref name="i"/>, converting to its type; NaN writes null where the field is nullable.</summary>
    public static void Num(this AvroRecord r, int i, double value)
    {
        if (double.IsNaN(value) && r.Schema.Fields[i].Schema is UnionSchema)
        {
            r[i] = null;
            return;
        }
        r[i] = ValueType(r, i) switch
        {
            AvroType.Int => (object)(int)Math.Round(value),
            AvroType.Long => (long)Math.Round(value),
            AvroType.Float => (float)value,
            AvroType.Double => value,
            AvroType.Boolean => value != 0,
            var t => throw new InvalidOperationException($"{r.Schema.Fields[i].Name} is {t}, not numeric"),
        };
    }

    public static void Long(this AvroRecord r, string name, long value) => r.Long(r.Schema.Field(name), value);

    public static void Long(this AvroRecord r, int i, long value) => r[i] = ValueType(r, i) == AvroType.Int ? (object)(int)value : value;

    public static void Str(this AvroRecord r, string name, string? value) => r[name] = value;

    public static void Bool(this AvroRecord r, string name, bool? value) => r[name] = value;
}
