// Load harness (not a test): ingest's throughput and per-alert latency three ways on the same messages:
//   step only   - IngestStep.ExecuteAsync called directly in batches (the cost of the step itself);
//   in-process  - InProcessPipeline (bounded channels), as `broker run` and `broker demo`;
//   kafka       - replay into librdkafka's mock cluster, KafkaStepHost (consume, step, encode, produce, commit),
//                 latency = time the output is read downstream minus the replay time stamp in its header.
// The mock cluster runs in a child process (this program with --mock-cluster, like `broker dev-kafka`), which also
// replays the measured alerts, so that neither's CPU is charged to the host. CPU per alert of this process is compared
// in ROUNDS rounds, each a pass of the step plus the output encoding the host does for it (the fair baseline) on a
// thread of its own, then the Kafka host on the same messages; the median is reported, with a breakdown by thread.
// Then a backlog of COPIES copies is drained by a fresh host, for its alerts/s with librdkafka on the second core.
// Last, the host's own cost against the transport's floor: ROUNDS rounds alternating the host with a pass-through step
// and a bare Confluent.Kafka consume-and-produce loop (BareLoop) with the host's settings, on the same messages.
// Usage: dotnet run -c Release --project benchmarks/Broker.LoadTest -- [DATA_DIR] [COPIES] [ROUNDS]
//          [--in-process-cluster] [--batch N] [--consumer NAME=VALUE]... [--producer NAME=VALUE]...
//        ... -- --probe [size=N,count=N,SETTING=VALUE,...]...
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

// librdkafka.redist's library, before any Kafka call and in every mode (KafkaNative says why).
Console.Error.WriteLine($"librdkafka {KafkaNative.Load()} ({KafkaNative.Path ?? "runtime probing"})");
if (args.Length > 0 && args[0] == "--mock-cluster")
{
    // Child mode: a mock cluster with the topology, its bootstrap on stdout; then each line "replay DATA_DIR COPIES"
    // on stdin produces the sample alerts COPIES times into the survey topic from this process (so the producer's CPU
    // is not charged to the host either) and answers "done"; until stdin closes.
    using var mock = new MockCluster();
    mock.CreateTopology(int.Parse(args[1], CultureInfo.InvariantCulture));
    foreach (var topic in HarnessTopics(int.Parse(args[2], CultureInfo.InvariantCulture))) mock.CreateTopic(topic, int.Parse(args[1], CultureInfo.InvariantCulture));
    Console.Out.WriteLine(mock.Bootstrap);
    Console.Out.Flush();
    while (Console.In.ReadLine() is { } line)
    {
        var words = line.Split(' ');
        Replay(KafkaSettings.ForBootstrap(mock.Bootstrap), ReadAlerts(words[1]), int.Parse(words[2], CultureInfo.InvariantCulture));
        Console.Out.WriteLine("done");
        Console.Out.Flush();
    }
    return 0;
}
if (args.Length > 0 && args[0] == "--probe")
{
    // Probe mode: how long a flush of COUNT messages of SIZE bytes into an in-process mock cluster takes, 15 times, for
    // each argument "size=N,count=N,LIBRDKAFKA.SETTING=VALUE,..." (found the mock's 40 ms Nagle stalls, MockCluster).
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
// configuration sections do for a service), to compare settings on the same messages.
var hostConsumerSettings = new Dictionary<string, string>(StringComparer.Ordinal);
var hostProducerSettings = new Dictionary<string, string>(StringComparer.Ordinal);
int? batchOption = null;
{
    var rest = new List<string>();
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] is "--consumer" or "--producer" && i + 1 < args.Length && args[i + 1].Split('=', 2) is [var name, var value])
        {
            (args[i] == "--consumer" ? hostConsumerSettings : hostProducerSettings)[name] = value;
            i++;
        }
        else if (args[i] == "--batch" && i + 1 < args.Length)
        {
            batchOption = int.Parse(args[++i], CultureInfo.InvariantCulture);
        }
        else if (args[i] != "--in-process-cluster")
        {
            rest.Add(args[i]);
        }
    }
    args = rest.ToArray();
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
var registry = new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema"));
var one = ReadAlerts(data);
var messages = Enumerable.Range(0, copies).SelectMany(_ => one).ToList();
long bytes = messages.Sum(m => (long)m.Value.Length);
Console.WriteLine($"{messages.Count} messages ({bytes / 1e6:F1} MB): {one.Count} real alerts x {copies}; {Environment.ProcessorCount} cores");
var ingestOptions = new IngestOptions { DuplicateWindow = 0 };
// One batch size for every path: a step's cost per alert depends on it (a batch of 500 ~65 kB alerts keeps ~30 MB of
// decoded alerts and cutouts alive through each GC), so comparing the host at 500 with the step alone at 64 charged
// that to the host. --batch N changes it for every path.
int batchSize = batchOption ?? 64;
var rows = new List<(string Path, int Alerts, double Seconds, double P50, double P99)>();

// Warm-up: JIT the decode and mapping paths.
await new IngestStep(ingestOptions, registry).ExecuteAsync(one.Take(50).Select(m => m.Value).ToList(), CancellationToken.None);

// 1. The step alone, on the main thread. Passes 0 and 1 let tiered JIT settle; pass 2 is the step call only. The
// step + encode baseline (the step, plus the encoding of each output and its key that the Kafka host does for it; the
// host decodes nothing for ingest: its input codec passes the bytes through) is measured in the rounds below.
for (int pass = 0; pass < 3; pass++)
{
    var sw = Stopwatch.StartNew();
    Mark($"step-pass-{pass}-start");
    var (perAlert, latencies, _, _) = await StepPassAsync(encode: pass != 2);
    Mark($"step-pass-{pass}-end");
    if (pass == 2)
    {
        stepCpuPerAlert = perAlert;
        rows.Add(($"step only (batches of {batchSize})", messages.Count, sw.Elapsed.TotalSeconds, Pct(latencies, 0.5), Pct(latencies, 0.99)));
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
            var step = new IngestStep(ingestOptions, registry);
            var latencies = new List<double>(messages.Count);
            var before = ThreadCpu.Snapshot();
            long start = Stopwatch.GetTimestamp();
            long encoded = 0, count = 0;
            for (int i = 0; i < messages.Count; i += batchSize)
            {
                var batch = new List<byte[]>(batchSize);
                for (int k = i; k < Math.Min(i + batchSize, messages.Count); k++) batch.Add(messages[k].Value);
                long t = Stopwatch.GetTimestamp();
                // IngestStep completes synchronously.
                var results = step.ExecuteAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                if (encode)
                {
                    foreach (var r in results)
                    {
                        if (r.Outcome != StepOutcome.Emitted) continue;
                        encoded += AlertMessageCodec.Instance.Encode(r.Value!).Length;
                        encoded += AlertMessageCodec.Instance.KeyBytesOf(r.Value!)!.Length;
                        count++;
                    }
                }
                double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                for (int k = 0; k < batch.Count; k++) latencies.Add(ms);
            }
            Interlocked.Exchange(ref outputBytes, encoded);
            Interlocked.Exchange(ref outputs, count);
            var threads = ThreadCpu.Delta(before, ThreadCpu.Snapshot());
            foreach (var name in threads.Keys.Where(ThreadCpu.IsKafkaHost).ToList()) threads.Remove(name);
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

// 2. In-process runner.
{
    var pipeline = new InProcessPipeline([IngestStep.Stage.Stage(new IngestStep(ingestOptions, registry))], new InProcessOptions { BatchSize = batchSize, ChannelCapacity = 64 });
    async IAsyncEnumerable<SourceMessage> Source()
    {
        foreach (var m in messages) yield return m;
        await Task.CompletedTask;
    }
    var summary = await pipeline.RunAsync(Source(), o => AlertMessageCodec.Instance.Encode((Broker.Alerts.Model.Alert)o.Value));
    rows.Add(("in-process (encode incl.)", (int)summary.Read, summary.Elapsed.TotalSeconds, summary.LatencyP50Ms, summary.LatencyP99Ms));
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
    foreach (var topic in sameProcessCluster ? HarnessTopics(rounds) : []) cluster!.CreateTopic(topic, partitions);
    using var child = sameProcessCluster ? null : Process.Start(new ProcessStartInfo("dotnet")
    {
        ArgumentList = { typeof(MockCluster).Assembly.Location.Replace("Broker.StepHost.dll", "Broker.LoadTest.dll", StringComparison.Ordinal), "--mock-cluster", partitions.ToString(CultureInfo.InvariantCulture), rounds.ToString(CultureInfo.InvariantCulture) },
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        UseShellExecute = false,
    });
    string bootstrap = cluster?.Bootstrap ?? child!.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the mock cluster process did not start");
    Console.WriteLine($"mock cluster at {bootstrap} ({(sameProcessCluster ? "in this process" : "separate process")})");
    var kafka = KafkaSettings.ForBootstrap(bootstrap);
    void ReplayInto(int times)
    {
        if (child is null)
        {
            Replay(kafka, one, times);
            return;
        }
        child.StandardInput.WriteLine($"replay {data} {times}");
        child.StandardInput.Flush();
        if (child.StandardOutput.ReadLine() != "done") throw new InvalidOperationException("the mock cluster process did not replay");
    }
    // Throughput and CPU: warm-up waves (each real alert nine times in all) are drained first, so that the measured part
    // runs on code tiered JIT has compiled with its profile (as the step alone does after its warm-up passes; with
    // one warm-up copy the JIT thread was still busy in the window and the host's loop ran partly on unoptimised
    // code, adding ~0.3 ms per alert) and after the mock's ~3 s group join. In each window the host is idle with
    // nothing in hand when the clock starts, the measured alerts are replayed (from the cluster process) after it
    // starts, and it stops when the last is committed, so the window holds exactly the work of the measured alerts.
    // Latency: a paced wave read downstream as it arrives.
    var options = new StepHostOptions { InputTopic = BrokerTopics.SurveyAlerts, OutputTopic = BrokerTopics.Ingested, BatchSize = batchSize, BatchWaitMs = 20, MetricsIntervalSeconds = 0 };
    var hostKafka = KafkaSettings.ForBootstrap(bootstrap);
    foreach (var (k, v) in hostConsumerSettings) hostKafka.Consumer[k] = v;
    foreach (var (k, v) in hostProducerSettings) hostKafka.Producer[k] = v;
    if (hostConsumerSettings.Count + hostProducerSettings.Count > 0)
        Console.WriteLine($"host settings: {string.Join(", ", hostConsumerSettings.Select(p => $"consumer {p.Key}={p.Value}").Concat(hostProducerSettings.Select(p => $"producer {p.Key}={p.Value}")))}");
    var stop = new CancellationTokenSource();
    long committed = 0, target = long.MaxValue;
    TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    (KafkaStepHost<byte[], Broker.Alerts.Model.Alert> Host, Task Run) Start(StepHostOptions options) =>
        Run(new KafkaStepHost<byte[], Broker.Alerts.Model.Alert>(new IngestStep(ingestOptions, registry), RawBytesCodec.Instance, AlertMessageCodec.Instance, options, hostKafka, NullLogger.Instance));
    (KafkaStepHost<byte[], TOut> Host, Task Run) Run<TOut>(KafkaStepHost<byte[], TOut> h)
    {
        committed = 0;
        h.BatchCompleted += s =>
        {
            Interlocked.Exchange(ref committed, s.In);
            if (s.In >= Interlocked.Read(ref target)) drained.TrySetResult();
        };
        return (h, Task.Run(() => h.RunAsync(stop.Token)));
    }
    var (host, run) = Start(options);
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
    // Three waves of three copies (5,859 alerts, ~92 batches), each drained before the next (one replay of eight
    // copies, ~340 MB, stalled the mock cluster): with one wave (1,953 alerts, ~31 batches) the host's per-batch
    // methods (RunAsync, PrepareAsync, StepRunner) were still in tier 0 or instrumented code and the tiered JIT
    // thread still busy inside the window.
    for (int w = 0; w < 3; w++) await DrainAsync(3);
    // Rounds: the step + encode baseline and the host alternate on the same messages, so that both see the same
    // machine (on this shared 2-core VM, one-off runs of each varied by ±15% from minute to minute). The host stays
    // running, idle, through each step pass; the step pass therefore counts every thread but librdkafka's and the
    // host's thread-pool and poll threads (which then only wait for messages), and the host window counts them all.
    var hostGcStats = new List<string>();
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
    // A fresh consumer group whose offsets are committed at the current end of the input topic: joining the old group
    // again waited out the stopped member's 45 s session in the mock. An output topic of its own: the host's replay
    // guard reads the end of its output topic at start, and in one holding the rounds' outputs every alert replayed
    // below is a duplicate (dropped, not produced: the backlog produced nothing and the paced wave read no output).
    var backlogOptions = new StepHostOptions { InputTopic = options.InputTopic, OutputTopic = BacklogTopic, BatchSize = batchSize, BatchWaitMs = options.BatchWaitMs, MetricsIntervalSeconds = 0, GroupId = "loadtest-backlog" };
    CommitAtEnd(kafka, backlogOptions.GroupId, options.InputTopic, partitions);
    ReplayInto(copies);
    committed = 0;
    long firstAt = 0, firstIn = 0;
    double firstCpu = 0;
    drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Interlocked.Exchange(ref target, (long)copies * one.Count);
    (host, run) = Start(backlogOptions);
    double firstClusterCpu = 0;
    host.BatchCompleted += s =>
    {
        if (Interlocked.Read(ref firstAt) != 0) return;
        firstCpu = CpuSeconds();
        firstClusterCpu = child is null ? 0 : ThreadCpu.OfProcess(child.Id);
        firstIn = s.In;
        Interlocked.Exchange(ref firstAt, Stopwatch.GetTimestamp());
        Mark("backlog-start");
    };
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
    var check = await new IngestStep(ingestOptions, registry).ExecuteAsync(one.Select(m => m.Value).ToList(), CancellationToken.None);
    var wave = one.Where((m, i) => check[i].Outcome == StepOutcome.Emitted).Take(300).ToList();
    // Each alert sent as soon as it is due (linger.ms 0), one every 10 ms, by the writer `broker replay` uses.
    var paced = KafkaSettings.ForBootstrap(bootstrap);
    paced.Producer["linger.ms"] = "0";
    var produceTask = Task.Run(() => TopicWriter.WriteAll(paced, BrokerTopics.SurveyAlerts, wave, i => i * 0.010, CancellationToken.None));
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

    // The host's own cost, measured directly rather than as a difference of two noisy figures: the same host running a
    // step that passes each message through (its bytes and key as they came), on the same messages, in a group whose
    // offsets start at the end of the input topic. Its CPU per alert is everything the host does around a step.
    // Against it, the transport's floor (issue 9): a bare Confluent.Kafka consume-and-produce loop (BareLoop) with the
    // host's settings and batches, on the same messages. Each pass starts fresh clients in a fresh group committed at the
    // end of the input topic (only one of the two is running in a window: both would read the same replay), writing to
    // an output topic of its own (the host's replay guard reads its output topic at start: a second host on a topic
    // already holding these alerts' keys would drop them all as duplicates), waits until its partitions are assigned,
    // drains one copy unmeasured, then in its window replays `copies` copies three times, each waited for until
    // committed; its clients are closed after the window. Round 0 warms both up (10 copies each, as the host was warmed
    // above); rounds 1.. alternate which goes first.
    async Task<(double CpuPerAlert, Dictionary<string, double> Threads, double Rate)> PassAsync(bool viaHost, int round, int waves, int times)
    {
        stop = new CancellationTokenSource();
        string group = $"loadtest-{(viaHost ? "passthrough" : "bare")}-{round}";
        CommitAtEnd(kafka, group, options.InputTopic, partitions);
        Func<int> assigned;
        Func<long>? produced = null;
        if (viaHost)
        {
            var passOptions = new StepHostOptions { InputTopic = options.InputTopic, OutputTopic = PassthroughTopic(round, bare: false), BatchSize = batchSize, BatchWaitMs = options.BatchWaitMs, MetricsIntervalSeconds = 0, GroupId = group };
            var (passHost, passRun) = Run(new KafkaStepHost<byte[], byte[]>(new PassthroughStep(), RawBytesCodec.Instance, RawBytesCodec.Instance, passOptions, hostKafka, NullLogger.Instance));
            run = passRun;
            assigned = () => passHost.AssignedPartitions;
            produced = () => passHost.Counters.Out;
        }
        else
        {
            var bare = new BareLoop(hostKafka, group, options.InputTopic, PassthroughTopic(round, bare: true), batchSize, options.BatchWaitMs);
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
        // every partition (the host asks the cluster for the lag of partitions it has consumed nothing from, 65
        // requests a second, which a long-running service does only until its partitions have seen a message).
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
        // Three drains of `copies` copies per window (3,906 alerts with 2 copies): one drain is ~0.15 s of CPU, ~15
        // clock ticks of the per-thread figures.
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
Console.WriteLine("CPU per alert of this process, rounds alternating step + encode and the Kafka host on the same messages:");
for (int i = 0; i < roundResults.Count; i++)
{
    var (se, h) = roundResults[i];
    Console.WriteLine($"  round {i + 1}: step + encode {se * 1000:F3} ms, Kafka host {h * 1000:F3} ms, host adds {(h / se - 1) * 100:F1}%");
}
double overhead = Median(roundResults.Select(r => r.Host / r.StepEncode - 1));
Console.WriteLine($"median: step + encode {stepEncodeCpuPerAlert * 1000:F3} ms, Kafka host {hostCpuPerAlert * 1000:F3} ms; host adds {overhead * 100:F1}% (median of rounds) to step + encode{(sameProcessCluster ? " (mock cluster included)" : "")}; step call alone {stepCpuPerAlert * 1000:F3} ms");
double stepEncodeRate = messages.Count / Median(stepEncodeSeconds), backlogRate = backlog.Alerts / backlog.Seconds;
// The window opens when the first batch is committed, by when the next batch has already been stepped (pipelining):
// over few batches that unmeasured step inflates the rate.
if (backlog.Alerts < 10 * batchSize)
    Console.WriteLine($"(the backlog below spans fewer than 10 batches of {batchSize}: its rate is biased upwards; use more copies or smaller batches)");
Console.WriteLine($"Throughput: step + encode on one thread {stepEncodeRate:F0} alerts/s (median of rounds); Kafka host draining a backlog of {backlog.Alerts} alerts {backlogRate:F0} alerts/s ({(stepEncodeRate / backlogRate - 1) * 100:F1}% more time per alert); CPU per alert {backlog.CpuPerAlert * 1000:F3} ms in the host's process, {backlog.ClusterCpuPerAlert * 1000:F3} ms in the mock cluster's; {backlogRate * (backlog.CpuPerAlert + backlog.ClusterCpuPerAlert):F2} of {Environment.ProcessorCount} cores busy");
double passthrough = Median(passthroughCpu), bareLoop = Median(bareCpu);
Console.WriteLine($"The host's own cost (a pass-through step, median of {passthroughCpu.Count}: {string.Join(", ", passthroughCpu.Select(c => (c * 1000).ToString("F3", CultureInfo.InvariantCulture)))} ms): {passthrough * 1000:F3} ms per alert, {passthrough / stepEncodeCpuPerAlert * 100:F1}% of step + encode; by thread: {ByThread(passthroughThreads)}");
Console.WriteLine($"The bare Confluent.Kafka loop (same messages, settings and batches; median of {bareCpu.Count}: {string.Join(", ", bareCpu.Select(c => (c * 1000).ToString("F3", CultureInfo.InvariantCulture)))} ms): {bareLoop * 1000:F3} ms per alert; by thread: {ByThread(bareThreads)}");
Console.WriteLine("Pass-through rounds, CPU per alert of this process (by thread, ms):");
foreach (var line in passRounds) Console.WriteLine("  " + line);
var ratios = passthroughCpu.Zip(bareCpu, (h, b) => h / b).ToList();
double ratio = Median(ratios);
Console.WriteLine($"Host vs bare loop: host pass-through {passthrough * 1000:F3} ms, bare loop {bareLoop * 1000:F3} ms CPU per alert (medians); host/bare {ratio:F2} (median of rounds: {string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}); target <= 1.30 {(ratio <= 1.3 ? "met" : "NOT met")}{(sameProcessCluster ? " (mock cluster included)" : "")}");
Console.WriteLine($"Message sizes: input {bytes / (double)messages.Count / 1000:F1} kB, ingest's output {(outputs > 0 ? outputBytes / (double)outputs / 1000 : 0):F1} kB (the pass-through's output is its input)");
Console.WriteLine($"GC (round 1): step + encode {stepGc}; Kafka host {hostGc}");
if (hostThreads.Count > 0)
{
    // Where the CPU went, by thread name (Linux /proc): the step alone runs on the main thread (dotnet), the host's
    // loop on thread-pool threads, librdkafka on its rdk: threads, Confluent.Kafka's poll loops on .NET threads.
    Console.WriteLine("CPU per alert by thread, mean of rounds (ms):  step + encode   Kafka host");
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

static List<SourceMessage> ReadAlerts(string data) =>
    SurveyFiles.Read([Path.Combine(data, "ztf", "alerts"), Path.Combine(data, "lsst", "alerts")], new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema"))).ToList();

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

// The harness's topics beside Broker's topology: the backlog host's output, and each round's pass-through outputs.
static IEnumerable<string> HarnessTopics(int rounds) =>
    Enumerable.Range(0, rounds + 1).SelectMany(r => new[] { PassthroughTopic(r, bare: false), PassthroughTopic(r, bare: true) }).Prepend(BacklogTopic);

static void Replay(KafkaSettings kafka, List<SourceMessage> alerts, int times) =>
    TopicWriter.WriteAll(kafka, BrokerTopics.SurveyAlerts, Enumerable.Range(0, times).SelectMany(_ => alerts), null, CancellationToken.None);

/// <summary>The harness's own names.</summary>
internal static partial class Program
{
    /// <summary>The output topic of the backlog host and the paced wave.</summary>
    private const string BacklogTopic = "loadtest.backlog";
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

