using Microsoft.ML.OnnxRuntime;

namespace Broker.Training;

/// <summary>
/// Runs an exported stamp model through ONNX Runtime (the runtime the service uses) on its two inputs; for the
/// evaluation, which scores what ships, not the TorchSharp module. One thread.
/// </summary>
public sealed class StampOnnxRunner : IDisposable
{
    private readonly InferenceSession _session;

    /// <summary>Loads <paramref name="path"/>.</summary>
    public StampOnnxRunner(string path)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(path, so);
    }

    /// <summary>Loads a model from its bytes.</summary>
    public StampOnnxRunner(byte[] model)
    {
        using var so = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(model, so);
    }

    /// <summary>The input names in the model's order.</summary>
    public IReadOnlyList<string> InputNames => _session.InputNames;

    /// <summary>The output names in the model's order.</summary>
    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    /// <summary>Probabilities [n, 5] for <paramref name="n"/> alerts, in batches of <paramref name="batch"/>.</summary>
    public float[] Run(float[] images, float[] features, int n, int side, int channels, int featureCount, int batch = 1024)
    {
        var result = new float[n * StampClasses.Count];
        int imageLength = channels * side * side;
        for (int start = 0; start < n; start += batch)
        {
            int m = Math.Min(batch, n - start);
            using var img = OrtValue.CreateTensorValueFromMemory(images.AsMemory(start * imageLength, m * imageLength).ToArray(), [m, channels, side, side]);
            using var feat = OrtValue.CreateTensorValueFromMemory(features.AsMemory(start * featureCount, m * featureCount).ToArray(), [m, featureCount]);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, [StampOnnxExport.ImagesInput, StampOnnxExport.FeaturesInput], [img, feat], [StampOnnxExport.ProbabilitiesOutput]);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(result.AsSpan(start * StampClasses.Count));
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();
}
