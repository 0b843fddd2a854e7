using System.Globalization;
using Broker.LightCurves;
using Broker.Simulation;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Training.Tests;

/// <summary>
/// The committed periodic CNN, models/periodic-cnn/1.0: the serving class loads it (manifest, sha256, graph), its
/// FLOPs are the graph's, and it classifies a fresh draw of the manifest's test seed well above chance (1/6).
/// </summary>
public sealed class CommittedPeriodicModelTests(ITestOutputHelper output)
{
    private static string Directory => SharedData.RepositoryPath("models/periodic-cnn/1.0");

    [Fact]
    public void The_serving_class_loads_the_committed_model_and_its_flops_are_the_graphs()
    {
        using var model = PeriodicCnnModel.Load(Directory);
        Assert.Equal("1.0", model.Version);
        Assert.Equal(PeriodicClasses.Names, model.Classes);
        Assert.Equal(PhaseFoldedImage.Layout, model.Manifest.Image.Layout);
        var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Directory, model.Manifest.File)));
        Assert.Equal(GraphFlops.Count(graph, PhaseFoldedImage.DefaultSide), model.Manifest.FlopsPerAlert);
        Assert.Equal(2026, model.Manifest.Training.Seed);
    }

    [Fact]
    public void A_fresh_draw_of_the_test_seed_is_classified_with_balanced_accuracy_above_0_75()
    {
        using var model = PeriodicCnnModel.Load(Directory);
        ulong seed = (ulong)model.Manifest.Training.Seed!.Value + StampRunOptions.TestSeedOffset;
        // Fewer objects than the manifest's test set, from the same seed (a prefix of it): never trained on.
        var test = PeriodicData.Simulate(SurveyKind.Ztf, seed, 100);
        var p = new float[test.Count * PeriodicClasses.Count];
        model.Classify(test.Data.Images.ToArray(), test.Data.Features.ToArray(), test.Count, p);
        var cm = Confusion.Of(PeriodicClasses.Names, test.Data.Labels, Confusion.ArgMax(p, test.Count, PeriodicClasses.Count));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{test.Count} objects, balanced accuracy {cm.BalancedAccuracy:F3}"));
        output.WriteLine(cm.ToMarkdown(withPrecision: true));
        Assert.Equal(600, test.Count);
        Assert.True(cm.BalancedAccuracy > 0.75, $"balanced accuracy {cm.BalancedAccuracy:F3}");
        for (int c = 0; c < PeriodicClasses.Count; c++) Assert.True(cm.Recall(c) > 0.5, $"{PeriodicClasses.Names[c]} recall {cm.Recall(c):F3}");
    }
}
