using System.Reflection;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>Where a field comes from.</summary>
public enum FieldSource
{
    /// <summary>Broker's survey-neutral alert and what its stages add (the same for both surveys).</summary>
    Broker,

    /// <summary>A ZTF alert field (schema 4.02 names); null on a Rubin alert.</summary>
    Ztf,

    /// <summary>A Rubin alert field (lsst.v11_0 names); null on a ZTF alert.</summary>
    Lsst,
}

/// <summary>One field a filter can name: its path, type, origin and how it is read from an alert.</summary>
public sealed class FieldDefinition
{
    internal FieldDefinition(string path, FilterType type, FieldSource source, string description, FieldReader reader)
    {
        Path = path;
        Type = type;
        Source = source;
        Description = description;
        Reader = reader;
    }

    /// <summary>The path a filter writes (case-sensitive): <c>candidate.magpsf</c>, <c>class.stamp.SN</c>.</summary>
    public string Path { get; }

    /// <summary>Its type.</summary>
    public FilterType Type { get; }

    /// <summary>Where it comes from.</summary>
    public FieldSource Source { get; }

    /// <summary>What it holds, with units.</summary>
    public string Description { get; }

    internal FieldReader Reader { get; }
}

/// <summary>
/// Every field the filter language knows: Broker's survey-neutral alert, what the crossmatch, solar-system and
/// classifier stages add, and every scalar field of the ZTF 4.02 and Rubin lsst.v11_0 alert schemas (from
/// <c>schemas/ztf</c> and <c>schemas/lsst</c>, embedded) under their schema paths. docs/filters.md lists them.
/// </summary>
public sealed class FieldCatalog
{
    private readonly Dictionary<string, FieldDefinition> _fields;

    private FieldCatalog(Dictionary<string, FieldDefinition> fields) => _fields = fields;

    /// <summary>The stamp classifier's classes (docs/stamps.md) and braai's, the classifiers the default catalogue knows.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> DefaultClassifiers { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["stamp"] = ["AGN", "SN", "VS", "asteroid", "bogus"],
        ["braai"] = ["bogus", "real"],
    };

    /// <summary>The catalogue with Broker's fields, the two surveys' and <see cref="DefaultClassifiers"/>.</summary>
    public static FieldCatalog Default => LazyDefault.Value;

    private static readonly Lazy<FieldCatalog> LazyDefault = new(() => Create(DefaultClassifiers));

    /// <summary>Every field, by path.</summary>
    public IReadOnlyCollection<FieldDefinition> Fields => _fields.Values;

    /// <summary>The field at a path, or null.</summary>
    public FieldDefinition? Find(string path) => _fields.GetValueOrDefault(path);

    /// <summary>A catalogue that knows these classifiers (name to classes) besides Broker's and the surveys' fields.</summary>
    public static FieldCatalog Create(IReadOnlyDictionary<string, IReadOnlyList<string>> classifiers)
    {
        var f = new Dictionary<string, FieldDefinition>(StringComparer.Ordinal);
        // Survey fields first, so that Broker's survey-neutral names (objectId) take precedence where they coincide.
        foreach (var (prefix, file, source) in SurveyRecords) AddSurvey(f, prefix, file, source);
        AddBroker(f);
        foreach (var (classifier, classes) in classifiers)
        {
            foreach (var cls in classes)
            {
                string c = cls, k = classifier;
                Add(f, $"class.{k}.{c}", FilterType.Real, $"probability of class {c} from the {k} classifier; null when it did not run or did not classify the alert",
                    FieldReader.Real(a => Probability(a, k, c)));
            }
            Add(f, $"class.{classifier}.topClass", FilterType.String, $"the {classifier} classifier's most probable class; null when it did not run or did not classify",
                FieldReader.String(a => ClassificationOf(a, classifier) is { IsClassified: true } x ? x.TopClass : null));
            Add(f, $"class.{classifier}.notClassifiedReason", FilterType.String, $"why the {classifier} classifier did not classify the alert (\"no cutouts\"); null when it did or did not run",
                FieldReader.String(a => ClassificationOf(a, classifier)?.NotClassifiedReason));
        }
        return new FieldCatalog(f);
    }

    private static readonly (string Prefix, string Resource, FieldSource Source)[] SurveyRecords =
    [
        ("", "schemas.ztf.ztf.alert.avsc", FieldSource.Ztf),
        ("candidate.", "schemas.ztf.ztf.alert.candidate.avsc", FieldSource.Ztf),
        ("", "schemas.lsst.lsst.v11_0.alert.avsc", FieldSource.Lsst),
        ("diaSource.", "schemas.lsst.lsst.v11_0.diaSource.avsc", FieldSource.Lsst),
        ("diaObject.", "schemas.lsst.lsst.v11_0.diaObject.avsc", FieldSource.Lsst),
        ("ssSource.", "schemas.lsst.lsst.v11_0.ssSource.avsc", FieldSource.Lsst),
        ("mpc_orbits.", "schemas.lsst.lsst.v11_0.mpc_orbits.avsc", FieldSource.Lsst),
    ];

    private static void AddSurvey(Dictionary<string, FieldDefinition> into, string prefix, string resource, FieldSource source)
    {
        // Each file alone: fields that refer to other records (the alert's diaSource) are skipped, so no names are needed.
        var names = new AvroSchemaNames();
        string[] siblings = source == FieldSource.Ztf
            ? ["schemas.ztf.ztf.alert.cutout.avsc", "schemas.ztf.ztf.alert.candidate.avsc", "schemas.ztf.ztf.alert.prv_candidate.avsc", "schemas.ztf.ztf.alert.fp_hist.avsc"]
            : ["schemas.lsst.lsst.v11_0.diaSource.avsc", "schemas.lsst.lsst.v11_0.diaForcedSource.avsc", "schemas.lsst.lsst.v11_0.diaObject.avsc", "schemas.lsst.lsst.v11_0.ssSource.avsc", "schemas.lsst.lsst.v11_0.mpc_orbits.avsc"];
        if (resource.EndsWith(".alert.avsc", StringComparison.Ordinal))
        {
            foreach (var s in siblings) AvroSchema.Parse(ReadResource(s), names);
        }
        var record = (RecordSchema)AvroSchema.Parse(ReadResource(resource), names);
        string survey = source == FieldSource.Ztf ? "ZTF" : "Rubin";
        foreach (var field in record.Fields)
        {
            var schema = field.Schema is UnionSchema u ? u.OptionalOf : field.Schema;
            FilterType? type = schema?.Type switch
            {
                AvroType.Boolean => FilterType.Bool,
                AvroType.Int or AvroType.Long => FilterType.Int,
                AvroType.Float or AvroType.Double => FilterType.Real,
                AvroType.String or AvroType.Enum => FilterType.String,
                _ => null,
            };
            if (type is null) continue;
            string path = prefix + field.Name;
            string doc = string.IsNullOrWhiteSpace(field.Doc) ? $"{survey} {record.Name}.{field.Name}" : $"{survey}: {field.Doc.Trim()}";
            into[path] = new FieldDefinition(path, type.Value, source, doc, FieldReader.Survey(path, type.Value));
        }
    }

    private static string ReadResource(string name)
    {
        using var stream = typeof(FieldCatalog).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded schema {name} is missing from {typeof(FieldCatalog).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static void Add(Dictionary<string, FieldDefinition> into, string path, FilterType type, string description, FieldReader reader) =>
        into[path] = new FieldDefinition(path, type, FieldSource.Broker, description, reader);

    private static void AddBroker(Dictionary<string, FieldDefinition> f)
    {
        Add(f, "survey", FilterType.String, "the issuing survey: 'ztf' or 'lsst'", FieldReader.String(a => a.Survey switch { Survey.Ztf => "ztf", Survey.Lsst => "lsst", _ => null }));
        Add(f, "surveySchemaVersion", FilterType.String, "the survey's schema version (ZTF schemavsn, Rubin X.Y)", FieldReader.String(a => a.SurveySchemaVersion.Length == 0 ? null : a.SurveySchemaVersion));
        Add(f, "alertId", FilterType.Int, "the alert id: ZTF candid, Rubin diaSourceId", FieldReader.Int(a => a.AlertId));
        Add(f, "objectId", FilterType.String, "the object id: ZTF objectId, Rubin diaObjectId (or ssObjectId) as a string", FieldReader.String(a => a.ObjectId));
        Add(f, "ra", FilterType.Real, "right ascension, degrees ICRS", FieldReader.Real(a => a.Ra));
        Add(f, "dec", FilterType.Real, "declination, degrees ICRS", FieldReader.Real(a => a.Dec));
        Add(f, "raErr", FilterType.Real, "uncertainty of ra, degrees (Rubin only)", FieldReader.Real(a => a.RaErr));
        Add(f, "decErr", FilterType.Real, "uncertainty of dec, degrees (Rubin only)", FieldReader.Real(a => a.DecErr));
        Add(f, "mjdTai", FilterType.Real, "detection time, MJD TAI", FieldReader.Real(a => a.MjdTai));
        Add(f, "band", FilterType.String, "band: g, r, i (ZTF); u, g, r, i, z, y (Rubin)", FieldReader.String(a => a.Band.Length == 0 ? null : a.Band));
        Add(f, "flux", FilterType.Real, "difference-image PSF flux, nJy (negative when fading)", FieldReader.Real(a => a.Flux));
        Add(f, "fluxErr", FilterType.Real, "uncertainty of flux, nJy", FieldReader.Real(a => a.FluxErr));
        Add(f, "mag", FilterType.Real, "AB magnitude of |flux|", FieldReader.Real(a => a.Mag));
        Add(f, "magErr", FilterType.Real, "uncertainty of mag", FieldReader.Real(a => a.MagErr));
        Add(f, "isPositive", FilterType.Bool, "true when the science image is brighter than the template", FieldReader.Bool(a => a.IsPositive));
        Add(f, "realBogus", FilterType.Real, "the survey's real-bogus score (ZTF drb, else rb; Rubin reliability)", FieldReader.Real(a => a.RealBogus));
        Add(f, "hasCutouts", FilterType.Bool, "true when all three cutouts are present", FieldReader.Bool(a => a.HasAllCutouts));
        Add(f, "galactic.l", FilterType.Real, "Galactic longitude, degrees (crossmatch stage)", FieldReader.Real(a => a.Galactic?.LDeg));
        Add(f, "galactic.b", FilterType.Real, "Galactic latitude, degrees (crossmatch stage)", FieldReader.Real(a => a.Galactic?.BDeg));
        Add(f, "galactic.inPlane", FilterType.Bool, "inside the Galactic plane as the crossmatch stage defines it", FieldReader.Bool(a => a.Galactic?.InPlane));
        Add(f, "xmatch.count", FilterType.Int, "number of catalogue counterparts (crossmatch stage); 0 when none", FieldReader.Int(a => a.Crossmatches.Count));
        Add(f, "xmatch.nearest.catalog", FilterType.String, "catalogue of the nearest counterpart", FieldReader.String(a => Nearest(a)?.Catalog));
        Add(f, "xmatch.nearest.sourceId", FilterType.String, "id of the nearest counterpart", FieldReader.String(a => Nearest(a)?.SourceId));
        Add(f, "xmatch.nearest.distanceArcsec", FilterType.Real, "distance to the nearest counterpart, arcseconds", FieldReader.Real(a => Nearest(a)?.DistanceArcsec));
        Add(f, "xmatch.nearest.objectType", FilterType.String, "the nearest counterpart's type as its catalogue gives it", FieldReader.String(a => Nearest(a)?.ObjectType));
        Add(f, "xmatch.nearest.redshift", FilterType.Real, "the nearest counterpart's redshift", FieldReader.Real(a => Nearest(a)?.Redshift));
        Add(f, "xmatch.nearest.physicalOffsetKpc", FilterType.Real, "projected separation from the nearest counterpart at its redshift, kpc", FieldReader.Real(a => Nearest(a)?.PhysicalOffsetKpc));
        Add(f, "sso.designation", FilterType.String, "designation of the associated known solar-system object (sso stage)", FieldReader.String(a => a.SolarSystem?.Designation is { Length: > 0 } d ? d : null));
        Add(f, "sso.distanceArcsec", FilterType.Real, "distance from the predicted position, arcseconds", FieldReader.Real(a => a.SolarSystem?.DistanceArcsec));
        Add(f, "sso.predictedMag", FilterType.Real, "predicted V magnitude", FieldReader.Real(a => a.SolarSystem?.PredictedMag));
        Add(f, "sso.source", FilterType.String, "who made the association: 'survey' or 'broker'", FieldReader.String(a => a.SolarSystem?.Source));
        Add(f, "sso.predictedRa", FilterType.Real, "predicted right ascension, degrees ICRS", FieldReader.Real(a => a.SolarSystem?.PredictedRa));
        Add(f, "sso.predictedDec", FilterType.Real, "predicted declination, degrees ICRS", FieldReader.Real(a => a.SolarSystem?.PredictedDec));
        Add(f, "sso.raRateArcsecPerHour", FilterType.Real, "predicted dRA/dt cos(Dec), arcseconds per hour", FieldReader.Real(a => a.SolarSystem?.RaRateArcsecPerHour));
        Add(f, "sso.decRateArcsecPerHour", FilterType.Real, "predicted dDec/dt, arcseconds per hour", FieldReader.Real(a => a.SolarSystem?.DecRateArcsecPerHour));
        Add(f, "sso.ephemerisSource", FilterType.String, "where the prediction comes from", FieldReader.String(a => a.SolarSystem?.EphemerisSource is { Length: > 0 } s ? s : null));
        Add(f, "sso.surveyDesignation", FilterType.String, "the survey's own designation (ZTF ssnamenr, Rubin ssSource.designation)", FieldReader.String(a => a.SolarSystem?.SurveyDesignation));
        Add(f, "sso.surveyDistanceArcsec", FilterType.Real, "the survey's distance to its object, arcseconds", FieldReader.Real(a => a.SolarSystem?.SurveyDistanceArcsec));
        Add(f, "sso.agreement", FilterType.String, "'agree', 'disagree', 'broker-only' or 'survey-only'", FieldReader.String(a => a.SolarSystem?.Agreement));
        Add(f, "newMover.reason", FilterType.String, "why the sso stage flagged the alert as a new moving-object candidate; null when it did not", FieldReader.String(a => a.NewMover?.Reason));
    }

    private static Crossmatch? Nearest(Alert a)
    {
        Crossmatch? best = null;
        var list = a.Crossmatches;
        for (int i = 0; i < list.Count; i++)
        {
            if (best is null || list[i].DistanceArcsec < best.DistanceArcsec) best = list[i];
        }
        return best;
    }

    internal static Classification? ClassificationOf(Alert a, string classifier)
    {
        var list = a.Classifications;
        // The last entry of a classifier wins (a re-run appends).
        for (int i = list.Count - 1; i >= 0; i--)
        {
            if (string.Equals(list[i].Classifier, classifier, StringComparison.Ordinal)) return list[i];
        }
        return null;
    }

    private static double? Probability(Alert a, string classifier, string cls) =>
        ClassificationOf(a, classifier) is { IsClassified: true } c && c.Probabilities.TryGetValue(cls, out double p) ? p : null;
}

/// <summary>Reads one field of an alert into its slot of an <see cref="AlertRow"/>.</summary>
internal abstract class FieldReader
{
    public abstract void Load(Alert alert, AlertRow row, int slot);

    public static FieldReader Real(Func<Alert, double?> read) => new RealReader(read);
    public static FieldReader Int(Func<Alert, long?> read) => new IntReader(read);
    public static FieldReader String(Func<Alert, string?> read) => new StringReader(read);
    public static FieldReader Bool(Func<Alert, bool?> read) => new BoolReader(read);
    public static FieldReader Survey(string key, FilterType type) => new SurveyReader(key, type);
    public static FieldReader FromRow(Func<AlertRow, double> read) => new RowRealReader(read);
    public static FieldReader FromRow(Func<AlertRow, long?> read) => new RowIntReader(read);

    /// <summary>A derived field computed from the row (the fields loaded before it and the alert's light curve).</summary>
    private sealed class RowRealReader(Func<AlertRow, double> read) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot) => row.Reals[slot] = read(row);
    }

    /// <summary>A derived integer field computed from the row.</summary>
    private sealed class RowIntReader(Func<AlertRow, long?> read) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot) => row.Ints[slot] = read(row);
    }

    private sealed class RealReader(Func<Alert, double?> read) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot) => row.Reals[slot] = read(alert) ?? double.NaN;
    }

    private sealed class IntReader(Func<Alert, long?> read) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot) => row.Ints[slot] = read(alert);
    }

    private sealed class StringReader(Func<Alert, string?> read) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot) => row.Strings[slot] = read(alert);
    }

    private sealed class BoolReader(Func<Alert, bool?> read) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot) => row.Bools[slot] = Tri.Of(read(alert));
    }

    /// <summary>
    /// A survey field from <see cref="Alert.SurveyFields"/> (one lookup per alert, shared by every filter of the
    /// set). A field the alert's schema version lacks, or the other survey's field, reads as null; so does a value
    /// of another type than the schema's (never seen; an older schema with a narrower type widens: int to long,
    /// float to double).
    /// </summary>
    private sealed class SurveyReader(string key, FilterType type) : FieldReader
    {
        public override void Load(Alert alert, AlertRow row, int slot)
        {
            alert.SurveyFields.TryGetValue(key, out object? v);
            switch (type)
            {
                case FilterType.Real:
                    row.Reals[slot] = v switch { double d => d, long l => l, _ => double.NaN };
                    break;
                case FilterType.Int:
                    row.Ints[slot] = v as long?;
                    break;
                case FilterType.String:
                    row.Strings[slot] = v as string;
                    break;
                case FilterType.Bool:
                    row.Bools[slot] = Tri.Of(v as bool?);
                    break;
            }
        }
    }
}
