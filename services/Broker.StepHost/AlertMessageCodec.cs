using Broker.Alerts.Model;

namespace Broker.StepHost;

/// <summary>
/// Broker's alert record as a Kafka value, for the host: a thin adapter of <see cref="BrokerAlertCodec"/> (in
/// Broker.Alerts: the schema versions, plain Avro binary without framing, the key as the alert id's decimal digits)
/// to the host's <see cref="IMessageCodec{T}"/>. The domain codec lives with the alert, and Broker.Alerts does not
/// reference the host, so the interface stays here and this class holds no logic of its own (issue 10, item 8).
/// </summary>
public sealed class AlertMessageCodec : IMessageCodec<Alert>
{
    /// <summary>The shared instance.</summary>
    public static readonly AlertMessageCodec Instance = new();

    /// <inheritdoc />
    /// <remarks>Any broker alert schema version this build knows, told from the value's first field.</remarks>
    public Alert Decode(byte[] value) => BrokerAlertCodec.Decode(value);

    /// <inheritdoc />
    /// <remarks>Written with the current schema into the thread's reusable buffer and copied out once at its exact size.</remarks>
    public byte[] Encode(Alert value) => BrokerAlertCodec.Encode(value);

    /// <inheritdoc />
    public string? KeyOf(Alert value) => BrokerAlertCodec.KeyFor(value.AlertId);

    /// <inheritdoc />
    public byte[]? KeyBytesOf(Alert value) => BrokerAlertCodec.KeyBytesFor(value.AlertId);

    /// <summary>The Kafka key of an alert id: its decimal digits in UTF-8 (<see cref="BrokerAlertCodec.KeyFor"/>).</summary>
    public static string KeyFor(long alertId) => BrokerAlertCodec.KeyFor(alertId);
}
