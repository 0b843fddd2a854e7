using Broker.Alerts.Avro;

namespace Broker.TestSupport;

/// <summary>Real alert containers changed for a test.</summary>
public static class AlertContainers
{
    /// <summary>A one-alert ZTF container re-encoded with its writer schema after <paramref name="change"/>.</summary>
    public static byte[] Reencoded(byte[] container, Action<AvroRecord> change)
    {
        var reader = AvroContainerReader.Open(container);
        var record = (AvroRecord)reader.Records().Single()!;
        change(record);
        using var ms = new MemoryStream();
        using (var w = new AvroContainerWriter(ms, reader.WriterSchema, leaveOpen: true)) w.Append(record);
        return ms.ToArray();
    }
}
