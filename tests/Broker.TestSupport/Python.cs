using System.Collections.Concurrent;
using System.Diagnostics;

namespace Broker.TestSupport;

/// <summary>
/// Runs reference scripts with the system interpreter <c>/usr/bin/python3</c>, where the Debian packages used as
/// oracles live (python3-avro, python3-astropy, python3-numpy, python3-pil, python3-healpy). Not the <c>python3</c> first on PATH,
/// which may be another installation without them.
/// </summary>
public static class Python
{
    /// <summary>The interpreter used.</summary>
    public const string Interpreter = "/usr/bin/python3";

    private static readonly ConcurrentDictionary<string, string?> Checked = new(StringComparer.Ordinal);

    /// <summary>True when the interpreter exists and imports every module.</summary>
    public static bool IsAvailable(params string[] modules) => WhyUnavailable(modules) is null;

    /// <summary>Null when the interpreter imports every module; otherwise why not, fit for a skip message. Cached.</summary>
    public static string? WhyUnavailable(params string[] modules)
    {
        string key = string.Join(",", modules);
        return Checked.GetOrAdd(key, _ =>
        {
            if (!File.Exists(Interpreter)) return $"{Interpreter} not found";
            try
            {
                RunProcess(["-c", modules.Length == 0 ? "pass" : "import " + key], TimeSpan.FromMinutes(1));
                return null;
            }
            catch (PythonException e)
            {
                return $"{Interpreter} cannot import {key}: {LastLine(e.StandardError)}";
            }
        });
    }

    /// <summary>Runs a script and returns its standard output.</summary>
    /// <exception cref="PythonException">The script exited non-zero or ran past the timeout; the message carries its standard error.</exception>
    public static string Run(string scriptPath, params string[] args) => RunProcess([scriptPath, .. args], TimeSpan.FromMinutes(10));

    /// <summary>Runs code given inline (<c>python3 -c</c>); <c>sys.argv[1:]</c> are <paramref name="args"/>. Returns standard output.</summary>
    /// <exception cref="PythonException">The code exited non-zero or ran past the timeout.</exception>
    public static string RunCode(string code, params string[] args) => RunProcess(["-c", code, .. args], TimeSpan.FromMinutes(10));

    private static string RunProcess(string[] arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        // Keep the system interpreter on its own packages, and the source tree free of __pycache__.
        start.Environment.Remove("PYTHONPATH");
        start.Environment.Remove("PYTHONHOME");
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

        using var process = Process.Start(start) ?? throw new PythonException($"could not start {Interpreter}", "");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new PythonException($"{Interpreter} {Describe(arguments)} ran longer than {timeout}", stderr.Result);
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new PythonException($"{Interpreter} {Describe(arguments)} exited with {process.ExitCode}: {stderr.Result}", stderr.Result);
        return stdout.Result;
    }

    private static string Describe(string[] arguments) =>
        arguments[0] == "-c" ? "-c <code>" : string.Join(' ', arguments.Take(3)) + (arguments.Length > 3 ? " ..." : "");

    private static string LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no message)" : lines[^1];
    }
}

/// <summary>A Python oracle failed; <see cref="StandardError"/> holds what it printed.</summary>
public sealed class PythonException(string message, string standardError) : Exception(message)
{
    /// <summary>The process's standard error.</summary>
    public string StandardError { get; } = standardError;
}
