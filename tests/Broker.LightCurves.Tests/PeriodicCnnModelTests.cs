using Broker.Onnx;
using System.Security.Cryptography;
using Google.Protobuf;
using Onnx;

namespace Broker.LightCurves.Tests;

/// <summary>
/// <see cref="PeriodicCnnModel"/> serves a model directory that matches its manifest and refuses, with one line,
/// each way one can disagree. The model here is a small linear softmax graph written with OnnxSharp (the trained
/// CNN's inputs and output, no libtorch), so its probabilities can be computed by hand.
/// </summary>
public sealed class PeriodicCnnModelTests : IDisposable
{
    private const int Side = PhaseFoldedImage.DefaultSide;
    private static readonly int ImageLength = PhaseFoldedImage.ImageLength(Side);
    private static readonly int Inputs = ImageLength + PhaseFoldedImage.ScalarCount;
    private static readonly int Classes = PeriodicCnnManifest.ExpectedClasses.Count;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"broker-periodic-cnn-tests-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    /// <summary>Weights [classes, inputs] of the test graph: small deterministic values.</summary>
    private static float[] Weights()
    {
        var w = new float[Classes * Inputs];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(0.01 * Math.Sin(0.37 * i));
        return w;
    }

    private static byte[] Graph(string imagesName = "images", int side = Side)
    {
        var g = new GraphProto { Name = "test" };
        g.Input.Add(Value(imagesName, ["N", PhaseFoldedImage.Channels, side, side]));
        g.Input.Add(Value("features", ["N", PhaseFoldedImage.ScalarCount]));
        g.Output.Add(Value("probabilities", ["N", Classes]));
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        w.Dims.AddRange([Classes, PhaseFoldedImage.Channels * side * side + PhaseFoldedImage.ScalarCount]);
        var weights = side == Side ? Weights() : new float[Classes * (PhaseFoldedImage.Channels * side * side + PhaseFoldedImage.ScalarCount)];
        var bytes = new byte[weights.Length * 4];
        Buffer.BlockCopy(weights, 0, bytes, 0, bytes.Length);
        w.RawData = ByteString.CopyFrom(bytes);
        g.Initializer.Add(w);
        Node(g, "Flatten", [imagesName], "flat", new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        Node(g, "Concat", ["flat", "features"], "joined", new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        Node(g, "Gemm", ["joined", "w"], "logits", new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        Node(g, "Softmax", ["logits"], "probabilities", new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        var model = new ModelProto { IrVersion = 8, ProducerName = "test", Graph = g };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    private static void Node(GraphProto g, string op, string[] inputs, string output, AttributeProto attribute)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attribute);
        g.Node.Add(node);
    }

    private static ValueInfoProto Value(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }

    private static PeriodicCnnManifest Manifest(byte[] onnx) => new()
    {
        Version = "0.1",
        File = "periodic-cnn.onnx",
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(onnx)),
        Bytes = onnx.Length,
        Image = new PeriodicCnnImage { Side = Side, Layout = PhaseFoldedImage.Layout },
        Inputs =
        [
            new OnnxManifestInput { Name = "images", Shape = [-1, PhaseFoldedImage.Channels, Side, Side] },
            new OnnxManifestInput { Name = "features", Shape = [-1, PhaseFoldedImage.ScalarCount], Features = [.. PhaseFoldedImage.ScalarNames] },
        ],
        Output = new OnnxManifestOutput { Name = "probabilities", Shape = [-1, Classes] },
        Training = new PeriodicCnnTraining { Command = "test", Seed = 1 },
    };

    private string Write(PeriodicCnnManifest manifest, byte[] onnx, string name = "m")
    {
        string dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "periodic-cnn.onnx"), onnx);
        manifest.Write(Path.Combine(dir, PeriodicCnnManifest.FileName));
        return dir;
    }

    private static LightCurve Variable(double period, double amplitude, int seed)
    {
        var rng = new Random(seed);
        var lc = new LightCurve();
        for (int i = 0; i < 40; i++)
        {
            double t = 60000 + rng.NextDouble() * 60;
            int band = i % 2;
            lc.AddDetection(band, t, 17 + 0.3 * band + amplitude * Math.Sin(2 * Math.PI * t / period), 0.03, double.NaN, double.NaN, true);
        }
        lc.Complete();
        return lc;
    }

    [Fact]
    public void A_matching_directory_loads_and_classifies_a_batch_as_the_graph_computes_by_hand()
    {
        var onnx = Graph();
        using var model = PeriodicCnnModel.Load(Write(Manifest(onnx), onnx));
        Assert.Equal(PeriodicCnnManifest.DefaultName, model.Name);
        Assert.Equal("0.1", model.Version);
        Assert.Equal(["LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"], model.Classes);

        var batch = new PeriodicCnnBatch(model);
        var curves = new[] { Variable(0.55, 0.4, 1), Variable(4.2, 0.2, 2), new LightCurve(), Variable(120, 2.0, 3) };
        var rows = new List<int>();
        for (int i = 0; i < curves.Length; i++)
        {
            int row = batch.TryAdd(curves[i], out string? reason);
            if (i == 2)
            {
                Assert.Equal(-1, row);
                Assert.Equal(PhaseFoldedImage.TooFewPoints, reason);
            }
            else
            {
                Assert.Null(reason);
                rows.Add(row);
            }
        }
        Assert.Equal([0, 1, 2], rows);
        batch.Classify();

        var w = Weights();
        var image = new float[ImageLength];
        var scalars = new float[PhaseFoldedImage.ScalarCount];
        var inputs = new PhaseFoldedInputs();
        int r = 0;
        foreach (int i in new[] { 0, 1, 3 })
        {
            Assert.Null(inputs.TryWrite(curves[i], image, scalars));
            Assert.Equal(inputs.LastPeriod, batch.PeriodOf(r));
            var x = image.Concat(scalars).ToArray();
            var logits = new double[Classes];
            for (int c = 0; c < Classes; c++)
                for (int j = 0; j < Inputs; j++) logits[c] += w[c * Inputs + j] * x[j];
            double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
            var p = batch.Probabilities(r);
            for (int c = 0; c < Classes; c++) Assert.Equal(Math.Exp(logits[c] - max) / sum, p[c], 5);
            var (top, probability) = batch.TopClass(r);
            Assert.Equal(Array.IndexOf(logits, logits.Max()), top);
            Assert.Equal(p[top], probability);
            r++;
        }
        batch.Clear();
        Assert.Equal(0, batch.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.Probabilities(0).ToArray());
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "classes out of order", "classes are [E, LPV" },
        { "a class missing", "expected exactly [LPV, E, DSCT, RRL, CEP, Periodic-Other]" },
        { "another image layout", "image layout is 'phase-folded-v1'" },
        { "an odd side", "image side 31" },
        { "other scalar names", "PhaseFoldedImage.ScalarNames is" },
        { "a scalar count that disagrees", "features need [-1, 7]" },
        { "an image shape that disagrees", "PhaseFoldedImage writes [-1, 2, 32, 32]" },
        { "a wrong output width", "6 classes need [-1, 6]" },
        { "a sha256 that differs", "does not match its manifest" },
        { "a size that differs", "bytes, expected" },
        { "a sha256 that is not hex", "is not 64 hexadecimal digits" },
        { "a path for a file name", "is not a plain file name" },
        { "a missing file", "does not exist" },
        { "an input named otherwise in the graph", "input 0 is named 'pixels', the manifest says 'images'" },
        { "a graph of another side", "has shape [-1, 2, 16, 16], the manifest says [-1, 2, 32, 32]" },
        { "a file ONNX Runtime cannot load", "not a model ONNX Runtime can load" },
        { "no version", "version is empty" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_directory_that_disagrees_with_its_manifest_is_refused_with_one_line(string how, string expected)
    {
        var onnx = Graph();
        var m = Manifest(onnx);
        byte[] file = onnx;
        switch (how)
        {
            case "classes out of order": m = m with { Classes = ["E", "LPV", "DSCT", "RRL", "CEP", "Periodic-Other"] }; break;
            case "a class missing": m = m with { Classes = ["LPV", "E", "DSCT", "RRL", "CEP"] }; break;
            case "another image layout": m = m with { Image = m.Image with { Layout = "phase-folded-v1" } }; break;
            case "an odd side": m = m with { Image = m.Image with { Side = 31 } }; break;
            case "other scalar names": m = m with { Inputs = [m.Inputs[0], m.Inputs[1] with { Features = ["period", .. PhaseFoldedImage.ScalarNames.Skip(1)] }] }; break;
            case "a scalar count that disagrees": m = m with { Inputs = [m.Inputs[0], m.Inputs[1] with { Shape = [-1, 6] }] }; break;
            case "an image shape that disagrees": m = m with { Inputs = [m.Inputs[0] with { Shape = [-1, 3, 32, 32] }, m.Inputs[1]] }; break;
            case "a wrong output width": m = m with { Output = m.Output with { Shape = [-1, 5] } }; break;
            case "a sha256 that differs": m = m with { Sha256 = new string('0', 64) }; break;
            case "a size that differs": m = m with { Bytes = onnx.Length + 1 }; break;
            case "a sha256 that is not hex": m = m with { Sha256 = "xyz" }; break;
            case "a path for a file name": m = m with { File = "../periodic-cnn.onnx" }; break;
            case "a missing file": m = m with { File = "other.onnx" }; break;
            case "an input named otherwise in the graph":
                file = Graph(imagesName: "pixels");
                m = m with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)), Bytes = file.Length };
                break;
            case "a graph of another side":
                file = Graph(side: 16);
                m = m with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)), Bytes = file.Length };
                break;
            case "a file ONNX Runtime cannot load":
                file = [1, 2, 3, 4, 5, 6, 7, 8];
                m = m with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(file)), Bytes = file.Length };
                break;
            case "no version": m = m with { Version = " " }; break;
            default: throw new ArgumentException(how);
        }
        string dir = Write(m, file);
        var e = Assert.Throws<PeriodicCnnModelException>(() => PeriodicCnnModel.Load(dir).Dispose());
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_manifest_and_one_that_is_not_json_are_refused_with_one_line()
    {
        string empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        var e = Assert.Throws<PeriodicCnnModelException>(() => PeriodicCnnModel.Load(empty));
        Assert.Contains("manifest", e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(empty, PeriodicCnnManifest.FileName), "{ \"name\": ");
        e = Assert.Throws<PeriodicCnnModelException>(() => PeriodicCnnModel.Load(empty));
        Assert.Contains("not valid JSON", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void The_latest_version_directory_with_a_manifest_is_found()
    {
        var onnx = Graph();
        string models = Path.Combine(_root, "models");
        foreach (var v in new[] { "1.0", "1.10", "1.9" }) Write(Manifest(onnx), onnx, Path.Combine("models", v));
        Directory.CreateDirectory(Path.Combine(models, "2.0"));   // no manifest
        Assert.Equal(Path.Combine(models, "1.10"), PeriodicCnnModel.LatestVersion(models));
        Assert.Null(PeriodicCnnModel.LatestVersion(Path.Combine(_root, "none")));
    }

    [Fact]
    public void Buffers_of_the_wrong_length_are_argument_errors()
    {
        var onnx = Graph();
        using var model = PeriodicCnnModel.Load(Write(Manifest(onnx), onnx));
        Assert.Throws<ArgumentException>(() => model.Classify(new float[ImageLength], new float[PhaseFoldedImage.ScalarCount], 2, new float[2 * Classes]));
        Assert.Throws<ArgumentException>(() => model.Classify(new float[ImageLength], new float[PhaseFoldedImage.ScalarCount], 1, new float[5]));
        model.Classify(ReadOnlyMemory<float>.Empty, ReadOnlyMemory<float>.Empty, 0, Memory<float>.Empty);
    }
}
