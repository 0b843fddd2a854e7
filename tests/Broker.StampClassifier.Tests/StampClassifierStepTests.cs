using System.Globalization;
using System.Text.Json.Nodes;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;
using Broker.Onnx;
using Broker.StepHost;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.StampClassifier.Tests;

/// <summary>The stage on real alerts and crafted ones, with the committed model directory (models/stamp-classifier, newest version).</summary>
public sealed class StampClassifierStepTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("broker-stamp-step-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string CommittedModels => StampModelFiles.NewestVersion(SharedData.RepositoryPath(StampModelFiles.RepositoryFolder))
        ?? throw new InvalidOperationException("no model committed under models/stamp-classifier");

    private static StampClassifierStep Started(StampClassifierOptions? options = null)
    {
        var step = new StampClassifierStep(options ?? new StampClassifierOptions { ModelDirectory = CommittedModels, BraaiModel = BraaiPath });
        step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return step;
    }

    private static string BraaiPath => SharedData.Path(StampModelFiles.SharedBraai);

    private static List<Alert> Run(StampClassifierStep step, IReadOnlyList<Alert> alerts)
    {
        var results = step.ExecuteAsync(alerts, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        Assert.Equal(alerts.Count, results.Count);
        var outputs = new List<Alert>(results.Count);
        foreach (var r in results)
        {
            Assert.True(r.Outcome == StepOutcome.Emitted, r.Reason);
            outputs.Add(r.Value!);
        }
        return outputs;
    }

    [OracleFact]
    public void Every_real_alert_gets_exactly_one_stamp_classification_and_ztf_ones_braais_drb()
    {
        using var step = Started();
        var alerts = RealAlerts.Ztf.Select(a => a.Alert).Concat(RealAlerts.Lsst.Select(a => a.Alert)).ToList();
        var outputs = Run(step, alerts);
        var classes = new Dictionary<string, int>(StringComparer.Ordinal);
        var reasons = new Dictionary<string, int>(StringComparer.Ordinal);
        int braaiChecked = 0;
        double worst = 0;
        for (int i = 0; i < alerts.Count; i++)
        {
            var (input, result) = (alerts[i], outputs[i]);
            Assert.Equal(input.AlertId, result.AlertId);
            Assert.True(result.StageTimes.ContainsKey("stamp"));
            var stamp = Assert.Single(result.Classifications, c => c.Classifier == "stamp");
            Assert.Equal("broker-stamp-classifier", stamp.Model);
            Assert.Equal("alerce-stamp-2020", stamp.Taxonomy);
            if (stamp.IsClassified)
            {
                Assert.Equal(["AGN", "SN", "VS", "asteroid", "bogus"], stamp.Classes);
                Assert.Equal(stamp.Classes.Order(StringComparer.Ordinal), stamp.Probabilities.Keys.Order(StringComparer.Ordinal));
                Assert.Equal(1, stamp.Probabilities.Values.Sum(), 4);
                Assert.Equal(stamp.Probabilities.MaxBy(kv => kv.Value).Key, stamp.TopClass);
                classes[$"{input.Survey} {stamp.TopClass}"] = classes.GetValueOrDefault($"{input.Survey} {stamp.TopClass}") + 1;
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(stamp.NotClassifiedReason));
                Assert.Empty(stamp.Probabilities);
                Assert.False(input.HasAllCutouts, $"{input.AlertId}: {stamp.NotClassifiedReason}");
                reasons[stamp.NotClassifiedReason!] = reasons.GetValueOrDefault(stamp.NotClassifiedReason!) + 1;
            }
            var braai = result.Classifications.Where(c => c.Classifier == "braai").ToList();
            if (input.Survey != Survey.Ztf)
            {
                Assert.Empty(braai);
                continue;
            }
            var b = Assert.Single(braai);
            Assert.Equal(input.HasAllCutouts, b.IsClassified);
            if (b.IsClassified && input.SurveyFields.GetValueOrDefault("candidate.drbversion") as string == "d6_m7" && input.AlertId != 472263571115115000)
            {
                // The step decodes each stamp once for both networks: braai's score is still ZTF's own drb.
                double drb = Convert.ToDouble(input.SurveyFields["candidate.drb"], CultureInfo.InvariantCulture);
                worst = Math.Max(worst, Math.Abs(b.Probabilities["real"] - drb));
                Assert.Equal(b.Probabilities["real"] >= 0.5 ? "real" : "bogus", b.TopClass);
                braaiChecked++;
            }
        }
        output.WriteLine($"{alerts.Count} alerts; braai against drb on {braaiChecked}: worst {worst:E1}");
        foreach (var (k, n) in classes.OrderBy(kv => kv.Key, StringComparer.Ordinal)) output.WriteLine($"  {n} x {k}");
        foreach (var (k, n) in reasons) output.WriteLine($"  not classified: {n} x {k}");
        Assert.True(worst <= 1e-5, $"braai differs from drb by {worst}");
        Assert.Equal(383, braaiChecked);
        Assert.Equal(alerts.Count(a => !a.HasAllCutouts), reasons.Values.Sum());
    }

    [OracleFact]
    public void The_step_gives_what_the_onnx_model_gives_on_stampinputs_tensors_whatever_the_batch_size()
    {
        var alerts = RealAlerts.Ztf.Where(a => a.Alert.HasAllCutouts).Take(50).Select(a => a.Alert).ToList();
        using var small = Started(new StampClassifierOptions { ModelDirectory = CommittedModels, BraaiModel = "", BatchSize = 7 });
        var outputs = Run(small, alerts);
        var manifest = StampModelManifest.Read(Path.Combine(CommittedModels, "manifest.json"));
        var entry = manifest.For(Survey.Ztf)!;
        using var model = new OnnxModel(Path.Combine(CommittedModels, entry.File));
        int nf = StampInput.FeatureNames(Survey.Ztf).Count;
        var images = new float[alerts.Count * StampInput.ImageLength];
        var features = new float[alerts.Count * nf];
        for (int i = 0; i < alerts.Count; i++)
            Assert.Null(StampInput.TryWrite(alerts[i], images.AsSpan(i * StampInput.ImageLength, StampInput.ImageLength), features.AsSpan(i * nf, nf)));
        var probabilities = new float[alerts.Count * 5];
        model.Run([new OnnxInput(entry.Inputs[0].Name, images, [alerts.Count, 3, 21, 21]), new OnnxInput(entry.Inputs[1].Name, features, [alerts.Count, nf])], probabilities);
        for (int i = 0; i < alerts.Count; i++)
        {
            var stamp = outputs[i].Classifications.Single(c => c.Classifier == "stamp");
            Assert.DoesNotContain(outputs[i].Classifications, c => c.Classifier == "braai");
            for (int c = 0; c < 5; c++)
                Assert.True(Math.Abs(stamp.Probabilities[manifest.Classes[c]] - probabilities[i * 5 + c]) <= 1e-5, $"alert {i} class {manifest.Classes[c]}");
        }
    }

    [OracleFact]
    public void Unusable_cutouts_are_not_classified_with_the_reason_and_never_dead_lettered()
    {
        var alert = RealAlerts.CleanZtf;
        var nan = new float[63 * 63];
        Array.Fill(nan, float.NaN);
        var corrupt = alert.Cutouts!.Science!.ToArray();
        corrupt.AsSpan(20, 40).Fill(0xAB);
        var crafted = new (Alert Alert, string Stamp, string? Braai)[]
        {
            (alert with { Cutouts = null }, "no cutouts", "no cutouts"),
            (alert with { Cutouts = alert.Cutouts with { Template = null } }, "template cutout: absent", "template cutout: absent"),
            (alert with { Cutouts = alert.Cutouts with { Difference = Stamp(63, 63, nan) } }, "difference cutout: NaN only in the central 21x21", null),
            (alert with { Cutouts = alert.Cutouts with { Template = Stamp(40, 20, new float[800]) } }, "template cutout: 40x20, needs at least 21x21", null),
            (alert with { Cutouts = alert.Cutouts with { Science = Stamp(80, 80, new float[6400]) } }, "", "science cutout: stamp is 80x80, larger than 63x63"),
            (alert with { Cutouts = alert.Cutouts with { Science = corrupt } }, "science cutout: corrupt: ", "science cutout: corrupt: "),
            (alert with { Survey = Survey.Unknown }, "survey UNKNOWN has no stamp model", null),
        };
        using var step = Started();
        var outputs = Run(step, [.. crafted.Select(c => c.Alert), alert]);
        for (int i = 0; i < crafted.Length; i++)
        {
            var (_, stampWhy, braaiWhy) = crafted[i];
            var stamp = outputs[i].Classifications.Single(c => c.Classifier == "stamp");
            output.WriteLine($"{i}: stamp {stamp.NotClassifiedReason ?? stamp.TopClass}; braai {outputs[i].Classifications.SingleOrDefault(c => c.Classifier == "braai")?.NotClassifiedReason}");
            if (stampWhy.Length == 0) Assert.True(stamp.IsClassified);
            else Assert.StartsWith(stampWhy, stamp.NotClassifiedReason);
            var braai = outputs[i].Classifications.SingleOrDefault(c => c.Classifier == "braai");
            if (crafted[i].Alert.Survey != Survey.Ztf) Assert.Null(braai);
            else if (braaiWhy is null) Assert.True(braai!.IsClassified);
            else Assert.StartsWith(braaiWhy, braai!.NotClassifiedReason);
        }
        Assert.All(outputs[^1].Classifications, c => Assert.True(c.IsClassified));
        Assert.Equal(2, outputs[^1].Classifications.Count);
    }

    [OracleFact]
    public void A_model_directory_that_does_not_match_its_manifest_is_refused_at_start_in_one_line()
    {
        string Copy(string name, Action<JsonObject> change)
        {
            string dir = Path.Combine(_temp, name);
            Directory.CreateDirectory(dir);
            foreach (var f in Directory.GetFiles(CommittedModels)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            string manifest = Path.Combine(dir, "manifest.json");
            var json = JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
            change(json);
            File.WriteAllText(manifest, json.ToJsonString());
            return dir;
        }
        string Refusal(string dir)
        {
            using var step = new StampClassifierStep(new StampClassifierOptions { ModelDirectory = dir, BraaiModel = "" });
            var e = Assert.Throws<StepHostConfigurationException>(() => step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult());
            output.WriteLine(e.Message);
            Assert.DoesNotContain('\n', e.Message);
            Assert.Contains(Path.Combine(dir, "manifest.json"), e.Message);
            return e.Message;
        }
        string zero = new('0', 64);
        string m = Refusal(Copy("sha", j => j["models"]![0]!["sha256"] = zero));
        Assert.Contains($"expected {zero}", m);
        Assert.Contains(Path.Combine(_temp, "sha", "ztf.onnx"), m);

        m = Refusal(Copy("features", j =>
        {
            var list = j["models"]![0]!["inputs"]![1]!["features"]!.AsArray();
            var first = list[0]!.GetValue<string>();
            list[0] = list[1]!.GetValue<string>();
            list[1] = first;
        }));
        Assert.Contains("lists features [distpsnr1, sgscore1,", m);
        Assert.Contains("StampInput.FeatureNames(Ztf) is [sgscore1, distpsnr1,", m);

        m = Refusal(Copy("classes", j => j["classes"] = new JsonArray("AGN", "SN", "VS", "bogus", "asteroid")));
        Assert.Contains("classes are [AGN, SN, VS, bogus, asteroid], expected exactly [AGN, SN, VS, asteroid, bogus] in that order", m);

        m = Refusal(Copy("input", j => j["models"]![0]!["inputs"]![0]!["name"] = "stamps"));
        Assert.Contains("input 0 is named 'images', the manifest says 'stamps'", m);

        m = Refusal(Copy("width", j =>
        {
            j["classes"] = new JsonArray("AGN", "SN", "VS", "asteroid", "bogus");
            j["models"]![0]!["output"]!["shape"] = new JsonArray(-1, 4);
        }));
        Assert.Contains("output 'probabilities' has shape [-1, 5], the manifest says [-1, 4]", m);
    }

    [Fact]
    public void Bad_settings_are_refused_in_one_line_and_an_unstarted_step_fails_fatally()
    {
        Assert.Contains("ExecutionProvider 'gpu'", Assert.Throws<StepHostConfigurationException>(() => new StampClassifierOptions { ExecutionProvider = "gpu" }.Validate()).Message);
        Assert.Contains("BatchSize 0 is not in [1, 65536]", Assert.Throws<StepHostConfigurationException>(() => new StampClassifierOptions { BatchSize = 0 }.Validate()).Message);
        Assert.Contains("ModelDirectory", Assert.Throws<StepHostConfigurationException>(() => new StampClassifierOptions { ModelDirectory = "/no/such/models" }.Validate()).Message);
        Assert.Contains("BraaiModel", Assert.Throws<StepHostConfigurationException>(() => new StampClassifierOptions { BraaiModel = "/no/such/braai.onnx" }.Validate()).Message);
        using var step = new StampClassifierStep(new StampClassifierOptions());
        var e = Assert.Throws<StepException>(() => step.ExecuteAsync([new Alert()], CancellationToken.None).AsTask().GetAwaiter().GetResult());
        Assert.Equal(FailureKind.Fatal, e.Kind);
    }

    [OracleFact]
    public void The_default_model_directory_is_the_repositorys_newest_version_and_braai_the_shared_datas()
    {
        var options = new StampClassifierOptions();
        Assert.Equal(CommittedModels, StampModelFiles.ModelDirectory(options));
        Assert.Equal(BraaiPath, StampModelFiles.BraaiModel(options));
        Assert.Null(StampModelFiles.BraaiModel(new StampClassifierOptions { BraaiModel = "" }));
        string versions = Path.Combine(_temp, "versions");
        foreach (var v in new[] { "1.2", "1.10", "0.9", "draft" }) Directory.CreateDirectory(Path.Combine(versions, v));
        foreach (var v in new[] { "1.2", "0.9", "draft" }) File.WriteAllText(Path.Combine(versions, v, "manifest.json"), "{}");
        Assert.Equal(Path.Combine(versions, "1.2"), StampModelFiles.NewestVersion(versions));
        File.WriteAllText(Path.Combine(versions, "1.10", "manifest.json"), "{}");
        Assert.Equal(Path.Combine(versions, "1.10"), StampModelFiles.NewestVersion(versions));
    }

    private static byte[] Stamp(int width, int height, float[] pixels) => FitsWriter.WriteImage(new FitsImage(width, height, pixels), gzip: true);
}
