using Broker.Alerts.Avro;

namespace Broker.Alerts.Tests.Avro;

public sealed class SchemaResolutionTests
{
    private static object? Resolve(string writerJson, string readerJson, object? value)
    {
        var writer = AvroSchema.Parse(writerJson);
        var reader = AvroSchema.Parse(readerJson);
        return AvroDatumReader.For(writer, reader).Read(AvroDatumWriter.For(writer).ToBytes(value));
    }

    [Theory]
    [InlineData("\"int\"", "\"long\"", 7, 7L)]
    [InlineData("\"int\"", "\"float\"", 7, 7f)]
    [InlineData("\"int\"", "\"double\"", -7, -7d)]
    [InlineData("\"long\"", "\"double\"", 1L << 40, (double)(1L << 40))]
    [InlineData("\"float\"", "\"double\"", 1.5f, 1.5d)]
    [InlineData("\"string\"", "[\"null\", \"string\"]", "x", "x")]
    [InlineData("[\"null\", \"int\"]", "[\"long\", \"null\"]", 3, 3L)]
    public void Primitive_values_are_promoted_as_the_specification_allows(string writer, string reader, object value, object expected) =>
        Assert.Equal(expected, Resolve(writer, reader, value));

    [Fact]
    public void Strings_and_bytes_are_interchangeable()
    {
        Assert.Equal("hé"u8.ToArray(), Resolve("\"string\"", "\"bytes\"", "hé"));
        Assert.Equal("hé", Resolve("\"bytes\"", "\"string\"", "hé"u8.ToArray()));
    }

    [Fact]
    public void Reordered_missing_and_extra_fields_resolve_by_name_with_defaults()
    {
        var writer = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"gone","type":{"type":"array","items":"string"}},{"name":"b","type":"string"}]}""");
        var reader = AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"b","type":"string"},{"name":"c","type":["null","double"],"default":null},{"name":"d","type":{"type":"array","items":"int"},"default":[1,2]},{"name":"a","type":"long"}]}""");
        var value = new AvroRecord(writer) { ["a"] = 5, ["gone"] = new List<object?> { "x", "y" }, ["b"] = "hi" };
        var bytes = AvroDatumWriter.For(writer).ToBytes(value);
        var r = (AvroRecord)AvroDatumReader.For(writer, reader).Read(bytes)!;
        Assert.Equal("hi", r["b"]);
        Assert.Null(r["c"]);
        Assert.Equal(new List<object?> { 1, 2 }, r["d"]);
        Assert.Equal(5L, r["a"]);
    }

    [Fact]
    public void A_reader_field_alias_matches_the_writer_field_name()
    {
        var writer = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"old","type":"int"}]}""");
        var reader = AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"new","type":"int","aliases":["old"]}]}""");
        var r = (AvroRecord)AvroDatumReader.For(writer, reader).Read(AvroDatumWriter.For(writer).ToBytes(new AvroRecord(writer) { ["old"] = 9 }))!;
        Assert.Equal(9, r["new"]);
    }

    [Fact]
    public void A_record_renamed_by_its_writer_matches_a_reader_union_branch_by_alias()
    {
        var writer = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"topLevelRecord","fields":[{"name":"x","type":"int"}]}""");
        var reader = AvroSchema.Parse("""["null",{"type":"record","name":"alert","namespace":"ztf","aliases":["topLevelRecord"],"fields":[{"name":"x","type":"int"}]}]""");
        var r = (AvroRecord)AvroDatumReader.For(writer, reader).Read(AvroDatumWriter.For(writer).ToBytes(new AvroRecord(writer) { ["x"] = 1 }))!;
        Assert.Equal("ztf.alert", r.Schema.FullName);
    }

    [Fact]
    public void Enum_symbols_resolve_by_name_and_unknown_ones_take_the_reader_default()
    {
        var writer = (EnumSchema)AvroSchema.Parse("""{"type":"enum","name":"e","symbols":["A","B","C"]}""");
        var reader = AvroSchema.Parse("""{"type":"enum","name":"e","symbols":["C","A","Z"],"default":"Z"}""");
        var read = AvroDatumReader.For(writer, reader);
        Assert.Equal("A", ((AvroEnumValue)read.Read(AvroDatumWriter.For(writer).ToBytes("A"))!).Symbol);
        Assert.Equal("Z", ((AvroEnumValue)read.Read(AvroDatumWriter.For(writer).ToBytes("B"))!).Symbol);
    }

    [Fact]
    public void A_missing_reader_field_without_default_is_a_resolution_error_naming_the_field()
    {
        var writer = AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}""");
        var reader = AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"needed","type":"string"}]}""");
        var e = Assert.Throws<AvroResolutionException>(() => AvroDatumReader.For(writer, reader));
        Assert.Contains("needed", e.Message);
    }

    [Fact]
    public void Incompatible_field_types_are_a_resolution_error_naming_the_field()
    {
        var writer = AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"jd","type":"string"}]}""");
        var reader = AvroSchema.Parse("""{"type":"record","name":"r","fields":[{"name":"jd","type":"double"}]}""");
        var e = Assert.Throws<AvroResolutionException>(() => AvroDatumReader.For(writer, reader));
        Assert.Contains("field jd", e.Message);
    }

    [Fact]
    public void A_writer_union_branch_without_a_match_fails_only_when_data_takes_it()
    {
        var writer = AvroSchema.Parse("""["int","string"]""");
        var reader = AvroSchema.Parse("\"long\"");
        var read = AvroDatumReader.For(writer, reader);
        Assert.Equal(4L, read.Read(AvroDatumWriter.For(writer).ToBytes(4)));
        Assert.Throws<AvroDataException>(() => read.Read(AvroDatumWriter.For(writer).ToBytes("four")));
    }

    [Fact]
    public void Recursive_records_decode()
    {
        var s = (RecordSchema)AvroSchema.Parse("""{"type":"record","name":"node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","node"]}]}""");
        var leaf = new AvroRecord(s) { ["v"] = 2 };
        var root = new AvroRecord(s) { ["v"] = 1, ["next"] = leaf };
        var back = (AvroRecord)AvroDatumReader.For(s).Read(AvroDatumWriter.For(s).ToBytes(root))!;
        Assert.Equal(2, ((AvroRecord)back["next"]!)["v"]);
    }
}
