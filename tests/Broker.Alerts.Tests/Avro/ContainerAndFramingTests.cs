using Broker.Alerts.Avro;
using Broker.Alerts.IO;

namespace Broker.Alerts.Tests.Avro;

public sealed class ContainerAndFramingTests
{
    private static readonly RecordSchema Schema = (RecordSchema)AvroSchema.Parse(
        """{"type":"record","name":"r","namespace":"t","fields":[{"name":"id","type":"long"},{"name":"x","type":["null","double"]},{"name":"tags","type":{"type":"map","values":"string"}}]}""");

    private static AvroRecord Make(long id) => new(Schema)
    {
        ["id"] = id,
        ["x"] = id % 3 == 0 ? null : id * 0.5,
        ["tags"] = new Dictionary<string, object?> { ["k"] = $"v{id}" },
    };

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    public void Container_files_round_trip_across_many_blocks_with_each_codec(string codec)
    {
        using var ms = new MemoryStream();
        using (var w = new AvroContainerWriter(ms, Schema, codec, blockBytes: 256, leaveOpen: true))
        {
            for (long i = 0; i < 1000; i++) w.Append(Make(i));
        }
        var reader = AvroContainerReader.Open(ms.ToArray());
        Assert.Equal(codec, reader.Codec);
        Assert.True(reader.Blocks().Count() > 10);
        var datums = reader.RawDatums().ToList();
        Assert.Equal(1000, datums.Count);
        Assert.True(datums[7].Span.SequenceEqual(AvroDatumWriter.For(Schema).ToBytes(Make(7))));
        var records = reader.Records().Cast<AvroRecord>().ToList();
        Assert.Equal(1000, records.Count);
        for (int i = 0; i < records.Count; i++) Assert.Equal(AvroJson.ToJson(Make(i)), AvroJson.ToJson(records[i]));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("deflate")]
    [InlineData("snappy")]
    public void A_given_sync_marker_gives_byte_identical_files_that_carry_it(string codec)
    {
        byte[] marker = [0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        byte[] Write()
        {
            using var ms = new MemoryStream();
            using (var w = new AvroContainerWriter(ms, Schema, codec, blockBytes: 256, leaveOpen: true, syncMarker: marker))
            {
                for (long i = 0; i < 100; i++) w.Append(Make(i));
            }
            return ms.ToArray();
        }
        var a = Write();
        Assert.Equal(a, Write());
        Assert.Equal(marker, a.AsSpan(a.Length - 16).ToArray());
        Assert.Equal(100, AvroContainerReader.Open(a).Records().Count());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    [InlineData(17)]
    public void A_sync_marker_that_is_not_16_bytes_is_refused(int length)
    {
        using var ms = new MemoryStream();
        var e = Assert.Throws<ArgumentException>(() => new AvroContainerWriter(ms, Schema, syncMarker: new byte[length]));
        Assert.Equal("syncMarker", e.ParamName);
    }

    [Fact]
    public void Without_a_sync_marker_each_file_gets_its_own()
    {
        byte[] Write()
        {
            using var ms = new MemoryStream();
            using (var w = new AvroContainerWriter(ms, Schema, leaveOpen: true)) w.Append(Make(1));
            return ms.ToArray();
        }
        Assert.NotEqual(Write(), Write());
    }

    [Fact]
    public void Containers_with_the_same_writer_schema_share_one_parsed_schema_and_one_compiled_decoder()
    {
        byte[] File1() { using var ms = new MemoryStream(); using (var w = new AvroContainerWriter(ms, Schema, leaveOpen: true)) w.Append(Make(1)); return ms.ToArray(); }
        var a = AvroContainerReader.Open(File1());
        var b = AvroContainerReader.Open(File1());
        Assert.Same(a.WriterSchema, b.WriterSchema);
        Assert.Same(AvroDatumReader.For(a.WriterSchema), AvroDatumReader.For(b.WriterSchema));
    }

    [Fact]
    public void A_corrupted_sync_marker_is_reported_as_a_corrupt_file()
    {
        using var ms = new MemoryStream();
        using (var w = new AvroContainerWriter(ms, Schema, leaveOpen: true)) w.Append(Make(1));
        var bytes = ms.ToArray();
        bytes[^1] ^= 0xff;
        var e = Assert.Throws<AvroDataException>(() => AvroContainerReader.Open(bytes).Records().ToList());
        Assert.Contains("sync marker", e.Message);
    }

    [Fact]
    public void Single_object_encoding_carries_the_schema_fingerprint_and_decodes_by_it()
    {
        var bytes = AvroSingleObject.Encode(Schema, Make(7));
        Assert.Equal(0xC3, bytes[0]);
        Assert.Equal(0x01, bytes[1]);
        Assert.Equal(Schema.Fingerprint, BitConverter.ToUInt64(bytes, 2));
        var back = AvroSingleObject.Decode(bytes, fp => fp == Schema.Fingerprint ? Schema : null);
        Assert.Equal(AvroJson.ToJson(Make(7)), AvroJson.ToJson(back));
        Assert.Throws<AvroDataException>(() => AvroSingleObject.Decode(bytes, _ => null));
    }

    [Fact]
    public void Confluent_framing_splits_schema_id_and_body()
    {
        var w = new AvroWriter();
        ConfluentWireFormat.WriteHeader(w, ConfluentWireFormat.RubinSchemaId(11, 1));
        AvroDatumWriter.For(Schema).Write(w, Make(3));
        Assert.True(ConfluentWireFormat.TryParse(w.WrittenSpan, out int id, out var body));
        Assert.Equal(1101, id);
        Assert.Equal(AvroJson.ToJson(Make(3)), AvroJson.ToJson(AvroDatumReader.For(Schema).Read(body)));
    }

    [Fact]
    public void Json_output_writes_non_finite_floats_as_strings_and_bytes_as_base64()
    {
        var s = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"n","fields":[{"name":"a","type":"float"},{"name":"b","type":"double"},{"name":"c","type":"double"},{"name":"d","type":"bytes"},{"name":"e","type":"double"}]}""");
        var r = new AvroRecord(s) { ["a"] = float.NaN, ["b"] = double.PositiveInfinity, ["c"] = double.NegativeInfinity, ["d"] = new byte[] { 1, 2, 3 }, ["e"] = 0.1 };
        Assert.Equal("""{"a":"NaN","b":"Infinity","c":"-Infinity","d":"AQID","e":0.1}""", AvroJson.ToJson(r));
    }

    [Fact]
    public void The_file_reader_names_an_empty_file()
    {
        var item = new AlertFileReader().ReadBytes("empty.avro", Array.Empty<byte>()).Single();
        Assert.Equal("empty file", item.Error);
    }
}
