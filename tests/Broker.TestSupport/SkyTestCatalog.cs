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
        AddEdgeTable(p);
        AddNearEdges(rng, p, 200);
        return p;
    }

    /// <summary>The parts of a <see cref="Contrasts"/> catalogue: rows [First, First + Count) were drawn as <see cref="Name"/> says.</summary>
    public sealed record Region(string Name, int First, int Count);

    /// <summary>The parts of a <see cref="Contrasts"/> catalogue, in row order; empty for the others.</summary>
    public List<Region> Regions { get; } = [];

    /// <summary>
    /// A catalogue of a few million rows with density contrasts of seven orders of magnitude (issue 11's "few
    /// million rows"): a uniform background (62.5%, about 45 rows per square degree at 3·10^6 rows); a Galactic-plane band
    /// (25%, Gaussian in b with σ 2°, ten times the background); a globular-cluster core (4%, a Plummer profile of
    /// scale 15" at 47 Tuc's position, ~170 rows per square arcsecond at its centre); Gaussian caps of σ 80" at both
    /// poles (2% each); Gaussian clusters across RA 0/360 at (0, 0) and (359.995, −30) (2% each, σ 60" and 40");
    /// a 5" knot (0.5%); seven rows exactly at the poles and on RA 0. <see cref="Regions"/> names the row ranges, so
    /// <see cref="ContrastPositions"/> can put a bounded number of positions in each dense part.
    /// </summary>
    public static SkyTestCatalog Contrasts(Random rng, int rows = 3_000_000)
    {
        var c = new SkyTestCatalog();
        c.Ids.Capacity = c.Ra.Capacity = c.Dec.Capacity = rows;
        void Part(string name, int count, Func<(double Ra, double Dec)> draw)
        {
            int first = c.Count;
            for (int i = 0; i < count; i++) c.Add(draw());
            c.Regions.Add(new Region(name, first, count));
        }
        (double, double) Gaussian(double ra, double dec, double sigmaArcsec) =>
            Offset(ToVector(ra, dec), Gauss(rng) * sigmaArcsec / ArcsecPerRadian, Gauss(rng) * sigmaArcsec / ArcsecPerRadian);
        Part("galactic plane", rows / 4, () => GalacticToIcrs(rng.NextDouble() * 360, Gauss(rng) * 2));
        Part("globular core", rows / 25, () =>
        {
            // Plummer (1911): the projected fraction within R is R^2 / (R^2 + a^2); R = a sqrt(u / (1 - u)), cut at 100a.
            double u = rng.NextDouble() * 0.9999, r = 15 * Math.Sqrt(u / (1 - u)) / ArcsecPerRadian, angle = rng.NextDouble() * 2 * Math.PI;
            return Offset(ToVector(6.0236, -72.0813), r * Math.Cos(angle), r * Math.Sin(angle));
        });
        Part("north pole cap", rows / 50, () => Gaussian(0, 90, 80));
        Part("south pole cap", rows / 50, () => Gaussian(200, -90, 80));
        Part("cluster across RA 0 at dec 0", rows / 50, () => Gaussian(0, 0, 60));
        Part("cluster across RA 0 at dec -30", rows / 50, () => Gaussian(359.995, -30, 40));
        Part("knot", rows / 200, () => Gaussian(180, 45, 5));
        int edges = c.Count;
        foreach (var (ra, dec) in new[] { (0.0, 90.0), (0.0, -90.0), (123.0, 90.0), (0.0, 0.0), (Math.BitDecrement(360.0), 0.0), (0.0, -30.0), (359.9999999, 89.9999) })
            c.Add(ra, dec);
        c.Regions.Add(new Region("edge rows", edges, c.Count - edges));
        Part("uniform background", rows - c.Count, () => UniformSphere(rng));
        return c;
    }

    /// <summary>
    /// Positions for a <see cref="Contrasts"/> catalogue: <paramref name="uniform"/> uniform; <paramref name="near"/>
    /// within <paramref name="nearArcsec"/> (90") of random background and Galactic-plane rows; <paramref name="perCluster"/> within 90" of random
    /// rows of each dense part (so the pairs at 60" stay bounded: one position in the core has ~10^5); then
    /// <see cref="Positions"/>' pole and RA 0/360 table and <paramref name="edgeRandom"/> random positions near each
    /// pole and across RA 0.
    /// </summary>
    /// <param name="rng">The generator.</param>
    /// <param name="catalog">A <see cref="Contrasts"/> catalogue.</param>
    /// <param name="uniform">Uniform positions.</param>
    /// <param name="near">Positions near background and Galactic-plane rows.</param>
    /// <param name="perCluster">Positions near rows of each dense part.</param>
    /// <param name="edgeRandom">Random positions near each pole and across RA 0 (each counted once per kind).</param>
    /// <param name="edgeTable">Whether to add the fixed pole and RA 0/360 table (84 positions).</param>
    /// <param name="nearArcsec">How far from their row the background and Galactic-plane positions may lie (uniform in offset).</param>
    public static SkyTestCatalog ContrastPositions(Random rng, SkyTestCatalog catalog, int uniform = 3_000, int near = 6_000, int perCluster = 20, int edgeRandom = 50, bool edgeTable = true, double nearArcsec = 90)
    {
        var p = new SkyTestCatalog();
        for (int i = 0; i < uniform; i++) p.Add(UniformSphere(rng));
        void Near(Region region, int count, double arcsec)
        {
            for (int i = 0; i < count; i++)
            {
                int row = region.First + rng.Next(region.Count);
                double distance = rng.NextDouble() * arcsec / ArcsecPerRadian, angle = rng.NextDouble() * 2 * Math.PI;
                p.Add(Offset(ToVector(catalog.Ra[row], catalog.Dec[row]), distance * Math.Cos(angle), distance * Math.Sin(angle)));
            }
        }
        var sparse = catalog.Regions.Where(r => r.Name is "galactic plane" or "uniform background").ToList();
        for (int i = 0; i < near; i++) Near(sparse[rng.Next(sparse.Count)], 1, nearArcsec);
        foreach (var region in catalog.Regions)
            if (region.Name is not ("galactic plane" or "uniform background" or "edge rows")) Near(region, perCluster, 90);
        p.FirstEdge = p.Count;
        if (edgeTable) AddEdgeTable(p);
        AddNearEdges(rng, p, edgeRandom);
        return p;
    }

    /// <summary>Writes <c>id,ra,dec</c> (round-trip doubles) with the given header names, streaming (any size).</summary>
    public void WriteCsv(string path, string id = "id", string ra = "ra", string dec = "dec")
    {
        using var w = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
        w.Write(id); w.Write(','); w.Write(ra); w.Write(','); w.Write(dec); w.Write('\n');
        Span<char> line = stackalloc char[96];
        for (int i = 0; i < Count; i++)
        {
            Ids[i].TryFormat(line, out int n, default, CultureInfo.InvariantCulture);
            line[n++] = ',';
            Ra[i].TryFormat(line[n..], out int m, "R", CultureInfo.InvariantCulture);
            n += m;
            line[n++] = ',';
            Dec[i].TryFormat(line[n..], out m, "R", CultureInfo.InvariantCulture);
            n += m;
            line[n++] = '\n';
            w.Write(line[..n]);
        }
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

    /// <summary>Positions exactly at and beside both poles, and on and beside RA 0/360 at dec 0 and −30.</summary>
    private static void AddEdgeTable(SkyTestCatalog p)
    {
        foreach (double dec in new[] { 90.0, -90.0, 90 - 0.3 / 3600, 90 - 0.999 / 3600, -90 + 0.5 / 3600, -90 + 0.999 / 3600, 90 - 30.0 / 3600, -90 + 59.0 / 3600 })
            foreach (double ra in new[] { 0.0, 45.0, 123.0, 180.0, 200.0, 359.99 })
                p.Add(ra, dec);
        foreach (double dec in new[] { 0.0, -30.0, 0.5 / 3600, -30 - 20.0 / 3600 })
            foreach (double ra in new[] { 0.0, 1e-10, 0.3 / 3600, 20.0 / 3600, Math.BitDecrement(360.0), 360 - 1e-10, 360 - 0.4 / 3600, 359.995, 360 - 30.0 / 3600 })
                p.Add(ra, dec);
    }

    /// <summary><paramref name="count"/> times: a random position within 120" of a pole, and one within 60" of RA 0 at dec 0 or −30.</summary>
    private static void AddNearEdges(Random rng, SkyTestCatalog p, int count)
    {
        for (int i = 0; i < count; i++)
        {
            p.Add(rng.NextDouble() * 360, (rng.Next(2) == 0 ? 1 : -1) * (90 - rng.NextDouble() * 120 / 3600));
            double ra = (rng.NextDouble() - 0.5) * 120 / 3600;
            p.Add(ra < 0 ? ra + 360 : ra, rng.Next(2) == 0 ? (rng.NextDouble() - 0.5) * 0.02 : -30 + (rng.NextDouble() - 0.5) * 0.02);
        }
    }

    /// <summary>ICRS (ra, dec) of Galactic (l, b), degrees, through the transpose of the Hipparcos rotation (ESA 1997, eq. 1.5.11).</summary>
    private static (double Ra, double Dec) GalacticToIcrs(double lDeg, double bDeg)
    {
        var (x, y, z) = ToVector(lDeg, bDeg);
        double ex = -0.0548755604162154 * x + 0.4941094278755837 * y - 0.8676661490190047 * z;
        double ey = -0.8734370902348850 * x - 0.4448296299600112 * y - 0.1980763734312015 * z;
        double ez = -0.4838350155487132 * x + 0.7469822444972189 * y + 0.4559837761750669 * z;
        double ra = Math.Atan2(ey, ex) * 180 / Math.PI;
        if (ra < 0) ra += 360;
        if (ra >= 360) ra -= 360;
        return (ra, Math.Atan2(ez, Math.Sqrt(ex * ex + ey * ey)) * 180 / Math.PI);
    }

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
