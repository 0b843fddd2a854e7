using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using Broker.Cli.Pipeline;
using Broker.Filter;
using Broker.Filters;
using Broker.Stages;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker up</c> (issue 16, item 1): the development cluster (librdkafka's mock cluster, as <c>broker dev-kafka</c>
/// makes it) and every stage of the registry as its own process (<c>broker serve STAGE</c>, one or more instances
/// each), each with its operators' endpoints on a port of its own. An instance that dies (a crash, a SIGKILL) is
/// started again, as an orchestrator would; one that exits with the configuration exit code is not (it would only
/// fail again) and stops the whole. SIGTERM or Ctrl+C stops every instance with SIGTERM (each finishes its batch and
/// commits), then the cluster. The services, options and topics are production's; only the bootstrap address differs.
/// </summary>
internal static partial class UpCommand
{
    /// <summary>The name of the file in the log folder that lists the running instances (JSON, rewritten on every start).</summary>
    public const string InstancesFile = "instances.json";

    public static Command Create()
    {
        var instances = new Option<string[]>("--instances") { Description = "Instances of a stage as STAGE=N (repeatable); 1 of each by default.", AllowMultipleArgumentsPerToken = true };
        var partitions = new Option<int>("--partitions") { Description = "Partitions per topic (the most instances of one stage that can share its input).", DefaultValueFactory = _ => 4 };
        var logs = new Option<string?>("--logs") { Description = "Folder for each instance's log (STAGE-N.log) and instances.json. Default: a new folder under the temporary folder." };
        var filters = new Option<string?>("--filters") { Description = "Filter definitions (*.yaml) to publish to the cluster's registry (broker.filters) before the services start, or 'none'. Default: the repository's filters/." };
        var set = SettingsOption.Create("StepHost:BatchSize=200, StampClassifier:BraaiModel= (each stage takes the settings of its own sections and the host's)");
        var command = new Command("up",
            "Start the development Kafka cluster and every Broker service as separate processes (--instances STAGE=N); print where each listens; restart an instance that dies; stop them all cleanly on Ctrl+C or SIGTERM. Feed it with `broker replay` or `broker simulate --kafka`, read it with `broker subscribe`.");
        command.Options.Add(instances);
        command.Options.Add(partitions);
        command.Options.Add(logs);
        command.Options.Add(filters);
        command.Options.Add(set);
        command.SetAction((parse, ct) => CliRun.GuardAsync(() =>
        {
            int n = parse.GetValue(partitions);
            if (n is < 1 or > 1000) throw new CliUsageException("--partitions must be between 1 and 1000");
            var counts = InstanceCounts(parse.GetValue(instances), n);
            var settings = SettingsOption.Parse(parse.GetValue(set));
            foreach (string key in settings.Keys)
            {
                string section = key.Split(':')[0];
                if (!BrokerStages.All.Stages.Any(s => Reads(s, key)))
                    throw new CliUsageException($"--set {key}: no stage reads section {section}; known: {string.Join(", ", StepHostApp.CommonSections.Concat(BrokerStages.All.Stages.SelectMany(s => s.Sections)))}");
                if (key.Equals("Kafka:bootstrap.servers", StringComparison.OrdinalIgnoreCase) || key.Equals(StepHostOptions.Section + ":HttpUrl", StringComparison.OrdinalIgnoreCase))
                    throw new CliUsageException($"--set {key}: broker up sets it for each instance");
            }
            string folder = CliRun.OutputFolder("--logs", parse.GetValue(logs) ?? Directory.CreateTempSubdirectory("broker-up-").FullName);
            // As `broker run` does: without --set Crossmatch:Catalogs:... the crossmatch gets the catalogues this
            // machine has, and the solar-system stage kstars-data's orbits (ChainCatalogs); built once, here.
            // The host's sections (StepHost, Kafka, ...) mean something to a service, not to the in-process check there.
            var host = settings.Where(kv => IsHostSection(kv.Key)).ToList();
            settings = ChainCatalogs.WithCatalogs(settings.Where(kv => !IsHostSection(kv.Key)).ToDictionary(StringComparer.OrdinalIgnoreCase), [], Console.Error.WriteLine, ct);
            foreach (var (key, value) in host) settings[key] = value;
            // The mock cluster keeps a member that died (or left) in its group until its session times out, and only
            // then gives its partitions to the instance started in its place (docs/kafka.md): a short session, unless
            // given, so a restarted instance is back in seconds rather than librdkafka's default 45 s.
            settings.TryAdd("KafkaConsumer:session.timeout.ms", "6000");
            settings.TryAdd("KafkaConsumer:heartbeat.interval.ms", "500");
            var definitions = FilterDefinitions(parse.GetValue(filters));
            return RunAsync(n, counts, settings, folder, definitions, ct);
        }));
        return command;
    }

    /// <summary>True when <paramref name="key"/>'s section is the host's or one of <paramref name="stage"/>'s own.</summary>
    private static bool Reads(StageDefinition stage, string key) =>
        IsHostSection(key) || stage.Sections.Contains(key.Split(':')[0], StringComparer.OrdinalIgnoreCase);

    private static bool IsHostSection(string key) => StepHostApp.CommonSections.Contains(key.Split(':')[0], StringComparer.OrdinalIgnoreCase);

    /// <summary>Parses <c>--instances STAGE=N</c>; every registered stage not named gets 1.</summary>
    private static Dictionary<string, int> InstanceCounts(string[]? values, int partitions)
    {
        var counts = BrokerStages.All.Stages.ToDictionary(s => s.Name, _ => 1, StringComparer.Ordinal);
        foreach (string v in values ?? [])
        {
            int eq = v.IndexOf('=');
            string name = eq > 0 ? v[..eq] : v;
            if (!counts.ContainsKey(name)) throw new CliUsageException($"--instances {v}: unknown stage '{name}'; known: {string.Join(", ", BrokerStages.All.Names)}");
            if (eq <= 0 || !int.TryParse(v[(eq + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count is < 0 or > 64)
                throw new CliUsageException($"--instances {v}: expected STAGE=N with N from 0 to 64");
            // More instances than partitions would sit idle: a consumer group gives each partition to one member.
            if (count > partitions) throw new CliUsageException($"--instances {v}: more instances than --partitions {partitions}; the extra ones would get no partition");
            counts[name] = count;
        }
        return counts;
    }

    /// <summary>The definitions <c>--filters</c> names, each checked (a bad one is a usage error naming its file and position).</summary>
    private static List<FilterDefinition> FilterDefinitions(string? option)
    {
        if (string.Equals(option, "none", StringComparison.Ordinal)) return [];
        string? folder = option ?? (ModelFolders.RepositoryRoot is { } root ? Path.Combine(root, "filters") : null);
        if (folder is null) return [];
        if (!Directory.Exists(folder)) throw new CliUsageException($"--filters {folder}: no such folder");
        try
        {
            return [.. FilterRegistry.FromDirectory(folder).Snapshot().Filters];
        }
        catch (FilterCompileException e)
        {
            throw new CliUsageException($"--filters: {e.Message}");
        }
    }

    private static async Task<int> RunAsync(int partitions, Dictionary<string, int> counts, Dictionary<string, string?> settings, string folder,
        IReadOnlyList<FilterDefinition> filters, CancellationToken ct)
    {
        using var cluster = new MockCluster();
        cluster.CreateTopology(partitions);
        using var file = DevClusterFile.Publish(cluster.Bootstrap);
        using var signals = ShutdownSignals.Listen(ct, file.Remove);
        var all = new List<Instance>();
        foreach (var stage in BrokerStages.All.Stages)
        {
            var own = settings.Where(kv => Reads(stage, kv.Key)).ToList();
            for (int i = 1; i <= counts[stage.Name]; i++)
                all.Add(new Instance(stage.Name, i, FreePort(), cluster.Bootstrap, own, Path.Combine(folder, $"{stage.Name}-{i}.log")));
        }
        Console.Out.WriteLine($"bootstrap {cluster.Bootstrap}");
        // The filters first, so the filter service starts with them; each filter's topic with the chain's partition count.
        var registry = new FilterRegistryClient(KafkaSettings.ForBootstrap(cluster.Bootstrap));
        foreach (var f in filters)
        {
            cluster.CreateTopic(f.Topic, partitions);
            registry.Publish(f);
            Console.Out.WriteLine($"registry {f.Name} {f.Version} topic {f.Topic}");
        }
        Console.Error.WriteLine($"Mock Kafka cluster at {cluster.Bootstrap}, {partitions} partitions per topic (memory only; each partition keeps only its newest 5 MB or 100,000 messages); other broker verbs find it through {file.Path}.");
        var supervisors = new List<Task>();
        var stopping = new CancellationTokenSource();
        var configurationFailure = new TaskCompletionSource<Instance>(TaskCreationOptions.RunContinuationsAsynchronously);
        void WriteInstances()
        {
            // Written aside and renamed, so a reader never sees half a file.
            lock (all)
            {
                string path = Path.Combine(folder, InstancesFile);
                File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(all.Select(x => x.Describe())));
                File.Move(path + ".tmp", path, overwrite: true);
            }
        }
        foreach (var instance in all)
        {
            instance.Start();
            supervisors.Add(instance.SuperviseAsync(stopping.Token, WriteInstances, configurationFailure));
        }
        WriteInstances();
        foreach (var x in all)
            Console.Out.WriteLine($"{x.Stage} {x.Number} pid {x.Pid} metrics {x.Url}/metrics health {x.Url}/health/ready log {x.LogPath}");
        Console.Out.Flush();
        int exit = 0;
        var ready = WaitReadyAsync(all, signals.Token);
        var first = await Task.WhenAny(ready, configurationFailure.Task, Task.Delay(Timeout.Infinite, signals.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        if (first == ready && ready.IsCompletedSuccessfully && ready.Result)
        {
            Console.Out.WriteLine("ready");
            Console.Out.Flush();
            Console.Error.WriteLine($"Every service is ready ({all.Count} instances; logs and {InstancesFile} in {folder}). Ctrl+C stops them all.");
            first = await Task.WhenAny(configurationFailure.Task, Task.Delay(Timeout.Infinite, signals.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        }
        if (first == configurationFailure.Task)
        {
            var bad = configurationFailure.Task.Result;
            Console.Error.WriteLine($"error: {bad.Stage} instance {bad.Number} refused its configuration (exit {ExitCodes.Configuration}): {bad.LastLine()}; stopping (log: {bad.LogPath})");
            exit = ExitCodes.Configuration;
        }
        else if (first == ready && !signals.Token.IsCancellationRequested)
        {
            Console.Error.WriteLine("error: not every service became ready within 120 s; stopping (see the logs in " + folder + ")");
            exit = ExitCodes.Fatal;
        }
        // Stop: SIGTERM to every instance, each finishes its batch and commits; SIGKILL what is left after the host's own shutdown bound.
        stopping.Cancel();
        foreach (var x in all) x.Terminate();
        var deadline = Task.Delay(StepHostApp.ShutdownTimeout + TimeSpan.FromSeconds(10), CancellationToken.None);
        var stopped = Task.WhenAll(supervisors);
        if (await Task.WhenAny(stopped, deadline) != stopped)
        {
            foreach (var x in all) x.Kill();
            await stopped;
        }
        foreach (var x in all)
        {
            if (x.LastExitCode is not (0 or null) && exit == 0) exit = ExitCodes.Fatal;
            Console.Error.WriteLine($"{x.Stage} {x.Number}: stopped, exit {x.LastExitCode?.ToString(CultureInfo.InvariantCulture) ?? "-"}, restarts {x.Restarts}");
        }
        WriteInstances();
        return exit;
    }

    /// <summary>Polls every instance's <c>/health/ready</c> until each answers 200; false after 120 s.</summary>
    private static async Task<bool> WaitReadyAsync(List<Instance> all, CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        var pending = new List<Instance>(all);
        while (pending.Count > 0 && DateTime.UtcNow < until && !stop.IsCancellationRequested)
        {
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                try
                {
                    using var answer = await http.GetAsync(pending[i].Url + "/health/ready", stop);
                    if (answer.StatusCode == HttpStatusCode.OK) pending.RemoveAt(i);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    // Not listening yet.
                }
            }
            if (pending.Count > 0) await Task.Delay(250, CancellationToken.None);
        }
        return pending.Count == 0;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    private const int SigTerm = 15;

    /// <summary>One service instance: <c>broker serve STAGE</c> as a child process, its output appended to its log.</summary>
    private sealed class Instance(string stage, int number, int port, string bootstrap, List<KeyValuePair<string, string?>> settings, string logPath)
    {
        private readonly Lock _gate = new();
        private Process? _process;
        private StreamWriter? _log;
        private string _lastLine = "";

        public string Stage => stage;
        public int Number => number;
        public string Url { get; } = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";
        public string LogPath => logPath;
        public int Pid { get { lock (_gate) return _process?.Id ?? 0; } }
        public int Restarts { get; private set; }
        public int? LastExitCode { get; private set; }

        public string LastLine() { lock (_gate) return _lastLine; }

        public object Describe() => new { stage, instance = number, pid = Pid, url = Url, log = logPath, restarts = Restarts, exitCode = LastExitCode };

        public void Start()
        {
            // The CLI runs as `dotnet broker.dll` (./broker) or as its apphost: start the instance the same way.
            string self = Environment.ProcessPath ?? "dotnet";
            var psi = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(UpCommand).Assembly.Location);
            foreach (string a in (string[])["serve", stage, "--bootstrap", bootstrap, "--set", $"{StepHostOptions.Section}:HttpUrl={Url}"]) psi.ArgumentList.Add(a);
            foreach (var (key, value) in settings)
            {
                psi.ArgumentList.Add("--set");
                psi.ArgumentList.Add($"{key}={value}");
            }
            lock (_gate)
            {
                _log ??= new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
                _log.WriteLine($"--- broker up: starting {stage} instance {number} at {DateTime.UtcNow:O}");
                var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {self}");
                p.OutputDataReceived += (_, e) => Append(e.Data);
                p.ErrorDataReceived += (_, e) => Append(e.Data);
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                _process = p;
            }
        }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_gate)
            {
                _log?.WriteLine(line);
                if (line.Length > 0) _lastLine = line.Trim();
            }
        }

        /// <summary>Waits for the instance to exit and starts it again, until <paramref name="stop"/>; a configuration exit ends it.</summary>
        public async Task SuperviseAsync(CancellationToken stop, Action changed, TaskCompletionSource<Instance> configurationFailure)
        {
            while (true)
            {
                Process p;
                lock (_gate) p = _process!;
                await p.WaitForExitAsync(CancellationToken.None);
                p.WaitForExit();
                LastExitCode = p.ExitCode;
                lock (_gate) _log?.WriteLine($"--- broker up: {stage} instance {number} exited with {p.ExitCode} at {DateTime.UtcNow:O}");
                if (stop.IsCancellationRequested) break;
                if (p.ExitCode == ExitCodes.Configuration)
                {
                    configurationFailure.TrySetResult(this);
                    break;
                }
                Console.Error.WriteLine($"{stage} {number}: exited with {p.ExitCode.ToString(CultureInfo.InvariantCulture)}; starting it again (log: {logPath})");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                Restarts++;
                Start();
                changed();
            }
            lock (_gate)
            {
                _log?.Dispose();
                _log = null;
            }
        }

        public void Terminate()
        {
            lock (_gate)
            {
                if (_process is { HasExited: false } p) _ = SendSignal(p.Id, SigTerm);
            }
        }

        public void Kill()
        {
            lock (_gate)
            {
                if (_process is { HasExited: false } p) p.Kill();
            }
        }
    }
}
