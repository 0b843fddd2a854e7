using Broker.TestSupport;

namespace Broker.LightCurveClassifier.Tests;

/// <summary>The committed model directory and copies of it to spoil.</summary>
internal static class CommittedModel
{
    /// <summary>models/lc-classifier/1.0 in the repository.</summary>
    public static string Directory => SharedData.RepositoryPath("models/lc-classifier/1.0");

    /// <summary>A fresh copy of the committed model directory in a temporary folder.</summary>
    public static string Copy()
    {
        string dir = Path.Combine(Path.GetTempPath(), "broker-lc-model-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        foreach (var f in System.IO.Directory.GetFiles(Directory)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    /// <summary>A started step on <paramref name="directory"/> (the committed model when null).</summary>
    public static LightCurveClassifierStep Start(string? directory = null, string runtime = "auto")
    {
        var step = new LightCurveClassifierStep(new LightCurveClassifierOptions { ModelDirectory = directory ?? Directory, Runtime = runtime });
        step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return step;
    }
}
