using System.Security.Cryptography;
using Broker.Simulation;
using Xunit.Abstractions;

namespace Broker.Training.Tests;

/// <summary><c>broker train stamps</c> is reproducible: the same seed gives byte-identical ONNX files, another seed other weights.</summary>
public sealed class DeterminismTests(ITestOutputHelper output)
{
    private static StampRunOptions Short(ulong seed, string dir) => new()
    {
        Seed = seed,
        Out = dir,
        TrainAlerts = 1200,
        ValidationAlerts = 400,
        TestAlerts = 400,
        Training = new StampTrainingOptions { MaxEpochs = 1 },
        Surveys = [SurveyKind.Ztf],
        SharedData = null,
        Command = "test",
    };

    [Fact]
    public void Two_short_runs_with_one_seed_write_identical_onnx_bytes_and_another_seed_does_not()
    {
        string root = Path.Combine(Path.GetTempPath(), $"broker-train-determinism-{Environment.ProcessId}");
        try
        {
            var a = StampTrainingRun.Run(Short(11, Path.Combine(root, "a")), TextWriter.Null);
            var b = StampTrainingRun.Run(Short(11, Path.Combine(root, "b")), TextWriter.Null);
            var c = StampTrainingRun.Run(Short(12, Path.Combine(root, "c")), TextWriter.Null);
            byte[] Bytes(string dir) => File.ReadAllBytes(Path.Combine(root, dir, "ztf.onnx"));
            output.WriteLine($"seed 11: {Hash(Bytes("a"))} and {Hash(Bytes("b"))}; seed 12: {Hash(Bytes("c"))}");
            Assert.Equal(Bytes("a"), Bytes("b"));
            Assert.NotEqual(Bytes("a"), Bytes("c"));
            Assert.Equal(a.Models[0].Sha256, b.Models[0].Sha256);
            Assert.Equal(Hash(Bytes("a")), a.Models[0].Sha256);
            Assert.Equal(File.ReadAllText(Path.Combine(root, "a", "manifest.json")), File.ReadAllText(Path.Combine(root, "b", "manifest.json")));
            Assert.NotEqual(a.Models[0].Sha256, c.Models[0].Sha256);
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static string Hash(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
