using System.Globalization;
using System.Security.Cryptography;
using Broker.Simulation;
using Broker.StampClassifier;

namespace Broker.Training;

/// <summary>
/// <c>broker train stamps-eval</c>: checks a model directory against its manifest (size, SHA-256), re-simulates
/// the test set of each model from the manifest's seed and scores the ONNX file on it, and scores the ZTF model on
/// the held-out real alerts. The figures of the model card come from here.
/// </summary>
public static class StampEvaluation
{
    /// <summary>Runs it; false when a file does not match the manifest or a re-computed figure differs from the manifest's.</summary>
    public static bool Run(string directory, string? sharedData, TextWriter output)
    {
        var manifest = StampModelManifest.Read(Path.Combine(directory, StampModelManifest.FileName));
        bool ok = true;
        ulong seed = (ulong)(manifest.Training.Seed ?? 1);
        int testAlerts = int.Parse(manifest.Training.Details["testAlerts"], CultureInfo.InvariantCulture);
        foreach (var entry in manifest.Models)
        {
            string path = Path.Combine(directory, entry.File);
            var bytes = File.ReadAllBytes(path);
            string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (sha != entry.Sha256 || bytes.Length != entry.Bytes)
            {
                output.WriteLine($"{entry.File}: sha256 {sha} ({bytes.Length} bytes), the manifest says {entry.Sha256} ({entry.Bytes} bytes)");
                ok = false;
                continue;
            }
            var survey = entry.Survey == "ztf" ? SurveyKind.Ztf : SurveyKind.Lsst;
            var test = StampData.Simulate(survey, seed + StampRunOptions.TestSeedOffset, testAlerts);
            var cm = Confusion.Of(test.Labels, Confusion.ArgMax(StampTrainingRun.Score(path, test), test.Count));
            output.WriteLine($"[{entry.Survey}] {entry.File} matches its manifest (sha256 {sha}); {entry.FlopsPerAlert} FLOPs per alert");
            output.WriteLine($"[{entry.Survey}] simulated test set (seed {seed + StampRunOptions.TestSeedOffset}, {test.Count} first alerts: {StampTrainingRun.Counts(test)}): accuracy {cm.Accuracy:F4}, balanced accuracy {cm.BalancedAccuracy:F4}");
            output.WriteLine(cm.ToMarkdown());
            if (entry.Metrics.TryGetValue("test.accuracy", out double stored) && Math.Abs(stored - cm.Accuracy) > 1e-6)
            {
                output.WriteLine($"[{entry.Survey}] the manifest's test.accuracy is {stored}, re-computed {cm.Accuracy}");
                ok = false;
            }
            if (survey == SurveyKind.Ztf && sharedData is not null && Directory.Exists(Path.Combine(sharedData, "ztf", "alerts")))
            {
                var real = RealAlertReport.Evaluate(path, sharedData);
                output.WriteLine("[ztf] " + real.ToString().Replace("\n", "\n[ztf] ", StringComparison.Ordinal));
            }
        }
        return ok;
    }
}
