using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Broker.Benchmarks;

/// <summary>
/// Issue 11's whole-command benchmark: <c>broker xmatch</c> as a user runs it, against Q3C doing the same work as a
/// user would, on one core. One operation is one whole run: Broker is
/// <c>taskset -c 0 dotnet services/Broker.Cli/bin/Release/net10.0/broker.dll xmatch --catalog F --radius R --positions P &gt; out.csv</c>
/// (a child process: .NET start-up, opening the index, reading the positions CSV, writing every pair);
/// Q3C is <c>taskset -c 0 psql -c "\copy (select p.id, c.id, q3c_dist(...) * 3600 from positions p, catalog c
/// where q3c_join(p.ra, p.dec, c.ra, c.dec, R/3600) order by p.id, 3) to 'out.csv' csv header"</c> against a
/// PostgreSQL 15 whose server is pinned to the same CPU (every backend inherits it), positions loaded into a table
/// beforehand, the catalogue indexed and clustered as Q3C's README says, no parallel workers, <c>work_mem</c> 256 MB
/// for the sort. Both outputs are the same pairs in the same order (per position in input order, by separation;
/// equal separations may differ in order).
/// </summary>
/// <remarks>
/// Catalogue: <see cref="Broker.TestSupport.SkyTestCatalog.Contrasts"/> at 10^6 rows, and 10^8 when asked
/// (<c>BROKER_BENCH_ROWS=1000000,100000000</c>); positions: <see cref="CommandBenchmarkInputs.PositionCount"/>
/// (see <see cref="CommandBenchmarkInputs"/>). Inputs are cached in <c>$BROKER_BENCH_CACHE</c> (default
/// <c>/tmp/broker-bench-cache</c>). BenchmarkDotNet's times are wall-clock on one pinned core (<c>$BROKER_BENCH_CPU</c>,
/// default 0), which on a shared machine counts others' load; the CPU columns (<see cref="CommandBenchmarkColumns"/>)
/// do not. "x Q3C" and "CPU x Q3C" are Broker's speed-up over Q3C where above 1.
/// Run (docs/catalogs.md, Measured): <c>taskset -c 0 dotnet benchmarks/Broker.Benchmarks/bin/Release/net10.0/Broker.Benchmarks.dll --filter '*XmatchCommand*'</c>
/// </remarks>
[Config(typeof(CommandBenchmarkConfig))]
public class XmatchCommandBenchmarks
{
    private string _dll = "", _index = "", _positions = "", _brokerOut = "", _q3cOut = "";
    private Broker.TestSupport.Q3cDatabase? _db;

    /// <summary>Catalogue rows.</summary>
    [ParamsSource(nameof(RowCounts))]
    public int Rows { get; set; }

    /// <summary>Match radius, arcseconds.</summary>
    [Params(1.0, 5.0, 60.0)]
    public double RadiusArcsec { get; set; }

    /// <summary>10^6, and 10^8 when <c>BROKER_BENCH_ROWS</c> asks.</summary>
    public static IEnumerable<int> RowCounts() => CommandBenchmarkInputs.RowCounts();

    [GlobalSetup]
    public void Setup()
    {
        _dll = CommandBenchmarkInputs.BrokerDll();
        _index = CommandBenchmarkInputs.Index(Rows);
        (_, _positions) = CommandBenchmarkInputs.Csv(Rows);
        _db = CommandBenchmarkInputs.Database(Rows);
        CommandBenchmarkInputs.PinServer(_db);
        string output = Path.Combine(CommandBenchmarkInputs.Folder(Rows), "out");
        Directory.CreateDirectory(output);
        _brokerOut = Path.Combine(output, FormattableString.Invariant($"broker-{RadiusArcsec}.csv"));
        _q3cOut = Path.Combine(output, FormattableString.Invariant($"q3c-{RadiusArcsec}.csv"));
    }

    [GlobalCleanup(Target = nameof(Broker))]
    public void CleanupBroker() => Finish(nameof(Broker), _brokerOut);

    [GlobalCleanup(Target = nameof(Q3c))]
    public void CleanupQ3c() => Finish(nameof(Q3c), _q3cOut);

    /// <summary>Records the pairs the last run wrote (for the columns), stops PostgreSQL, deletes the output.</summary>
    private void Finish(string method, string output)
    {
        long pairs = CommandBenchmarkInputs.DataLines(output);
        CommandBenchmarkColumns.Record(Rows, RadiusArcsec, method, pairs);
        Console.WriteLine($"// {method}, {Rows} rows, {RadiusArcsec}\": {pairs} pairs for {CommandBenchmarkColumns.Positions(Rows)} positions");
        _db?.Dispose();
        File.Delete(output);
    }

    /// <summary>The whole <c>broker xmatch</c> command, output to a file.</summary>
    [Benchmark]
    public void Broker() => CommandBenchmarkColumns.AddCpu(typeof(XmatchCommandBenchmarks), nameof(Broker), Rows, RadiusArcsec,
        CommandBenchmarkInputs.RunCpu(["dotnet", _dll, "xmatch", "--catalog", _index, "--radius", RadiusArcsec.ToString("R", CultureInfo.InvariantCulture), "--positions", _positions], _brokerOut));

    /// <summary>The same pairs, in the same order, by Q3C through psql's <c>\copy</c> to a CSV file.</summary>
    [Benchmark(Baseline = true)]
    public void Q3c()
    {
        string radiusDeg = (RadiusArcsec / 3600).ToString("R", CultureInfo.InvariantCulture);
        CommandBenchmarkColumns.AddCpu(typeof(XmatchCommandBenchmarks), nameof(Q3c), Rows, RadiusArcsec, CommandBenchmarkInputs.RunCpu(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
             "-h", _db!.Folder, "-p", _db.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-d", "postgres",
             "-c", "set max_parallel_workers_per_gather = 0", "-c", "set work_mem = '256MB'",
             "-c", $"\\copy (select p.id, c.id as catalog_id, q3c_dist(p.ra, p.dec, c.ra, c.dec) * 3600 as separation_arcsec " +
                   $"from positions p, catalog c where q3c_join(p.ra, p.dec, c.ra, c.dec, {radiusDeg}) order by p.id, 3) to '{_q3cOut}' csv header"],
            server: _db));
    }
}

/// <summary>
/// One launch, one warm-up and <c>$BROKER_BENCH_ITERATIONS</c> (default 3) measured runs of one operation each
/// (BenchmarkDotNet's Monitoring strategy: an operation here is seconds long), run in the benchmark process
/// (in-process toolchain: the measured commands are child processes pinned by <c>taskset</c>, and no boilerplate
/// project is built, which took over BenchmarkDotNet's two-minute build limit on a loaded machine); the columns of
/// <see cref="CommandBenchmarkColumns"/>.
/// </summary>
public sealed class CommandBenchmarkConfig : ManualConfig
{
    public CommandBenchmarkConfig()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("BROKER_BENCH_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 3;
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(iterations)
            .WithInvocationCount(1).WithUnrollFactor(1).WithToolchain(InProcessEmitToolchain.Instance));
        AddColumn(CommandBenchmarkColumns.All);
    }
}

/// <summary>
/// Columns computed from counts recorded in the cache folder (<c>pairs-RADIUS-METHOD.txt</c>: the pairs of the
/// case's last run), the CPU seconds of each run (<see cref="AddCpu"/>; in this process, as the jobs run in-process)
/// and the mean wall time: pairs, pairs and positions per second (wall), rows per second (builds), Q3C's mean wall
/// time over this case's ("x Q3C"), median CPU seconds, pairs or rows per CPU second, and Q3C's CPU over this
/// case's ("CPU x Q3C", the figure that holds on a shared machine).
/// </summary>
public static class CommandBenchmarkColumns
{
    /// <summary>Every column.</summary>
    public static IColumn[] All { get; } =
    [
        new Column("Pairs", (c, _) => Pairs(c) is { } p ? p.ToString(CultureInfo.InvariantCulture) : "-"),
        new Column("Pairs/s", (c, mean) => Pairs(c) is { } p && mean > 0 ? (p / mean).ToString("N0", CultureInfo.InvariantCulture) : "-"),
        new Column("Positions/s", (c, mean) => IsXmatch(c) && Positions(Param<int>(c, "Rows")) is { } n && mean > 0 ? (n / mean).ToString("N0", CultureInfo.InvariantCulture) : "-"),
        new Column("Rows/s", (c, mean) => !IsXmatch(c) && mean > 0 ? (Param<int>(c, "Rows") / mean).ToString("N0", CultureInfo.InvariantCulture) : "-"),
        new Column("x Q3C", null),
        new Column("CPU s", (c, _) => Cpu(c) is { } cpu ? cpu.ToString("F2", CultureInfo.InvariantCulture) : "-"),
        new Column("Pairs/CPU-s", (c, _) => Pairs(c) is { } p && Cpu(c) is { } cpu ? (p / cpu).ToString("N0", CultureInfo.InvariantCulture) : "-"),
        new Column("Rows/CPU-s", (c, _) => !IsXmatch(c) && Cpu(c) is { } cpu ? (Param<int>(c, "Rows") / cpu).ToString("N0", CultureInfo.InvariantCulture) : "-"),
        new Column("CPU x Q3C", null),
    ];

    private static readonly Dictionary<string, List<double>> CpuSeconds = [];

    /// <summary>Records the CPU seconds of one run (warm-up included) of a case; the columns show the median.</summary>
    public static void AddCpu(Type type, string method, int rows, double? radius, double seconds)
    {
        string key = CpuKey(type, method, rows, radius);
        lock (CpuSeconds)
        {
            if (!CpuSeconds.TryGetValue(key, out var list)) CpuSeconds[key] = list = [];
            list.Add(seconds);
        }
    }

    private static string CpuKey(Type type, string method, int rows, double? radius) =>
        FormattableString.Invariant($"{type.Name}.{method}|{rows}|{radius}");

    private static double? Cpu(BenchmarkCase c)
    {
        double? radius = IsXmatch(c) ? Param<double>(c, "RadiusArcsec") : null;
        lock (CpuSeconds)
        {
            if (!CpuSeconds.TryGetValue(CpuKey(c.Descriptor.Type, c.Descriptor.WorkloadMethod.Name, Param<int>(c, "Rows"), radius), out var list) || list.Count == 0) return null;
            var sorted = list.Order().ToArray();
            return sorted[sorted.Length / 2];
        }
    }

    /// <summary>Records the pairs one run of <paramref name="method"/> wrote, for the columns.</summary>
    public static void Record(int rows, double radius, string method, long pairs) =>
        File.WriteAllText(CountsFile(rows, radius, method), pairs.ToString(CultureInfo.InvariantCulture));

    /// <summary>Positions in the cached positions file of <paramref name="rows"/> rows, or null before it exists.</summary>
    public static long? Positions(int rows)
    {
        string path = Path.Combine(CommandBenchmarkInputs.Folder(rows), "positions.csv");
        return File.Exists(path) ? CommandBenchmarkInputs.DataLines(path) : null;
    }

    private static string CountsFile(int rows, double radius, string method) =>
        Path.Combine(CommandBenchmarkInputs.Folder(rows), FormattableString.Invariant($"pairs-{radius}-{method}.txt"));

    private static bool IsXmatch(BenchmarkCase c) => c.Descriptor.Type == typeof(XmatchCommandBenchmarks);

    private static long? Pairs(BenchmarkCase c)
    {
        if (!IsXmatch(c)) return null;
        string path = CountsFile(Param<int>(c, "Rows"), Param<double>(c, "RadiusArcsec"), c.Descriptor.WorkloadMethod.Name);
        return File.Exists(path) ? long.Parse(File.ReadAllText(path), CultureInfo.InvariantCulture) : null;
    }

    private static T Param<T>(BenchmarkCase c, string name) => (T)c.Parameters[name];

    private sealed class Column(string name, Func<BenchmarkCase, double, string>? value) : IColumn
    {
        public string Id => "Broker." + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => name switch
        {
            "x Q3C" => "Q3C's mean wall time over this case's, same parameters (above 1: faster than Q3C)",
            "CPU x Q3C" => "Q3C's median CPU time over this case's, same parameters (above 1: faster than Q3C)",
            "CPU s" => "median CPU seconds (user + system) of one run: the command and its children, and for Q3C the PostgreSQL backend",
            "Pairs/CPU-s" or "Rows/CPU-s" => name[..name.IndexOf('/')] + " over the median CPU seconds of one run",
            "Pairs" => "pairs written by one run",
            _ => name + " over the mean time of one whole run",
        };

        public bool IsAvailable(Summary summary) => true;

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            double mean = Seconds(summary, benchmarkCase);
            if (value is not null) return value(benchmarkCase, mean);
            if (!IsXmatch(benchmarkCase)) return "-";
            var q3c = summary.BenchmarksCases.FirstOrDefault(c => c.Descriptor.Type == benchmarkCase.Descriptor.Type
                && c.Descriptor.WorkloadMethod.Name == nameof(XmatchCommandBenchmarks.Q3c)
                && c.Parameters.DisplayInfo == benchmarkCase.Parameters.DisplayInfo);
            if (q3c is null) return "-";
            double ours = name == "x Q3C" ? mean : Cpu(benchmarkCase) ?? 0, theirs = name == "x Q3C" ? Seconds(summary, q3c) : Cpu(q3c) ?? 0;
            return ours > 0 && theirs > 0 ? (theirs / ours).ToString("F2", CultureInfo.InvariantCulture) : "-";
        }

        private static double Seconds(Summary summary, BenchmarkCase c) => summary[c]?.ResultStatistics?.Mean is { } ns ? ns / 1e9 : 0;
    }
}
