using System.CommandLine;
using System.Globalization;
using System.Text;
using Broker.Sky;
using Broker.Sky.Orbits;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker ephem</c>: astrometric ephemerides of the orbits in a file for an MPC observatory at given UTC times
/// (issue 12), N-body by default (Sun and eight planets, <see cref="NBodyMotion"/>), two-body with <c>--two-body</c>.
/// </summary>
internal static class EphemCommand
{
    public const string Header = "designation,mjd_utc,ra_deg,dec_deg,delta_au,r_au,phase_deg,v_mag";

    public static Command Create()
    {
        var orbits = new Option<string>("--orbits") { Description = "Orbit file: CSV with header designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G (heliocentric ecliptic J2000 osculating elements)", Required = true };
        var observatory = new Option<string>("--observatory") { Description = "MPC observatory code (500 geocentre, I41 ZTF, X05 Rubin, W84 DECam, ...)", Required = true };
        var times = new Option<string?>("--times") { Description = "Comma-separated UTC MJDs" };
        var timesFile = new Option<string?>("--times-file") { Description = "File of UTC MJDs, one per line" };
        var twoBody = new Option<bool>("--two-body") { Description = "Two-body (Keplerian) motion instead of the N-body integration" };
        var command = new Command("ephem", $"Astrometric ICRS ephemerides (light-time corrected, as JPL Horizons' astrometric RA/Dec): prints {Header} per orbit and time.");
        foreach (var o in new Option[] { orbits, observatory, times, timesFile, twoBody }) command.Options.Add(o);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            Observatory site;
            try
            {
                site = Observatory.Find(parse.GetValue(observatory)!);
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException("--observatory: " + e.Message.Split(" (Parameter")[0]);
            }
            var mjds = Times(parse.GetValue(times), parse.GetValue(timesFile));
            bool keplerian = parse.GetValue(twoBody);
            if (!keplerian && !Vsop87.DefaultAvailable)
                throw new CliUsageException($"the N-body ephemeris needs VSOP87 from kstars-data ({Vsop87.DefaultFolder}/*.vsop is missing): install kstars-data or pass --two-body");
            string path = parse.GetValue(orbits)!;
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"error: {path}: no such file");
                return CatalogCommands.BadInputExitCode;
            }
            try
            {
                return Print(path, site, mjds, keplerian, ct);
            }
            catch (CsvOrbits.OrbitFileException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return CatalogCommands.BadInputExitCode;
            }
        }));
        return command;
    }

    private static int Print(string path, Observatory site, List<double> mjds, bool keplerian, CancellationToken ct)
    {
        // Read (and check) every orbit before the header, so a file that is not an orbit CSV prints nothing.
        var list = CsvOrbits.Read(path, line => Console.Error.WriteLine("warning: " + line)).ToList();
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { NewLine = "\n" };
        stdout.WriteLine(Header);
        foreach (var orbit in list)
        {
            ct.ThrowIfCancellationRequested();
            IHeliocentricMotion motion = keplerian ? new TwoBodyMotion(orbit.Elements) : new NBodyMotion(orbit.Elements);
            foreach (double mjd in mjds)
            {
                string cells;
                try
                {
                    var e = Ephemerides.Observe(motion, site, mjd);
                    double v = double.IsNaN(orbit.H) ? double.NaN : e.VMagnitude(orbit.H, orbit.G);
                    cells = string.Create(CultureInfo.InvariantCulture,
                        $"{orbit.Designation},{mjd:R},{e.RaDeg:F7},{e.DecDeg:F7},{e.DeltaAu:F9},{e.RAu:F9},{e.PhaseDeg:F4},{(double.IsNaN(v) ? "" : v.ToString("F3", CultureInfo.InvariantCulture))}");
                }
                catch (ArithmeticException ex)
                {
                    Console.Error.WriteLine($"warning: {orbit.Designation} at MJD {mjd.ToString("R", CultureInfo.InvariantCulture)}: {ex.Message}");
                    continue;
                }
                stdout.WriteLine(cells);
            }
        }
        stdout.Flush();
        return 0;
    }

    private static List<double> Times(string? list, string? file)
    {
        if ((list is null) == (file is null)) throw new CliUsageException("give exactly one of --times MJD_UTC,... or --times-file FILE");
        var mjds = new List<double>();
        if (list is not null)
        {
            foreach (var cell in list.Split(',', StringSplitOptions.TrimEntries))
                mjds.Add(Mjd(cell, "--times"));
        }
        else
        {
            if (!File.Exists(file)) throw new CliUsageException($"--times-file: {file}: no such file");
            int lineNumber = 0;
            foreach (var line in File.ReadLines(file!))
            {
                lineNumber++;
                string cell = line.Trim();
                if (cell.Length == 0 || cell[0] == '#') continue;
                mjds.Add(Mjd(cell, $"{file}: line {lineNumber}"));
            }
        }
        if (mjds.Count == 0) throw new CliUsageException("no times given");
        return mjds;
    }

    private static double Mjd(string cell, string where)
    {
        // The ephemerides (eraEpv00) hold for 1900-2100: MJD 15020 to 88069.
        if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double mjd) || !(mjd >= 15020 && mjd <= 88069))
            throw new CliUsageException($"{where}: '{cell}' is not a UTC MJD between 15020 and 88069 (1900-2100)");
        return mjd;
    }
}

/// <summary>
/// The issue's plain CSV orbit format, read here until the orbit-source readers (Broker.Sky.Orbits.Sources) land:
/// <c>designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G</c>, heliocentric ecliptic
/// J2000 osculating elements (a negative with e &gt; 1 for a hyperbola). A bad row is one warning naming the file and
/// row; the rest load.
/// </summary>
internal static class CsvOrbits
{
    /// <summary>The file is not an orbit CSV at all (its header lacks a column): bad input, exit code 1.</summary>
    public sealed class OrbitFileException(string message) : Exception(message);

    private static readonly string[] Columns = ["designation", "epoch_mjd_tdb", "a_au", "e", "i_deg", "node_deg", "argperi_deg", "mean_anomaly_deg", "H", "G"];

    public static IEnumerable<SolarSystemOrbit> Read(string path, Action<string> reject)
    {
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        var names = header?.Split(',', StringSplitOptions.TrimEntries) ?? [];
        var index = Columns.Select(c => Array.FindIndex(names, n => string.Equals(n, c, StringComparison.OrdinalIgnoreCase))).ToArray();
        int missing = Array.IndexOf(index, -1);
        if (missing >= 0) throw new CsvOrbits.OrbitFileException($"{path}: header has no column '{Columns[missing]}' (expected {string.Join(',', Columns)})");
        int row = 0;
        while (reader.ReadLine() is { } line)
        {
            row++;
            if (line.Trim().Length == 0) continue;
            var cells = line.Split(',', StringSplitOptions.TrimEntries);
            if (cells.Length < names.Length)
            {
                reject($"{path}: row {row}: {cells.Length} cells, the header has {names.Length}; row skipped");
                continue;
            }
            var values = new double[Columns.Length];
            string? problem = null;
            for (int c = 1; c < Columns.Length && problem is null; c++)
            {
                string cell = cells[index[c]];
                if (c >= 8 && cell.Length == 0) { values[c] = c == 8 ? double.NaN : 0.15; continue; }
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out values[c]) || (c < 8 && !double.IsFinite(values[c])))
                    problem = $"{Columns[c]} = '{cell}' is not a finite number";
            }
            double a = values[2], e = values[3];
            if (problem is null && cells[index[0]].Length == 0) problem = "designation is empty";
            if (problem is null && !(e >= 0)) problem = $"e = {e.ToString("R", CultureInfo.InvariantCulture)} is negative";
            if (problem is null && e < 1 && !(a > 0)) problem = $"a = {a.ToString("R", CultureInfo.InvariantCulture)} au must be positive for e < 1";
            if (problem is null && e >= 1 && !(a < 0)) problem = $"e = {e.ToString("R", CultureInfo.InvariantCulture)} >= 1 with a = {a.ToString("R", CultureInfo.InvariantCulture)} au: an elliptic a needs e < 1 (a hyperbola has a < 0, e > 1)";
            if (problem is not null)
            {
                reject($"{path}: row {row}: {problem}; row skipped");
                continue;
            }
            var elements = CometaryElements.FromKeplerian(a, e, values[4], values[5], values[6], values[7], values[1]);
            double g = double.IsNaN(values[9]) ? 0.15 : values[9];
            yield return new SolarSystemOrbit(cells[index[0]], cells[index[0]], elements, values[8], g, "CSV");
        }
    }
}
