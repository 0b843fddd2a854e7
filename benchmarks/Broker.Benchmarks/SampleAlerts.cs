using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// The real sample alerts from ../shared/data (found as the tests find it, <see cref="SharedData"/>, so
/// <c>BROKER_SHARED_DATA</c> works here too), loaded once into memory as (writer schema, datum bytes).
/// </summary>
internal static class SampleAlerts
{
    public static List<(AvroSchema Writer, byte[] Datum)> Load()
    {
        var reader = new AlertFileReader(new FolderSchemaRegistry(SharedData.Path("lsst/schema")));
        return reader.Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")])
            .Where(i => i.Ok)
            .Select(i => (i.WriterSchema!, i.Datum.ToArray()))
            .ToList();
    }
}
