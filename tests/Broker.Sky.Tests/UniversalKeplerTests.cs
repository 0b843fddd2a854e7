using System.Globalization;
using Broker.Sky.Orbits;
using Broker.TestSupport;

namespace Broker.Sky.Tests;

/// <summary>Cometary elements and universal-variable propagation against JPL Horizons' states (adam_core's oracle), every conic.</summary>
public sealed class UniversalKeplerTests
{
    private static IEnumerable<Dictionary<string, string>> Rows(string file)
    {
        var lines = File.ReadAllLines(SharedData.Path("sso/adam_core_orbits_ephemerides/" + file));
        var header = lines[0].Split(',');
        foreach (var line in lines.Skip(1))
        {
            // Names hold commas only inside quotes; the numbers are the last columns.
            var cells = line.Split(',');
            var numbers = cells[^(header.Length - 1)..];
            var row = new Dictionary<string, string> { [header[0]] = string.Join(",", cells[..^(header.Length - 1)]) };
            for (int i = 1; i < header.Length; i++) row[header[i]] = numbers[i - 1];
            yield return row;
        }
    }

    private static double D(Dictionary<string, string> r, string k) => double.Parse(r[k], CultureInfo.InvariantCulture);

    [OracleFact]
    public void Keplerian_and_cometary_elements_give_horizons_state_at_the_epoch_for_every_conic_including_oumuamua()
    {
        int hyperbolic = 0, n = 0;
        foreach (var r in Rows("elements_sun_ec.csv"))
        {
            var elements = CometaryElements.FromKeplerian(D(r, "a"), D(r, "e"), D(r, "incl"), D(r, "Omega"), D(r, "w"), D(r, "M"), D(r, "mjd_tdb"));
            var state = elements.StateAtEpoch().ToEcliptic();
            double dr = Math.Sqrt(Math.Pow(state.X - D(r, "x"), 2) + Math.Pow(state.Y - D(r, "y"), 2) + Math.Pow(state.Z - D(r, "z"), 2));
            double dv = Math.Sqrt(Math.Pow(state.Vx - D(r, "vx"), 2) + Math.Pow(state.Vy - D(r, "vy"), 2) + Math.Pow(state.Vz - D(r, "vz"), 2));
            double r0 = Math.Sqrt(D(r, "x") * D(r, "x") + D(r, "y") * D(r, "y") + D(r, "z") * D(r, "z"));
            // The CSV's elements carry 16 digits; the perihelion time for a TNO is decades away, so allow 1e-10 relative.
            Assert.True(dr < 1e-9 * r0 && dv < 1e-9, $"{r["targetname"]}: {dr} au, {dv} au/day");
            if (D(r, "e") > 1) hyperbolic++;
            n++;
        }
        Assert.Equal(28, n);
        Assert.Equal(1, hyperbolic);
    }

    [Fact]
    public void Propagation_out_and_back_returns_the_state_for_ellipse_parabola_and_hyperbola()
    {
        foreach (double e in new[] { 0.0, 0.2, 0.9, 0.999, 0.999975, 0.9999999, 1.0, 1.0000001, 1.001, 1.2, 5.0 })
        {
            var elements = new CometaryElements(1.3, e, 12, 40, 70, 60000, 60030);
            var start = elements.StateAtEpoch();
            // 700 days, and 30 years (a near-parabolic comet's whole apparition and beyond).
            Assert.True(UniversalKepler.Propagate(UniversalKepler.Propagate(start, 60030 + 11000), 60030) is var round && Math.Abs(round.X - start.X) < 1e-8, $"e = {e}: 30-year round trip");
            var there = UniversalKepler.Propagate(start, 60030 + 700);
            var back = UniversalKepler.Propagate(there, 60030);
            double dr = Math.Sqrt(Math.Pow(back.X - start.X, 2) + Math.Pow(back.Y - start.Y, 2) + Math.Pow(back.Z - start.Z, 2));
            Assert.True(dr < 1e-10 * Math.Max(1, there.R), $"e = {e}: {dr} au");
            // Energy and angular momentum are conserved.
            double Energy(OrbitState s) => (s.Vx * s.Vx + s.Vy * s.Vy + s.Vz * s.Vz) / 2 - CometaryElements.SunGm / s.R;
            Assert.Equal(Energy(start), Energy(there), 12);
            // Perihelion: at T the distance is q.
            Assert.Equal(1.3, UniversalKepler.Propagate(start, 60000).R, 9);
        }
    }
}
