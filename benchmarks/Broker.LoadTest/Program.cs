// Load harness (not a test): a registered stage's throughput and per-alert latency, its step alone, in-process and
// on the Kafka host through librdkafka's mock cluster, and the host's own cost against a bare Confluent.Kafka loop.
// What it measures and how, its options, and the figures: docs/kafka.md, "Throughput and latency".
// Usage: dotnet benchmarks/Broker.LoadTest/bin/Release/net10.0/Broker.LoadTest.dll [DATA_DIR] [COPIES] [ROUNDS]
//          [--stage NAME] [--set Section:Key=VALUE]... [--in-process-cluster] [--batch N]
//          [--consumer NAME=VALUE]... [--producer NAME=VALUE]...
//        ... --probe [size=N,count=N,SETTING=VALUE,...]...
//        ... --chain --bootstrap HOST:PORT --up-logs DIR [--rate 300] [--seconds 30]   (a running broker up: ChainLoad)
using System.Diagnostics;
using System.Globalization;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

// librdkafka.redist's library, before any Kafka call and in every mode (KafkaNative says why).
Console.Error.WriteLine($"librdkafka {KafkaNative.Load()} ({KafkaNative.Path ?? "runtime probing"})");
if (args.Length > 0 && args[0] == "--chain") return Broker.LoadTest.ChainLoad.Run(args);
if (args.Length > 0 && args[0] == "--mock-cluster")
{
    // Child mode: a mock cluster with the topology and the harness's topics (the arguments after the partition
    // count), its bootstrap on stdout; then each line "replay TOPIC FILE COPIES" on stdin produces the messages of
    // FILE (MessageFile) COPIES times into TOPIC from this process (so the producer's CPU is not charged to the host
    // either) and answers "done"; until stdin closes.
    int partitionCount = int.Parse(args[1], CultureInfo.InvariantCulture);
    using var mock = new MockCluster();
    mock.CreateTopology(partitionCount);
    foreach (var topic in args.Skip(2)) mock.CreateTopic(topic, partitionCount);
    Console.Out.WriteLine(mock.Bootstrap);
    Console.Out.Flush();
    var files = new Dictionary<string, List<SourceMessage>>(StringComparer.Ordinal);
    while (Console.In.ReadLine() is { } line)
    {
        var words = line.Split(' ');
        if (!files.TryGetValue(words[2], out var replayed)) files[words[2]] = replayed = MessageFile.Read(words[2]);
        Replay(KafkaSettings.ForBootstrap(mock.Bootstrap), words[1], replayed, int.Parse(words[3], CultureInfo.InvariantCulture));
        Console.Out.WriteLine("done");
        Console.Out.Flush();
    }
    return 0;
}
if (args.Length > 0 && args[0] == "--probe")
{
    // Probe mode: how long a flush of COUNT messages of SIZE bytes into an in-process mock cluster takes, 15 times, for
    // each argument "size=N,count=N,LIBRDKAFKA.SETTING=VALUE,..." (docs/kafka.md, "The host's own cost").
    using var mock = new MockCluster();
    mock.CreateTopology(64);
    foreach (var setting in args.Skip(1).DefaultIfEmpty("linger.ms=5"))
    {
        int size = 65000, count = 64;
        var payload = new byte[size];
        Random.Shared.NextBytes(payload);
        var ks = KafkaSettings.ForBootstrap(mock.Bootstrap);
        foreach (var kv in setting.Split(','))
        {
            if (kv.StartsWith("size=")) { size = int.Parse(kv[5..]); payload = new byte[size]; Random.Shared.NextBytes(payload); }
            else if (kv.StartsWith("count=")) count = int.Parse(kv[6..]);
            else ks.Producer[kv.Split('=')[0]] = kv.Split('=')[1];
        }
        using var producer = KafkaClients.Producer(ks);
        var times = new List<double>();
        for (int rep = 0; rep < 15; rep++)
        {
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < count; i++) producer.Produce(BrokerTopics.Ingested, new Message<byte[], byte[]> { Key = BitConverter.GetBytes(Random.Shared.NextInt64()), Value = payload });
            producer.Flush(TimeSpan.FromSeconds(30));
            times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        Console.WriteLine($"{setting}: flush of {count} x {size} B: {string.Join(" ", times.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))} ms");
    }
    return 0;
}
bool sameProcessCluster = args.Contains("--in-process-cluster");
// --consumer NAME=VALUE and --producer NAME=VALUE set librdkafka settings of the host's clients (as the Kafka
// configuration sections do for a service), to compare settings on the same messages. --set Section:Key=VALUE sets
// a stage's own option (its section, or an upstream stage's), as `broker serve --set` does.
var hostConsumerSettings = new Dictionary<string, string>(StringComparer.Ordinal);
var hostProducerSettings = new Dictionary<string, string>(StringComparer.Ordinal);
var stageSets = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
int? batchOption = null;
string stageName = IngestStep.StepName;
{
    var rest = new List<string>();
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] is "--consumer" or "--producer" or "--set" && i + 1 < args.Length && args[i + 1].Split('=', 2) is [var name, var value])
        {
            (args[i] == "--consumer" ? hostConsumerSettings : args[i] == "--producer" ? hostProducerSettings : stageSets)[name] = value;
            i++;
        }
        else if (args[i] == "--batch" && i + 1 < args.Length)
        {
            batchOption = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        else if (args[i] == "--stage" && i + 1 < args.Length)
        {
            stageName = args[++i];
        }
        else if (args[i] != "--in-process-cluster")
        {
            rest.Add(args[i]);
        }
    }
    args = rest.ToArray();
}
if (BrokerStages.All.Find(stageName) is not { } definition)
{
    Console.Error.WriteLine($"unknown stage '{stageName}'; the registered stages: {string.Join(", ", BrokerStages.All.Names)}");
    return 2;
}
// The stages that make its input from the samples, whose sections --set may name too.
var through = MeasuredStage.Upstream(BrokerStages.All, definition);
{
    var read = through.SelectMany(s => s.Sections).Concat(definition.Sections).ToHashSet(StringComparer.OrdinalIgnoreCase);
    foreach (var key in stageSets.Keys.Where(k => !read.Contains(k.Split(':')[0])))
    {
        Console.Error.WriteLine($"--set {key}: no section of stage {definition.Name} or the stages before it ({string.Join(", ", read)})");
        return 2;
    }
}
string data = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/data"));
int copies = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
var self = Process.GetCurrentProcess();
double CpuSeconds()
{
    self.Refresh();
    return self.TotalProcessorTime.TotalSeconds;
}
// LOADTEST_MARKS=1 prints each measured window's start and end on the monotonic clock (seconds), for
// `perf record -k CLOCK_MONOTONIC` and `perf report --time START,END` (docs/kafka.md).
bool marks = Environment.GetEnvironmentVariable("LOADTEST_MARKS") == "1";
void Mark(string what)
{
    if (marks) Console.WriteLine($"mark {what} {Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency:F6}");
}
long outputBytes = 0, outputs = 0;
double stepCpuPerAlert = 0, stepEncodeCpuPerAlert = 0, hostCpuPerAlert = 0;
Dictionary<string, double> hostThreads = [], stepThreads = [];
string stepGc = "", hostGc = "";
static (int, int, int, TimeSpan) GcNow() => (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
static string GcSince((int G0, int G1, int G2, TimeSpan Pause) a, int alerts)
{
    var b = GcNow();
    return $"gen0/1/2 collections {b.Item1 - a.G0}/{b.Item2 - a.G1}/{b.Item3 - a.G2}, pauses {(b.Item4 - a.Pause).TotalMilliseconds / alerts:F3} ms per alert";
}
// The stages' own settings the measurement needs, before --set: every copy of the samples is the same alerts, which
// ingest's duplicate window would drop after the first; the Rubin samples' schemas, for the Kafka host (its step is
// made from configuration only). The in-process steps get the same schemas as a service, as `broker run` gives them.
var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
{
    [$"{IngestOptions.Section}:{nameof(IngestOptions.DuplicateWindow)}"] = "0",
    [$"{IngestOptions.Section}:{nameof(IngestOptions.SchemaFolder)}"] = Path.Combine(data, "lsst", "schema"),
};
foreach (var (key, value) in stageSets) settings[key] = value;
var registry = new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema"));
var context = new StageContext(services: new ServiceCollection().AddSingleton<ISchemaRegistry>(registry).BuildServiceProvider());
var samples = ReadAlerts(data, registry);
var one = await MeasuredStage.InputsAsync(definition, through, samples, settings, context);
var stage = MeasuredStage.For(definition, settings, context);
// The labels of the step's own work: a stage whose input codec decodes (every stage after ingest) is measured with
// its input decoded, as its host decodes it.
string stepWork = stage.DecodesInput ? "decode + step" : "step";
string baseline = stepWork + " + encode";
var messages = Enumerable.Range(0, copies).SelectMany(_ => one).ToList();
long bytes = messages.Sum(m => (long)m.Value.Length);
string what = through.Count == 0 ? "real alerts" : $"outputs of {string.Join(" and ", through.Select(s => s.Name))} for {samples.Count} real alerts";
Console.WriteLine($"{messages.Count} messages ({bytes / 1e6:F1} MB): {one.Count} {what} x {copies}; {Environment.ProcessorCount} cores");
// One batch size for every path (a step's cost per alert depends on it; docs/kafka.md). --batch N changes it for every path.
int batchSize = batchOption ?? 64;
var rows = new List<(string Path, int Alerts, double Seconds, double P50, double P99)>();

// Warm-up: JIT the decode and mapping paths.
await using (var warm = await stage.StartPassAsync()) warm.Run(one, 0, Math.Min(50, one.Count), encode: false);

// 1. The step alone, on a thread of its own. Passes 0 and 1 let tiered JIT settle; pass 2 is the step call only (and
// the decoding of its input, for a stage that decodes). The step + encode baseline (the step, plus the decoding of each
// input and the encoding of each output and its key that the Kafka host does for it) is measured in the rounds below.
for (int pass = 0; pass < 3; pass++)
{
    var sw = Stopwatch.StartNew();
    Mark($"step-pass-{pass}-start");
    var (perAlert, latencies, _, _) = await StepPassAsync(encode: pass != 2);
    Mark($"step-pass-{pass}-end");
    if (pass == 2)
    {
        stepCpuPerAlert = perAlert;
        rows.Add(($"{(stage.DecodesInput ? stepWork : "step only")} (batches of {batchSize})", messages.Count, sw.Elapsed.TotalSeconds, Pct(latencies, 0.5), Pct(latencies, 0.99)));
    }
}

// Runs the step over all messages in batches on a thread of its own ("step pass": after the program's first await,
// its continuations run on thread-pool threads, which the host's loop uses too); CPU per alert of the threads that do
// the step's work: every thread of this process but librdkafka's and the idle Kafka host's (see the rounds below).
Task<(double CpuPerAlert, List<double> Latencies, Dictionary<string, double> Threads, double Seconds)> StepPassAsync(bool encode)
{
    var done = new TaskCompletionSource<(double, List<double>, Dictionary<string, double>, double)>(TaskCreationOptions.RunContinuationsAsynchronously);
    var thread = new Thread(() =>
    {
        try
        {
            var step = stage.StartPassAsync().GetAwaiter().GetResult();
            var latencies = new List<double>(messages.Count);
            var before = ThreadCpu.Snapshot();
            long start = Stopwatch.GetTimestamp();
            long encoded = 0, count = 0;
            for (int i = 0; i < messages.Count; i += batchSize)
            {
                int n = Math.Min(batchSize, messages.Count - i);
                long t = Stopwatch.GetTimestamp();
                var (o, b) = step.Run(messages, i, n, encode);
                encoded += b;
                count += o;
                double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                for (int k = 0; k < n; k++) latencies.Add(ms);
            }
            if (encode)
            {
                Interlocked.Exchange(ref outputBytes, encoded);
                Interlocked.Exchange(ref outputs, count);
            }
            var threads = ThreadCpu.Delta(before, ThreadCpu.Snapshot());
            foreach (var name in threads.Keys.Where(ThreadCpu.IsKafkaHost).ToList()) threads.Remove(name);
            step.DisposeAsync().AsTask().GetAwaiter().GetResult();
            done.SetResult((threads.Values.Sum() / messages.Count, latencies, threads, Stopwatch.GetElapsedTime(start).TotalSeconds));
        }
        catch (Exception ex)
        {
            done.SetException(ex);
        }
    })
    { Name = "step pass" };
    thread.Start();
    return done.Task;
}

// 2. In-process runner: the stage as `broker run` makes it (after a decoding stage for a stage that decodes its input).
IReadOnlyList<string> destinations;
{
    var made = definition.CreateStage(stage.Settings, context);
    destinations = made.Destinations;
    await using var pipeline = new InProcessPipeline(stage.DecodeStage() is { } decode ? [decode, made] : [made], new InProcessOptions { BatchSize = batchSize, ChannelCapacity = 64 });
    var summary = await pipeline.RunAsync(MeasuredStage.Replay(messages), o => stage.Encode(o.Value));
    rows.Add(($"in-process ({(stage.DecodesInput ? "decode, " : "")}encode incl.)", (int)summary.Read, summary.Elapsed.TotalSeconds, summary.LatencyP50Ms, summary.LatencyP99Ms));
}

// 3. Through the mock cluster.
var roundResults = new List<(double StepEncode, double Host)>();
var stepEncodeSeconds = new List<double>();
(int Alerts, double Seconds, double CpuPerAlert, double ClusterCpuPerAlert) backlog = default;
var passthroughCpu = new List<double>();
var bareCpu = new List<double>();
var passRounds = new List<string>();
Dictionary<string, double> passthroughThreads = [], bareThreads = [];
{
    const int partitions = 64;
    using var cluster = sameProcessCluster ? new MockCluster() : null;
    cluster?.CreateTopology(partitions);
    var harnessTopics = HarnessTopics(rounds, destinations).ToList();
    foreach (var topic in sameProcessCluster ? harnessTopics : []) cluster!.CreateTopic(topic, partitions);
    // The cluster process replays the stage's input messages from a file of them (MessageFile).
    string messageFile = Path.Combine(Path.GetTempPath(), $"loadtest-{Environment.ProcessId}.messages");
    if (!sameProcessCluster) MessageFile.Write(messageFile, one);
    var childStart = new ProcessStartInfo("dotnet")
    {
        ArgumentList = { typeof(MockCluster).Assembly.Location.Replace("Broker.StepHost.dll", "Broker.LoadTest.dll", StringComparison.Ordinal), "--mock-cluster", partitions.ToString(CultureInfo.InvariantCulture) },
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        UseShellExecute = false,
    };
    foreach (var topic in harnessTopics) childStart.ArgumentList.Add(topic);
    using var child = sameProcessCluster ? null : Process.Start(childStart);
    string bootstrap = cluster?.Bootstrap ?? child!.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the mock cluster process did not start");
    Console.WriteLine($"mock cluster at {bootstrap} ({(sameProcessCluster ? "in this process" : "separate process")})");
    var kafka = KafkaSettings.ForBootstrap(bootstrap);
    void ReplayInto(int times)
    {
        if (child is null)
        {
            Replay(kafka, definition.Input, one, times);
            return;
        }
        child.StandardInput.WriteLine($"replay {definition.Input} {messageFile} {times}");
        child.StandardInput.Flush();
        if (child.StandardOutput.ReadLine() != "done") throw new InvalidOperationException("the mock cluster process did not replay");
        // The cluster process keeps the messages it has read.
        File.Delete(messageFile);
    }
    // Throughput and CPU: warm-up waves are drained first, so that the measured part runs on code tiered JIT has
    // compiled with its profile, and after the mock's group join. In each window the host is idle with nothing in hand
    // when the clock starts, the measured alerts are replayed (from the cluster process) after it starts, and it stops
    // when the last is committed, so the window holds exactly the work of the measured alerts (docs/kafka.md).
    // Latency: a paced wave read downstream as it arrives.
    // The stage's host is made from its registry entry's configuration with these on top (MeasuredStage.CreateHost).
    const int batchWaitMs = 20;
    var hostSettings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        ["Kafka:bootstrap.servers"] = bootstrap,
        [$"{StepHostOptions.Section}:{nameof(StepHostOptions.BatchSize)}"] = batchSize.ToString(CultureInfo.InvariantCulture),
        [$"{StepHostOptions.Section}:{nameof(StepHostOptions.BatchWaitMs)}"] = batchWaitMs.ToString(CultureInfo.InvariantCulture),
        [$"{StepHostOptions.Section}:{nameof(StepHostOptions.MetricsIntervalSeconds)}"] = "0",
    };
    foreach (var (k, v) in hostConsumerSettings) hostSettings["KafkaConsumer:" + k] = v;
    foreach (var (k, v) in hostProducerSettings) hostSettings["KafkaProducer:" + k] = v;
    // The pass-through host's and the bare loop's clients: the same librdkafka settings.
    var hostKafka = KafkaSettings.ForBootstrap(bootstrap);
    foreach (var (k, v) in hostConsumerSettings) hostKafka.Consumer[k] = v;
    foreach (var (k, v) in hostProducerSettings) hostKafka.Producer[k] = v;
    if (hostConsumerSettings.Count + hostProducerSettings.Count > 0)
        Console.WriteLine($"host settings: {string.Join(", ", hostConsumerSettings.Select(p => $"consumer {p.Key}={p.Value}").Concat(hostProducerSettings.Select(p => $"producer {p.Key}={p.Value}")))}");
    var stop = new CancellationTokenSource();
    long committed = 0, target = long.MaxValue;
    TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Each host's batch event: how many inputs it has committed, and whether the replay waited for is drained.
    void BatchCompleted(StepCountersSnapshot s)
    {
        Interlocked.Exchange(ref committed, s.In);
        if (s.In >= Interlocked.Read(ref target)) drained.TrySetResult();
    }
    // The stage's host, from its registry entry with the harness's settings and `overrides` on top.
    (IStepService Host, Task Run) Start(IReadOnlyDictionary<string, string?> overrides, Action<StepCountersSnapshot>? alsoOnBatch = null)
    {
        committed = 0;
        var all = new Dictionary<string, string?>(hostSettings, StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in overrides) all[k] = v;
        var h = stage.CreateHost(all, alsoOnBatch is null ? BatchCompleted : s => { BatchCompleted(s); alsoOnBatch(s); });
        return (h, Task.Run(() => h.RunAsync(stop.Token)));
    }
    var (host, run) = Start(new Dictionary<string, string?>());
    // Replays `times` copies and waits until the host has committed them all (woken by the host's own batch event,
    // so that no polling timer of the harness is charged to the host).
    async Task DrainAsync(int times)
    {
        drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref target, Interlocked.Read(ref committed) + (long)times * one.Count);
        ReplayInto(times);
        await Task.WhenAny(drained.Task, run);
        if (run.IsFaulted) await run;
    }
    // Three waves of three copies, each drained before the next (docs/kafka.md, "Warm-up to steady state").
    for (int w = 0; w < 3; w++) await DrainAsync(3);
    // Rounds: the step + encode baseline and the host alternate on the same messages, so that both see the same
    // machine (one-off runs of each drift from minute to minute on a shared machine). The host stays
    // running, idle, through each step pass; the step pass therefore counts every thread but librdkafka's and the
    // host's thread-pool and poll threads (which then only wait for messages), and the host window counts them all.
    for (int round = 1; round <= rounds; round++)
    {
        var gcStep = GcNow();
        Mark($"round-{round}-step-start");
        var (stepEncode, _, threadsStep, stepSeconds) = await StepPassAsync(encode: true);
        stepEncodeSeconds.Add(stepSeconds);
        Mark($"round-{round}-step-end");
        if (round == 1) stepGc = GcSince(gcStep, messages.Count);
        double cpu0 = CpuSeconds();
        var threads0 = ThreadCpu.Snapshot();
        var gc0 = GcNow();
        long committed0 = Interlocked.Read(ref committed);
        long t0 = Stopwatch.GetTimestamp();
        Mark($"round-{round}-host-start");
            await DrainAsync(copies);
        Mark($"round-{round}-host-end");
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        int alerts = (int)(Interlocked.Read(ref committed) - committed0);
        double hostCpu = (CpuSeconds() - cpu0) / alerts;
        if (round == 1) hostGc = GcSince(gc0, alerts);
        roundResults.Add((stepEncode, hostCpu));
        Accumulate(stepThreads, threadsStep, 1.0 / rounds);
        Accumulate(hostThreads, ThreadCpu.Delta(threads0, ThreadCpu.Snapshot()), 1.0 / rounds);
        if (round == 1) rows.Add(($"kafka mock, {copies} x replay ({partitions} part.)", alerts, seconds, double.NaN, double.NaN));
    }
    stepEncodeCpuPerAlert = Median(roundResults.Select(r => r.StepEncode));
    hostCpuPerAlert = Median(roundResults.Select(r => r.Host));

    // Backlog: the host stopped, `copies` copies waiting in the input topic, then a new host in the same group drains
    // them. Timed from its first committed batch (after the group join) to its last, so alerts/s is the host's own
    // rate with librdkafka's threads free to use the second core, to set beside the step + encode rate on one thread.
    stop.Cancel();
    await run;
    stop = new CancellationTokenSource();
    // A fresh consumer group whose offsets are committed at the current end of the input topic (joining the old group
    // again waits out the stopped member's session), and output topics of its own, for the default destination and
    // each named one: the host's replay guard reads the end of its destination topics at start, and in topics holding
    // the rounds' outputs every alert replayed below would be a duplicate, dropped rather than produced.
    const string backlogGroup = "loadtest-backlog";
    var backlogSettings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        [$"{StepHostOptions.Section}:{nameof(StepHostOptions.OutputTopic)}"] = BacklogTopic,
        [$"{StepHostOptions.Section}:{nameof(StepHostOptions.GroupId)}"] = backlogGroup,
    };
    foreach (var d in destinations) backlogSettings[$"{StepHostOptions.Section}:{nameof(StepHostOptions.DestinationTopics)}:{d}"] = BacklogDestinationTopic(d);
    CommitAtEnd(kafka, backlogGroup, definition.Input, partitions);
    ReplayInto(copies);
    committed = 0;
    long firstAt = 0, firstIn = 0;
    double firstCpu = 0;
    drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Interlocked.Exchange(ref target, (long)copies * one.Count);
    double firstClusterCpu = 0;
    (host, run) = Start(backlogSettings, s =>
    {
        if (Interlocked.Read(ref firstAt) != 0) return;
        firstCpu = CpuSeconds();
        firstClusterCpu = child is null ? 0 : ThreadCpu.OfProcess(child.Id);
        firstIn = s.In;
        Interlocked.Exchange(ref firstAt, Stopwatch.GetTimestamp());
        Mark("backlog-start");
    });
    await Task.WhenAny(drained.Task, run);
    if (run.IsFaulted) await run;
    Mark("backlog-end");
    long lastAt = Stopwatch.GetTimestamp();
    int drainedAlerts = (int)(Interlocked.Read(ref committed) - firstIn);
    backlog = (drainedAlerts, (lastAt - firstAt) / (double)Stopwatch.Frequency, (CpuSeconds() - firstCpu) / drainedAlerts,
        child is null ? double.NaN : (ThreadCpu.OfProcess(child.Id) - firstClusterCpu) / drainedAlerts);

    // Paced wave: one alert at a time at a modest rate, read downstream as it arrives.
    var config = KafkaClients.ConsumerConfig(kafka, "loadtest-reader", "earliest");
    var reader = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler(KafkaClients.LogTo(NullLogger.Instance)).Build();
    reader.Subscribe(BacklogTopic);
    // Join the group before the wave starts (the mock delays a first join by ~3 s).
    while (reader.Assignment.Count == 0) reader.Consume(100);
    long waveStart = BrokerHeaders.NowMicros();
    var latencies = new List<double>();
    // Only inputs with an output to the default destination (the backlog topic read here).
    var reaches = new bool[one.Count];
    await using (var check = await stage.StartPassAsync()) check.Run(one, 0, one.Count, encode: false, reaches);
    var wave = one.Where((m, i) => reaches[i]).Take(300).ToList();
    // Each alert sent as soon as it is due (linger.ms 0), one every 10 ms, by the writer `broker replay` uses.
    var paced = KafkaSettings.ForBootstrap(bootstrap);
    paced.Producer["linger.ms"] = "0";
    var produceTask = Task.Run(() => TopicWriter.WriteAll(paced, definition.Input, wave, i => i * 0.010, CancellationToken.None));
    var until = DateTime.UtcNow.AddSeconds(60);
    while (latencies.Count < wave.Count && DateTime.UtcNow < until)
    {
        var r = reader.Consume(200);
        if (r is null) continue;
        long now = BrokerHeaders.NowMicros();
        if (BrokerHeaders.ParseNumber(r.Message.Headers.GetLastBytes(BrokerHeaders.TimeHeader("replay"))) is long sent && sent >= waveStart)
            latencies.Add((now - sent) / 1000.0);
    }
    await produceTask;
    // Gone before the pass-through rounds below, whose windows count every thread of this process.
    reader.Close();
    reader.Dispose();
    stop.Cancel();
    await run;
    stop.Dispose();

    // The host's own cost, measured directly rather than as a difference of two noisy figures, against the transport's
    // floor (issue 9): the host running a step that passes each message through (its bytes and key as they came), and a
    // bare Confluent.Kafka consume-and-produce loop (BareLoop) with the host's settings and batches, one at a time on the
    // same messages of the stage's input topic. Each pass starts fresh clients in a fresh group committed at the end of
    // the input topic, with an output topic of its own (the replay guard), waits until its partitions are assigned,
    // drains one copy unmeasured, then in its window replays `copies` copies three times, each waited for until
    // committed. Round 0 warms both up; rounds 1.. alternate which goes first (docs/kafka.md, "The host against a bare
    // Confluent.Kafka loop").
    async Task<(double CpuPerAlert, Dictionary<string, double> Threads, double Rate)> PassAsync(bool viaHost, int round, int waves, int times)
    {
        stop = new CancellationTokenSource();
        string group = $"loadtest-{(viaHost ? "passthrough" : "bare")}-{round}";
        CommitAtEnd(kafka, group, definition.Input, partitions);
        Func<int> assigned;
        Func<long>? produced = null;
        if (viaHost)
        {
            var passOptions = new StepHostOptions { InputTopic = definition.Input, OutputTopic = PassthroughTopic(round, bare: false), BatchSize = batchSize, BatchWaitMs = batchWaitMs, MetricsIntervalSeconds = 0, GroupId = group };
            var passHost = new KafkaStepHost<byte[], byte[]>(new PassthroughStep(), RawBytesCodec.Instance, RawBytesCodec.Instance, passOptions, hostKafka, NullLogger.Instance);
            committed = 0;
            passHost.BatchCompleted += BatchCompleted;
            run = Task.Run(() => passHost.RunAsync(stop.Token));
            assigned = () => passHost.AssignedPartitions;
            produced = () => passHost.Counters.Out;
        }
        else
        {
            var bare = new BareLoop(hostKafka, group, definition.Input, PassthroughTopic(round, bare: true), batchSize, batchWaitMs);
            committed = 0;
            bare.BatchCompleted += n =>
            {
                Interlocked.Exchange(ref committed, n);
                if (n >= Interlocked.Read(ref target)) drained.TrySetResult();
            };
            var token = stop.Token;
            run = Task.Run(() => bare.Run(token));
            assigned = () => bare.AssignedPartitions;
        }
        while (assigned() < partitions)
        {
            if (run.IsCompleted) await run;
            await Task.Delay(50);
        }
        // One copy drained outside the window: the fresh clients' first fetches and connections, and a position on
        // every partition (until a partition has one, the host's lag refresh asks the cluster for it; docs/kafka.md).
        await DrainAsync(1);
        await Task.Delay(200);
        double cpu0 = CpuSeconds();
        var threads0 = ThreadCpu.Snapshot();
        long committed0 = Interlocked.Read(ref committed);
        long t0 = Stopwatch.GetTimestamp();
        Mark($"{(viaHost ? "passthrough" : "bare")}-{round}-start");
        for (int w = 0; w < waves; w++) await DrainAsync(times);
        Mark($"{(viaHost ? "passthrough" : "bare")}-{round}-end");
        int alerts = (int)(Interlocked.Read(ref committed) - committed0);
        double rate = alerts / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        double cpu = (CpuSeconds() - cpu0) / alerts;
        var threads = ThreadCpu.Delta(threads0, ThreadCpu.Snapshot());
        foreach (var name in threads.Keys.ToList()) threads[name] /= alerts;
        stop.Cancel();
        await run;
        stop.Dispose();
        // A host that dropped its outputs (as duplicates, say) would look cheap: the pass-through emits every input.
        if (produced is not null && produced() != Interlocked.Read(ref committed))
            throw new InvalidOperationException($"the pass-through host produced {produced()} outputs for {Interlocked.Read(ref committed)} inputs");
        return (cpu, threads, rate);
    }
    for (int round = 0; round <= rounds; round++)
    {
        (double Cpu, Dictionary<string, double> Threads, double Rate) viaHost, viaBare;
        // Three drains of `copies` copies per window: one drain is too few clock ticks of the per-thread figures.
        int waves = 3, times = round == 0 ? 3 : copies;
        if (round % 2 == 1)
        {
            viaHost = await PassAsync(viaHost: true, round, waves, times);
            viaBare = await PassAsync(viaHost: false, round, waves, times);
        }
        else
        {
            viaBare = await PassAsync(viaHost: false, round, waves, times);
            viaHost = await PassAsync(viaHost: true, round, waves, times);
        }
        if (round == 0) continue;
        passRounds.Add($"round {round} ({(round % 2 == 1 ? "host first" : "bare first")}): host {viaHost.Cpu * 1000:F3} ms ({viaHost.Rate:F0} alerts/s; {ByThread(viaHost.Threads)}), bare {viaBare.Cpu * 1000:F3} ms ({viaBare.Rate:F0} alerts/s; {ByThread(viaBare.Threads)}), host/bare {viaHost.Cpu / viaBare.Cpu:F2}");
        passthroughCpu.Add(viaHost.Cpu);
        bareCpu.Add(viaBare.Cpu);
        Accumulate(passthroughThreads, viaHost.Threads, 1.0 / rounds);
        Accumulate(bareThreads, viaBare.Threads, 1.0 / rounds);
    }
    child?.StandardInput.Close();
    child?.WaitForExit();
    rows.Add(("kafka mock, paced 1 alert/10 ms", latencies.Count, double.NaN, Pct(latencies, 0.5), Pct(latencies, 0.99)));
}

Console.WriteLine();
Console.WriteLine($"{"path",-38}{"alerts",8}{"alerts/s",10}{"p50 ms",10}{"p99 ms",10}");
foreach (var r in rows)
    Console.WriteLine($"{r.Path,-38}{r.Alerts,8}{(double.IsNaN(r.Seconds) ? "-" : (r.Alerts / r.Seconds).ToString("F0", CultureInfo.InvariantCulture)),10}{Fmt(r.P50),10}{Fmt(r.P99),10}");
Console.WriteLine($"\nKafka alerts/s is bounded by the replay that runs during its window (not a backlog drain)");
Console.WriteLine($"CPU per alert of this process, rounds alternating {baseline} and the Kafka host on the same messages:");
for (int i = 0; i < roundResults.Count; i++)
{
    var (se, h) = roundResults[i];
    Console.WriteLine($"  round {i + 1}: {baseline} {se * 1000:F3} ms, Kafka host {h * 1000:F3} ms, host adds {(h / se - 1) * 100:F1}%");
}
double overhead = Median(roundResults.Select(r => r.Host / r.StepEncode - 1));
Console.WriteLine($"median: {baseline} {stepEncodeCpuPerAlert * 1000:F3} ms, Kafka host {hostCpuPerAlert * 1000:F3} ms; host adds {overhead * 100:F1}% (median of rounds) to {baseline}{(sameProcessCluster ? " (mock cluster included)" : "")}; {(stage.DecodesInput ? stepWork + " call" : "step call alone")} {stepCpuPerAlert * 1000:F3} ms");
double stepEncodeRate = messages.Count / Median(stepEncodeSeconds), backlogRate = backlog.Alerts / backlog.Seconds;
// The window opens when the first batch is committed, by when the next batch has already been stepped (pipelining):
// over few batches that unmeasured step inflates the rate.
if (backlog.Alerts < 10 * batchSize)
    Console.WriteLine($"(the backlog below spans fewer than 10 batches of {batchSize}: its rate is biased upwards; use more copies or smaller batches)");
Console.WriteLine($"Throughput: {baseline} on one thread {stepEncodeRate:F0} alerts/s (median of rounds); Kafka host draining a backlog of {backlog.Alerts} alerts {backlogRate:F0} alerts/s ({(stepEncodeRate / backlogRate - 1) * 100:F1}% more time per alert); CPU per alert {backlog.CpuPerAlert * 1000:F3} ms in the host's process, {backlog.ClusterCpuPerAlert * 1000:F3} ms in the mock cluster's; {backlogRate * (backlog.CpuPerAlert + backlog.ClusterCpuPerAlert):F2} of {Environment.ProcessorCount} cores busy");
double passthrough = Median(passthroughCpu), bareLoop = Median(bareCpu);
Console.WriteLine($"The host's own cost (a pass-through step, median of {passthroughCpu.Count}: {string.Join(", ", passthroughCpu.Select(c => (c * 1000).ToString("F3", CultureInfo.InvariantCulture)))} ms): {passthrough * 1000:F3} ms per alert, {passthrough / stepEncodeCpuPerAlert * 100:F1}% of {baseline}; by thread: {ByThread(passthroughThreads)}");
Console.WriteLine($"The bare Confluent.Kafka loop (same messages, settings and batches; median of {bareCpu.Count}: {string.Join(", ", bareCpu.Select(c => (c * 1000).ToString("F3", CultureInfo.InvariantCulture)))} ms): {bareLoop * 1000:F3} ms per alert; by thread: {ByThread(bareThreads)}");
Console.WriteLine("Pass-through rounds, CPU per alert of this process (by thread, ms):");
foreach (var line in passRounds) Console.WriteLine("  " + line);
var ratios = passthroughCpu.Zip(bareCpu, (h, b) => h / b).ToList();
double ratio = Median(ratios);
Console.WriteLine($"Host vs bare loop: host pass-through {passthrough * 1000:F3} ms, bare loop {bareLoop * 1000:F3} ms CPU per alert (medians); host/bare {ratio:F2} (median of rounds: {string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}); target <= 1.30 {(ratio <= 1.3 ? "met" : "NOT met")}{(sameProcessCluster ? " (mock cluster included)" : "")}");
Console.WriteLine($"Message sizes: input {bytes / (double)messages.Count / 1000:F1} kB, {definition.Name}'s output {(outputs > 0 ? outputBytes / (double)outputs / 1000 : 0):F1} kB (the pass-through's output is its input)");
Console.WriteLine($"GC (round 1): {baseline} {stepGc}; Kafka host {hostGc}");
if (hostThreads.Count > 0)
{
    // Where the CPU went, by thread name (Linux /proc): the step alone runs on a thread of its own, the host's
    // loop on thread-pool threads, librdkafka on its rdk: threads, Confluent.Kafka's poll loops on .NET threads.
    Console.WriteLine($"CPU per alert by thread, mean of rounds (ms):  {baseline}   Kafka host");
    foreach (var name in hostThreads.Keys.Union(stepThreads.Keys).OrderByDescending(k => hostThreads.GetValueOrDefault(k) + stepThreads.GetValueOrDefault(k)))
    {
        double a = stepThreads.GetValueOrDefault(name) * 1000 / messages.Count, b = hostThreads.GetValueOrDefault(name) * 1000 / messages.Count;
        if (a >= 0.0005 || b >= 0.0005) Console.WriteLine($"  {name,-44}{a,14:F3}{b,13:F3}");
    }
}
return 0;

static double Pct(List<double> values, double q)
{
    var sorted = values.ToArray();
    Array.Sort(sorted);
    return RunSummary.Percentile(sorted, q);
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static string ByThread(Dictionary<string, double> threads) =>
    string.Join(", ", threads.Where(t => t.Value >= 0.5e-6).OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value * 1000:F3}"));

static void Accumulate(Dictionary<string, double> sums, Dictionary<string, double> add, double weight)
{
    foreach (var (k, v) in add) sums[k] = sums.GetValueOrDefault(k) + v * weight;
}

static string Fmt(double v) => double.IsNaN(v) ? "-" : v.ToString("F1", CultureInfo.InvariantCulture);

static List<SourceMessage> ReadAlerts(string data, ISchemaRegistry registry) =>
    SurveyFiles.Read([Path.Combine(data, "ztf", "alerts"), Path.Combine(data, "lsst", "alerts")], registry).ToList();

static void CommitAtEnd(KafkaSettings kafka, string group, string topic, int partitions)
{
    using var consumer = new ConsumerBuilder<byte[], byte[]>(KafkaClients.ConsumerConfig(kafka, group)).SetLogHandler(KafkaClients.LogTo(NullLogger.Instance)).Build();
    var ends = Enumerable.Range(0, partitions)
        .Select(p => new TopicPartitionOffset(topic, p, consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High))
        .ToList();
    consumer.Commit(ends);
}

// The output topic of each round's pass-through host and bare loop (round 0: warm-up).
static string PassthroughTopic(int round, bool bare) => $"{(bare ? "loadtest.bare" : PassthroughStep.Topic)}.{round}";

// The backlog host's topic for a named destination of the stage's step.
static string BacklogDestinationTopic(string destination) => $"{BacklogTopic}.{destination}";

// The harness's topics beside Broker's topology: the backlog host's outputs, and each round's pass-through outputs.
static IEnumerable<string> HarnessTopics(int rounds, IEnumerable<string> destinations) =>
    Enumerable.Range(0, rounds + 1).SelectMany(r => new[] { PassthroughTopic(r, bare: false), PassthroughTopic(r, bare: true) })
        .Prepend(BacklogTopic).Concat(destinations.Select(BacklogDestinationTopic));

static void Replay(KafkaSettings kafka, string topic, List<SourceMessage> messages, int times) =>
    TopicWriter.WriteAll(kafka, topic, Enumerable.Range(0, times).SelectMany(_ => messages), null, CancellationToken.None);

/// <summary>The harness's own names.</summary>
internal static partial class Program
{
    /// <summary>The output topic of the backlog host and the paced wave.</summary>
    private const string BacklogTopic = "loadtest.backlog";
}

/// <summary>
/// The stage's input messages in a file, for the cluster process to replay: for each, its key (length in UTF-8
/// bytes, -1 for none, then the bytes) and its value (length, then the bytes), little-endian lengths.
/// </summary>
internal static class MessageFile
{
    public static void Write(string path, IReadOnlyList<SourceMessage> messages)
    {
        using var writer = new BinaryWriter(File.Create(path));
        foreach (var m in messages)
        {
            if (m.Key is null)
            {
                writer.Write(-1);
            }
            else
            {
                var key = System.Text.Encoding.UTF8.GetBytes(m.Key);
                writer.Write(key.Length);
                writer.Write(key);
            }
            writer.Write(m.Value.Length);
            writer.Write(m.Value);
        }
    }

    public static List<SourceMessage> Read(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var messages = new List<SourceMessage>();
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            int keyLength = reader.ReadInt32();
            string? key = keyLength < 0 ? null : System.Text.Encoding.UTF8.GetString(reader.ReadBytes(keyLength));
            messages.Add(new SourceMessage(path, messages.Count, reader.ReadBytes(reader.ReadInt32()), key));
        }
        return messages;
    }
}

/// <summary>Emits each input as it is: running it on the Kafka host measures everything the host does around a step.</summary>
internal sealed class PassthroughStep : IStep<byte[], byte[]>
{
    /// <summary>The pass-through host's output topic (created in the mock cluster with the topology).</summary>
    public const string Topic = "loadtest.passthrough";

    public string Name => "passthrough";

    public ValueTask<IReadOnlyList<StepResult<byte[]>>> ExecuteAsync(IReadOnlyList<byte[]> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<byte[]>[batch.Count];
        for (int i = 0; i < results.Length; i++) results[i] = StepResult<byte[]>.Emit(batch[i]);
        return ValueTask.FromResult<IReadOnlyList<StepResult<byte[]>>>(results);
    }
}

/// <summary>CPU time of this process's threads by name, from /proc/self/task (Linux; empty elsewhere).</summary>
internal static class ThreadCpu
{
    public static Dictionary<int, (string Name, double Seconds)> Snapshot()
    {
        var result = new Dictionary<int, (string, double)>();
        if (!Directory.Exists("/proc/self/task")) return result;
        foreach (var dir in Directory.GetDirectories("/proc/self/task"))
        {
            // null: the thread ended meanwhile.
            if (ReadStat(Path.Combine(dir, "stat")) is { } stat) result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = stat;
        }
        return result;
    }

    /// <summary>CPU seconds used so far by a process (Linux /proc; 0 elsewhere).</summary>
    public static double OfProcess(int pid) => ReadStat($"/proc/{pid}/stat")?.Seconds ?? 0;

    /// <summary>A process's or thread's name and CPU seconds (user + system) from its stat file (proc(5)); null if gone.</summary>
    private static (string Name, double Seconds)? ReadStat(string path)
    {
        try
        {
            string stat = File.ReadAllText(path);
            int close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            // Fields after the name: state is [0], utime [11], stime [12], in clock ticks.
            double seconds = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            return (stat[(stat.IndexOf('(') + 1)..close], seconds);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Threads that belong to the Kafka host rather than to the step's own work: librdkafka's (<c>rdk:</c>), and the
    /// .NET thread pool and long-running threads the host's loop and Confluent.Kafka's poll loop run on (the step
    /// pass runs on a thread of its own and does not use them).
    /// </summary>
    public static bool IsKafkaHost(string name) => name.StartsWith("rdk:", StringComparison.Ordinal) || name.StartsWith(".NET TP Worker", StringComparison.Ordinal) || name.StartsWith(".NET Long Runni", StringComparison.Ordinal);

    /// <summary>CPU seconds spent between two snapshots, summed by thread name with trailing digits removed.</summary>
    public static Dictionary<string, double> Delta(Dictionary<int, (string Name, double Seconds)> before, Dictionary<int, (string Name, double Seconds)> after)
    {
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (tid, (name, seconds)) in after)
        {
            double start = before.TryGetValue(tid, out var b) ? b.Seconds : 0;
            string key = name.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');
            sums[key] = sums.GetValueOrDefault(key) + seconds - start;
        }
        return sums;
    }
}

