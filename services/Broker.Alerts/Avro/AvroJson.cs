using System.Buffers;
using System.Collections;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Broker.Alerts.Avro;

/// <summary>
/// Writes generic Avro values as JSON for people and for comparison with other Avro implementations: records as
/// objects in field order, a union as the bare value of its branch, bytes and fixed as base64, enums as their
/// symbol, floats with the shortest text that round-trips, and NaN and infinities as the strings "NaN",
/// "Infinity" and "-Infinity" (JSON has no literal for them).
/// </summary>
public static class AvroJson
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private static readonly JsonWriterOptions Pretty = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true, Indented = true };

    /// <summary>The value as a JSON string.</summary>
    public static string ToJson(object? value, AvroSchema? schema = null, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var w = new Utf8JsonWriter(buffer, indented ? Pretty : Compact)) Write(w, value, schema);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the value. The schema, when given, tells floats from doubles; without it the runtime type does.</summary>
    public static void Write(Utf8JsonWriter w, object? value, AvroSchema? schema = null)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); return;
            case bool b: w.WriteBooleanValue(b); return;
            case int i: w.WriteNumberValue(i); return;
            case long l: w.WriteNumberValue(l); return;
            case float f:
                if (float.IsFinite(f)) w.WriteNumberValue(f);
                else w.WriteStringValue(NonFinite(f));
                return;
            case double d:
                if (double.IsFinite(d)) w.WriteNumberValue(d);
                else w.WriteStringValue(NonFinite(d));
                return;
            case string s: w.WriteStringValue(s); return;
            case byte[] bytes: w.WriteBase64StringValue(bytes); return;
            case AvroFixed x: w.WriteBase64StringValue(x.Bytes); return;
            case AvroEnumValue e: w.WriteStringValue(e.Symbol); return;
            case AvroRecord r:
                w.WriteStartObject();
                var fields = r.Schema.Fields;
                for (int i = 0; i < fields.Count; i++)
                {
                    w.WritePropertyName(fields[i].Name);
                    Write(w, r.Values[i], fields[i].Schema);
                }
                w.WriteEndObject();
                return;
            case IDictionary map:
                w.WriteStartObject();
                foreach (DictionaryEntry kv in map)
                {
                    w.WritePropertyName((string)kv.Key);
                    Write(w, kv.Value, (schema as MapSchema)?.Values);
                }
                w.WriteEndObject();
                return;
            case IList list:
                w.WriteStartArray();
                for (int i = 0; i < list.Count; i++) Write(w, list[i], (schema as ArraySchema)?.Items);
                w.WriteEndArray();
                return;
            default:
                throw new ArgumentException($"{value.GetType().Name} is not a generic Avro value");
        }
    }

    private static string NonFinite(double d) => double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
}
