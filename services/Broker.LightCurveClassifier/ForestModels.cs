using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;

namespace Broker.LightCurveClassifier;

/// <summary>How a forest is evaluated at serving time.</summary>
public enum ForestRuntime
{
    /// <summary>The ML.NET model (.zip) through a <see cref="PredictionEngine{TSrc, TDst}"/> per row.</summary>
    MlNet,

    /// <summary>The model's ONNX export (Microsoft.ML.OnnxConverter) on ONNX Runtime, one run per batch.</summary>
    Onnx,
}

/// <summary>One multiclass forest: rows of features in, one probability per class out (in the model's class order).</summary>
/// <remarks>Not thread-safe (a <see cref="PredictionEngine{TSrc, TDst}"/> is not): the step calls it under its lock.</remarks>
public interface IForest : IDisposable
{
    /// <summary>Features per row.</summary>
    int FeatureCount { get; }

    /// <summary>Classes per row of output.</summary>
    int ClassCount { get; }

    /// <summary>Evaluates <paramref name="count"/> rows (row-major in <paramref name="rows"/>) into <paramref name="output"/> (row-major, <see cref="ClassCount"/> per row).</summary>
    void Predict(ReadOnlyMemory<float> rows, int count, Memory<float> output);
}

/// <summary>The input row of an ML.NET forest: the feature vector, of the manifest's length.</summary>
public sealed class FeatureRow
{
    /// <summary>The features.</summary>
    public float[] Features { get; set; } = [];
}

/// <summary>The output row of an ML.NET multiclass forest: the per-class scores (probabilities: softmax or normalised one-versus-all).</summary>
public sealed class ScoreRow
{
    /// <summary>Probability per class, in key order (the class index).</summary>
    public float[] Score { get; set; } = [];
}

/// <summary>An ML.NET forest (.zip from <see cref="ModelOperationsCatalog.Save(ITransformer, DataViewSchema, string)"/>) through a prediction engine.</summary>
public sealed class MlNetForest : IForest
{
    private readonly PredictionEngine<FeatureRow, ScoreRow> _engine;
    private readonly FeatureRow _row;
    private ScoreRow _score = new();

    /// <summary>Loads a model saved from a transformer whose input is one float vector column <c>Features</c>.</summary>
    /// <exception cref="InvalidOperationException">The file is not such a model.</exception>
    public MlNetForest(string path, int featureCount, int classCount)
    {
        var ml = new MLContext(seed: 0);
        ITransformer model;
        using (var stream = File.OpenRead(path)) model = ml.Model.Load(stream, out _);
        _engine = ml.Model.CreatePredictionEngine<FeatureRow, ScoreRow>(model, inputSchemaDefinition: Schema(featureCount));
        _row = new FeatureRow { Features = new float[featureCount] };
        FeatureCount = featureCount;
        ClassCount = classCount;
        // One row through, to check the output's width and pay the first-call cost at start, not on the first alert.
        _engine.Predict(_row, ref _score);
        if (_score.Score.Length != classCount)
            throw new InvalidOperationException($"the model gives {_score.Score.Length} scores, the manifest lists {classCount} classes");
    }

    /// <summary>The schema of a <see cref="FeatureRow"/> of <paramref name="featureCount"/> features.</summary>
    public static SchemaDefinition Schema(int featureCount)
    {
        var schema = SchemaDefinition.Create(typeof(FeatureRow));
        schema[nameof(FeatureRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, featureCount);
        return schema;
    }

    /// <inheritdoc />
    public int FeatureCount { get; }

    /// <inheritdoc />
    public int ClassCount { get; }

    /// <inheritdoc />
    public void Predict(ReadOnlyMemory<float> rows, int count, Memory<float> output)
    {
        var input = rows.Span;
        var o = output.Span;
        for (int i = 0; i < count; i++)
        {
            input.Slice(i * FeatureCount, FeatureCount).CopyTo(_row.Features);
            _engine.Predict(_row, ref _score);
            _score.Score.AsSpan(0, ClassCount).CopyTo(o.Slice(i * ClassCount, ClassCount));
        }
    }

    /// <inheritdoc />
    public void Dispose() => _engine.Dispose();
}

/// <summary>A forest's ONNX export on ONNX Runtime (one thread, CPU): input <c>Features</c> [N, F], output <c>Score.output</c> [N, K].</summary>
public sealed class OnnxForest : IForest
{
    /// <summary>The exported score output's name.</summary>
    public const string ScoreOutput = "Score.output";

    private readonly InferenceSession _session;
    private readonly string _input;

    /// <summary>Opens the model and checks its input and output.</summary>
    /// <exception cref="InvalidOperationException">The file has no float input of width <paramref name="featureCount"/> or no <see cref="ScoreOutput"/> of width <paramref name="classCount"/>.</exception>
    public OnnxForest(string path, int featureCount, int classCount)
    {
        var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        try
        {
            _session = new InferenceSession(path, options);
        }
        finally
        {
            options.Dispose();
        }
        var inputs = _session.InputMetadata;
        if (inputs.Count != 1) throw Fail($"has {inputs.Count} inputs, expected one feature vector");
        var (name, meta) = inputs.First();
        if (meta.Dimensions.Length != 2 || meta.Dimensions[1] != featureCount) throw Fail($"input '{name}' is [{string.Join(", ", meta.Dimensions)}], expected [-1, {featureCount}]");
        if (!_session.OutputMetadata.TryGetValue(ScoreOutput, out var score) || score.Dimensions[^1] != classCount)
            throw Fail($"has no output {ScoreOutput} of width {classCount}");
        _input = name;
        FeatureCount = featureCount;
        ClassCount = classCount;

        InvalidOperationException Fail(string what)
        {
            _session?.Dispose();
            return new InvalidOperationException($"ONNX model {what}");
        }
    }

    /// <inheritdoc />
    public int FeatureCount { get; }

    /// <inheritdoc />
    public int ClassCount { get; }

    /// <inheritdoc />
    public void Predict(ReadOnlyMemory<float> rows, int count, Memory<float> output)
    {
        if (count == 0) return;
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(rows[..(count * FeatureCount)]), [count, FeatureCount]);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, [_input], [input], [ScoreOutput]);
        var data = results[0].GetTensorDataAsSpan<float>();
        data[..(count * ClassCount)].CopyTo(output.Span);
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
