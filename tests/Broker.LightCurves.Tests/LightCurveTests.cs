using Broker.Alerts.Model;

namespace Broker.LightCurves.Tests;

public class LightCurveTests
{
    private static readonly string[] CountFeatures = ["n_det_1", "n_det_2"];

    [Fact]
    public void EmptyLightCurveGivesNaNFeaturesAndZeroCounts()
    {
        var f = Synthetic.Features(new LightCurve());
        foreach (var (name, value) in f)
        {
            if (CountFeatures.Contains(name)) Assert.Equal(0, value);
            else Assert.True(double.IsNaN(value), $"{name} = {value} on an empty light curve");
        }
    }

    [Fact]
    public void SinglePointGivesItsMagnitudeAndNaNForTheRest()
    {
        var lc = LightCurve.FromAlert(Synthetic.AlertOf([Synthetic.Det(60000, "g", 18.5, 0.05)]));
        Assert.Equal(1, lc.Detections(LightCurveBands.G).Count);
        var f = Synthetic.Features(lc);
        Assert.Equal(18.5, f["Mean_1"]);
        Assert.Equal(1, f["n_det_1"]);
        Assert.Equal(18.5, f["first_mag_1"]);
        Assert.True(double.IsNaN(f["Std_1"]));
        Assert.True(double.IsNaN(f["StetsonK_1"]));
        Assert.True(double.IsNaN(f["Multiband_period"]));
        Assert.True(double.IsNaN(f["SPM_A_1"]));
        Assert.True(double.IsNaN(f["GP_DRW_tau_1"]));
        Assert.True(double.IsNaN(f["Mean_2"]));
    }

    [Fact]
    public void AllNaNPointsAreDroppedAndCounted()
    {
        var points = new List<Detection>
        {
            new() { MjdTai = 60000, Band = "g", Mag = double.NaN, MagErr = 0.1 },
            new() { MjdTai = double.NaN, Band = "r", Mag = 18, MagErr = 0.1 },
            new() { MjdTai = 60002, Band = "g", Mag = null, MagErr = null, Flux = double.NaN, FluxErr = 3 },
            new() { MjdTai = 60003, Band = "r", Mag = 18, MagErr = double.NaN },
        };
        var alert = Synthetic.AlertOf(points, [new UpperLimit(59999, "g", double.NaN), new UpperLimit(59998, "q", 20)]);
        var lc = LightCurve.FromAlert(alert);
        Assert.Equal(0, lc.DetectionCount);
        Assert.Equal(6, lc.DroppedPoints);
        var f = Synthetic.Features(lc);
        Assert.Equal(0, f["n_det_1"]);
        Assert.True(double.IsNaN(f["Mean_1"]));
        Assert.True(double.IsNaN(f["Amplitude_2"]));
    }

    [Fact]
    public void UnsortedInputGivesTheSameFeaturesAsSorted()
    {
        var rng = new Random(3);
        var epochs = Synthetic.ZtfEpochs(rng, 40);
        var points = epochs.Select(e => Synthetic.Det(e.Mjd, LightCurveBands.Names[e.Band], 18 + 0.3 * Math.Sin(2 * Math.PI * e.Mjd / 0.7) + 0.02 * Synthetic.Gaussian(rng), 0.03)).ToList();
        var limits = new List<UpperLimit> { new(59990, "g", 20.5), new(59995, "r", 20.1), new(59993, "g", 20.2) };
        var sorted = LightCurve.FromAlert(Synthetic.AlertOf(points, limits));
        // The same alert (its own detection last), its history shuffled.
        var shuffled = points.Take(points.Count - 1).OrderBy(_ => rng.Next()).Append(points[^1]).ToList();
        var unsorted = LightCurve.FromAlert(Synthetic.AlertOf(shuffled, [.. limits.AsEnumerable().Reverse()]));

        var t = unsorted.Detections(LightCurveBands.G).Time;
        for (int i = 1; i < t.Length; i++) Assert.True(t[i] > t[i - 1]);
        var a = Synthetic.Features(sorted);
        var b = Synthetic.Features(unsorted);
        foreach (var (name, value) in a) Assert.True(value.Equals(b[name]), $"{name}: sorted {value}, unsorted {b[name]}");
        Assert.False(double.IsNaN(a["Multiband_period"]));
    }

    [Fact]
    public void RepeatedExposureIsDroppedAsDuplicate()
    {
        var d = Synthetic.Det(60000, "g", 18, 0.1);
        var alert = Synthetic.AlertOf([d, Synthetic.Det(60001, "g", 18.2, 0.1), d]);
        var lc = LightCurve.FromAlert(alert);
        Assert.Equal(2, lc.Detections(LightCurveBands.G).Count);
        Assert.Equal(1, lc.DuplicatePoints);
    }

    [Fact]
    public void MagnitudesAndFluxesAreDerivedFromEachOther()
    {
        var lc = new LightCurve();
        lc.AddDetection(LightCurveBands.G, 60000, 31.4 - 2.5 * Math.Log10(1000), 0.1, double.NaN, double.NaN, positive: false);
        lc.AddDetection(LightCurveBands.R, 60000, double.NaN, double.NaN, 1e4, 100, positive: true);
        lc.Complete();
        var g = lc.Detections(LightCurveBands.G);
        Assert.Equal(-1000, g.Flux[0], 1e-9);
        Assert.Equal(1000 * 0.1 / LightCurve.MagPerFractionalFlux, g.FluxErr[0], 1e-9);
        var r = lc.Detections(LightCurveBands.R);
        Assert.Equal(21.4, r.Mag[0], 1e-12);
        Assert.Equal(LightCurve.MagPerFractionalFlux * 0.01, r.MagErr[0], 1e-12);
    }

    [Fact]
    public void ContextComesFromSurveyFieldsAndCrossmatches()
    {
        var alert = Synthetic.AlertOf([Synthetic.Det(60000, "g", 18, 0.1)]) with
        {
            SurveyFields = new Dictionary<string, object?> { ["candidate.sgscore1"] = 0.9f, ["candidate.distpsnr1"] = -999.0 },
            Crossmatches =
            [
                new Crossmatch { Catalog = "A", DistanceArcsec = 3, ObjectType = "galaxy" },
                new Crossmatch { Catalog = "B", DistanceArcsec = 1.5, ObjectType = "star" },
            ],
            RealBogus = 0.8,
        };
        var f = Synthetic.Features(LightCurve.FromAlert(alert));
        Assert.Equal(0.9, f["sgscore1"], 1e-6);
        Assert.True(double.IsNaN(f["distpsnr1"]));
        Assert.Equal(1.5, f["xmatch_nearest_arcsec"]);
        Assert.Equal(1, f["xmatch_type"]);
        Assert.Equal(0.8, f["rb"]);
    }

    [Fact]
    public void ReloadingAndComputingAllocatesNothing()
    {
        var rng = new Random(5);
        var epochs = Synthetic.ZtfEpochs(rng, 30);
        var points = epochs.Select(e => Synthetic.Det(e.Mjd, LightCurveBands.Names[e.Band], 18 + 0.2 * Synthetic.Gaussian(rng), 0.05)).ToList();
        var alert = Synthetic.AlertOf(points, [new UpperLimit(59995, "g", 20.5)]);
        var lc = new LightCurve();
        var features = new LightCurveFeatures();
        var output = new double[features.FeatureNames.Count];
        lc.Load(alert);
        features.Compute(lc, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            lc.Load(alert);
            features.Compute(lc, output);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void NamesAreUniqueAndFollowAlerceSuffixes()
    {
        Assert.Equal(LightCurveFeatures.Names.Count, LightCurveFeatures.Names.Distinct().Count());
        Assert.Equal(LightCurveFeatures.RubinNames.Count, LightCurveFeatures.RubinNames.Distinct().Count());
        Assert.Contains("Amplitude_1", LightCurveFeatures.Names);
        Assert.Contains("Harmonics_mag_7_2", LightCurveFeatures.Names);
        Assert.Contains("SPM_tau_rise_2", LightCurveFeatures.Names);
        Assert.Contains("g-r_max", LightCurveFeatures.Names);
        Assert.Contains("Amplitude_6", LightCurveFeatures.RubinNames);
        Assert.DoesNotContain("Amplitude_3", LightCurveFeatures.Names);
    }
}
