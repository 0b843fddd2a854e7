using System.Security.Cryptography;
using System.Text.Json;
using Broker.LightCurveTraining;
using Broker.Simulation;

namespace Broker.LightCurveClassifier.Tests;

public sealed class TrainerTests
{
    private static string Temp() => Path.Combine(Path.GetTempPath(), "broker-lc-train-" + Guid.NewGuid().ToString("N"));

    private static Dictionary<string, string> Hashes(string dir) => Directory.GetFiles(dir)
        .Where(f => f.EndsWith(".zip", StringComparison.Ordinal) || f.EndsWith(".onnx", StringComparison.Ordinal))
        .ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>
    /// The seed reproduces the model: two small runs, with different worker counts, write the same bytes and the
    /// same metrics (the committed model is this at its own size: `./broker train lightcurves --seed 2026 ...`).
    /// </summary>
    [Fact]
    public void The_same_seed_gives_the_same_model_files_and_predictions()
    {
        var small = new TrainOptions { Seed = 77, PerClass = 12, TestPerClass = 4, AlerceFolder = "" };
        string a = Temp(), b = Temp(), c = Temp();
        var ra = LightCurveTrainer.Train(small with { Out = a, Workers = 1 }, TextWriter.Null);
        var rb = LightCurveTrainer.Train(small with { Out = b, Workers = 2 }, TextWriter.Null);
        Assert.Equal(8, Hashes(a).Count);
        Assert.Equal(Hashes(a), Hashes(b));
        Assert.Equal(ra.Metrics.ToJsonString(), rb.Metrics.ToJsonString());
        Assert.Equal(File.ReadAllText(Path.Combine(a, "README.md")).Replace(a, "", StringComparison.Ordinal), File.ReadAllText(Path.Combine(b, "README.md")).Replace(b, "", StringComparison.Ordinal));
        // Another seed, another model.
        LightCurveTrainer.Train(small with { Out = c, Seed = 78, Workers = 2 }, TextWriter.Null);
        Assert.NotEqual(Hashes(a)["top.zip"], Hashes(c)["top.zip"]);
        // What it wrote is a model the service starts on.
        using var step = CommittedModel.Start(a);
        Assert.Equal(ForestRuntime.Onnx, step.Model.Runtime);
    }

    [Fact]
    public void The_committed_manifest_names_the_command_and_seeds_that_made_it()
    {
        var m = LightCurveModelManifest.Read(Path.Combine(CommittedModel.Directory, LightCurveModelManifest.FileName));
        var parsed = Broker.LightCurveTraining.Program.Parse(m.Training.Command.Split(' ')[3..]);
        Assert.Equal(m.Training.Seed, parsed.Seed);
        Assert.Equal(m.Training.TestSeed, parsed.EffectiveTestSeed);
        Assert.NotEqual(m.Training.Seed, m.Training.TestSeed);
        Assert.Equal(m.Training.PerClass, parsed.PerClass);
        Assert.Equal(m.Serving, parsed.Serving);
        Assert.Equal("models/lc-classifier/1.0", parsed.Out);
    }

    [Theory]
    [InlineData("--seed")]
    [InlineData("--seed", "1")]
    [InlineData("--out", "x", "--trainer", "xgboost")]
    [InlineData("--out", "x", "--seed", "5", "--test-seed", "5")]
    [InlineData("--out", "x", "--bogus")]
    public void Bad_command_lines_exit_2(params string[] args) => Assert.Equal(2, Broker.LightCurveTraining.Program.Run(args));

    [Fact]
    public void The_taxonomy_of_the_simulator_is_the_manifests()
    {
        Assert.Equal(AlerceTaxonomy.Classes, LightCurveModelManifest.ExpectedClasses);
        Assert.Equal(AlerceTaxonomy.TopClasses, LightCurveModelManifest.ExpectedTopClasses);
        foreach (var top in AlerceTaxonomy.TopClasses) Assert.Equal(AlerceTaxonomy.ClassesOf(top), LightCurveModelManifest.ExpectedBranches[top]);
    }

    /// <summary>
    /// ALeRCE's 30 supernovae (real, evaluation only) classified again by the committed model give the figures its
    /// model card and manifest report.
    /// </summary>
    [Fact]
    public void The_alerce_supernovae_figures_of_the_model_card_are_reproduced()
    {
        string? folder = AlerceSupernovae.DefaultFolder();
        Assert.NotNull(folder);
        var objects = AlerceSupernovae.Load(folder);
        Assert.Equal(30, objects.Count);
        Assert.Equal(19, objects.Count(o => o.Label == "SNIa"));
        // A history holds the 30 days before its alert (ALeRCE's files list a few exposures twice, under two candids,
        // so a history may hold the alert's own time once more; the light curve keeps one).
        Assert.All(objects, o => Assert.All(o.Alerts, a => Assert.All(a.Detections, d => Assert.InRange(a.MjdTai - d.MjdTai, 0, 30))));
        var m = LightCurveModelManifest.Read(Path.Combine(CommittedModel.Directory, LightCurveModelManifest.FileName));
        var reported = m.Metrics!.Value.GetProperty("alerceSupernovae");
        using var h = m.Verify(CommittedModel.Directory, ForestRuntime.MlNet);
        var (json, _) = LightCurveTrainer.EvaluateSupernovae(h, objects);
        Assert.Equal(JsonSerializer.Serialize(reported), json.ToJsonString());
    }
}
