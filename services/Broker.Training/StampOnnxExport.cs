using Google.Protobuf;
using Onnx;

namespace Broker.Training;

/// <summary>
/// Writes a trained <see cref="StampNetwork"/> as an ONNX graph (opset 13) with OnnxSharp's message classes:
/// inputs <c>images</c> [N, 3, 21, 21] and <c>features</c> [N, F], output <c>probabilities</c> [N, 5] (softmax
/// included). TorchSharp has no ONNX export, so the graph is written node by node from the weights, mirroring
/// <see cref="StampNetwork.forward"/> op for op; tests check that ONNX Runtime gives TorchSharp's outputs.
/// </summary>
/// <remarks>
/// The bytes depend only on the weights and the arguments (no time stamps, fixed node and initializer order), so
/// equal training gives byte-identical files. Rotations: ONNX has no Flip or Rot90; a 90-degree turn is Transpose
/// (H and W) and a reversed axis is Slice with step -1 from the last element (start -1, end INT64_MIN, the
/// operator's idiom for "to the beginning"; ONNX Operators, Slice-13).
/// </remarks>
public static class StampOnnxExport
{
    /// <summary>The graph's image input.</summary>
    public const string ImagesInput = "images";

    /// <summary>The graph's feature input.</summary>
    public const string FeaturesInput = "features";

    /// <summary>The graph's output.</summary>
    public const string ProbabilitiesOutput = "probabilities";

    /// <summary>The opset the graph uses.</summary>
    public const int Opset = 13;

    /// <summary>The ONNX model bytes of <paramref name="network"/>.</summary>
    /// <param name="network">The trained network.</param>
    /// <param name="graphName">The graph's name (e.g. "broker-stamp-ztf").</param>
    /// <param name="docString">What the model is, stored in the file.</param>
    public static byte[] ToBytes(StampNetwork network, string graphName, string docString)
    {
        var a = network.Architecture;
        var g = new GraphProto { Name = graphName };
        g.Input.Add(Value(ImagesInput, ["N", a.Channels, a.Side, a.Side]));
        g.Input.Add(Value(FeaturesInput, ["N", a.Features]));
        g.Output.Add(Value(ProbabilitiesOutput, ["N", StampClasses.Count]));
        foreach (var (name, shape, values) in network.Weights()) g.Initializer.Add(Floats(name, shape, values));
        g.Initializer.Add(Floats("features.mean", [1, a.Features], network.FeatureMean));
        g.Initializer.Add(Floats("features.scale", [1, a.Features], network.FeatureScale));
        g.Initializer.Add(Floats("features.clip_min", [], [-StampNetwork.FeatureClip]));
        g.Initializer.Add(Floats("features.clip_max", [], [StampNetwork.FeatureClip]));
        g.Initializer.Add(Longs("reverse.start", [-1]));
        g.Initializer.Add(Longs("reverse.end", [long.MinValue]));
        g.Initializer.Add(Longs("reverse.step", [-1]));
        g.Initializer.Add(Longs("reverse2.start", [-1, -1]));
        g.Initializer.Add(Longs("reverse2.end", [long.MinValue, long.MinValue]));
        g.Initializer.Add(Longs("reverse2.step", [-1, -1]));
        g.Initializer.Add(Longs("axis.h", [2]));
        g.Initializer.Add(Longs("axis.w", [3]));
        g.Initializer.Add(Longs("axes.hw", [2, 3]));
        g.Initializer.Add(Longs("rotations.shape", [StampArchitecture.Rotations, -1, a.Dense]));

        // The four rotations, stacked along the batch axis: 0, 90, 180, 270 degrees (StampNetwork.Rotations).
        Node(g, "Transpose", [ImagesInput], "images.t", Ints("perm", [0, 1, 3, 2]));
        Node(g, "Slice", ["images.t", "reverse.start", "reverse.end", "axis.w", "reverse.step"], "images.r90");
        Node(g, "Slice", [ImagesInput, "reverse2.start", "reverse2.end", "axes.hw", "reverse2.step"], "images.r180");
        Node(g, "Slice", ["images.t", "reverse.start", "reverse.end", "axis.h", "reverse.step"], "images.r270");
        Node(g, "Concat", [ImagesInput, "images.r90", "images.r180", "images.r270"], "rotated", Int("axis", 0));
        // Shared convolutions.
        Node(g, "Conv", ["rotated", "conv1.weight", "conv1.bias"], "conv1", Ints("kernel_shape", [3, 3]), Ints("pads", [1, 1, 1, 1]));
        Node(g, "Relu", ["conv1"], "conv1.relu");
        Node(g, "MaxPool", ["conv1.relu"], "pool1", Ints("kernel_shape", [2, 2]), Ints("strides", [2, 2]));
        Node(g, "Conv", ["pool1", "conv2.weight", "conv2.bias"], "conv2", Ints("kernel_shape", [3, 3]), Ints("pads", [1, 1, 1, 1]));
        Node(g, "Relu", ["conv2"], "conv2.relu");
        Node(g, "MaxPool", ["conv2.relu"], "pool2", Ints("kernel_shape", [2, 2]), Ints("strides", [2, 2]));
        Node(g, "Flatten", ["pool2"], "flat", Int("axis", 1));
        Node(g, "Gemm", ["flat", "dense1.weight", "dense1.bias"], "dense1", Int("transB", 1));
        Node(g, "Relu", ["dense1"], "dense1.relu");
        // Cyclic average pooling over the rotations.
        Node(g, "Reshape", ["dense1.relu", "rotations.shape"], "by_rotation");
        Node(g, "ReduceMean", ["by_rotation"], "cyclic_mean", Ints("axes", [0]), Int("keepdims", 0));
        // Features: standardised and clipped, then joined to the image summary.
        Node(g, "Sub", [FeaturesInput, "features.mean"], "features.centred");
        Node(g, "Mul", ["features.centred", "features.scale"], "features.scaled");
        Node(g, "Clip", ["features.scaled", "features.clip_min", "features.clip_max"], "features.clipped");
        Node(g, "Concat", ["cyclic_mean", "features.clipped"], "joined", Int("axis", 1));
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

    internal static void Node(GraphProto g, string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        g.Node.Add(node);
    }

    internal static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    internal static AttributeProto Ints(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    internal static TensorProto Floats(string name, long[] shape, float[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(shape);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    internal static TensorProto Longs(string name, long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        return t;
    }

    internal static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is string p
                ? new TensorShapeProto.Types.Dimension { DimParam = p }
                : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
