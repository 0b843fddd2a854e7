using System.Diagnostics;
using System.Text;

namespace Broker.IntegrationTests;

/// <summary>The ingest service as a real child process (<c>dotnet Broker.Ingest.dll</c>), configured through the environment.</summary>
internal sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public ServiceProcess(IReadOnlyDictionary<string, string?> settings, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Broker.Ingest.dll");
        Assert.True(File.Exists(dll), $"{dll} not found next to the tests");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        // The service's default port would collide with other services the tests run at the same time.
        if (!settings.ContainsKey("StepHost:HttpUrl")) info.Environment["BROKER_StepHost__HttpUrl"] = IngestServiceFixture.HttpUrl;
        foreach (var (key, value) in settings) info.Environment["BROKER_" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        _process = Process.Start(info)!;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public string Log { get { lock (_stderr) return _stderr.ToString(); } }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGKILL: no chance to finish the batch or commit.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, then waits for the exit code.</summary>
    public int Terminate(TimeSpan patience)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        return WaitForExit(patience);
    }

    public int WaitForExit(TimeSpan patience)
    {
        if (!_process.WaitForExit(patience))
        {
            _process.Kill();
            _process.WaitForExit();
            return -1;
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
