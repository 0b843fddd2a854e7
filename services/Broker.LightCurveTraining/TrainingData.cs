using System.Globalization;
using Broker.Alerts.Model;
using Broker.LightCurveClassifier;
using Broker.LightCurves;
using Broker.Simulation;
using Broker.Sky;

namespace Broker.LightCurveTraining;

/// <summary>Labelled feature tables from the simulator (<see cref="LabelledLightCurves"/>) and the class bookkeeping of the hierarchy.</summary>
public static class TrainingData
{
    private static readonly IReadOnlyList<string> Classes = LightCurveModelManifest.ExpectedClasses;
    private static readonly IReadOnlyList<string> Tops = LightCurveModelManifest.ExpectedTopClasses;

    /// <summary>The class index of an ALeRCE class name.</summary>
    public static int ClassIndex(string label)
    {
        for (int i = 0; i < Classes.Count; i++)
            if (Classes[i] == label) return i;
        throw new ArgumentException($"'{label}' is not an ALeRCE class", nameof(label));
    }

    /// <summary>The top-level index of a class index.</summary>
    public static int GroupOf(int classIndex)
    {
        string top = AlerceTaxonomy.TopOf(Classes[classIndex]);
        for (int g = 0; g < Tops.Count; g++)
            if (Tops[g] == top) return g;
        throw new InvalidOperationException(top);
    }

    /// <summary>The index of a class within its top-level group's branch.</summary>
    public static int IndexInBranch(int classIndex)
    {
        var branch = LightCurveModelManifest.ExpectedBranches[Tops[GroupOf(classIndex)]];
        for (int k = 0; k < branch.Count; k++)
            if (branch[k] == Classes[classIndex]) return k;
        throw new InvalidOperationException(Classes[classIndex]);
    }

    /// <summary>
    /// A class-balanced labelled set of ZTF alerts (<paramref name="perClass"/> per class, eligible by ALeRCE's rule)
    /// from <paramref name="seed"/>, and its feature table.
    /// </summary>
    public static (FeatureTable Table, IReadOnlyList<LabelledAlert> Alerts) Build(ulong seed, int perClass, int workers)
    {
        var generator = new LabelledLightCurves(new LabelledLightCurveOptions { Survey = SurveyKind.Ztf, Seed = seed, PerClass = perClass, Workers = workers });
        var alerts = generator.Generate();
        var (rows, _) = Featurizer.Rows([.. alerts.Select(a => a.Alert)], FeatureBands.Ztf, workers);
        return (new FeatureTable(rows, LightCurveFeatures.Names.Count, [.. alerts.Select(a => ClassIndex(a.Label))]), alerts);
    }

    /// <summary>The data's description for the manifest.</summary>
    public static string Describe(ulong seed, int perClass) => string.Create(CultureInfo.InvariantCulture,
        $"Broker simulator LabelledLightCurves (ZTF cadence and noise, 30-day alert histories, alert at a uniformly drawn detection with >= 6 detections in g or r), seed {seed}, {perClass} objects per ALeRCE class; features by Broker.LightCurves through LightCurve.Load(Alert). No real alert is used in training.");
}

/// <summary>
/// ALeRCE's 30 labelled real supernovae (../shared/data/labeled/alerce_lc_classifier: 30_sne_detections_corr.csv,
/// 30_sne_non_detections.csv, 30_sne_labels.csv), as the ZTF alerts Broker would have received: for each detection,
/// an alert with the detections and non-detections of the 30 days before it, as prv_candidates carries them.
/// Evaluation only: never used in training.
/// </summary>
public static class AlerceSupernovae
{
    /// <summary>The shared data's folder, beside the repository, or $BROKER_SHARED_DATA.</summary>
    public static string? DefaultFolder()
    {
        string? shared = Environment.GetEnvironmentVariable("BROKER_SHARED_DATA") is { Length: > 0 } env ? env
            : Broker.StepHost.ModelFolders.RepositoryRoot is { } root ? Path.Combine(root, "..", "shared", "data") : null;
        if (shared is null) return null;
        string dir = Path.GetFullPath(Path.Combine(shared, "labeled", "alerce_lc_classifier"));
        return File.Exists(Path.Combine(dir, "30_sne_labels.csv")) ? dir : null;
    }

    /// <summary>One object: its id, ALeRCE label, and its alerts in time order (one per detection).</summary>
    public sealed record SupernovaObject(string ObjectId, string Label, IReadOnlyList<Alert> Alerts, Alert FullLightCurve);

    /// <summary>Reads the three files.</summary>
    public static IReadOnlyList<SupernovaObject> Load(string folder)
    {
        var labels = Csv(Path.Combine(folder, "30_sne_labels.csv")).ToDictionary(r => r["objectId"], r => r["classALeRCE"], StringComparer.Ordinal);
        var detections = Csv(Path.Combine(folder, "30_sne_detections_corr.csv")).ToList();
        var limits = Csv(Path.Combine(folder, "30_sne_non_detections.csv")).ToList();
        var result = new List<SupernovaObject>();
        foreach (var (id, label) in labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var dets = detections.Where(d => d["objectId"] == id).Select(ToDetection).OrderBy(d => d.Mjd).ToList();
            var uls = limits.Where(d => d["objectId"] == id)
                .Select(u => new UpperLimit(TimeScales.JdUtcToMjdTai(D(u["jd"])), Band(u["fid"]), Nullable(u["diffmaglim"])))
                .OrderBy(u => u.MjdTai).ToList();
            if (dets.Count == 0) continue;
            var alerts = new List<Alert>();
            for (int k = 0; k < dets.Count; k++)
                alerts.Add(AlertAt(id, dets, uls, k, 30));
            result.Add(new SupernovaObject(id, label, alerts, AlertAt(id, dets, uls, dets.Count - 1, double.PositiveInfinity)));
        }
        return result;
    }

    private sealed record Det(double Mjd, Detection D, Dictionary<string, string> Row);

    private static Det ToDetection(Dictionary<string, string> r)
    {
        double mjd = TimeScales.MjdUtcToMjdTai(D(r["mjd"]));
        double mag = D(r["magpsf"]);
        bool positive = r["isdiffpos"] is "1.0" or "1" or "t" or "true";
        return new Det(mjd, new Detection
        {
            AlertId = long.Parse(r["candid"], CultureInfo.InvariantCulture), MjdTai = mjd, Band = Band(r["fid"]), Ra = D(r["ra"]), Dec = D(r["dec"]),
            Mag = mag, MagErr = D(r["sigmapsf"]), Flux = Photometry.MagToFlux(mag) * (positive ? 1 : -1), FluxErr = Photometry.MagErrToFluxErr(Photometry.MagToFlux(mag) * (positive ? 1 : -1), D(r["sigmapsf"])),
            IsPositive = positive, RealBogus = Nullable(r["rb"]),
        }, r);
    }

    private static Alert AlertAt(string id, List<Det> dets, List<UpperLimit> uls, int k, double days)
    {
        var d = dets[k];
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["candidate.sgscore1"] = Nullable(d.Row.GetValueOrDefault("sgscore1", "")),
            ["candidate.distpsnr1"] = Nullable(d.Row.GetValueOrDefault("distpsnr1", "")),
        };
        var (l, b) = Coordinates.EquatorialToGalactic(d.D.Ra!.Value, d.D.Dec!.Value);
        return new Alert
        {
            Survey = Survey.Ztf, AlertId = d.D.AlertId ?? 0, ObjectId = id, Ra = d.D.Ra.Value, Dec = d.D.Dec.Value, MjdTai = d.Mjd, Band = d.D.Band,
            Flux = d.D.Flux!.Value, FluxErr = d.D.FluxErr!.Value, Mag = d.D.Mag, MagErr = d.D.MagErr, IsPositive = d.D.IsPositive, RealBogus = d.D.RealBogus,
            Detections = [.. dets.Take(k).Where(p => p.Mjd > d.Mjd - days).Select(p => p.D)],
            UpperLimits = [.. uls.Where(u => u.MjdTai < d.Mjd && u.MjdTai > d.Mjd - days)],
            SurveyFields = fields,
            Galactic = new GalacticContext(l, b, Math.Abs(b) < 10),
        };
    }

    private static string Band(string fid) => fid switch { "1" => "g", "2" => "r", "3" => "i", _ => "?" };

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static double? Nullable(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : null;

    /// <summary>Rows of a CSV file with a header (fields without embedded commas or quotes, as these files are).</summary>
    private static IEnumerable<Dictionary<string, string>> Csv(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()!.Split(',');
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var cells = line.Split(',');
            var row = new Dictionary<string, string>(header.Length, StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++) row[header[i]] = i < cells.Length ? cells[i] : "";
            yield return row;
        }
    }
}
