using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Broker.Training;

/// <summary>How a <see cref="StampTrainer"/> trains.</summary>
public sealed record StampTrainingOptions
{
    /// <summary>Seed of the weight initialisation (torch.manual_seed), the shuffling and the augmentation.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Most passes over the training set.</summary>
    public int MaxEpochs { get; init; } = 15;

    /// <summary>Stop after this many epochs without a better validation score.</summary>
    public int Patience { get; init; } = 3;

    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Adam's L2 weight decay.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Filters and widths.</summary>
    public int Conv1 { get; init; } = 8;

    /// <inheritdoc cref="Conv1"/>
    public int Conv2 { get; init; } = 16;

    /// <inheritdoc cref="Conv1"/>
    public int Dense { get; init; } = 64;
}

/// <summary>One epoch's figures.</summary>
public sealed record EpochReport(int Epoch, double TrainLoss, double ValidationBalancedAccuracy, double ValidationAccuracy, double Seconds);

/// <summary>
/// Trains a <see cref="StampNetwork"/>: Adam on class-weighted cross-entropy (each class weighted by the inverse of
/// its share of the training set, so that every class counts as much as the others in the loss, as the balanced
/// training of Carrasco-Davis et al. 2021 intends), random 90-degree turns and mirror images, and model selection
/// on a separate validation set (the epoch of the best balanced accuracy, with early stopping). One thread
/// (torch.set_num_threads(1)), and every random draw from the seed, so equal inputs give equal weights.
/// </summary>
public static class StampTrainer
{
    /// <summary>Trains on <paramref name="train"/>, selects on <paramref name="validation"/>.</summary>
    public static (StampNetwork Network, IReadOnlyList<EpochReport> Epochs, int BestEpoch) Train(StampDataset train, StampDataset validation, StampTrainingOptions options, Action<string>? log = null)
    {
        torch.set_num_threads(1);
        torch.manual_seed((long)(options.Seed & long.MaxValue));
        var (mean, scale) = FeatureStandardisation(train);
        var architecture = new StampArchitecture(train.Side, train.Channels, train.FeatureCount, options.Conv1, options.Conv2, options.Dense);
        var network = new StampNetwork(architecture, mean, scale);
        var rng = new SplitMix64(options.Seed ^ 0x5354414D50UL);

        var counts = train.ClassCounts();
        var weights = new float[StampClasses.Count];
        int present = counts.Count(c => c > 0);
        for (int c = 0; c < weights.Length; c++) weights[c] = counts[c] == 0 ? 0f : (float)train.Count / (present * counts[c]);
        log?.Invoke("class weights: " + string.Join(", ", StampClasses.Names.Select((n, i) => $"{n} {weights[i]:F2}")));
        using var classWeights = tensor(weights);

        var optimizer = torch.optim.Adam(network.parameters(), options.LearningRate, weight_decay: options.WeightDecay);
        var images = train.Images.ToArray();
        var features = train.Features.ToArray();
        var labels = train.Labels.ToArray();
        var order = Enumerable.Range(0, train.Count).ToArray();
        int b = options.BatchSize, il = train.ImageLength, fl = train.FeatureCount;
        var batchImages = new float[b * il];
        var batchFeatures = new float[b * fl];
        var batchLabels = new long[b];

        var reports = new List<EpochReport>();
        float[][]? best = null;
        double bestScore = double.NegativeInfinity;
        int bestEpoch = 0;
        for (int epoch = 1; epoch <= options.MaxEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            network.train();
            rng.Shuffle(order);
            double lossSum = 0;
            int steps = 0;
            for (int start = 0; start + b <= order.Length; start += b)
            {
                for (int k = 0; k < b; k++)
                {
                    int i = order[start + k];
                    StampAugmentation.Apply(images.AsSpan(i * il, il), batchImages.AsSpan(k * il, il), train.Channels, train.Side, rng.Below(4), rng.Below(2) == 1);
                    Array.Copy(features, i * fl, batchFeatures, k * fl, fl);
                    batchLabels[k] = labels[i];
                }
                using var scope = NewDisposeScope();
                var x = tensor(batchImages, [b, train.Channels, train.Side, train.Side]);
                var f = tensor(batchFeatures, [b, fl]);
                var y = tensor(batchLabels);
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(network.forward(x, f), y, classWeights);
                loss.backward();
                optimizer.step();
                lossSum += loss.item<float>();
                steps++;
            }
            var predicted = Predict(network, validation);
            var cm = Confusion.Of(validation.Labels, predicted);
            double score = cm.BalancedAccuracy;
            var report = new EpochReport(epoch, lossSum / Math.Max(1, steps), score, cm.Accuracy, clock.Elapsed.TotalSeconds);
            reports.Add(report);
            log?.Invoke($"epoch {epoch}: train loss {report.TrainLoss:F4}, validation balanced accuracy {score:F4}, accuracy {cm.Accuracy:F4} ({report.Seconds:F1} s)");
            if (score > bestScore)
            {
                bestScore = score;
                bestEpoch = epoch;
                best = network.Snapshot();
            }
            else if (epoch - bestEpoch >= options.Patience) break;
        }
        if (best is not null) network.Restore(best);
        network.eval();
        return (network, reports, bestEpoch);
    }

    /// <summary>Mean and 1/deviation of each feature over <paramref name="set"/> (1 where a feature is constant).</summary>
    public static (float[] Mean, float[] Scale) FeatureStandardisation(StampDataset set)
    {
        int f = set.FeatureCount;
        var sum = new double[f];
        var sq = new double[f];
        for (int i = 0; i < set.Count; i++)
        {
            for (int j = 0; j < f; j++)
            {
                double v = set.Features[i * f + j];
                sum[j] += v;
                sq[j] += v * v;
            }
        }
        var mean = new float[f];
        var scale = new float[f];
        for (int j = 0; j < f; j++)
        {
            double m = set.Count == 0 ? 0 : sum[j] / set.Count;
            double variance = set.Count == 0 ? 0 : Math.Max(0, sq[j] / set.Count - m * m);
            mean[j] = (float)m;
            scale[j] = variance > 1e-12 ? (float)(1 / Math.Sqrt(variance)) : 1f;
        }
        return (mean, scale);
    }

    /// <summary>Argmax class of each example through TorchSharp.</summary>
    public static int[] Predict(StampNetwork network, StampDataset set)
    {
        var probabilities = Probabilities(network, set.Images.ToArray(), set.Features.ToArray(), set.Count);
        return Confusion.ArgMax(probabilities, set.Count);
    }

    /// <summary>Softmax probabilities [n, 5] through TorchSharp, in evaluation mode.</summary>
    public static float[] Probabilities(StampNetwork network, float[] images, float[] features, int n, int batch = 512)
    {
        var a = network.Architecture;
        int il = a.Channels * a.Side * a.Side, fl = a.Features;
        var result = new float[n * StampClasses.Count];
        network.eval();
        using var noGrad = no_grad();
        for (int start = 0; start < n; start += batch)
        {
            int m = Math.Min(batch, n - start);
            using var scope = NewDisposeScope();
            var x = tensor(images.AsSpan(start * il, m * il).ToArray(), [m, a.Channels, a.Side, a.Side]);
            var f = tensor(features.AsSpan(start * fl, m * fl).ToArray(), [m, fl]);
            var p = nn.functional.softmax(network.forward(x, f), 1);
            p.data<float>().ToArray().CopyTo(result, start * StampClasses.Count);
        }
        return result;
    }
}
