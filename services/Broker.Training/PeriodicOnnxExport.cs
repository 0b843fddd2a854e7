using Google.Protobuf;
using Onnx;
using static Broker.Training.StampOnnxExport;

namespace Broker.Training;

/// <summary>
/// Writes a trained <see cref="PeriodicNetwork"/> as an ONNX opset-13 graph with OnnxSharp, node for node as
/// <see cref="PeriodicNetwork.forward"/>: inputs <c>images</c> [N, 2, S, S] and <c>features</c> [N, F], output
/// <c>probabilities</c> [N, classes] (softmax included). As <see cref="StampOnnxExport"/>: no time stamps, fixed node
/// and initializer order, so equal weights give byte-identical files.
/// </summary>
public static class PeriodicOnnxExport
{
    /// <summary>The ONNX model bytes of <paramref name="network"/>.</summary>
    public static byte[] ToBytes(PeriodicNetwork network, string graphName, string docString)
    {
        var a = network.Architecture;
        var g = new GraphProto { Name = graphName };
        g.Input.Add(Value(ImagesInput, ["N", a.Channels, a.Side, a.Side]));
        g.Input.Add(Value(FeaturesInput, ["N", a.Features]));
        g.Output.Add(Value(ProbabilitiesOutput, ["N", a.Classes]));
        foreach (var (name, shape, values) in network.Weights()) g.Initializer.Add(Floats(name, shape, values));
        g.Initializer.Add(Floats("features.mean", [1, a.Features], network.FeatureMean));
        g.Initializer.Add(Floats("features.scale", [1, a.Features], network.FeatureScale));
        g.Initializer.Add(Floats("features.clip_min", [], [-PeriodicNetwork.FeatureClip]));
        g.Initializer.Add(Floats("features.clip_max", [], [PeriodicNetwork.FeatureClip]));

        Node(g, "Conv", [ImagesInput, "conv1.weight", "conv1.bias"], "conv1", Ints("kernel_shape", [3, 3]), Ints("pads", [1, 1, 1, 1]));
        Node(g, "Relu", ["conv1"], "conv1.relu");
        Node(g, "MaxPool", ["conv1.relu"], "pool1", Ints("kernel_shape", [2, 2]), Ints("strides", [2, 2]));
        Node(g, "Conv", ["pool1", "conv2.weight", "conv2.bias"], "conv2", Ints("kernel_shape", [3, 3]), Ints("pads", [1, 1, 1, 1]));
        Node(g, "Relu", ["conv2"], "conv2.relu");
        Node(g, "MaxPool", ["conv2.relu"], "pool2", Ints("kernel_shape", [2, 2]), Ints("strides", [2, 2]));
        Node(g, "Flatten", ["pool2"], "flat", Int("axis", 1));
        Node(g, "Gemm", ["flat", "dense1.weight", "dense1.bias"], "dense1", Int("transB", 1));
        Node(g, "Relu", ["dense1"], "dense1.relu");
        Node(g, "Sub", [FeaturesInput, "features.mean"], "features.centred");
        Node(g, "Mul", ["features.centred", "features.scale"], "features.scaled");
        Node(g, "Clip", ["features.scaled", "features.clip_min", "features.clip_max"], "features.clipped");
        Node(g, "Concat", ["dense1.relu", "features.clipped"], "joined", Int("axis", 1));
        Node(g, "Gemm", ["joined", "dense2.weight", "dense2.bias"], "dense2", Int("transB", 1));
        Node(g, "Relu", ["dense2"], "dense2.relu");
        Node(g, "Gemm", ["dense2.relu", "output.weight", "output.bias"], "logits", Int("transB", 1));
        Node(g, "Softmax", ["logits"], ProbabilitiesOutput, Int("axis", 1));

        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Broker.Training",
            ProducerVersion = "1",
            DocString = docString,
            Graph = g,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }
}
