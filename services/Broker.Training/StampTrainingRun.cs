using Broker.Onnx;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Broker.Alerts.Model;
using Broker.Simulation;
using Broker.StampClassifier;

namespace Broker.Training;

/// <summary>What <c>broker train stamps</c> does.</summary>
public sealed record StampRunOptions
{
    /// <summary>The seed: training data and weights use it, validation data Seed + <see cref="ValidationSeedOffset"/>, test data Seed + <see cref="TestSeedOffset"/>.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The model directory to write.</summary>
    public string Out { get; init; } = "models/stamp-classifier/1.0";

    /// <summary>The version written in the manifest.</summary>
    public string Version { get; init; } = "1.0";

    /// <summary>Simulated alerts (one night) of the training set, per survey.</summary>
    public int TrainAlerts { get; init; } = 40000;

    /// <summary>Simulated alerts of the validation set (early stopping and model selection).</summary>
    public int ValidationAlerts { get; init; } = 8000;

    /// <summary>Simulated alerts of the test set (reported only).</summary>
    public int TestAlerts { get; init; } = 16000;

    /// <summary>Training options (epochs, sizes); its seed is replaced by <see cref="Seed"/>.</summary>
    public StampTrainingOptions Training { get; init; } = new();

    /// <summary>Surveys to train, in order.</summary>
    public IReadOnlyList<SurveyKind> Surveys { get; init; } = [SurveyKind.Ztf, SurveyKind.Lsst];

    /// <summary>The shared data (real alerts, evaluation only), or null to skip that evaluation.</summary>
    public string? SharedData { get; init; }

    /// <summary>The command line to record in the manifest.</summary>
    public string Command { get; init; } = "";

    /// <summary>Offset of the validation seed.</summary>
    public const ulong ValidationSeedOffset = 1000;

    /// <summary>Offset of the test seed.</summary>
    public const ulong TestSeedOffset = 2000;
}

/// <summary>
/// <c>broker train stamps</c>: simulates labelled ZTF and Rubin alerts, trains one network per survey, writes
/// &lt;survey&gt;.onnx, manifest.json and evaluation.md to the model directory, and prints the confusion matrices.
/// </summary>
public static class StampTrainingRun
{
    /// <summary>Runs it; returns the manifest written.</summary>
    public static StampModelManifest Run(StampRunOptions options, TextWriter log)
    {
        Directory.CreateDirectory(options.Out);
        var entries = new List<StampModelFile>();
        var details = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var evaluation = new StringBuilder();
        evaluation.AppendLine(CultureInfo.InvariantCulture, $"# Evaluation of {StampModelManifest.DefaultName} {options.Version}");
        evaluation.AppendLine();
        evaluation.AppendLine(CultureInfo.InvariantCulture, $"Written by `{options.Command}`. Simulated test sets: seed {options.Seed + StampRunOptions.TestSeedOffset}, never used in training or model selection; scores from the exported ONNX files through ONNX Runtime.");
        StampNetwork? ztfNetwork = null;
        string? ztfPath = null;
        foreach (var survey in options.Surveys)
        {
            string name = survey == SurveyKind.Ztf ? "ztf" : "lsst";
            var broker = StampData.SurveyOf(survey);
            var clock = Stopwatch.StartNew();
            log.WriteLine($"[{name}] simulating: train seed {options.Seed} ({options.TrainAlerts} alerts), validation seed {options.Seed + StampRunOptions.ValidationSeedOffset} ({options.ValidationAlerts}), test seed {options.Seed + StampRunOptions.TestSeedOffset} ({options.TestAlerts})");
            var train = StampData.Simulate(survey, options.Seed, options.TrainAlerts);
            var validation = StampData.Simulate(survey, options.Seed + StampRunOptions.ValidationSeedOffset, options.ValidationAlerts);
            var test = StampData.Simulate(survey, options.Seed + StampRunOptions.TestSeedOffset, options.TestAlerts);
            log.WriteLine($"[{name}] examples: train {Counts(train)}; validation {Counts(validation)}; test {Counts(test)} ({clock.Elapsed.TotalSeconds:F0} s)");
            log.WriteLine($"[{name}] skipped (train): {string.Join("; ", train.Skipped.Select(kv => kv.Key + " x" + kv.Value))}");
            clock.Restart();
            var training = options.Training with { Seed = options.Seed };
            var (network, epochs, best) = StampTrainer.Train(train, validation, training, line => log.WriteLine($"[{name}] {line}"));
            log.WriteLine($"[{name}] trained {epochs.Count} epochs in {clock.Elapsed.TotalSeconds:F0} s; kept epoch {best}");

            string file = name + ".onnx";
            string path = Path.Combine(options.Out, file);
            var bytes = StampOnnxExport.ToBytes(network, $"{StampModelManifest.DefaultName}-{name}",
                $"{StampModelManifest.DefaultName} {options.Version} ({name}): Broker's five-class stamp classifier (AGN, SN, VS, asteroid, bogus), trained by Broker.Training with seed {options.Seed}");
            File.WriteAllBytes(path, bytes);

            var probabilities = Score(path, test);
            var cm = Confusion.Of(test.Labels, Confusion.ArgMax(probabilities, test.Count));
            log.WriteLine($"[{name}] test (seed {options.Seed + StampRunOptions.TestSeedOffset}, {test.Count} alerts): accuracy {cm.Accuracy:F4}, balanced accuracy {cm.BalancedAccuracy:F4}");
            log.WriteLine(cm.ToMarkdown());

            var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal)
            {
                ["test.alerts"] = test.Count,
                ["validation.balancedAccuracy"] = Round(epochs[best - 1].ValidationBalancedAccuracy),
                ["train.alerts"] = train.Count,
                ["train.epochs"] = epochs.Count,
                ["train.bestEpoch"] = best,
            };
            // JSON has no NaN: a figure without examples is left out.
            if (test.Count > 0)
            {
                metrics["test.accuracy"] = Round(cm.Accuracy);
                metrics["test.balancedAccuracy"] = Round(cm.BalancedAccuracy);
            }
            for (int c = 0; c < StampClasses.Count; c++)
            {
                if (!double.IsNaN(cm.Recall(c))) metrics[$"test.recall.{StampClasses.Names[c]}"] = Round(cm.Recall(c));
                for (int p = 0; p < StampClasses.Count; p++) metrics[$"test.confusion.{StampClasses.Names[c]}.{StampClasses.Names[p]}"] = cm.Counts[c, p];
            }
            evaluation.AppendLine();
            evaluation.AppendLine(CultureInfo.InvariantCulture, $"## {(survey == SurveyKind.Ztf ? "ZTF" : "Rubin")} model ({file})");
            evaluation.AppendLine();
            evaluation.AppendLine(CultureInfo.InvariantCulture, $"Training examples (seed {options.Seed}): {Counts(train)}. Validation (seed {options.Seed + StampRunOptions.ValidationSeedOffset}): {Counts(validation)}. Epochs run {epochs.Count}, kept {best} (validation balanced accuracy {epochs[best - 1].ValidationBalancedAccuracy:F4}).");
            evaluation.AppendLine();
            evaluation.AppendLine(CultureInfo.InvariantCulture, $"Test (seed {options.Seed + StampRunOptions.TestSeedOffset}, {test.Count} first alerts: {Counts(test)}): accuracy **{cm.Accuracy:F4}**, balanced accuracy (mean recall) **{cm.BalancedAccuracy:F4}**.");
            evaluation.AppendLine();
            evaluation.Append(cm.ToMarkdown());

            if (survey == SurveyKind.Lsst && ztfNetwork is not null && ztfPath is not null)
            {
                // One model for both surveys? The ZTF network on Rubin's test stamps, with the features the two
                // surveys share by name and the ZTF training mean (0 after standardisation) for the rest.
                var (cross, shared) = ZtfModelOnRubin(ztfPath, ztfNetwork, test);
                log.WriteLine($"[lsst] the ZTF model on the Rubin test set ({shared} of {StampInput.FeatureNames(Survey.Ztf).Count} ZTF features filled from Rubin's): accuracy {cross.Accuracy:F4}, balanced accuracy {cross.BalancedAccuracy:F4}");
                log.WriteLine(cross.ToMarkdown());
                if (test.Count > 0)
                {
                    metrics["test.ztfModel.accuracy"] = Round(cross.Accuracy);
                    metrics["test.ztfModel.balancedAccuracy"] = Round(cross.BalancedAccuracy);
                }
                evaluation.AppendLine();
                evaluation.AppendLine(CultureInfo.InvariantCulture, $"The ZTF model on the same Rubin test stamps ({shared} of its {StampInput.FeatureNames(Survey.Ztf).Count} features filled from Rubin's features of the same name, the rest at the ZTF training mean): accuracy {cross.Accuracy:F4}, balanced accuracy {cross.BalancedAccuracy:F4}.");
                evaluation.AppendLine();
                evaluation.Append(cross.ToMarkdown());
            }
            if (survey == SurveyKind.Ztf)
            {
                ztfNetwork = network;
                ztfPath = path;
                if (options.SharedData is { } shared && Directory.Exists(Path.Combine(shared, "ztf", "alerts")))
                {
                    var real = RealAlertReport.Evaluate(path, shared);
                    log.WriteLine("[ztf] " + real.ToString().Replace("\n", "\n[ztf] ", StringComparison.Ordinal));
                    metrics["real.asteroidAlerts"] = real.AsteroidAlerts;
                    metrics["real.asteroidClassified"] = real.AsteroidClassified;
                    if (!double.IsNaN(real.AsteroidRecall)) metrics["real.asteroidRecall"] = Round(real.AsteroidRecall);
                    metrics["real.braaiAlerts"] = real.BraaiAlerts;
                    metrics["real.braaiClassified"] = real.BraaiClassified;
                    if (!double.IsNaN(real.BraaiAgreement)) metrics["real.braaiBogusAgreement"] = Round(real.BraaiAgreement);
                    evaluation.AppendLine();
                    evaluation.AppendLine("Real ZTF alerts of ../shared/data (held out: evaluation only):");
                    evaluation.AppendLine();
                    foreach (var line in real.ToString().Split('\n')) evaluation.AppendLine("- " + line);
                }
            }

            entries.Add(new StampModelFile
            {
                Survey = StampModelFile.SurveyName(broker),
                File = file,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
                Bytes = bytes.Length,
                Inputs =
                [
                    new OnnxManifestInput
                    {
                        Name = StampOnnxExport.ImagesInput, Shape = [-1, StampInput.Channels, StampInput.Side, StampInput.Side],
                        Preprocessing = "StampInput.TryWrite: science, template, difference; each cropped to its central 21x21, min-max normalised over its finite pixels, NaN to 0",
                    },
                    new OnnxManifestInput
                    {
                        Name = StampOnnxExport.FeaturesInput, Shape = [-1, train.FeatureCount],
                        Preprocessing = "StampInput.TryWrite: filled and clipped per StampInput.FeatureDefinitions; the graph standardises them with the training set's mean and deviation and clips them to [-6, 6]",
                        Features = [.. StampInput.FeatureNames(broker)],
                    },
                ],
                Output = new OnnxManifestOutput { Name = StampOnnxExport.ProbabilitiesOutput, Shape = [-1, StampClasses.Count] },
                FlopsPerAlert = network.Architecture.FlopsPerAlert,
                Metrics = metrics,
            });
            details[$"{name}.trainExamples"] = Counts(train);
            details[$"{name}.validationExamples"] = Counts(validation);
            details[$"{name}.testExamples"] = Counts(test);
            details[$"{name}.epochs"] = $"{epochs.Count} run, epoch {best} kept (best validation balanced accuracy)";
        }
        var t = options.Training;
        details["architecture"] = $"rotation-invariant CNN (Carrasco-Davis et al. 2021): 0/90/180/270-degree copies through shared conv 3x3 {t.Conv1} filters, ReLU, maxpool 2; conv 3x3 {t.Conv2} filters, ReLU, maxpool 2; dense {t.Dense}, ReLU; mean over the rotations; joined to the standardised features; dense {t.Dense}, ReLU; dense 5; softmax";
        details["optimiser"] = $"Adam, learning rate {t.LearningRate.ToString(CultureInfo.InvariantCulture)}, weight decay {t.WeightDecay.ToString(CultureInfo.InvariantCulture)}, batch {t.BatchSize}, at most {t.MaxEpochs} epochs, patience {t.Patience}";
        details["loss"] = "cross-entropy weighted by inverse class frequency of the training set";
        details["augmentation"] = "random 90-degree turns and mirror images of each training stamp";
        details["selection"] = "first alert of each simulated object; StampInput refusals skipped";
        details["seeds"] = $"train {options.Seed}, validation {options.Seed + StampRunOptions.ValidationSeedOffset}, test {options.Seed + StampRunOptions.TestSeedOffset}";
        details["testAlerts"] = options.TestAlerts.ToString(CultureInfo.InvariantCulture);
        details["alerts"] = $"simulated per survey: train {options.TrainAlerts}, validation {options.ValidationAlerts}, test {options.TestAlerts} (one night each)";
        var manifest = new StampModelManifest
        {
            Version = options.Version,
            Training = new StampTraining
            {
                Command = options.Command,
                Seed = (long)options.Seed,
                Data = "Broker.Simulation AlertSimulator (ZTF 4.02 and Rubin lsst.v11_0 alerts with rendered cutouts), one night per set; no real alert",
                Details = details,
            },
            Models = entries,
        };
        manifest.Write(Path.Combine(options.Out, StampModelManifest.FileName));
        File.WriteAllText(Path.Combine(options.Out, "evaluation.md"), evaluation.ToString());
        log.WriteLine($"wrote {Path.Combine(options.Out, StampModelManifest.FileName)}, {string.Join(", ", entries.Select(e => e.File + " (" + e.Bytes + " bytes, sha256 " + e.Sha256[..12] + "...)"))}, evaluation.md");
        return manifest;
    }

    /// <summary>Probabilities of <paramref name="set"/> through the ONNX file.</summary>
    public static float[] Score(string onnxPath, StampDataset set)
    {
        using var runner = new StampOnnxRunner(onnxPath);
        return runner.Run(set.Images.ToArray(), set.Features.ToArray(), set.Count, set.Side, set.Channels, set.FeatureCount);
    }

    /// <summary>The ZTF model on Rubin examples, with the features the surveys share by name.</summary>
    public static (Confusion Matrix, int SharedFeatures) ZtfModelOnRubin(string ztfPath, StampNetwork ztf, StampDataset rubin)
    {
        var ztfNames = StampInput.FeatureNames(Survey.Ztf);
        var rubinNames = StampInput.FeatureNames(Survey.Lsst);
        var map = ztfNames.Select(n => rubinNames.ToList().IndexOf(n)).ToArray();
        var features = new float[rubin.Count * ztfNames.Count];
        for (int i = 0; i < rubin.Count; i++)
        {
            for (int j = 0; j < ztfNames.Count; j++)
                features[i * ztfNames.Count + j] = map[j] >= 0 ? rubin.Features[i * rubin.FeatureCount + map[j]] : ztf.FeatureMean[j];
        }
        using var runner = new StampOnnxRunner(ztfPath);
        var p = runner.Run(rubin.Images.ToArray(), features, rubin.Count, rubin.Side, rubin.Channels, ztfNames.Count);
        return (Confusion.Of(rubin.Labels, Confusion.ArgMax(p, rubin.Count)), map.Count(m => m >= 0));
    }

    private static double Round(double v) => double.IsNaN(v) ? v : Math.Round(v, 6);

    /// <summary>Examples per class, e.g. "12000 (AGN 1500, SN 800, ...)".</summary>
    public static string Counts(StampDataset set)
    {
        var c = set.ClassCounts();
        return $"{set.Count} ({string.Join(", ", StampClasses.Names.Select((n, i) => $"{n} {c[i]}"))})";
    }
}
