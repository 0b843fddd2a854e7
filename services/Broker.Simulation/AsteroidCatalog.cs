using Broker.Sky;
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
/// The simulator's asteroids: Debian kstars-data's <c>asteroids.dat</c> (JPL SBDB JSON) read by
/// <see cref="SbdbOrbitReader"/>, the one SBDB reader, keeping the elliptic orbits that have an absolute magnitude
/// (a simulated alert needs a predicted brightness).
/// </summary>
internal static class AsteroidCatalog
{
    public const string DefaultPath = SbdbOrbitReader.KStarsPath;

    private static readonly Lazy<Asteroid[]> Default = new(() => File.Exists(DefaultPath) ? Load(SbdbOrbitReader.Read(DefaultPath)) : []);

    /// <summary>The Debian catalogue, or empty when kstars-data is not installed.</summary>
    public static Asteroid[] Installed => Default.Value;

    /// <summary>The asteroids in SBDB JSON bytes.</summary>
    public static Asteroid[] Load(byte[] json) => Load(SbdbOrbitReader.Read(new MemoryStream(json, writable: false), "asteroids.dat"));

    /// <summary>The elliptic orbits with an H, as the simulator's Keplerian asteroids.</summary>
    public static Asteroid[] Load(IEnumerable<SolarSystemOrbit> orbits)
    {
        var list = new List<Asteroid>();
        foreach (var o in orbits)
        {
            if (!(o.Elements.E < 1) || double.IsNaN(o.H)) continue;
            list.Add(new Asteroid(Designations.ZtfForm(o.Designation), o.Name, ToKepler(o.Elements), o.H, o.G));
        }
        return list.ToArray();
    }

    /// <summary>"1 Ceres (A801 AA)" -> "1"; "(2012 QR64)" -> "2012QR64".</summary>
    public static string ZtfDesignation(string fullName) => Designations.ZtfForm(fullName);

    /// <summary>
    /// An ellipse's cometary elements as Keplerian: a = q / (1 - e), and the mean anomaly at the epoch
    /// M = n (epoch - T) with n = k / a^1.5 (the inverse of <see cref="CometaryElements.FromKeplerian"/>), in [0, 360).
    /// </summary>
    private static KeplerOrbit ToKepler(CometaryElements c)
    {
        double a = c.Q / (1 - c.E);
        double nDeg = KeplerOrbit.GaussK / Math.Pow(a, 1.5) / Coordinates.DegToRad;
        double m = (nDeg * (c.EpochMjdTdb - c.PerihelionMjdTdb)) % 360;
        if (m < 0) m += 360;
        return new KeplerOrbit(a, c.E, c.IDeg, c.NodeDeg, c.PeriDeg, m, c.EpochMjdTdb);
    }
}
