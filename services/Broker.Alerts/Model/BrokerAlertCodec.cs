using Broker.Alerts.Avro;

namespace Broker.Alerts.Model;

/// <summary>
/// Broker's own alert schema (<c>schemas/broker/broker.alert.v1.avsc</c>, embedded in this assembly) and the
/// conversion between <see cref="Alert"/> and its Avro binary encoding.
/// </summary>
public static class BrokerAlertCodec
{
    private static readonly Lazy<RecordSchema> SchemaV1 = new(() => LoadEmbedded("broker.alert.v1.avsc"));
    private static readonly Lazy<Parts> PartsV1 = new(() => new Parts(SchemaV1.Value));

    /// <summary>The current broker alert schema.</summary>
    public static RecordSchema Schema => SchemaV1.Value;

    /// <summary>The nested schemas <see cref="ToRecord"/> builds records of, looked up once.</summary>
    private sealed class Parts(RecordSchema s)
    {
        public readonly EnumSchema Survey = (EnumSchema)s.GetField("survey")!.Schema;
        public readonly RecordSchema Detection = ItemSchema(s, "detections");
        public readonly RecordSchema UpperLimit = ItemSchema(s, "upperLimits");
        public readonly RecordSchema ForcedPoint = ItemSchema(s, "forcedPhotometry");
        public readonly RecordSchema Cutouts = OptionalRecord(s, "cutouts");
        public readonly RecordSchema Crossmatch = ItemSchema(s, "crossmatches");
        public readonly RecordSchema SolarSystem = OptionalRecord(s, "solarSystem");
        public readonly RecordSchema Classification = ItemSchema(s, "classifications");

        private static RecordSchema ItemSchema(RecordSchema s, string arrayField) =>
            (RecordSchema)((ArraySchema)s.GetField(arrayField)!.Schema).Items;

        private static RecordSchema OptionalRecord(RecordSchema s, string field) =>
            (RecordSchema)((UnionSchema)s.GetField(field)!.Schema).OptionalOf!;
    }

    private static RecordSchema LoadEmbedded(string file)
    {
        using var stream = typeof(BrokerAlertCodec).Assembly.GetManifestResourceStream("schemas.broker." + file)
            ?? throw new InvalidOperationException($"schema {file} is not embedded in {typeof(BrokerAlertCodec).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return (RecordSchema)AvroSchema.Parse(reader.ReadToEnd());
    }

    /// <summary>Encodes an alert (appending to <paramref name="output"/>).</summary>
    public static void Encode(Alert alert, AvroWriter output) => AvroDatumWriter.For(Schema).Write(output, ToRecord(alert));

    /// <summary>Encodes an alert as a new array.</summary>
    public static byte[] Encode(Alert alert)
    {
        var w = new AvroWriter(alert.Cutouts is null ? 4096 : 16384);
        Encode(alert, w);
        return w.ToArray();
    }

    /// <summary>Decodes an alert written with <paramref name="writerSchema"/> (default: the current schema).</summary>
    public static Alert Decode(ReadOnlySpan<byte> data, AvroSchema? writerSchema = null) =>
        FromRecord((AvroRecord)AvroDatumReader.For(writerSchema ?? Schema, Schema).Read(data)!);

    /// <summary>The alert as a generic record of the broker schema.</summary>
    /// <remarks>The record's <c>surveyFields</c> map is the alert's <see cref="Alert.SurveyFields"/>, not a copy.</remarks>
    public static AvroRecord ToRecord(Alert a)
    {
        var p = PartsV1.Value;
        var r = new AvroRecord(Schema);
        r["schemaVersion"] = "1.0";
        r["survey"] = new AvroEnumValue(p.Survey, (int)a.Survey);
        r["surveySchemaVersion"] = a.SurveySchemaVersion;
        r["alertId"] = a.AlertId;
        r["objectId"] = a.ObjectId;
        r["ra"] = a.Ra;
        r["dec"] = a.Dec;
        r["raErr"] = a.RaErr;
        r["decErr"] = a.DecErr;
        r["mjdTai"] = a.MjdTai;
        r["band"] = a.Band;
        r["flux"] = a.Flux;
        r["fluxErr"] = a.FluxErr;
        r["mag"] = a.Mag;
        r["magErr"] = a.MagErr;
        r["isPositive"] = a.IsPositive;
        r["realBogus"] = a.RealBogus;

        r["detections"] = a.Detections.ConvertAll(static d =>
        {
            var x = new AvroRecord(PartsV1.Value.Detection);
            x.Values[0] = d.AlertId; x.Values[1] = d.MjdTai; x.Values[2] = d.Band; x.Values[3] = d.Ra; x.Values[4] = d.Dec;
            x.Values[5] = d.Flux; x.Values[6] = d.FluxErr; x.Values[7] = d.Mag; x.Values[8] = d.MagErr;
            x.Values[9] = d.IsPositive; x.Values[10] = d.RealBogus;
            return (object?)x;
        });
        r["upperLimits"] = a.UpperLimits.ConvertAll(static u =>
        {
            var x = new AvroRecord(PartsV1.Value.UpperLimit);
            x.Values[0] = u.MjdTai; x.Values[1] = u.Band; x.Values[2] = u.LimitingMag;
            return (object?)x;
        });
        r["forcedPhotometry"] = a.ForcedPhotometry.ConvertAll(static f =>
        {
            var x = new AvroRecord(PartsV1.Value.ForcedPoint);
            x.Values[0] = f.MjdTai; x.Values[1] = f.Band; x.Values[2] = f.Flux; x.Values[3] = f.FluxErr;
            return (object?)x;
        });
        if (a.Cutouts is { } c)
        {
            var x = new AvroRecord(p.Cutouts);
            x.Values[0] = c.Format; x.Values[1] = c.Science; x.Values[2] = c.Template; x.Values[3] = c.Difference;
            r["cutouts"] = x;
        }
        r["surveyFields"] = a.SurveyFields;
        r["crossmatches"] = a.Crossmatches.ConvertAll(static m =>
        {
            var x = new AvroRecord(PartsV1.Value.Crossmatch);
            x.Values[0] = m.Catalog; x.Values[1] = m.SourceId; x.Values[2] = m.Ra; x.Values[3] = m.Dec; x.Values[4] = m.DistanceArcsec;
            x.Values[5] = new Dictionary<string, object?>(m.Properties, StringComparer.Ordinal);
            return (object?)x;
        });
        if (a.SolarSystem is { } sso)
        {
            var x = new AvroRecord(p.SolarSystem);
            x.Values[0] = sso.Designation; x.Values[1] = sso.DistanceArcsec; x.Values[2] = sso.PredictedMag; x.Values[3] = sso.Source;
            r["solarSystem"] = x;
        }
        r["classifications"] = a.Classifications.ConvertAll(static k =>
        {
            var x = new AvroRecord(PartsV1.Value.Classification);
            x.Values[0] = k.Classifier; x.Values[1] = k.Model; x.Values[2] = k.ModelVersion;
            x.Values[3] = k.Probabilities.ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.Ordinal);
            x.Values[4] = k.TopClass;
            return (object?)x;
        });
        r["filters"] = a.Filters.ConvertAll(static f => (object?)f);
        r["stageTimes"] = a.StageTimes.ToDictionary(p => p.Key, p => (object?)p.Value, StringComparer.Ordinal);
        return r;
    }

    /// <summary>The alert held in a generic record of the broker schema.</summary>
    /// <remarks>The alert's <see cref="Alert.SurveyFields"/> is the record's <c>surveyFields</c> map, not a copy (when it compares keys ordinally, as decoded maps do).</remarks>
    public static Alert FromRecord(AvroRecord r)
    {
        var a = new Alert
        {
            Survey = r["survey"] is AvroEnumValue e ? (Survey)e.Index : Survey.Unknown,
            SurveySchemaVersion = (string)r["surveySchemaVersion"]!,
            AlertId = (long)r["alertId"]!,
            ObjectId = (string)r["objectId"]!,
            Ra = (double)r["ra"]!,
            Dec = (double)r["dec"]!,
            RaErr = (double?)r["raErr"],
            DecErr = (double?)r["decErr"],
            MjdTai = (double)r["mjdTai"]!,
            Band = (string)r["band"]!,
            Flux = (double)r["flux"]!,
            FluxErr = (double)r["fluxErr"]!,
            Mag = (double?)r["mag"],
            MagErr = (double?)r["magErr"],
            IsPositive = (bool)r["isPositive"]!,
            RealBogus = (double?)r["realBogus"],
        };
        foreach (AvroRecord d in Items(r, "detections"))
        {
            a.Detections.Add(new Detection
            {
                AlertId = (long?)d.Values[0], MjdTai = (double)d.Values[1]!, Band = (string)d.Values[2]!,
                Ra = (double?)d.Values[3], Dec = (double?)d.Values[4], Flux = (double?)d.Values[5], FluxErr = (double?)d.Values[6],
                Mag = (double?)d.Values[7], MagErr = (double?)d.Values[8], IsPositive = (bool)d.Values[9]!, RealBogus = (double?)d.Values[10],
            });
        }
        foreach (AvroRecord u in Items(r, "upperLimits"))
            a.UpperLimits.Add(new UpperLimit((double)u.Values[0]!, (string)u.Values[1]!, (double?)u.Values[2]));
        foreach (AvroRecord f in Items(r, "forcedPhotometry"))
            a.ForcedPhotometry.Add(new ForcedPoint((double)f.Values[0]!, (string)f.Values[1]!, (double?)f.Values[2], (double?)f.Values[3]));
        if (r["cutouts"] is AvroRecord c)
            a.Cutouts = new Cutouts((string)c.Values[0]!, (byte[]?)c.Values[1], (byte[]?)c.Values[2], (byte[]?)c.Values[3]);
        a.SurveyFields = OrdinalMap((Dictionary<string, object?>)r["surveyFields"]!);
        foreach (AvroRecord m in Items(r, "crossmatches"))
        {
            a.Crossmatches.Add(new Crossmatch((string)m.Values[0]!, (string)m.Values[1]!, (double)m.Values[2]!, (double)m.Values[3]!,
                (double)m.Values[4]!, (Dictionary<string, object?>)m.Values[5]!));
        }
        if (r["solarSystem"] is AvroRecord ss)
            a.SolarSystem = new SolarSystemAssociation((string)ss.Values[0]!, (double)ss.Values[1]!, (double?)ss.Values[2], (string)ss.Values[3]!);
        foreach (AvroRecord k in Items(r, "classifications"))
        {
            a.Classifications.Add(new Classification((string)k.Values[0]!, (string)k.Values[1]!, (string)k.Values[2]!,
                ((Dictionary<string, object?>)k.Values[3]!).ToDictionary(p => p.Key, p => (double)p.Value!, StringComparer.Ordinal),
                (string)k.Values[4]!));
        }
        foreach (var f in (List<object?>)r["filters"]!) a.Filters.Add((string)f!);
        foreach (var (k, v) in (Dictionary<string, object?>)r["stageTimes"]!) a.StageTimes[k] = (long)v!;
        return a;
    }

    private static IEnumerable<AvroRecord> Items(AvroRecord r, string arrayField)
    {
        foreach (var item in (List<object?>)r[arrayField]!) yield return (AvroRecord)item!;
    }

    // Decoded maps compare keys ordinally, as Alert's own maps do, so the map is taken as it is; any other
    // comparer (a hand-built record) is copied into an ordinal one, as before.
    private static Dictionary<string, object?> OrdinalMap(Dictionary<string, object?> map) =>
        ReferenceEquals(map.Comparer, StringComparer.Ordinal) || ReferenceEquals(map.Comparer, EqualityComparer<string>.Default)
            ? map
            : new Dictionary<string, object?>(map, StringComparer.Ordinal);
}
