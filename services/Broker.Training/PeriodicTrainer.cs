using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Broker.Training;

/// <summary>
/// Trains a <see cref="PeriodicNetwork"/> with the stamp trainer's conventions (<see cref="StampTrainer"/>): one
/// thread, torch.manual_seed and a SplitMix64 stream from the seed (so equal inputs give equal weights), Adam on
/// cross-entropy weighted by the inverse class frequency of the training set (every class counts alike, as ALeRCE's
/// balanced forests intend), model selection on a separate validation set (the epoch of the best balanced accuracy,
/// with early stopping). No augmentation: the images are drawn from fresh simulated objects, and turning or
/// mirroring a phase-folded curve would change its class's shape.
/// </summary>
public static class PeriodicTrainer
{
    /// <summary>Trains on <paramref name="train"/>, selects on <paramref name="validation"/>; the options' filters and widths size the network.</summary>
    public static (PeriodicNetwork Network, IReadOnlyList<EpochReport> Epochs, int BestEpoch) Train(StampDataset train, StampDataset validation, StampTrainingOptions options, Action<string>? log = null)
    {
        torch.set_num_threads(1);
        torch.manual_seed((long)(options.Seed & long.MaxValue));
        var (mean, scale) = StampTrainer.FeatureStandardisation(train);
        var architecture = new PeriodicArchitecture(train.Side, train.Channels, train.FeatureCount, train.ClassCount, options.Conv1, options.Conv2, options.Dense);
        var network = new PeriodicNetwork(architecture, mean, scale);
        var rng = new SplitMix64(options.Seed ^ 0x504552494F44UL);

        var counts = train.ClassCounts();
        var weights = new float[train.ClassCount];
        int present = counts.Count(c => c > 0);
        for (int c = 0; c < weights.Length; c++) weights[c] = counts[c] == 0 ? 0f : (float)train.Count / (present * counts[c]);
        log?.Invoke("class weights: " + string.Join(", ", weights.Select((w, i) => $"{i}: {w:F2}")));
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
        var validationImages = validation.Images.ToArray();
        var validationFeatures = validation.Features.ToArray();

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
                    Array.Copy(images, i * il, batchImages, k * il, il);
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
            var predicted = Confusion.ArgMax(Probabilities(network, validationImages, validationFeatures, validation.Count), validation.Count, architecture.Classes);
            var cm = Confusion.Of(Enumerable.Range(0, architecture.Classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), validation.Labels, predicted);
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

    /// <summary>Softmax probabilities [n, classes] through TorchSharp, in evaluation mode.</summary>
    public static float[] Probabilities(PeriodicNetwork network, float[] images, float[] features, int n, int batch = 512)
    {
        var a = network.Architecture;
        int il = a.Channels * a.Side * a.Side, fl = a.Features;
        var result = new float[n * a.Classes];
        network.eval();
        using var noGrad = no_grad();
        for (int start = 0; start < n; start += batch)
        {
            int m = Math.Min(batch, n - start);
            using var scope = NewDisposeScope();
            var x = tensor(images.AsSpan(start * il, m * il).ToArray(), [m, a.Channels, a.Side, a.Side]);
            var f = tensor(features.AsSpan(start * fl, m * fl).ToArray(), [m, fl]);
            var p = nn.functional.softmax(network.forward(x, f), 1);
            p.data<float>().ToArray().CopyTo(result, start * a.Classes);
        }
        return result;
    }
}
