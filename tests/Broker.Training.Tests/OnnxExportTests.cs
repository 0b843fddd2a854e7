using Broker.Onnx;
using Broker.TestSupport;
using Onnx;
using Xunit.Abstractions;

namespace Broker.Training.Tests;

/// <summary>
/// The ONNX graph written from a TorchSharp <see cref="StampNetwork"/> gives TorchSharp's probabilities through
/// ONNX Runtime to 1e-5, on real and simulated preprocessed alerts, and keeps the network's rotation invariance.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    /// <summary>A network after one short epoch on simulated ZTF alerts (so its outputs are not near uniform).</summary>
    private static readonly Lazy<StampNetwork> ZtfNetwork = new(() =>
    {
        var data = TrainingData.Ztf;
        return StampTrainer.Train(data, data, new StampTrainingOptions { Seed = 5, MaxEpochs = 1 }).Network;
    });

    [OracleFact]
    public void Onnx_runtime_reproduces_torchsharp_to_1e_5_on_real_and_simulated_ztf_alerts()
    {
        var network = ZtfNetwork.Value;
        var bytes = StampOnnxExport.ToBytes(network, "test", "test");
        using var runner = new StampOnnxRunner(bytes);
        Assert.Equal([StampOnnxExport.ImagesInput, StampOnnxExport.FeaturesInput], runner.InputNames);
        Assert.Equal([StampOnnxExport.ProbabilitiesOutput], runner.OutputNames);
        foreach (var (name, set) in new[] { ("real ZTF", TrainingData.RealZtf()), ("simulated ZTF", TrainingData.Ztf) })
        {
            Assert.True(set.Count > 300, $"{name}: {set.Count} alerts");
            var images = set.Images.ToArray();
            var features = set.Features.ToArray();
            var torch = StampTrainer.Probabilities(network, images, features, set.Count);
            var onnx = runner.Run(images, features, set.Count, set.Side, set.Channels, set.FeatureCount, batch: 97);
            double worst = torch.Zip(onnx).Max(p => Math.Abs(p.First - p.Second));
            output.WriteLine($"{name}: {set.Count} alerts, largest difference {worst:E1}");
            Assert.True(worst <= 1e-5, $"{name}: ONNX Runtime differs from TorchSharp by {worst}");
            // Real probabilities: rows sum to 1 and the classes are not all alike.
            for (int i = 0; i < set.Count; i++) Assert.Equal(1.0, onnx.AsSpan(i * 5, 5).ToArray().Sum(), 1e-5);
            Assert.True(Confusion.ArgMax(onnx, set.Count).Distinct().Count() >= 2, $"{name}: one class for every alert");
        }
    }

    [Fact]
    public void The_rubin_network_exports_too_and_turning_the_stamps_by_90_degrees_changes_nothing()
    {
        var data = TrainingData.Lsst;
        torch_seed(9);
        var (mean, scale) = StampTrainer.FeatureStandardisation(data);
        var network = new StampNetwork(new StampArchitecture(data.Side, data.Channels, data.FeatureCount), mean, scale);
        var bytes = StampOnnxExport.ToBytes(network, "test", "test");
        using var runner = new StampOnnxRunner(bytes);
        var images = data.Images.ToArray();
        var features = data.Features.ToArray();
        var onnx = runner.Run(images, features, data.Count, data.Side, data.Channels, data.FeatureCount);
        var torch = StampTrainer.Probabilities(network, images, features, data.Count);
        Assert.True(torch.Zip(onnx).Max(p => Math.Abs(p.First - p.Second)) <= 1e-5);

        var turned = new float[images.Length];
        int il = data.ImageLength;
        for (int i = 0; i < data.Count; i++)
            StampAugmentation.Apply(images.AsSpan(i * il, il), turned.AsSpan(i * il, il), data.Channels, data.Side, 1 + i % 3, mirror: false);
        var onnxTurned = runner.Run(turned, features, data.Count, data.Side, data.Channels, data.FeatureCount);
        double worst = onnx.Zip(onnxTurned).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"Rubin: {data.Count} alerts; turned by 90, 180, 270 degrees: largest change {worst:E1}");
        Assert.True(worst <= 1e-5, $"turning the stamps changed the output by {worst}");
        // A mirror image is not one of the four turns: the network may tell it apart (so the check above can fail).
        var mirrored = new float[images.Length];
        for (int i = 0; i < data.Count; i++)
            StampAugmentation.Apply(images.AsSpan(i * il, il), mirrored.AsSpan(i * il, il), data.Channels, data.Side, 0, mirror: true);
        Assert.True(onnx.Zip(runner.Run(mirrored, features, data.Count, data.Side, data.Channels, data.FeatureCount)).Max(p => Math.Abs(p.First - p.Second)) > 1e-5);
    }

    [Fact]
    public void The_graph_is_opset_13_with_the_named_inputs_and_its_flops_are_the_architectures()
    {
        var data = TrainingData.Ztf;
        var (mean, scale) = StampTrainer.FeatureStandardisation(data);
        var network = new StampNetwork(new StampArchitecture(data.Side, data.Channels, data.FeatureCount), mean, scale);
        var model = ModelProto.Parser.ParseFrom(StampOnnxExport.ToBytes(network, "test", "test"));
        Assert.Equal(13, Assert.Single(model.OpsetImport).Version);
        Assert.Equal(["images", "features"], model.Graph.Input.Select(i => i.Name));
        Assert.Equal("probabilities", Assert.Single(model.Graph.Output).Name);
        Assert.Equal("Softmax", model.Graph.Node[^1].OpType);
        long flops = GraphFlops.Count(model, data.Side);
        output.WriteLine($"FLOPs per alert: {flops} (graph), {network.Architecture.FlopsPerAlert} (architecture)");
        Assert.Equal(network.Architecture.FlopsPerAlert, flops);
        Assert.InRange(flops, 1_000_000, 8_000_000);
    }

    [Fact]
    public void Broker_onnx_loads_the_exported_graph_with_a_free_batch_dimension()
    {
        var data = TrainingData.Ztf;
        var (mean, scale) = StampTrainer.FeatureStandardisation(data);
        var network = new StampNetwork(new StampArchitecture(data.Side, data.Channels, data.FeatureCount), mean, scale);
        string path = Path.Combine(Path.GetTempPath(), $"broker-stamp-export-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, StampOnnxExport.ToBytes(network, "test", "test"));
        try
        {
            using var model = new OnnxModel(path);
            Assert.Equal([("images", new long[] { -1, 3, 21, 21 }), ("features", [-1, data.FeatureCount])], model.Inputs.Select(i => (i.Name, i.Shape.ToArray())).ToList(), new ShapeComparer());
            Assert.Equal(new long[] { -1, 5 }, Assert.Single(model.Outputs).Shape);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void torch_seed(long seed) => TorchSharp.torch.manual_seed(seed);

    private sealed class ShapeComparer : IEqualityComparer<(string, long[])>
    {
        public bool Equals((string, long[]) x, (string, long[]) y) => x.Item1 == y.Item1 && x.Item2.SequenceEqual(y.Item2);

        public int GetHashCode((string, long[]) obj) => obj.Item1.GetHashCode(StringComparison.Ordinal);
    }
}

/// <summary>
/// FLOPs per alert counted from an ONNX graph: 2 x the multiply-accumulates of every Conv and Gemm, with spatial
/// sizes and the batch multiple (the four rotations stacked on the batch axis) followed through the graph.
/// </summary>
internal static class GraphFlops
{
    public static long Count(ModelProto model, int side)
    {
        var weights = model.Graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        var spatial = new Dictionary<string, int> { ["images"] = side };
        var multiple = new Dictionary<string, int> { ["images"] = 1, ["features"] = 1 };
        long macs = 0;
        foreach (var node in model.Graph.Node)
        {
            var inputs = node.Input.Where(i => !weights.ContainsKey(i)).ToList();
            int m = inputs.Count == 0 ? 1 : inputs.Max(i => multiple.GetValueOrDefault(i, 1));
            int s = inputs.Select(i => spatial.GetValueOrDefault(i, 0)).FirstOrDefault(v => v > 0);
            switch (node.OpType)
            {
                case "Concat" when node.Attribute.Single(a => a.Name == "axis").I == 0:
                    m = inputs.Sum(i => multiple.GetValueOrDefault(i, 1));
                    break;
                case "Conv":
                    var w = weights[node.Input[1]];
                    macs += (long)m * s * s * w.Aggregate(1L, (a, b) => a * b);
                    break;
                case "MaxPool":
                    s /= 2;
                    break;
                case "Gemm":
                    macs += (long)m * weights[node.Input[1]].Aggregate(1L, (a, b) => a * b);
                    break;
                case "ReduceMean":
                    m = 1;
                    break;
                case "Flatten":
                    s = 0;
                    break;
            }
            foreach (var o in node.Output)
            {
                multiple[o] = m;
                if (s > 0) spatial[o] = s;
            }
        }
        return 2 * macs;
    }
}
