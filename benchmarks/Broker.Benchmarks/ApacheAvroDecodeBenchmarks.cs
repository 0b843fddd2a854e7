using Avro.File;
using Avro.Generic;
using Avro.IO;
using BenchmarkDotNet.Attributes;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.TestSupport;
using ApacheSchema = Avro.Schema;

namespace Broker.Benchmarks;

/// <summary>
/// Broker's Avro codec against Apache.Avro 1.12.2 (what a .NET subscriber would use) on the same bytes: the 627
/// real ZTF records in shared/data, each decoded with its writer schema to a generic record. Each library gets one
/// reader per distinct writer schema, built in setup, as a consumer caches it per schema id. One operation = one
/// alert, so the time is per alert and the Ratio column is Apache.Avro's time over Broker's.
/// </summary>
[MemoryDiagnoser]
public class ApacheAvroDecodeBenchmarks
{
    private const int Records = 627;

    private byte[][] _datums = [];
    private AvroDatumReader[] _ours = [];
    private GenericDatumReader<GenericRecord>[] _theirs = [];

    [GlobalSetup]
    public void Setup()
    {
        var datums = new List<byte[]>();
        var ours = new List<AvroDatumReader>();
        var theirs = new List<GenericDatumReader<GenericRecord>>();
        var oursBySchema = new Dictionary<string, AvroDatumReader>(StringComparer.Ordinal);
        var theirsBySchema = new Dictionary<string, GenericDatumReader<GenericRecord>>(StringComparer.Ordinal);
        foreach (var raw in AlertFiles.Read([SharedData.Path("ztf/alerts")]))
        {
            var container = AvroContainerReader.Open(raw.Bytes);
            // Key both caches by the header's schema text, the bytes each library parses.
            string text = System.Text.Encoding.UTF8.GetString(container.Metadata["avro.schema"]);
            if (!oursBySchema.TryGetValue(text, out var our)) oursBySchema[text] = our = AvroDatumReader.For(container.WriterSchema);
            if (!theirsBySchema.TryGetValue(text, out var their))
            {
                using var file = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(raw.Bytes.ToArray()));
                ApacheSchema writer = file.GetSchema();
                theirsBySchema[text] = their = new GenericDatumReader<GenericRecord>(writer, writer);
            }
            foreach (var datum in container.RawDatums())
            {
                datums.Add(datum.ToArray());
                ours.Add(our);
                theirs.Add(their);
            }
        }
        if (datums.Count != Records) throw new InvalidOperationException($"expected {Records} ZTF records in shared/data, found {datums.Count}");
        (_datums, _ours, _theirs) = (datums.ToArray(), ours.ToArray(), theirs.ToArray());
        Console.WriteLine($"// {_datums.Length} ZTF records, {oursBySchema.Count} writer schemas, mean datum {_datums.Average(d => d.Length):F0} bytes");
    }

    [Benchmark(Baseline = true, Description = "Broker codec: decode to AvroRecord", OperationsPerInvoke = Records)]
    public int Broker()
    {
        int fields = 0;
        for (int i = 0; i < _datums.Length; i++) fields += ((AvroRecord)_ours[i].Read(_datums[i])!).Values.Length;
        return fields;
    }

    [Benchmark(Description = "Apache.Avro 1.12.2: decode to GenericRecord", OperationsPerInvoke = Records)]
    public int ApacheAvro()
    {
        int fields = 0;
        for (int i = 0; i < _datums.Length; i++)
            fields += _theirs[i].Read(null!, new BinaryDecoder(new MemoryStream(_datums[i], writable: false))).Schema.Count;
        return fields;
    }
}
