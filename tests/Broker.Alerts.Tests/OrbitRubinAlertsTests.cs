using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Sky.Orbits;
using Broker.TestSupport;

namespace Broker.Alerts.Tests;

/// <summary>
/// The MPC orbits Rubin attaches to solar-system alerts (schema 10.0 <c>mpc_orbits</c>), read from real alerts
/// decoded by Broker's own Avro code and flattened by <see cref="SurveyAlertMapper"/>.
/// </summary>
public sealed class OrbitRubinAlertsTests
{
    private const string Folder = "lsst/alerts/fink-client_20260305_lsstcam_v10.0_datatransfer";

    private static List<Alert> AlertsWithOrbits() =>
        new AlertFileReader().Read([SharedData.Path(Folder)])
            .Select(item =>
            {
                Assert.True(item.Ok, item.Error);
                return SurveyAlertMapper.Map(item.Record!);
            })
            .Where(a => a.SurveyFields.TryGetValue("mpc_orbits.designation", out var d) && d is string)
            .ToList();

    [OracleFact]
    public void The_two_sso_alerts_give_their_mpc_orbits()
    {
        var alerts = AlertsWithOrbits();
        Assert.Equal(2, alerts.Count);
        var bad = new List<string>();
        var orbits = alerts.Select(a => RubinOrbitReader.FromFields(a.SurveyFields, where: $"alert {a.AlertId}", onBadRow: bad.Add)!).ToList();
        Assert.Empty(bad);
        Assert.All(orbits, Assert.NotNull);
        Assert.All(orbits, o => Assert.Equal(RubinOrbitReader.SourceName, o.Source));
        Assert.All(orbits, o => Assert.Equal(61000, o.Elements.EpochMjdTdb));

        for (int k = 0; k < alerts.Count; k++)
        {
            var fields = alerts[k].SurveyFields;
            var orbit = orbits[k];
            // The survey's own association names the object this orbit is for.
            Assert.True(Designations.SameObject(orbit, (string)fields["ssSource.designation"]!), $"{orbit.Name} vs {fields["ssSource.designation"]}");
            Assert.Equal(Designations.Key((string)fields["mpc_orbits.packed_primary_provisional_designation"]!), Designations.Key((string)fields["mpc_orbits.designation"]!));
            Assert.Equal((double)fields["mpc_orbits.q"]!, orbit.Elements.Q);
            Assert.Equal((double)fields["mpc_orbits.e"]!, orbit.Elements.E);
            Assert.Equal((double)fields["mpc_orbits.peri_time"]!, orbit.Elements.PerihelionMjdTdb);
            Assert.Equal((double)fields["mpc_orbits.h"]!, orbit.H);
        }

        // 2004 JQ12 is numbered (mpc_orb_jsonb's permid): its designation is the number, its name keeps both.
        var jq12 = Assert.Single(orbits, o => Designations.SameObject(o, "2004 JQ12"));
        Assert.Equal("217301", jq12.Designation);
        Assert.Equal("217301 (2004 JQ12)", jq12.Name);
        var sj88 = Assert.Single(orbits, o => Designations.SameObject(o, "2020SJ88"));
        Assert.Equal("2020 SJ88", sj88.Designation);
    }

    [OracleFact]
    public void The_cometary_elements_agree_with_the_cartesian_state_of_the_same_solution()
    {
        foreach (var alert in AlertsWithOrbits())
        {
            var orbit = RubinOrbitReader.FromFields(alert.SurveyFields)!;
            var car = RubinOrbitReader.CartesianState(alert.SurveyFields);
            Assert.NotNull(car);
            var com = orbit.Elements.StateAtEpoch();
            // Same epoch, same frame (ecliptic J2000 rotated to the equator both ways): positions within 1e-7 au
            // (15 km; the COM angles carry 13 significant digits), velocities within 1e-10 au/day.
            Assert.Equal(car.Value.MjdTdb, com.MjdTdb);
            Assert.True(Distance(car.Value, com) < 1e-7, $"{orbit.Name}: {Distance(car.Value, com)} au");
            Assert.True(Speed(car.Value, com) < 1e-10, $"{orbit.Name}: {Speed(car.Value, com)} au/day");
            // Propagated by universal variables to the perihelion time, the Cartesian state sits at q, moving
            // perpendicular to the radius.
            var atPerihelion = UniversalKepler.Propagate(car.Value, orbit.Elements.PerihelionMjdTdb);
            Assert.Equal(orbit.Elements.Q, atPerihelion.R, 6);
            double radial = (atPerihelion.X * atPerihelion.Vx + atPerihelion.Y * atPerihelion.Vy + atPerihelion.Z * atPerihelion.Vz) / atPerihelion.R;
            Assert.True(Math.Abs(radial) < 1e-8, $"{orbit.Name}: radial velocity {radial} au/day at perihelion");
            // A year either way, the two starting points stay together.
            foreach (double days in new[] { -365.25, 365.25 })
                Assert.True(Distance(UniversalKepler.Propagate(car.Value, car.Value.MjdTdb + days), UniversalKepler.Propagate(com, com.MjdTdb + days)) < 1e-6);
        }
    }

    [OracleFact]
    public void The_keplerian_fields_of_the_record_give_the_same_orbit_as_the_cometary_ones()
    {
        foreach (var alert in AlertsWithOrbits())
        {
            var cometary = RubinOrbitReader.FromFields(alert.SurveyFields)!;
            // Without q, peri_time and the JSON copy, the reader falls back to a, e and the mean anomaly (as Broker's
            // simulator writes the record); the record's own fields must describe the same orbit.
            var keplerianOnly = alert.SurveyFields
                .Where(kv => kv.Key.StartsWith(RubinOrbitReader.AlertFieldPrefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[RubinOrbitReader.AlertFieldPrefix.Length..], kv => kv.Value);
            keplerianOnly["q"] = null;
            keplerianOnly["peri_time"] = null;
            keplerianOnly["mpc_orb_jsonb"] = null;
            var keplerian = RubinOrbitReader.FromFields(keplerianOnly, prefix: "")!;
            Assert.Equal((string)keplerianOnly["designation"]!, keplerian.Designation);
            Assert.True(Distance(cometary.Elements.StateAtEpoch(), keplerian.Elements.StateAtEpoch()) < 1e-7);
        }
    }

    [Fact]
    public void A_bad_or_absent_record_gives_one_line_or_nothing()
    {
        Assert.Null(RubinOrbitReader.FromFields(new Dictionary<string, object?> { ["mpc_orbits.designation"] = null }));
        var fields = new Dictionary<string, object?>
        {
            ["designation"] = "2004 JQ12", ["q"] = 1.95, ["e"] = double.NaN, ["i"] = 7.5, ["node"] = 205.2, ["argperi"] = 103.3,
            ["peri_time"] = 61733.1, ["epoch_mjd"] = 61000.0,
        };
        var bad = new List<string>();
        Assert.Null(RubinOrbitReader.FromFields(fields, prefix: "", where: "alert 42", onBadRow: bad.Add));
        Assert.Equal(["alert 42: mpc_orbits (2004 JQ12): e = NaN is not finite"], bad);
    }

    private static double Distance(OrbitState a, OrbitState b) =>
        Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y) + (a.Z - b.Z) * (a.Z - b.Z));

    private static double Speed(OrbitState a, OrbitState b) =>
        Math.Sqrt((a.Vx - b.Vx) * (a.Vx - b.Vx) + (a.Vy - b.Vy) * (a.Vy - b.Vy) + (a.Vz - b.Vz) * (a.Vz - b.Vz));
}
