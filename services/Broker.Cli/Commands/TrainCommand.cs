using System.CommandLine;
using System.Diagnostics;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker train stamps ...</c> and <c>broker train stamps-eval ...</c> (issue 13): builds the training program
/// (services/Broker.Training) when any source is newer than its last build, then runs its dll as a child process
/// with the remaining arguments and returns its exit code. The training program loads libtorch (TorchSharp); the
/// CLI never does, and its own bin/ holds no libtorch: it has no reference to the training project.
/// </summary>
internal static class TrainCommand
{
    /// <summary>The verb.</summary>
    public const string Name = "train";

    public static Command Create()
    {
        // Listed in `broker --help`; Program.cs hands `broker train ...` to Forward before parsing, so every option
        // after `train` reaches the training program as written (it parses and documents them: broker train --help).
        var rest = new Argument<string[]>("arguments") { Description = "stamps [--seed S] [--out DIR] ..., stamps-eval [--model DIR], periodic [--seed S] [--out DIR] ... or lightcurves [--seed S] [--out DIR] ...; see broker train --help", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(Name, "Trains Broker's stamp classifier or periodic-variable CNN (TorchSharp, in a child process), or the light-curve forests (ML.NET, in-process), or evaluates a model directory.");
        command.Arguments.Add(rest);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, ct) => Task.FromResult(Forward(parse.GetValue(rest) ?? [])));
        return command;
    }

    /// <summary>The training that runs inside the CLI: the light-curve forests (ML.NET; services/Broker.LightCurveTraining).</summary>
    public const string LightCurves = "lightcurves";

    /// <summary>
    /// <c>broker train lightcurves ...</c> runs in this process (ML.NET needs no libtorch); everything else builds the
    /// TorchSharp training program if stale and runs it with <paramref name="arguments"/>. Returns the exit code.
    /// </summary>
    public static int Forward(string[] arguments)
    {
        if (arguments.Length > 0 && arguments[0] == LightCurves) return Broker.LightCurveTraining.Program.Run(arguments[1..]);
        if (RepositoryPaths.Root is not { } root) return CliRun.Usage("broker train needs the repository (services/Broker.Training): no Broker.sln found");
        string project = Path.Combine(root, "services", "Broker.Training", "Broker.Training.csproj");
        string dll = Path.Combine(root, "services", "Broker.Training", "bin", "Release", "net10.0", "linux-x64", "broker-train.dll");
        string stamp = Path.Combine(root, "services", "Broker.Training", "bin", "Release", ".broker-train-build-stamp");
        if (IsStale(root, dll, stamp))
        {
            Console.Error.WriteLine("broker: building the training program (Release)...");
            var (code, log) = RunCaptured("dotnet", ["build", project, "-c", "Release", "--nologo", "-v", "q"]);
            if (code != 0)
            {
                Console.Error.WriteLine(log);
                Console.Error.WriteLine("broker: build of services/Broker.Training failed");
                return 1;
            }
            Directory.CreateDirectory(Path.GetDirectoryName(stamp)!);
            File.WriteAllText(stamp, "");
        }
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, WorkingDirectory = Environment.CurrentDirectory };
        psi.ArgumentList.Add(dll);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["BROKER_ROOT"] = root;
        using var child = Process.Start(psi) ?? throw new InvalidOperationException("cannot start dotnet");
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>True when the dll or the build stamp is missing, or a source file of the repository's services or build settings is newer than the stamp.</summary>
    private static bool IsStale(string root, string dll, string stamp)
    {
        if (!File.Exists(dll) || !File.Exists(stamp)) return true;
        var built = File.GetLastWriteTimeUtc(stamp);
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json" })
        {
            string path = Path.Combine(root, file);
            if (File.Exists(path) && File.GetLastWriteTimeUtc(path) > built) return true;
        }
        return NewerSource(new DirectoryInfo(Path.Combine(root, "services")), built);
    }

    private static bool NewerSource(DirectoryInfo dir, DateTime built)
    {
        foreach (var f in dir.EnumerateFiles())
            if (f.LastWriteTimeUtc > built) return true;
        foreach (var d in dir.EnumerateDirectories())
            if (d.Name is not ("bin" or "obj") && NewerSource(d, built)) return true;
        return false;
    }

    private static (int Code, string Log) RunCaptured(string file, string[] arguments)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout + stderr.Result);
    }
}
