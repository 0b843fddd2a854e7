using Broker.Onnx;
using Broker.StepHost;
using Broker.TestSupport;

namespace Broker.StampClassifier.Tests;

public sealed class StampModelManifestTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-stamp-manifest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StampModelManifest Sample(string sha256, long bytes) => new()
    {
        Version = "0.0-test",
        Training = new StampTraining { Command = "./broker train stamps --seed 1", Seed = 1, Data = "simulated", Details = new Dictionary<string, string> { ["epochs"] = "3" } },
        Models =
        [
            new StampModelFile
            {
                Survey = "ztf", File = "ztf.onnx", Sha256 = sha256, Bytes = bytes,
                Inputs =
                [
                    new OnnxManifestInput { Name = "images", Shape = [-1, 3, 21, 21], Preprocessing = "StampInput" },
                    new OnnxManifestInput { Name = "features", Shape = [-1, 23], Features = [.. StampInput.FeatureNames(Alerts.Model.Survey.Ztf)] },
                ],
                Output = new OnnxManifestOutput { Name = "probabilities", Shape = [-1, 5] },
                FlopsPerAlert = 1234567,
                Metrics = new Dictionary<string, double> { ["accuracy"] = 0.9 },
            },
        ],
    };

    [Fact]
    public void A_manifest_round_trips_as_camel_case_json()
    {
        var m = Sample(new string('a', 64), 10);
        string path = Path.Combine(_dir, StampModelManifest.FileName);
        m.Write(path);
        string json = File.ReadAllText(path);
        Assert.Contains("\"flopsPerAlert\": 1234567", json);
        Assert.Contains("\"taxonomy\": \"alerce-stamp-2020\"", json);
        Assert.Contains("\"classes\": [", json);
        var back = StampModelManifest.Read(path);
        Assert.Equal(m.Name, back.Name);
        Assert.Equal(StampModelManifest.ExpectedClasses, back.Classes);
        Assert.Equal(m.Models[0].Inputs[1].Features, back.Models[0].Inputs[1].Features);
        Assert.Equal([-1L, 3, 21, 21], back.Models[0].Inputs[0].Shape);
        Assert.Equal(0.9, back.Models[0].Metrics["accuracy"]);
        Assert.Equal("3", back.Training.Details["epochs"]);
        Assert.Equal(1L, back.Training.Seed);
    }

    [Fact]
    public void Classes_out_of_order_are_refused_with_one_line()
    {
        var m = Sample(new string('a', 64), 10) with { Classes = ["SN", "AGN", "VS", "asteroid", "bogus"] };
        var e = Assert.Throws<StepHostConfigurationException>(() => m.Verify(_dir));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(Path.Combine(_dir, "manifest.json"), e.Message);
        Assert.Contains("[SN, AGN, VS, asteroid, bogus], expected exactly [AGN, SN, VS, asteroid, bogus]", e.Message);
    }

    [OracleFact]
    public void A_file_whose_sha256_or_size_differs_is_refused_naming_file_manifest_and_both_values()
    {
        string model = Path.Combine(_dir, "ztf.onnx");
        File.Copy(SharedData.Path("labeled/models/braai_d6_m7/braai_d6_m7.onnx"), model);
        long bytes = new FileInfo(model).Length;
        string sha = FileVerifier.Sha256(model);

        var e = Assert.Throws<StepHostConfigurationException>(() => Sample(new string('0', 64), bytes).Verify(_dir));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains(model, e.Message);
        Assert.Contains(Path.Combine(_dir, "manifest.json"), e.Message);
        Assert.Contains($"sha256 {sha}, expected {new string('0', 64)}", e.Message);

        e = Assert.Throws<StepHostConfigurationException>(() => Sample(sha, bytes + 1).Verify(_dir));
        Assert.Contains($"{bytes} bytes, expected {bytes + 1}", e.Message);

        // The right file, but braai is not a stamp model: one input, not two.
        e = Assert.Throws<StepHostConfigurationException>(() => Sample(sha, bytes).Verify(_dir));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("the model has 1 inputs (stamps), the manifest 2 (images, features)", e.Message);
    }

    [Fact]
    public void A_missing_file_is_refused()
    {
        var e = Assert.Throws<StepHostConfigurationException>(() => Sample(new string('a', 64), 10).Verify(_dir));
        Assert.Contains("does not exist", e.Message);
        Assert.Contains("ztf.onnx", e.Message);
    }
}
