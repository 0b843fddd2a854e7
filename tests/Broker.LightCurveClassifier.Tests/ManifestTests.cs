using System.Text.Json.Nodes;
using Broker.LightCurves;
using Broker.StepHost;

namespace Broker.LightCurveClassifier.Tests;

public sealed class ManifestTests
{
    private static StepHostConfigurationException Refused(string dir, string runtime = "auto")
    {
        var e = Assert.Throws<StepHostConfigurationException>(() => CommittedModel.Start(dir, runtime).Dispose());
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    private static void Edit(string dir, Action<JsonObject> change)
    {
        string path = Path.Combine(dir, LightCurveModelManifest.FileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void The_committed_model_matches_its_manifest_in_both_runtimes()
    {
        var manifest = LightCurveModelManifest.Read(Path.Combine(CommittedModel.Directory, LightCurveModelManifest.FileName));
        Assert.Equal(LightCurveFeatures.Names, manifest.Features);
        Assert.Equal(4, manifest.Models.Count);
        using var mlnet = manifest.Verify(CommittedModel.Directory, ForestRuntime.MlNet);
        using var onnx = manifest.Verify(CommittedModel.Directory, ForestRuntime.Onnx);
        Assert.Equal(157, onnx.FeatureCount);
    }

    [Theory]
    [InlineData("top.zip", "mlnet")]
    [InlineData("transient.onnx", "onnx")]
    public void A_changed_model_file_is_refused_in_one_line(string file, string runtime)
    {
        string dir = CommittedModel.Copy();
        string path = Path.Combine(dir, file);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        var e = Refused(dir, runtime);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not match", e.Message, StringComparison.Ordinal);
        Assert.Contains("sha256", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_file_is_refused()
    {
        string dir = CommittedModel.Copy();
        File.Delete(Path.Combine(dir, "periodic.onnx"));
        Assert.Contains("periodic.onnx", Refused(dir, "onnx").Message, StringComparison.Ordinal);
        // The ML.NET files are all there: that runtime still starts.
        CommittedModel.Start(dir, "mlnet").Dispose();
    }

    [Fact]
    public void Classes_out_of_order_are_refused()
    {
        string dir = CommittedModel.Copy();
        Edit(dir, j =>
        {
            var classes = j["classes"]!.AsArray();
            var first = classes[0]!.GetValue<string>();
            classes[0] = classes[1]!.GetValue<string>();
            classes[1] = first;
        });
        Assert.Contains("expected exactly [SNIa, SNIbc", Refused(dir).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_branch_with_other_classes_is_refused()
    {
        string dir = CommittedModel.Copy();
        Edit(dir, j => j["models"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "Transient")!["classes"]!.AsArray()[0] = "SN");
        Assert.Contains("forest 'Transient' has classes [SN,", Refused(dir).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_feature_list_that_differs_from_the_features_is_refused()
    {
        string dir = CommittedModel.Copy();
        Edit(dir, j => j["features"]!.AsArray().RemoveAt(3));
        Assert.Contains("features differ from Broker.LightCurves' ztf layout (156 listed, 157 computed): first at 3", Refused(dir).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_manifest_and_bad_settings_are_refused()
    {
        string empty = Path.Combine(Path.GetTempPath(), "broker-lc-empty-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(empty);
        Assert.Contains("does not exist", Refused(empty).Message, StringComparison.Ordinal);
        var bad = new LightCurveClassifierOptions { Runtime = "gpu" };
        Assert.Equal("invalid configuration: LightCurveClassifier:Runtime 'gpu' is not one of auto, mlnet, onnx",
            Assert.Throws<StepHostConfigurationException>(bad.Validate).Message);
        Assert.Throws<StepHostConfigurationException>(new LightCurveClassifierOptions { BatchSize = 0 }.Validate);
    }

    [Fact]
    public void The_default_model_directory_is_the_newest_committed_version()
    {
        Assert.Equal(Path.GetFullPath(CommittedModel.Directory), new LightCurveClassifierOptions().ResolveModelDirectory());
    }
}
