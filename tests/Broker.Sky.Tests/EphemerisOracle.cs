using System.Globalization;
using Broker.Sky.Orbits;
using Broker.TestSupport;
using Xunit;

namespace Broker.Sky.Tests;

/// <summary>
/// A fact that needs what the accurate ephemerides need: the shared data (adam_core's Horizons oracle), liberfa
/// (eraEpv00, eraC2t06a) and VSOP87 from Debian's kstars-data (./broker test installs both).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class EphemerisFactAttribute : FactAttribute
{
    /// <summary>Whether the test reads shared/data; true by default.</summary>
    public bool NeedsSharedData { get; set; } = true;

    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? WhySkip(NeedsSharedData)!;
        set => base.Skip = value;
    }

    internal static string? WhySkip(bool needsSharedData)
    {
        if (needsSharedData && !SharedData.Exists) return "shared test data (<repo>/../shared/data) not found";
        if (!File.Exists("/usr/lib/x86_64-linux-gnu/liberfa.so.1") && !File.Exists("/usr/lib/aarch64-linux-gnu/liberfa.so.1"))
            return "liberfa.so.1 is missing: install the Debian package liberfa1 (./broker test does)";
        if (!Vsop87.DefaultAvailable) return $"{Vsop87.DefaultFolder}/earth.L0.vsop is missing: install the Debian package kstars-data (./broker test does)";
        return null;
    }
}

/// <summary>One of adam_core's 28 Horizons objects: its heliocentric ICRS state at its epoch and its class.</summary>
internal sealed record OracleObject(int Index, string Name, string DynamicalClass, OrbitState Epoch, double H, double G);

/// <summary>One Horizons ephemeris row from X05 (ephemeris.csv).</summary>
internal sealed record OracleRow(int ObjectIndex, double MjdUtc, double RaDeg, double DecDeg, double DeltaAu, double RAu, double AlphaDeg,
    double V, double RaRate, double DecRate, double TdbMinusUtSeconds);

/// <summary>Reads adam_core's JPL Horizons oracle (shared/data/sso/adam_core_orbits_ephemerides).</summary>
internal static class EphemerisOracle
{
    private const string Folder = "sso/adam_core_orbits_ephemerides/";

    public static IReadOnlyList<Dictionary<string, string>> Table(string file)
    {
        var lines = File.ReadAllLines(SharedData.Path(Folder + file));
        var header = lines[0].Split(',');
        var rows = new List<Dictionary<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            var row = new Dictionary<string, string>();
            for (int i = 0; i < header.Length; i++) row[header[i]] = cells[i];
            rows.Add(row);
        }
        return rows;
    }

    public static double D(Dictionary<string, string> r, string k) =>
        r[k].Length == 0 ? double.NaN : double.Parse(r[k], CultureInfo.InvariantCulture);

    public static IReadOnlyList<OracleObject> Objects()
    {
        var classes = Table("objects.csv");
        var states = Table("elements_sun_eq.csv");
        var ephemeris = Table("ephemeris.csv");
        var list = new List<OracleObject>();
        for (int i = 0; i < states.Count; i++)
        {
            var s = states[i];
            var first = ephemeris.First(e => int.Parse(e["orbit_id"], CultureInfo.InvariantCulture) == i);
            list.Add(new OracleObject(i, s["targetname"], classes[i]["dynamical_class"],
                new OrbitState(D(s, "x"), D(s, "y"), D(s, "z"), D(s, "vx"), D(s, "vy"), D(s, "vz"), D(s, "mjd_tdb")),
                D(first, "H"), D(first, "G")));
        }
        return list;
    }

    public static IReadOnlyList<OracleRow> Rows() =>
        [.. Table("ephemeris.csv").Select(e => new OracleRow(int.Parse(e["orbit_id"], CultureInfo.InvariantCulture), D(e, "mjd_utc"),
            D(e, "RA"), D(e, "DEC"), D(e, "delta"), D(e, "r"), D(e, "alpha"), D(e, "V"), D(e, "RA_rate"), D(e, "DEC_rate"), D(e, "TDB-UT")))];

    /// <summary>Angular separation, arcsec (Vincenty's formula through <see cref="Coordinates.SeparationDeg"/>).</summary>
    public static double SeparationArcsec(double ra1, double dec1, double ra2, double dec2) => Coordinates.SeparationDeg(ra1, dec1, ra2, dec2) * 3600;

    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
