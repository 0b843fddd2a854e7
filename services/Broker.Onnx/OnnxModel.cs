using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Broker.Onnx;

/// <summary>Where an <see cref="OnnxModel"/> runs.</summary>
public enum OnnxExecutionProvider
{
    /// <summary>ONNX Runtime's CPU provider (the default package).</summary>
    Cpu,

    /// <summary>The CUDA provider; fatal (<see cref="OnnxModelException"/>) when it cannot start.</summary>
    Cuda,

    /// <summary>CUDA when it starts, otherwise the CPU provider with one warning.</summary>
    Auto,
}

/// <summary>How an <see cref="OnnxModel"/> session is made.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator; 1 by default (one host thread per core).</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>The execution provider; <see cref="OnnxExecutionProvider.Cpu"/> by default.</summary>
    public OnnxExecutionProvider ExecutionProvider { get; init; } = OnnxExecutionProvider.Cpu;

    /// <summary>The CUDA device id, for <see cref="OnnxExecutionProvider.Cuda"/> and <see cref="OnnxExecutionProvider.Auto"/>.</summary>
    public int CudaDeviceId { get; init; }

    /// <summary>Parses <c>cpu</c>, <c>cuda</c> or <c>auto</c> (any case).</summary>
    /// <exception cref="ArgumentException">Another name.</exception>
    public static OnnxExecutionProvider ParseProvider(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => OnnxExecutionProvider.Cpu,
        "cuda" => OnnxExecutionProvider.Cuda,
        "auto" => OnnxExecutionProvider.Auto,
        _ => throw new ArgumentException($"execution provider '{name}' is not one of cpu, cuda, auto", nameof(name)),
    };
}

/// <summary>A model input or output: its name, element type and shape (-1 where the model leaves a dimension free).</summary>
public sealed record OnnxTensorInfo(string Name, Type ElementType, IReadOnlyList<long> Shape);

/// <summary>One named float32 input of <see cref="OnnxModel.Run(IReadOnlyList{OnnxInput}, Memory{float})"/>: C-order data and its shape.</summary>
/// <param name="Name">The model's input name.</param>
/// <param name="Data">The values.</param>
/// <param name="Shape">The shape; its product is the length of <paramref name="Data"/>.</param>
public readonly record struct OnnxInput(string Name, ReadOnlyMemory<float> Data, long[] Shape);

/// <summary>A model that cannot be loaded, or a provider that cannot start; the message is one line.</summary>
public sealed class OnnxModelException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One ONNX Runtime <see cref="InferenceSession"/> over a model file. <c>Run</c> takes a float32 tensor
/// [N, ...] for the first input (N free) and returns the first output. Thread-safe: ONNX Runtime allows concurrent
/// runs of one session.
/// </summary>
/// <remarks>
/// The default build references Microsoft.ML.OnnxRuntime (CPU only): there <see cref="OnnxExecutionProvider.Cuda"/>
/// fails with one line and <see cref="OnnxExecutionProvider.Auto"/> falls back to the CPU. Building with
/// <c>-p:BrokerOnnxGpu=true</c> references Microsoft.ML.OnnxRuntime.Gpu 1.31.0 instead (CUDA 13 needed at run time).
/// </remarks>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;

    /// <summary>Loads <paramref name="path"/>.</summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Threads and provider; defaults when null.</param>
    /// <param name="warn">Receives the one warning of an <see cref="OnnxExecutionProvider.Auto"/> fall-back to the CPU.</param>
    /// <exception cref="OnnxModelException">The file is missing or not a model, or <see cref="OnnxExecutionProvider.Cuda"/> cannot start.</exception>
    public OnnxModel(string path, OnnxModelOptions? options = null, Action<string>? warn = null)
    {
        options ??= new OnnxModelOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.IntraOpThreads);
        if (!File.Exists(path)) throw new OnnxModelException($"{path}: no such file");
        Path = path;
        SessionOptions? so = null;
        if (options.ExecutionProvider != OnnxExecutionProvider.Cpu)
        {
            so = NewOptions(options);
            string? why = TryAppendCuda(so, options.CudaDeviceId);
            if (why is not null)
            {
                so.Dispose();
                so = null;
                if (options.ExecutionProvider == OnnxExecutionProvider.Cuda)
                    throw new OnnxModelException($"the CUDA execution provider cannot start: {why}");
                warn?.Invoke($"the CUDA execution provider cannot start ({why}); running {System.IO.Path.GetFileName(path)} on the CPU");
            }
            else ExecutionProvider = OnnxExecutionProvider.Cuda;
        }
        so ??= NewOptions(options);
        try
        {
            _session = new InferenceSession(path, so);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException($"{path}: not a model ONNX Runtime can load: {FirstLine(e.Message)}", e);
        }
        finally
        {
            so.Dispose();
        }
        Inputs = Infos(_session.InputMetadata);
        Outputs = Infos(_session.OutputMetadata);
    }

    /// <summary>The model file.</summary>
    public string Path { get; }

    /// <summary>The provider the session runs on: <see cref="OnnxExecutionProvider.Cpu"/> or <see cref="OnnxExecutionProvider.Cuda"/>.</summary>
    public OnnxExecutionProvider ExecutionProvider { get; } = OnnxExecutionProvider.Cpu;

    /// <summary>The inputs, in the model's order.</summary>
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    /// <summary>The outputs, in the model's order.</summary>
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary>
    /// Runs the model on <paramref name="input"/>, a C-order float32 tensor of shape <paramref name="shape"/>, fed
    /// to the first input; returns the first output as floats with its shape.
    /// </summary>
    /// <exception cref="ArgumentException">The data length does not match the shape, or the shape not the model's input.</exception>
    public (float[] Data, long[] Shape) Run(ReadOnlyMemory<float> input, ReadOnlySpan<long> shape)
    {
        float[]? data = null;
        var outShape = RunCore(input, shape, values => data = values.ToArray());
        return (data!, outShape);
    }

    /// <summary>
    /// Runs the model on <paramref name="input"/> (shape <paramref name="shape"/>) and writes the first output into
    /// <paramref name="output"/>, which must hold it exactly; returns the output's shape.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not match the shapes.</exception>
    public long[] Run(ReadOnlyMemory<float> input, ReadOnlySpan<long> shape, Memory<float> output) => RunCore(input, shape, values =>
    {
        if (values.Length != output.Length)
            throw new ArgumentException($"output '{Outputs[0].Name}' has {values.Length} values, the buffer {output.Length}", nameof(output));
        values.CopyTo(output.Span);
    });

    /// <summary>
    /// Runs a model of several float32 inputs: <paramref name="inputs"/> name each input, its C-order data and its
    /// shape; the first output is written into <paramref name="output"/>, which must hold it exactly. Returns the
    /// output's shape. Every input of the model must be given.
    /// </summary>
    /// <exception cref="ArgumentException">An input is unknown, missing or of the wrong shape, or the output does not fit.</exception>
    public long[] Run(IReadOnlyList<OnnxInput> inputs, Memory<float> output)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != Inputs.Count)
            throw new ArgumentException($"the model has {Inputs.Count} inputs ({string.Join(", ", Inputs.Select(i => i.Name))}), {inputs.Count} given", nameof(inputs));
        var names = new string[inputs.Count];
        var values = new OrtValue[inputs.Count];
        try
        {
            for (int i = 0; i < inputs.Count; i++)
            {
                var given = inputs[i];
                var want = Inputs.FirstOrDefault(m => m.Name == given.Name)
                    ?? throw new ArgumentException($"the model has no input '{given.Name}' ({string.Join(", ", Inputs.Select(m => m.Name))})", nameof(inputs));
                CheckInput(want, given.Data.Length, given.Shape);
                names[i] = given.Name;
                values[i] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                    System.Runtime.InteropServices.MemoryMarshal.AsMemory(given.Data), given.Shape);
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [Outputs[0].Name]);
            var result = outputs[0];
            var info = result.GetTensorTypeAndShape();
            if (info.ElementDataType != TensorElementType.Float)
                throw new ArgumentException($"output '{Outputs[0].Name}' is {info.ElementDataType}, not float32");
            var data = result.GetTensorDataAsSpan<float>();
            if (data.Length != output.Length)
                throw new ArgumentException($"output '{Outputs[0].Name}' has {data.Length} values, the buffer {output.Length}", nameof(output));
            data.CopyTo(output.Span);
            return info.Shape;
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    private delegate void OutputSink(ReadOnlySpan<float> values);

    private long[] RunCore(ReadOnlyMemory<float> input, ReadOnlySpan<long> shape, OutputSink sink)
    {
        CheckInput(input.Length, shape);
        var inputShape = shape.ToArray();
        using var inValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
            System.Runtime.InteropServices.MemoryMarshal.AsMemory(input), inputShape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [Inputs[0].Name], [inValue], [Outputs[0].Name]);
        var result = outputs[0];
        var info = result.GetTensorTypeAndShape();
        if (info.ElementDataType != TensorElementType.Float)
            throw new ArgumentException($"output '{Outputs[0].Name}' is {info.ElementDataType}, not float32");
        sink(result.GetTensorDataAsSpan<float>());
        return info.Shape;
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();

    private void CheckInput(int length, ReadOnlySpan<long> shape) => CheckInput(Inputs[0], length, shape);

    private static void CheckInput(OnnxTensorInfo want, int length, ReadOnlySpan<long> shape)
    {
        if (want.ElementType != typeof(float))
            throw new ArgumentException($"input '{want.Name}' wants {want.ElementType.Name}, Run feeds float32");
        if (shape.Length != want.Shape.Count)
            throw new ArgumentException($"input '{want.Name}' has shape {Format(want.Shape)}, got rank {shape.Length} ({Format(shape.ToArray())})");
        long n = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            if (want.Shape[i] >= 0 && shape[i] != want.Shape[i])
                throw new ArgumentException($"input '{want.Name}' has shape {Format(want.Shape)}, got {Format(shape.ToArray())}");
            n *= shape[i];
        }
        if (n != length) throw new ArgumentException($"shape {Format(shape.ToArray())} needs {n} values, got {length}");
    }

    /// <summary>A shape as numpy prints it: <c>(N, 3, 63, 63)</c>, -1 shown as N.</summary>
    public static string Format(IReadOnlyList<long> shape) =>
        "(" + string.Join(", ", shape.Select(d => d < 0 ? "N" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + (shape.Count == 1 ? ",)" : ")");

    private static SessionOptions NewOptions(OnnxModelOptions options) => new()
    {
        IntraOpNumThreads = options.IntraOpThreads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    private static string? TryAppendCuda(SessionOptions so, int device)
    {
        try
        {
            so.AppendExecutionProvider_CUDA(device);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            // The CPU package has no CUDA provider at all; the Gpu package without CUDA 13 cannot load its libraries.
            return e is EntryPointNotFoundException
                ? "this build references the CPU-only Microsoft.ML.OnnxRuntime; build with -p:BrokerOnnxGpu=true for CUDA"
                : FirstLine(e.Message);
        }
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOfAny(['\r', '\n']);
        return (nl < 0 ? message : message[..nl]).Trim();
    }

    private static List<OnnxTensorInfo> Infos(IReadOnlyDictionary<string, NodeMetadata> metadata) =>
        metadata.Select(kv => new OnnxTensorInfo(kv.Key, kv.Value.ElementType, kv.Value.Dimensions.Select(d => (long)d).ToArray())).ToList();
}
