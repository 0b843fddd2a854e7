using System.Collections;
using System.Text.RegularExpressions;
using Avro.File;
using Avro.Generic;
using Avro.IO;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.TestSupport;
using ApacheSchema = Avro.Schema;

namespace Broker.Alerts.Tests.Avro;

/// <summary>
/// Apache.Avro (the library a .NET subscriber uses to read Broker's topics) as an independent reader of the same
/// bytes as Broker's codec: every real survey record and every Broker output record must read to the same values,
/// and the reader-schema gap that made Broker keep its own codec (issue 9, item 5) is pinned as a measured count.
/// </summary>
public sealed class ApacheAvroInteropTests
{
    /// <summary>ZTF records in shared/data (its README: 627 records in 563 files).</summary>
    private const int ZtfRecords = 627;

    /// <summary>Rubin records in shared/data: 7 + 12 in containers, 5 Confluent-framed.</summary>
    private const int RubinRecords = 24;

    /// <summary>
    /// How many ZTF records Apache.Avro 1.12.2 resolves through the official ZTF 4.02 reader schema, measured here:
    /// IPAC packets whose writers carry every 4.02 field that has no default. It refuses the 342 that Fink
    /// re-serialised with Spark.
    /// </summary>
    private const int ApacheResolvesThroughZtf402 = 44;

    /// <summary>
    /// How many Broker's codec resolves through the same reader schema: those 44 and the 342 Spark-rewritten ones.
    /// The other 241, with older writer schemas, lack 4.02 fields without defaults, so no conforming reader resolves them.
    /// </summary>
    private const int BrokerResolvesThroughZtf402 = 386;

    [OracleFact]
    public void Every_real_ztf_and_rubin_record_reads_to_the_same_values_in_apache_avro_as_in_brokers_codec()
    {
        var registry = new FolderSchemaRegistry(SharedData.Path("lsst/schema"));
        var rubinWriters = ApacheAvroSchemas.RubinAlertSchemas(SharedData.Path("lsst/schema"));
        int ztf = 0, rubin = 0;
        foreach (var (folder, isZtf) in new[] { ("ztf/alerts", true), ("lsst/alerts", false) })
        {
            foreach (var raw in AlertFiles.Read([SharedData.Path(folder)]))
            {
                Assert.True(raw.Error is null, $"{raw.Source}: {raw.Error}");
                int n = AvroContainerReader.IsContainer(raw.Bytes.Span)
                    ? CompareContainer(raw)
                    : CompareConfluent(raw, registry, rubinWriters);
                if (isZtf) ztf += n;
                else rubin += n;
            }
        }
        Assert.Equal(ZtfRecords, ztf);
        Assert.Equal(RubinRecords, rubin);
    }

    /// <summary>Apache.Avro's <c>DataFileReader</c> against Broker's container reader, record by record.</summary>
    private static int CompareContainer(RawAlertMessage raw)
    {
        var ours = AvroContainerReader.Open(raw.Bytes).Records().ToList();
        using var theirs = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(raw.Bytes.ToArray()));
        var apache = theirs.NextEntries.ToList();
        Assert.True(ours.Count == apache.Count, $"{raw.Source}: Broker read {ours.Count} records, Apache.Avro {apache.Count}");
        for (int i = 0; i < ours.Count; i++) AvroValueComparer.AssertSame(ours[i], apache[i], $"{raw.Source} #{i}");
        return ours.Count;
    }

    /// <summary>A Confluent-framed Rubin message: writer schema by id, as a subscriber resolves it from the registry.</summary>
    private static int CompareConfluent(RawAlertMessage raw, FolderSchemaRegistry registry, IReadOnlyDictionary<string, ApacheSchema> writers)
    {
        Assert.True(ConfluentWireFormat.TryParse(raw.Bytes.Span, out int id, out var body), $"{raw.Source}: neither a container nor Confluent-framed");
        var writer = (RecordSchema)registry.GetSchema(id);
        var ours = AvroDatumReader.For(writer).Read(body);
        var theirs = ApacheAvroSchemas.Read(writers[writer.FullName], writers[writer.FullName], body.ToArray());
        AvroValueComparer.AssertSame(ours, theirs, $"{raw.Source} (schema id {id})");
        return 1;
    }

    [OracleFact]
    public void Every_real_alert_as_a_broker_alert_reads_to_the_same_values_in_apache_avro_with_every_broker_schema_version()
    {
        var versions = BrokerSchemaVersions();
        Assert.NotEmpty(versions);
        // The bytes on Broker's topics are written with the current schema; it must be one of the files, so that a
        // subscriber holding the file reads exactly what Broker writes.
        var current = versions.Where(v => v.Ours.CanonicalForm == BrokerAlertCodec.Schema.CanonicalForm).ToList();
        Assert.True(current.Count == 1, $"the current broker schema matches {current.Count} files in schemas/broker");
        var writer = current[0].Theirs;

        int alerts = 0;
        foreach (var item in AvroReferenceDecoderTests.ReadAllSamples())
        {
            Assert.True(item.Ok, $"{item.Source}: {item.Error}");
            var alert = SurveyAlertMapper.Map(item.Record!);
            byte[] bytes = BrokerAlertCodec.Encode(alert);
            string where = $"{item.Source} #{item.Index}";
            AvroValueComparer.AssertSame(BrokerAlertCodec.ToRecord(BrokerAlertCodec.Decode(bytes)),
                ApacheAvroSchemas.Read(writer, writer, bytes), $"{where} (BrokerAlertCodec.Decode)");
            // Every version, older ones included, is a reader schema a subscriber may still hold.
            foreach (var (file, ours, theirs) in versions)
            {
                AvroValueComparer.AssertSame(AvroDatumReader.For(BrokerAlertCodec.Schema, ours).Read(bytes),
                    ApacheAvroSchemas.Read(writer, theirs, bytes), $"{where} read with {Path.GetFileName(file)}");
            }
            alerts++;
        }
        Assert.Equal(ZtfRecords + RubinRecords, alerts);
    }

    [OracleFact]
    public void A_broker_alert_with_every_schema_1_3_field_set_reads_the_same_in_apache_avro_with_every_schema_version()
    {
        var alert = Broker.Alerts.Tests.Model.BrokerAlertSamples.Full();
        Broker.Alerts.Tests.Model.BrokerAlertSamples.AssertEveryFieldSet(BrokerAlertCodec.ToRecord(alert));
        byte[] bytes = BrokerAlertCodec.Encode(alert);
        var versions = BrokerSchemaVersions();
        Assert.Contains(versions, v => Path.GetFileName(v.File) == "broker.alert.v1.1.avsc");
        Assert.Contains(versions, v => Path.GetFileName(v.File) == "broker.alert.v1.2.avsc");
        Assert.Contains(versions, v => Path.GetFileName(v.File) == "broker.alert.v1.3.avsc");
        var writer = versions.Single(v => v.Ours.CanonicalForm == BrokerAlertCodec.Schema.CanonicalForm).Theirs;
        AvroValueComparer.AssertSame(BrokerAlertCodec.ToRecord(BrokerAlertCodec.Decode(bytes)), ApacheAvroSchemas.Read(writer, writer, bytes), "full alert");
        foreach (var (file, ours, theirs) in versions)
        {
            AvroValueComparer.AssertSame(AvroDatumReader.For(BrokerAlertCodec.Schema, ours).Read(bytes),
                ApacheAvroSchemas.Read(writer, theirs, bytes), $"full alert read with {Path.GetFileName(file)}");
        }
    }

    [OracleFact]
    public void Schema_1_0_records_written_by_apache_avro_decode_under_the_current_code_and_resolve_to_1_1_and_1_2_as_apache_avro_resolves_them()
    {
        // Apache.Avro as an independent writer of 1.0 records (what a 1.0 producer left on a topic): its bytes are
        // Broker's 1.0 bytes, the current codec decodes them, and both libraries resolve them to 1.1 and 1.2 alike.
        var versions = BrokerSchemaVersions();
        var v1 = versions.Single(v => Path.GetFileName(v.File) == "broker.alert.v1.avsc");
        var v11 = versions.Single(v => Path.GetFileName(v.File) == "broker.alert.v1.1.avsc");
        var v12 = versions.Single(v => Path.GetFileName(v.File) == "broker.alert.v1.2.avsc");
        Assert.Equal(BrokerAlertCodec.SchemaV1.CanonicalForm, v1.Ours.CanonicalForm);
        var layout = BrokerAlertCodec.LayoutOf(BrokerAlertCodec.SchemaV1);
        var apacheWriter = new GenericDatumWriter<object>(v1.Theirs);
        var alerts = AvroReferenceDecoderTests.ReadAllSamples().Select(i => SurveyAlertMapper.Map(i.Record!)).Prepend(Broker.Alerts.Tests.Model.BrokerAlertSamples.Full()).ToList();
        foreach (var alert in alerts)
        {
            var record = layout.ToRecord(alert);
            using var ms = new MemoryStream();
            apacheWriter.Write(ApacheValues.From(record, v1.Theirs)!, new BinaryEncoder(ms));
            byte[] theirBytes = ms.ToArray();
            string where = $"alert {alert.AlertId}";
            Assert.True(theirBytes.AsSpan().SequenceEqual(layout.Encode(alert)), $"{where}: Apache.Avro's 1.0 bytes differ from Broker's");
            // Every 1.0 value comes back: the decoded alert, written as 1.0 again, is the same record.
            var decoded = BrokerAlertCodec.Decode(theirBytes);
            Assert.Equal(AvroJson.ToJson(record), AvroJson.ToJson(layout.ToRecord(decoded)));
            AvroValueComparer.AssertSame(AvroDatumReader.For(BrokerAlertCodec.SchemaV1, BrokerAlertCodec.SchemaV1_1).Read(theirBytes),
                ApacheAvroSchemas.Read(v1.Theirs, v11.Theirs, theirBytes), $"{where}: 1.0 read as 1.1");
            AvroValueComparer.AssertSame(AvroDatumReader.For(BrokerAlertCodec.SchemaV1, BrokerAlertCodec.SchemaV1_2).Read(theirBytes),
                ApacheAvroSchemas.Read(v1.Theirs, v12.Theirs, theirBytes), $"{where}: 1.0 read as 1.2");
        }
        Assert.Equal(ZtfRecords + RubinRecords + 1, alerts.Count);
    }

    [OracleFact]
    public void The_value_comparison_finds_one_changed_nested_double_a_long_read_as_int_and_a_shortened_array()
    {
        // The comparisons above pass only if this one can fail: one real packet, then three small corruptions.
        var raw = AlertFiles.Read([SharedData.Path("ztf/alerts/pittgoogle-client")]).First();
        var ours = AvroContainerReader.Open(raw.Bytes).Records().Single();
        GenericRecord Theirs()
        {
            using var file = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(raw.Bytes.ToArray()));
            return file.Next();
        }
        AvroValueComparer.AssertSame(ours, Theirs(), "unchanged");

        var changedDouble = Theirs();
        var candidate = (GenericRecord)changedDouble["candidate"];
        candidate.Add("ra", BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits((double)candidate["ra"]) + 1));
        Assert.Contains("candidate.ra", Assert.ThrowsAny<Exception>(() => AvroValueComparer.AssertSame(ours, changedDouble, "x")).Message);

        var changedType = Theirs();
        changedType.Add("candid", (int)(long)changedType["candid"]);
        Assert.Contains(".candid", Assert.ThrowsAny<Exception>(() => AvroValueComparer.AssertSame(ours, changedType, "x")).Message);

        var shortened = Theirs();
        var history = (IList)shortened["prv_candidates"];
        Assert.NotEmpty(history);
        shortened.Add("prv_candidates", history.Cast<object>().Skip(1).ToArray());
        Assert.Contains(".prv_candidates", Assert.ThrowsAny<Exception>(() => AvroValueComparer.AssertSame(ours, shortened, "x")).Message);
    }

    /// <summary>Every <c>schemas/broker/broker.alert.v*.avsc</c>, parsed by both libraries.</summary>
    private static List<(string File, AvroSchema Ours, ApacheSchema Theirs)> BrokerSchemaVersions() =>
        Directory.GetFiles(SharedData.RepositoryPath("schemas/broker"), "broker.alert.v*.avsc")
            .Order(StringComparer.Ordinal)
            .Select(f => (f, AvroSchema.Parse(File.ReadAllText(f)), ApacheSchema.Parse(File.ReadAllText(f))))
            .ToList();

    [OracleFact]
    public void Through_the_official_ztf_4_02_reader_schema_apache_avro_resolves_44_of_627_records_and_brokers_codec_386()
    {
        string schemaFolder = SharedData.Path("ztf/schema");
        var theirReader = ApacheAvroSchemas.ParseFolder(schemaFolder)["ztf.alert"];
        var ourReader = new AvroSchemaNames().LoadFolder(schemaFolder).Single(kv => kv.Key.EndsWith("alert.avsc", StringComparison.Ordinal)).Value;
        int total = 0, both = 0, brokerOnly = 0, neither = 0;
        foreach (var raw in AlertFiles.Read([SharedData.Path("ztf/alerts")]))
        {
            var container = AvroContainerReader.Open(raw.Bytes);
            using var file = DataFileReader<GenericRecord>.OpenReader(new MemoryStream(raw.Bytes.ToArray()));
            var theirWriter = file.GetSchema();
            AvroDatumReader? ours = null;
            try
            {
                ours = AvroDatumReader.For(container.WriterSchema, ourReader);
            }
            catch (AvroResolutionException e)
            {
                // Older writer schemas lack 4.02 fields that have no default, which the specification forbids
                // resolving; Broker's refusal names the field, and that field really is absent from the writer.
                var m = Regex.Match(e.Message, @"reader field '(\w+)' of ([\w.]+) is missing from writer");
                Assert.True(m.Success, $"{raw.Source}: {e.Message}");
                var writerNames = new AvroSchemaNames();
                AvroSchema.Parse(container.WriterSchema.ToString(), writerNames);
                Assert.True(writerNames.TryGet(m.Groups[2].Value, out var writerRecord), $"{raw.Source}: the writer has no {m.Groups[2].Value}");
                Assert.Null(((RecordSchema)writerRecord).GetField(m.Groups[1].Value));
            }
            int index = 0;
            foreach (var datum in container.RawDatums())
            {
                string where = $"{raw.Source} #{index++}";
                object? theirs = null;
                string? apacheError = null;
                try
                {
                    theirs = ApacheAvroSchemas.Read(theirWriter, theirReader, datum.ToArray());
                }
                catch (global::Avro.AvroException e)
                {
                    apacheError = e.Message;
                }
                if (ours is null)
                {
                    // Apache.Avro refuses these too: the two libraries agree on what the specification forbids.
                    Assert.True(apacheError is not null, $"{where}: Apache.Avro resolved a record Broker's codec refuses");
                    neither++;
                }
                else if (apacheError is null)
                {
                    var resolved = Assert.IsType<AvroRecord>(ours.Read(datum.Span));
                    Assert.Equal("ztf.alert", resolved.Schema.FullName);
                    AvroValueComparer.AssertSame(resolved, theirs, where);
                    both++;
                }
                else
                {
                    // Spark names every record after its field (topLevelRecord, prv_candidates, cutoutScience)
                    // where the reader says alert, prv_candidate, cutout. Apache.Avro insists on record names and
                    // says so in one message that dumps both whole schemas and names no field; Broker's codec
                    // matches a writer record to the reader record in the same position and resolves by field.
                    Assert.StartsWith("Schema mismatch. Reader: {", apacheError, StringComparison.Ordinal);
                    Assert.DoesNotContain("field ", apacheError[..apacheError.IndexOf('{', StringComparison.Ordinal)], StringComparison.Ordinal);
                    Assert.Equal("ztf.alert", Assert.IsType<AvroRecord>(ours.Read(datum.Span)).Schema.FullName);
                    brokerOnly++;
                }
            }
            total += index;
        }
        Assert.Equal(ZtfRecords, total);
        Assert.Equal(ApacheResolvesThroughZtf402, both);
        Assert.Equal(BrokerResolvesThroughZtf402, both + brokerOnly);
        Assert.Equal(ZtfRecords - BrokerResolvesThroughZtf402, neither);
    }
}

/// <summary>Broker's generic values as Apache.Avro's generic values of a schema, for its writer.</summary>
internal static class ApacheValues
{
    public static object? From(object? ours, ApacheSchema schema)
    {
        switch (schema)
        {
            case global::Avro.UnionSchema u:
                if (ours is null) return null;
                foreach (var branch in u.Schemas)
                {
                    if (Fits(ours, branch)) return From(ours, branch);
                }
                throw new InvalidOperationException($"{ours.GetType().Name} fits no branch of {u}");
            case global::Avro.RecordSchema rs:
            {
                var r = (AvroRecord)ours!;
                var g = new GenericRecord(rs);
                foreach (var f in rs.Fields) g.Add(f.Name, From(r[f.Name], f.Schema));
                return g;
            }
            case global::Avro.ArraySchema a:
                return ((List<object?>)ours!).Select(item => From(item, a.ItemSchema)).ToArray();
            case global::Avro.MapSchema m:
                return ((Dictionary<string, object?>)ours!).ToDictionary(kv => kv.Key, kv => From(kv.Value, m.ValueSchema)!);
            case global::Avro.EnumSchema e:
                return new GenericEnum(e, ((AvroEnumValue)ours!).Symbol);
            default:
                return ours;
        }
    }

    private static bool Fits(object value, ApacheSchema branch) => branch.Tag switch
    {
        ApacheSchema.Type.Null => false,
        ApacheSchema.Type.Boolean => value is bool,
        ApacheSchema.Type.Int => value is int,
        ApacheSchema.Type.Long => value is long,
        ApacheSchema.Type.Float => value is float,
        ApacheSchema.Type.Double => value is double,
        ApacheSchema.Type.Bytes => value is byte[],
        ApacheSchema.Type.String => value is string,
        ApacheSchema.Type.Record => value is AvroRecord r && r.Schema.Name == ((global::Avro.RecordSchema)branch).Name,
        ApacheSchema.Type.Array => value is List<object?>,
        ApacheSchema.Type.Map => value is Dictionary<string, object?>,
        ApacheSchema.Type.Enumeration => value is AvroEnumValue,
        _ => false,
    };
}

/// <summary>Apache.Avro schema loading and datum reading, as a .NET subscriber would do it.</summary>
internal static class ApacheAvroSchemas
{
    /// <summary>Decodes one datum (no framing) with Apache.Avro's <c>GenericDatumReader</c>.</summary>
    public static object Read(ApacheSchema writer, ApacheSchema reader, byte[] datum) =>
        new GenericDatumReader<object>(writer, reader).Read(null!, new BinaryDecoder(new MemoryStream(datum)));

    /// <summary>
    /// Every named type defined by the <c>*.avsc</c> files of one folder, by full name. The files refer to each other
    /// by name, so each is parsed into one shared <c>SchemaNames</c> after the files it needs; a file that fails for
    /// an unknown name is retried against a copy of the table, because a failed parse may leave half its names in it.
    /// </summary>
    public static Dictionary<string, ApacheSchema> ParseFolder(string folder)
    {
        var names = new global::Avro.SchemaNames();
        var pending = Directory.GetFiles(folder, "*.avsc").Order(StringComparer.Ordinal).ToList();
        while (pending.Count > 0)
        {
            var errors = new List<string>();
            int before = pending.Count;
            foreach (string file in pending.ToList())
            {
                var attempt = new global::Avro.SchemaNames();
                foreach (var (name, schema) in names.Names) attempt.Add(name, schema);
                try
                {
                    ApacheSchema.Parse(File.ReadAllText(file), attempt, null!);
                    names = attempt;
                    pending.Remove(file);
                }
                catch (global::Avro.SchemaParseException e)
                {
                    errors.Add($"{file}: {e.Message}");
                }
            }
            if (pending.Count == before)
                throw new InvalidOperationException("Apache.Avro cannot parse:\n" + string.Join("\n", errors));
        }
        return names.Names.ToDictionary(kv => kv.Key.Fullname, kv => (ApacheSchema)kv.Value, StringComparer.Ordinal);
    }

    /// <summary>Each Rubin version's <c>lsst.vX_Y.alert</c> record under <paramref name="root"/>, by full name.</summary>
    public static Dictionary<string, ApacheSchema> RubinAlertSchemas(string root)
    {
        var result = new Dictionary<string, ApacheSchema>(StringComparer.Ordinal);
        foreach (string dir in Directory.GetDirectories(root).Where(d => Directory.GetFiles(d, "*.avsc").Length > 0))
        {
            foreach (var (name, schema) in ParseFolder(dir))
                if (name.EndsWith(".alert", StringComparison.Ordinal)) result.Add(name, schema);
        }
        return result;
    }
}

/// <summary>
/// Compares a value from Broker's codec (<see cref="AvroRecord"/> and the types it documents) with Apache.Avro's
/// generic value for the same datum, recursively and by exact type: an int is not a long, a float is not a double.
/// Doubles and floats must be bit-equal, except that any NaN equals any NaN (Avro does not fix NaN payloads).
/// </summary>
internal static class AvroValueComparer
{
    public static void AssertSame(object? ours, object? theirs, string where) => Compare(ours, theirs, where);

    private static void Compare(object? ours, object? theirs, string path)
    {
        switch (ours)
        {
            case null:
                Assert.True(theirs is null, $"{path}: Broker null, Apache.Avro {Describe(theirs)}");
                return;
            case AvroRecord r:
                var g = Expect<GenericRecord>(theirs, path);
                Assert.True(r.Schema.FullName == g.Schema.Fullname, $"{path}: record {r.Schema.FullName} against {g.Schema.Fullname}");
                Assert.True(r.Schema.Fields.Count == g.Schema.Count, $"{path}: {r.Schema.Fields.Count} fields against {g.Schema.Count}");
                foreach (var field in r.Schema.Fields)
                {
                    Assert.True(g.TryGetValue(field.Name, out object? value), $"{path}.{field.Name}: absent from Apache.Avro's record");
                    Compare(r[field.Position], value, $"{path}.{field.Name}");
                }
                return;
            case List<object?> list:
                var array = Expect<IList>(theirs, path);
                Assert.True(list.Count == array.Count, $"{path}: {list.Count} items against {array.Count}");
                for (int i = 0; i < list.Count; i++) Compare(list[i], array[i], $"{path}[{i}]");
                return;
            case Dictionary<string, object?> map:
                var dict = Expect<IDictionary>(theirs, path);
                Assert.True(map.Count == dict.Count, $"{path}: {map.Count} entries against {dict.Count}");
                foreach (var (key, value) in map)
                {
                    Assert.True(dict.Contains(key), $"{path}[\"{key}\"]: absent from Apache.Avro's map");
                    Compare(value, dict[key], $"{path}[\"{key}\"]");
                }
                return;
            case AvroEnumValue e:
                var ge = Expect<GenericEnum>(theirs, path);
                Assert.True(e.Symbol == ge.Value && e.Schema.FullName == ge.Schema.Fullname, $"{path}: enum {e.Schema.FullName}.{e.Symbol} against {ge.Schema.Fullname}.{ge.Value}");
                return;
            case AvroFixed f:
                var gf = Expect<GenericFixed>(theirs, path);
                Assert.True(f.Schema.FullName == gf.Schema.Fullname && f.Bytes.AsSpan().SequenceEqual(gf.Value), $"{path}: fixed values differ");
                return;
            case byte[] bytes:
                Assert.True(bytes.AsSpan().SequenceEqual(Expect<byte[]>(theirs, path)), $"{path}: bytes differ");
                return;
            case double d:
                double td = Expect<double>(theirs, path);
                Assert.True(double.IsNaN(d) ? double.IsNaN(td) : BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits(td), $"{path}: {d:R} against {td:R}");
                return;
            case float s:
                float ts = Expect<float>(theirs, path);
                Assert.True(float.IsNaN(s) ? float.IsNaN(ts) : BitConverter.SingleToInt32Bits(s) == BitConverter.SingleToInt32Bits(ts), $"{path}: {s:R} against {ts:R}");
                return;
            case long l when theirs is DateTime t:
                // Apache.Avro applies timestamp-micros (Rubin's mpc_orbits); Broker keeps the long, as the
                // specification's underlying type. Same instant, to the microsecond.
                Assert.True(l == (t.ToUniversalTime() - DateTime.UnixEpoch).Ticks / 10, $"{path}: {l} µs against {t:O}");
                return;
            case long or int or bool or string:
                Assert.True(theirs is not null && theirs.GetType() == ours.GetType() && ours.Equals(theirs), $"{path}: {Describe(ours)} against {Describe(theirs)}");
                return;
            default:
                Assert.Fail($"{path}: Broker's codec gave a {ours.GetType().Name}, which is not an Avro generic value");
                return;
        }
    }

    private static T Expect<T>(object? theirs, string path) =>
        theirs is T t ? t : throw new Xunit.Sdk.XunitException($"{path}: Apache.Avro gave {Describe(theirs)}, expected a {typeof(T).Name}");

    private static string Describe(object? value) => value is null ? "null" : $"{value.GetType().Name} {value}";
}
