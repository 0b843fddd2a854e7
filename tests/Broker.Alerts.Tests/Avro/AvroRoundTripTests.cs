using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Avro;

public sealed class AvroRoundTripTests
{
    [OracleFact]
    public void Decode_encode_decode_gives_identical_records_and_bytes_for_every_sample()
    {
        var items = AvroReferenceDecoderTests.ReadAllSamples();
        Assert.Equal(651, items.Count);
        foreach (var item in items)
        {
            var writer = AvroDatumWriter.For(item.WriterSchema!);
            byte[] encoded = writer.ToBytes(item.Record);
            // The samples' writers used one block per array, as Broker does, so the bytes come back exactly.
            Assert.True(item.Datum.Span.SequenceEqual(encoded), $"{item.Source} #{item.Index}: re-encoded bytes differ");
            var again = AvroDatumReader.For(item.WriterSchema!).Read(encoded);
            Assert.Equal(AvroJson.ToJson(item.Record), AvroJson.ToJson(again));
        }
    }

    [OracleFact]
    public void Every_sample_maps_to_a_broker_alert_that_round_trips_through_the_broker_schema()
    {
        foreach (var item in AvroReferenceDecoderTests.ReadAllSamples())
        {
            var alert = SurveyAlertMapper.Map(item.Record!);
            var bytes = BrokerAlertCodec.Encode(alert);
            var back = BrokerAlertCodec.Decode(bytes);
            Assert.Equal(AvroJson.ToJson(BrokerAlertCodec.ToRecord(alert)), AvroJson.ToJson(BrokerAlertCodec.ToRecord(back)));
            Assert.Equal(bytes, BrokerAlertCodec.Encode(back));
        }
    }

    [OracleFact]
    public void Spark_rewritten_ztf_alerts_decode_through_the_official_ztf_4_02_reader_schema()
    {
        var names = new AvroSchemaNames();
        var official = names.LoadFolder(SharedData.Path("ztf/schema"));
        var reader = official.Single(kv => kv.Key.EndsWith("alert.avsc", StringComparison.Ordinal)).Value;
        var spark = new Broker.Alerts.IO.AlertFileReader(readerSchema: reader)
            .Read([SharedData.Path("ztf/alerts/fink-broker_20231018_v4.02_spark")]).ToList();
        var plain = new Broker.Alerts.IO.AlertFileReader()
            .Read([SharedData.Path("ztf/alerts/fink-broker_20231018_v4.02_spark")]).ToList();
        Assert.Equal(311, spark.Count);
        for (int i = 0; i < spark.Count; i++)
        {
            Assert.True(spark[i].Ok, spark[i].Error);
            var resolved = spark[i].Record!;
            var written = plain[i].Record!;
            Assert.Equal("ztf.alert", resolved.Schema.FullName);
            // Every field the writer had keeps its value; fp_hists, absent from Spark's files, takes its default.
            foreach (var field in written.Schema.Fields)
                Assert.Equal(AvroJson.ToJson(written[field.Name]), AvroJson.ToJson(resolved[field.Name]));
            Assert.Null(resolved["fp_hists"]);
            Assert.Equal("ztf.alert.candidate", ((AvroRecord)resolved["candidate"]!).Schema.FullName);
        }
    }
}
