using System.CommandLine;
using Broker.Onnx;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker onnx run MODEL.onnx --input X.npy --output Y.npy</c> (issue 13): runs any ONNX model on a NumPy
/// tensor through ONNX Runtime, the first input fed, the first output written. A float64 input is converted to
/// float32 for a float32 model.
/// </summary>
internal static class OnnxCommand
{
    public static Command Create()
    {
        var command = new Command("onnx", "ONNX models through ONNX Runtime: run one on a NumPy tensor.");
        command.Subcommands.Add(Run());
        return command;
    }

    private static Command Run()
    {
        var model = new Argument<string>("model") { Description = "The .onnx model file" };
        var input = new Option<string>("--input") { Description = "A .npy tensor (little-endian float32 or float64, C order) for the model's first input", Required = true };
        var output = new Option<string>("--output") { Description = "Where to write the first output, as .npy float32", Required = true };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads", DefaultValueFactory = _ => 1 };
        var provider = new Option<string>("--provider") { Description = "Execution provider: cpu, cuda (fatal when it cannot start) or auto (CUDA, else the CPU with a warning)", DefaultValueFactory = _ => "cpu" };
        var command = new Command("run", "Runs MODEL on --input (first input) and writes the first output to --output; prints the shapes on standard error.");
        command.Arguments.Add(model);
        foreach (var o in new Option[] { input, output, threads, provider }) command.Options.Add(o);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            OnnxExecutionProvider ep;
            try
            {
                ep = OnnxModelOptions.ParseProvider(parse.GetValue(provider)!);
            }
            catch (ArgumentException)
            {
                throw new CliUsageException($"--provider: '{parse.GetValue(provider)}' is not one of cpu, cuda, auto");
            }
            int intra = parse.GetValue(threads);
            if (intra < 1) throw new CliUsageException($"--threads: {intra} is not a positive number of threads");
            string modelPath = parse.GetValue(model)!, inputPath = parse.GetValue(input)!, outputPath = parse.GetValue(output)!;
            foreach (var path in new[] { modelPath, inputPath })
            {
                if (!File.Exists(path))
                {
                    Console.Error.WriteLine($"error: {path}: no such file");
                    return CatalogCommands.BadInputExitCode;
                }
            }
            NpyArray tensor;
            try
            {
                tensor = NpyArray.Read(inputPath);
            }
            catch (NpyFormatException e)
            {
                Console.Error.WriteLine($"error: {inputPath}: {e.Message}");
                return CatalogCommands.BadInputExitCode;
            }
            try
            {
                using var session = new OnnxModel(modelPath, new OnnxModelOptions { IntraOpThreads = intra, ExecutionProvider = ep },
                    warn => Console.Error.WriteLine("warning: " + warn));
                var first = session.Inputs[0];
                if (first.ElementType != typeof(float))
                {
                    Console.Error.WriteLine($"error: {modelPath}: input '{first.Name}' is {first.ElementType.Name}; onnx run feeds float32 only");
                    return CatalogCommands.BadInputExitCode;
                }
                var (data, shape) = session.Run(tensor.ToSingle(), tensor.Shape.ToArray());
                NpyArray.FromSingle(data, shape).Write(outputPath);
                Console.Error.WriteLine($"{first.Name} {OnnxModel.Format(tensor.Shape)} {tensor.Descr} -> {session.Outputs[0].Name} {OnnxModel.Format(shape)} <f4 ({session.ExecutionProvider.ToString().ToLowerInvariant()})");
                return 0;
            }
            catch (OnnxModelException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return CatalogCommands.BadInputExitCode;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: {inputPath}: {e.Message.Split(" (Parameter")[0]}");
                return CatalogCommands.BadInputExitCode;
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
            {
                Console.Error.WriteLine($"error: {modelPath}: ONNX Runtime: {e.Message.Split('\n')[0].Trim()}");
                return CatalogCommands.BadInputExitCode;
            }
        }));
        return command;
    }
}
