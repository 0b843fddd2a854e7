using BenchmarkDotNet.Attributes;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// The crossmatch kernel (issue 11) against Q3C in the same run: 10^4 positions (uniform and near catalogue rows,
/// poles and RA 0/360 included) against 10^6 catalogue rows with strong density contrasts (SkyTestCatalog), at 1",
/// 5" and 60". One operation is the whole join; the Ratio column is Broker's time over Q3C's (<c>q3c_join</c> in
/// a private PostgreSQL 15, one backend, so one core). <see cref="Broker"/> is the kernel alone;
/// <see cref="BrokerXmatchCommand"/> is what <c>broker xmatch</c> does (parse the positions CSV, match, sort, write
/// the pairs as CSV), on one core too. Pairs per second = pairs (printed at setup) / mean time.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*Xmatch*'
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class XmatchBenchmarks
{
    private string _folder = "";
    private CatalogIndex _index = null!;
    private CatalogSearcher _searcher = null!;
    private SkyTestCatalog _positions = null!;
    private string _positionsCsv = "";
    private Q3cDatabase? _db;
    private readonly List<CatalogMatch> _matches = new(1 << 16);

    /// <summary>Match radius, arcseconds.</summary>
    [Params(1.0, 5.0, 60.0)]
    public double RadiusArcsec { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(20240611);
        var catalog = SkyTestCatalog.Catalog(rng, 1_000_000);
        _positions = SkyTestCatalog.Positions(rng, catalog, uniform: 3_000, near: 6_600);
        _folder = Directory.CreateTempSubdirectory("broker-xmatch-bench-").FullName;
        string path = Path.Combine(_folder, "catalog.bci");
        var columns = new CatalogColumns("id", "ra", "dec");
        CatalogIndexBuilder.Build(Rows(catalog), columns, "generated", path);
        _index = CatalogIndex.Open(path);
        _searcher = new CatalogSearcher(_index);
        _positionsCsv = Path.Combine(_folder, "positions.csv");
        _positions.WriteCsv(_positionsCsv);
        _db = Q3cDatabase.Start();
        _db.Load("catalog", catalog.Ids.ToArray(), catalog.Ra.ToArray(), catalog.Dec.ToArray());
        _db.Load("positions", _positions.Ids.ToArray(), _positions.Ra.ToArray(), _positions.Dec.ToArray());
        _db.Index("catalog");
        _db.Execute("analyze positions");
        Console.WriteLine($"// {RadiusArcsec}\": {Broker()} pairs (Broker), {Q3c()} pairs (Q3C)");
    }

    private static IEnumerable<CatalogRow> Rows(SkyTestCatalog c)
    {
        for (int i = 0; i < c.Count; i++) yield return new CatalogRow(new CatalogId(c.Ids[i], null), c.Ra[i], c.Dec[i], null, null, null, []);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _index.Dispose();
        _db?.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Broker's kernel: every pair within the radius for every position.</summary>
    [Benchmark]
    public long Broker()
    {
        long pairs = 0;
        for (int i = 0; i < _positions.Count; i++)
        {
            _matches.Clear();
            pairs += _searcher.Cone(_positions.Ra[i], _positions.Dec[i], RadiusArcsec, _matches);
        }
        return pairs;
    }

    /// <summary>The whole <c>broker xmatch</c> body: positions CSV in, pairs CSV out (to a null stream).</summary>
    [Benchmark]
    public long BrokerXmatchCommand()
    {
        return CatalogXmatch.Run(_index, _positionsCsv, RadiusArcsec, nearest: false, Stream.Null);
    }

    /// <summary>The same join by Q3C (<c>q3c_join</c> with <c>q3c_dist</c>, pairs streamed back by binary COPY).</summary>
    [Benchmark(Baseline = true)]
    public long Q3c() => _db!.Join("positions", "catalog", RadiusArcsec).Count;
}
