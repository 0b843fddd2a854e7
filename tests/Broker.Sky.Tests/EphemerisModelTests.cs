using Broker.Sky.Orbits;
using Xunit;
using Xunit.Abstractions;

namespace Broker.Sky.Tests;

/// <summary>The pieces of the ephemerides: VSOP87B against SOFA's Earth, TDB against Horizons, observatories, rates.</summary>
public sealed class EphemerisModelTests(ITestOutputHelper output)
{
    [EphemerisFact(NeedsSharedData = false)]
    public void Vsop87b_from_kstars_data_gives_the_earth_within_a_few_1e7_au_of_erfa_epv00_over_two_centuries()
    {
        // The Earth's L1 constant term identifies VSOP87B (heliocentric, ecliptic and equinox J2000): VSOP87D (of
        // date) has 6283.31966747491 there.
        Assert.StartsWith("6283.07584999140 ", File.ReadLines(Path.Combine(Vsop87.DefaultFolder, "earth.L1.vsop")).First());
        double worst = 0;
        for (double mjd = 15100; mjd < 88000; mjd += 365.25 * 3.7)
        {
            var (x, y, z) = Vsop87.Default.HeliocentricIcrs(Planet.Earth, mjd);
            var earth = Ephemerides.EarthState(mjd);
            worst = Math.Max(worst, Math.Sqrt(Math.Pow(x - earth.X, 2) + Math.Pow(y - earth.Y, 2) + Math.Pow(z - earth.Z, 2)));
        }
        output.WriteLine($"VSOP87B Earth vs eraEpv00, 1900-2100: max {worst:E2} au");
        // VSOP87 is good to about 1" for the Earth (5e-6 au) over 4000 years; over 1900-2100 both series fit DE200/DE405
        // and the FK5-ICRS frame bias adds 1e-7 au.
        Assert.True(worst < 5e-7, $"{worst:E2} au");
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void Planet_positions_interpolated_on_the_day_grid_equal_vsop87_evaluated_directly()
    {
        var grid = new PlanetPositions(Vsop87.Default);
        Span<double> p = stackalloc double[24];
        double worst = 0;
        foreach (double mjd in new[] { 60200.0, 60200.37, 51544.5, 15020.999, 88000.123, -3.25 })
        {
            grid.At(mjd, p);
            for (int i = 0; i < 8; i++)
            {
                var (x, y, z) = Vsop87.Default.HeliocentricIcrs((Planet)i, mjd);
                worst = Math.Max(worst, Math.Sqrt(Math.Pow(p[3 * i] - x, 2) + Math.Pow(p[3 * i + 1] - y, 2) + Math.Pow(p[3 * i + 2] - z, 2)));
            }
        }
        // 1e-10 au (15 m) moves a perturbing acceleration by 1e-10 of itself.
        Assert.True(worst < 1e-9, $"{worst:E2} au");
    }

    [EphemerisFact]
    public void Tdb_minus_utc_agrees_with_horizons_within_a_millisecond()
    {
        // Horizons' "UT" is UTC after 1972 (Horizons manual, "Time scales"), so its TDB-UT column checks the leap
        // seconds, TT - TAI and eraDtdb together.
        double worst = 0;
        foreach (var row in EphemerisOracle.Rows())
        {
            double ours = (TimeScales.MjdUtcToMjdTdb(row.MjdUtc) - row.MjdUtc) * TimeScales.SecondsPerDay;
            worst = Math.Max(worst, Math.Abs(ours - row.TdbMinusUtSeconds));
        }
        output.WriteLine($"TDB-UTC vs Horizons' TDB-UT1: max {worst:F3} s");
        Assert.True(worst < 0.001, $"{worst} s");
    }

    [Fact]
    public void Tdb_and_utc_round_trip_and_tdb_minus_tt_stays_within_two_milliseconds()
    {
        for (double mjd = 41317; mjd < 70000; mjd += 123.456)
        {
            double tdb = TimeScales.MjdUtcToMjdTdb(mjd);
            Assert.True(Math.Abs(TimeScales.MjdTdbToMjdUtc(tdb) - mjd) * TimeScales.SecondsPerDay < 1e-6);
            Assert.InRange(TimeScales.TdbMinusTtSeconds(TimeScales.MjdUtcToMjdTt(mjd)), -0.0017, 0.0017);
        }
        // 2017-01-01 onwards: TAI - UTC = 37 s, so TT - UTC = 69.184 s.
        Assert.Equal(69.184, (TimeScales.MjdUtcToMjdTt(60000) - 60000) * TimeScales.SecondsPerDay, 5);
    }

    [Theory]
    [InlineData("500", 0.0, 0.0, 0.0)]
    [InlineData("X05", 289.25058, 0.864981, -0.500958)]
    [InlineData("i41", 243.14022, 0.836322, 0.546875)]
    [InlineData("W84", 289.19358, 0.865572, -0.499793)]
    [InlineData("309", 289.59569, 0.909943, -0.414336)]
    [InlineData("568", 204.5278, 0.94171, 0.33725)]
    [InlineData("675", 243.13746, 0.836357, 0.546831)]
    public void Observatories_are_found_by_mpc_code_with_their_parallax_constants(string code, double longitude, double rhoCos, double rhoSin)
    {
        var site = Observatory.Find(code);
        Assert.Equal(code.ToUpperInvariant(), site.Code);
        Assert.Equal((longitude, rhoCos, rhoSin), (site.LongitudeDeg, site.RhoCosPhi, site.RhoSinPhi));
        Assert.True(Observatory.All.Count >= 20);
    }

    [Fact]
    public void Parallax_constants_from_wgs84_geodetic_coordinates_reproduce_the_mpc_values_of_gemini_south()
    {
        // The simulator's Cerro Pachon site (30.2446° S, 70.7366° W, 2,663 m) against Gemini South (I11) on the same
        // summit: within 1e-4 Earth radii (640 m); a formula error (geodetic for geocentric latitude) would be 0.003.
        var computed = Observatory.FromGeodetic("Cerro Pachon", -70.7366, -30.2446, 2663);
        var mpc = Observatory.Find("I11");
        Assert.Equal(mpc.LongitudeDeg, computed.LongitudeDeg, 3);
        Assert.InRange(computed.RhoCosPhi - mpc.RhoCosPhi, -1e-4, 1e-4);
        Assert.InRange(computed.RhoSinPhi - mpc.RhoSinPhi, -1e-4, 1e-4);
    }

    [Fact]
    public void A_kepler_orbits_state_velocity_is_the_derivative_of_its_position_and_two_body_motion_agrees()
    {
        var orbit = new KeplerOrbit(2.2, 0.31, 12, 100, 40, 250, 60000);
        var s = orbit.StateAt(60100);
        double h = 1e-3;
        var a = orbit.HeliocentricEquatorial(60100 - h);
        var b = orbit.HeliocentricEquatorial(60100 + h);
        Assert.Equal((b.X - a.X) / (2 * h), s.Vx, 9);
        Assert.Equal((b.Y - a.Y) / (2 * h), s.Vy, 9);
        Assert.Equal((b.Z - a.Z) / (2 * h), s.Vz, 9);
        var kepler = UniversalKepler.Propagate(s, 60500);
        var direct = orbit.StateAt(60500);
        Assert.True(Math.Abs(kepler.X - direct.X) + Math.Abs(kepler.Y - direct.Y) + Math.Abs(kepler.Z - direct.Z) < 1e-10);
    }

    [Fact]
    public void An_unknown_observatory_code_is_refused_naming_the_known_codes()
    {
        var e = Assert.Throws<ArgumentException>(() => Observatory.Find("Q99"));
        Assert.Contains("Q99", e.Message);
        Assert.Contains("X05", e.Message);
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void A_site_vector_has_the_parallax_constants_length_turns_once_a_sidereal_day_and_its_velocity_is_its_derivative()
    {
        var site = Observatory.Find("X05");
        double mjd = 60200.25;
        var (x, y, z, vx, vy, vz) = site.GeocentricIcrsState(mjd);
        double radius = Math.Sqrt(site.RhoCosPhi * site.RhoCosPhi + site.RhoSinPhi * site.RhoSinPhi) * Observatory.EarthEquatorialRadiusKm / Observatory.AuKm;
        Assert.Equal(radius, Math.Sqrt(x * x + y * y + z * z), 15);
        // Dec of the site vector = geocentric latitude, within precession-nutation's tilt of the pole (under 0.5°).
        double lat = Math.Atan2(site.RhoSinPhi, site.RhoCosPhi) * Coordinates.RadToDeg;
        Assert.InRange(Coordinates.FromVector(x, y, z).LatDeg - lat, -0.5, 0.5);
        // Velocity against a central difference of ±1 s.
        double h = 1 / TimeScales.SecondsPerDay;
        var a = site.GeocentricIcrs(mjd - h);
        var b = site.GeocentricIcrs(mjd + h);
        Assert.Equal((b.X - a.X) / (2 * h), vx, 10);
        Assert.Equal((b.Y - a.Y) / (2 * h), vy, 10);
        Assert.Equal((b.Z - a.Z) / (2 * h), vz, 10);
        // One sidereal day (1 / 1.00273781191135448 UT1 days) later the vector is back, up to precession (~1e-10 au).
        var c = site.GeocentricIcrs(mjd + 1 / 1.00273781191135448);
        Assert.True(Math.Sqrt(Math.Pow(c.X - x, 2) + Math.Pow(c.Y - y, 2) + Math.Pow(c.Z - z, 2)) < 1e-9);
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void Analytic_rates_equal_the_derivative_of_the_ephemeris_for_a_near_earth_object_from_a_site()
    {
        // An Apollo passing 0.02 au from the Earth, seen from Rubin: the site's rotation dominates the rate.
        var earth = Ephemerides.EarthState(60200);
        var body = new TwoBodyMotion(new OrbitState(earth.X + 0.02, earth.Y, earth.Z + 0.005, earth.Vx - 0.004, earth.Vy + 0.006, earth.Vz, 60200));
        var site = Observatory.Find("X05");
        double mjd = TimeScales.MjdTdbToMjdUtc(60200.1), h = 30 / TimeScales.SecondsPerDay;
        var e = Ephemerides.Observe(body, site, mjd);
        var before = Ephemerides.Observe(body, site, mjd - h);
        var after = Ephemerides.Observe(body, site, mjd + h);
        double raRate = Coordinates.Wrap360(after.RaDeg - before.RaDeg + 180) - 180;
        raRate = raRate * 3600 * Math.Cos(e.DecDeg * Coordinates.DegToRad) / (2 * h * 24);
        double decRate = (after.DecDeg - before.DecDeg) * 3600 / (2 * h * 24);
        output.WriteLine($"rates \"/h analytic {e.RaRateArcsecPerHour:F3} {e.DecRateArcsecPerHour:F3} numeric {raRate:F3} {decRate:F3}");
        Assert.True(Math.Abs(e.RaRateArcsecPerHour) > 100);
        Assert.Equal(raRate, e.RaRateArcsecPerHour, 1);
        Assert.Equal(decRate, e.DecRateArcsecPerHour, 1);
        // The site matters: from the geocentre the position differs by about the horizontal parallax (8.8"/0.02).
        var geocentric = Ephemerides.Observe(body, Observatory.Find("500"), mjd);
        double parallax = Coordinates.SeparationDeg(e.RaDeg, e.DecDeg, geocentric.RaDeg, geocentric.DecDeg) * 3600;
        Assert.InRange(parallax, 10, 8.794 / 0.0205 * 1.01);
    }
}
