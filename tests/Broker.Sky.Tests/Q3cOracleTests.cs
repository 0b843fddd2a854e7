using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Sky.Tests;

/// <summary>
/// Proves the Q3C oracle (<see cref="Q3cDatabase"/>) before the crossmatch of issue 11 is measured against it:
/// on a catalogue with strong density contrasts, with positions at and beside the poles and across RA 0/360,
/// <c>q3c_join</c>'s pairs equal an exact brute-force match and <c>q3c_dist</c> equals the exact great-circle
/// separation to 1e-3".
/// </summary>
public sealed class Q3cOracleTests(ITestOutputHelper output)
{
    private const double ArcsecPerRadian = 180.0 / Math.PI * 3600.0;

    /// <summary>Pairs this close to the radius may fall either way by rounding (Q3C's cut is a float inequality on a chord).</summary>
    private const double BoundaryArcsec = 1e-6;

    [Q3cFact]
    public void Q3c_join_finds_exactly_the_brute_force_pairs_at_1_and_60_arcsec_including_poles_and_ra_wrap()
    {
        var rng = new Random(20240611);
        var catalog = SkyTestCatalog.Catalog(rng);
        var positions = SkyTestCatalog.Positions(rng, catalog);

        using var db = Q3cDatabase.Start();
        db.Load("catalog", catalog.Ids.ToArray(), catalog.Ra.ToArray(), catalog.Dec.ToArray());
        db.Load("positions", positions.Ids.ToArray(), positions.Ra.ToArray(), positions.Dec.ToArray());
        db.Index("catalog");
        db.Execute("analyze positions");
        output.WriteLine($"{catalog.Count} catalogue rows, {positions.Count} positions");

        var exact = BruteForce(catalog, positions, 60.0 + 1.0);
        foreach (double radius in new[] { 1.0, 60.0 })
        {
            var q3c = db.Join("positions", "catalog", radius);

            var fromQ3c = new Dictionary<(long, long), double>(q3c.Count);
            foreach (var p in q3c) Assert.True(fromQ3c.TryAdd((p.PositionId, p.CatalogId), p.SeparationArcsec), $"Q3C returned pair {p} twice");

            int expected = 0, boundary = 0, poleOrWrap = 0;
            double worst = 0;
            foreach (var (key, sep) in exact)
            {
                bool inQ3c = fromQ3c.TryGetValue(key, out double q3cSep);
                if (Math.Abs(sep - radius) < BoundaryArcsec) { boundary++; if (!inQ3c) continue; }
                else if (sep < radius)
                {
                    expected++;
                    Assert.True(inQ3c, $"r={radius}\": Q3C misses position {key.Item1} ({positions.Describe(key.Item1)}) - catalogue {key.Item2} ({catalog.Describe(key.Item2)}) at {sep:R}\"");
                    if (positions.IsPolarOrWrap(key.Item1)) poleOrWrap++;
                }
                else
                {
                    Assert.False(inQ3c, $"r={radius}\": Q3C returns position {key.Item1} - catalogue {key.Item2} at exact {sep:R}\" (q3c_dist {q3cSep:R}\"), beyond the radius");
                    continue;
                }
                double diff = Math.Abs(q3cSep - sep);
                worst = Math.Max(worst, diff);
                Assert.True(diff < 1e-3, $"r={radius}\": position {key.Item1} ({positions.Describe(key.Item1)}) - catalogue {key.Item2}: q3c_dist {q3cSep:R}\" vs exact {sep:R}\"");
            }
            foreach (var key in fromQ3c.Keys)
                Assert.True(exact.ContainsKey(key), $"r={radius}\": Q3C returns position {key.Item1} - catalogue {key.Item2}, which brute force puts beyond {radius + 1}\"");
            Assert.InRange(fromQ3c.Count, expected, expected + boundary);
            output.WriteLine($"r={radius}\": {fromQ3c.Count} pairs ({poleOrWrap} at a pole or across RA 0/360, {boundary} within {BoundaryArcsec}\" of the radius), worst |q3c_dist - exact| {worst:E2}\"");
            Assert.True(poleOrWrap > 0, "the edge positions found no pairs; the test would prove nothing there");
        }
    }

    /// <summary>Every pair within <paramref name="radiusArcsec"/>, exact separation from <c>atan2(|a x b|, a . b)</c> in arcsec.</summary>
    private static Dictionary<(long, long), double> BruteForce(SkyTestCatalog catalog, SkyTestCatalog positions, double radiusArcsec)
    {
        int n = catalog.Count;
        var cx = new double[n]; var cy = new double[n]; var cz = new double[n];
        for (int i = 0; i < n; i++) (cx[i], cy[i], cz[i]) = Coordinates.ToUnitVector(catalog.Ra[i], catalog.Dec[i]);
        double minDot = Math.Cos(radiusArcsec / ArcsecPerRadian);
        var pairs = new Dictionary<(long, long), double>();
        for (int p = 0; p < positions.Count; p++)
        {
            var (px, py, pz) = Coordinates.ToUnitVector(positions.Ra[p], positions.Dec[p]);
            for (int c = 0; c < n; c++)
            {
                double dot = px * cx[c] + py * cy[c] + pz * cz[c];
                if (dot < minDot) continue;
                double x = py * cz[c] - pz * cy[c], y = pz * cx[c] - px * cz[c], z = px * cy[c] - py * cx[c];
                double sep = Math.Atan2(Math.Sqrt(x * x + y * y + z * z), dot) * ArcsecPerRadian;
                if (sep <= radiusArcsec) pairs[(positions.Ids[p], catalog.Ids[c])] = sep;
            }
        }
        return pairs;
    }
}
