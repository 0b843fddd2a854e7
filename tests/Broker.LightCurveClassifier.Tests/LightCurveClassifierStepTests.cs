using Broker.Alerts.Model;
using Broker.LightCurves;
using Broker.StepHost;

namespace Broker.LightCurveClassifier.Tests;

public sealed class LightCurveClassifierStepTests
{
    private static readonly Lazy<LightCurveClassifierStep> Step = new(() => CommittedModel.Start());

    private static List<Alert> Run(IReadOnlyList<Alert> alerts, LightCurveClassifierStep? step = null)
    {
        var results = (step ?? Step.Value).ExecuteAsync(alerts, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        Assert.Equal(alerts.Count, results.Count);
        Assert.All(results, r => Assert.Equal(StepOutcome.Emitted, r.Outcome));
        return [.. results.Select(r => r.Value!)];
    }

    private static (Classification Top, Classification Bottom) Added(Alert before, Alert after)
    {
        var top = after.Classifications[before.Classifications.Count];
        var bottom = after.Classifications[before.Classifications.Count + 1];
        // The periodic CNN's classification follows, exactly when the forest calls the alert Periodic.
        bool periodic = top.IsClassified && top.TopClass == "Periodic";
        Assert.Equal(before.Classifications.Count + (periodic ? 3 : 2), after.Classifications.Count);
        if (periodic) Assert.Equal(LightCurveClassifierStep.PeriodicClassifier, after.Classifications[^1].Classifier);
        Assert.Equal(LightCurveClassifierStep.TopClassifier, top.Classifier);
        Assert.Equal(LightCurveClassifierStep.Classifier, bottom.Classifier);
        foreach (var c in new[] { top, bottom })
        {
            Assert.Equal("broker-lc-classifier", c.Model);
            Assert.Equal("1.0", c.ModelVersion);
            Assert.Equal("alerce-lc-2021", c.Taxonomy);
        }
        Assert.Equal(top.NotClassifiedReason, bottom.NotClassifiedReason);
        Assert.Contains(LightCurveClassifierStep.StepName, after.StageVersions.Keys);
        return (top, bottom);
    }

    private static void AssertConsistent(Classification top, Classification bottom)
    {
        Assert.True(top.IsClassified && bottom.IsClassified);
        Assert.Equal(["Periodic", "Stochastic", "Transient"], top.Classes);
        Assert.Equal(["SNIa", "SNIbc", "SNII", "SLSN", "QSO", "AGN", "Blazar", "CV/Nova", "YSO", "LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"], bottom.Classes);
        Assert.Equal(1, top.Probabilities.Values.Sum(), 3);
        Assert.Equal(1, bottom.Probabilities.Values.Sum(), 3);
        // P(class) = P(group) P(class | group): each group's classes sum to the group's top-level probability.
        foreach (var (group, classes) in LightCurveModelManifest.ExpectedBranches)
            Assert.Equal(top.Probabilities[group], classes.Sum(c => bottom.Probabilities[c]), 4);
        Assert.Equal(top.Probabilities.MaxBy(kv => kv.Value).Key, top.TopClass);
        Assert.Equal(bottom.Probabilities.MaxBy(kv => kv.Value).Key, bottom.TopClass);
    }

    [Fact]
    public void Every_real_ztf_alert_gets_both_classifications_or_the_reason()
    {
        var alerts = RealAlerts.Ztf.Select(a => a.Alert).ToList();
        var output = Run(alerts);
        int classified = 0;
        var lc = new LightCurve();
        for (int i = 0; i < alerts.Count; i++)
        {
            var (top, bottom) = Added(alerts[i], output[i]);
            lc.Load(alerts[i]);
            bool eligible = lc.Detections(LightCurveBands.G).Count >= 6 || lc.Detections(LightCurveBands.R).Count >= 6;
            Assert.Equal(eligible, top.IsClassified);
            if (eligible)
            {
                AssertConsistent(top, bottom);
                classified++;
            }
            else
            {
                Assert.StartsWith("too few detections: ", top.NotClassifiedReason, StringComparison.Ordinal);
                Assert.Empty(top.Probabilities);
                Assert.Equal("", bottom.TopClass);
            }
        }
        // The shared data hold both kinds (alerts with long histories and new ones).
        Assert.InRange(classified, 1, alerts.Count - 1);
    }

    [Fact]
    public void The_periodic_cnn_classifies_the_real_alerts_the_forest_calls_periodic_into_the_six_periodic_classes_or_says_why()
    {
        var alerts = RealAlerts.Ztf.Select(a => a.Alert).ToList();
        var output = Run(alerts);
        int periodic = 0, classified = 0;
        for (int i = 0; i < alerts.Count; i++)
        {
            var top = output[i].Classifications.Single(c => c.Classifier == LightCurveClassifierStep.TopClassifier);
            var cnn = output[i].Classifications.SingleOrDefault(c => c.Classifier == LightCurveClassifierStep.PeriodicClassifier);
            Assert.Equal(top.IsClassified && top.TopClass == "Periodic", cnn is not null);
            if (cnn is null) continue;
            periodic++;
            Assert.Equal(("broker-periodic-cnn", "1.0"), (cnn.Model, cnn.ModelVersion));
            if (!cnn.IsClassified)
            {
                Assert.False(string.IsNullOrEmpty(cnn.NotClassifiedReason));
                continue;
            }
            classified++;
            Assert.Equal(["LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"], cnn.Classes);
            Assert.Equal(1, cnn.Probabilities.Values.Sum(), 3);
            Assert.Equal(cnn.Probabilities.MaxBy(kv => kv.Value).Key, cnn.TopClass);
        }
        Assert.True(periodic > 0 && classified > 0, $"{periodic} alerts called periodic, {classified} classified by the CNN");
    }

    [Fact]
    public async Task With_the_periodic_cnn_off_only_the_forests_classify()
    {
        using var step = new LightCurveClassifierStep(new LightCurveClassifierOptions { ModelDirectory = CommittedModel.Directory, PeriodicModelDirectory = "off" });
        await step.StartAsync(CancellationToken.None);
        var output = Run(RealAlerts.Ztf.Select(a => a.Alert).ToList(), step);
        Assert.DoesNotContain(output, a => a.Classifications.Any(c => c.Classifier == LightCurveClassifierStep.PeriodicClassifier));
    }

    [Fact]
    public void Rubin_alerts_are_not_classified_and_say_why()
    {
        var alerts = RealAlerts.Lsst.Select(a => a.Alert).ToList();
        Assert.NotEmpty(alerts);
        var output = Run(alerts);
        for (int i = 0; i < alerts.Count; i++)
        {
            var (top, bottom) = Added(alerts[i], output[i]);
            Assert.Equal("broker-lc-classifier 1.0 has no Rubin (LSST) model (it classifies ZTF light curves)", top.NotClassifiedReason);
            Assert.False(bottom.IsClassified);
        }
    }

    [Fact]
    public void Short_bad_and_unsorted_light_curves_are_not_classified_or_classified_but_never_fail()
    {
        // An alert whose history repeats no exposure (some archive copies list one twice with different
        // magnitudes, and the light curve keeps the first it meets, so their order matters).
        var real = RealAlerts.Ztf.Select(a => a.Alert).First(a => a.Detections.Count >= 8 && LightCurve.FromAlert(a).DuplicatePoints == 0);
        var single = real with { Detections = [], UpperLimits = [], ForcedPhotometry = [] };
        var allNaN = real with { Detections = [.. real.Detections.Select(d => d with { Mag = double.NaN, Flux = double.NaN, MagErr = double.NaN, FluxErr = double.NaN })] };
        var unsorted = real with { Detections = [.. real.Detections.Reverse()], UpperLimits = [.. real.UpperLimits.Reverse()] };
        var output = Run([single, allNaN, unsorted, real]);
        int g = single.Band == "g" ? 1 : 0;
        Assert.Equal($"too few detections: {g} in g and {1 - g} in r, at least 6 in g or in r needed", Added(single, output[0]).Top.NotClassifiedReason);
        Assert.Contains("unusable point(s) dropped", Added(allNaN, output[1]).Top.NotClassifiedReason, StringComparison.Ordinal);
        // The light curve sorts its points: order in the packet changes nothing.
        var (t2, b2) = Added(unsorted, output[2]);
        var (t3, b3) = Added(real, output[3]);
        AssertConsistent(t3, b3);
        Assert.Equal(t3.Probabilities, t2.Probabilities);
        Assert.Equal(b3.Probabilities, b2.Probabilities);
    }

    [Fact]
    public void Ml_net_and_onnx_give_the_same_classes_on_real_alerts()
    {
        var alerts = RealAlerts.Ztf.Select(a => a.Alert).ToList();
        using var mlnet = CommittedModel.Start(runtime: "mlnet");
        using var onnx = CommittedModel.Start(runtime: "onnx");
        Assert.Equal(ForestRuntime.MlNet, mlnet.Model.Runtime);
        Assert.Equal(ForestRuntime.Onnx, onnx.Model.Runtime);
        var a = Run(alerts, mlnet);
        var b = Run(alerts, onnx);
        for (int i = 0; i < alerts.Count; i++)
        {
            var ca = a[i].Classifications[^1];
            var cb = b[i].Classifications[^1];
            Assert.Equal(ca.TopClass, cb.TopClass);
            foreach (var (k, p) in ca.Probabilities) Assert.Equal(p, cb.Probabilities[k], 4);
        }
    }

    [Fact]
    public void The_stage_is_declared_for_the_registry()
    {
        var stage = LightCurveClassifierStep.Stage;
        Assert.Equal("lightcurve", stage.Name);
        Assert.Equal("broker.stamps", stage.Input);
        Assert.Equal("broker.classified", Assert.Single(stage.Outputs).Name);
        Assert.Equal("LightCurveClassifier", stage.Section);
        Assert.True(stage.Needs.HasFlag(StageNeeds.Models));
    }

    [Fact]
    public void A_step_that_was_not_started_fails_fatally()
    {
        using var step = new LightCurveClassifierStep(new LightCurveClassifierOptions());
        var e = Assert.Throws<StepException>(() => step.ExecuteAsync([], CancellationToken.None).AsTask().GetAwaiter().GetResult());
        Assert.Equal(FailureKind.Fatal, e.Kind);
    }
}
