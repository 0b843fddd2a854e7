using System.Globalization;
using Broker.Onnx;
using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>`broker onnx run` on ZTF's braai model with tensors numpy wrote, read back by numpy (issue 13).</summary>
public sealed class OnnxCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-onnx").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Model => SharedData.Path("labeled/models/braai_d6_m7/braai_d6_m7.onnx");

    private string File(string name) => Path.Combine(_dir, name);

    // Four stamp triplets as braai sees them: rows of unit L2 norm, from a fixed seed.
    private const string WriteInputs = """
        import sys, numpy as np
        rng = np.random.default_rng(13)
        x = rng.normal(size=(4, 3, 63, 63)) + 3 * (rng.random((4, 1, 1, 1)) > 0.5)
        x /= np.linalg.norm(x, axis=3, keepdims=True)
        np.save(sys.argv[1], x)
        np.save(sys.argv[2], x.astype('<f4'))
        np.save(sys.argv[3], x.astype('>f4'))
        """;

    [OracleFact("numpy")]
    public void Onnx_run_writes_the_first_output_as_numpy_reads_it_for_float64_and_float32_inputs()
    {
        Python.RunCode(WriteInputs, File("x64.npy"), File("x32.npy"), File("big.npy"));
        var r64 = BrokerProcess.Run(["onnx", "run", Model, "--input", File("x64.npy"), "--output", File("y64.npy")]);
        Assert.True(r64.ExitCode == 0, r64.StandardError);
        Assert.Equal("stamps (4, 3, 63, 63) <f8 -> drb (4, 1) <f4 (cpu)", Assert.Single(r64.ErrorLines));
        var r32 = BrokerProcess.Run(["onnx", "run", Model, "--input", File("x32.npy"), "--output", File("y32.npy"), "--threads", "2"]);
        Assert.True(r32.ExitCode == 0, r32.StandardError);

        // numpy reads what Broker wrote: dtype, shape and every value (repr of float32 round-trips).
        string read = Python.RunCode("""
            import sys, numpy as np
            for p in sys.argv[1:]:
                y = np.load(p)
                print(y.dtype.str, y.shape, ' '.join(repr(float(v)) for v in y.ravel()))
            """, File("y64.npy"), File("y32.npy"));
        var lines = read.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);

        // The same model in process on the same tensor (float64 converted to float32, as the command does).
        using var model = new OnnxModel(Model);
        var x = NpyArray.Read(File("x64.npy"));
        var (expected, shape) = model.Run(x.ToSingle(), x.Shape.ToArray());
        Assert.Equal([4L, 1], shape);
        foreach (var line in lines)
        {
            Assert.StartsWith("<f4 (4, 1) ", line);
            var values = line["<f4 (4, 1) ".Length..].Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(4, values.Length);
            for (int i = 0; i < 4; i++) Assert.Equal(expected[i], values[i], 1e-6f);
        }
        // A big-endian tensor is refused in one line, exit 1, nothing written.
        var big = BrokerProcess.Run(["onnx", "run", Model, "--input", File("big.npy"), "--output", File("ybig.npy")]);
        Assert.Equal(1, big.ExitCode);
        Assert.Equal($"error: {File("big.npy")}: .npy dtype '>f4' is not supported: only little-endian float32 ('<f4') and float64 ('<f8')", Assert.Single(big.ErrorLines));
        Assert.False(System.IO.File.Exists(File("ybig.npy")));
    }

    [OracleFact]
    public void Bad_files_are_one_line_and_exit_1_usage_errors_one_line_and_exit_2()
    {
        var x = new float[2 * 3 * 60 * 63];
        NpyArray.FromSingle(x, 2, 3, 60, 63).Write(File("wrong.npy"));
        var wrong = BrokerProcess.Run(["onnx", "run", Model, "--input", File("wrong.npy"), "--output", File("y.npy")]);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal($"error: {File("wrong.npy")}: input 'stamps' has shape (N, 3, 63, 63), got (2, 3, 60, 63)", Assert.Single(wrong.ErrorLines));

        var notModel = BrokerProcess.Run(["onnx", "run", File("wrong.npy"), "--input", File("wrong.npy"), "--output", File("y.npy")]);
        Assert.Equal(1, notModel.ExitCode);
        Assert.StartsWith($"error: {File("wrong.npy")}: not a model ONNX Runtime can load", Assert.Single(notModel.ErrorLines));

        var missing = BrokerProcess.Run(["onnx", "run", Model, "--input", File("none.npy"), "--output", File("y.npy")]);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal($"error: {File("none.npy")}: no such file", Assert.Single(missing.ErrorLines));

        // The default (CPU) build has no CUDA provider: cuda is fatal in one line; auto warns once and runs on the CPU.
        NpyArray.FromSingle(new float[3 * 63 * 63], 1, 3, 63, 63).Write(File("one.npy"));
        var cuda = BrokerProcess.Run(["onnx", "run", Model, "--input", File("one.npy"), "--output", File("y.npy"), "--provider", "cuda"]);
        Assert.Equal(1, cuda.ExitCode);
        Assert.StartsWith("error: the CUDA execution provider cannot start: ", Assert.Single(cuda.ErrorLines));
        var auto = BrokerProcess.Run(["onnx", "run", Model, "--input", File("one.npy"), "--output", File("y.npy"), "--provider", "auto"]);
        Assert.True(auto.ExitCode == 0, auto.StandardError);
        Assert.Equal(2, auto.ErrorLines.Length);
        Assert.StartsWith("warning: the CUDA execution provider cannot start", auto.ErrorLines[0]);
        Assert.EndsWith("(cpu)", auto.ErrorLines[1]);

        var provider = BrokerProcess.Run(["onnx", "run", Model, "--input", File("one.npy"), "--output", File("y.npy"), "--provider", "gpu"]);
        Assert.Equal(2, provider.ExitCode);
        Assert.Equal("error: --provider: 'gpu' is not one of cpu, cuda, auto", Assert.Single(provider.ErrorLines));
        var noInput = BrokerProcess.Run(["onnx", "run", Model, "--output", File("y.npy")]);
        Assert.Equal(2, noInput.ExitCode);
    }
}
