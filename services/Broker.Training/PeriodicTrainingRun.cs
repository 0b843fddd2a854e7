using Broker.Onnx;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Broker.LightCurves;
using Broker.Simulation;

namespace Broker.Training;

/// <summary>What <c>broker train periodic</c> does.</summary>
public sealed record PeriodicRunOptions
{
    /// <summary>The seed: training data and weights use it, validation data Seed + 1000, test data Seed + 2000 (<see cref="StampRunOptions"/>'s offsets).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>The model directory to write.</summary>
    public string Out { get; init; } = "models/periodic-cnn/1.0";

    /// <summary>The version written in the manifest.</summary>
    public string Version { get; init; } = "1.0";

    /// <summary>Simulated objects per class of the training set.</summary>
    public int TrainPerClass { get; init; } = 4000;

    /// <summary>Simulated objects per class of the validation set (early stopping and model selection).</summary>
    public int ValidationPerClass { get; init; } = 500;

    /// <summary>Simulated objects per class of the test set (reported only).</summary>
    public int TestPerClass { get; init; } = 1000;

    /// <summary>The survey whose alerts are simulated (ZTF: g and r, 30 days of history).</summary>
    public SurveyKind Survey { get; init; } = SurveyKind.Ztf;

    /// <summary>Days of history each simulated alert carries; null for the survey's own (ZTF: 30 days of prv_candidates), what the light-curve step sees.</summary>
    public int? HistoryDays { get; init; }

    /// <summary>Training options (epochs, sizes); its seed is replaced by <see cref="Seed"/>.</summary>
    public StampTrainingOptions Training { get; init; } = new() { MaxEpochs = 30, Patience = 4, LearningRate = 1e-3 };

    /// <summary>The command line to record in the manifest.</summary>
    public string Command { get; init; } = "";

    /// <summary>The file name of the ONNX model in its directory.</summary>
    public const string ModelFile = "periodic-cnn.onnx";
}

/// <summary>
/// <c>broker train periodic</c>: simulates labelled periodic variables (train seed S, validation S + 1000, test
/// S + 2000), trains the <see cref="PeriodicNetwork"/>, writes periodic-cnn.onnx, manifest.json and evaluation.md to
/// the model directory, checks that ONNX Runtime reproduces TorchSharp, and prints the confusion matrix.
/// </summary>
public static class PeriodicTrainingRun
{
    /// <summary>Agreement the export must reach: the largest probability difference between ONNX Runtime and TorchSharp on the test set.</summary>
    public const double AgreementTolerance = 1e-5;

    /// <summary>Runs it; returns the manifest written and the test set (for comparisons).</summary>
    public static (PeriodicCnnManifest Manifest, PeriodicSet Test, float[] TestProbabilities) Run(PeriodicRunOptions options, TextWriter log)
    {
        Directory.CreateDirectory(options.Out);
        ulong validationSeed = options.Seed + StampRunOptions.ValidationSeedOffset, testSeed = options.Seed + StampRunOptions.TestSeedOffset;
        var clock = Stopwatch.StartNew();
        log.WriteLine($"simulating: train seed {options.Seed} ({options.TrainPerClass} per class), validation seed {validationSeed} ({options.ValidationPerClass}), test seed {testSeed} ({options.TestPerClass})");
        var train = PeriodicData.Simulate(options.Survey, options.Seed, options.TrainPerClass, options.HistoryDays);
        var validation = PeriodicData.Simulate(options.Survey, validationSeed, options.ValidationPerClass, options.HistoryDays);
        var test = PeriodicData.Simulate(options.Survey, testSeed, options.TestPerClass, options.HistoryDays);
        log.WriteLine($"examples: train {PeriodicData.Counts(train)}; validation {PeriodicData.Counts(validation)}; test {PeriodicData.Counts(test)} ({clock.Elapsed.TotalSeconds:F0} s)");
        if (train.Data.Skipped.Count > 0) log.WriteLine($"skipped (train): {string.Join("; ", train.Data.Skipped.Select(kv => kv.Key + " x" + kv.Value))}");

        clock.Restart();
        var training = options.Training with { Seed = options.Seed };
        var (network, epochs, best) = PeriodicTrainer.Train(train.Data, validation.Data, training, log.WriteLine);
        log.WriteLine($"trained {epochs.Count} epochs in {clock.Elapsed.TotalSeconds:F0} s; kept epoch {best}");

        string path = Path.Combine(options.Out, PeriodicRunOptions.ModelFile);
        var bytes = PeriodicOnnxExport.ToBytes(network, PeriodicCnnManifest.DefaultName,
            $"{PeriodicCnnManifest.DefaultName} {options.Version}: Broker's periodic-variable CNN (LPV, E, DSCT, RRL, CEP, Periodic-Other) on phase-folded g and r images, trained by Broker.Training with seed {options.Seed}");
        File.WriteAllBytes(path, bytes);

        // What ships is scored: the ONNX file through ONNX Runtime; TorchSharp must agree with it.
        var images = test.Data.Images.ToArray();
        var scalars = test.Data.Features.ToArray();
        var probabilities = Score(path, images, scalars, test.Count);
        var torchProbabilities = PeriodicTrainer.Probabilities(network, images, scalars, test.Count);
        double agreement = 0;
        for (int i = 0; i < probabilities.Length; i++) agreement = Math.Max(agreement, Math.Abs(probabilities[i] - torchProbabilities[i]));
        log.WriteLine($"ONNX Runtime against TorchSharp on the test set: largest probability difference {agreement:E1}");
        if (!(agreement <= AgreementTolerance))
            throw new InvalidOperationException($"the exported graph differs from TorchSharp by {agreement:E2} (> {AgreementTolerance:E0}): export bug");

        var cm = Confusion.Of(PeriodicClasses.Names, test.Data.Labels, Confusion.ArgMax(probabilities, test.Count, PeriodicClasses.Count));
        log.WriteLine($"test (seed {testSeed}, {test.Count} objects): accuracy {cm.Accuracy:F4}, balanced accuracy {cm.BalancedAccuracy:F4}, macro precision {cm.MacroPrecision:F4}");
        log.WriteLine(cm.ToMarkdown(withPrecision: true));

        var metrics = Metrics(cm, "test");
        metrics["test.objects"] = test.Count;
        metrics["train.objects"] = train.Count;
        metrics["train.epochs"] = epochs.Count;
        metrics["train.bestEpoch"] = best;
        metrics["validation.balancedAccuracy"] = Round(epochs[best - 1].ValidationBalancedAccuracy);
        metrics["export.maxProbabilityDifference"] = agreement;

        var t = training;
        var details = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["architecture"] = $"after Szklenár et al. 2022: images [2, {PhaseFoldedImage.DefaultSide}, {PhaseFoldedImage.DefaultSide}] through conv 3x3 {t.Conv1} filters, ReLU, maxpool 2; conv 3x3 {t.Conv2} filters, ReLU, maxpool 2; dense {t.Dense}, ReLU; joined to the standardised scalars (clipped to ±6); dense {t.Dense}, ReLU; dense 6; softmax",
            ["optimiser"] = $"Adam, learning rate {t.LearningRate.ToString(CultureInfo.InvariantCulture)}, weight decay {t.WeightDecay.ToString(CultureInfo.InvariantCulture)}, batch {t.BatchSize}, at most {t.MaxEpochs} epochs, patience {t.Patience}",
            ["loss"] = "cross-entropy weighted by inverse class frequency of the training set",
            ["augmentation"] = "none",
            ["period"] = "PhaseFoldedInputs.FindPeriod: the multiband generalised Lomb-Scargle search of LightCurveFeatures on the signed g and r difference fluxes of the detections and forced photometry (not the true period)",
            ["seeds"] = $"train {options.Seed}, validation {validationSeed}, test {testSeed}",
            ["history"] = options.HistoryDays is { } days ? $"{days} days of history per alert" : "the survey's own alert history (ZTF: 30 days of prv_candidates)",
            ["objects"] = $"simulated per class: train {options.TrainPerClass}, validation {options.ValidationPerClass}, test {options.TestPerClass}",
            ["trainExamples"] = PeriodicData.Counts(train),
            ["validationExamples"] = PeriodicData.Counts(validation),
            ["testExamples"] = PeriodicData.Counts(test),
            ["epochs"] = $"{epochs.Count} run, epoch {best} kept (best validation balanced accuracy)",
        };
        string survey = options.Survey == SurveyKind.Ztf ? "ZTF" : "Rubin";
        var manifest = new PeriodicCnnManifest
        {
            Version = options.Version,
            File = PeriodicRunOptions.ModelFile,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Bytes = bytes.Length,
            Image = new PeriodicCnnImage { Side = PhaseFoldedImage.DefaultSide, Layout = PhaseFoldedImage.Layout },
            Inputs =
            [
                new OnnxManifestInput
                {
                    Name = StampOnnxExport.ImagesInput, Shape = [-1, PhaseFoldedImage.Channels, PhaseFoldedImage.DefaultSide, PhaseFoldedImage.DefaultSide],
                    Preprocessing = "PhaseFoldedInputs.TryWrite: the period of the g and r difference fluxes (detections and forced photometry), each band folded at it over two cycles, flux normalised per band, occupied pixels 1",
                },
                new OnnxManifestInput
                {
                    Name = StampOnnxExport.FeaturesInput, Shape = [-1, PhaseFoldedImage.ScalarCount],
                    Preprocessing = "PhaseFoldedImage.TryWrite; the graph standardises them with the training set's mean and deviation and clips them to [-6, 6]",
                    Features = [.. PhaseFoldedImage.ScalarNames],
                },
            ],
            Output = new OnnxManifestOutput { Name = StampOnnxExport.ProbabilitiesOutput, Shape = [-1, PeriodicClasses.Count] },
            FlopsPerAlert = network.Architecture.FlopsPerAlert,
            Training = new PeriodicCnnTraining
            {
                Command = options.Command,
                Seed = (long)options.Seed,
                Data = $"Broker.Simulation LabelledLightCurves: {survey} alerts of simulated LPV, eclipsing binary, delta Scuti, RR Lyrae, Cepheid and other periodic variables with the survey's cadence, noise and alert history; no real alert",
                Details = details,
            },
            Metrics = metrics,
        };
        manifest.Write(Path.Combine(options.Out, PeriodicCnnManifest.FileName));

        var evaluation = new StringBuilder();
        evaluation.AppendLine(CultureInfo.InvariantCulture, $"# Evaluation of {PeriodicCnnManifest.DefaultName} {options.Version}");
        evaluation.AppendLine();
        evaluation.AppendLine(CultureInfo.InvariantCulture, $"Written by `{options.Command}`. Simulated {survey} test set: seed {testSeed}, {PeriodicData.Counts(test)}, never used in training or model selection; scores from the exported ONNX file through ONNX Runtime (TorchSharp agrees to {agreement:E1}).");
        evaluation.AppendLine();
        evaluation.AppendLine(CultureInfo.InvariantCulture, $"Accuracy {cm.Accuracy:F4}, balanced accuracy (macro recall) {cm.BalancedAccuracy:F4}, macro precision {cm.MacroPrecision:F4}. Validation balanced accuracy {epochs[best - 1].ValidationBalancedAccuracy:F4} (epoch {best} of {epochs.Count}).");
        evaluation.AppendLine();
        evaluation.Append(cm.ToMarkdown(withPrecision: true));
        var (exact, alias) = PeriodicData.PeriodRecovery(test);
        evaluation.AppendLine();
        evaluation.AppendLine("The period each test object was folded at (PhaseFoldedInputs.FindPeriod on the alert's own history) against the simulated one:");
        evaluation.AppendLine();
        evaluation.AppendLine("| class | within 1% of the true period | within 1% of half or twice it |");
        evaluation.AppendLine("|---|---:|---:|");
        for (int c = 0; c < PeriodicClasses.Count; c++)
            evaluation.AppendLine(CultureInfo.InvariantCulture, $"| {PeriodicClasses.Names[c]} | {exact[c]:F3} | {alias[c]:F3} |");
        log.WriteLine("period recovery (within 1% / half or twice): " + string.Join(", ", PeriodicClasses.Names.Select((n, c) => string.Create(CultureInfo.InvariantCulture, $"{n} {exact[c]:F2}/{alias[c]:F2}"))));
        File.WriteAllText(Path.Combine(options.Out, "evaluation.md"), evaluation.ToString());
        // The directory as the light-curve step will load it: verified against its manifest, same probabilities.
        using (var served = PeriodicCnnModel.Load(options.Out))
        {
            int n = Math.Min(test.Count, 256);
            var p = new float[n * PeriodicClasses.Count];
            served.Classify(images.AsMemory(0, n * served.ImageLength), scalars.AsMemory(0, n * served.FeatureCount), n, p);
            for (int i = 0; i < p.Length; i++)
                if (p[i] != probabilities[i]) throw new InvalidOperationException($"PeriodicCnnModel gives {p[i]} where the evaluation had {probabilities[i]}");
        }
        log.WriteLine($"wrote {Path.Combine(options.Out, PeriodicCnnManifest.FileName)}, {PeriodicRunOptions.ModelFile} ({bytes.Length} bytes, sha256 {manifest.Sha256[..12]}...), evaluation.md");
        return (manifest, test, probabilities);
    }

    /// <summary>Per-class recall and precision, confusion counts, accuracy, balanced accuracy and macro precision, keyed <c>prefix.recall.LPV</c> and so on (JSON has no NaN: undefined figures are left out).</summary>
    public static SortedDictionary<string, double> Metrics(Confusion cm, string prefix)
    {
        var metrics = new SortedDictionary<string, double>(StringComparer.Ordinal);
        if (cm.Total > 0)
        {
            metrics[$"{prefix}.accuracy"] = Round(cm.Accuracy);
            metrics[$"{prefix}.balancedAccuracy"] = Round(cm.BalancedAccuracy);
            metrics[$"{prefix}.macroPrecision"] = Round(cm.MacroPrecision);
        }
        for (int c = 0; c < cm.Names.Count; c++)
        {
            if (!double.IsNaN(cm.Recall(c))) metrics[$"{prefix}.recall.{cm.Names[c]}"] = Round(cm.Recall(c));
            if (!double.IsNaN(cm.Precision(c))) metrics[$"{prefix}.precision.{cm.Names[c]}"] = Round(cm.Precision(c));
            for (int p = 0; p < cm.Names.Count; p++) metrics[$"{prefix}.confusion.{cm.Names[c]}.{cm.Names[p]}"] = cm.Counts[c, p];
        }
        return metrics;
    }

    /// <summary>Probabilities [n, 6] of prepared inputs through the ONNX file (Broker.Onnx, one thread).</summary>
    public static float[] Score(string onnxPath, float[] images, float[] scalars, int n)
    {
        using var runner = new StampOnnxRunner(onnxPath);
        return runner.Run(images, scalars, n, PhaseFoldedImage.DefaultSide, PhaseFoldedImage.Channels, PhaseFoldedImage.ScalarCount, classes: PeriodicClasses.Count);
    }

    private static double Round(double v) => double.IsNaN(v) ? v : Math.Round(v, 6);
}
