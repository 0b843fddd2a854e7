using System.Globalization;
using System.Text;

namespace Broker.TestSupport;

/// <summary>
/// Generated catalogues and positions with strong density contrasts for crossmatch tests (issue 11): a uniform
/// sky, Gaussian clusters (two across RA 0/360), caps at both poles, rows exactly at the poles and on RA 0, and
/// positions at and beside the poles and across RA 0/360. The generator of Broker.Sky.Tests' Q3C oracle test,
/// scalable.
/// </summary>
public sealed class SkyTestCatalog
{
    private const double ArcsecPerRadian = 180.0 / Math.PI * 3600.0;

    /// <summary>Identifiers, 0, 1, 2, ...</summary>
    public List<long> Ids { get; } = [];

    /// <summary>ICRS right ascension, degrees in [0, 360).</summary>
    public List<double> Ra { get; } = [];

    /// <summary>ICRS declination, degrees.</summary>
    public List<double> Dec { get; } = [];

    /// <summary>The first identifier of the pole and RA 0/360 table (positions only).</summary>
    public int FirstEdge { get; private set; } = int.MaxValue;

    /// <summary>Rows.</summary>
    public int Count => Ids.Count;

    /// <summary>True for a position from the pole and RA 0/360 table.</summary>
    public bool IsPolarOrWrap(long id) => id >= FirstEdge;

    /// <summary>
    /// A catalogue of <paramref name="rows"/> rows: 40% uniform, 36% in six clusters (at RA 10/dec 20, RA 0/dec 0,
    /// RA 359.995/dec −30, caps of 80" at both poles, a 5" knot), seven rows exactly at edges, the rest uniform.
    /// </summary>
    public static SkyTestCatalog Catalog(Random rng, int rows = 100_000)
    {
        var c = new SkyTestCatalog();
        for (int i = 0; i < rows * 2 / 5; i++) c.Add(UniformSphere(rng));
        (double Ra, double Dec, double SigmaArcsec, double Share)[] clusters =
        [
            (10, 20, 60, 0.06), (0, 0, 60, 0.06), (359.995, -30, 40, 0.06),
            (0, 90, 80, 0.08), (200, -90, 80, 0.08), (180, 45, 5, 0.06),
        ];
        foreach (var (ra, dec, sigma, share) in clusters)
            for (int i = 0; i < (int)(rows * share); i++) c.Add(Offset(ToVector(ra, dec), Gauss(rng) * sigma / ArcsecPerRadian, Gauss(rng) * sigma / ArcsecPerRadian));
        foreach (var (ra, dec) in new[] { (0.0, 90.0), (0.0, -90.0), (123.0, 90.0), (0.0, 0.0), (Math.BitDecrement(360.0), 0.0), (0.0, -30.0), (359.9999999, 89.9999) })
            c.Add(ra, dec);
        while (c.Count < rows) c.Add(UniformSphere(rng));
        return c;
    }

    /// <summary>Positions: uniform, near catalogue rows (0-90"), then the pole and RA 0/360 table and random positions near the poles and RA 0.</summary>
    public static SkyTestCatalog Positions(Random rng, SkyTestCatalog catalog, int uniform = 1_500, int near = 3_000)
    {
        var p = new SkyTestCatalog();
        for (int i = 0; i < uniform; i++) p.Add(UniformSphere(rng));
        for (int i = 0; i < near; i++)
        {
            int row = rng.Next(catalog.Count);
            double distance = rng.NextDouble() * 90 / ArcsecPerRadian, angle = rng.NextDouble() * 2 * Math.PI;
            p.Add(Offset(ToVector(catalog.Ra[row], catalog.Dec[row]), distance * Math.Cos(angle), distance * Math.Sin(angle)));
        }
        p.FirstEdge = p.Count;
        foreach (double dec in new[] { 90.0, -90.0, 90 - 0.3 / 3600, 90 - 0.999 / 3600, -90 + 0.5 / 3600, -90 + 0.999 / 3600, 90 - 30.0 / 3600, -90 + 59.0 / 3600 })
            foreach (double ra in new[] { 0.0, 45.0, 123.0, 180.0, 200.0, 359.99 })
                p.Add(ra, dec);
        foreach (double dec in new[] { 0.0, -30.0, 0.5 / 3600, -30 - 20.0 / 3600 })
            foreach (double ra in new[] { 0.0, 1e-10, 0.3 / 3600, 20.0 / 3600, Math.BitDecrement(360.0), 360 - 1e-10, 360 - 0.4 / 3600, 359.995, 360 - 30.0 / 3600 })
                p.Add(ra, dec);
        for (int i = 0; i < 200; i++)
        {
            p.Add(rng.NextDouble() * 360, (rng.Next(2) == 0 ? 1 : -1) * (90 - rng.NextDouble() * 120 / 3600));
            double ra = (rng.NextDouble() - 0.5) * 120 / 3600;
            p.Add(ra < 0 ? ra + 360 : ra, rng.Next(2) == 0 ? (rng.NextDouble() - 0.5) * 0.02 : -30 + (rng.NextDouble() - 0.5) * 0.02);
        }
        return p;
    }

    /// <summary>Writes <c>id,ra,dec</c> (round-trip doubles) with the given header names.</summary>
    public void WriteCsv(string path, string id = "id", string ra = "ra", string dec = "dec")
    {
        var sb = new StringBuilder(Count * 48);
        sb.Append(id).Append(',').Append(ra).Append(',').Append(dec).Append('\n');
        for (int i = 0; i < Count; i++)
            sb.Append(Ids[i].ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(Ra[i].ToString("R", CultureInfo.InvariantCulture)).Append(',')
              .Append(Dec[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>Appends a row with the next identifier.</summary>
    public void Add((double Ra, double Dec) p) => Add(p.Ra, p.Dec);

    /// <summary>Appends a row with the next identifier.</summary>
    public void Add(double ra, double dec)
    {
        Ids.Add(Ids.Count);
        Ra.Add(ra);
        Dec.Add(dec);
    }

    /// <summary>"ra R, dec R" of row <paramref name="id"/>.</summary>
    public string Describe(long id) => $"ra {Ra[(int)id]:R}, dec {Dec[(int)id]:R}";

    private static (double X, double Y, double Z) ToVector(double raDeg, double decDeg)
    {
        double ra = raDeg * Math.PI / 180, dec = decDeg * Math.PI / 180;
        return (Math.Cos(dec) * Math.Cos(ra), Math.Cos(dec) * Math.Sin(ra), Math.Sin(dec));
    }

    /// <summary>The point at tangent-plane offset (east, north) radians from <paramref name="c"/>; at a pole "east" is +y.</summary>
    private static (double Ra, double Dec) Offset((double X, double Y, double Z) c, double east, double north)
    {
        double h = Math.Sqrt(c.X * c.X + c.Y * c.Y);
        var e = h < 1e-12 ? (0.0, 1.0, 0.0) : (-c.Y / h, c.X / h, 0.0);
        var nv = (c.Y * e.Item3 - c.Z * e.Item2, c.Z * e.Item1 - c.X * e.Item3, c.X * e.Item2 - c.Y * e.Item1);
        double x = c.X + east * e.Item1 + north * nv.Item1, y = c.Y + east * e.Item2 + north * nv.Item2, z = c.Z + east * e.Item3 + north * nv.Item3;
        double ra = Math.Atan2(y, x) * 180 / Math.PI;
        if (ra < 0) ra += 360;
        if (ra >= 360) ra -= 360;
        return (ra, Math.Atan2(z, Math.Sqrt(x * x + y * y)) * 180 / Math.PI);
    }

    private static (double Ra, double Dec) UniformSphere(Random rng) =>
        (rng.NextDouble() * 360, Math.Asin(2 * rng.NextDouble() - 1) * 180 / Math.PI);

    private static double Gauss(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
