using System.Globalization;
using Broker.Simulation;
using Broker.Sky;
using Broker.TestSupport;

namespace Broker.Simulation.Tests;

public sealed class SimulatorTests
{
    private static readonly SimulationOptions Ztf = new() { Survey = SurveyKind.Ztf, Nights = 2, AlertsPerNight = 150, Seed = 7 };
    private static readonly SimulationOptions Lsst = new() { Survey = SurveyKind.Lsst, Nights = 1, AlertsPerNight = 150, Seed = 7 };

    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "broker-sim-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static string Oracle(string name) => Path.Combine(AppContext.BaseDirectory, "oracles", name);

    [OracleFact("avro", "astropy")]
    public async Task Every_simulated_ztf_alert_decodes_with_the_official_4_02_schema_and_its_cutouts_open_in_astropy()
    {
        string dir = TempDir();
        var summary = await AlertSimulator.WriteAsync(Ztf, dir);
        Assert.True(summary.Alerts > 50);
        var files = Directory.GetFiles(Path.Combine(dir, "alerts"), "*.avro");
        string output = Python.Run(Oracle("decode_packets.py"), ["ztf", SharedData.Path("ztf/schema"), .. files]);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(summary.Alerts, lines.Length);
        Assert.All(lines, l => Assert.EndsWith(" 3", l, StringComparison.Ordinal));
    }

    [OracleFact("avro", "astropy")]
    public async Task Single_alert_ztf_files_decode_like_ipac_packets()
    {
        string dir = TempDir();
        var options = Ztf with { Nights = 1, AlertsPerNight = 40 };
        var summary = await AlertSimulator.WriteAsync(options, dir, OutputLayout.PerAlert);
        var files = Directory.GetFiles(Path.Combine(dir, "alerts"), "*.avro");
        Assert.Equal(summary.Alerts, files.Length);
        string output = Python.Run(Oracle("decode_packets.py"), ["ztf", SharedData.Path("ztf/schema"), .. files]);
        Assert.Equal(files.Length, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [OracleFact("avro", "astropy")]
    public async Task Every_simulated_rubin_alert_decodes_with_the_official_11_0_schema_in_both_layouts()
    {
        foreach (var layout in new[] { OutputLayout.PerVisit, OutputLayout.PerAlert })
        {
            string dir = TempDir();
            var summary = await AlertSimulator.WriteAsync(Lsst, dir, layout);
            Assert.True(summary.Alerts > 50);
            var files = Directory.GetFiles(Path.Combine(dir, "alerts"));
            string output = Python.Run(Oracle("decode_packets.py"), ["lsst", SharedData.Path("lsst/schema/11.0"), .. files]);
            Assert.Equal(summary.Alerts, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_bytes_whatever_the_worker_count()
    {
        var a = AlertSimulator.Generate(Ztf with { Nights = 1, Workers = 1 }).ToList();
        var b = AlertSimulator.Generate(Ztf with { Nights = 1, Workers = 4 }).ToList();
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Datum, b[i].Datum);
        var c = AlertSimulator.Generate(Ztf with { Nights = 1, Seed = 8 }).ToList();
        Assert.NotEqual(a[0].Datum, c[0].Datum);
    }

    [Fact]
    public async Task Truth_lists_every_alert_and_every_asteroid_designation()
    {
        string dir = TempDir();
        var summary = await AlertSimulator.WriteAsync(Ztf with { AlertsPerNight = 400 }, dir);
        var rows = File.ReadAllLines(Path.Combine(dir, "truth.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(summary.Alerts, rows.Count);
        var ids = AlertSimulator.Generate(Ztf with { AlertsPerNight = 400 }).Select(a => a.AlertId.ToString(CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ids, rows.Select(r => r[0]).ToList());
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var asteroids = rows.Where(r => r[2] == nameof(ObjectClass.Asteroid)).ToList();
        Assert.NotEmpty(asteroids);
        Assert.All(asteroids, r => Assert.False(string.IsNullOrEmpty(r[3])));
        Assert.All(rows.Where(r => r[2] != nameof(ObjectClass.Asteroid)), r => Assert.Equal("", r[3]));
        Assert.True(rows.Select(r => r[2]).Distinct().Count() >= 12, "most classes appear");
    }

    [Theory]
    [InlineData(SurveyKind.Ztf)]
    [InlineData(SurveyKind.Lsst)]
    public void No_alert_is_below_the_horizon_or_in_daylight(SurveyKind survey)
    {
        var site = survey == SurveyKind.Ztf ? ObservatorySite.Palomar : ObservatorySite.CerroPachon;
        var alerts = AlertSimulator.Generate(new SimulationOptions { Survey = survey, Nights = 2, AlertsPerNight = 200, Seed = 3, Cutouts = false }).ToList();
        Assert.NotEmpty(alerts);
        foreach (var a in alerts)
        {
            double jd = a.Truth.MjdUtc + TimeScales.MjdOffset;
            Assert.True(SolarPosition.AltitudeDeg(jd, site) < -11.9, $"sun up at {a.Truth.MjdUtc}");
            Assert.True(Coordinates.EquatorialToHorizontal(a.Truth.RaDeg, a.Truth.DecDeg, jd, site).AltitudeDeg > 20, $"alert {a.AlertId} low");
        }
    }
}
