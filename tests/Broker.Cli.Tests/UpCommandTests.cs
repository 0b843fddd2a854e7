using System.Diagnostics;
using System.Globalization;

namespace Broker.Cli.Tests;

/// <summary><c>broker up</c> (issue 16, item 1): every stage as its own process over the mock cluster, restarted when killed, stopped cleanly.</summary>
public sealed class UpCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-up-test").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Up_starts_every_stage_restarts_one_killed_with_sigkill_and_stops_all_with_exit_0_on_sigterm()
    {
        string logs = Path.Combine(_dir, "logs");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };
        foreach (string a in (string[])[Path.Combine(AppContext.BaseDirectory, "broker.dll"), "up", "--logs", logs, "--partitions", "2", "--instances", "crossmatch=2"])
            psi.ArgumentList.Add(a);
        using var up = Process.Start(psi)!;
        var stderr = up.StandardError.ReadToEndAsync();
        try
        {
            var lines = new List<string>();
            var readUntil = DateTime.UtcNow + TimeSpan.FromMinutes(4);
            while (DateTime.UtcNow < readUntil && up.StandardOutput.ReadLine() is { } line)
            {
                lines.Add(line);
                if (line == "ready") break;
            }
            Assert.True(lines.LastOrDefault() == "ready", $"broker up did not become ready: {string.Join('\n', lines)}\n{(up.HasExited ? await stderr : "")}");
            Assert.StartsWith("bootstrap 127.0.0.1:", lines[0], StringComparison.Ordinal);
            string[] stages = ["ingest", "crossmatch", "crossmatch", "sso", "stamp", "lightcurve", "filter"];
            var listed = lines.Skip(1).SkipLast(1).Select(l => l.Split(' ')[0]).ToList();
            Assert.Equal(stages.Length, listed.Count(s => stages.Contains(s)));
            Assert.Equal(2, listed.Count(s => s == "crossmatch"));

            var before = UpInstance.Read(logs);
            var victim = before.First(i => i.Stage == "crossmatch" && i.Number == 2);
            using (var p = Process.GetProcessById(victim.Pid)) p.Kill();
            // The supervisor starts it again, under a new process id, and it answers on its port once more.
            UpInstance? again = null;
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            while (DateTime.UtcNow < until)
            {
                again = UpInstance.Read(logs).FirstOrDefault(i => i.Stage == "crossmatch" && i.Number == 2 && i.Restarts == 1);
                if (again is not null && await Ready(http, again.Url)) break;
                await Task.Delay(250);
            }
            Assert.NotNull(again);
            Assert.NotEqual(victim.Pid, again.Pid);
            Assert.True(await Ready(http, again.Url), $"the restarted instance does not answer on {again.Url}");
            Assert.All(UpInstance.Read(logs).Where(i => i != again), i => Assert.Equal(0, i.Restarts));

            using (var term = Process.Start("kill", ["-TERM", up.Id.ToString(CultureInfo.InvariantCulture)])) term.WaitForExit();
            Assert.True(up.WaitForExit(TimeSpan.FromMinutes(3)), "broker up did not stop on SIGTERM");
            up.WaitForExit();
            string err = await stderr;
            Assert.True(up.ExitCode == 0, err);
            Assert.Contains("crossmatch 2: stopped, exit 0, restarts 1", err, StringComparison.Ordinal);
            foreach (var i in UpInstance.Read(logs)) Assert.Throws<ArgumentException>(() => Process.GetProcessById(i.Pid).Dispose());
        }
        finally
        {
            if (!up.HasExited) up.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void Up_refuses_an_unknown_stage_and_more_instances_than_partitions_in_one_line()
    {
        var unknown = BrokerProcess.Run("up", "--instances", "nothing=2");
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("error: --instances nothing=2: unknown stage 'nothing'; known: ingest, crossmatch", unknown.ErrorLines.Single(), StringComparison.Ordinal);
        var tooMany = BrokerProcess.Run("up", "--partitions", "2", "--instances", "sso=3");
        Assert.Equal("error: --instances sso=3: more instances than --partitions 2; the extra ones would get no partition", tooMany.ErrorLines.Single());
        var reserved = BrokerProcess.Run("up", "--set", "StepHost:HttpUrl=http://127.0.0.1:1");
        Assert.Equal("error: --set StepHost:HttpUrl: broker up sets it for each instance", reserved.ErrorLines.Single());
    }

    private static async Task<bool> Ready(HttpClient http, string url)
    {
        try
        {
            using var answer = await http.GetAsync(url + "/health/ready");
            return answer.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
