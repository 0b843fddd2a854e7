using Broker.Alerts.Avro;

namespace Broker.Simulation;

/// <summary>
/// Broker's own copies of the survey alert schemas (schemas/ztf: ZTF 4.02; schemas/lsst: Rubin lsst.v11_0), written
/// from the published field lists by tools/schemas/write_survey_schemas.py and embedded in this assembly.
/// </summary>
public static class SurveySchemas
{
    private static readonly Lazy<RecordSchema> ZtfSchema = new(() => Load("schemas.ztf.", ["candidate", "prv_candidate", "cutout", "fp_hist", "alert"], "ztf.alert", "ztf.alert.avsc"));
    private static readonly Lazy<RecordSchema> LsstSchema = new(() => Load("schemas.lsst.", ["diaSource", "diaObject", "diaForcedSource", "ssSource", "mpc_orbits", "alert"], "lsst.v11_0.", "lsst.v11_0.alert.avsc"));

    /// <summary>The ZTF 4.02 alert record, <c>ztf.alert</c>.</summary>
    public static RecordSchema Ztf => ZtfSchema.Value;

    /// <summary>The Rubin alert record, <c>lsst.v11_0.alert</c>.</summary>
    public static RecordSchema Lsst => LsstSchema.Value;

    /// <summary>The record type named <paramref name="name"/> among an alert's fields (optional, array items or direct).</summary>
    /// <exception cref="InvalidOperationException">The alert has no such record.</exception>
    public static RecordSchema NestedRecord(RecordSchema alert, string name)
    {
        foreach (var f in alert.Fields)
        {
            var s = f.Schema is UnionSchema u ? u.OptionalOf! : f.Schema;
            if (s is ArraySchema a) s = a.Items;
            if (s is RecordSchema r && r.Name == name) return r;
        }
        throw new InvalidOperationException($"{alert.FullName} has no {name} record");
    }

    /// <summary>The Confluent schema id Rubin uses for lsst.v11_0: 1100 (<see cref="ConfluentWireFormat.RubinSchemaId"/>).</summary>
    public static int LsstSchemaId { get; } = ConfluentWireFormat.RubinSchemaId(11, 0);

    /// <summary>The ZTF schema version string written in <c>schemavsn</c>.</summary>
    public const string ZtfVersion = "4.02";

    private static RecordSchema Load(string prefix, string[] parts, string filePrefix, string alertFile)
    {
        var names = new AvroSchemaNames();
        AvroSchema? alert = null;
        foreach (var part in parts)
        {
            string file = part == "alert" ? alertFile : filePrefix.EndsWith('.') ? filePrefix + part + ".avsc" : filePrefix + "." + part + ".avsc";
            using var stream = typeof(SurveySchemas).Assembly.GetManifestResourceStream(prefix + file)
                ?? throw new InvalidOperationException($"embedded schema {prefix + file} is missing from Broker.Simulation");
            using var reader = new StreamReader(stream);
            var parsed = AvroSchema.Parse(reader.ReadToEnd(), names);
            if (part == "alert") alert = parsed;
        }
        return (RecordSchema)alert!;
    }
}
