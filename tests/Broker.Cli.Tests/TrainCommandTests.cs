using System.Text.Json;

namespace Broker.Cli.Tests;

/// <summary>
/// <c>broker train</c> runs the training program (services/Broker.Training) as a child process: its arguments and
/// exit code pass through, and the CLI's own bin/ holds no libtorch.
/// </summary>
public sealed class TrainCommandTests
{
    [Fact]
    public void Arguments_and_exit_code_pass_through_to_the_training_program_and_the_cli_carries_no_libtorch()
    {
        var r = BrokerProcess.Run("train", "stamps", "--no-such-option", "1");
        Assert.Equal(2, r.ExitCode);
        // The training program's own message (the CLI's parser would not know the verb's options).
        Assert.Contains("unknown option --no-such-option (known: --seed,", r.StandardError, StringComparison.Ordinal);
        var bin = Directory.GetFiles(AppContext.BaseDirectory);
        Assert.Contains(bin, f => Path.GetFileName(f) == "broker.dll");
        Assert.DoesNotContain(bin, f => Path.GetFileName(f).Contains("torch", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void A_short_training_run_writes_the_model_directory()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"broker-cli-train-{Environment.ProcessId}");
        try
        {
            var r = BrokerProcess.Run("train", "stamps", "--seed", "3", "--out", dir, "--train-alerts", "800", "--validation-alerts", "300",
                "--test-alerts", "300", "--epochs", "1", "--surveys", "ztf", "--shared-data", Path.Combine(dir, "none"));
            Assert.True(r.ExitCode == 0, r.StandardError + r.StandardOutput);
            Assert.Contains("| true \\ predicted | AGN | SN | VS | asteroid | bogus | recall |", r.StandardOutput, StringComparison.Ordinal);
            Assert.True(new FileInfo(Path.Combine(dir, "ztf.onnx")).Length > 10_000);
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "manifest.json")));
            Assert.Equal(3, manifest.RootElement.GetProperty("training").GetProperty("seed").GetInt64());
            Assert.Equal("ztf", manifest.RootElement.GetProperty("models")[0].GetProperty("survey").GetString());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
