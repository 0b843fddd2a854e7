using System.Globalization;
using System.Text;
using Broker.Catalogs.Index;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Catalogs.Tests;

/// <summary>
/// Proper motion applied to the query's epoch (issue 11): positions moved as ERFA's <c>eraStarpm</c> moves them,
/// cone and nearest searches that find exactly the rows whose moved position is within the radius, a
/// high-proper-motion star found at 2025 only with the epoch given, and <c>broker xmatch</c>'s <c>epoch</c> column.
/// </summary>
public sealed class ProperMotionTests(ITestOutputHelper output) : IDisposable
{
    private const double ArcsecPerRadian = 180 / Math.PI * 3600;

    // Barnard's star in Gaia DR3 (source_id 4472832130942575872; epoch J2016.0): ra, dec (degrees), pmra (mas/yr,
    // × cos dec), pmdec (mas/yr).
    private const double BarnardRa = 269.44850252543836, BarnardDec = 4.739420051112412, BarnardPmra = -801.551, BarnardPmdec = 10362.394;

    // eraStarpm with a parallax large enough that the star's transverse speed is about 1e-8 c: its light-time
    // and relativistic terms, which grow with that speed, are then far below 1e-6", leaving the zero-parallax
    // geometry this broker applies. Input per line: ra dec pmra pmdec epoch target (degrees, mas/yr, Julian years).
    private const string ErfaOracle = """
        import sys, math, erfa
        for line in open(sys.argv[1]):
            ra, dec, pmra, pmdec, ep1, ep2 = map(float, line.split())
            r, d = math.radians(ra), math.radians(dec)
            mas = math.radians(1 / 3600e3)
            mu = math.hypot(pmra, pmdec) / 1e3
            px = max(1000 * mu, 1e-3)
            ra2, dec2, *_ = erfa.starpm(r, d, pmra * mas / math.cos(d), pmdec * mas, px, 0.0,
                                        2451545.0 + (ep1 - 2000) * 365.25, 0.0, 2451545.0 + (ep2 - 2000) * 365.25, 0.0)
            print(repr(math.degrees(ra2) % 360), repr(math.degrees(dec2)))
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("broker-pm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private sealed record Star(long Id, double Ra, double Dec, double? Pmra, double? Pmdec, double? Epoch);

    private string Build(IReadOnlyList<Star> stars, string name)
    {
        string path = Path.Combine(_folder, name + ".bci");
        var columns = new CatalogColumns("id", "ra", "dec") { Epoch = "epoch", Pmra = "pmra", Pmdec = "pmdec" };
        var rows = stars.Select(s => new CatalogRow(new CatalogId(s.Id, null), s.Ra, s.Dec, s.Epoch, s.Pmra, s.Pmdec, []));
        CatalogIndexBuilder.Build(rows, columns, name, path, new CatalogIndexBuildOptions { TargetRowsPerPixel = 4 });
        return path;
    }

    /// <summary>Stars with proper motions from 1 mas/yr to 10.4"/yr (log-uniform), some at the poles and across RA 0/360, a few without motion or epoch.</summary>
    private static List<Star> MovingStars(Random rng, int count)
    {
        var stars = new List<Star>(count);
        for (int i = 0; i < count; i++)
        {
            double ra = 360 * rng.NextDouble(), dec = Math.Asin(2 * rng.NextDouble() - 1) * 180 / Math.PI;
            if (i % 10 == 1) dec = (rng.Next(2) == 0 ? 1 : -1) * (90 - 0.01 * rng.NextDouble());
            if (i % 10 == 2) ra = rng.Next(2) == 0 ? 1e-4 * rng.NextDouble() : 360 - 1e-4 * rng.NextDouble();
            double mu = Math.Pow(10, 4.017 * rng.NextDouble()), angle = 2 * Math.PI * rng.NextDouble();
            double epoch = new[] { 2016.0, 2000.0, 1991.25 }[rng.Next(3)];
            if (i % 50 == 3) stars.Add(new Star(i, ra, dec, null, null, epoch));
            else if (i % 50 == 4) stars.Add(new Star(i, ra, dec, mu * Math.Sin(angle), mu * Math.Cos(angle), null));
            else stars.Add(new Star(i, ra, dec, mu * Math.Sin(angle), mu * Math.Cos(angle), epoch));
        }
        return stars;
    }

    private static double Separation(double ra1, double dec1, double ra2, double dec2)
    {
        double d2r = Math.PI / 180;
        var (a, b) = (Unit(ra1 * d2r, dec1 * d2r), Unit(ra2 * d2r, dec2 * d2r));
        double cx = a.Y * b.Z - a.Z * b.Y, cy = a.Z * b.X - a.X * b.Z, cz = a.X * b.Y - a.Y * b.X;
        return Math.Atan2(Math.Sqrt(cx * cx + cy * cy + cz * cz), a.X * b.X + a.Y * b.Y + a.Z * b.Z) * ArcsecPerRadian;
    }

    private static (double X, double Y, double Z) Unit(double ra, double dec) => (Math.Cos(dec) * Math.Cos(ra), Math.Cos(dec) * Math.Sin(ra), Math.Sin(dec));

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Each star's position at its target epoch by ERFA.</summary>
    private List<(double Ra, double Dec)> Erfa(IEnumerable<(Star Star, double Target)> cases)
    {
        string input = Path.Combine(_folder, "erfa-in.txt");
        File.WriteAllLines(input, cases.Select(c => $"{R(c.Star.Ra)} {R(c.Star.Dec)} {R(c.Star.Pmra!.Value)} {R(c.Star.Pmdec!.Value)} {R(c.Star.Epoch!.Value)} {R(c.Target)}"));
        var result = new List<(double Ra, double Dec)>();
        foreach (string line in Python.RunCode(ErfaOracle, input).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            result.Add((double.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture)));
        }
        return result;
    }

    [OracleFact("erfa", NeedsSharedData = false)]
    public void Positions_moved_to_another_epoch_agree_with_erfa_starpm_to_1e_6_arcsec_over_a_century_including_poles_and_ra_wrap()
    {
        var rng = new Random(11);
        var stars = MovingStars(rng, 3000);
        using var index = CatalogIndex.Open(Build(stars, "moving"));
        var searcher = new CatalogSearcher(index);
        var rowOf = new int[stars.Count];
        for (int row = 0; row < index.Rows; row++) rowOf[index.IdNumber(row)] = row;

        var cases = stars.Where(s => s.Pmra is not null && s.Epoch is not null).Select(s => (Star: s, Target: s.Epoch!.Value + (rng.NextDouble() * 2 - 1) * 100)).ToList();
        var erfa = Erfa(cases);
        double worst = 0, farthest = 0;
        for (int i = 0; i < cases.Count; i++)
        {
            var (star, target) = cases[i];
            var (ra, dec) = searcher.PositionAt(rowOf[star.Id], target);
            Assert.InRange(ra, 0, 360);
            double error = Separation(ra, dec, erfa[i].Ra, erfa[i].Dec);
            worst = Math.Max(worst, error);
            farthest = Math.Max(farthest, Separation(star.Ra, star.Dec, ra, dec));
            Assert.True(error < 1e-6, $"star {star.Id} (ra {star.Ra:R}, dec {star.Dec:R}, pm {star.Pmra:R}, {star.Pmdec:R} mas/yr, epoch {star.Epoch}) at {target:R}: ours ({ra:R}, {dec:R}), ERFA ({erfa[i].Ra:R}, {erfa[i].Dec:R}), {error:E2}\" apart");
        }
        // Rows without an epoch or a proper motion, and a null epoch, stay where they are stored.
        foreach (var star in stars)
        {
            var (ra, dec) = searcher.PositionAt(rowOf[star.Id], star.Pmra is null || star.Epoch is null ? 2100 : null);
            Assert.True(Separation(star.Ra, star.Dec, ra, dec) < 1e-9, $"star {star.Id} moved");
        }
        output.WriteLine($"{cases.Count} stars moved by up to {farthest:F1}\"; worst difference from ERFA {worst:E2}\"");
    }

    [Fact]
    public void Cone_and_nearest_at_an_epoch_find_exactly_the_rows_whose_moved_position_is_within_the_radius()
    {
        var rng = new Random(12);
        var stars = MovingStars(rng, 20_000);
        using var index = CatalogIndex.Open(Build(stars, "moving"));
        Assert.Equal(2, index.Header.Version);
        Assert.NotNull(index.Header.MaxProperMotionMasPerYear);
        Assert.InRange(index.Header.MaxProperMotionMasPerYear!.Value, 9000, 10400);
        Assert.Equal(1991.25, index.Header.MinEpoch);
        Assert.Equal(2016.0, index.Header.MaxEpoch);
        var searcher = new CatalogSearcher(index);
        const double epoch = 2116;
        var moved = new (double Ra, double Dec)[index.Rows];
        var stored = new (double Ra, double Dec)[index.Rows];
        for (int row = 0; row < index.Rows; row++) (moved[row], stored[row]) = (searcher.PositionAt(row, epoch), searcher.PositionAt(row, null));

        // Query where rows will be (so that the widened search matters), where they are stored, and anywhere.
        var queries = new List<(double Ra, double Dec)>();
        for (int k = 0; k < 150; k++)
        {
            int row = rng.Next(index.Rows);
            (double Ra, double Dec) p = k % 3 == 0 ? moved[row] : k % 3 == 1 ? stored[row] : (360 * rng.NextDouble(), Math.Asin(2 * rng.NextDouble() - 1) * 180 / Math.PI);
            queries.Add((Math.Min(p.Ra + 1e-4 * (rng.NextDouble() - 0.5), Math.BitDecrement(360.0)), Math.Clamp(p.Dec + 1e-4 * (rng.NextDouble() - 0.5), -90, 90)));
        }
        var matches = new List<CatalogMatch>();
        int found = 0, movedFar = 0;
        foreach (double radius in new[] { 2.0, 60.0, 900.0 })
            foreach (var (ra, dec) in queries)
                foreach (double? at in new double?[] { epoch, null })
                {
                    matches.Clear();
                    searcher.Cone(ra, dec, radius, at, matches);
                    var expected = new List<int>();
                    double best = double.PositiveInfinity;
                    for (int row = 0; row < index.Rows; row++)
                    {
                        var (r, d) = at is null ? stored[row] : moved[row];
                        double sep = Separation(ra, dec, r, d);
                        // Within 1e-9 of the rim the degrees round trip may decide either way.
                        if (sep <= radius * (1 - 1e-9)) { expected.Add(row); best = Math.Min(best, sep); }
                        else if (sep <= radius * (1 + 1e-9)) expected.Add(matches.Any(m => m.Row == row) ? row : -1);
                    }
                    expected.RemoveAll(r => r < 0);
                    Assert.Equal(expected, matches.Select(m => m.Row).ToList());
                    found += matches.Count;
                    if (at is not null) movedFar += matches.Count(m => Separation(ra, dec, stars[(int)index.IdNumber(m.Row)].Ra, stars[(int)index.IdNumber(m.Row)].Dec) > radius);
                    bool any = searcher.Nearest(ra, dec, radius, at, out var nearest);
                    Assert.Equal(expected.Count > 0, any);
                    if (any) Assert.Equal(best, nearest.SeparationArcsec, 1e-6);
                }
        output.WriteLine($"{found} matches; {movedFar} of those at the epoch lie outside the radius where stored");
        Assert.True(movedFar > 50, "too few rows moved into a disc for the test to exercise the widened search");
    }

    [OracleFact("erfa", NeedsSharedData = false)]
    public void Barnards_star_is_matched_at_2025_only_with_the_epoch_given_also_through_xmatch_with_an_epoch_column()
    {
        var barnard = new Star(1, BarnardRa, BarnardDec, BarnardPmra, BarnardPmdec, 2016.0);
        var stars = new List<Star> { barnard };
        var rng = new Random(4);
        for (int i = 2; i < 2000; i++) stars.Add(new Star(i, BarnardRa + (rng.NextDouble() - 0.5), BarnardDec + (rng.NextDouble() - 0.5), null, null, null));
        using var index = CatalogIndex.Open(Build(stars, "barnard"));
        var searcher = new CatalogSearcher(index);
        var (ra, dec) = Erfa([(barnard, 2025.0)])[0];
        output.WriteLine($"Barnard's star at J2025.0 (ERFA): {ra:R}, {dec:R}; {Separation(BarnardRa, BarnardDec, ra, dec):F2}\" from J2016.0");

        var matches = new List<CatalogMatch>();
        Assert.Equal(1, searcher.Cone(ra, dec, 1, 2025.0, matches));
        Assert.Equal(1, index.IdNumber(matches[0].Row));
        Assert.True(matches[0].SeparationArcsec < 1e-6, $"{matches[0].SeparationArcsec:E2}\"");
        Assert.True(searcher.Nearest(ra, dec, 1, 2025.0, out var nearest));
        Assert.Equal(matches[0], nearest);
        matches.Clear();
        Assert.DoesNotContain(1L, Enumerable.Range(0, searcher.Cone(ra, dec, 1, null, matches)).Select(k => index.IdNumber(matches[k].Row)));
        Assert.False(searcher.Nearest(ra, dec, 1, out var stored) && index.IdNumber(stored.Row) == 1);

        string positions = Path.Combine(_folder, "positions.csv");
        File.WriteAllText(positions, $"id,ra,dec,epoch\n7,{R(ra)},{R(dec)},2025.0\n8,{R(ra)},{R(dec)},\n9,{R(BarnardRa)},{R(BarnardDec)},2016\n");
        var text = new StringWriter { NewLine = "\n" };
        CatalogXmatch.Run(index, positions, 1, nearest: false, text);
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(CatalogXmatch.HeaderLine, lines[0]);
        Assert.Equal(["7,1", "9,1"], lines.Skip(1).Where(l => l.Split(',')[1] == "1").Select(l => string.Join(',', l.Split(',')[..2])));
    }

    [Fact]
    public void A_version_1_index_opens_without_proper_motions_and_is_refused_with_them_saying_to_rebuild()
    {
        var stars = MovingStars(new Random(5), 500);
        string still = Path.Combine(_folder, "still.bci");
        var columns = new CatalogColumns("id", "ra", "dec");
        CatalogIndexBuilder.Build(stars.Select(s => new CatalogRow(new CatalogId(s.Id, null), s.Ra, s.Dec, null, null, null, [])), columns, "still", still);
        string moving = Build(stars, "moving");
        foreach (string path in new[] { still, moving })
        {
            var bytes = File.ReadAllBytes(path);
            var version2 = Encoding.UTF8.GetBytes("\"version\": 2,");
            int at = bytes.AsSpan().IndexOf(version2);
            Assert.True(at > 0);
            bytes[at + version2.Length - 2] = (byte)'1';
            File.WriteAllBytes(path, bytes);
        }
        using (var index = CatalogIndex.Open(still))
        {
            Assert.Equal(1, index.Header.Version);
            Assert.Equal(500, index.Rows);
        }
        var e = Assert.Throws<CatalogFormatException>(() => CatalogIndex.Open(moving));
        Assert.Contains(moving, e.Message);
        Assert.Contains("rebuild", e.Message);
    }
}
