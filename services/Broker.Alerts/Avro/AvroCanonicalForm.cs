using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Broker.Alerts.Avro;

/// <summary>
/// Writes schemas as JSON: the Parsing Canonical Form (Avro 1.11 specification, "Parsing Canonical Form for Schemas":
/// rules PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS, INTEGERS, WHITESPACE) and the full form that keeps every
/// attribute (for container file headers and registries).
/// </summary>
internal static class AvroCanonicalForm
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    public static string Write(AvroSchema schema) => Write(schema, canonical: true);

    public static string Write(AvroSchema schema, bool canonical)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            WriteNode(w, schema, canonical, new HashSet<string>(StringComparer.Ordinal), enclosingNamespace: null);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void WriteNode(Utf8JsonWriter w, AvroSchema s, bool canonical, HashSet<string> written, string? enclosingNamespace)
    {
        switch (s)
        {
            case PrimitiveSchema p:
                if (canonical || (p.LogicalType is null && p.Properties.Count == 0))
                {
                    w.WriteStringValue(TypeName(p.Type));
                    return;
                }
                w.WriteStartObject();
                w.WriteString("type", TypeName(p.Type));
                WriteExtras(w, p);
                w.WriteEndObject();
                return;
            case NamedSchema n when !written.Add(n.FullName):
                // A named type already written is referred to by name.
                w.WriteStringValue(canonical || n.Namespace != enclosingNamespace ? n.FullName : n.Name);
                return;
            case RecordSchema r:
                w.WriteStartObject();
                WriteName(w, r, canonical, enclosingNamespace);
                w.WriteString("type", canonical ? "record" : r.IsError ? "error" : "record");
                if (!canonical) WriteNamedExtras(w, r);
                w.WritePropertyName("fields");
                w.WriteStartArray();
                foreach (var f in r.Fields)
                {
                    w.WriteStartObject();
                    w.WriteString("name", f.Name);
                    w.WritePropertyName("type");
                    WriteNode(w, f.Schema, canonical, written, r.Namespace);
                    if (!canonical)
                    {
                        if (f.Doc is not null) w.WriteString("doc", f.Doc);
                        if (f.Default is { } d) { w.WritePropertyName("default"); d.WriteTo(w); }
                        if (f.Order != AvroFieldOrder.Ascending) w.WriteString("order", f.Order == AvroFieldOrder.Descending ? "descending" : "ignore");
                        if (f.Aliases.Count > 0) WriteStrings(w, "aliases", f.Aliases);
                        foreach (var (k, v) in f.Properties) { w.WritePropertyName(k); v.WriteTo(w); }
                    }
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                return;
            case EnumSchema e:
                w.WriteStartObject();
                WriteName(w, e, canonical, enclosingNamespace);
                w.WriteString("type", "enum");
                WriteStrings(w, "symbols", e.Symbols);
                if (!canonical)
                {
                    if (e.DefaultSymbol is not null) w.WriteString("default", e.DefaultSymbol);
                    WriteNamedExtras(w, e);
                }
                w.WriteEndObject();
                return;
            case FixedSchema x:
                w.WriteStartObject();
                WriteName(w, x, canonical, enclosingNamespace);
                w.WriteString("type", "fixed");
                w.WriteNumber("size", x.Size);
                if (!canonical) WriteNamedExtras(w, x);
                w.WriteEndObject();
                return;
            case ArraySchema a:
                w.WriteStartObject();
                w.WriteString("type", "array");
                w.WritePropertyName("items");
                WriteNode(w, a.Items, canonical, written, enclosingNamespace);
                if (!canonical) WriteExtras(w, a);
                w.WriteEndObject();
                return;
            case MapSchema m:
                w.WriteStartObject();
                w.WriteString("type", "map");
                w.WritePropertyName("values");
                WriteNode(w, m.Values, canonical, written, enclosingNamespace);
                if (!canonical) WriteExtras(w, m);
                w.WriteEndObject();
                return;
            case UnionSchema u:
                w.WriteStartArray();
                foreach (var b in u.Branches) WriteNode(w, b, canonical, written, enclosingNamespace);
                w.WriteEndArray();
                return;
            default:
                throw new InvalidOperationException($"unexpected schema node {s.GetType().Name}");
        }
    }

    private static void WriteName(Utf8JsonWriter w, NamedSchema n, bool canonical, string? enclosingNamespace)
    {
        if (canonical) { w.WriteString("name", n.FullName); return; }
        w.WriteString("name", n.Name);
        if (n.Namespace != enclosingNamespace) w.WriteString("namespace", n.Namespace ?? "");
    }

    private static void WriteNamedExtras(Utf8JsonWriter w, NamedSchema n)
    {
        if (n.Doc is not null) w.WriteString("doc", n.Doc);
        if (n.Aliases.Count > 0) WriteStrings(w, "aliases", n.Aliases);
        WriteExtras(w, n);
    }

    private static void WriteExtras(Utf8JsonWriter w, AvroSchema s)
    {
        if (s.LogicalType is not null) w.WriteString("logicalType", s.LogicalType);
        foreach (var (k, v) in s.Properties) { w.WritePropertyName(k); v.WriteTo(w); }
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    internal static string TypeName(AvroType t) => t switch
    {
        AvroType.Null => "null",
        AvroType.Boolean => "boolean",
        AvroType.Int => "int",
        AvroType.Long => "long",
        AvroType.Float => "float",
        AvroType.Double => "double",
        AvroType.Bytes => "bytes",
        AvroType.String => "string",
        AvroType.Record => "record",
        AvroType.Enum => "enum",
        AvroType.Array => "array",
        AvroType.Map => "map",
        AvroType.Union => "union",
        AvroType.Fixed => "fixed",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}

/// <summary>Writes a schema as full JSON, keeping docs, defaults, aliases and custom attributes.</summary>
public static class AvroSchemaJson
{
    /// <summary>The schema as compact JSON with every attribute kept.</summary>
    public static string Write(AvroSchema schema) => AvroCanonicalForm.Write(schema, canonical: false);
}

/// <summary>
/// The CRC-64-AVRO fingerprint (Avro 1.11 specification, "Schema Fingerprints"): a Rabin fingerprint with the
/// empty value 0xc15d213aa4d7a795, used by single-object encoding.
/// </summary>
public static class AvroFingerprint
{
    private const ulong Empty = 0xc15d213aa4d7a795UL;
    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        var table = new ulong[256];
        for (int i = 0; i < 256; i++)
        {
            ulong fp = (ulong)i;
            for (int j = 0; j < 8; j++) fp = (fp >> 1) ^ (Empty & (0UL - (fp & 1)));
            table[i] = fp;
        }
        return table;
    }

    /// <summary>The CRC-64-AVRO of the bytes (for a schema: of its Parsing Canonical Form in UTF-8).</summary>
    public static ulong Crc64(ReadOnlySpan<byte> data)
    {
        ulong fp = Empty;
        foreach (byte b in data) fp = (fp >> 8) ^ Table[(int)((fp ^ b) & 0xff)];
        return fp;
    }
}
