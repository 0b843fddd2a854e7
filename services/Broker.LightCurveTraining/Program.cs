using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Broker.Alerts.Model;
using Broker.LightCurveClassifier;
using Broker.LightCurves;
using Broker.StepHost;
using Microsoft.ML;

namespace Broker.LightCurveTraining;

/// <summary>What <see cref="LightCurveTrainer.Train"/> trains and where it writes (the command line of <c>broker train lightcurves</c>).</summary>
public sealed record TrainOptions
{
    /// <summary>The training set's seed (also the learners').</summary>
    public ulong Seed { get; init; } = 2026;

    /// <summary>The simulated test set's seed; default <see cref="Seed"/> + 1000, never the training seed.</summary>
    public ulong? TestSeed { get; init; }

    /// <summary>The model directory to write.</summary>
    public string Out { get; init; } = "";

    /// <summary>Training objects per class.</summary>
    public int PerClass { get; init; } = 600;

    /// <summary>Test objects per class.</summary>
    public int TestPerClass { get; init; } = 200;

    /// <summary>The learner of the written model.</summary>
    public ForestKind Trainer { get; init; } = ForestKind.LightGbm;

    /// <summary>Also train the other learner and a flat 15-class model on the same split, and record the comparison.</summary>
    public bool Compare { get; init; }

    /// <summary>Threads for simulation and features (the model does not depend on it; the learners use one).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>The version written in the manifest.</summary>
    public string Version { get; init; } = "1.0";

    /// <summary>Which files the service runs by default (docs/lightcurve-classifier.md, "Serving").</summary>
    public ForestRuntime Serving { get; init; } = ForestRuntime.Onnx;

    /// <summary>ALeRCE's labelled supernovae folder; null to look beside the repository; empty to skip.</summary>
    public string? AlerceFolder { get; init; }

    /// <summary>The test seed used.</summary>
    public ulong EffectiveTestSeed => TestSeed ?? Seed + 1000;

    /// <summary>The command line that gives these options.</summary>
    public string Command => string.Create(CultureInfo.InvariantCulture,
        $"./broker train lightcurves --seed {Seed} --test-seed {EffectiveTestSeed} --per-class {PerClass} --test-per-class {TestPerClass} --trainer {Trainer.ToString().ToLowerInvariant()} --serving {Serving.ToString().ToLowerInvariant()}{(Compare ? " --compare" : "")} --out {Out}");
}

/// <summary>The light-curve trainer's entry point: <c>broker-train-lightcurves</c>, and <see cref="Run"/> for <c>broker train lightcurves</c> in-process.</summary>
public static class Program
{
    /// <summary>The program.</summary>
    public static int Main(string[] args) => Run(args);

    /// <summary>
    /// Parses <paramref name="args"/> (<c>--seed S --out DIR [--test-seed T] [--per-class N] [--test-per-class N]
    /// [--trainer lightgbm|fastforest] [--serving mlnet|onnx] [--compare] [--workers N] [--version V] [--alerce DIR|none]</c>),
    /// trains and writes the model directory. Returns 0, or 2 for a usage error (one line on stderr).
    /// </summary>
    public static int Run(string[] args)
    {
        TrainOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"broker train lightcurves: {e.Message}");
            return 2;
        }
        LightCurveTrainer.Train(options, Console.Out);
        return 0;
    }

    /// <summary>The options of a command line.</summary>
    /// <exception cref="ArgumentException">An unknown option or a bad value.</exception>
    public static TrainOptions Parse(string[] args)
    {
        var o = new TrainOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new ArgumentException($"{a} needs a positive integer");
            ulong Seed() => ulong.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong v) ? v : throw new ArgumentException($"{a} needs a non-negative integer");
            o = a switch
            {
                "--seed" => o with { Seed = Seed() },
                "--test-seed" => o with { TestSeed = Seed() },
                "--out" => o with { Out = Value() },
                "--per-class" => o with { PerClass = Int() },
                "--test-per-class" => o with { TestPerClass = Int() },
                "--workers" => o with { Workers = Int() },
                "--version" => o with { Version = Value() },
                "--compare" => o with { Compare = true },
                "--alerce" => o with { AlerceFolder = Value() is var f && f == "none" ? "" : f },
                "--trainer" => o with { Trainer = Value().ToLowerInvariant() switch { "lightgbm" => ForestKind.LightGbm, "fastforest" => ForestKind.FastForest, var t => throw new ArgumentException($"--trainer '{t}' is not lightgbm or fastforest") } },
                "--serving" => o with { Serving = Value().ToLowerInvariant() switch { "mlnet" => ForestRuntime.MlNet, "onnx" => ForestRuntime.Onnx, var t => throw new ArgumentException($"--serving '{t}' is not mlnet or onnx") } },
                _ => throw new ArgumentException($"unknown option '{a}'"),
            };
        }
        if (o.Out.Length == 0) throw new ArgumentException("--out DIR is required");
        if (o.EffectiveTestSeed == o.Seed) throw new ArgumentException("--test-seed must differ from --seed");
        return o;
    }
}

/// <summary>What a training run measured.</summary>
/// <param name="Top">Top-level confusion on the simulated test set.</param>
/// <param name="Bottom">Fifteen-class confusion on the simulated test set.</param>
/// <param name="Metrics">Everything, as written in the manifest.</param>
public sealed record TrainReport(Confusion Top, Confusion Bottom, JsonObject Metrics);

/// <summary>Trains, exports, verifies and evaluates the light-curve classifier (docs/lightcurve-classifier.md, "Training").</summary>
public static class LightCurveTrainer
{
    private static readonly string[] FileStems = ["top", "periodic", "stochastic", "transient"];

    /// <summary>Runs the whole training; writes the model directory <see cref="TrainOptions.Out"/>.</summary>
    public static TrainReport Train(TrainOptions o, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        int mlSeed = (int)(o.Seed % int.MaxValue);
        log.WriteLine($"simulating {o.PerClass} training objects per class (seed {o.Seed}) and {o.TestPerClass} test objects per class (seed {o.EffectiveTestSeed}), {o.Workers} worker(s)");
        var (train, _) = TrainingData.Build(o.Seed, o.PerClass, o.Workers);
        var (test, _) = TrainingData.Build(o.EffectiveTestSeed, o.TestPerClass, o.Workers);
        log.WriteLine(FormattableString.Invariant($"  {train.Count} + {test.Count} alerts simulated and featurised in {clock.Elapsed.TotalSeconds:F1} s"));

        string dir = Path.GetFullPath(o.Out);
        Directory.CreateDirectory(dir);
        var sw = Stopwatch.StartNew();
        var entries = WriteHierarchy(train, o.Trainer, mlSeed, dir);
        log.WriteLine(FormattableString.Invariant($"  {o.Trainer} hierarchy trained and exported in {sw.Elapsed.TotalSeconds:F1} s"));
        var manifest = new LightCurveModelManifest
        {
            Version = o.Version, Features = [.. LightCurveFeatures.Names], Serving = o.Serving, Models = entries,
            Training = new LightCurveTrainingInfo
            {
                Command = o.Command, Seed = o.Seed, TestSeed = o.EffectiveTestSeed, PerClass = o.PerClass, TestPerClass = o.TestPerClass,
                Trainer = ForestTrainer.Describe(o.Trainer), Data = TrainingData.Describe(o.Seed, o.PerClass),
            },
        };
        string manifestPath = Path.Combine(dir, LightCurveModelManifest.FileName);
        manifest.Write(manifestPath);

        // Evaluated through the files as the service loads them, both runtimes.
        HierarchyScores mlnet, onnx;
        using (var h = manifest.Verify(dir, ForestRuntime.MlNet)) mlnet = Score(h, test);
        using (var h = manifest.Verify(dir, ForestRuntime.Onnx)) onnx = Score(h, test);
        var (top, bottom) = mlnet.Confusions(test.Labels);
        log.WriteLine(FormattableString.Invariant($"  test: top macro P/R {top.MacroPrecision:F3}/{top.MacroRecall:F3}, classes macro P/R {bottom.MacroPrecision:F3}/{bottom.MacroRecall:F3}"));
        var metrics = new JsonObject
        {
            ["test"] = Level(top, bottom),
            ["onnxAgreement"] = Agreement(mlnet, onnx),
        };

        string? alerce = o.AlerceFolder is null ? AlerceSupernovae.DefaultFolder() : o.AlerceFolder.Length == 0 ? null : o.AlerceFolder;
        string supernovae = "";
        if (alerce is not null)
        {
            using var h = manifest.Verify(dir, ForestRuntime.MlNet);
            (metrics["alerceSupernovae"], supernovae) = EvaluateSupernovae(h, AlerceSupernovae.Load(alerce));
        }

        var comparison = new JsonArray();
        string comparisonTable = "";
        if (o.Compare)
        {
            comparison.Add(Row($"hierarchy, {o.Trainer}", top, bottom, sw.Elapsed.TotalSeconds));
            var other = o.Trainer == ForestKind.LightGbm ? ForestKind.FastForest : ForestKind.LightGbm;
            string tmp = Path.Combine(Path.GetTempPath(), "broker-lc-compare-" + Guid.NewGuid().ToString("N"));
            try
            {
                sw.Restart();
                var otherEntries = WriteHierarchy(train, other, mlSeed, tmp);
                double seconds = sw.Elapsed.TotalSeconds;
                var otherManifest = manifest with { Models = otherEntries };
                otherManifest.Write(Path.Combine(tmp, LightCurveModelManifest.FileName));
                using (var h = otherManifest.Verify(tmp, ForestRuntime.MlNet))
                {
                    var (t2, b2) = Score(h, test).Confusions(test.Labels);
                    comparison.Add(Row($"hierarchy, {other}", t2, b2, seconds));
                }
                sw.Restart();
                var flat = ForestTrainer.Train(train, LightCurveModelManifest.ExpectedClasses.Count, ForestKind.LightGbm, mlSeed);
                seconds = sw.Elapsed.TotalSeconds;
                string flatPath = Path.Combine(tmp, "flat.zip");
                File.WriteAllBytes(flatPath, ForestTrainer.SaveMlNet(flat, train.FeatureCount));
                using (var f = new MlNetForest(flatPath, train.FeatureCount, LightCurveModelManifest.ExpectedClasses.Count))
                {
                    var (t3, b3) = FlatScores(f, test).Confusions(test.Labels);
                    comparison.Add(Row("flat 15 classes, LightGbm", t3, b3, seconds));
                }
            }
            finally
            {
                if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            }
            foreach (var row in comparison) log.WriteLine($"  compare: {row!.ToJsonString()}");
            comparisonTable = ComparisonTable(comparison);
            // Training seconds vary from run to run: they go to the log, not into the manifest's reproducible bytes.
            foreach (var row in comparison) row!.AsObject().Remove("trainSeconds");
            metrics["comparison"] = comparison;
        }

        manifest = manifest with { Metrics = JsonSerializer.SerializeToElement(metrics) };
        manifest.Write(manifestPath);
        File.WriteAllText(Path.Combine(dir, "README.md"), ModelCard(manifest, top, bottom, metrics, supernovae, comparisonTable));
        log.WriteLine(FormattableString.Invariant($"wrote {dir} in {clock.Elapsed.TotalSeconds:F1} s"));
        return new TrainReport(top, bottom, metrics);
    }

    /// <summary>Trains the top level and the three branches and writes their .zip and .onnx files; returns their manifest entries.</summary>
    public static IReadOnlyList<ForestEntry> WriteHierarchy(FeatureTable train, ForestKind kind, int seed, string dir)
    {
        Directory.CreateDirectory(dir);
        var entries = new List<ForestEntry>();
        var tops = LightCurveModelManifest.ExpectedTopClasses;
        for (int m = 0; m <= tops.Count; m++)
        {
            string name = m == 0 ? LightCurveModelManifest.TopModel : tops[m - 1];
            var classes = m == 0 ? tops : LightCurveModelManifest.ExpectedBranches[name];
            var table = m == 0
                ? train.Subset(_ => true, TrainingData.GroupOf)
                : train.Subset(c => TrainingData.GroupOf(c) == m - 1, TrainingData.IndexInBranch);
            var model = ForestTrainer.Train(table, classes.Count, kind, seed + m);
            var zip = ForestTrainer.SaveMlNet(model, train.FeatureCount);
            var onnx = ForestTrainer.SaveOnnx(model, train.FeatureCount);
            entries.Add(new ForestEntry
            {
                Name = name, Classes = classes,
                MlNet = WriteFile(dir, FileStems[m] + ".zip", zip),
                Onnx = WriteFile(dir, FileStems[m] + ".onnx", onnx),
            });
        }
        return entries;
    }

    private static ModelFileEntry WriteFile(string dir, string name, byte[] bytes)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return new ModelFileEntry { File = name, Sha256 = FileVerifier.Sha256(path), Bytes = bytes.Length };
    }

    /// <summary>The hierarchy's outputs on every row of a table, in batches of 512.</summary>
    public static HierarchyScores Score(LightCurveHierarchy h, FeatureTable table)
    {
        int nt = LightCurveModelManifest.ExpectedTopClasses.Count, nc = LightCurveModelManifest.ExpectedClasses.Count, f = table.FeatureCount;
        var top = new float[table.Count * nt];
        var classes = new float[table.Count * nc];
        for (int start = 0; start < table.Count; start += 512)
        {
            int n = Math.Min(512, table.Count - start);
            h.Predict(table.Rows.AsMemory(start * f, n * f), n, top.AsSpan(start * nt, n * nt), classes.AsSpan(start * nc, n * nc));
        }
        return new HierarchyScores(top, classes, table.Count);
    }

    private static HierarchyScores FlatScores(IForest flat, FeatureTable table)
    {
        int nt = LightCurveModelManifest.ExpectedTopClasses.Count, nc = LightCurveModelManifest.ExpectedClasses.Count;
        var classes = new float[table.Count * nc];
        flat.Predict(table.Rows, table.Count, classes);
        var top = new float[table.Count * nt];
        for (int i = 0; i < table.Count; i++)
            for (int c = 0; c < nc; c++) top[i * nt + TrainingData.GroupOf(c)] += classes[i * nc + c];
        return new HierarchyScores(top, classes, table.Count);
    }

    private static JsonObject Level(Confusion top, Confusion bottom) => new()
    {
        ["rows"] = top.Total,
        ["top"] = Metrics(top),
        ["classes"] = Metrics(bottom),
    };

    private static JsonObject Metrics(Confusion c) => new()
    {
        ["macroPrecision"] = Math.Round(c.MacroPrecision, 4),
        ["macroRecall"] = Math.Round(c.MacroRecall, 4),
        ["accuracy"] = Math.Round(c.Accuracy, 4),
        ["classes"] = new JsonArray([.. c.Classes.Select(x => JsonValue.Create(x))]),
        ["confusion"] = new JsonArray([.. c.Counts.Select(r => new JsonArray([.. r.Select(v => JsonValue.Create(v))]))]),
    };

    private static JsonObject Row(string name, Confusion top, Confusion bottom, double seconds) => new()
    {
        ["model"] = name,
        ["topMacroPrecision"] = Math.Round(top.MacroPrecision, 4),
        ["topMacroRecall"] = Math.Round(top.MacroRecall, 4),
        ["classMacroPrecision"] = Math.Round(bottom.MacroPrecision, 4),
        ["classMacroRecall"] = Math.Round(bottom.MacroRecall, 4),
        ["trainSeconds"] = Math.Round(seconds, 1),
    };

    private static JsonObject Agreement(HierarchyScores a, HierarchyScores b)
    {
        int nc = LightCurveModelManifest.ExpectedClasses.Count, same = 0;
        double maxDiff = 0;
        for (int i = 0; i < a.Count; i++)
        {
            if (HierarchyScores.ArgMax(a.Classes.AsSpan(i * nc, nc)) == HierarchyScores.ArgMax(b.Classes.AsSpan(i * nc, nc))) same++;
            for (int c = 0; c < nc; c++) maxDiff = Math.Max(maxDiff, Math.Abs(a.Classes[i * nc + c] - b.Classes[i * nc + c]));
        }
        return new JsonObject { ["rows"] = a.Count, ["sameTopClass"] = same, ["maxProbabilityDifference"] = Math.Round(maxDiff, 7) };
    }

    /// <summary>ALeRCE's supernovae classified: the figures (JSON) and the model card's table.</summary>
    public static (JsonObject Figures, string Table) EvaluateSupernovae(LightCurveHierarchy h, IReadOnlyList<AlerceSupernovae.SupernovaObject> objects)
    {
        var lc = new LightCurve();
        var features = new LightCurveFeatures(FeatureBands.Ztf);
        int f = LightCurveFeatures.Names.Count;
        var scratch = new double[f];
        var row = new float[f];
        var top = new float[3];
        var classes = new float[15];
        var table = new StringBuilder("| object | ALeRCE | eligible alerts | first eligible alert | last eligible alert | full light curve |\n|---|---|---:|---|---|---|\n");
        int eligibleObjects = 0, transientFirst = 0, transientLast = 0, transientFull = 0, exactLast = 0, exactFull = 0;
        string Classify(Alert a, out string? topName, out string? className)
        {
            lc.Load(a);
            if (LightCurveInput.Eligibility(lc) is { } why)
            {
                topName = className = null;
                return "not classified";
            }
            LightCurveInput.Write(lc, features, scratch, row);
            h.Predict(row, 1, top, classes);
            topName = LightCurveModelManifest.ExpectedTopClasses[HierarchyScores.ArgMax(top)];
            className = LightCurveModelManifest.ExpectedClasses[HierarchyScores.ArgMax(classes)];
            return FormattableString.Invariant($"{topName} / {className} ({classes.Max():F2})");
        }
        foreach (var o in objects)
        {
            var eligible = o.Alerts.Where(a => { lc.Load(a); return LightCurveInput.Eligibility(lc) is null; }).ToList();
            string first = "-", last = "-";
            if (eligible.Count > 0)
            {
                eligibleObjects++;
                first = Classify(eligible[0], out var t1, out _);
                last = Classify(eligible[^1], out var t2, out var c2);
                if (t1 == "Transient") transientFirst++;
                if (t2 == "Transient") transientLast++;
                if (c2 == o.Label) exactLast++;
            }
            string full = Classify(o.FullLightCurve, out var t3, out var c3);
            if (t3 == "Transient") transientFull++;
            if (c3 == o.Label) exactFull++;
            table.Append(CultureInfo.InvariantCulture, $"| {o.ObjectId} | {o.Label} | {eligible.Count} | {first} | {last} | {full} |\n");
        }
        var json = new JsonObject
        {
            ["objects"] = objects.Count,
            ["withEligibleAlert"] = eligibleObjects,
            ["transientAtFirstEligibleAlert"] = transientFirst,
            ["transientAtLastEligibleAlert"] = transientLast,
            ["exactClassAtLastEligibleAlert"] = exactLast,
            ["transientFullLightCurve"] = transientFull,
            ["exactClassFullLightCurve"] = exactFull,
        };
        return (json, table.ToString());
    }

    private static string ComparisonTable(JsonArray rows)
    {
        var sb = new StringBuilder("| arrangement and learner | top macro precision | top macro recall | class macro precision | class macro recall | training time (1 core) |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var r in rows)
        {
            var o = r!.AsObject();
            sb.Append(CultureInfo.InvariantCulture, $"| {o["model"]} | {(double)o["topMacroPrecision"]!:F3} | {(double)o["topMacroRecall"]!:F3} | {(double)o["classMacroPrecision"]!:F3} | {(double)o["classMacroRecall"]!:F3} | {(double)o["trainSeconds"]!:F0} s |\n");
        }
        return sb.ToString();
    }

    private static string ModelCard(LightCurveModelManifest m, Confusion top, Confusion bottom, JsonObject metrics, string supernovae, string comparison)
    {
        var t = m.Training;
        var agreement = metrics["onnxAgreement"]!.AsObject();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"# {m.Name} {m.Version}\n\n");
        sb.Append("Broker's light-curve classifier (issue 14): ALeRCE's hierarchy (Sánchez-Sáez et al. 2021, AJ 161, 141) of a top-level forest over ")
          .Append("Periodic / Stochastic / Transient and one forest per group over its classes, P(class) = P(group) P(class | group), on the ")
          .Append(CultureInfo.InvariantCulture, $"{m.Features.Count} ZTF features of Broker.LightCurves (docs/lightcurve-features.md). Written by the trainer; docs/lightcurve-classifier.md explains it.\n\n");
        sb.Append("## Training\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Command: `{t.Command}` (reproduces the model files byte for byte).\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Learner: {t.Trainer}.\n- Data: {t.Data}\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Rule: an alert is classified when its light curve has at least {m.MinDetections} usable detections in g or in r; undefined features are {m.MissingValue}.\n");
        sb.Append(CultureInfo.InvariantCulture, $"- Serving: `{m.Serving}` by default; the ONNX export gives the same class on {agreement["sameTopClass"]} of {agreement["rows"]} test rows (largest probability difference {agreement["maxProbabilityDifference"]}).\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"## Simulated test set (seed {t.TestSeed}, {t.TestPerClass} objects per class, not used in training)\n\n");
        sb.Append(CultureInfo.InvariantCulture, $"Top level: macro precision {top.MacroPrecision:F3}, macro recall {top.MacroRecall:F3}, accuracy {top.Accuracy:F3}.\n\n");
        sb.Append(top.Markdown()).Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"Fifteen classes: macro precision {bottom.MacroPrecision:F3}, macro recall {bottom.MacroRecall:F3}, accuracy {bottom.Accuracy:F3}.\n\n");
        sb.Append(bottom.Markdown()).Append('\n');
        sb.Append("ALeRCE's published figures on real ZTF objects, for scale: 0.96/0.99 at the top, 0.57/0.76 over the fifteen classes (macro precision/recall). ")
          .Append("A simulated test set is drawn from the same generator as the training set, so these figures bound what the model does on real alerts from above.\n\n");
        if (comparison.Length > 0)
        {
            sb.Append("## Learners and arrangements on the same split\n\n").Append(comparison)
              .Append("\nTraining time is of that run on one core and varies between runs; it is not in the manifest.\n\n");
        }
        if (supernovae.Length > 0)
        {
            var s = metrics["alerceSupernovae"]!.AsObject();
            sb.Append("## ALeRCE's 30 labelled supernovae (real ZTF, evaluation only)\n\n");
            sb.Append("Each detection of ../shared/data/labeled/alerce_lc_classifier/30_sne_detections_corr.csv made into the alert ZTF would have sent ")
              .Append("(the detections and non-detections of the 30 days before it); the first and last such alert with at least 6 detections in g or r, ")
              .Append("and the whole light curve as one alert (longer than any alert history; out of the training distribution). Cells: top level / class (probability).\n\n");
            sb.Append(CultureInfo.InvariantCulture, $"{s["withEligibleAlert"]} of {s["objects"]} objects have an eligible alert; Transient at the first eligible alert {s["transientAtFirstEligibleAlert"]}, at the last {s["transientAtLastEligibleAlert"]} (ALeRCE's class exactly: {s["exactClassAtLastEligibleAlert"]}); whole light curve: Transient {s["transientFullLightCurve"]}, exact class {s["exactClassFullLightCurve"]}.\n\n");
            sb.Append(supernovae).Append('\n');
        }
        sb.Append("## Files\n\n| forest | classes | ML.NET | ONNX |\n|---|---|---|---|\n");
        foreach (var e in m.Models)
            sb.Append(CultureInfo.InvariantCulture, $"| {e.Name} | {string.Join(", ", e.Classes)} | `{e.MlNet.File}` {e.MlNet.Bytes} B | `{e.Onnx?.File}` {e.Onnx?.Bytes} B |\n");
        sb.Append("\nSHA-256 of each in manifest.json; the service refuses a directory whose files differ.\n");
        return sb.ToString();
    }
}
