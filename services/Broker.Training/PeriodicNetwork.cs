using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Broker.Training;

/// <summary>The sizes of a <see cref="PeriodicNetwork"/>.</summary>
/// <param name="Side">Image side (32).</param>
/// <param name="Channels">Image channels (g, r).</param>
/// <param name="Features">Scalar inputs after the images.</param>
/// <param name="Classes">Outputs (6).</param>
/// <param name="Conv1">Filters of the first 3x3 convolution.</param>
/// <param name="Conv2">Filters of the second 3x3 convolution.</param>
/// <param name="Dense">Width of the dense layers.</param>
public sealed record PeriodicArchitecture(int Side, int Channels, int Features, int Classes, int Conv1 = 8, int Conv2 = 16, int Dense = 64)
{
    /// <summary>Side after the first 2x2 max-pool.</summary>
    public int Side1 => Side / 2;

    /// <summary>Side after the second 2x2 max-pool.</summary>
    public int Side2 => Side1 / 2;

    /// <summary>Inputs of the first dense layer: the flattened second pooling.</summary>
    public int Flat => Conv2 * Side2 * Side2;

    /// <summary>Floating-point operations per alert, 2 per multiply-accumulate of every convolution and dense layer (bias, ReLU, pooling and softmax left out).</summary>
    public long FlopsPerAlert
    {
        get
        {
            long conv1 = (long)Side * Side * Conv1 * Channels * 9;
            long conv2 = (long)Side1 * Side1 * Conv2 * Conv1 * 9;
            long dense = (long)Flat * Dense + (long)(Dense + Features) * Dense + (long)Dense * Classes;
            return 2 * (conv1 + conv2 + dense);
        }
    }
}

/// <summary>
/// Broker's periodic-variable CNN, after the multiple-input network of Szklenár et al. 2022 (arXiv:2209.02310): the
/// phase-folded g and r images [2, 32, 32] (<c>PhaseFoldedImage</c>) through two 3x3 convolution + ReLU + 2x2
/// max-pool blocks and a dense layer; the scalars (log period, colour, amplitudes, point counts), standardised with
/// the training set's mean and deviation and clipped to ±<see cref="FeatureClip"/>, joined to that; one dense layer
/// and the class outputs. Small on purpose (about 1 MFLOP per alert) so that the light-curve step can run it on
/// every periodic alert. <see cref="forward"/> gives logits; the ONNX graph adds the softmax.
/// </summary>
public sealed class PeriodicNetwork : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Standardised scalars are clipped to this many deviations.</summary>
    public const float FeatureClip = 6f;

    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear dense1;
    private readonly Linear dense2;
    private readonly Linear output;
    private readonly MaxPool2d pool;
    private readonly Tensor featureMean;
    private readonly Tensor featureScale;

    /// <summary>A network with fresh weights (from torch's generator: call <c>torch.manual_seed</c> first).</summary>
    public PeriodicNetwork(PeriodicArchitecture architecture, float[] featureMean, float[] featureScale) : base("PeriodicNetwork")
    {
        Architecture = architecture;
        if (featureMean.Length != architecture.Features || featureScale.Length != architecture.Features)
            throw new ArgumentException($"{architecture.Features} features, got {featureMean.Length} means and {featureScale.Length} scales");
        FeatureMean = featureMean;
        FeatureScale = featureScale;
        conv1 = nn.Conv2d(architecture.Channels, architecture.Conv1, 3, padding: 1);
        conv2 = nn.Conv2d(architecture.Conv1, architecture.Conv2, 3, padding: 1);
        pool = nn.MaxPool2d(2);
        dense1 = nn.Linear(architecture.Flat, architecture.Dense);
        dense2 = nn.Linear(architecture.Dense + architecture.Features, architecture.Dense);
        output = nn.Linear(architecture.Dense, architecture.Classes);
        this.featureMean = tensor(featureMean).reshape(1, architecture.Features);
        this.featureScale = tensor(featureScale).reshape(1, architecture.Features);
        RegisterComponents();
    }

    /// <summary>Sizes.</summary>
    public PeriodicArchitecture Architecture { get; }

    /// <summary>The feature means the network subtracts.</summary>
    public float[] FeatureMean { get; }

    /// <summary>The feature scales the network multiplies by.</summary>
    public float[] FeatureScale { get; }

    /// <summary>Logits [N, classes] of <paramref name="images"/> [N, 2, S, S] and <paramref name="features"/> [N, F].</summary>
    public override Tensor forward(Tensor images, Tensor features)
    {
        using var scope = NewDisposeScope();
        var x = pool.forward(nn.functional.relu(conv1.forward(images)));
        x = pool.forward(nn.functional.relu(conv2.forward(x)));
        x = nn.functional.relu(dense1.forward(x.flatten(1)));
        var f = ((features - featureMean) * featureScale).clamp(-FeatureClip, FeatureClip);
        x = nn.functional.relu(dense2.forward(cat([x, f], 1)));
        return output.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>Every weight by the name the ONNX export gives it, as float arrays with their shapes.</summary>
    public IReadOnlyList<(string Name, long[] Shape, float[] Values)> Weights()
    {
        var list = new List<(string, long[], float[])>();
        foreach (var (name, layer) in new (string, nn.Module)[] { ("conv1", conv1), ("conv2", conv2), ("dense1", dense1), ("dense2", dense2), ("output", output) })
        {
            var (w, b) = layer switch
            {
                Conv2d c => (c.weight!, c.bias!),
                Linear l => (l.weight!, l.bias!),
                _ => throw new InvalidOperationException(),
            };
            list.Add((name + ".weight", w.shape, w.data<float>().ToArray()));
            list.Add((name + ".bias", b.shape, b.data<float>().ToArray()));
        }
        return list;
    }

    /// <summary>Values of every trainable parameter, to keep the best epoch's.</summary>
    public float[][] Snapshot() => parameters().Select(p => p.data<float>().ToArray()).ToArray();

    /// <summary>Puts back a <see cref="Snapshot"/>.</summary>
    public void Restore(float[][] snapshot)
    {
        using var noGrad = no_grad();
        int i = 0;
        foreach (var p in parameters())
        {
            using var values = tensor(snapshot[i++], p.shape);
            p.copy_(values);
        }
    }
}
