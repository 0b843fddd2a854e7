namespace Broker.Alerts.Avro;

/// <summary>
/// A decoded Avro record in generic form. Field values are: null, bool, int, long, float, double, byte[], string,
/// <see cref="AvroRecord"/>, <see cref="AvroEnumValue"/>, <see cref="AvroFixed"/>, <see cref="List{T}"/> of values
/// (arrays) and <see cref="Dictionary{TKey,TValue}"/> of string to value (maps). A union value is the bare value of
/// its branch.
/// </summary>
public sealed class AvroRecord
{
    /// <summary>Creates a record whose fields are all null.</summary>
    public AvroRecord(RecordSchema schema)
    {
        Schema = schema;
        Values = new object?[schema.Fields.Count];
    }

    /// <summary>The record's schema (the reader schema after resolution).</summary>
    public RecordSchema Schema { get; }

    /// <summary>Field values by position.</summary>
    public object?[] Values { get; }

    /// <summary>A field value by position.</summary>
    public object? this[int position]
    {
        get => Values[position];
        set => Values[position] = value;
    }

    /// <summary>A field value by name; throws when the schema has no such field.</summary>
    public object? this[string name]
    {
        get => Values[IndexOrThrow(name)];
        set => Values[IndexOrThrow(name)] = value;
    }

    /// <summary>True when the schema has the field (its value may still be null).</summary>
    public bool Has(string name) => Schema.IndexOf(name) >= 0;

    /// <summary>A field value by name, or null when absent from the schema or null.</summary>
    public object? GetOrNull(string name)
    {
        int i = Schema.IndexOf(name);
        return i < 0 ? null : Values[i];
    }

    private int IndexOrThrow(string name)
    {
        int i = Schema.IndexOf(name);
        if (i < 0) throw new KeyNotFoundException($"record {Schema.FullName} has no field '{name}'");
        return i;
    }

    /// <inheritdoc />
    public override string ToString() => AvroJson.ToJson(this, Schema);
}

/// <summary>A decoded enum symbol.</summary>
public sealed record AvroEnumValue(EnumSchema Schema, int Index)
{
    /// <summary>The symbol's text.</summary>
    public string Symbol => Schema.Symbols[Index];

    /// <inheritdoc />
    public override string ToString() => Symbol;
}

/// <summary>A decoded fixed value.</summary>
public sealed record AvroFixed(FixedSchema Schema, byte[] Bytes);
