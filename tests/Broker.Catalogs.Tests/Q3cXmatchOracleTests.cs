using System.Globalization;
using System.Text;
using Broker.Catalogs.Index;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Catalogs.Tests;

/// <summary>
/// Issue 11's Done means for <c>broker xmatch</c>: on a catalogue of 3·10^6 rows with density contrasts of seven
/// orders of magnitude (<see cref="SkyTestCatalog.Contrasts"/>: uniform background, Galactic-plane band, a globular
/// core, caps at both poles, clusters across RA 0/360), it gives exactly the pairs of Q3C's <c>q3c_join</c>
/// (Koposov and Bartunov 2006) at 1", 5" and 60", with separations equal to <c>q3c_dist</c>'s to 1e-3", through
/// the code the command runs (<see cref="CatalogXmatch.Run"/> on an index built from CSV, written to a file).
/// </summary>
/// <remarks>
/// Both sides are prepared once for the three radii (<see cref="Q3cXmatchFixture"/>), and in each case Q3C's join
/// runs in its PostgreSQL backend while Broker's runs in the test process, so the two cores work at once.
/// </remarks>
public sealed class Q3cXmatchOracleTests(Q3cXmatchFixture fixture, ITestOutputHelper output) : IClassFixture<Q3cXmatchFixture>
{
    /// <summary>Pairs this close to the radius may fall either way by rounding (Q3C's cut is a float inequality on a chord).</summary>
    private const double BoundaryArcsec = 1e-6;

    /// <summary>Issue 11: separations agree with <c>q3c_dist</c> to this.</summary>
    private const double SeparationToleranceArcsec = 1e-3;

    [Q3cTheory]
    [InlineData(1.0)]
    [InlineData(5.0)]
    [InlineData(60.0)]
    public void Xmatch_gives_exactly_q3c_join_pairs_on_three_million_rows_with_poles_ra_wrap_and_dense_cores(double radius)
    {
        var data = fixture.Data;
        var q3cJoin = Task.Run(() => data.Db.Join("positions", "catalog", radius));

        string pairsCsv = Path.Combine(data.Folder, FormattableString.Invariant($"pairs-{radius}.csv"));
        long written;
        using (var file = File.Create(pairsCsv))
            written = CatalogXmatch.Run(data.Index, data.PositionsCsv, radius, nearest: false, file);
        var (ourKeys, ourSeps) = ReadXmatchOutput(pairsCsv, written);
        File.Delete(pairsCsv);

        var q3c = q3cJoin.GetAwaiter().GetResult();
        var q3cKeys = new long[q3c.Count];
        var q3cSeps = new double[q3c.Count];
        for (int i = 0; i < q3c.Count; i++) (q3cKeys[i], q3cSeps[i]) = (Key(q3c[i].PositionId, q3c[i].CatalogId), q3c[i].SeparationArcsec);
        q3c.Clear();
        Array.Sort(q3cKeys, q3cSeps);
        for (int i = 1; i < q3cKeys.Length; i++) if (q3cKeys[i] == q3cKeys[i - 1]) Assert.Fail($"Q3C returned pair {Describe(q3cKeys[i])} twice");

        var positions = data.Positions;
        var catalog = data.Catalog;
        // Assert.Fail in the loops below, not Assert.True(condition, message): the message would be formatted for every pair.
        var perRegion = new long[catalog.Regions.Count];
        int boundary = 0, edge = 0, a = 0, b = 0;
        double worst = 0;
        while (a < ourKeys.Length || b < q3cKeys.Length)
        {
            long key = a < ourKeys.Length && (b == q3cKeys.Length || ourKeys[a] <= q3cKeys[b]) ? ourKeys[a] : q3cKeys[b];
            bool inOurs = a < ourKeys.Length && ourKeys[a] == key, inQ3c = b < q3cKeys.Length && q3cKeys[b] == key;
            var (position, row) = Split(key);
            if (inOurs && inQ3c)
            {
                double diff = Math.Abs(ourSeps[a] - q3cSeps[b]);
                worst = Math.Max(worst, diff);
                if (!(diff < SeparationToleranceArcsec)) Assert.Fail($"r={radius}\": position {position} ({positions.Describe(position)}) - catalogue {row} ({catalog.Describe(row)}): {ourSeps[a]:R}\" vs q3c_dist {q3cSeps[b]:R}\"");
                if (positions.IsPolarOrWrap(position)) edge++;
                perRegion[RegionOf(catalog, row)]++;
            }
            else if (inQ3c)
            {
                if (!(Math.Abs(q3cSeps[b] - radius) < BoundaryArcsec)) Assert.Fail($"r={radius}\": xmatch misses position {position} ({positions.Describe(position)}) - catalogue {row} ({catalog.Describe(row)}) at q3c_dist {q3cSeps[b]:R}\"");
                boundary++;
            }
            else
            {
                if (!(Math.Abs(ourSeps[a] - radius) < BoundaryArcsec)) Assert.Fail($"r={radius}\": xmatch returns position {position} ({positions.Describe(position)}) - catalogue {row} ({catalog.Describe(row)}) at {ourSeps[a]:R}\", which q3c_join does not");
                boundary++;
            }
            if (inOurs) a++;
            if (inQ3c) b++;
        }

        output.WriteLine($"{catalog.Count} catalogue rows, {positions.Count} positions, r={radius}\": {q3cKeys.Length} Q3C pairs, {ourKeys.Length} ours, " +
            $"{edge} at a pole or across RA 0/360, {boundary} within {BoundaryArcsec}\" of the radius; max |separation - q3c_dist| {worst:E2}\"");
        for (int i = 0; i < perRegion.Length; i++) output.WriteLine($"  {catalog.Regions[i].Name}: {perRegion[i]} pairs");
        Assert.True(edge > 0, "the pole and RA 0/360 positions found no pairs; the test would prove nothing there");
        Assert.True(perRegion[catalog.Regions.FindIndex(r => r.Name == "globular core")] > 0, "no pairs in the globular core; the test would prove nothing at high density");
        Assert.True(ourKeys.Length > 1000);
    }

    /// <summary>
    /// Reads <c>broker xmatch</c>'s output: the header, then per position in input order (ids 0, 1, ... here) its
    /// pairs by increasing separation. Checks that order and the line count; returns the pairs sorted by
    /// (position, catalogue id) as <see cref="Key"/>s with their separations, no pair twice.
    /// </summary>
    private static (long[] Keys, double[] Seps) ReadXmatchOutput(string path, long written)
    {
        var keys = new List<long>((int)Math.Min(written, int.MaxValue));
        var seps = new List<double>(keys.Capacity);
        using var reader = new StreamReader(path, Encoding.UTF8, false, 1 << 16);
        Assert.Equal(CatalogXmatch.HeaderLine, reader.ReadLine());
        long lastPosition = -1;
        double lastSep = 0;
        while (reader.ReadLine() is { } line)
        {
            var s = line.AsSpan();
            int c1 = s.IndexOf(','), c2 = c1 + 1 + s[(c1 + 1)..].IndexOf(',');
            long position = long.Parse(s[..c1], CultureInfo.InvariantCulture), row = long.Parse(s[(c1 + 1)..c2], CultureInfo.InvariantCulture);
            double sep = double.Parse(s[(c2 + 1)..], CultureInfo.InvariantCulture);
            if (position < lastPosition) Assert.Fail($"line '{line}': positions out of input order");
            if (position == lastPosition && sep < lastSep) Assert.Fail($"line '{line}': a position's pairs are not by increasing separation");
            (lastPosition, lastSep) = (position, sep);
            keys.Add(Key(position, row));
            seps.Add(sep);
        }
        Assert.Equal(written, keys.Count);
        var k = keys.ToArray();
        var v = seps.ToArray();
        Array.Sort(k, v);
        for (int i = 1; i < k.Length; i++) if (k[i] == k[i - 1]) Assert.Fail($"xmatch returned pair {Describe(k[i])} twice");
        return (k, v);
    }

    /// <summary>(position, catalogue row) as one sortable integer: both are below 2^31 here.</summary>
    private static long Key(long position, long row) => (position << 32) | row;

    private static (int Position, int Row) Split(long key) => ((int)(key >> 32), (int)(key & 0xFFFF_FFFF));

    private static string Describe(long key) => $"(position {Split(key).Position}, catalogue {Split(key).Row})";

    private static int RegionOf(SkyTestCatalog catalog, int row)
    {
        var regions = catalog.Regions;
        for (int i = 0; i < regions.Count; i++)
            if (row >= regions[i].First && row < regions[i].First + regions[i].Count) return i;
        throw new InvalidOperationException($"row {row} is in no region");
    }
}

/// <summary>
/// What <see cref="Q3cXmatchOracleTests"/> prepares once for its three radii: the catalogue and positions, Broker's
/// index built from CSV as <c>broker catalog build --csv</c> builds it, and a private PostgreSQL with both tables
/// loaded by binary COPY and Q3C's index. Broker's build and PostgreSQL's load and index run at once. Prepared on
/// first use, so a run that skips the tests (no PostgreSQL or Q3C) starts nothing.
/// </summary>
public sealed class Q3cXmatchFixture : IDisposable
{
    /// <summary>Catalogue rows: "a few million", issue 11.</summary>
    public const int CatalogRows = 3_000_000;

    private readonly Lazy<Prepared> _data = new(Prepare, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The prepared inputs; prepared on first use.</summary>
    public Prepared Data => _data.Value;

    /// <summary>Prepared inputs; see <see cref="Q3cXmatchFixture"/>.</summary>
    public sealed record Prepared(string Folder, SkyTestCatalog Catalog, SkyTestCatalog Positions, string PositionsCsv, CatalogIndex Index, Q3cDatabase Db);

    private static Prepared Prepare()
    {
        var rng = new Random(20240611);
        var catalog = SkyTestCatalog.Contrasts(rng, CatalogRows);
        var positions = SkyTestCatalog.ContrastPositions(rng, catalog);
        string folder = Directory.CreateTempSubdirectory("broker-q3c-xmatch-").FullName;
        // PostgreSQL loads and indexes in its own processes while this one writes the CSV and builds Broker's index.
        var database = Task.Run(() =>
        {
            var d = Q3cDatabase.Start();
            try
            {
                d.Load("catalog", catalog.Ids.ToArray(), catalog.Ra.ToArray(), catalog.Dec.ToArray());
                d.Load("positions", positions.Ids.ToArray(), positions.Ra.ToArray(), positions.Dec.ToArray());
                // No cluster: the table (~200 MB) stays in memory, so heap order costs the join little, and the pairs are the same.
                d.Index("catalog", cluster: false);
                d.Execute("analyze positions");
                return d;
            }
            catch
            {
                d.Dispose();
                throw;
            }
        });
        CatalogIndex? index = null;
        try
        {
            string positionsCsv = Path.Combine(folder, "positions.csv");
            positions.WriteCsv(positionsCsv);
            string csv = Path.Combine(folder, "catalog.csv");
            catalog.WriteCsv(csv, id: "source_id", ra: "RAdeg", dec: "DEdeg");
            string indexPath = Path.Combine(folder, "catalog.bci");
            var columns = new CatalogColumns("source_id", "RAdeg", "DEdeg");
            CatalogIndexBuilder.Build(CsvCatalogReader.Read(csv, columns), columns, csv, indexPath, new CatalogIndexBuildOptions { Name = "contrasts" });
            File.Delete(csv);
            index = CatalogIndex.Open(indexPath);
            if (index.Rows != catalog.Count) throw new InvalidOperationException($"the index holds {index.Rows} rows, not {catalog.Count}");
            return new Prepared(folder, catalog, positions, positionsCsv, index, database.GetAwaiter().GetResult());
        }
        catch
        {
            index?.Dispose();
            try { database.GetAwaiter().GetResult().Dispose(); }
            catch (Exception) { /* the database's own failure, if any, is not the one to report first */ }
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_data.IsValueCreated) return;
        var data = _data.Value;
        data.Index.Dispose();
        data.Db.Dispose();
        Directory.Delete(data.Folder, recursive: true);
    }
}
