using System.Security.Cryptography;
using Broker.Alerts.Model;
using Broker.LightCurves;
using Broker.Simulation;

namespace Broker.Simulation.Tests;

public sealed class LabelledLightCurvesTests
{
    private static readonly Lazy<LabelledLightCurves> Ztf = new(() => new LabelledLightCurves(new LabelledLightCurveOptions { Seed = 11, PerClass = 4, Workers = 2 }));

    [Fact]
    public void The_taxonomy_has_alerces_fifteen_names_and_three_groups()
    {
        Assert.Equal(
            ["SNIa", "SNIbc", "SNII", "SLSN", "QSO", "AGN", "Blazar", "CV/Nova", "YSO", "LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"],
            AlerceTaxonomy.Classes);
        Assert.Equal(["Periodic", "Stochastic", "Transient"], AlerceTaxonomy.TopClasses);
        Assert.Equal(["SNIa", "SNIbc", "SNII", "SLSN"], AlerceTaxonomy.ClassesOf("Transient"));
        Assert.Equal(["QSO", "AGN", "Blazar", "CV/Nova", "YSO"], AlerceTaxonomy.ClassesOf("Stochastic"));
        Assert.Equal(["LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"], AlerceTaxonomy.ClassesOf("Periodic"));
        Assert.Throws<ArgumentException>(() => AlerceTaxonomy.TopOf("SN"));
        Assert.Equal("CV/Nova", AlerceTaxonomy.Of(ObjectClass.Nova));
        Assert.Null(AlerceTaxonomy.Of(ObjectClass.Asteroid));
        // Every astrophysical simulator class maps to an ALeRCE class; none of the artefacts does.
        foreach (var c in Enum.GetValues<ObjectClass>())
            Assert.Equal(c is not ObjectClass.Asteroid && !c.IsBogus(), AlerceTaxonomy.Of(c) is not null);
    }

    [Fact]
    public void The_new_classes_are_not_artefacts_and_not_in_the_streams_mix()
    {
        Assert.False(ObjectClass.Blazar.IsBogus());
        Assert.False(ObjectClass.PeriodicOther.IsBogus());
        Assert.True(ObjectClass.PeriodicOther.IsStellar());
        Assert.False(ObjectClass.Blazar.IsStellar());
        Assert.True(ObjectClass.BogusGhost.IsBogus());
        Assert.DoesNotContain(SimulationEngine.AlertMix, m => m.Class is ObjectClass.Blazar or ObjectClass.PeriodicOther);
        // Their numbers come after every earlier value, which keep theirs (truth files and trained models name them).
        Assert.Equal(19, (int)ObjectClass.BogusGhost);
        Assert.True(ObjectClass.Blazar > ObjectClass.BogusGhost && ObjectClass.PeriodicOther > ObjectClass.BogusGhost);
    }

    /// <summary>
    /// The stream's bytes and truth for a fixed seed, hashed: the committed stamp model is reproduced from the stream,
    /// so adding training-only classes must leave it unchanged. The hash was taken before Blazar and PeriodicOther
    /// were added: the same runs through `broker simulate` (seeds 1, 3, 13 and 2026, ZTF and Rubin) hash the same built from
    /// main before the change and after it.
    /// </summary>
    [Theory]
    [InlineData(SurveyKind.Ztf, "b7e30261175bc5b2b08ae0db7c1b5351a80bcdc3ea60f350305871b043984e1b")]
    [InlineData(SurveyKind.Lsst, "39274c30286e4c22ff1fa8ba13b445f3f3d756dbad7ff55cd52d7363a96e5df7")]
    public void The_alert_stream_of_a_seed_is_unchanged(SurveyKind survey, string expected)
    {
        var options = new SimulationOptions { Survey = survey, Seed = 3, Nights = 1, AlertsPerNight = 120, Workers = 2 };
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var a in AlertSimulator.Generate(options))
        {
            sha.AppendData(a.Datum);
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(a.Truth.ToCsv(AlertSimulator.EphemerisName)));
        }
        Assert.Equal(expected, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    [Fact]
    public void Every_class_gets_its_count_with_an_eligible_ztf_alert_and_a_30_day_history()
    {
        var set = Ztf.Value.Generate();
        Assert.Equal(15 * 4, set.Count);
        foreach (var label in AlerceTaxonomy.Classes)
            Assert.Equal([0, 1, 2, 3], set.Where(s => s.Label == label).Select(s => s.Index));
        foreach (var s in set)
        {
            Assert.Equal(AlerceTaxonomy.TopOf(s.Label), s.TopLabel);
            Assert.Equal(s.Label, AlerceTaxonomy.Of(s.SimulatedClass));
            var a = s.Alert;
            Assert.Equal(Survey.Ztf, a.Survey);
            int g = Count(a, "g"), r = Count(a, "r");
            Assert.True(g >= 6 || r >= 6, $"{s.Label} #{s.Index}: {g} g and {r} r detections");
            Assert.All(a.Detections, d => Assert.InRange(a.MjdTai - d.MjdTai, 1e-6, 30));
            Assert.All(a.UpperLimits, u => Assert.InRange(a.MjdTai - u.MjdTai, 1e-6, 30));
            Assert.NotNull(a.Galactic);
            Assert.Null(a.Cutouts);
            // Through the serving code path: the light curve holds the alert and its history.
            var lc = LightCurve.FromAlert(a);
            Assert.Equal(1 + a.Detections.Count, lc.DetectionCount);
        }
    }

    [Fact]
    public void Generation_is_deterministic_for_any_worker_count_and_prefix_stable()
    {
        var one = new LabelledLightCurves(new LabelledLightCurveOptions { Seed = 11, Workers = 1, Counts = new Dictionary<string, int> { ["SNIa"] = 2, ["Blazar"] = 3 } });
        var set = one.Generate();
        Assert.Equal(["SNIa", "SNIa", "Blazar", "Blazar", "Blazar"], set.Select(s => s.Label));
        var all = Ztf.Value.Generate();
        foreach (var s in set)
        {
            var same = all.Single(x => x.Label == s.Label && x.Index == s.Index);
            Assert.Equal(BrokerAlertCodec.Encode(same.Alert), BrokerAlertCodec.Encode(s.Alert));
            Assert.Equal(same.Parameters, s.Parameters);
        }
        var other = new LabelledLightCurves(new LabelledLightCurveOptions { Seed = 12, Workers = 1 }).Create("SNIa", 0);
        Assert.NotEqual(BrokerAlertCodec.Encode(set[0].Alert), BrokerAlertCodec.Encode(other.Alert));
    }

    [Fact]
    public void Blazars_vary_more_than_quasars_and_periodic_others_have_their_periods()
    {
        var gen = new LabelledLightCurves(new LabelledLightCurveOptions { Seed = 5, Workers = 2, Counts = new Dictionary<string, int> { ["Blazar"] = 30, ["QSO"] = 30, ["Periodic-Other"] = 30 } });
        var set = gen.Generate();
        double Spread(string label) => Median(set.Where(s => s.Label == label).Select(s => MagRange(s.Alert)));
        Assert.True(Spread("Blazar") > 1.5 * Spread("QSO"), $"blazar {Spread("Blazar"):F2} mag, QSO {Spread("QSO"):F2} mag");
        foreach (var s in set.Where(s => s.Label == "Periodic-Other"))
        {
            string p = s.Parameters.Split(';').Single(x => x.StartsWith("period_d=", StringComparison.Ordinal))["period_d=".Length..];
            Assert.InRange(double.Parse(p, System.Globalization.CultureInfo.InvariantCulture), 0.5, 50);
            Assert.Equal(ObjectClass.PeriodicOther, s.SimulatedClass);
        }
    }

    [Fact]
    public void Rubin_alerts_carry_up_to_a_year_of_history()
    {
        var gen = new LabelledLightCurves(new LabelledLightCurveOptions
        {
            Survey = SurveyKind.Lsst, Seed = 2, Workers = 2, WindowNights = 30, Counts = new Dictionary<string, int> { ["RRL"] = 3, ["AGN"] = 3 },
        });
        Assert.Equal(365, gen.HistoryDays);
        var set = gen.Generate();
        Assert.Equal(6, set.Count);
        Assert.All(set, s => Assert.Equal(Survey.Lsst, s.Alert.Survey));
        Assert.All(set, s => Assert.All(s.Alert.Detections, d => Assert.InRange(s.Alert.MjdTai - d.MjdTai, 1e-6, 365)));
        Assert.Contains(set, s => s.Alert.Detections.Any(d => s.Alert.MjdTai - d.MjdTai > 60));
        Assert.All(set, s => Assert.True(Count(s.Alert, "g") >= 6 || Count(s.Alert, "r") >= 6));
    }

    [Fact]
    public void Bad_options_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new LabelledLightCurves(new LabelledLightCurveOptions { Counts = new Dictionary<string, int> { ["Mira"] = 1 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LabelledLightCurves(new LabelledLightCurveOptions { PerClass = -1 }));
        Assert.Throws<ArgumentException>(() => Ztf.Value.Create("SN", 0));
    }

    private static int Count(Alert a, string band) => (a.Band == band ? 1 : 0) + a.Detections.Count(d => d.Band == band);

    private static double MagRange(Alert a)
    {
        var mags = a.Detections.Where(d => d.Mag is not null).Select(d => d.Mag!.Value).Append(a.Mag ?? double.NaN).Where(double.IsFinite).ToArray();
        return mags.Max() - mags.Min();
    }

    private static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
