using System.Globalization;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;

namespace Broker.StepHost;

/// <summary>
/// Broker's own alert record (<c>schemas/broker/broker.alert.v1.avsc</c>) as a Kafka value: plain Avro binary,
/// no framing; the key is the alert id in decimal.
/// </summary>
public sealed class AlertMessageCodec : IMessageCodec<Alert>
{
    /// <summary>The shared instance.</summary>
    public static readonly AlertMessageCodec Instance = new();

    /// <inheritdoc />
    public Alert Decode(byte[] value) => BrokerAlertCodec.Decode(value);

    /// <inheritdoc />
    public byte[] Encode(Alert value)
    {
        // Written into the thread's reusable buffer and copied out once at its exact size.
        var w = AvroScratchWriter.Rent();
        try
        {
            BrokerAlertCodec.Encode(value, w);
            return w.ToArray();
        }
        finally
        {
            AvroScratchWriter.Return(w);
        }
    }

    /// <inheritdoc />
    public string? KeyOf(Alert value) => KeyFor(value.AlertId);

    /// <inheritdoc />
    public byte[]? KeyBytesOf(Alert value) => BrokerHeaders.Number(value.AlertId);

    /// <summary>The Kafka key of an alert id: its decimal digits in UTF-8.</summary>
    public static string KeyFor(long alertId) => alertId.ToString(CultureInfo.InvariantCulture);
}
