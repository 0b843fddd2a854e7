using System.Diagnostics;
using System.Globalization;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// The inputs of the whole-command benchmarks (<see cref="XmatchCommandBenchmarks"/>, <see cref="CatalogBuildBenchmarks"/>),
/// generated once per catalogue size and kept in a cache folder outside the repository, so that the long setups
/// (10^8 rows: ~4.5 GB of CSV, a 3.2 GB index file, ~8 GB in PostgreSQL) are reused by every run and every
/// benchmark case (BenchmarkDotNet runs each case in its own process).
/// </summary>
/// <remarks>
/// Folder: <c>$BROKER_BENCH_CACHE</c>, default <c>/tmp/broker-bench-cache</c>; one <c>contrasts-ROWS/</c> per size
/// holding <c>catalog.csv</c> (<c>id,ra,dec</c>), <c>catalog.bci</c> (built by <c>broker catalog build --csv</c>),
/// <c>positions.csv</c> (<c>id,ra,dec</c>), and <c>q3c/</c>, a PostgreSQL 15 cluster with tables <c>catalog</c> (Q3C index, clustered,
/// analyzed, as Q3C's README says) and <c>positions</c>. Each piece is written under a temporary name and renamed,
/// or marked done, only when complete, so an interrupted setup is redone, not reused. Delete the folder to start over.
/// The catalogue is <see cref="SkyTestCatalog.Contrasts"/> (seed 20240611); positions are
/// <see cref="PositionCount"/>: half uniform, half within <see cref="NearArcsec"/> of background and Galactic-plane rows, and
/// max(1, 2·10^7 / rows) near rows of each dense part (so the pairs the dense parts add stay of one order at
/// both sizes).
/// </remarks>
public static class CommandBenchmarkInputs
{
    /// <summary>Positions per xmatch run: the command runs for seconds, so .NET's start-up (~0.1 s) is a small part.</summary>
    public const int PositionCount = 200_000;

    /// <summary>
    /// Half the positions lie within this many arcseconds of a background or Galactic-plane row (uniform in offset),
    /// as alerts fall on catalogued sources, so that about half of them have a counterpart at 1" and pairs per
    /// second means something at every radius; the other half is uniform on the sky.
    /// </summary>
    public const double NearArcsec = 2;

    /// <summary>
    /// The CPU that both Broker's command and PostgreSQL's server are pinned to (<c>taskset -c</c>):
    /// <c>$BROKER_BENCH_CPU</c>, default 0. Pick one that others on the machine do not pin to.
    /// </summary>
    public static string Cpu => Environment.GetEnvironmentVariable("BROKER_BENCH_CPU") is { Length: > 0 } c ? c : "0";

    /// <summary>The catalogue sizes to run: <c>$BROKER_BENCH_ROWS</c> (comma-separated), default 10^6 only; 10^8 is opt-in.</summary>
    public static IEnumerable<int> RowCounts()
    {
        string? text = Environment.GetEnvironmentVariable("BROKER_BENCH_ROWS");
        if (string.IsNullOrWhiteSpace(text)) return [1_000_000];
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(t => int.Parse(t, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).ToArray();
    }

    /// <summary>The cache folder (<c>$BROKER_BENCH_CACHE</c> or <c>/tmp/broker-bench-cache</c>).</summary>
    public static string CacheRoot => Environment.GetEnvironmentVariable("BROKER_BENCH_CACHE") is { Length: > 0 } c ? Path.GetFullPath(c) : "/tmp/broker-bench-cache";

    /// <summary>The folder of one catalogue size.</summary>
    public static string Folder(int rows) => Path.Combine(CacheRoot, FormattableString.Invariant($"contrasts-{rows}"));

    /// <summary><c>services/Broker.Cli/bin/Release/net10.0/broker.dll</c>, built by <c>./broker</c> when stale.</summary>
    public static string BrokerDll()
    {
        string root = Environment.GetEnvironmentVariable("BROKER_ROOT") is { Length: > 0 } r ? r : SharedData.RepositoryRoot;
        Run("/bin/bash", [Path.Combine(root, "broker"), "--help"], quiet: true);
        string dll = Path.Combine(root, "services", "Broker.Cli", "bin", "Release", "net10.0", "broker.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} was not built by ./broker");
        return dll;
    }

    /// <summary>The catalogue CSV and the positions CSV of <paramref name="rows"/> rows, generated on first use.</summary>
    public static (string CatalogCsv, string PositionsCsv) Csv(int rows)
    {
        string folder = Folder(rows);
        string catalogCsv = Path.Combine(folder, "catalog.csv"), positionsCsv = Path.Combine(folder, "positions.csv");
        if (File.Exists(catalogCsv) && File.Exists(positionsCsv)) return (catalogCsv, positionsCsv);
        Directory.CreateDirectory(folder);
        var (catalog, positions) = Generate(rows);
        if (!File.Exists(positionsCsv))
        {
            positions.WriteCsv(positionsCsv + ".partial");
            File.Move(positionsCsv + ".partial", positionsCsv, overwrite: true);
        }
        if (!File.Exists(catalogCsv))
        {
            Log($"writing {catalogCsv}");
            catalog.WriteCsv(catalogCsv + ".partial");
            File.Move(catalogCsv + ".partial", catalogCsv, overwrite: true);
        }
        return (catalogCsv, positionsCsv);
    }

    /// <summary>The index file of <paramref name="rows"/> rows, built on first use by <c>broker catalog build --csv</c> (which writes it under a temporary name and renames it).</summary>
    public static string Index(int rows)
    {
        string index = Path.Combine(Folder(rows), "catalog.bci");
        if (File.Exists(index)) return index;
        var (catalogCsv, _) = Csv(rows);
        Log($"building {index}");
        Run("dotnet", [BrokerDll(), "catalog", "build", "--csv", catalogCsv, "--id-column", "id", "--ra-column", "ra", "--dec-column", "dec", "--name", "contrasts", "--out", index]);
        return index;
    }

    /// <summary>
    /// Starts the kept PostgreSQL cluster of <paramref name="rows"/> rows, loading it on first use (binary COPY of both
    /// tables, Q3C's index on the catalogue, <c>cluster</c> up to 10^7 rows, <c>analyze</c>). The caller disposes it (stops it, keeps it).
    /// </summary>
    public static Q3cDatabase Database(int rows)
    {
        string folder = Path.Combine(Folder(rows), "q3c");
        string ready = Path.Combine(Folder(rows), "q3c.ready");
        if (File.Exists(ready))
        {
            var kept = Q3cDatabase.StartKept(folder);
            // Unlogged tables are emptied by crash recovery: a cluster that was not stopped cleanly is loaded again.
            if (Scalar(kept, "select pg_relation_size('catalog')") > 0) return kept;
            kept.Dispose();
            File.Delete(ready);
        }
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        var (catalog, positions) = Generate(rows);
        var db = Q3cDatabase.StartKept(folder);
        Log($"loading {rows} rows into PostgreSQL in {folder}");
        db.Load("catalog", catalog.Ids.ToArray(), catalog.Ra.ToArray(), catalog.Dec.ToArray());
        db.Load("positions", positions.Ids.ToArray(), positions.Ra.ToArray(), positions.Dec.ToArray());
        // Q3C's README clusters the table on its index for locality. At 10^8 rows `cluster` ran over 17 minutes here
        // without finishing (it rewrites the 8 GB table and rebuilds the index), so above 10^7 rows the table stays
        // in load order, which is already sky-ordered in parts (the generator writes each dense part together).
        bool cluster = rows <= 10_000_000;
        Log(cluster ? "q3c index, cluster, analyze" : "q3c index, analyze (no cluster above 10^7 rows)");
        db.Index("catalog", cluster: cluster);
        db.Execute("analyze positions");
        File.WriteAllText(ready, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        return db;
    }

    /// <summary>Pins the server and every backend it forks from now on to <see cref="Cpu"/>.</summary>
    public static void PinServer(Q3cDatabase db) => Run("taskset", ["-a", "-cp", Cpu, db.ServerProcessId.ToString(CultureInfo.InvariantCulture)], quiet: true);

    /// <summary>Lines of a file less its header: the pairs an xmatch output holds.</summary>
    public static long DataLines(string path)
    {
        long lines = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var buffer = new byte[1 << 20];
        int n;
        while ((n = stream.Read(buffer)) > 0) lines += buffer.AsSpan(0, n).Count((byte)'\n');
        return Math.Max(0, lines - 1);
    }

    /// <summary>
    /// Runs <paramref name="command"/> pinned to <see cref="Cpu"/> (<c>taskset</c>), its standard output to
    /// <paramref name="stdoutFile"/> when given, and returns the CPU seconds (user + system) it used: the command's
    /// own, from <c>/usr/bin/time</c>, plus, with <paramref name="server"/>, those of the PostgreSQL backends that
    /// ended meanwhile (the growth of the postmaster's reaped-children times, <c>/proc/PID/stat</c> fields 16-17).
    /// CPU time, unlike wall time, does not count the time other processes held the core.
    /// </summary>
    public static double RunCpu(IEnumerable<string> command, string? stdoutFile = null, Q3cDatabase? server = null)
    {
        string timeFile = Path.Combine(Path.GetTempPath(), $"broker-bench-time-{Environment.ProcessId}.txt");
        var args = new List<string> { "-c", "out=$1; shift; if [ -n \"$out\" ]; then exec \"$@\" > \"$out\"; else exec \"$@\" > /dev/null; fi", "bash", stdoutFile ?? "",
            "/usr/bin/time", "-f", "%U %S", "-o", timeFile, "taskset", "-c", Cpu };
        args.AddRange(command);
        double before = server is null ? 0 : ReapedChildrenSeconds(server.ServerProcessId);
        Run("/bin/bash", args);
        var f = File.ReadAllText(timeFile).Trim().Split(' ', '\n');
        File.Delete(timeFile);
        double seconds = double.Parse(f[^2], CultureInfo.InvariantCulture) + double.Parse(f[^1], CultureInfo.InvariantCulture);
        if (server is null) return seconds;
        // The backend ends after psql does; the postmaster adds its times when it reaps it, a moment later.
        double after = before;
        for (int wait = 0; wait < 100 && after == before; wait++)
        {
            Thread.Sleep(20);
            after = ReapedChildrenSeconds(server.ServerProcessId);
        }
        Thread.Sleep(50);
        return seconds + ReapedChildrenSeconds(server.ServerProcessId) - before;
    }

    /// <summary>cutime + cstime of a process: CPU seconds of its children that ended and were waited for.</summary>
    private static double ReapedChildrenSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields from 3 (state) on; cutime and cstime are fields 16 and 17, in clock ticks (100 a second on Linux).
        return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Runs a program to completion; throws with its standard error when it fails.</summary>
    public static void Run(string program, IEnumerable<string> args, bool quiet = false)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = quiet, UseShellExecute = false };
        foreach (string a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = quiet ? process.StandardOutput.ReadToEndAsync() : Task.FromResult("");
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        _ = stdout.Result;
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', start.ArgumentList)} exited with {process.ExitCode}: {stderr.Trim()}");
        if (!quiet && stderr.Length > 0) Console.WriteLine("// " + stderr.Trim().Replace("\n", "\n// ", StringComparison.Ordinal));
    }

    /// <summary>The catalogue of <paramref name="rows"/> rows in memory (the rows of <c>catalog.csv</c>).</summary>
    public static SkyTestCatalog Catalog(int rows) => Generate(rows).Catalog;

    private static (SkyTestCatalog Catalog, SkyTestCatalog Positions) Generate(int rows)
    {
        Log($"generating {rows} catalogue rows and {PositionCount} positions");
        var rng = new Random(20240611);
        var catalog = SkyTestCatalog.Contrasts(rng, rows);
        var positions = SkyTestCatalog.ContrastPositions(rng, catalog, uniform: PositionCount / 2, near: PositionCount / 2,
            perCluster: Math.Max(1, 20_000_000 / rows), edgeRandom: 0, edgeTable: false, nearArcsec: NearArcsec);
        return (catalog, positions);
    }

    private static long Scalar(Q3cDatabase db, string sql)
    {
        using var connection = db.Open();
        using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Log(string what) => Console.WriteLine(FormattableString.Invariant($"// {DateTime.UtcNow:HH:mm:ss} {what}"));
}
