using System.Globalization;
using Broker.Alerts.Model;
using Broker.LightCurveClassifier;
using Broker.LightCurves;
using Broker.Simulation;

namespace Broker.Training;

/// <summary>
/// <c>broker train periodic-compare</c>: re-simulates the test seed of a periodic-CNN model directory (seed + 2000,
/// never used in its training or selection), scores the CNN through <see cref="PeriodicCnnModel"/> (the serving
/// class) and the light-curve forest hierarchy of <c>models/lc-classifier/&lt;version&gt;</c> through its own
/// manifest, feature row and hierarchy (<see cref="LightCurveInput"/>, <see cref="LightCurveHierarchy"/>, what the
/// light-curve step runs) on the same alerts, and prints the per-class table of <see cref="PeriodicComparison"/>.
/// </summary>
public static class PeriodicEvaluation
{
    /// <summary>Runs it; returns the Markdown written (also to <paramref name="markdownPath"/> when given).</summary>
    public static string Compare(string cnnDirectory, string forestDirectory, int testPerClass, string? markdownPath, TextWriter log)
    {
        using var cnn = PeriodicCnnModel.Load(cnnDirectory);
        ulong seed = (ulong)(cnn.Manifest.Training.Seed ?? throw new InvalidOperationException($"{cnnDirectory}: the manifest has no seed")) + StampRunOptions.TestSeedOffset;
        var forestManifest = LightCurveModelManifest.Read(Path.Combine(forestDirectory, LightCurveModelManifest.FileName));
        using var forest = forestManifest.Verify(forestDirectory);
        var layout = forestManifest.Layout ?? throw new InvalidOperationException($"{forestDirectory}: survey '{forestManifest.Survey}' has no feature layout");
        var survey = forestManifest.Survey == "lsst" ? SurveyKind.Lsst : SurveyKind.Ztf;
        log.WriteLine($"simulating the CNN's test seed {seed}: {testPerClass} objects per periodic class ({forestManifest.Survey})");
        var test = PeriodicData.Simulate(survey, seed, testPerClass);
        if (test.Data.Skipped.Count > 0) log.WriteLine($"CNN cannot classify: {string.Join("; ", test.Data.Skipped.Select(kv => kv.Key + " x" + kv.Value))}");

        var probabilities = new float[test.Count * PeriodicClasses.Count];
        cnn.Classify(test.Data.Images.ToArray(), test.Data.Features.ToArray(), test.Count, probabilities);

        var features = new LightCurveFeatures(layout);
        var scratch = new double[features.FeatureNames.Count];
        var row = new float[features.FeatureNames.Count];
        var top = new float[forestManifest.TopClasses.Count];
        var classes = new float[forestManifest.Classes.Count];
        var lc = new LightCurve();
        int notClassified = 0;
        string? Forest(Alert alert)
        {
            lc.Load(alert);
            if (LightCurveInput.Eligibility(lc, forestManifest.MinDetections) is not null)
            {
                notClassified++;
                return null;
            }
            LightCurveInput.Write(lc, features, scratch, row);
            forest.Predict(row, 1, top, classes);
            int best = 0;
            for (int c = 1; c < classes.Length; c++) if (classes[c] > classes[best]) best = c;
            return forestManifest.Classes[best];
        }
        var result = PeriodicComparison.Run(test, probabilities, Forest);
        string name = $"forest ({forestManifest.Name} {forestManifest.Version})";
        var md = new System.Text.StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"The CNN ({cnn.Name} {cnn.Version}) and the {name} on the same {test.Count} simulated {forestManifest.Survey.ToUpperInvariant()} alerts of periodic variables (test seed {seed}: trained on by neither; the forest's `lightcurve` class is the argmax of its 15 hierarchical probabilities; {notClassified} alerts it did not classify):");
        md.AppendLine();
        md.Append(PeriodicComparison.ToMarkdown(result, "forest"));
        md.AppendLine();
        md.AppendLine("CNN confusion matrix:");
        md.AppendLine();
        md.Append(result.Cnn.ToMarkdown(withPrecision: true));
        md.AppendLine();
        md.AppendLine("Forest confusion matrix over the six periodic classes (its answers outside them in the table above):");
        md.AppendLine();
        md.Append(result.Other.ToMarkdown(withPrecision: true));
        string text = md.ToString();
        log.WriteLine(text);
        if (markdownPath is not null) File.WriteAllText(markdownPath, text);
        return text;
    }
}
