namespace Broker.Onnx;

/// <summary>One model input as a model manifest records it (the stamp classifier's, the periodic CNN's).</summary>
public sealed record OnnxManifestInput
{
    /// <summary>The ONNX input name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Its shape, -1 for the batch.</summary>
    public IReadOnlyList<long> Shape { get; init; } = [];

    /// <summary>How it is made, in words.</summary>
    public string? Preprocessing { get; init; }

    /// <summary>The feature names in column order (a features input only).</summary>
    public IReadOnlyList<string>? Features { get; init; }
}

/// <summary>The model output as a model manifest records it.</summary>
public sealed record OnnxManifestOutput
{
    /// <summary>The ONNX output name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Its shape: [-1, classes].</summary>
    public IReadOnlyList<long> Shape { get; init; } = [];
}
