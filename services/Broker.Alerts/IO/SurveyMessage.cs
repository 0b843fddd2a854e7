using Broker.Alerts.Avro;
using Broker.Alerts.Model;

namespace Broker.Alerts.IO;

/// <summary>
/// The two ways surveys put an alert in a Kafka message: ZTF sends one Avro Object Container File per message
/// (writer schema in the header); Rubin sends Confluent's wire format (magic byte, 4-byte schema id, Avro body).
/// </summary>
public static class SurveyMessage
{
    /// <summary>Decodes the survey record of one message.</summary>
    /// <param name="message">The message's bytes.</param>
    /// <param name="registry">Resolves Confluent schema ids; null refuses Confluent-framed messages.</param>
    /// <param name="limits">What the message may cost (default <see cref="AlertLimits.Default"/>).</param>
    /// <exception cref="FormatException">
    /// Neither framing, an unknown schema, more or fewer than one record, corrupt Avro or an embedded schema that is not
    /// valid (the message says which), or a message over <paramref name="limits"/>. Damaged bytes raise nothing else.
    /// </exception>
    public static AvroRecord Decode(ReadOnlyMemory<byte> message, ISchemaRegistry? registry, AlertLimits? limits = null)
    {
        limits ??= AlertLimits.Default;
        if (message.Length == 0) throw new FormatException("empty message");
        if (message.Length > limits.MaxMessageBytes)
            throw new FormatException($"the message is {AlertLimits.Describe(message.Length)}, more than the {AlertLimits.Describe(limits.MaxMessageBytes)} one message may be");
        if (AvroContainerReader.IsContainer(message.Span))
        {
            var container = AvroContainerReader.Open(message, limits.MaxInflatedBytes);
            AvroRecord? record = null;
            int n = 0;
            foreach (var value in container.Records())
            {
                n++;
                record ??= value as AvroRecord ?? throw new FormatException($"container holds a {container.WriterSchema.GetType().Name}, not an alert record");
            }
            if (n != 1) throw new FormatException($"Avro container holds {n} records; a ZTF-style message holds exactly one alert");
            return record!;
        }
        if (ConfluentWireFormat.TryParse(message.Span, out int schemaId, out var body))
        {
            if (registry is null) throw new FormatException($"Confluent-framed message (schema id {schemaId}) but no schema registry is configured (Ingest:SchemaFolder or Ingest:SchemaRegistryUrl)");
            AvroSchema writer;
            try
            {
                writer = registry.GetSchema(schemaId);
            }
            catch (SchemaNotFoundException ex)
            {
                throw new FormatException($"unknown schema id {schemaId}: {ex.Message}", ex);
            }
            var reader = new AvroReader(body);
            var value = AvroDatumReader.For(writer).Read(ref reader);
            if (!reader.End) throw new FormatException($"{reader.Remaining} bytes left over after the record (schema id {schemaId}): wrong schema or corrupt message");
            return value as AvroRecord ?? throw new FormatException($"schema id {schemaId} is not a record schema");
        }
        if (Gzip.IsGzip(message.Span) || AlertFiles.IsTar(message.Span)) throw new FormatException(PackedProblem(message, limits));
        throw new FormatException($"neither an Avro container (ZTF) nor Confluent-framed (Rubin): first bytes {Convert.ToHexString(message.Span[..Math.Min(4, message.Length)])}");
    }

    /// <summary>
    /// Why a gzip or tar message is not an alert, with the real cause when it is damaged (a corrupt or bomb gzip, a
    /// tar cut short), rather than its first bytes: what <see cref="AlertFiles.Unpack"/> says of it (within the limits).
    /// </summary>
    private static string PackedProblem(ReadOnlyMemory<byte> message, AlertLimits limits)
    {
        string what = Gzip.IsGzip(message.Span) ? "a gzip-compressed file" : "a tar archive";
        int parts = 0;
        foreach (var raw in AlertFiles.Unpack("message", message, limits))
        {
            if (raw.Error is not null) return $"{what} that cannot be unpacked: {raw.Error}";
            parts++;
        }
        return $"{what} holding {parts} file(s), not one alert: a survey message is one uncompressed Avro container or Confluent-framed alert";
    }

    /// <summary>The Kafka key for a message: its alert id as <see cref="BrokerAlertCodec.KeyFor"/> writes it, or null when it cannot be decoded.</summary>
    public static string? TryKey(ReadOnlyMemory<byte> message, ISchemaRegistry? registry, AlertLimits? limits = null) =>
        TryKey(message, registry, limits, out _);

    /// <summary>Why a message cannot be decoded to an alert id (what <see cref="Decode"/> or the mapper says), or null when it can.</summary>
    public static string? Problem(ReadOnlyMemory<byte> message, ISchemaRegistry? registry, AlertLimits? limits = null)
    {
        TryKey(message, registry, limits, out string? problem);
        return problem;
    }

    private static string? TryKey(ReadOnlyMemory<byte> message, ISchemaRegistry? registry, AlertLimits? limits, out string? problem)
    {
        try
        {
            problem = null;
            return BrokerAlertCodec.KeyFor(SurveyAlertMapper.AlertIdOf(Decode(message, registry, limits)));
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
            // FormatException covers undecodable Avro, invalid schemas, unknown schemas and a record without an alert
            // id; IOException a registry that cannot be read.
            problem = ex.Message;
            return null;
        }
    }
}
