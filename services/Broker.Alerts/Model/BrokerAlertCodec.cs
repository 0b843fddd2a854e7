using System.Buffers.Text;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using Broker.Alerts.Avro;

namespace Broker.Alerts.Model;

/// <summary>
/// Broker's own alert schema (<c>schemas/broker/broker.alert.v*.avsc</c>, embedded in this assembly) and the
/// conversion between <see cref="Alert"/> and its Avro binary encoding. Records are written with the current
/// version (<see cref="Schema"/>, 1.3) and read from any version: the writer's version is told from the record's
/// first field, <c>schemaVersion</c>, so unframed Kafka values of 1.0, 1.1, 1.2 and 1.3 can share a topic.
/// </summary>
/// <remarks>
/// Fields are found by name, once per schema (<see cref="BrokerAlertLayout"/>), never by position, so a field added
/// anywhere in a record shifts nothing; a field this code does not know is written with its default.
/// </remarks>
public static class BrokerAlertCodec
{
    private static readonly Lazy<RecordSchema> V1 = new(() => LoadEmbedded("broker.alert.v1.avsc"));
    private static readonly Lazy<RecordSchema> V1_1 = new(() => LoadEmbedded("broker.alert.v1.1.avsc"));
    private static readonly Lazy<RecordSchema> V1_2 = new(() => LoadEmbedded("broker.alert.v1.2.avsc"));
    private static readonly Lazy<RecordSchema> V1_3 = new(() => LoadEmbedded("broker.alert.v1.3.avsc"));
    private static readonly Lazy<BrokerAlertLayout> CurrentLayout = new(() => LayoutOf(V1_3.Value));

    /// <summary>The current broker alert schema (1.3): what <see cref="Encode(Alert)"/> writes.</summary>
    public static RecordSchema Schema => V1_3.Value;

    /// <summary>Schema 1.0 (<c>broker.alert.v1.avsc</c>).</summary>
    public static RecordSchema SchemaV1 => V1.Value;

    /// <summary>Schema 1.1 (<c>broker.alert.v1.1.avsc</c>).</summary>
    public static RecordSchema SchemaV1_1 => V1_1.Value;

    /// <summary>Schema 1.2 (<c>broker.alert.v1.2.avsc</c>): crossmatch redshift and physical offset, the alert's Galactic context.</summary>
    public static RecordSchema SchemaV1_2 => V1_2.Value;

    /// <summary>Schema 1.3 (<c>broker.alert.v1.3.avsc</c>): the survey's association beside Broker's and their agreement, the candidate new mover flag (issue 12).</summary>
    public static RecordSchema SchemaV1_3 => V1_3.Value;

    /// <summary>The version the current schema writes into <c>schemaVersion</c>.</summary>
    public static string CurrentVersion => CurrentLayout.Value.Version;

    /// <summary>The codec for <paramref name="schema"/> (any broker alert schema, or one with fields added), built once per schema.</summary>
    /// <exception cref="AvroSchemaException">The schema lacks a schema 1.0 field, or has a field this code does not know and that has no default.</exception>
    public static BrokerAlertLayout LayoutOf(RecordSchema schema) => BrokerAlertLayout.For(schema);

    /// <summary>The broker alert schema of a version (<c>1.0</c>, <c>1.1</c>, <c>1.2</c>, <c>1.3</c>), or null when this build does not know it.</summary>
    public static RecordSchema? SchemaOf(string version) => version switch
    {
        "1.0" => SchemaV1,
        "1.1" => SchemaV1_1,
        "1.2" => SchemaV1_2,
        "1.3" => SchemaV1_3,
        _ => null,
    };

    /// <summary>The schema an unframed broker alert datum was written with, told from its first field (<c>schemaVersion</c>).</summary>
    /// <exception cref="AvroDataException">The datum does not start with a schema version this build knows.</exception>
    public static RecordSchema WriterSchemaOf(ReadOnlySpan<byte> datum)
    {
        var r = new AvroReader(datum);
        var version = r.ReadBytesSpan();
        if (version.SequenceEqual("1.3"u8)) return SchemaV1_3;
        if (version.SequenceEqual("1.2"u8)) return SchemaV1_2;
        if (version.SequenceEqual("1.1"u8)) return SchemaV1_1;
        if (version.SequenceEqual("1.0"u8)) return SchemaV1;
        throw new AvroDataException(version.Length <= 16 && Utf8.IsValid(version)
            ? $"broker alert schema version '{Encoding.UTF8.GetString(version)}' is not one this build reads (1.0, 1.1, 1.2, 1.3)"
            : "not a broker alert record: it does not start with a schema version");
    }

    private static RecordSchema LoadEmbedded(string file)
    {
        using var stream = typeof(BrokerAlertCodec).Assembly.GetManifestResourceStream("schemas.broker." + file)
            ?? throw new InvalidOperationException($"schema {file} is not embedded in {typeof(BrokerAlertCodec).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return (RecordSchema)AvroSchema.Parse(reader.ReadToEnd());
    }

    /// <summary>Encodes an alert with the current schema (appending to <paramref name="output"/>).</summary>
    public static void Encode(Alert alert, AvroWriter output) => CurrentLayout.Value.Encode(alert, output);

    /// <summary>Encodes an alert with the current schema as a new array of its exact size (written in the thread's <see cref="AvroScratchWriter"/>).</summary>
    public static byte[] Encode(Alert alert) => CurrentLayout.Value.Encode(alert);

    /// <summary>Decodes an alert written with <paramref name="writerSchema"/>; by default the writer's version is read from the datum (<see cref="WriterSchemaOf"/>).</summary>
    /// <exception cref="FormatException">The bytes are not a broker alert of a known version (<see cref="AvroDataException"/>).</exception>
    public static Alert Decode(ReadOnlySpan<byte> data, AvroSchema? writerSchema = null) =>
        CurrentLayout.Value.Decode(data, writerSchema ?? WriterSchemaOf(data));

    /// <summary>The alert as a generic record of the current schema.</summary>
    /// <remarks>The record's <c>surveyFields</c> map is the alert's <see cref="Alert.SurveyFields"/>, not a copy: treat the record as read-only.</remarks>
    public static AvroRecord ToRecord(Alert alert) => CurrentLayout.Value.ToRecord(alert);

    /// <summary>The alert held in a generic record of any broker alert schema.</summary>
    /// <remarks>The alert's <see cref="Alert.SurveyFields"/> is a read-only view of the record's <c>surveyFields</c> map, not a copy.</remarks>
    public static Alert FromRecord(AvroRecord record) => LayoutOf(record.Schema).FromRecord(record);

    /// <summary>The Kafka key of an alert id: its decimal digits.</summary>
    public static string KeyFor(long alertId) => alertId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The Kafka key of an alert id as bytes: the UTF-8 of <see cref="KeyFor"/>, formatted straight into bytes.</summary>
    public static byte[] KeyBytesFor(long alertId)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(alertId, digits, out int n);
        return digits[..n].ToArray();
    }
}

/// <summary>
/// One broker alert schema with the position of every field the codec knows looked up by name, once: what
/// <see cref="BrokerAlertCodec"/> encodes and decodes with. Fields of schema 1.0 must be present; fields added
/// since may be absent (an older schema: nothing is written or read for them); a field the codec does not know is
/// written with its default and ignored when read.
/// </summary>
public sealed class BrokerAlertLayout
{
    private static readonly ConditionalWeakTable<RecordSchema, BrokerAlertLayout> Cache = new();

    private readonly Part _top;
    private readonly Part _detection, _upperLimit, _forcedPoint, _cutouts, _crossmatch, _solarSystem, _classification;
    private readonly Part? _filterMatch, _galactic, _newMover;
    private readonly AvroEnumValue[] _surveys;

    private BrokerAlertLayout(RecordSchema schema)
    {
        Schema = schema;
        _top = new Part(schema, Top.Names, Top.SinceV1_1);
        _detection = new Part(ItemRecord(schema, "detections"), Det.Names, Det.Names.Length);
        _upperLimit = new Part(ItemRecord(schema, "upperLimits"), Ul.Names, Ul.Names.Length);
        _forcedPoint = new Part(ItemRecord(schema, "forcedPhotometry"), Fp.Names, Fp.Names.Length);
        _cutouts = new Part(OptionalRecord(schema, "cutouts"), Cut.Names, Cut.Names.Length);
        _crossmatch = new Part(ItemRecord(schema, "crossmatches"), Xm.Names, Xm.SinceV1_1);
        _solarSystem = new Part(OptionalRecord(schema, "solarSystem"), Sso.Names, Sso.SinceV1_1);
        _classification = new Part(ItemRecord(schema, "classifications"), Cls.Names, Cls.SinceV1_1);
        _filterMatch = schema.GetField("filterMatches") is null ? null : new Part(ItemRecord(schema, "filterMatches"), Fm.Names, Fm.Names.Length);
        _galactic = schema.GetField("galactic") is null ? null : new Part(OptionalRecord(schema, "galactic"), Gal.Names, Gal.Names.Length);
        _newMover = schema.GetField("newMover") is null ? null : new Part(OptionalRecord(schema, "newMover"), Mover.Names, Mover.Names.Length);
        var survey = (EnumSchema)schema.GetField("survey")!.Schema;
        _surveys = new AvroEnumValue[3];
        foreach (var (value, symbol) in new[] { (Survey.Ztf, "ZTF"), (Survey.Lsst, "LSST"), (Survey.Unknown, "UNKNOWN") })
        {
            int i = survey.IndexOf(symbol);
            if (i < 0) throw new AvroSchemaException($"broker alert schema {schema.FullName}: enum {survey.FullName} has no symbol {symbol}");
            _surveys[(int)value] = new AvroEnumValue(survey, i);
        }
        var versionField = schema.GetField("schemaVersion")!;
        Version = versionField.Default is { ValueKind: System.Text.Json.JsonValueKind.String } v ? v.GetString()! : "1.0";
    }

    /// <summary>The codec for a schema, built once per schema.</summary>
    internal static BrokerAlertLayout For(RecordSchema schema) => Cache.GetValue(schema, static s => new BrokerAlertLayout(s));

    /// <summary>The schema.</summary>
    public RecordSchema Schema { get; }

    /// <summary>The version written into <c>schemaVersion</c>: that field's default in the schema (1.0, 1.1, 1.2, 1.3).</summary>
    public string Version { get; }

    /// <summary>Appends the alert's encoding in this schema.</summary>
    public void Encode(Alert alert, AvroWriter output) => AvroDatumWriter.For(Schema).Write(output, ToRecord(alert));

    /// <summary>The alert's encoding in this schema as a new array of its exact size.</summary>
    public byte[] Encode(Alert alert)
    {
        var w = AvroScratchWriter.Rent();
        try
        {
            Encode(alert, w);
            return w.ToArray();
        }
        finally
        {
            AvroScratchWriter.Return(w);
        }
    }

    /// <summary>Decodes an alert written with <paramref name="writerSchema"/>, resolved to this schema.</summary>
    public Alert Decode(ReadOnlySpan<byte> data, AvroSchema writerSchema) =>
        FromRecord((AvroRecord)AvroDatumReader.For(writerSchema, Schema).Read(data)!);

    /// <summary>The alert as a generic record of this schema (its <c>surveyFields</c> is the alert's map, not a copy).</summary>
    public AvroRecord ToRecord(Alert a)
    {
        var t = _top;
        var r = t.NewRecord();
        t.Set(r, Top.SchemaVersion, Version);
        t.Set(r, Top.Survey, _surveys[(int)a.Survey]);
        t.Set(r, Top.SurveySchemaVersion, a.SurveySchemaVersion);
        t.Set(r, Top.AlertId, a.AlertId);
        t.Set(r, Top.ObjectId, a.ObjectId);
        t.Set(r, Top.Ra, a.Ra);
        t.Set(r, Top.Dec, a.Dec);
        t.Set(r, Top.RaErr, a.RaErr);
        t.Set(r, Top.DecErr, a.DecErr);
        t.Set(r, Top.MjdTai, a.MjdTai);
        t.Set(r, Top.Band, a.Band);
        t.Set(r, Top.Flux, a.Flux);
        t.Set(r, Top.FluxErr, a.FluxErr);
        t.Set(r, Top.Mag, a.Mag);
        t.Set(r, Top.MagErr, a.MagErr);
        t.Set(r, Top.IsPositive, a.IsPositive);
        t.Set(r, Top.RealBogus, a.RealBogus);

        var detections = new List<object?>(a.Detections.Count);
        var dl = _detection;
        for (int i = 0; i < a.Detections.Count; i++)
        {
            var d = a.Detections[i];
            var x = dl.NewRecord();
            dl.Set(x, Det.AlertId, d.AlertId);
            dl.Set(x, Det.MjdTai, d.MjdTai);
            dl.Set(x, Det.Band, d.Band);
            dl.Set(x, Det.Ra, d.Ra);
            dl.Set(x, Det.Dec, d.Dec);
            dl.Set(x, Det.Flux, d.Flux);
            dl.Set(x, Det.FluxErr, d.FluxErr);
            dl.Set(x, Det.Mag, d.Mag);
            dl.Set(x, Det.MagErr, d.MagErr);
            dl.Set(x, Det.IsPositive, d.IsPositive);
            dl.Set(x, Det.RealBogus, d.RealBogus);
            detections.Add(x);
        }
        t.Set(r, Top.Detections, detections);

        var limits = new List<object?>(a.UpperLimits.Count);
        for (int i = 0; i < a.UpperLimits.Count; i++)
        {
            var u = a.UpperLimits[i];
            var x = _upperLimit.NewRecord();
            _upperLimit.Set(x, Ul.MjdTai, u.MjdTai);
            _upperLimit.Set(x, Ul.Band, u.Band);
            _upperLimit.Set(x, Ul.LimitingMag, u.LimitingMag);
            limits.Add(x);
        }
        t.Set(r, Top.UpperLimits, limits);

        var forced = new List<object?>(a.ForcedPhotometry.Count);
        for (int i = 0; i < a.ForcedPhotometry.Count; i++)
        {
            var f = a.ForcedPhotometry[i];
            var x = _forcedPoint.NewRecord();
            _forcedPoint.Set(x, Fp.MjdTai, f.MjdTai);
            _forcedPoint.Set(x, Fp.Band, f.Band);
            _forcedPoint.Set(x, Fp.Flux, f.Flux);
            _forcedPoint.Set(x, Fp.FluxErr, f.FluxErr);
            forced.Add(x);
        }
        t.Set(r, Top.ForcedPhotometry, forced);

        if (a.Cutouts is { } c)
        {
            var x = _cutouts.NewRecord();
            _cutouts.Set(x, Cut.Format, c.Format);
            _cutouts.Set(x, Cut.Science, c.Science);
            _cutouts.Set(x, Cut.Template, c.Template);
            _cutouts.Set(x, Cut.Difference, c.Difference);
            t.Set(r, Top.Cutouts, x);
        }
        t.Set(r, Top.SurveyFields, ReadOnlyFieldMap.Unwrap(a.SurveyFields));

        var matches = new List<object?>(a.Crossmatches.Count);
        for (int i = 0; i < a.Crossmatches.Count; i++)
        {
            var m = a.Crossmatches[i];
            var x = _crossmatch.NewRecord();
            _crossmatch.Set(x, Xm.Catalog, m.Catalog);
            _crossmatch.Set(x, Xm.SourceId, m.SourceId);
            _crossmatch.Set(x, Xm.Ra, m.Ra);
            _crossmatch.Set(x, Xm.Dec, m.Dec);
            _crossmatch.Set(x, Xm.DistanceArcsec, m.DistanceArcsec);
            _crossmatch.Set(x, Xm.Properties, ReadOnlyFieldMap.Unwrap(m.Properties));
            _crossmatch.Set(x, Xm.CatalogRelease, m.CatalogRelease);
            _crossmatch.Set(x, Xm.MatchRadiusArcsec, m.MatchRadiusArcsec);
            _crossmatch.Set(x, Xm.ObjectType, m.ObjectType);
            _crossmatch.Set(x, Xm.Redshift, m.Redshift);
            _crossmatch.Set(x, Xm.PhysicalOffsetKpc, m.PhysicalOffsetKpc);
            matches.Add(x);
        }
        t.Set(r, Top.Crossmatches, matches);
        if (a.Galactic is { } g && _galactic is { } gp)
        {
            var x = gp.NewRecord();
            gp.Set(x, Gal.L, g.LDeg);
            gp.Set(x, Gal.B, g.BDeg);
            gp.Set(x, Gal.InPlane, g.InPlane);
            t.Set(r, Top.Galactic, x);
        }

        if (a.SolarSystem is { } sso)
        {
            var s = _solarSystem;
            var x = s.NewRecord();
            s.Set(x, Sso.Designation, sso.Designation);
            s.Set(x, Sso.DistanceArcsec, sso.DistanceArcsec);
            s.Set(x, Sso.PredictedMag, sso.PredictedMag);
            s.Set(x, Sso.Source, sso.Source);
            s.Set(x, Sso.PredictedRa, sso.PredictedRa);
            s.Set(x, Sso.PredictedDec, sso.PredictedDec);
            s.Set(x, Sso.RaRate, sso.RaRateArcsecPerHour);
            s.Set(x, Sso.DecRate, sso.DecRateArcsecPerHour);
            s.Set(x, Sso.EphemerisSource, sso.EphemerisSource);
            s.Set(x, Sso.EphemerisEpoch, sso.EphemerisEpochMjdTdb);
            s.Set(x, Sso.SurveyDesignation, sso.SurveyDesignation);
            s.Set(x, Sso.SurveyDistance, sso.SurveyDistanceArcsec);
            s.Set(x, Sso.Agreement, sso.Agreement);
            t.Set(r, Top.SolarSystem, x);
        }
        if (a.NewMover is { } mover && _newMover is { } mp)
        {
            var x = mp.NewRecord();
            mp.Set(x, Mover.Reason, mover.Reason);
            t.Set(r, Top.NewMover, x);
        }

        var classifications = new List<object?>(a.Classifications.Count);
        for (int i = 0; i < a.Classifications.Count; i++)
        {
            var k = a.Classifications[i];
            var x = _classification.NewRecord();
            _classification.Set(x, Cls.Classifier, k.Classifier);
            _classification.Set(x, Cls.Model, k.Model);
            _classification.Set(x, Cls.ModelVersion, k.ModelVersion);
            var probabilities = new Dictionary<string, object?>(k.Probabilities.Count, StringComparer.Ordinal);
            foreach (var (cls, p) in k.Probabilities) probabilities[cls] = p;
            _classification.Set(x, Cls.Probabilities, probabilities);
            _classification.Set(x, Cls.TopClass, k.TopClass);
            _classification.Set(x, Cls.Taxonomy, k.Taxonomy);
            _classification.Set(x, Cls.Classes, Strings(k.Classes));
            _classification.Set(x, Cls.NotClassifiedReason, k.NotClassifiedReason);
            classifications.Add(x);
        }
        t.Set(r, Top.Classifications, classifications);

        var names = new List<object?>(a.Filters.Count);
        var filterMatches = new List<object?>(a.Filters.Count);
        for (int i = 0; i < a.Filters.Count; i++)
        {
            var f = a.Filters[i];
            names.Add(f.Name);
            if (_filterMatch is { } fm)
            {
                var x = fm.NewRecord();
                fm.Set(x, Fm.Name, f.Name);
                fm.Set(x, Fm.Version, f.Version);
                filterMatches.Add(x);
            }
        }
        t.Set(r, Top.Filters, names);
        t.Set(r, Top.FilterMatches, filterMatches);

        var times = new Dictionary<string, object?>(a.StageTimes.Count, StringComparer.Ordinal);
        foreach (var (stage, micros) in a.StageTimes) times[stage] = micros;
        t.Set(r, Top.StageTimes, times);
        var versions = new Dictionary<string, object?>(a.StageVersions.Count, StringComparer.Ordinal);
        foreach (var (stage, version) in a.StageVersions) versions[stage] = version;
        t.Set(r, Top.StageVersions, versions);
        t.Set(r, Top.BrokerName, BrokerBuild.Current.Name);
        t.Set(r, Top.BrokerVersion, BrokerBuild.Current.Version);
        return r;
    }

    /// <summary>The alert held in a record of this schema.</summary>
    public Alert FromRecord(AvroRecord r)
    {
        var t = _top;
        var detectionItems = t.List(r, Top.Detections);
        var detections = new Detection[detectionItems.Count];
        var dl = _detection;
        for (int i = 0; i < detections.Length; i++)
        {
            var d = (AvroRecord)detectionItems[i]!;
            detections[i] = new Detection
            {
                AlertId = (long?)dl.Get(d, Det.AlertId),
                MjdTai = (double)dl.Get(d, Det.MjdTai)!,
                Band = (string)dl.Get(d, Det.Band)!,
                Ra = (double?)dl.Get(d, Det.Ra),
                Dec = (double?)dl.Get(d, Det.Dec),
                Flux = (double?)dl.Get(d, Det.Flux),
                FluxErr = (double?)dl.Get(d, Det.FluxErr),
                Mag = (double?)dl.Get(d, Det.Mag),
                MagErr = (double?)dl.Get(d, Det.MagErr),
                IsPositive = (bool)dl.Get(d, Det.IsPositive)!,
                RealBogus = (double?)dl.Get(d, Det.RealBogus),
            };
        }

        var limitItems = t.List(r, Top.UpperLimits);
        var limits = new UpperLimit[limitItems.Count];
        for (int i = 0; i < limits.Length; i++)
        {
            var u = (AvroRecord)limitItems[i]!;
            limits[i] = new UpperLimit((double)_upperLimit.Get(u, Ul.MjdTai)!, (string)_upperLimit.Get(u, Ul.Band)!, (double?)_upperLimit.Get(u, Ul.LimitingMag));
        }

        var forcedItems = t.List(r, Top.ForcedPhotometry);
        var forced = new ForcedPoint[forcedItems.Count];
        for (int i = 0; i < forced.Length; i++)
        {
            var f = (AvroRecord)forcedItems[i]!;
            forced[i] = new ForcedPoint((double)_forcedPoint.Get(f, Fp.MjdTai)!, (string)_forcedPoint.Get(f, Fp.Band)!,
                (double?)_forcedPoint.Get(f, Fp.Flux), (double?)_forcedPoint.Get(f, Fp.FluxErr));
        }

        Cutouts? cutouts = null;
        if (t.Get(r, Top.Cutouts) is AvroRecord c)
        {
            cutouts = new Cutouts((string)_cutouts.Get(c, Cut.Format)!, (byte[]?)_cutouts.Get(c, Cut.Science),
                (byte[]?)_cutouts.Get(c, Cut.Template), (byte[]?)_cutouts.Get(c, Cut.Difference));
        }

        var matchItems = t.List(r, Top.Crossmatches);
        var matches = new Crossmatch[matchItems.Count];
        for (int i = 0; i < matches.Length; i++)
        {
            var m = (AvroRecord)matchItems[i]!;
            var x = _crossmatch;
            matches[i] = new Crossmatch
            {
                Catalog = (string)x.Get(m, Xm.Catalog)!,
                SourceId = (string)x.Get(m, Xm.SourceId)!,
                Ra = (double)x.Get(m, Xm.Ra)!,
                Dec = (double)x.Get(m, Xm.Dec)!,
                DistanceArcsec = (double)x.Get(m, Xm.DistanceArcsec)!,
                Properties = ReadOnlyFieldMap.Wrap((Dictionary<string, object?>)x.Get(m, Xm.Properties)!),
                CatalogRelease = x.Get(m, Xm.CatalogRelease) as string ?? "",
                MatchRadiusArcsec = (double?)x.Get(m, Xm.MatchRadiusArcsec),
                ObjectType = (string?)x.Get(m, Xm.ObjectType),
                Redshift = (double?)x.Get(m, Xm.Redshift),
                PhysicalOffsetKpc = (double?)x.Get(m, Xm.PhysicalOffsetKpc),
            };
        }

        SolarSystemAssociation? solarSystem = null;
        if (t.Get(r, Top.SolarSystem) is AvroRecord ss)
        {
            var s = _solarSystem;
            solarSystem = new SolarSystemAssociation
            {
                Designation = (string)s.Get(ss, Sso.Designation)!,
                DistanceArcsec = (double)s.Get(ss, Sso.DistanceArcsec)!,
                PredictedMag = (double?)s.Get(ss, Sso.PredictedMag),
                Source = (string)s.Get(ss, Sso.Source)!,
                PredictedRa = (double?)s.Get(ss, Sso.PredictedRa),
                PredictedDec = (double?)s.Get(ss, Sso.PredictedDec),
                RaRateArcsecPerHour = (double?)s.Get(ss, Sso.RaRate),
                DecRateArcsecPerHour = (double?)s.Get(ss, Sso.DecRate),
                EphemerisSource = s.Get(ss, Sso.EphemerisSource) as string ?? "",
                EphemerisEpochMjdTdb = (double?)s.Get(ss, Sso.EphemerisEpoch),
                SurveyDesignation = s.Get(ss, Sso.SurveyDesignation) as string,
                SurveyDistanceArcsec = (double?)s.Get(ss, Sso.SurveyDistance),
                Agreement = s.Get(ss, Sso.Agreement) as string,
            };
        }

        var classItems = t.List(r, Top.Classifications);
        var classifications = new Classification[classItems.Count];
        for (int i = 0; i < classifications.Length; i++)
        {
            var k = (AvroRecord)classItems[i]!;
            var x = _classification;
            var map = (Dictionary<string, object?>)x.Get(k, Cls.Probabilities)!;
            var probabilities = new Dictionary<string, double>(map.Count, StringComparer.Ordinal);
            foreach (var (cls, p) in map) probabilities[cls] = (double)p!;
            classifications[i] = new Classification
            {
                Classifier = (string)x.Get(k, Cls.Classifier)!,
                Model = (string)x.Get(k, Cls.Model)!,
                ModelVersion = (string)x.Get(k, Cls.ModelVersion)!,
                Probabilities = probabilities.AsReadOnly(),
                TopClass = (string)x.Get(k, Cls.TopClass)!,
                Taxonomy = x.Get(k, Cls.Taxonomy) as string ?? "",
                Classes = ImmutableLists.Of(Strings(x.Get(k, Cls.Classes) as List<object?>)),
                NotClassifiedReason = (string?)x.Get(k, Cls.NotClassifiedReason),
            };
        }

        // Filter matches with their versions since 1.1; from a 1.0 record, the names alone.
        FilterMatch[] filters;
        if (_filterMatch is { } fm && t.Get(r, Top.FilterMatches) is List<object?> { Count: > 0 } fmItems)
        {
            filters = new FilterMatch[fmItems.Count];
            for (int i = 0; i < filters.Length; i++)
            {
                var f = (AvroRecord)fmItems[i]!;
                filters[i] = new FilterMatch((string)fm.Get(f, Fm.Name)!, (string)fm.Get(f, Fm.Version)!);
            }
        }
        else
        {
            var nameItems = t.List(r, Top.Filters);
            filters = new FilterMatch[nameItems.Count];
            for (int i = 0; i < filters.Length; i++) filters[i] = new FilterMatch((string)nameItems[i]!, "");
        }

        GalacticContext? galactic = null;
        if (_galactic is { } gp && t.Get(r, Top.Galactic) is AvroRecord gr)
            galactic = new GalacticContext((double)gp.Get(gr, Gal.L)!, (double)gp.Get(gr, Gal.B)!, (bool)gp.Get(gr, Gal.InPlane)!);

        NewMoverCandidate? newMover = null;
        if (_newMover is { } mp && t.Get(r, Top.NewMover) is AvroRecord mr) newMover = new NewMoverCandidate((string)mp.Get(mr, Mover.Reason)!);

        string? brokerVersion = t.Get(r, Top.BrokerVersion) as string;
        return new Alert
        {
            Survey = t.Get(r, Top.Survey) is AvroEnumValue e ? SurveyOf(e.Symbol) : Survey.Unknown,
            SurveySchemaVersion = (string)t.Get(r, Top.SurveySchemaVersion)!,
            AlertId = (long)t.Get(r, Top.AlertId)!,
            ObjectId = (string)t.Get(r, Top.ObjectId)!,
            Ra = (double)t.Get(r, Top.Ra)!,
            Dec = (double)t.Get(r, Top.Dec)!,
            RaErr = (double?)t.Get(r, Top.RaErr),
            DecErr = (double?)t.Get(r, Top.DecErr),
            MjdTai = (double)t.Get(r, Top.MjdTai)!,
            Band = (string)t.Get(r, Top.Band)!,
            Flux = (double)t.Get(r, Top.Flux)!,
            FluxErr = (double)t.Get(r, Top.FluxErr)!,
            Mag = (double?)t.Get(r, Top.Mag),
            MagErr = (double?)t.Get(r, Top.MagErr),
            IsPositive = (bool)t.Get(r, Top.IsPositive)!,
            RealBogus = (double?)t.Get(r, Top.RealBogus),
            Detections = ImmutableLists.Of(detections),
            UpperLimits = ImmutableLists.Of(limits),
            ForcedPhotometry = ImmutableLists.Of(forced),
            Cutouts = cutouts,
            SurveyFields = ReadOnlyFieldMap.Wrap((Dictionary<string, object?>)t.Get(r, Top.SurveyFields)!),
            Crossmatches = ImmutableLists.Of(matches),
            Galactic = galactic,
            SolarSystem = solarSystem,
            NewMover = newMover,
            Classifications = ImmutableLists.Of(classifications),
            Filters = ImmutableLists.Of(filters),
            StageTimes = Map(t.Get(r, Top.StageTimes) as Dictionary<string, object?>, static v => (long)v!),
            StageVersions = Map(t.Get(r, Top.StageVersions) as Dictionary<string, object?>, static v => (string)v!),
            WrittenBy = brokerVersion is null ? null : new BrokerBuild(t.Get(r, Top.BrokerName) as string ?? "", brokerVersion),
        };
    }

    private static Survey SurveyOf(string symbol) => symbol switch
    {
        "ZTF" => Survey.Ztf,
        "LSST" => Survey.Lsst,
        _ => Survey.Unknown,
    };

    private static List<object?> Strings(IReadOnlyList<string> items)
    {
        var list = new List<object?>(items.Count);
        for (int i = 0; i < items.Count; i++) list.Add(items[i]);
        return list;
    }

    private static string[] Strings(List<object?>? items)
    {
        if (items is null || items.Count == 0) return [];
        var result = new string[items.Count];
        for (int i = 0; i < result.Length; i++) result[i] = (string)items[i]!;
        return result;
    }

    private static ImmutableDictionary<string, T> Map<T>(Dictionary<string, object?>? map, Func<object?, T> value)
    {
        if (map is null || map.Count == 0) return ImmutableDictionary<string, T>.Empty;
        var b = ImmutableDictionary.CreateBuilder<string, T>(StringComparer.Ordinal);
        foreach (var (k, v) in map) b[k] = value(v);
        return b.ToImmutable();
    }

    private static RecordSchema ItemRecord(RecordSchema s, string arrayField) =>
        s.GetField(arrayField)?.Schema is ArraySchema { Items: RecordSchema items }
            ? items
            : throw new AvroSchemaException($"broker alert schema {s.FullName}: field {arrayField} is not an array of records");

    private static RecordSchema OptionalRecord(RecordSchema s, string field) =>
        s.GetField(field)?.Schema is UnionSchema { OptionalOf: RecordSchema record }
            ? record
            : throw new AvroSchemaException($"broker alert schema {s.FullName}: field {field} is not an optional record");

    /// <summary>
    /// The fields of one record schema the codec knows, by index into its name table, with their positions in the
    /// schema looked up once (-1: absent from this schema), and the schema's fields the codec does not know, which
    /// new records get the defaults of.
    /// </summary>
    private sealed class Part
    {
        private readonly RecordSchema _schema;
        private readonly string[] _names;
        private readonly int[] _position;
        private readonly AvroField[] _unknown;

        /// <param name="schema">The record schema.</param>
        /// <param name="names">The field names the codec knows.</param>
        /// <param name="required">How many of <paramref name="names"/>, from the first, must be in the schema (schema 1.0's).</param>
        public Part(RecordSchema schema, string[] names, int required)
        {
            _schema = schema;
            _names = names;
            _position = new int[names.Length];
            for (int i = 0; i < names.Length; i++)
            {
                _position[i] = schema.IndexOf(names[i]);
                if (_position[i] < 0 && i < required)
                    throw new AvroSchemaException($"broker alert schema: record {schema.FullName} has no field '{names[i]}'");
            }
            var unknown = new List<AvroField>();
            foreach (var f in schema.Fields)
            {
                if (Array.IndexOf(names, f.Name) >= 0) continue;
                if (f.Default is null) throw new AvroSchemaException($"broker alert schema: field '{f.Name}' of {schema.FullName} is unknown to the codec and has no default");
                unknown.Add(f);
            }
            _unknown = [.. unknown];
        }

        /// <summary>A record of the schema whose unknown fields hold their defaults.</summary>
        public AvroRecord NewRecord()
        {
            var r = new AvroRecord(_schema);
            foreach (var f in _unknown) r.Values[f.Position] = AvroDefaults.FromJson(f.Default!.Value, f.Schema, $"{_schema.FullName}.{f.Name}");
            return r;
        }

        public void Set(AvroRecord r, int field, object? value)
        {
            int p = _position[field];
            if (p >= 0) r.Values[p] = value;
        }

        /// <summary>A field's value, by its looked-up position (by name for a record of another schema); null when the schema lacks it.</summary>
        public object? Get(AvroRecord r, int field)
        {
            if (!ReferenceEquals(r.Schema, _schema)) return r.GetOrNull(_names[field]);
            int p = _position[field];
            return p < 0 ? null : r.Values[p];
        }

        public List<object?> List(AvroRecord r, int field) => Get(r, field) as List<object?> ?? [];
    }

    // Field tables: each record's field names as the codec knows them; the constants index these tables, not the
    // schema. Names before SinceV1_1 are schema 1.0's and required; later ones may be absent (older schemas).
    private static class Top
    {
        public const int SchemaVersion = 0, Survey = 1, SurveySchemaVersion = 2, AlertId = 3, ObjectId = 4, Ra = 5, Dec = 6, RaErr = 7,
            DecErr = 8, MjdTai = 9, Band = 10, Flux = 11, FluxErr = 12, Mag = 13, MagErr = 14, IsPositive = 15, RealBogus = 16,
            Detections = 17, UpperLimits = 18, ForcedPhotometry = 19, Cutouts = 20, SurveyFields = 21, Crossmatches = 22,
            SolarSystem = 23, Classifications = 24, Filters = 25, StageTimes = 26,
            BrokerName = 27, BrokerVersion = 28, StageVersions = 29, FilterMatches = 30, Galactic = 31, NewMover = 32;

        public const int SinceV1_1 = BrokerName;

        public static readonly string[] Names =
        [
            "schemaVersion", "survey", "surveySchemaVersion", "alertId", "objectId", "ra", "dec", "raErr",
            "decErr", "mjdTai", "band", "flux", "fluxErr", "mag", "magErr", "isPositive", "realBogus",
            "detections", "upperLimits", "forcedPhotometry", "cutouts", "surveyFields", "crossmatches",
            "solarSystem", "classifications", "filters", "stageTimes",
            "brokerName", "brokerVersion", "stageVersions", "filterMatches", "galactic", "newMover",
        ];
    }

    private static class Det
    {
        public const int AlertId = 0, MjdTai = 1, Band = 2, Ra = 3, Dec = 4, Flux = 5, FluxErr = 6, Mag = 7, MagErr = 8, IsPositive = 9, RealBogus = 10;

        public static readonly string[] Names = ["alertId", "mjdTai", "band", "ra", "dec", "flux", "fluxErr", "mag", "magErr", "isPositive", "realBogus"];
    }

    private static class Ul
    {
        public const int MjdTai = 0, Band = 1, LimitingMag = 2;

        public static readonly string[] Names = ["mjdTai", "band", "limitingMag"];
    }

    private static class Fp
    {
        public const int MjdTai = 0, Band = 1, Flux = 2, FluxErr = 3;

        public static readonly string[] Names = ["mjdTai", "band", "flux", "fluxErr"];
    }

    private static class Cut
    {
        public const int Format = 0, Science = 1, Template = 2, Difference = 3;

        public static readonly string[] Names = ["format", "science", "template", "difference"];
    }

    private static class Xm
    {
        public const int Catalog = 0, SourceId = 1, Ra = 2, Dec = 3, DistanceArcsec = 4, Properties = 5,
            CatalogRelease = 6, MatchRadiusArcsec = 7, ObjectType = 8, Redshift = 9, PhysicalOffsetKpc = 10;

        public const int SinceV1_1 = CatalogRelease;

        public static readonly string[] Names = ["catalog", "sourceId", "ra", "dec", "distanceArcsec", "properties", "catalogRelease", "matchRadiusArcsec", "objectType", "redshift", "physicalOffsetKpc"];
    }

    private static class Sso
    {
        public const int Designation = 0, DistanceArcsec = 1, PredictedMag = 2, Source = 3,
            PredictedRa = 4, PredictedDec = 5, RaRate = 6, DecRate = 7, EphemerisSource = 8, EphemerisEpoch = 9,
            SurveyDesignation = 10, SurveyDistance = 11, Agreement = 12;

        public const int SinceV1_1 = PredictedRa;

        public static readonly string[] Names =
        [
            "designation", "distanceArcsec", "predictedMag", "source",
            "predictedRa", "predictedDec", "raRateArcsecPerHour", "decRateArcsecPerHour", "ephemerisSource", "ephemerisEpochMjdTdb",
            "surveyDesignation", "surveyDistanceArcsec", "agreement",
        ];
    }

    private static class Cls
    {
        public const int Classifier = 0, Model = 1, ModelVersion = 2, Probabilities = 3, TopClass = 4,
            Taxonomy = 5, Classes = 6, NotClassifiedReason = 7;

        public const int SinceV1_1 = Taxonomy;

        public static readonly string[] Names = ["classifier", "model", "modelVersion", "probabilities", "topClass", "taxonomy", "classes", "notClassifiedReason"];
    }

    private static class Gal
    {
        public const int L = 0, B = 1, InPlane = 2;

        public static readonly string[] Names = ["l", "b", "inPlane"];
    }

    private static class Mover
    {
        public const int Reason = 0;

        public static readonly string[] Names = ["reason"];
    }

    private static class Fm
    {
        public const int Name = 0, Version = 1;

        public static readonly string[] Names = ["name", "version"];
    }
}

/// <summary>
/// A read-only view of a map that nobody else holds (a decoded Avro map, or one the survey mapper filled), which the
/// codec can hand back to an Avro record without copying.
/// </summary>
internal sealed class ReadOnlyFieldMap : System.Collections.ObjectModel.ReadOnlyDictionary<string, object?>
{
    private readonly Dictionary<string, object?> _inner;

    private ReadOnlyFieldMap(Dictionary<string, object?> inner) : base(inner) => _inner = inner;

    /// <summary>A view of the map; a map decoded with another comparer than the ordinal one is copied first.</summary>
    public static ReadOnlyFieldMap Wrap(Dictionary<string, object?> map) =>
        new(ReferenceEquals(map.Comparer, StringComparer.Ordinal) || ReferenceEquals(map.Comparer, EqualityComparer<string>.Default)
            ? map
            : new Dictionary<string, object?>(map, StringComparer.Ordinal));

    /// <summary>The map as an Avro map value: the inner map of a view, a dictionary as it is, anything else copied.</summary>
    public static Dictionary<string, object?> Unwrap(IReadOnlyDictionary<string, object?> map) => map switch
    {
        ReadOnlyFieldMap view => view._inner,
        Dictionary<string, object?> d => d,
        _ => new Dictionary<string, object?>(map, StringComparer.Ordinal),
    };
}

/// <summary>Immutable lists for <see cref="Alert"/>'s properties.</summary>
internal static class ImmutableLists
{
    /// <summary>An array as an immutable list, without a copy: the caller gives up the array.</summary>
    public static IReadOnlyList<T> Of<T>(T[] items) =>
        items.Length == 0 ? [] : System.Runtime.InteropServices.ImmutableCollectionsMarshal.AsImmutableArray(items);

    /// <summary>A list's items as an immutable list.</summary>
    public static IReadOnlyList<T> Of<T>(List<T> items) => items.Count == 0 ? [] : Of(items.ToArray());
}
