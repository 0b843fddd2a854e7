using Broker.Onnx;

namespace Broker.Training;

/// <summary>
/// Runs an exported stamp model through Broker.Onnx's <see cref="OnnxModel"/> (ONNX Runtime, the path the stamp
/// step serves it by) on its two inputs: the evaluation scores what ships, not the TorchSharp module. One thread.
/// </summary>
public sealed class StampOnnxRunner : IDisposable
{
    private readonly OnnxModel _model;

    /// <summary>Loads <paramref name="path"/>.</summary>
    public StampOnnxRunner(string path) => _model = new OnnxModel(path);

    /// <summary>Loads a model from its bytes (through a temporary file: OnnxModel takes paths).</summary>
    public StampOnnxRunner(byte[] model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"broker-stamp-{Environment.ProcessId}-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model);
        try
        {
            _model = new OnnxModel(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The input names in the model's order.</summary>
    public IReadOnlyList<string> InputNames => _model.Inputs.Select(i => i.Name).ToList();

    /// <summary>The output names in the model's order.</summary>
    public IReadOnlyList<string> OutputNames => _model.Outputs.Select(o => o.Name).ToList();

    /// <summary>Probabilities [n, classes] (5, the stamp classes, by default) for <paramref name="n"/> examples, in batches of <paramref name="batch"/>.</summary>
    public float[] Run(float[] images, float[] features, int n, int side, int channels, int featureCount, int batch = 1024, int classes = StampClasses.Count)
    {
        var result = new float[n * classes];
        int imageLength = channels * side * side;
        for (int start = 0; start < n; start += batch)
        {
            int m = Math.Min(batch, n - start);
            _model.Run(
                [
                    new OnnxInput(StampOnnxExport.ImagesInput, images.AsMemory(start * imageLength, m * imageLength), [m, channels, side, side]),
                    new OnnxInput(StampOnnxExport.FeaturesInput, features.AsMemory(start * featureCount, m * featureCount), [m, featureCount]),
                ],
                result.AsMemory(start * classes, m * classes));
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => _model.Dispose();
}
