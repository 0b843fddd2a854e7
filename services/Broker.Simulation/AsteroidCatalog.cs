using System.Globalization;
using System.Text.Json;
using Broker.Sky.Orbits;

namespace Broker.Simulation;

/// <summary>An asteroid with a two-body orbit.</summary>
/// <param name="Designation">As ZTF writes <c>ssnamenr</c>: the bare number when numbered, else the provisional designation without its space.</param>
/// <param name="Name">The full name from the catalogue.</param>
/// <param name="Orbit">Osculating elements.</param>
/// <param name="H">Absolute magnitude.</param>
/// <param name="G">Slope parameter.</param>
internal sealed record Asteroid(string Designation, string Name, KeplerOrbit Orbit, double H, double G);

/// <summary>
/// Reads Debian kstars-data's <c>asteroids.dat</c>: JSON from the JPL SBDB query API (fields full_name, H, G,
/// epoch_mjd, e, a, i, om, w, ma; angles in degrees, ecliptic J2000, epoch MJD TDB).
/// </summary>
internal static class AsteroidCatalog
{
    public const string DefaultPath = "/usr/share/kstars/asteroids.dat";

    private static readonly Lazy<Asteroid[]> Default = new(() => File.Exists(DefaultPath) ? Load(File.ReadAllBytes(DefaultPath)) : []);

    /// <summary>The Debian catalogue, or empty when kstars-data is not installed.</summary>
    public static Asteroid[] Installed => Default.Value;

    public static Asteroid[] Load(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        var fields = doc.RootElement.GetProperty("fields").EnumerateArray().Select(f => f.GetString()!).ToList();
        int Col(string name) => fields.IndexOf(name);
        int cName = Col("full_name"), cH = Col("H"), cG = Col("G"), cEpoch = Col("epoch_mjd"), cE = Col("e"), cA = Col("a"), cI = Col("i"), cOm = Col("om"), cW = Col("w"), cMa = Col("ma");
        var list = new List<Asteroid>();
        foreach (var row in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            string? Get(int c) => c < 0 ? null : row[c].ValueKind == JsonValueKind.String ? row[c].GetString() : null;
            if (!TryNum(Get(cA), out double a) || !TryNum(Get(cE), out double e) || e >= 1 || a <= 0) continue;
            if (!TryNum(Get(cH), out double h)) continue;
            double g = TryNum(Get(cG), out double gg) ? gg : 0.15;
            var orbit = new KeplerOrbit(a, e, Num(Get(cI)), Num(Get(cOm)), Num(Get(cW)), Num(Get(cMa)), Num(Get(cEpoch)));
            string name = (Get(cName) ?? "").Trim();
            list.Add(new Asteroid(ZtfDesignation(name), name, orbit, h, g));
        }
        return list.ToArray();
    }

    /// <summary>"1 Ceres (A801 AA)" -> "1"; "(2012 QR64)" -> "2012QR64".</summary>
    public static string ZtfDesignation(string fullName)
    {
        string s = fullName.Trim();
        int sp = s.IndexOf(' ');
        string first = sp < 0 ? s : s[..sp];
        if (first.Length > 0 && first.All(char.IsAsciiDigit)) return first;
        int open = s.IndexOf('('), close = s.IndexOf(')');
        string inner = open >= 0 && close > open ? s[(open + 1)..close] : s;
        return inner.Replace(" ", "", StringComparison.Ordinal);
    }

    private static bool TryNum(string? s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v);

    private static double Num(string? s) => TryNum(s, out double v) ? v : 0;
}
