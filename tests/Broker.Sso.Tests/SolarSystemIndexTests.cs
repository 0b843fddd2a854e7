using Broker.Sky;
using Broker.Sky.Orbits;

namespace Broker.Sso.Tests;

/// <summary>
/// The nightly index against brute force: every orbit observed exactly (Ephemerides.Observe, two-body, light time,
/// topocentric) at every alert time, so the index's interpolation, buckets and wide lists are checked as a whole.
/// </summary>
public sealed class SolarSystemIndexTests
{
    private const double Night = 60300.2; // MJD TDB

    /// <summary>Orbits across classes: main belt, NEAs (some passing close to the Earth tonight), Trojans, TNOs, comets, a hyperbola.</summary>
    private static List<SolarSystemOrbit> Orbits(int count, int seed)
    {
        var rng = new Random(seed);
        var list = new List<SolarSystemOrbit>(count);
        for (int n = 0; n < count; n++)
        {
            double u = rng.NextDouble();
            double a, e;
            if (u < 0.6) { a = 2.1 + 1.2 * rng.NextDouble(); e = 0.25 * rng.NextDouble(); }
            else if (u < 0.8) { a = 0.8 + 1.5 * rng.NextDouble(); e = 0.1 + 0.6 * rng.NextDouble(); }
            else if (u < 0.88) { a = 5.2; e = 0.1 * rng.NextDouble(); }
            else if (u < 0.95) { a = 39 + 10 * rng.NextDouble(); e = 0.2 * rng.NextDouble(); }
            else if (u < 0.99) { a = 3 + 10 * rng.NextDouble(); e = 0.5 + 0.45 * rng.NextDouble(); }
            else { a = -2 - rng.NextDouble(); e = 1.2 + rng.NextDouble(); }
            var el = CometaryElements.FromKeplerian(a, e, 30 * rng.NextDouble(), 360 * rng.NextDouble(), 360 * rng.NextDouble(),
                e < 1 ? 360 * rng.NextDouble() : 20 * rng.NextDouble() - 10, Night - 200 + 400 * rng.NextDouble());
            list.Add(new SolarSystemOrbit($"T{n}", $"T{n}", el, 15, 0.15, "test"));
        }
        // Two close-approach objects (0.02 au and 0.004 au from the Earth tonight, moving fast): their elements are
        // placeholders (a q = 1 au circle, a near-Earth class), their states are set by the test, which is what the index reads.
        foreach (string name in new[] { "close-0.02", "close-0.004" })
            list.Add(new SolarSystemOrbit(name, name, new CometaryElements(1, 0, 0, 0, 0, Night, Night), 25, 0.15, "test"));
        return list;
    }

    [Fact]
    public void Every_orbit_within_its_radius_of_an_alert_is_found_as_brute_force_finds_it()
    {
        var orbits = Orbits(3000, 12);
        var catalog = SolarSystemCatalog.Create(orbits);
        // The close objects' states, set directly.
        var earth = Ephemerides.EarthState(Night);
        catalog.EpochStates[^2] = new OrbitState(earth.X + 0.02, earth.Y, earth.Z, earth.Vx, earth.Vy + 0.01, earth.Vz + 0.005, Night);
        catalog.EpochStates[^1] = new OrbitState(earth.X + 0.004, earth.Y, earth.Z, earth.Vx, earth.Vy + 0.01, earth.Vz + 0.005, Night);
        var screen = new AssociationRadius(10, 0.01, 0.02, 0.05, 3600);
        var index = SolarSystemIndex.Build(catalog, Night - 0.1, Night + 0.6, EarthEphemeris.HeliocentricEquatorial, screen);
        Assert.True(index.Covers(Night + 0.3));
        Assert.False(index.Covers(Night + 0.8));
        var site = Observatory.Find("X05");
        var rng = new Random(5);
        var found = new List<IndexCandidate>();
        int expected = 0, alerts = 0;
        // Alerts near every 7th orbit and near the two close objects, at random times in the window.
        foreach (int i in Enumerable.Range(0, catalog.Count).Where(i => i % 7 == 0 || i >= catalog.Count - 2))
        {
            double t = Night - 0.1 + 0.7 * rng.NextDouble();
            double utc = TimeScales.MjdTdbToMjdUtc(t);
            var observer = Ephemerides.Observer(site, utc);
            var truth = Ephemerides.Observe(new TwoBodyMotion(catalog.EpochStates[i]), observer);
            // Within the screen radius of this orbit (offset up to 8"), so it must be found.
            var (ra, dec) = Coordinates.Offset(truth.RaDeg, truth.DecDeg, 8 * (rng.NextDouble() - 0.5), 8 * (rng.NextDouble() - 0.5));
            alerts++;
            found.Clear();
            index.Candidates(ra, dec, t, site.GeocentricIcrs(utc), found);
            // Brute force: every orbit within its own screen radius of the alert.
            var within = new HashSet<int>();
            for (int k = 0; k < catalog.Count; k++)
            {
                var e = Ephemerides.Observe(new TwoBodyMotion(catalog.EpochStates[k]), observer);
                double radius = screen.For(catalog.Classes[k], Math.Max(Math.Abs(index.StartMjdTdb - catalog.EpochStates[k].MjdTdb), Math.Abs(index.EndMjdTdb - catalog.EpochStates[k].MjdTdb)));
                if (Coordinates.SeparationDeg(ra, dec, e.RaDeg, e.DecDeg) * 3600 <= radius) within.Add(k);
            }
            Assert.Contains(i, within);
            expected += within.Count;
            var byIndex = found.Select(c => c.Orbit).ToHashSet();
            Assert.True(within.IsSubsetOf(byIndex), $"alert on orbit {i} at {t}: brute force finds {string.Join(",", within)}, the index {string.Join(",", byIndex)}");
            // The interpolated separation agrees with the exact one to well under an arcsecond.
            var mine = found.Single(c => c.Orbit == i);
            double exact = Coordinates.SeparationDeg(ra, dec, truth.RaDeg, truth.DecDeg) * 3600;
            Assert.True(Math.Abs(mine.SeparationArcsec - exact) < 0.5, $"orbit {i}: interpolated {mine.SeparationArcsec:F3}\" against exact {exact:F3}\"");
        }
        Assert.True(alerts > 400);
        Assert.True(index.WideCount > 0, "the close objects go to the wide lists");
    }
}
