using System.Globalization;
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
    public byte[] Encode(Alert value) => BrokerAlertCodec.Encode(value);

    /// <inheritdoc />
    public string? KeyOf(Alert value) => KeyFor(value.AlertId);

    /// <summary>The Kafka key of an alert id: its decimal digits in UTF-8.</summary>
    public static string KeyFor(long alertId) => alertId.ToString(CultureInfo.InvariantCulture);
}
