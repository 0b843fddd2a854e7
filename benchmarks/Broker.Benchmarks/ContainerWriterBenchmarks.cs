using BenchmarkDotNet.Attributes;
using Broker.Alerts.Avro;

namespace Broker.Benchmarks;

/// <summary>
/// <c>broker run</c>'s output file: <see cref="AvroContainerWriter"/> with each codec over 64 MiB of datums shaped like
/// Broker alert records, mostly their three gzipped cutouts (incompressible: random bytes here) and a few hundred
/// bytes of fields that compress. One operation = one 64 MiB file written to a null stream, so the codec's cost per
/// byte is the time over 64 MiB; a ZTF alert with its stamps is some 53 KB.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*ContainerWriter*'</c></remarks>
[MemoryDiagnoser]
public class ContainerWriterBenchmarks
{
    private const int DatumBytes = 53_000;
    private const int Datums = (64 << 20) / DatumBytes;
    private static readonly AvroSchema Schema = AvroSchema.Parse("""{"type":"record","name":"a","fields":[{"name":"id","type":"long"},{"name":"body","type":"bytes"}]}""");
    private byte[][] _encoded = [];

    /// <summary>The container codec.</summary>
    [Params("null", "deflate", "snappy")]
    public string Codec { get; set; } = "null";

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(16);
        var writer = AvroDatumWriter.For(Schema);
        _encoded = new byte[Datums][];
        for (int i = 0; i < Datums; i++)
        {
            var body = new byte[DatumBytes];
            rng.NextBytes(body.AsSpan(0, DatumBytes - 600));
            // The fields part: repetitive text, as JSON-like names and numbers are.
            for (int j = DatumBytes - 600; j < DatumBytes; j++) body[j] = (byte)('a' + j % 7);
            _encoded[i] = writer.ToBytes(new AvroRecord((RecordSchema)Schema) { ["id"] = (long)i, ["body"] = body });
        }
    }

    /// <summary>Writes the file.</summary>
    [Benchmark]
    public void Write()
    {
        using var w = new AvroContainerWriter(Stream.Null, Schema, Codec);
        foreach (var datum in _encoded) w.AppendEncoded(datum);
    }
}
