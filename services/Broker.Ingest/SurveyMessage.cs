using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.StepHost;

namespace Broker.Ingest;

/// <summary>
/// The two ways surveys put an alert in a Kafka message: ZTF sends one Avro Object Container File per message
/// (writer schema in the header); Rubin sends Confluent's wire format (magic byte, 4-byte schema id, Avro body).
/// </summary>
public static class SurveyMessage
{
    /// <summary>Decodes the survey record of one message.</summary>
    /// <exception cref="FormatException">Neither framing, an unknown schema, more or fewer than one record, or corrupt Avro (the message says which).</exception>
    public static AvroRecord Decode(ReadOnlyMemory<byte> message, ISchemaRegistry? registry)
    {
        if (message.Length == 0) throw new FormatException("empty message");
        if (AvroContainerReader.IsContainer(message.Span))
        {
            var container = AvroContainerReader.Open(message);
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
        throw new FormatException($"neither an Avro container (ZTF) nor Confluent-framed (Rubin): first bytes {Convert.ToHexString(message.Span[..Math.Min(4, message.Length)])}");
    }

    /// <summary>The Kafka key for a message: its alert id as <see cref="AlertMessageCodec.KeyFor"/> writes it, or null when it cannot be decoded.</summary>
    public static string? TryKey(ReadOnlyMemory<byte> message, ISchemaRegistry? registry)
    {
        try
        {
            return AlertMessageCodec.KeyFor(SurveyAlertMapper.AlertIdOf(Decode(message, registry)));
        }
        catch (Exception ex) when (ex is FormatException or IOException)
        {
            // FormatException covers undecodable Avro, unknown schemas and a record without an alert id.
            return null;
        }
    }
}
