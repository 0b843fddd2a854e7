using System.Diagnostics;

namespace Broker.Cli.Tests;

/// <summary>Runs the built <c>broker</c> CLI (copied beside the tests) as a child process.</summary>
internal static class BrokerProcess
{
    /// <param name="PeakRssBytes">The child's peak resident set size (VmHWM from /proc, polled while it ran; the last value read before it exited).</param>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError, long PeakRssBytes = 0)
    {
        public string[] ErrorLines => StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        public string[] OutputLines => StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public static Result Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "broker.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long peak = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!p.WaitForExit(TimeSpan.FromMilliseconds(10)))
        {
            peak = Math.Max(peak, PeakRss(p.Id));
            if (DateTime.UtcNow > deadline)
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"broker {string.Join(' ', args)} did not finish in 5 minutes");
            }
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result, peak);
    }

    /// <summary>VmHWM of a live process in bytes, or 0 once it is gone.</summary>
    private static long PeakRss(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
            // The process has exited between two polls.
        }
        return 0;
    }
}
