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

    // One growing buffer per thread: an alert is written into it and copied out once at its exact size, instead of
    // into a fresh writer that grows (copying) past 16 kB for every alert with cutouts.
    [ThreadStatic]
    private static AvroWriter? t_writer;

    /// <inheritdoc />
    public byte[] Encode(Alert value)
    {
        var w = t_writer ??= new AvroWriter(1 << 17);
        w.Reset();
        BrokerAlertCodec.Encode(value, w);
        byte[] bytes = w.ToArray();
        // Do not keep an outsized buffer alive on this thread after an unusually large alert.
        if (w.Length > 1 << 22) t_writer = null;
        return bytes;
    }

    /// <inheritdoc />
    public string? KeyOf(Alert value) => KeyFor(value.AlertId);

    /// <inheritdoc />
    public byte[]? KeyBytesOf(Alert value) => BrokerHeaders.Number(value.AlertId);

    /// <summary>The Kafka key of an alert id: its decimal digits in UTF-8.</summary>
    public static string KeyFor(long alertId) => alertId.ToString(CultureInfo.InvariantCulture);
}
