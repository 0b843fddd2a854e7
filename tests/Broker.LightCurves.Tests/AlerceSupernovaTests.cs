using System.Globalization;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.LightCurves.Tests;

/// <summary>
/// The 30 real ZTF supernovae ALeRCE labelled (../shared/data/labeled/alerce_lc_classifier: 784 detections and their
/// non-detections), evaluation only. ALeRCE's 100_objects_features.csv is for other objects, so it serves only as a
/// range that our values should fall in.
/// </summary>
public class AlerceSupernovaTests(ITestOutputHelper output)
{
    private const string Folder = "labeled/alerce_lc_classifier";

    [Fact]
    public void SupernovaModelConvergesOnTheThirtyAlerceSupernovae()
    {
        var curves = LoadSupernovae();
        Assert.Equal(30, curves.Count);
        // Every detection is accounted for: kept, dropped as unusable, or a repeat of an exposure already held.
        int kept = curves.Values.Sum(lc => lc.DetectionCount), duplicates = curves.Values.Sum(lc => lc.DuplicatePoints), dropped = curves.Values.Sum(lc => lc.DroppedPoints);
        output.WriteLine($"detections kept {kept}, duplicates {duplicates}, dropped {dropped} (upper limits included in the last two)");
        var rows = ReadCsv(SharedData.Path($"{Folder}/30_sne_detections_corr.csv"));
        Assert.Equal(784, rows.Count);
        // The file repeats 22 exposures (same object, band and mjd): the light curves keep each exposure once.
        Assert.Equal(rows.Select(r => (r["objectId"], r["fid"], r["mjd"])).Distinct().Count(), kept);
        var features = new LightCurveFeatures();
        var values = new double[features.FeatureNames.Count];
        int Index(string name) => features.FeatureNames.ToList().IndexOf(name);
        int fitted = 0, attempted = 0;
        var chis = new List<double>();
        foreach (var (id, lc) in curves)
        {
            features.Compute(lc, values);
            foreach (string suffix in new[] { "1", "2" })
            {
                int band = suffix == "1" ? LightCurveBands.G : LightCurveBands.R;
                if (lc.Detections(band).Count < SupernovaModel.MinPoints) continue;
                attempted++;
                double chi = values[Index("SPM_chi_" + suffix)];
                double rise = values[Index("SPM_tau_rise_" + suffix)], fall = values[Index("SPM_tau_fall_" + suffix)];
                output.WriteLine(FormattableString.Invariant(
                    $"{id} band {suffix}: n={lc.Detections(band).Count} A={values[Index("SPM_A_" + suffix)]:G4} t0={values[Index("SPM_t0_" + suffix)]:F1} gamma={values[Index("SPM_gamma_" + suffix)]:F1} rise={rise:F1} fall={fall:F1} chi={chi:G4}"));
                if (!double.IsFinite(chi)) continue;
                fitted++;
                chis.Add(chi);
                Assert.True(rise > 0 && fall > 0, $"{id} band {suffix}: rise {rise}, fall {fall}");
            }
        }
        chis.Sort();
        double medianChi = chis[chis.Count / 2];
        output.WriteLine($"SPM fitted {fitted} of {attempted} bands with >= {SupernovaModel.MinPoints} detections; median chi2/N {medianChi:G4}");
        Assert.True(fitted >= 0.9 * attempted, $"only {fitted} of {attempted} fits converged");
        Assert.True(medianChi < 10, $"median chi2/N {medianChi}");
    }

    [Fact]
    public void FeaturesOfTheSupernovaeFallInAlercesPublishedRanges()
    {
        var curves = LoadSupernovae();
        var alerce = ReadCsv(SharedData.Path($"{Folder}/100_objects_features.csv"));
        var features = new LightCurveFeatures();
        var values = new double[features.FeatureNames.Count];
        var ours = features.FeatureNames.ToDictionary(n => n, _ => new List<double>());
        foreach (var lc in curves.Values)
        {
            features.Compute(lc, values);
            for (int i = 0; i < values.Length; i++) if (double.IsFinite(values[i])) ours[features.FeatureNames[i]].Add(values[i]);
        }
        // Bounded statistics whose definitions match ALeRCE's: the median of ours must lie within ALeRCE's range.
        string[] checkedFeatures =
        [
            "Amplitude_1", "Beyond1Std_1", "Con_1", "Gskew_1", "MedianAbsDev_1", "MedianBRP_1", "PairSlopeTrend_1", "Q31_1",
            "Rcs_1", "Std_1", "StetsonK_1", "StetsonK_2", "Mean_1", "Mean_2", "n_det_1", "n_det_2", "delta_mag_fid_1",
            "dmag_first_det_fid_1", "positive_fraction_1", "SPM_tau_rise_1", "SPM_tau_fall_1", "SPM_beta_1", "SPM_gamma_1",
            "Psi_eta_1", "AndersonDarling_1", "Eta_e_1", "g-r_max", "g-r_mean",
        ];
        var outside = new List<string>();
        foreach (string name in checkedFeatures)
        {
            var theirs = alerce.Select(r => double.TryParse(r.GetValueOrDefault(name), CultureInfo.InvariantCulture, out double v) ? v : double.NaN)
                .Where(double.IsFinite).Order().ToList();
            var mine = ours[name].Order().ToList();
            Assert.NotEmpty(theirs);
            Assert.NotEmpty(mine);
            double median = mine[mine.Count / 2];
            output.WriteLine(FormattableString.Invariant($"{name}: ours median {median:G4} (n={mine.Count}); ALeRCE's 100 objects {theirs[0]:G4}..{theirs[^1]:G4}, median {theirs[theirs.Count / 2]:G4}"));
            if (median < theirs[0] || median > theirs[^1]) outside.Add(name);
        }
        Assert.Empty(outside);
    }

    private static Dictionary<string, LightCurve> LoadSupernovae()
    {
        var curves = new Dictionary<string, LightCurve>(StringComparer.Ordinal);
        LightCurve Curve(string id) => curves.TryGetValue(id, out var lc) ? lc : curves[id] = new LightCurve();
        foreach (var r in ReadCsv(SharedData.Path($"{Folder}/30_sne_detections_corr.csv")))
        {
            int band = int.Parse(r["fid"], CultureInfo.InvariantCulture) - 1;
            bool positive = double.Parse(r["isdiffpos"], CultureInfo.InvariantCulture) > 0;
            Curve(r["objectId"]).AddDetection(band, Parse(r["mjd"]), Parse(r["magpsf"]), Parse(r["sigmapsf"]), double.NaN, double.NaN, positive);
        }
        foreach (var r in ReadCsv(SharedData.Path($"{Folder}/30_sne_non_detections.csv")))
        {
            if (!curves.TryGetValue(r["objectId"], out var lc)) continue;
            int band = int.Parse(r["fid"], CultureInfo.InvariantCulture) - 1;
            lc.AddUpperLimit(band, Parse(r["jd"]) - 2400000.5, Parse(r["diffmaglim"]));
        }
        foreach (var lc in curves.Values) lc.Complete();
        return curves;
    }

    private static double Parse(string s) => double.TryParse(s, CultureInfo.InvariantCulture, out double v) ? v : double.NaN;

    private static List<Dictionary<string, string>> ReadCsv(string path)
    {
        var rows = new List<Dictionary<string, string>>();
        using var reader = new StreamReader(path);
        var header = Split(reader.ReadLine() ?? "");
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            var cells = Split(line);
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Count && i < cells.Count; i++) row[header[i]] = cells[i];
            rows.Add(row);
        }
        return rows;
    }

    private static List<string> Split(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (char c in line)
        {
            if (c == '"') quoted = !quoted;
            else if (c == ',' && !quoted) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        cells.Add(cell.ToString());
        return cells;
    }
}
