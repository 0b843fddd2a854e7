using System.IO.Compression;
using Broker.LightCurveClassifier;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Broker.LightCurveTraining;

/// <summary>The two forest learners compared (issue 14, item 2).</summary>
public enum ForestKind
{
    /// <summary>ML.NET's LightGBM multiclass booster (softmax).</summary>
    LightGbm,

    /// <summary>ML.NET's random forest (FastForest), multiclass by one-versus-all with normalised probabilities.</summary>
    FastForest,
}

/// <summary>A labelled feature table: rows of <see cref="FeatureCount"/> float features, a class index and a weight per row.</summary>
public sealed class FeatureTable(float[] rows, int featureCount, int[] labels)
{
    /// <summary>Row-major features.</summary>
    public float[] Rows { get; } = rows;

    /// <summary>Features per row.</summary>
    public int FeatureCount { get; } = featureCount;

    /// <summary>Class index per row.</summary>
    public int[] Labels { get; } = labels;

    /// <summary>Rows.</summary>
    public int Count => Labels.Length;

    /// <summary>The rows whose label passes <paramref name="keep"/>, relabelled by <paramref name="relabel"/>.</summary>
    public FeatureTable Subset(Func<int, bool> keep, Func<int, int> relabel)
    {
        var idx = Enumerable.Range(0, Count).Where(i => keep(Labels[i])).ToArray();
        var rows = new float[idx.Length * FeatureCount];
        for (int j = 0; j < idx.Length; j++) Rows.AsSpan(idx[j] * FeatureCount, FeatureCount).CopyTo(rows.AsSpan(j * FeatureCount));
        return new FeatureTable(rows, FeatureCount, [.. idx.Select(i => relabel(Labels[i]))]);
    }
}

/// <summary>
/// Trains one multiclass forest with ML.NET on a <see cref="FeatureTable"/>, with class-balancing weights (each class
/// weighs the same in total, as ALeRCE's balanced random forests balance by under-sampling: Sánchez-Sáez et al. 2021,
/// §4.2; Chen, Liaw and Breiman 2004), single-threaded and seeded so that a seed gives the same model.
/// </summary>
public static class ForestTrainer
{
    /// <summary>Boosting rounds (LightGbm) and trees per class (FastForest).</summary>
    public const int Rounds = 100;

    /// <summary>The settings as written in the manifest.</summary>
    public static string Describe(ForestKind kind) => kind == ForestKind.LightGbm
        ? $"ML.NET 5.0.1 LightGbm multiclass (softmax): {Rounds} rounds, 31 leaves, learning rate 0.1, at least 10 rows per leaf, 1 thread, class-balancing weights"
        : $"ML.NET 5.0.1 FastForest one-versus-all (normalised Platt probabilities): {Rounds} trees per class, 31 leaves, at least 5 rows per leaf, 0.7 of features per split, 1 thread, class-balancing weights";

    private const string LabelKey = "Label";

    private sealed class TrainRow
    {
        public float[] Features { get; set; } = [];
        public float ClassIndex { get; set; }
        public float Weight { get; set; }
    }

    /// <summary>Trains a forest of <paramref name="classes"/> classes.</summary>
    public static ITransformer Train(FeatureTable table, int classes, ForestKind kind, int seed)
    {
        var ml = new MLContext(seed);
        var counts = new int[classes];
        foreach (int l in table.Labels) counts[l]++;
        var schema = SchemaDefinition.Create(typeof(TrainRow));
        schema[nameof(TrainRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, table.FeatureCount);
        var rows = new TrainRow[table.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            int l = table.Labels[i];
            rows[i] = new TrainRow
            {
                Features = table.Rows.AsSpan(i * table.FeatureCount, table.FeatureCount).ToArray(),
                ClassIndex = l,
                Weight = (float)((double)table.Count / (classes * counts[l])),
            };
        }
        // The class index becomes a key in value order, so score slot k is class k; the mapping is fitted apart and
        // (as Label, the column one-versus-all and its binary learner both expect; the raw index is ClassIndex)
        // not kept, so that the saved model's only input is the feature vector.
        var raw = ml.Data.LoadFromEnumerable(rows, schema);
        var data = ml.Transforms.Conversion.MapValueToKey(LabelKey, nameof(TrainRow.ClassIndex), keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(raw).Transform(raw);
        IEstimator<ITransformer> trainer = kind == ForestKind.LightGbm
            ? ml.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
            {
                LabelColumnName = LabelKey, FeatureColumnName = nameof(TrainRow.Features), ExampleWeightColumnName = nameof(TrainRow.Weight),
                NumberOfIterations = Rounds, NumberOfLeaves = 31, LearningRate = 0.1, MinimumExampleCountPerLeaf = 10,
                NumberOfThreads = 1, Seed = seed, Silent = true, UseSoftmax = true,
            })
            : ml.MulticlassClassification.Trainers.OneVersusAll(
                ml.BinaryClassification.Trainers.FastForest(new FastForestBinaryTrainer.Options
                {
                    FeatureColumnName = nameof(TrainRow.Features), ExampleWeightColumnName = nameof(TrainRow.Weight),
                    NumberOfTrees = Rounds, NumberOfLeaves = 31, MinimumExampleCountPerLeaf = 5, FeatureFraction = 0.7,
                    NumberOfThreads = 1,
                }),
                labelColumnName: LabelKey, useProbabilities: true);
        return trainer.Fit(data);
    }

    /// <summary>An empty view of the serving input (one float vector <c>Features</c>), the schema the models are saved and exported with.</summary>
    public static IDataView InputView(MLContext ml, int featureCount, int rows = 1) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(_ => new FeatureRow { Features = new float[featureCount] }), MlNetForest.Schema(featureCount));

    /// <summary>
    /// The model as an ML.NET .zip with reproducible bytes: ML.NET stamps each zip entry with the time it was written,
    /// so the entries are rewritten in the same order with a fixed time (1980-01-01, the zip epoch).
    /// </summary>
    public static byte[] SaveMlNet(ITransformer model, int featureCount)
    {
        var ml = new MLContext(0);
        using var raw = new MemoryStream();
        ml.Model.Save(model, InputView(ml, featureCount).Schema, raw);
        raw.Position = 0;
        using var input = new ZipArchive(raw, ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                var copy = zip.CreateEntry(entry.FullName, CompressionLevel.Optimal);
                copy.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        }
        return output.ToArray();
    }

    /// <summary>The model's ONNX export (Microsoft.ML.OnnxConverter): input <c>Features</c> [N, F], output <c>Score.output</c> among others.</summary>
    public static byte[] SaveOnnx(ITransformer model, int featureCount)
    {
        var ml = new MLContext(0);
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, InputView(ml, featureCount), stream);
        return stream.ToArray();
    }
}
