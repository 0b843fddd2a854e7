using System.Globalization;
using System.Runtime.CompilerServices;
using Broker.Alerts.Avro;
using Broker.Sky;

namespace Broker.Alerts.Model;

/// <summary>The survey record lacks a field Broker needs, or holds an impossible value.</summary>
public sealed class AlertValidationException(string message) : FormatException(message);

/// <summary>
/// Maps a decoded survey alert (ZTF schema 2.0 to 4.02, Rubin lsst.v9_0 to v11_1) to Broker's survey-neutral
/// <see cref="Alert"/>. Field names follow the surveys' published schemas; the mapping reads fields by name,
/// so Spark re-serialised files (every field a union) map the same as the originals.
/// </summary>
public static class SurveyAlertMapper
{
    private static readonly string[] ZtfBands = ["?", "g", "r", "i"];

    /// <summary>Which survey wrote this record, judged from its fields.</summary>
    public static Survey Detect(AvroRecord record)
    {
        if (record.Has("candidate") && record.Has("candid")) return Survey.Ztf;
        if (record.Has("diaSource") && record.Has("diaSourceId")) return Survey.Lsst;
        return Survey.Unknown;
    }

    /// <summary>The cutout kinds, in the order the surveys list them in file names and Broker output.</summary>
    public static readonly string[] CutoutKinds = ["science", "template", "difference"];

    /// <summary>The alert's unique id (ZTF candid, Rubin diaSourceId) without mapping the rest.</summary>
    /// <exception cref="AlertValidationException">Neither field is present.</exception>
    /// <remarks>Broker's own records (broker.alert) carry it as <c>alertId</c>.</remarks>
    public static long AlertIdOf(AvroRecord record) =>
        record.GetOrNull("candid") as long? ?? record.GetOrNull("diaSourceId") as long? ?? record.GetOrNull("alertId") as long?
        ?? throw new AlertValidationException($"record {record.Schema.FullName} has no candid, diaSourceId or alertId");

    /// <summary>The raw stamp bytes (gzipped FITS for ZTF, FITS for Rubin) by kind, from a survey record or a Broker record; absent stamps are left out.</summary>
    public static IEnumerable<(string Kind, byte[] Bytes)> CutoutsOf(AvroRecord record)
    {
        // Broker's own records keep the stamps in one "cutouts" record, the surveys in cutoutScience etc.
        var broker = record.GetOrNull("cutouts") as AvroRecord;
        foreach (var kind in CutoutKinds)
        {
            object? stamp = broker is not null ? broker.GetOrNull(kind) : record.GetOrNull("cutout" + char.ToUpperInvariant(kind[0]) + kind[1..]);
            if (Stamp(stamp) is { } bytes) yield return (kind, bytes);
        }
    }

    /// <summary>Maps any supported survey record.</summary>
    /// <exception cref="AlertValidationException">Unknown survey or a missing required field.</exception>
    public static Alert Map(AvroRecord record) => Detect(record) switch
    {
        Survey.Ztf => FromZtf(record),
        Survey.Lsst => FromLsst(record),
        _ => throw new AlertValidationException($"record {record.Schema.FullName} is neither a ZTF alert (candid, candidate) nor a Rubin alert (diaSourceId, diaSource)"),
    };

    /// <summary>Maps a ZTF alert (ztf.alert or its Spark rewrite).</summary>
    public static Alert FromZtf(AvroRecord r)
    {
        var c = Record(r, "candidate");
        int fid = (int)Long(c, "fid", "candidate");
        double mag = Double(c, "magpsf", "candidate");
        double sigma = Double(c, "sigmapsf", "candidate");
        bool positive = IsDiffPos(c.GetOrNull("isdiffpos") as string);
        double flux = Photometry.MagToFlux(mag) * (positive ? 1 : -1);
        // The required fields first, in this order, so a damaged record is refused for the same field as before.
        long alertId = Long(r, "candid", "alert");
        string objectId = r.GetOrNull("objectId") as string ?? throw Missing("objectId", "alert");
        double ra = Double(c, "ra", "candidate");
        double dec = Double(c, "dec", "candidate");
        double mjdTai = TimeScales.JdUtcToMjdTai(Double(c, "jd", "candidate"));
        var detections = new List<Detection>();
        var limits = new List<UpperLimit>();
        var forced = new List<ForcedPoint>();
        if (r.GetOrNull("prv_candidates") is List<object?> prv)
        {
            foreach (var item in prv)
            {
                if (item is not AvroRecord p) continue;
                double mjd = TimeScales.JdUtcToMjdTai(Double(p, "jd", "prv_candidates"));
                string band = Band((int)Long(p, "fid", "prv_candidates"));
                if (p.GetOrNull("candid") is long candid && p.GetOrNull("magpsf") is not null)
                {
                    double pm = Double(p, "magpsf", "prv_candidates");
                    double ps = OptionalDouble(p, "sigmapsf") ?? double.NaN;
                    bool pp = IsDiffPos(p.GetOrNull("isdiffpos") as string);
                    double pf = Photometry.MagToFlux(pm) * (pp ? 1 : -1);
                    detections.Add(new Detection
                    {
                        AlertId = candid, MjdTai = mjd, Band = band,
                        Ra = OptionalDouble(p, "ra"), Dec = OptionalDouble(p, "dec"),
                        Flux = pf, FluxErr = Photometry.MagErrToFluxErr(pf, ps), Mag = pm, MagErr = ps,
                        IsPositive = pp, RealBogus = OptionalDouble(p, "drb") ?? OptionalDouble(p, "rb"),
                    });
                }
                else
                {
                    limits.Add(new UpperLimit(mjd, band, OptionalDouble(p, "diffmaglim")));
                }
            }
            detections.Sort((a, b) => a.MjdTai.CompareTo(b.MjdTai));
            limits.Sort((a, b) => a.MjdTai.CompareTo(b.MjdTai));
        }
        if (r.GetOrNull("fp_hists") is List<object?> fps)
        {
            foreach (var item in fps)
            {
                if (item is not AvroRecord f) continue;
                double? dn = OptionalDouble(f, "forcediffimflux");
                double? dnErr = OptionalDouble(f, "forcediffimfluxunc");
                double? zp = OptionalDouble(f, "magzpsci");
                // ZTF writes -99999 for a failed measurement.
                bool ok = dn is > -99999 && zp is { } z && double.IsFinite(z);
                forced.Add(new ForcedPoint(
                    TimeScales.JdUtcToMjdTai(Double(f, "jd", "fp_hists")),
                    Band((int)Long(f, "fid", "fp_hists")),
                    ok ? Photometry.DataNumberToNanojansky(dn!.Value, zp!.Value) : null,
                    ok && dnErr is > -99999 ? Photometry.DataNumberToNanojansky(dnErr.Value, zp!.Value) : null));
            }
        }
        var science = Stamp(r.GetOrNull("cutoutScience"));
        var template = Stamp(r.GetOrNull("cutoutTemplate"));
        var difference = Stamp(r.GetOrNull("cutoutDifference"));
        var fields = new Dictionary<string, object?>(r.Schema.Fields.Count + c.Schema.Fields.Count, StringComparer.Ordinal);
        Flatten(r, TopLevelKeys, fields);
        Flatten(c, CandidateKeys, fields);
        var alert = new Alert
        {
            Survey = Survey.Ztf,
            SurveySchemaVersion = r.GetOrNull("schemavsn") as string ?? "",
            AlertId = alertId,
            ObjectId = objectId,
            Ra = ra,
            Dec = dec,
            MjdTai = mjdTai,
            Band = Band(fid),
            Flux = flux,
            FluxErr = Photometry.MagErrToFluxErr(flux, sigma),
            Mag = mag,
            MagErr = sigma,
            IsPositive = positive,
            RealBogus = OptionalDouble(c, "drb") ?? OptionalDouble(c, "rb"),
            Detections = ImmutableLists.Of(detections),
            UpperLimits = ImmutableLists.Of(limits),
            ForcedPhotometry = ImmutableLists.Of(forced),
            // Any stamp the survey sent is kept; none at all is a valid alert without cutouts.
            Cutouts = science is not null || template is not null || difference is not null ? new Cutouts("fits.gz", science, template, difference) : null,
            SurveyFields = ReadOnlyFieldMap.Wrap(fields),
        };
        Validate(alert);
        return alert;
    }

    /// <summary>Maps a Rubin alert (lsst.vX_Y.alert or its Spark rewrite).</summary>
    public static Alert FromLsst(AvroRecord r)
    {
        var s = Record(r, "diaSource");
        double flux = OptionalDouble(s, "psfFlux") ?? double.NaN;
        double fluxErr = OptionalDouble(s, "psfFluxErr") ?? double.NaN;
        double mag = Photometry.FluxToMag(flux);
        long? diaObjectId = s.GetOrNull("diaObjectId") as long?;
        long? ssObjectId = s.GetOrNull("ssObjectId") as long?;
        long alertId = Long(r, "diaSourceId", "alert");
        long objectId = diaObjectId is > 0 ? diaObjectId.Value : ssObjectId is > 0 ? ssObjectId.Value : alertId;
        double ra = Double(s, "ra", "diaSource");
        double dec = Double(s, "dec", "diaSource");
        double mjdTai = Double(s, "midpointMjdTai", "diaSource");
        var detections = new List<Detection>();
        var forced = new List<ForcedPoint>();
        if (r.GetOrNull("prvDiaSources") is List<object?> prv)
        {
            foreach (var item in prv)
            {
                if (item is not AvroRecord p) continue;
                double? pf = OptionalDouble(p, "psfFlux");
                double? pe = OptionalDouble(p, "psfFluxErr");
                double pm = pf is { } f ? Photometry.FluxToMag(f) : double.NaN;
                detections.Add(new Detection
                {
                    AlertId = p.GetOrNull("diaSourceId") as long?,
                    MjdTai = Double(p, "midpointMjdTai", "prvDiaSources"),
                    Band = p.GetOrNull("band") as string ?? "",
                    Ra = OptionalDouble(p, "ra"), Dec = OptionalDouble(p, "dec"),
                    Flux = pf, FluxErr = pe,
                    Mag = double.IsNaN(pm) ? null : pm,
                    MagErr = double.IsNaN(pm) || pe is null ? null : Photometry.FluxErrToMagErr(pf!.Value, pe.Value),
                    IsPositive = pf is > 0,
                    RealBogus = OptionalDouble(p, "reliability"),
                });
            }
            detections.Sort((a, b) => a.MjdTai.CompareTo(b.MjdTai));
        }
        if (r.GetOrNull("prvDiaForcedSources") is List<object?> forcedSources)
        {
            foreach (var item in forcedSources)
            {
                if (item is not AvroRecord f) continue;
                forced.Add(new ForcedPoint(
                    Double(f, "midpointMjdTai", "prvDiaForcedSources"),
                    f.GetOrNull("band") as string ?? "",
                    OptionalDouble(f, "psfFlux"),
                    OptionalDouble(f, "psfFluxErr")));
            }
            forced.Sort((a, b) => a.MjdTai.CompareTo(b.MjdTai));
        }
        var science = r.GetOrNull("cutoutScience") as byte[];
        var template = r.GetOrNull("cutoutTemplate") as byte[];
        var difference = r.GetOrNull("cutoutDifference") as byte[];
        var o = r.GetOrNull("diaObject") as AvroRecord;
        var ss = r.GetOrNull("ssSource") as AvroRecord;
        var fields = new Dictionary<string, object?>(r.Schema.Fields.Count + s.Schema.Fields.Count
            + (o?.Schema.Fields.Count ?? 0) + (ss?.Schema.Fields.Count ?? 0) + OrbitFieldsCount(r), StringComparer.Ordinal);
        Flatten(r, TopLevelKeys, fields);
        Flatten(s, DiaSourceKeys, fields);
        if (o is not null) Flatten(o, DiaObjectKeys, fields);
        if (ss is not null) Flatten(ss, SsSourceKeys, fields);
        foreach (var (field, keys) in Orbits)
        {
            if (r.GetOrNull(field) is AvroRecord orbit) Flatten(orbit, keys, fields);
        }
        var alert = new Alert
        {
            Survey = Survey.Lsst,
            SurveySchemaVersion = LsstVersion(r, s),
            AlertId = alertId,
            ObjectId = objectId.ToString(CultureInfo.InvariantCulture),
            Ra = ra,
            Dec = dec,
            RaErr = OptionalDouble(s, "raErr"),
            DecErr = OptionalDouble(s, "decErr"),
            MjdTai = mjdTai,
            Band = s.GetOrNull("band") as string ?? s.GetOrNull("filterName") as string ?? "",
            Flux = flux,
            FluxErr = fluxErr,
            Mag = double.IsNaN(mag) ? null : mag,
            MagErr = double.IsNaN(mag) ? null : Photometry.FluxErrToMagErr(flux, fluxErr),
            IsPositive = flux > 0,
            RealBogus = OptionalDouble(s, "reliability"),
            Detections = ImmutableLists.Of(detections),
            ForcedPhotometry = ImmutableLists.Of(forced),
            Cutouts = science is not null || template is not null || difference is not null ? new Cutouts("fits", science, template, difference) : null,
            SurveyFields = ReadOnlyFieldMap.Wrap(fields),
        };
        Validate(alert);
        return alert;
    }

    /// <summary>Checks the invariants every stage relies on.</summary>
    /// <exception cref="AlertValidationException">Coordinates or time out of range, or not finite.</exception>
    public static void Validate(Alert a)
    {
        if (!double.IsFinite(a.Ra) || a.Ra < 0 || a.Ra >= 360) throw new AlertValidationException($"alert {a.AlertId}: ra {a.Ra} is not in [0, 360)");
        if (!double.IsFinite(a.Dec) || a.Dec < -90 || a.Dec > 90) throw new AlertValidationException($"alert {a.AlertId}: dec {a.Dec} is not in [-90, 90]");
        // ZTF began in 2017 (MJD 58000); Rubin alerts are later. Anything before 2000 or after 2100 is corrupt.
        if (!double.IsFinite(a.MjdTai) || a.MjdTai < 51544 || a.MjdTai > 88069) throw new AlertValidationException($"alert {a.AlertId}: time MJD {a.MjdTai} is not between 2000 and 2100");
    }

    private static string Band(int fid) => fid >= 1 && fid < ZtfBands.Length ? ZtfBands[fid] : fid.ToString(CultureInfo.InvariantCulture);

    // isdiffpos is 't' or '1' for a positive subtraction (ZTF schema doc), 'f' or '0' otherwise.
    private static bool IsDiffPos(string? s) => s is "t" or "1" or "T" or null;

    private static string LsstVersion(AvroRecord alert, AvroRecord diaSource)
    {
        // lsst.v10_0 -> 10.0. Spark rewrites rename every record (topLevelRecord), so the version is then told
        // from the fields: v9 has MPCORB, v10 replaced it with mpc_orbits, v11.1 added diaSource.exposureTime;
        // v10.0 and v11.0 have the same field names.
        string? space = alert.Schema.Namespace ?? diaSource.Schema.Namespace;
        if (space is not null && space.StartsWith("lsst.v", StringComparison.Ordinal)) return space["lsst.v".Length..].Replace('_', '.');
        if (alert.Has("MPCORB")) return "9.0";
        if (diaSource.Has("exposureTime")) return "11.1";
        return alert.Has("mpc_orbits") ? "10.0-11.0" : "";
    }

    private static byte[]? Stamp(object? cutout) => cutout switch
    {
        AvroRecord c => c.GetOrNull("stampData") as byte[],
        byte[] b => b,
        _ => null,
    };

    private static AvroRecord Record(AvroRecord r, string field) =>
        r.GetOrNull(field) as AvroRecord ?? throw Missing(field, r.Schema.Name);

    private static long Long(AvroRecord r, string field, string where) => r.GetOrNull(field) switch
    {
        long l => l,
        int i => i,
        _ => throw Missing(field, where),
    };

    private static double Double(AvroRecord r, string field, string where) =>
        OptionalDouble(r, field) ?? throw Missing(field, where);

    private static double? OptionalDouble(AvroRecord r, string field) => r.GetOrNull(field) switch
    {
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        _ => null,
    };

    private static AlertValidationException Missing(string field, string where) => new($"{where}.{field} is missing or null");

    private static int OrbitFieldsCount(AvroRecord r)
    {
        int n = 0;
        foreach (var (field, _) in Orbits)
        {
            if (r.GetOrNull(field) is AvroRecord orbit) n += orbit.Schema.Fields.Count;
        }
        return n;
    }

    private static readonly FieldKeys TopLevelKeys = new("");
    private static readonly FieldKeys CandidateKeys = new("candidate.");
    private static readonly FieldKeys DiaSourceKeys = new("diaSource.");
    private static readonly FieldKeys DiaObjectKeys = new("diaObject.");
    private static readonly FieldKeys SsSourceKeys = new("ssSource.");
    private static readonly (string Field, FieldKeys Keys)[] Orbits = [("mpc_orbits", new("mpc_orbits.")), ("MPCORB", new("MPCORB."))];

    /// <summary>
    /// Copies a record's scalar fields into <paramref name="into"/> under their prefixed names: ints widen to long,
    /// floats to double, enums become their symbol; records, arrays, maps, bytes and fixed are left out. Values
    /// already in the map's types (null, bool, long, double, string) go in as the same boxes.
    /// </summary>
    private static void Flatten(AvroRecord r, FieldKeys prefix, Dictionary<string, object?> into)
    {
        var keys = prefix.For(r.Schema);
        var values = r.Values;
        for (int i = 0; i < keys.Length; i++)
        {
            object? v = values[i];
            switch (v)
            {
                case null or bool or long or double or string:
                    break;
                case int n:
                    v = (long)n;
                    break;
                case float f:
                    v = (double)f;
                    break;
                case AvroEnumValue e:
                    v = e.Symbol;
                    break;
                default:
                    continue;
            }
            into[keys[i]] = v;
        }
    }

    /// <summary>One prefix's keys (prefix + field name) per record schema, made once instead of per alert.</summary>
    private sealed class FieldKeys(string prefix)
    {
        private readonly ConditionalWeakTable<RecordSchema, Entry> _bySchema = new();

        public string[] For(RecordSchema schema)
        {
            // Fields returns the array SetFields stored; checking it keeps the keys right should it ever be set again.
            var fields = schema.Fields;
            if (_bySchema.TryGetValue(schema, out var cached) && ReferenceEquals(cached.Fields, fields)) return cached.Keys;
            var keys = new string[fields.Count];
            for (int i = 0; i < keys.Length; i++) keys[i] = prefix + fields[i].Name;
            _bySchema.AddOrUpdate(schema, new Entry(fields, keys));
            return keys;
        }

        private sealed record Entry(IReadOnlyList<AvroField> Fields, string[] Keys);
    }
}
