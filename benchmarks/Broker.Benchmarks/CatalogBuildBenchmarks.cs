using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// Issue 11's index build rate, rows per second on one core (the Rows/s column): the whole
/// <c>taskset -c 0 dotnet broker.dll catalog build --csv catalog.csv --id-column id --ra-column ra --dec-column dec --out F</c>
/// (a child process: start-up, CSV parsing, keying, sorting, spilling, merging, writing), and
/// <see cref="CatalogIndexBuilder.Build"/> on rows already in memory (in the benchmark process; the builder uses one
/// thread; CPU time is the process's, garbage collector included). Default chunk
/// size (2^20 rows). Catalogue: <see cref="SkyTestCatalog.Contrasts"/> at 10^6 rows, 10^8 when
/// <c>BROKER_BENCH_ROWS</c> asks; cached as <see cref="CommandBenchmarkInputs"/> says.
/// Run: <c>taskset -c 0 dotnet benchmarks/Broker.Benchmarks/bin/Release/net10.0/Broker.Benchmarks.dll --filter '*CatalogBuild*'</c>
/// (read the CPU columns on a shared machine).
/// </summary>
[Config(typeof(CommandBenchmarkConfig))]
public class CatalogBuildBenchmarks
{
    private string _dll = "", _csv = "", _out = "";
    private SkyTestCatalog? _catalog;

    /// <summary>Catalogue rows.</summary>
    [ParamsSource(nameof(RowCounts))]
    public int Rows { get; set; }

    /// <summary>10^6, and 10^8 when <c>BROKER_BENCH_ROWS</c> asks.</summary>
    public static IEnumerable<int> RowCounts() => CommandBenchmarkInputs.RowCounts();

    [GlobalSetup(Target = nameof(Cli))]
    public void SetupCli()
    {
        _dll = CommandBenchmarkInputs.BrokerDll();
        (_csv, _) = CommandBenchmarkInputs.Csv(Rows);
        _out = OutPath();
    }

    [GlobalSetup(Target = nameof(InMemory))]
    public void SetupInMemory()
    {
        _catalog = CommandBenchmarkInputs.Catalog(Rows);
        _out = OutPath();
    }

    [IterationCleanup]
    public void DeleteOutput() => File.Delete(_out);

    /// <summary>The whole <c>broker catalog build --csv</c> command.</summary>
    [Benchmark]
    public void Cli() => CommandBenchmarkColumns.AddCpu(typeof(CatalogBuildBenchmarks), nameof(Cli), Rows, null, CommandBenchmarkInputs.RunCpu(
        ["dotnet", _dll, "catalog", "build", "--csv", _csv, "--id-column", "id", "--ra-column", "ra", "--dec-column", "dec", "--out", _out]));

    /// <summary><see cref="CatalogIndexBuilder.Build"/> on rows in memory: keying, sorting, spilling, merging, writing.</summary>
    [Benchmark]
    public CatalogIndexBuildResult InMemory()
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var result = CatalogIndexBuilder.Build(RowsOf(_catalog!), new CatalogColumns("id", "ra", "dec"), "generated", _out);
        CommandBenchmarkColumns.AddCpu(typeof(CatalogBuildBenchmarks), nameof(InMemory), Rows, null, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds);
        return result;
    }

    private string OutPath()
    {
        string folder = Path.Combine(CommandBenchmarkInputs.Folder(Rows), "out");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, "build.bci");
    }

    private static IEnumerable<CatalogRow> RowsOf(SkyTestCatalog c)
    {
        for (int i = 0; i < c.Count; i++) yield return new CatalogRow(new CatalogId(c.Ids[i], null), c.Ra[i], c.Dec[i], null, null, null, []);
    }
}
