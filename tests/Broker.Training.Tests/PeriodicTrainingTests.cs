using System.Security.Cryptography;
using Broker.LightCurves;
using Broker.Simulation;
using Onnx;
using Xunit.Abstractions;

namespace Broker.Training.Tests;

/// <summary>
/// <c>broker train periodic</c>: a tiny run writes a model directory that the serving class verifies and loads; the
/// same seed gives the same bytes, another seed other weights; the exported graph gives TorchSharp's probabilities
/// through ONNX Runtime and its FLOPs are the architecture's.
/// </summary>
public sealed class PeriodicTrainingTests(ITestOutputHelper output)
{
    private static readonly Lazy<PeriodicSet> Small = new(() => PeriodicData.Simulate(SurveyKind.Ztf, 31, 40));

    private static PeriodicRunOptions Tiny(ulong seed, string dir) => new()
    {
        Seed = seed,
        Out = dir,
        TrainPerClass = 60,
        ValidationPerClass = 15,
        TestPerClass = 15,
        Training = new StampTrainingOptions { MaxEpochs = 2, Patience = 2, BatchSize = 32, LearningRate = 1e-3 },
        Command = "test",
    };

    [Fact]
    public void A_tiny_run_writes_a_directory_the_serving_class_loads_and_one_seed_gives_the_same_bytes()
    {
        string root = Path.Combine(Path.GetTempPath(), $"broker-train-periodic-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var a = PeriodicTrainingRun.Run(Tiny(21, Path.Combine(root, "a")), TextWriter.Null);
            var b = PeriodicTrainingRun.Run(Tiny(21, Path.Combine(root, "b")), TextWriter.Null);
            var c = PeriodicTrainingRun.Run(Tiny(22, Path.Combine(root, "c")), TextWriter.Null);
            byte[] Bytes(string dir, string file) => File.ReadAllBytes(Path.Combine(root, dir, file));
            string onnx = PeriodicRunOptions.ModelFile;
            output.WriteLine($"seed 21: {a.Manifest.Sha256} and {b.Manifest.Sha256}; seed 22: {c.Manifest.Sha256}");
            Assert.Equal(Bytes("a", onnx), Bytes("b", onnx));
            Assert.Equal(Bytes("a", PeriodicCnnManifest.FileName), Bytes("b", PeriodicCnnManifest.FileName));
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Bytes("a", onnx))), a.Manifest.Sha256);
            Assert.NotEqual(Bytes("a", onnx), Bytes("c", onnx));

            using var model = PeriodicCnnModel.Load(Path.Combine(root, "a"));
            Assert.Equal(PeriodicClasses.Names, model.Classes);
            Assert.Equal("1.0", model.Version);
            Assert.Equal(21, model.Manifest.Training.Seed);
            Assert.Equal(90, (int)model.Manifest.Metrics["test.objects"]);
            Assert.True(File.Exists(Path.Combine(root, "a", "evaluation.md")));
            // The run's test probabilities are what the served model gives on the same objects.
            var test = a.Test;
            var probabilities = new float[test.Count * PeriodicClasses.Count];
            model.Classify(test.Data.Images.ToArray(), test.Data.Features.ToArray(), test.Count, probabilities);
            Assert.Equal(a.TestProbabilities, probabilities);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Onnx_runtime_reproduces_torchsharp_to_1e_5_and_the_graph_flops_are_the_architectures()
    {
        var set = Small.Value;
        Assert.Equal(240, set.Count);
        var (network, _, _) = PeriodicTrainer.Train(set.Data, set.Data, new StampTrainingOptions { Seed = 5, MaxEpochs = 2, BatchSize = 32 });
        var bytes = PeriodicOnnxExport.ToBytes(network, "test", "test");
        using var runner = new StampOnnxRunner(bytes);
        Assert.Equal(["images", "features"], runner.InputNames);
        Assert.Equal(["probabilities"], runner.OutputNames);
        var images = set.Data.Images.ToArray();
        var features = set.Data.Features.ToArray();
        var torch = PeriodicTrainer.Probabilities(network, images, features, set.Count);
        var onnx = runner.Run(images, features, set.Count, PhaseFoldedImage.DefaultSide, PhaseFoldedImage.Channels, PhaseFoldedImage.ScalarCount, batch: 37, classes: PeriodicClasses.Count);
        double worst = torch.Zip(onnx).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"{set.Count} objects, largest difference {worst:E1}");
        Assert.True(worst <= 1e-5, $"ONNX Runtime differs from TorchSharp by {worst}");
        for (int i = 0; i < set.Count; i++) Assert.Equal(1.0, onnx.AsSpan(i * 6, 6).ToArray().Sum(), 1e-5);
        Assert.True(Confusion.ArgMax(onnx, set.Count, PeriodicClasses.Count).Distinct().Count() >= 2, "one class for every object");

        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(13, Assert.Single(model.OpsetImport).Version);
        Assert.Equal("Softmax", model.Graph.Node[^1].OpType);
        long flops = GraphFlops.Count(model, PhaseFoldedImage.DefaultSide);
        output.WriteLine($"FLOPs per alert: {flops} (graph), {network.Architecture.FlopsPerAlert} (architecture)");
        Assert.Equal(network.Architecture.FlopsPerAlert, flops);
    }

    [Fact]
    public void The_data_are_the_six_periodic_classes_through_the_serving_preprocessing()
    {
        var set = Small.Value;
        Assert.Equal(Enumerable.Repeat(40, 6), set.Data.ClassCounts());
        Assert.Equal(set.Count, set.Alerts.Count);
        var lc = new LightCurve();
        var image = new float[set.Data.ImageLength];
        var scalars = new float[set.Data.FeatureCount];
        var inputs = new PhaseFoldedInputs();
        for (int i = 0; i < set.Count; i += 17)
        {
            Assert.Equal(PeriodicClasses.IndexOf(set.Alerts[i].Label), set.Data.Labels[i]);
            Assert.Equal("Periodic", set.Alerts[i].TopLabel);
            lc.Load(set.Alerts[i].Alert);
            Assert.Null(inputs.TryWrite(lc, image, scalars));
            Assert.Equal(set.Periods[i], inputs.LastPeriod);
            Assert.Equal(image, set.Data.Images.GetRange(i * image.Length, image.Length));
            Assert.Equal(scalars, set.Data.Features.GetRange(i * scalars.Length, scalars.Length));
        }
        Assert.Equal(-1, PeriodicClasses.IndexOf("SNIa"));
        Assert.Equal(PeriodicCnnManifest.ExpectedClasses, PeriodicClasses.Names);
    }
}
