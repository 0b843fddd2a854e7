namespace Broker.Training;

/// <summary>
/// Preprocessed stamp-classifier examples: images [N, C, S, S] and features [N, F] as <c>StampInput.TryWrite</c>
/// writes them (the service's own preprocessing), with their class indices (<see cref="StampClasses"/>).
/// </summary>
public sealed class StampDataset
{
    /// <summary>An empty set for images of <paramref name="side"/> and <paramref name="channels"/> and <paramref name="features"/> features, labels of <paramref name="classes"/> classes (the five stamp classes by default).</summary>
    public StampDataset(int side, int channels, int features, int classes = StampClasses.Count)
    {
        Side = side;
        Channels = channels;
        FeatureCount = features;
        ClassCount = classes;
    }

    /// <summary>Number of classes the labels index.</summary>
    public int ClassCount { get; }

    /// <summary>Stamp side.</summary>
    public int Side { get; }

    /// <summary>Image channels.</summary>
    public int Channels { get; }

    /// <summary>Floats per example's images.</summary>
    public int ImageLength => Channels * Side * Side;

    /// <summary>Features per example.</summary>
    public int FeatureCount { get; }

    /// <summary>Examples.</summary>
    public int Count => Labels.Count;

    /// <summary>All images, example after example.</summary>
    public List<float> Images { get; } = [];

    /// <summary>All features, example after example.</summary>
    public List<float> Features { get; } = [];

    /// <summary>Class index of each example.</summary>
    public List<int> Labels { get; } = [];

    /// <summary>Alerts left out, by reason (not the first alert of its object, or the not-classified reason).</summary>
    public SortedDictionary<string, int> Skipped { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds one example.</summary>
    public void Add(ReadOnlySpan<float> images, ReadOnlySpan<float> features, int label)
    {
        if (images.Length != ImageLength || features.Length != FeatureCount) throw new ArgumentException("wrong example size");
        foreach (var v in images) Images.Add(v);
        foreach (var v in features) Features.Add(v);
        Labels.Add(label);
    }

    /// <summary>Counts one left-out alert.</summary>
    public void Skip(string reason) => Skipped[reason] = Skipped.GetValueOrDefault(reason) + 1;

    /// <summary>Examples per class, in class order (<see cref="StampClasses.Names"/> for stamps).</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassCount];
        foreach (var l in Labels) counts[l]++;
        return counts;
    }
}
