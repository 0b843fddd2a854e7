using Broker.Alerts.Avro;
using Broker.Alerts.IO;

namespace Broker.Benchmarks;

/// <summary>The real sample alerts from ../shared/data, loaded once into memory as (writer schema, datum bytes).</summary>
internal static class SampleAlerts
{
    public static string DataRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("BROKER_SHARED_DATA");
            if (!string.IsNullOrEmpty(env)) return env;
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException("shared/data not found; set BROKER_SHARED_DATA");
        }
    }

    public static List<(AvroSchema Writer, byte[] Datum)> Load()
    {
        var reader = new AlertFileReader(new FolderSchemaRegistry(Path.Combine(DataRoot, "lsst", "schema")));
        return reader.Read([Path.Combine(DataRoot, "ztf", "alerts"), Path.Combine(DataRoot, "lsst", "alerts")])
            .Where(i => i.Ok)
            .Select(i => (i.WriterSchema!, i.Datum.ToArray()))
            .ToList();
    }
}
