using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Broker.Training;

/// <summary>The sizes of a <see cref="StampNetwork"/>.</summary>
/// <param name="Side">Stamp side (21).</param>
/// <param name="Channels">Image channels (science, template, difference).</param>
/// <param name="Features">Metadata features after the images.</param>
/// <param name="Conv1">Filters of the first 3x3 convolution.</param>
/// <param name="Conv2">Filters of the second 3x3 convolution.</param>
/// <param name="Dense">Width of the dense layers.</param>
public sealed record StampArchitecture(int Side, int Channels, int Features, int Conv1 = 8, int Conv2 = 16, int Dense = 64)
{
    /// <summary>Side after the first 2x2 max-pool (floor, as ONNX MaxPool and torch do).</summary>
    public int Side1 => Side / 2;

    /// <summary>Side after the second 2x2 max-pool.</summary>
    public int Side2 => Side1 / 2;

    /// <summary>Inputs of the first dense layer: the flattened second pooling.</summary>
    public int Flat => Conv2 * Side2 * Side2;

    /// <summary>The rotations each stamp is seen at (0, 90, 180, 270 degrees).</summary>
    public const int Rotations = 4;

    /// <summary>
    /// Floating-point operations per alert, 2 per multiply-accumulate of every convolution and dense layer (bias adds,
    /// ReLU, pooling, the rotation average and the softmax are left out: together under 1% here). The convolutions
    /// and the first dense layer run once per rotation.
    /// </summary>
    public long FlopsPerAlert
    {
        get
        {
            long conv1 = (long)Side * Side * Conv1 * Channels * 9;
            long conv2 = (long)Side1 * Side1 * Conv2 * Conv1 * 9;
            long dense1 = (long)Flat * Dense;
            long head = (long)(Dense + Features) * Dense + (long)Dense * StampClasses.Count;
            return 2 * (Rotations * (conv1 + conv2 + dense1) + head);
        }
    }
}

/// <summary>
/// Broker's five-class stamp classifier: ALeRCE's rotation-invariant network (Carrasco-Davis et al. 2021, after
/// Dieleman et al. 2015's cyclic pooling) made small enough for the stamp step's budget. Each stamp [3, 21, 21] is
/// seen at 0, 90, 180 and 270 degrees through the same convolutions (3x3 conv, ReLU, 2x2 max-pool, twice) and the
/// same dense layer; the four results are averaged (cyclic average pooling), so the output does not change when
/// the stamp is rotated by 90 degrees. The metadata features, standardised with the training set's mean and
/// deviation and clipped to +-<see cref="FeatureClip"/>, are concatenated, then one dense layer and the 5 outputs.
/// <see cref="forward"/> gives logits (for the loss); the ONNX graph adds the softmax.
/// </summary>
public sealed class StampNetwork : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>Standardised features are clipped to this many deviations: real alerts outside the simulator's range stay bounded.</summary>
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
    /// <param name="architecture">Sizes.</param>
    /// <param name="featureMean">Per-feature mean to subtract.</param>
    /// <param name="featureScale">Per-feature factor after subtracting (1 / deviation).</param>
    public StampNetwork(StampArchitecture architecture, float[] featureMean, float[] featureScale) : base("StampNetwork")
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
        output = nn.Linear(architecture.Dense, StampClasses.Count);
        this.featureMean = tensor(featureMean).reshape(1, architecture.Features);
        this.featureScale = tensor(featureScale).reshape(1, architecture.Features);
        RegisterComponents();
    }

    /// <summary>Sizes.</summary>
    public StampArchitecture Architecture { get; }

    /// <summary>The feature means the network subtracts.</summary>
    public float[] FeatureMean { get; }

    /// <summary>The feature scales the network multiplies by.</summary>
    public float[] FeatureScale { get; }

    /// <summary>The four rotations of <paramref name="images"/> [N, C, H, W], stacked [4N, C, H, W] in the order 0, 90, 180, 270 degrees.</summary>
    /// <remarks>
    /// 90 degrees is transpose then reverse the columns; 180 reverses rows and columns; 270 is transpose then reverse
    /// the rows. The ONNX export writes the same three with Transpose and Slice (step -1): ONNX has no Flip.
    /// </remarks>
    public static Tensor Rotations(Tensor images)
    {
        using var t = images.transpose(2, 3);
        using var r90 = t.flip(3);
        using var r180 = images.flip(2, 3);
        using var r270 = t.flip(2);
        return cat([images, r90, r180, r270], 0);
    }

    /// <summary>Logits [N, 5] of <paramref name="images"/> [N, 3, 21, 21] and <paramref name="features"/> [N, F].</summary>
    public override Tensor forward(Tensor images, Tensor features)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0];
        var x = Rotations(images);
        x = pool.forward(nn.functional.relu(conv1.forward(x)));
        x = pool.forward(nn.functional.relu(conv2.forward(x)));
        x = nn.functional.relu(dense1.forward(x.flatten(1)));
        // Cyclic average pooling: rows k*N + i (k = rotation) averaged over k.
        x = x.reshape(StampArchitecture.Rotations, n, Architecture.Dense).mean([0]);
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
