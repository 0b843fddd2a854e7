// Load harness (not a test): ingest's throughput and per-alert latency three ways on the same messages:
//   step only   - IngestStep.ExecuteAsync called directly in batches (the cost of the step itself);
//   in-process  - InProcessPipeline (bounded channels), as `broker run` and `broker demo`;
//   kafka       - replay into librdkafka's mock cluster, KafkaStepHost (consume, step, encode, produce, commit),
//                 latency = time the output is read downstream minus the replay time stamp in its header.
// The mock cluster runs in a child process (this program with --mock-cluster, like `broker dev-kafka`) so that the
// CPU it burns is not charged to the host; CPU time per alert of this process is reported for the step alone and
// for the Kafka host draining the backlog (replay finished before the clock starts).
// Usage: dotnet run -c Release --project benchmarks/Broker.LoadTest -- [DATA_DIR] [COPIES] [--in-process-cluster]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Broker.Alerts.Avro;
using Broker.Ingest;
using Broker.StepHost;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;

if (args.Length > 0 && args[0] == "--mock-cluster")
{
    // Child mode: a mock cluster with the topology, its bootstrap on stdout, until stdin closes.
    using var mock = new MockCluster();
    mock.CreateTopology(int.Parse(args[1], CultureInfo.InvariantCulture));
    Console.Out.WriteLine(mock.Bootstrap);
    Console.Out.Flush();
    Console.In.ReadToEnd();
    return 0;
}
bool sameProcessCluster = args.Contains("--in-process-cluster");
args = args.Where(a => a != "--in-process-cluster").ToArray();
string data = args.Length > 0 ? args[0] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/data"));
int copies = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
var self = Process.GetCurrentProcess();
double CpuSeconds()
{
    self.Refresh();
    return self.TotalProcessorTime.TotalSeconds;
}
double stepCpuPerAlert = 0, hostCpuPerAlert = 0;
var registry = new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema"));
var one = SurveyFiles.Read([Path.Combine(data, "ztf", "alerts"), Path.Combine(data, "lsst", "alerts")], registry).ToList();
var messages = Enumerable.Range(0, copies).SelectMany(_ => one).ToList();
long bytes = messages.Sum(m => (long)m.Value.Length);
Console.WriteLine($"{messages.Count} messages ({bytes / 1e6:F1} MB): {one.Count} real alerts x {copies}; {Environment.ProcessorCount} cores");
var ingestOptions = new IngestOptions { DuplicateWindow = 0 };
var rows = new List<(string Path, int Alerts, double Seconds, double P50, double P99)>();

// Warm-up: JIT the decode and mapping paths.
await new IngestStep(ingestOptions, registry).ExecuteAsync(one.Take(50).Select(m => m.Value).ToList(), CancellationToken.None);

// 1. The step alone (twice: the first pass lets tiered JIT settle, the second is reported).
for (int pass = 0; pass < 2; pass++)
{
    if (pass == 1) rows.Clear();
    var step = new IngestStep(ingestOptions, registry);
    var latencies = new List<double>();
    double cpu0 = CpuSeconds();
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < messages.Count; i += 64)
    {
        var batch = messages.Skip(i).Take(64).Select(m => m.Value).ToList();
        long t = Stopwatch.GetTimestamp();
        await step.ExecuteAsync(batch, CancellationToken.None);
        double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        for (int k = 0; k < batch.Count; k++) latencies.Add(ms);
    }
    stepCpuPerAlert = (CpuSeconds() - cpu0) / messages.Count;
    rows.Add(("step only (batches of 64)", messages.Count, sw.Elapsed.TotalSeconds, Pct(latencies, 0.5), Pct(latencies, 0.99)));
}

// 2. In-process runner.
{
    var pipeline = new InProcessPipeline([IngestService.Stage(ingestOptions, registry)], new InProcessOptions { BatchSize = 64, ChannelCapacity = 64 });
    async IAsyncEnumerable<SourceMessage> Source()
    {
        foreach (var m in messages) yield return m;
        await Task.CompletedTask;
    }
    var summary = await pipeline.RunAsync(Source(), o => AlertMessageCodec.Instance.Encode((Broker.Alerts.Model.Alert)o.Value));
    rows.Add(("in-process (encode incl.)", (int)summary.Read, summary.Elapsed.TotalSeconds, summary.LatencyP50Ms, summary.LatencyP99Ms));
}

// 3. Through the mock cluster.
{
    const int partitions = 64;
    using var cluster = sameProcessCluster ? new MockCluster() : null;
    cluster?.CreateTopology(partitions);
    using var child = sameProcessCluster ? null : Process.Start(new ProcessStartInfo("dotnet")
    {
        ArgumentList = { typeof(MockCluster).Assembly.Location.Replace("Broker.StepHost.dll", "Broker.LoadTest.dll", StringComparison.Ordinal), "--mock-cluster", partitions.ToString(CultureInfo.InvariantCulture) },
        RedirectStandardInput = true,
        RedirectStandardOutput = true,
        UseShellExecute = false,
    });
    string bootstrap = cluster?.Bootstrap ?? child!.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the mock cluster process did not start");
    Console.WriteLine($"mock cluster at {bootstrap} ({(sameProcessCluster ? "in this process" : "separate process")})");
    var kafka = KafkaSettings.ForBootstrap(bootstrap);
    using (var producer = KafkaClients.Producer(kafka))
    {
        foreach (var m in messages)
        {
            var headers = new Headers { { BrokerHeaders.TimeHeader("replay"), BrokerHeaders.Number(BrokerHeaders.NowMicros()) } };
            producer.Produce(BrokerTopics.SurveyAlerts, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(m.Key ?? ""), Value = m.Value, Headers = headers });
        }
        producer.Flush(TimeSpan.FromMinutes(1));
    }
    // Throughput: drain the backlog. Latency: a second, paced wave read downstream as it arrives.
    var options = new StepHostOptions { InputTopic = BrokerTopics.SurveyAlerts, OutputTopic = BrokerTopics.Ingested, BatchSize = 500, BatchWaitMs = 20, MetricsIntervalSeconds = 0 };
    var host = new KafkaStepHost<byte[], Broker.Alerts.Model.Alert>(new IngestStep(ingestOptions, registry), RawBytesCodec.Instance, AlertMessageCodec.Instance, options, kafka, NullLogger.Instance);
    using var stop = new CancellationTokenSource();
    var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    // The clock and the CPU count start when the first batch is done, so that start-up (the mock's ~3 s group join
    // delay) is not charged to throughput: rate = alerts after the first batch / time after it.
    long firstIn = 0, t0 = 0;
    double cpu0 = 0;
    host.BatchCompleted += s =>
    {
        if (t0 == 0)
        {
            firstIn = s.In;
            cpu0 = CpuSeconds();
            t0 = Stopwatch.GetTimestamp();
        }
        if (s.In >= messages.Count) drained.TrySetResult();
    };
    var run = Task.Run(() => host.RunAsync(stop.Token));
    await Task.WhenAny(drained.Task, run);
    double backlogSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
    int backlogAlerts = (int)(messages.Count - firstIn);
    hostCpuPerAlert = (CpuSeconds() - cpu0) / backlogAlerts;

    // Paced wave: one alert at a time at a modest rate, read downstream as it arrives.
    var config = KafkaClients.ConsumerConfig(kafka, "loadtest-reader", "earliest");
    using var reader = new ConsumerBuilder<byte[], byte[]>(config).Build();
    reader.Subscribe(BrokerTopics.Ingested);
    // Join the group before the wave starts (the mock delays a first join by ~3 s).
    while (reader.Assignment.Count == 0) reader.Consume(100);
    long waveStart = BrokerHeaders.NowMicros();
    var latencies = new List<double>();
    var check = await new IngestStep(ingestOptions, registry).ExecuteAsync(one.Select(m => m.Value).ToList(), CancellationToken.None);
    var wave = one.Where((m, i) => check[i].Outcome == StepOutcome.Emitted).Take(300).ToList();
    using (var producer = KafkaClients.Producer(kafka))
    {
        var produceTask = Task.Run(() =>
        {
            foreach (var m in wave)
            {
                var headers = new Headers { { BrokerHeaders.TimeHeader("replay"), BrokerHeaders.Number(BrokerHeaders.NowMicros()) } };
                producer.Produce(BrokerTopics.SurveyAlerts, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(m.Key!), Value = m.Value, Headers = headers });
                producer.Flush(TimeSpan.FromSeconds(5));
                Thread.Sleep(10);
            }
        });
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
    }
    stop.Cancel();
    await run;
    child?.StandardInput.Close();
    child?.WaitForExit();
    rows.Add(($"kafka mock, backlog ({partitions} partitions)", backlogAlerts, backlogSeconds, double.NaN, double.NaN));
    rows.Add(("kafka mock, paced 1 alert/10 ms", latencies.Count, double.NaN, Pct(latencies, 0.5), Pct(latencies, 0.99)));
}

Console.WriteLine();
Console.WriteLine($"{"path",-38}{"alerts",8}{"alerts/s",10}{"p50 ms",10}{"p99 ms",10}");
foreach (var r in rows)
    Console.WriteLine($"{r.Path,-38}{r.Alerts,8}{(double.IsNaN(r.Seconds) ? "-" : (r.Alerts / r.Seconds).ToString("F0", CultureInfo.InvariantCulture)),10}{Fmt(r.P50),10}{Fmt(r.P99),10}");
double stepRate = rows[0].Alerts / rows[0].Seconds, kafkaRate = rows[2].Alerts / rows[2].Seconds;
Console.WriteLine($"\nHost overhead on throughput vs the step alone: {(stepRate / kafkaRate - 1) * 100:F1}% (Kafka), {(stepRate / (rows[1].Alerts / rows[1].Seconds) - 1) * 100:F1}% (in-process)");
Console.WriteLine($"CPU per alert of this process: step alone {stepCpuPerAlert * 1000:F2} ms, Kafka host draining the backlog {hostCpuPerAlert * 1000:F2} ms (host adds {(hostCpuPerAlert / stepCpuPerAlert - 1) * 100:F1}%{(sameProcessCluster ? ", mock cluster included" : "")})");
return 0;

static double Pct(List<double> values, double q)
{
    var sorted = values.ToArray();
    Array.Sort(sorted);
    return RunSummary.Percentile(sorted, q);
}

static string Fmt(double v) => double.IsNaN(v) ? "-" : v.ToString("F1", CultureInfo.InvariantCulture);
