using System.Text.Json;

namespace Broker.Alerts.Avro;

/// <summary>The Avro type of a schema node (Avro 1.11 specification, "Schema Declaration").</summary>
public enum AvroType
{
    Null, Boolean, Int, Long, Float, Double, Bytes, String,
    Record, Enum, Array, Map, Union, Fixed,
}

/// <summary>
/// A parsed Avro schema node. Instances are immutable once parsing finishes and may be shared across threads.
/// </summary>
public abstract class AvroSchema
{
    private string? _canonicalForm;
    private ulong? _fingerprint;
    private byte[]? _jsonUtf8;

    private protected AvroSchema(AvroType type) => Type = type;

    /// <summary>The Avro type of this node.</summary>
    public AvroType Type { get; }

    /// <summary>The <c>logicalType</c> attribute, when present (for example <c>timestamp-micros</c>).</summary>
    public string? LogicalType { get; init; }

    /// <summary>Attributes other than the ones the specification defines, kept for round trips.</summary>
    public IReadOnlyDictionary<string, JsonElement> Properties { get; init; } = EmptyProperties;

    internal static readonly IReadOnlyDictionary<string, JsonElement> EmptyProperties = new Dictionary<string, JsonElement>();

    /// <summary>True for the eight primitive types.</summary>
    public bool IsPrimitive => Type <= AvroType.String;

    /// <summary>The Parsing Canonical Form of this schema (Avro 1.11 specification, "Parsing Canonical Form for Schemas").</summary>
    public string CanonicalForm => _canonicalForm ??= AvroCanonicalForm.Write(this);

    /// <summary>The CRC-64-AVRO fingerprint of <see cref="CanonicalForm"/> (Avro 1.11 specification, "Schema Fingerprints").</summary>
    public ulong Fingerprint => _fingerprint ??= AvroFingerprint.Crc64(System.Text.Encoding.UTF8.GetBytes(CanonicalForm));

    /// <summary>
    /// <see cref="AvroSchemaJson.Write"/> as UTF-8, made once: container files carry it in every header, and
    /// ZTF-style streams write one file per alert.
    /// </summary>
    internal ReadOnlySpan<byte> JsonUtf8 => _jsonUtf8 ??= System.Text.Encoding.UTF8.GetBytes(AvroSchemaJson.Write(this));

    /// <summary>A short human-readable name: the full name for named types, the type name otherwise.</summary>
    public virtual string DisplayName => Type.ToString().ToLowerInvariant();

    /// <summary>Parses a schema from JSON text. Named types it refers to must be defined in the text or in <paramref name="names"/>.</summary>
    public static AvroSchema Parse(string json, AvroSchemaNames? names = null) => AvroSchemaParser.Parse(json, names ?? new AvroSchemaNames());

    /// <inheritdoc />
    public override string ToString() => AvroSchemaJson.Write(this);
}

/// <summary>One of the eight primitive types.</summary>
public sealed class PrimitiveSchema : AvroSchema
{
    private static readonly PrimitiveSchema[] Shared =
    [
        new(AvroType.Null), new(AvroType.Boolean), new(AvroType.Int), new(AvroType.Long),
        new(AvroType.Float), new(AvroType.Double), new(AvroType.Bytes), new(AvroType.String),
    ];

    internal PrimitiveSchema(AvroType type) : base(type)
    {
        if (type > AvroType.String) throw new ArgumentOutOfRangeException(nameof(type));
    }

    /// <summary>The shared instance of a primitive type without attributes.</summary>
    public static PrimitiveSchema Of(AvroType type) => Shared[(int)type];

    /// <summary>The shared <c>"null"</c> schema.</summary>
    public static PrimitiveSchema Null => Shared[0];
}

/// <summary>Records, enums and fixed types: they have a full name, may have aliases, and may be referred to by name.</summary>
public abstract class NamedSchema : AvroSchema
{
    private protected NamedSchema(AvroType type, string name, string? space) : base(type)
    {
        Name = name;
        Namespace = string.IsNullOrEmpty(space) ? null : space;
        FullName = Namespace is null ? name : Namespace + "." + name;
    }

    /// <summary>The unqualified name.</summary>
    public string Name { get; }

    /// <summary>The namespace, null for the null namespace.</summary>
    public string? Namespace { get; }

    /// <summary>The full name (namespace and name joined by a dot).</summary>
    public string FullName { get; }

    /// <summary>Aliases as full names (an alias without a dot takes this type's namespace).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The <c>doc</c> attribute.</summary>
    public string? Doc { get; init; }

    /// <inheritdoc />
    public override string DisplayName => FullName;

    /// <summary>True when <paramref name="other"/> names this type by full name, unqualified name, or one of this type's aliases.</summary>
    public bool Matches(NamedSchema other) =>
        FullName == other.FullName || Aliases.Contains(other.FullName) || other.Aliases.Contains(FullName);
}

/// <summary>The sort order attribute of a record field.</summary>
public enum AvroFieldOrder { Ascending, Descending, Ignore }

/// <summary>A field of a record schema.</summary>
public sealed class AvroField
{
    /// <summary>Creates a field.</summary>
    public AvroField(string name, AvroSchema schema, int position)
    {
        Name = name;
        Schema = schema;
        Position = position;
    }

    /// <summary>The field name.</summary>
    public string Name { get; }

    /// <summary>The field's schema.</summary>
    public AvroSchema Schema { get; internal set; }

    /// <summary>Zero-based position in the record.</summary>
    public int Position { get; }

    /// <summary>The default value as JSON, used when a writer lacks this field (schema resolution).</summary>
    public JsonElement? Default { get; init; }

    /// <summary>Alternative names a writer may have used for this field.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The <c>doc</c> attribute.</summary>
    public string? Doc { get; init; }

    /// <summary>The <c>order</c> attribute.</summary>
    public AvroFieldOrder Order { get; init; }

    /// <summary>Attributes other than the defined ones.</summary>
    public IReadOnlyDictionary<string, JsonElement> Properties { get; init; } = AvroSchema.EmptyProperties;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Schema.DisplayName}";
}

/// <summary>A record type.</summary>
public sealed class RecordSchema : NamedSchema
{
    private AvroField[] _fields = [];
    private Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>Creates a record; fields are set once parsing of the (possibly recursive) body completes.</summary>
    public RecordSchema(string name, string? space, bool isError = false) : base(AvroType.Record, name, space) => IsError = isError;

    /// <summary>True for the <c>error</c> variant of records (protocols only).</summary>
    public bool IsError { get; }

    /// <summary>The fields in declaration order.</summary>
    public IReadOnlyList<AvroField> Fields => _fields;

    /// <summary>Sets the fields (once, during parsing or construction).</summary>
    public void SetFields(IReadOnlyList<AvroField> fields)
    {
        var index = new Dictionary<string, int>(fields.Count, StringComparer.Ordinal);
        for (int i = 0; i < fields.Count; i++)
        {
            if (!index.TryAdd(fields[i].Name, i))
                throw new AvroSchemaException($"record {FullName} declares field '{fields[i].Name}' twice");
        }
        _fields = [.. fields];
        _index = index;
    }

    /// <summary>The position of a field by name, or -1.</summary>
    public int IndexOf(string fieldName) => _index.TryGetValue(fieldName, out int i) ? i : -1;

    /// <summary>A field by name, or null.</summary>
    public AvroField? GetField(string fieldName) => _index.TryGetValue(fieldName, out int i) ? _fields[i] : null;
}

/// <summary>An enum type.</summary>
public sealed class EnumSchema : NamedSchema
{
    private readonly Dictionary<string, int> _index;

    /// <summary>Creates an enum.</summary>
    public EnumSchema(string name, string? space, IReadOnlyList<string> symbols, string? defaultSymbol) : base(AvroType.Enum, name, space)
    {
        Symbols = symbols;
        DefaultSymbol = defaultSymbol;
        _index = new Dictionary<string, int>(symbols.Count, StringComparer.Ordinal);
        for (int i = 0; i < symbols.Count; i++)
        {
            if (!_index.TryAdd(symbols[i], i)) throw new AvroSchemaException($"enum {FullName} declares symbol '{symbols[i]}' twice");
        }
        if (defaultSymbol is not null && !_index.ContainsKey(defaultSymbol))
            throw new AvroSchemaException($"enum {FullName} default '{defaultSymbol}' is not one of its symbols");
    }

    /// <summary>The symbols in order.</summary>
    public IReadOnlyList<string> Symbols { get; }

    /// <summary>The symbol a reader uses for a writer symbol it does not know (Avro 1.9+).</summary>
    public string? DefaultSymbol { get; }

    /// <summary>The index of a symbol, or -1.</summary>
    public int IndexOf(string symbol) => _index.TryGetValue(symbol, out int i) ? i : -1;
}

/// <summary>A fixed-size byte type.</summary>
public sealed class FixedSchema : NamedSchema
{
    /// <summary>Creates a fixed type.</summary>
    public FixedSchema(string name, string? space, int size) : base(AvroType.Fixed, name, space)
    {
        if (size < 0) throw new AvroSchemaException($"fixed {FullName} has a negative size");
        Size = size;
    }

    /// <summary>The number of bytes.</summary>
    public int Size { get; }
}

/// <summary>An array type.</summary>
public sealed class ArraySchema(AvroSchema items) : AvroSchema(AvroType.Array)
{
    /// <summary>The item schema.</summary>
    public AvroSchema Items { get; } = items;

    /// <inheritdoc />
    public override string DisplayName => $"array<{Items.DisplayName}>";
}

/// <summary>A map type (keys are strings).</summary>
public sealed class MapSchema(AvroSchema values) : AvroSchema(AvroType.Map)
{
    /// <summary>The value schema.</summary>
    public AvroSchema Values { get; } = values;

    /// <inheritdoc />
    public override string DisplayName => $"map<{Values.DisplayName}>";
}

/// <summary>A union type.</summary>
public sealed class UnionSchema : AvroSchema
{
    /// <summary>Creates a union, checking the specification's rules: no nested unions, no two branches of the same unnamed type or the same name.</summary>
    public UnionSchema(IReadOnlyList<AvroSchema> branches) : base(AvroType.Union)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        NullIndex = -1;
        for (int i = 0; i < branches.Count; i++)
        {
            var b = branches[i];
            if (b.Type == AvroType.Union) throw new AvroSchemaException("a union may not immediately contain another union");
            string key = b is NamedSchema n ? n.FullName : b.Type.ToString();
            if (!seen.Add(key)) throw new AvroSchemaException($"union contains '{key}' twice");
            if (b.Type == AvroType.Null) NullIndex = i;
        }
        Branches = branches;
    }

    /// <summary>The branches in order.</summary>
    public IReadOnlyList<AvroSchema> Branches { get; }

    /// <summary>The index of the null branch, or -1.</summary>
    public int NullIndex { get; }

    /// <summary>For the common optional pattern (<c>["null", T]</c> or <c>[T, "null"]</c>), T; otherwise null.</summary>
    public AvroSchema? OptionalOf => Branches.Count == 2 && NullIndex >= 0 ? Branches[1 - NullIndex] : null;

    /// <inheritdoc />
    public override string DisplayName => "[" + string.Join(",", Branches.Select(b => b.DisplayName)) + "]";
}

/// <summary>A schema is not valid Avro, or refers to a name that is not defined.</summary>
public sealed class AvroSchemaException(string message, Exception? inner = null) : FormatException(message, inner);
