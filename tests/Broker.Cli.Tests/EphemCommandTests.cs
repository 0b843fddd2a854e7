using System.Globalization;
using Broker.Sky;
using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>A fact that needs the shared data, liberfa and VSOP87 from kstars-data (./broker test installs both).</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class EphemerisDataFactAttribute : FactAttribute
{
    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? (!SharedData.Exists ? "shared test data not found"
            : !File.Exists("/usr/share/kstars/earth.L0.vsop") ? "kstars-data (VSOP87) is not installed"
            : !File.Exists("/usr/lib/x86_64-linux-gnu/liberfa.so.1") && !File.Exists("/usr/lib/aarch64-linux-gnu/liberfa.so.1") ? "liberfa1 is not installed"
            : null)!;
        set => base.Skip = value;
    }
}

/// <summary><c>broker ephem</c> as a process: Horizons' positions of 433 Eros from X05, bad rows, usage errors (issue 12).</summary>
public sealed class EphemCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("broker-ephem-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string[][] Csv(string file)
    {
        var lines = File.ReadAllLines(SharedData.Path("sso/adam_core_orbits_ephemerides/" + file));
        return [.. lines.Select(l => l.Split(','))];
    }

    [EphemerisDataFact]
    public void Ephem_prints_horizons_positions_of_eros_from_x05_and_skips_a_bad_row_with_one_warning()
    {
        // 433 Eros: the eighth object of adam_core's oracle; its Horizons elements and its X05 rows (orbit_id 00007).
        var elements = Csv("elements_sun_ec.csv");
        var header = elements[0];
        var eros = elements[8];
        string Get(string column) => eros[Array.IndexOf(header, column)];
        Assert.StartsWith("433 Eros", eros[0]);
        string orbits = Path.Combine(_folder, "orbits.csv");
        File.WriteAllText(orbits, "designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G\n" +
            $"433,{Get("mjd_tdb")},{Get("a")},{Get("e")},{Get("incl")},{Get("Omega")},{Get("w")},{Get("M")},10.38,0.46\n" +
            "broken,60000,2.5,1.2,1,2,3,4,15,0.15\n");
        var ephemeris = Csv("ephemeris.csv");
        var eh = ephemeris[0];
        var rows = ephemeris.Skip(1).Where(r => r[0] == "00007").Take(5).ToArray();
        string times = string.Join(',', rows.Select(r => r[Array.IndexOf(eh, "mjd_utc")]));

        foreach (var mode in new[] { Array.Empty<string>(), ["--two-body"] })
        {
            var run = BrokerProcess.Run([.. new[] { "ephem", "--orbits", orbits, "--observatory", "X05", "--times", times }, .. mode]);
            Assert.Equal(0, run.ExitCode);
            Assert.Equal("designation,mjd_utc,ra_deg,dec_deg,delta_au,r_au,phase_deg,v_mag", run.OutputLines[0]);
            Assert.Equal(rows.Length + 1, run.OutputLines.Length);
            var warning = Assert.Single(run.ErrorLines);
            Assert.Contains($"{orbits}: row 2: e = 1.2 >= 1", warning);
            for (int i = 0; i < rows.Length; i++)
            {
                var cells = run.OutputLines[i + 1].Split(',');
                double D(string[] r, int c) => double.Parse(r[c], CultureInfo.InvariantCulture);
                double horizonsRa = D(rows[i], Array.IndexOf(eh, "RA")), horizonsDec = D(rows[i], Array.IndexOf(eh, "DEC"));
                double separation = Coordinates.SeparationDeg(D(cells, 2), D(cells, 3), horizonsRa, horizonsDec) * 3600;
                // Eros's rows are 2-30 days from its epoch: N-body agrees to 0.01", two-body to 0.5" (EphemerisHorizonsTests).
                Assert.True(separation < (mode.Length == 0 ? 0.05 : 0.5), $"{string.Join(' ', mode)} row {i}: {separation:F4}\"");
                Assert.InRange(D(cells, 4) - D(rows[i], Array.IndexOf(eh, "delta")), -1e-5, 1e-5);
                Assert.InRange(D(cells, 6) - D(rows[i], Array.IndexOf(eh, "alpha")), -0.01, 0.01);
            }
        }
    }

    [Fact]
    public void Ephem_bad_arguments_are_one_line_and_exit_code_2_and_a_file_that_is_not_an_orbit_csv_exit_code_1()
    {
        string orbits = Path.Combine(_folder, "orbits.csv");
        File.WriteAllText(orbits, "designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G\n1,60000,2.77,0.08,10.6,80.3,73.6,10,3.3,0.12\n");
        string timesFile = Path.Combine(_folder, "times.txt");
        File.WriteAllText(timesFile, "60000.5\nsoon\n");
        foreach (var args in new[]
        {
            new[] { "ephem", "--orbits", orbits, "--observatory", "Q99", "--times", "60000" },
            ["ephem", "--orbits", orbits, "--observatory", "X05"],
            ["ephem", "--orbits", orbits, "--observatory", "X05", "--times", "60000", "--times-file", timesFile],
            ["ephem", "--orbits", orbits, "--observatory", "X05", "--times", "60000,abc", "--two-body"],
            ["ephem", "--orbits", orbits, "--observatory", "X05", "--times-file", timesFile, "--two-body"],
        })
        {
            var run = BrokerProcess.Run(args);
            Assert.Equal(2, run.ExitCode);
            Assert.StartsWith("error: ", Assert.Single(run.ErrorLines));
        }
        var unknown = BrokerProcess.Run("ephem", "--orbits", orbits, "--observatory", "q99", "--times", "60000");
        Assert.Contains("X05", unknown.ErrorLines[0]);
        var line = BrokerProcess.Run("ephem", "--orbits", orbits, "--observatory", "X05", "--times-file", timesFile, "--two-body");
        Assert.Contains($"{timesFile}: line 2", line.ErrorLines[0]);

        // Not an orbit file: bad input, exit code 1, one line naming the file and the missing column, nothing on stdout.
        string notOrbits = Path.Combine(_folder, "positions.csv");
        File.WriteAllText(notOrbits, "id,ra,dec\n1,10,20\n");
        var wrong = BrokerProcess.Run("ephem", "--orbits", notOrbits, "--observatory", "X05", "--times", "60000", "--two-body");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal($"error: {notOrbits}: header has no column 'designation' (expected designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G)", Assert.Single(wrong.ErrorLines));
        Assert.Empty(wrong.OutputLines);
        var absent = BrokerProcess.Run("ephem", "--orbits", notOrbits + ".none", "--observatory", "X05", "--times", "60000", "--two-body");
        Assert.Equal(1, absent.ExitCode);
    }
}
