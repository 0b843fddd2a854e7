using System.Text.Json.Nodes;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Alerts.Tests.Avro;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Model;

/// <summary>Broker alert schema 1.3 and its codec: every field round-trips, 1.0, 1.1 and 1.2 records still decode, fields are found by name.</summary>
public sealed class BrokerAlertCodecTests
{
    private static string Json(Alert alert) => AvroJson.ToJson(BrokerAlertCodec.ToRecord(alert));

    private static string SchemaText(string file) => File.ReadAllText(SharedData.RepositoryPath("schemas/broker/" + file));

    [Fact]
    public void Every_field_of_schema_1_3_round_trips()
    {
        var alert = BrokerAlertSamples.Full();
        var record = BrokerAlertCodec.ToRecord(alert);
        BrokerAlertSamples.AssertEveryFieldSet(record);

        byte[] bytes = BrokerAlertCodec.Encode(alert);
        Assert.Same(BrokerAlertCodec.SchemaV1_3, BrokerAlertCodec.WriterSchemaOf(bytes));
        var back = BrokerAlertCodec.Decode(bytes);
        Assert.Equal(Json(alert), Json(back));
        Assert.Equal(bytes, BrokerAlertCodec.Encode(back));
        BrokerAlertSamples.AssertEveryFieldSet(BrokerAlertCodec.ToRecord(back));

        // The 1.1, 1.2 and 1.3 additions, one by one, as the model carries them.
        Assert.Equal("1.3", BrokerAlertCodec.CurrentVersion);
        Assert.Equal(BrokerBuild.Current, back.WrittenBy);
        Assert.Equal(["SNIa", "SNII", "AGN"], back.Classifications[0].Classes);
        Assert.Equal("alerce-lc-2021", back.Classifications[0].Taxonomy);
        Assert.True(back.Classifications[0].IsClassified);
        Assert.Equal(Classification.NoCutouts, back.Classifications[1].NotClassifiedReason);
        Assert.Empty(back.Classifications[1].Probabilities);
        var match = Assert.Single(back.Crossmatches);
        Assert.Equal(("DR3", 2.0, "star"), (match.CatalogRelease, match.MatchRadiusArcsec, match.ObjectType));
        Assert.Equal((0.0123, 0.2071), (match.Redshift, match.PhysicalOffsetKpc));
        Assert.Equal(new GalacticContext(263.5, 21.25, false), back.Galactic);
        var sso = back.SolarSystem!;
        Assert.Equal((150.2503, -30.4999, 35.25, -12.125, "mpc_orbits two-body", 61000.0),
            (sso.PredictedRa, sso.PredictedDec, sso.RaRateArcsecPerHour, sso.DecRateArcsecPerHour, sso.EphemerisSource, sso.EphemerisEpochMjdTdb));
        Assert.Equal(("2004JQ12", 0.75, SolarSystemAssociation.Agree), (sso.SurveyDesignation, sso.SurveyDistanceArcsec, sso.Agreement));
        Assert.Equal(new NewMoverCandidate("no known orbit matches; no earlier detection; no catalogue counterpart"), back.NewMover);
        Assert.Equal(new FilterMatch("bright-transients", "3"), Assert.Single(back.Filters));
        Assert.Equal(1_764_633_600_250_000, back.StageTimes["crossmatch"]);
        Assert.Equal("1.0.0+def", back.StageVersions["crossmatch"]);
        // Filter names are also written to 1.0's filters field, for readers of 1.0.
        Assert.Equal(["bright-transients"], ((List<object?>)record["filters"]!).Cast<string>());
    }

    [Fact]
    public void A_schema_1_0_record_as_the_previous_code_wrote_it_decodes_with_the_additions_at_their_defaults()
    {
        // Built by field name against broker.alert.v1.avsc and written by the generic writer: the bytes the 1.0
        // codec produced (it wrote BrokerAlertCodec.ToRecord through the same writer).
        var v1 = BrokerAlertCodec.SchemaV1;
        var record = Record(v1,
            ("schemaVersion", "1.0"), ("survey", new AvroEnumValue((EnumSchema)v1.GetField("survey")!.Schema, 0)),
            ("surveySchemaVersion", "4.02"), ("alertId", 2695378462115010012L), ("objectId", "ZTF18abudxnw"),
            ("ra", 275.9), ("dec", 41.2), ("raErr", null), ("decErr", null), ("mjdTai", 60449.3), ("band", "g"),
            ("flux", 3981.0), ("fluxErr", 40.0), ("mag", 22.4), ("magErr", 0.1), ("isPositive", true), ("realBogus", 0.99),
            ("detections", new List<object?> { Record(Item(v1, "detections"), ("alertId", 5L), ("mjdTai", 60440.0), ("band", "r"), ("ra", 275.9),
                ("dec", 41.2), ("flux", 100.0), ("fluxErr", 1.0), ("mag", 26.4), ("magErr", 0.01), ("isPositive", true), ("realBogus", null)) }),
            ("upperLimits", new List<object?> { Record(Item(v1, "upperLimits"), ("mjdTai", 60430.0), ("band", "g"), ("limitingMag", 20.5)) }),
            ("forcedPhotometry", new List<object?>()),
            ("cutouts", null),
            ("surveyFields", new Dictionary<string, object?> { ["candidate.sgscore1"] = 0.5 }),
            ("crossmatches", new List<object?> { Record(Item(v1, "crossmatches"), ("catalog", "PS1"), ("sourceId", "1"), ("ra", 275.9), ("dec", 41.2),
                ("distanceArcsec", 0.3), ("properties", new Dictionary<string, object?> { ["gmag"] = 18.0 })) }),
            ("solarSystem", Record(Optional(v1, "solarSystem"), ("designation", "4826"), ("distanceArcsec", 0.9), ("predictedMag", 19.0), ("source", "survey"))),
            ("classifications", new List<object?> { Record(Item(v1, "classifications"), ("classifier", "stamp"), ("model", "m"), ("modelVersion", "1"),
                ("probabilities", new Dictionary<string, object?> { ["SN"] = 0.9, ["AGN"] = 0.1 }), ("topClass", "SN")) }),
            ("filters", new List<object?> { "sn-candidates" }),
            ("stageTimes", new Dictionary<string, object?> { ["ingest"] = 1_700_000_000_000_000L }));
        byte[] bytes = AvroDatumWriter.For(v1).ToBytes(record);

        Assert.Same(v1, BrokerAlertCodec.WriterSchemaOf(bytes));
        var alert = BrokerAlertCodec.Decode(bytes);
        Assert.Equal((Survey.Ztf, "4.02", 2695378462115010012L, "ZTF18abudxnw", 275.9, 41.2, 60449.3, "g"),
            (alert.Survey, alert.SurveySchemaVersion, alert.AlertId, alert.ObjectId, alert.Ra, alert.Dec, alert.MjdTai, alert.Band));
        Assert.Equal(5L, Assert.Single(alert.Detections).AlertId);
        Assert.Equal(20.5, Assert.Single(alert.UpperLimits).LimitingMag);
        Assert.Null(alert.Cutouts);
        Assert.False(alert.HasAllCutouts);
        Assert.Equal(0.5, alert.SurveyFields["candidate.sgscore1"]);
        var match = Assert.Single(alert.Crossmatches);
        Assert.Equal(("PS1", "", 18.0), (match.Catalog, match.CatalogRelease, match.Properties["gmag"]));
        Assert.Null(match.MatchRadiusArcsec);
        Assert.Null(match.ObjectType);
        Assert.Equal(("4826", "survey", ""), (alert.SolarSystem!.Designation, alert.SolarSystem.Source, alert.SolarSystem.EphemerisSource));
        Assert.Null(alert.SolarSystem.PredictedRa);
        Assert.Null(alert.SolarSystem.EphemerisEpochMjdTdb);
        var k = Assert.Single(alert.Classifications);
        Assert.Equal(("SN", 0.9, "", 0, true), (k.TopClass, k.Probabilities["SN"], k.Taxonomy, k.Classes.Count, k.IsClassified));
        Assert.Equal(new FilterMatch("sn-candidates", ""), Assert.Single(alert.Filters));
        Assert.Equal(1_700_000_000_000_000L, alert.StageTimes["ingest"]);
        Assert.Empty(alert.StageVersions);
        Assert.Null(alert.WrittenBy);

        // Written again, it is a record of the current version (1.3) with the same 1.0 values.
        var again = BrokerAlertCodec.Encode(alert);
        Assert.Same(BrokerAlertCodec.SchemaV1_3, BrokerAlertCodec.WriterSchemaOf(again));
        var reread = (AvroRecord)AvroDatumReader.For(BrokerAlertCodec.Schema, v1).Read(again)!;
        Assert.Equal("1.3", reread["schemaVersion"]);
        reread["schemaVersion"] = "1.0";
        Assert.Equal(AvroJson.ToJson(record), AvroJson.ToJson(reread));
    }

    [Fact]
    public void A_schema_1_2_record_decodes_under_1_3_without_the_survey_comparison_or_the_mover_flag()
    {
        var alert = BrokerAlertSamples.Full();
        var v12 = BrokerAlertCodec.LayoutOf(BrokerAlertCodec.SchemaV1_2);
        Assert.Equal("1.2", v12.Version);
        byte[] old = v12.Encode(alert);
        Assert.Same(BrokerAlertCodec.SchemaV1_2, BrokerAlertCodec.WriterSchemaOf(old));
        var back = BrokerAlertCodec.Decode(old);
        Assert.Null(back.NewMover);
        var sso = back.SolarSystem!;
        Assert.Equal(("2004 JQ12", 1.2, "broker"), (sso.Designation, sso.DistanceArcsec, sso.Source));
        Assert.Equal((null, null, null), (sso.SurveyDesignation, sso.SurveyDistanceArcsec, sso.Agreement));
        // Everything 1.2 has is unchanged.
        var expected = alert with { NewMover = null, SolarSystem = alert.SolarSystem! with { SurveyDesignation = null, SurveyDistanceArcsec = null, Agreement = null } };
        Assert.Equal(Json(expected), Json(back));
    }

    [OracleFact]
    public void Every_real_alert_written_with_schema_1_0_decodes_under_the_current_code_to_the_same_alert()
    {
        var v1 = BrokerAlertCodec.LayoutOf(BrokerAlertCodec.SchemaV1);
        Assert.Equal("1.0", v1.Version);
        int n = 0;
        foreach (var item in AvroReferenceDecoderTests.ReadAllSamples())
        {
            var alert = SurveyAlertMapper.Map(item.Record!);
            byte[] old = v1.Encode(alert);
            Assert.Same(BrokerAlertCodec.SchemaV1, BrokerAlertCodec.WriterSchemaOf(old));
            Assert.True(Json(alert) == Json(BrokerAlertCodec.Decode(old)), $"{item.Source} #{item.Index}");
            n++;
        }
        Assert.Equal(651, n);
    }

    [Fact]
    public void A_field_added_anywhere_in_the_schema_shifts_nothing_and_the_alert_round_trips()
    {
        // Fields inserted at the front of the top record (after schemaVersion, which stays first), at the front of
        // the detection record and in the middle of the classification record: every field the codec knows moves.
        var json = JsonNode.Parse(SchemaText("broker.alert.v1.3.avsc"))!;
        var top = json["fields"]!.AsArray();
        top.Insert(1, JsonNode.Parse("""{"name": "addedTop", "type": "string", "default": "added"}"""));
        var detection = FieldsOf(top, "detections", array: true);
        detection.Insert(0, JsonNode.Parse("""{"name": "addedNested", "type": ["null", "long"], "default": null}"""));
        var classification = FieldsOf(top, "classifications", array: true);
        classification.Insert(2, JsonNode.Parse("""{"name": "calibrated", "type": "boolean", "default": false}"""));
        var extended = (RecordSchema)AvroSchema.Parse(json.ToJsonString());
        Assert.Equal(BrokerAlertCodec.Schema.Fields.Count + 1, extended.Fields.Count);

        var alert = BrokerAlertSamples.Full();
        var layout = BrokerAlertCodec.LayoutOf(extended);
        var record = layout.ToRecord(alert);
        Assert.Equal("added", record["addedTop"]);
        Assert.Equal(false, ((AvroRecord)((List<object?>)record["classifications"]!)[0]!)["calibrated"]);
        Assert.Null(((AvroRecord)((List<object?>)record["detections"]!)[0]!)["addedNested"]);

        byte[] bytes = layout.Encode(alert);
        Assert.Equal(Json(alert), Json(layout.Decode(bytes, extended)));
        // Written with the extended schema, read by the current code: the added fields are skipped, nothing else moves.
        Assert.Equal(Json(alert), Json(BrokerAlertCodec.Decode(bytes, extended)));
        // Written by the current code, read with the extended schema: the added fields take their defaults.
        Assert.Equal(Json(alert), Json(layout.Decode(BrokerAlertCodec.Encode(alert), BrokerAlertCodec.Schema)));
    }

    [Fact]
    public void A_schema_with_an_unknown_field_without_default_or_without_a_1_0_field_is_refused_naming_it()
    {
        var json = JsonNode.Parse(SchemaText("broker.alert.v1.3.avsc"))!;
        FieldsOf(json["fields"]!.AsArray(), "crossmatches", array: true).Add(JsonNode.Parse("""{"name": "mandatory", "type": "string"}"""));
        var e = Assert.Throws<AvroSchemaException>(() => BrokerAlertCodec.LayoutOf((RecordSchema)AvroSchema.Parse(json.ToJsonString())));
        Assert.Contains("'mandatory'", e.Message);

        var without = JsonNode.Parse(SchemaText("broker.alert.v1.3.avsc"))!;
        var fields = without["fields"]!.AsArray();
        fields.Remove(fields.Single(f => (string?)f!["name"] == "mjdTai"));
        e = Assert.Throws<AvroSchemaException>(() => BrokerAlertCodec.LayoutOf((RecordSchema)AvroSchema.Parse(without.ToJsonString())));
        Assert.Contains("'mjdTai'", e.Message);
    }

    [Theory]
    [InlineData("2.0", "schema version '2.0' is not one this build reads (1.0, 1.1, 1.2, 1.3)")]
    [InlineData("", "schema version '' is not one")]
    public void A_datum_of_a_version_this_build_does_not_know_is_refused_saying_which(string version, string expected)
    {
        var w = new AvroWriter();
        w.WriteString(version);
        w.WriteRaw(BrokerAlertCodec.Encode(BrokerAlertSamples.Full()).AsSpan(4));
        var e = Assert.ThrowsAny<FormatException>(() => BrokerAlertCodec.Decode(w.ToArray()));
        Assert.Contains(expected, e.Message);
        // Survey bytes (a ZTF container starts "Obj") are not mistaken for a broker alert either.
        Assert.ThrowsAny<FormatException>(() => BrokerAlertCodec.Decode("Obj\u0001"u8));
    }

    [Fact]
    public void An_alert_without_cutouts_records_that_a_stage_needing_them_did_not_classify_it()
    {
        var alert = BrokerAlertSamples.Full() with { Cutouts = null, Classifications = [] };
        Assert.False(alert.HasAllCutouts);
        Assert.False((alert with { Cutouts = new Cutouts("fits", [1], null, [3]) }).HasAllCutouts);
        Assert.True(BrokerAlertSamples.Full().HasAllCutouts);

        var marked = alert.WithClassification(Classification.NotClassified("stamp", "stamp-cnn", "1.0.0", "alerce-stamp-2020", Classification.NoCutouts));
        var back = BrokerAlertCodec.Decode(BrokerAlertCodec.Encode(marked));
        var k = Assert.Single(back.Classifications);
        Assert.False(k.IsClassified);
        Assert.Equal(("stamp", "stamp-cnn", "1.0.0", "no cutouts", ""), (k.Classifier, k.Model, k.ModelVersion, k.NotClassifiedReason, k.TopClass));
        // A reader of schema 1.0 sees an entry naming the model with no class and no probabilities.
        var v1 = (AvroRecord)AvroDatumReader.For(BrokerAlertCodec.Schema, BrokerAlertCodec.SchemaV1).Read(BrokerAlertCodec.Encode(marked))!;
        var old = (AvroRecord)Assert.Single((List<object?>)v1["classifications"]!)!;
        Assert.Equal("", old["topClass"]);
        Assert.Empty((Dictionary<string, object?>)old["probabilities"]!);
    }

    [Fact]
    public void Alerts_are_immutable_and_additions_make_new_alerts()
    {
        var alert = BrokerAlertCodec.Decode(BrokerAlertCodec.Encode(BrokerAlertSamples.Full()));
        var json = Json(alert);
        var extra = new Crossmatch { Catalog = "NED", SourceId = "x" };
        var added = alert.WithCrossmatch(extra).WithStage("crossmatch", "2", 5).WithFilter(new FilterMatch("f", "1"));
        Assert.Equal(json, Json(alert));
        Assert.Equal(2, added.Crossmatches.Count);
        Assert.Same(extra, added.Crossmatches[1]);
        Assert.Equal(5, added.StageTimes["crossmatch"]);
        Assert.Equal(2, added.Filters.Count);
        // The collections refuse changes even through their mutable interfaces.
        Assert.Throws<NotSupportedException>(() => ((IList<Crossmatch>)alert.Crossmatches).Add(extra));
        Assert.Throws<NotSupportedException>(() => ((IList<Crossmatch>)added.Crossmatches).Clear());
        Assert.Throws<NotSupportedException>(() => ((IList<Detection>)alert.Detections).RemoveAt(0));
        Assert.Throws<NotSupportedException>(() => ((IDictionary<string, object?>)alert.SurveyFields).Add("k", null));
        Assert.Throws<NotSupportedException>(() => ((IDictionary<string, double>)alert.Classifications[0].Probabilities).Clear());
        Assert.Equal(json, Json(alert));
    }

    [Fact]
    public void A_stage_time_is_unix_microseconds_of_the_finishing_instant()
    {
        var at = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(12_340);
        var alert = new Alert().WithStage("ingest", "v", at);
        Assert.Equal(at.ToUnixTimeSeconds() * 1_000_000 + 1234, alert.StageTimes["ingest"]);
        Assert.Equal("v", alert.StageVersions["ingest"]);
    }

    [Theory]
    [InlineData(0L, "0")]
    [InlineData(2695378462115010012L, "2695378462115010012")]
    [InlineData(-5L, "-5")]
    public void The_kafka_key_is_the_alert_ids_decimal_digits(long id, string key)
    {
        Assert.Equal(key, BrokerAlertCodec.KeyFor(id));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(key), BrokerAlertCodec.KeyBytesFor(id));
    }

    private static AvroRecord Record(RecordSchema schema, params (string Name, object? Value)[] values)
    {
        var r = new AvroRecord(schema);
        foreach (var (name, value) in values) r[name] = value;
        Assert.Equal(schema.Fields.Count, values.Length);
        return r;
    }

    private static RecordSchema Item(RecordSchema s, string field) => (RecordSchema)((ArraySchema)s.GetField(field)!.Schema).Items;

    private static RecordSchema Optional(RecordSchema s, string field) => (RecordSchema)((UnionSchema)s.GetField(field)!.Schema).OptionalOf!;

    private static JsonArray FieldsOf(JsonArray fields, string name, bool array)
    {
        var field = fields.Single(f => (string?)f!["name"] == name)!;
        var type = array ? field["type"]!["items"]! : field["type"]!;
        return type["fields"]!.AsArray();
    }
}
