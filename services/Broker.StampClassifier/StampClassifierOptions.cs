using System.Globalization;
using Broker.Onnx;
using Broker.StepHost;

namespace Broker.StampClassifier;

/// <summary>Settings of the stamp-classifier step (configuration section <c>StampClassifier</c>; docs/stamps.md).</summary>
/// <remarks>
/// What can be checked without loading a model is checked here (<see cref="Validate"/>); the manifest is read and
/// every model verified and loaded when the step starts (<see cref="StampClassifierStep.StartAsync"/>).
/// </remarks>
public sealed class StampClassifierOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "StampClassifier";

    /// <summary>The <see cref="BraaiModel"/> value that looks for braai beside the repository.</summary>
    public const string Auto = "auto";

    /// <summary>
    /// The model directory, holding <c>manifest.json</c> and the ONNX files it names. Empty (the default): the
    /// newest version under the repository's <c>models/stamp-classifier/</c> (the repository is <c>$BROKER_ROOT</c>,
    /// else the nearest folder above the working directory or the service holding Broker.sln).
    /// </summary>
    public string ModelDirectory { get; set; } = "";

    /// <summary>Where the networks run: <c>cpu</c>, <c>cuda</c> (fatal with one line when it cannot start) or <c>auto</c> (CUDA, else the CPU with one warning).</summary>
    public string ExecutionProvider { get; set; } = "cpu";

    /// <summary>Threads ONNX Runtime uses inside one operator: 1, so that one service instance is one core.</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>
    /// ZTF's braai real/bogus model (ONNX), whose score each ZTF alert gets as a second classification. <c>auto</c>
    /// (the default): <c>../shared/data/labeled/models/braai_d6_m7/braai_d6_m7.onnx</c> beside the repository when
    /// it is there, else none; empty: none; a path: that file, which must exist.
    /// </summary>
    public string BraaiModel { get; set; } = Auto;

    /// <summary>The most alerts one ONNX run takes; a host batch larger than this is run in pieces.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>The largest <see cref="BatchSize"/> accepted.</summary>
    public const int MaxBatchSize = 65536;

    /// <summary>The provider <see cref="ExecutionProvider"/> names.</summary>
    public OnnxExecutionProvider Provider => OnnxModelOptions.ParseProvider(ExecutionProvider.Trim());

    /// <summary>The ONNX session settings.</summary>
    public OnnxModelOptions OnnxOptions => new() { ExecutionProvider = Provider, IntraOpThreads = IntraOpThreads };

    /// <summary>Checks the values that need no model.</summary>
    /// <exception cref="StepHostConfigurationException">One line naming the setting and what is wrong.</exception>
    public void Validate()
    {
        if (ExecutionProvider.Trim().ToLowerInvariant() is not ("cpu" or "cuda" or "auto"))
            throw Bad($"ExecutionProvider '{ExecutionProvider}' is not one of cpu, cuda, auto");
        if (IntraOpThreads is < 1 or > 256) throw Bad($"IntraOpThreads {Format(IntraOpThreads)} is not in [1, 256]");
        if (BatchSize is < 1 or > MaxBatchSize) throw Bad($"BatchSize {Format(BatchSize)} is not in [1, {Format(MaxBatchSize)}]");
        if (ModelDirectory.Length > 0 && !Directory.Exists(ModelDirectory))
            throw Bad($"ModelDirectory '{Path.GetFullPath(ModelDirectory)}' does not exist");
        string braai = BraaiModel.Trim();
        if (braai.Length > 0 && !braai.Equals(Auto, StringComparison.OrdinalIgnoreCase) && !File.Exists(braai))
            throw Bad($"BraaiModel '{Path.GetFullPath(braai)}' does not exist (set it to empty to run without braai)");
    }

    private static StepHostConfigurationException Bad(string problem) => new($"invalid configuration: {Section}:{problem}");

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
