using System.Globalization;
using Broker.Simulation;
using Broker.StampClassifier;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Training.Tests;

/// <summary>
/// The committed model, models/stamp-classifier/1.0: its files match the manifest (StampModelManifest.Verify, what
/// the service does at start), its FLOPs are the graph's, and it classifies a fresh simulated night of the
/// manifest's test seed well above chance.
/// </summary>
public sealed class CommittedModelTests(ITestOutputHelper output)
{
    private static string Directory => SharedData.RepositoryPath("models/stamp-classifier/1.0");

    [Fact]
    public void The_manifest_matches_the_files_and_the_service_would_load_them()
    {
        var manifest = StampModelManifest.Read(Path.Combine(Directory, StampModelManifest.FileName));
        Assert.Equal("1.0", manifest.Version);
        Assert.Equal(StampClasses.Names, manifest.Classes);
        Assert.Equal(["ztf", "lsst"], manifest.Models.Select(m => m.Survey));
        using var models = manifest.Verify(Directory);
        Assert.Equal(2, models.Models.Count);
        foreach (var entry in manifest.Models)
        {
            var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(Directory, entry.File)));
            Assert.Equal(GraphFlops.Count(graph, StampInput.Side), entry.FlopsPerAlert);
            output.WriteLine($"{entry.File}: {entry.Bytes} bytes, {entry.FlopsPerAlert} FLOPs per alert, test accuracy {entry.Metrics["test.accuracy"]}");
        }
    }

    [Fact]
    public void A_fresh_night_of_the_test_seed_is_classified_with_balanced_accuracy_above_0_85()
    {
        var manifest = StampModelManifest.Read(Path.Combine(Directory, StampModelManifest.FileName));
        ulong seed = (ulong)manifest.Training.Seed!.Value + StampRunOptions.TestSeedOffset;
        foreach (var entry in manifest.Models)
        {
            var survey = entry.Survey == "ztf" ? SurveyKind.Ztf : SurveyKind.Lsst;
            // A smaller night than the manifest's test set (speed), from the same test seed: never trained on.
            var test = StampData.Simulate(survey, seed, 3000);
            var cm = Confusion.Of(test.Labels, Confusion.ArgMax(StampTrainingRun.Score(Path.Combine(Directory, entry.File), test), test.Count));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{entry.Survey}: {test.Count} alerts, accuracy {cm.Accuracy:F3}, balanced accuracy {cm.BalancedAccuracy:F3}"));
            output.WriteLine(cm.ToMarkdown());
            Assert.True(cm.BalancedAccuracy > 0.85, $"{entry.Survey}: balanced accuracy {cm.BalancedAccuracy:F3}");
            Assert.True(cm.Accuracy > 0.85, $"{entry.Survey}: accuracy {cm.Accuracy:F3}");
        }
    }
}
