using System.Buffers.Binary;

namespace Broker.Alerts.Avro;

/// <summary>
/// Confluent's wire format, used by Rubin's alert stream: byte 0 is the magic 0x00, bytes 1-4 the big-endian
/// schema registry id, then the Avro binary body without any header. Rubin's ids are major*100+minor of the
/// alert schema version (so 1100 is lsst.v11_0).
/// </summary>
public static class ConfluentWireFormat
{
    /// <summary>The magic byte.</summary>
    public const byte MagicByte = 0;

    /// <summary>Length of the framing prefix.</summary>
    public const int HeaderLength = 5;

    /// <summary>Splits a framed message into its schema id and body; false when the bytes are not framed.</summary>
    public static bool TryParse(ReadOnlySpan<byte> message, out int schemaId, out ReadOnlySpan<byte> body)
    {
        if (message.Length < HeaderLength || message[0] != MagicByte)
        {
            schemaId = 0;
            body = default;
            return false;
        }
        schemaId = BinaryPrimitives.ReadInt32BigEndian(message[1..5]);
        body = message[HeaderLength..];
        return true;
    }

    /// <summary>Writes the framing prefix for a schema id.</summary>
    public static void WriteHeader(AvroWriter output, int schemaId)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        header[0] = MagicByte;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], schemaId);
        output.WriteRaw(header);
    }

    /// <summary>Rubin's schema id for an alert schema version.</summary>
    public static int RubinSchemaId(int major, int minor) => major * 100 + minor;
}

/// <summary>
/// Avro single-object encoding (Avro 1.11 specification, "Single-object encoding"): the marker 0xC3 0x01, the
/// 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, then the body.
/// </summary>
public static class AvroSingleObject
{
    /// <summary>The two marker bytes.</summary>
    public static ReadOnlySpan<byte> Marker => [0xC3, 0x01];

    /// <summary>Length of the marker and fingerprint.</summary>
    public const int HeaderLength = 10;

    /// <summary>True when the bytes start with the single-object marker.</summary>
    public static bool IsSingleObject(ReadOnlySpan<byte> data) => data.Length >= HeaderLength && data.StartsWith(Marker);

    /// <summary>Encodes a value with its schema's fingerprint.</summary>
    public static byte[] Encode(AvroSchema schema, object? value)
    {
        var w = new AvroWriter();
        w.WriteRaw(Marker);
        Span<byte> fp = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(fp, schema.Fingerprint);
        w.WriteRaw(fp);
        AvroDatumWriter.For(schema).Write(w, value);
        return w.ToArray();
    }

    /// <summary>Splits a single-object message into the writer fingerprint and body.</summary>
    /// <exception cref="AvroDataException">The bytes do not start with the marker.</exception>
    public static (ulong Fingerprint, ReadOnlyMemory<byte> Body) Split(ReadOnlyMemory<byte> message)
    {
        if (!IsSingleObject(message.Span)) throw new AvroDataException("not an Avro single-object message (wrong marker; expected C3 01)");
        return (BinaryPrimitives.ReadUInt64LittleEndian(message.Span[2..10]), message[HeaderLength..]);
    }

    /// <summary>Decodes a single-object message, finding the writer schema by fingerprint.</summary>
    /// <exception cref="AvroDataException">Wrong marker, or no known schema has the fingerprint.</exception>
    public static object? Decode(ReadOnlyMemory<byte> message, Func<ulong, AvroSchema?> schemaByFingerprint, AvroSchema? readerSchema = null)
    {
        var (fp, body) = Split(message);
        var writer = schemaByFingerprint(fp) ?? throw new AvroDataException($"no known schema has fingerprint {fp:x16}");
        return AvroDatumReader.For(writer, readerSchema).Read(body.Span);
    }
}
