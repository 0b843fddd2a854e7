using System.Collections.Concurrent;
using Broker.Sky;
using Broker.Sky.Orbits;

namespace Broker.Sso;

/// <summary>One orbit the index found near an alert: its index in the catalogue and its interpolated separation.</summary>
/// <param name="Orbit">Index into <see cref="SolarSystemCatalog.Orbits"/>.</param>
/// <param name="SeparationArcsec">Separation between the alert and the interpolated two-body position, arcseconds.</param>
public readonly record struct IndexCandidate(int Orbit, double SeparationArcsec);

/// <summary>
/// Every orbit of a catalogue propagated over one window of time (a night) for one observer, with the predicted
/// positions bucketed by HEALPix so that an alert finds the few orbits that can be near it: issue 12, item 3.
/// </summary>
/// <remarks>
/// <para><b>Grid.</b> Each orbit is propagated two-body (universal variables, <see cref="UniversalKepler"/>) to nodes
/// every <see cref="GridStepDays"/> over the window, chained node to node so that each step is short, and the
/// astrometric geocentric vector ρ = r(t − τ) − E(t) is stored (light time τ = |ρ|/c to first order, r(t − τ) ≈ r − τv:
/// the neglected ½τ²|r̈| is below 10^-8 au for anything beyond 0.01 au). The nodes are geocentric, not topocentric:
/// the site's diurnal motion (R⊕ ω^3 ≈ 0.011 au/day³) would dominate the interpolation error, whereas the geocentre moves
/// smoothly; the site vector is subtracted exactly at the alert's time instead.</para>
/// <para><b>Interpolation and the grid spacing.</b> ρ at an alert's time is the quadratic through the three nodes
/// around it (Lagrange), whose error is at most h³|ρ'''|/(9√3) (the bound for three equidistant nodes). |ρ'''| is
/// bounded by the Earth's n³·1 au ≈ 5·10^-6 au/day³ plus the asteroid's (GM/r³)^{3/2}·r, 3.5·10^-4 au/day³ for a
/// near-Earth object at q = 0.3 au, the fastest kept here. With the default h = 3 h that is 4·10^-8 au: 0.2" at
/// Δ = 0.05 au and 0.01" at 1 au. The screen adds 10^-7 au/Δ + 1" to every radius for it. Finer grids only cost
/// memory (12 bytes per orbit and node); coarser ones make the buckets of fast movers wide.</para>
/// <para><b>Buckets.</b> For each interval between nodes an orbit is entered in every HEALPix pixel (nested, at
/// <see cref="Order"/>) within reach of its path: the distance from the interval's midpoint to its farther end
/// (×1.25 for curvature), plus the parallax bound R_site/Δ (R_site = 4.3·10^-5 au, the Earth's radius plus the
/// highest site), plus the orbit's screen radius (<see cref="AssociationRadius"/> at the larger gap of the window's
/// ends) and the interpolation margin. An alert then reads one bucket: its own pixel in its interval. The order is
/// the finest whose pixels (<see cref="Healpix.MaxPixelRadius"/>) are still as large as the median reach, so most
/// orbits fall in one to four pixels.</para>
/// <para><b>Close and fast objects.</b> An orbit whose reach exceeds <see cref="MaxBucketRadiusDeg"/> in an interval
/// (a near-Earth object within about 0.01 au, moving degrees an hour, or an orbit whose screen radius is capped
/// very large) is not bucketed for that interval but kept in the interval's wide list, which every alert of the
/// interval checks: nothing is lost, at a cost of one interpolation per wide orbit per alert (<see cref="WideCount"/>
/// says how many there are). Two-body motion ignores the Earth's own pull during such a close approach; the
/// radius model, not the index, bounds what that costs.</para>
/// </remarks>
public sealed class SolarSystemIndex
{
    /// <summary>The Earth's equatorial radius plus 5 km of site height, au: the largest topocentric offset (parallax bound).</summary>
    public const double MaxSiteOffsetAu = (6378.137 + 5.0) / 149_597_870.7;

    /// <summary>An interval's reach above which an orbit goes to the wide list rather than into buckets, degrees.</summary>
    public const double MaxBucketRadiusDeg = 2.0;

    private const double ArcsecPerRadian = 180 * 3600 / Math.PI;

    private readonly SolarSystemCatalog _catalog;
    private readonly float[] _rho;      // orbit-major: [orbit][node][xyz], au
    private readonly float[] _screen;   // per orbit: screen radius, radians
    private readonly int[] _offsets;    // CSR over (interval · pixels + pixel)
    private readonly int[] _items;      // orbit indices
    private readonly int[][] _wide;     // per interval: orbits checked for every alert
    private readonly int _nodes;
    private readonly long _pixels;

    private SolarSystemIndex(SolarSystemCatalog catalog, double start, double step, int nodes, int order, float[] rho, float[] screen, int[] offsets, int[] items, int[][] wide)
    {
        _catalog = catalog;
        StartMjdTdb = start;
        GridStepDays = step;
        _nodes = nodes;
        Order = order;
        _pixels = Healpix.PixelCount(order);
        _rho = rho;
        _screen = screen;
        _offsets = offsets;
        _items = items;
        _wide = wide;
    }

    /// <summary>The catalogue the index was built from.</summary>
    public SolarSystemCatalog Catalog => _catalog;

    /// <summary>The first node, MJD TDB.</summary>
    public double StartMjdTdb { get; }

    /// <summary>The last node, MJD TDB.</summary>
    public double EndMjdTdb => StartMjdTdb + (_nodes - 1) * GridStepDays;

    /// <summary>The spacing of the nodes, days.</summary>
    public double GridStepDays { get; }

    /// <summary>The HEALPix order (nested) of the buckets.</summary>
    public int Order { get; }

    /// <summary>How many (orbit, interval, pixel) entries the buckets hold.</summary>
    public long Entries => _items.Length;

    /// <summary>How many (orbit, interval) pairs are in the wide lists (close or fast objects checked for every alert).</summary>
    public long WideCount
    {
        get
        {
            long n = 0;
            foreach (var w in _wide) n += w.Length;
            return n;
        }
    }

    /// <summary>True when <paramref name="mjdTdb"/> is inside the window.</summary>
    public bool Covers(double mjdTdb) => mjdTdb >= StartMjdTdb && mjdTdb <= EndMjdTdb;

    /// <summary>
    /// Propagates every orbit of <paramref name="catalog"/> over [<paramref name="startMjdTdb"/>,
    /// <paramref name="endMjdTdb"/>] and buckets the paths (see the class remarks).
    /// </summary>
    /// <param name="catalog">The orbits.</param>
    /// <param name="startMjdTdb">Window start, MJD TDB.</param>
    /// <param name="endMjdTdb">Window end, MJD TDB (after the start).</param>
    /// <param name="earth">The Earth's heliocentric equatorial position at an MJD TDB, au (<see cref="EarthEphemeris.HeliocentricEquatorial"/>).</param>
    /// <param name="screen">The screen radius model (two-body against the truth).</param>
    /// <param name="gridStepDays">Node spacing, days (default 3 hours).</param>
    /// <param name="order">HEALPix order of the buckets; null to choose it from the median reach (between 3 and 8).</param>
    public static SolarSystemIndex Build(SolarSystemCatalog catalog, double startMjdTdb, double endMjdTdb, Func<double, (double X, double Y, double Z)> earth,
        AssociationRadius screen, double gridStepDays = 0.125, int? order = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(earth);
        ArgumentNullException.ThrowIfNull(screen);
        if (!(endMjdTdb > startMjdTdb)) throw new ArgumentOutOfRangeException(nameof(endMjdTdb), endMjdTdb, "the window must end after it starts");
        if (!(gridStepDays > 0)) throw new ArgumentOutOfRangeException(nameof(gridStepDays), gridStepDays, "the grid step must be positive");
        // At least three nodes (one quadratic); the last node at or after the window's end.
        int nodes = Math.Max(3, (int)Math.Ceiling((endMjdTdb - startMjdTdb) / gridStepDays - 1e-9) + 1);
        int n = catalog.Count;
        var earthAt = new (double X, double Y, double Z)[nodes];
        for (int j = 0; j < nodes; j++) earthAt[j] = earth(startMjdTdb + j * gridStepDays);
        double endNode = startMjdTdb + (nodes - 1) * gridStepDays;

        var rho = new float[(long)n * nodes * 3];
        var screenRad = new float[n];
        var states = catalog.EpochStates;
        var classes = catalog.Classes;
        Parallel.ForEach(Partitioner.Create(0, n, Math.Max(256, n / 64 + 1)), range =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
            {
                var s = states[i];
                double gap = Math.Max(Math.Abs(startMjdTdb - s.MjdTdb), Math.Abs(endNode - s.MjdTdb));
                screenRad[i] = (float)(screen.For(classes[i], gap) / ArcsecPerRadian);
                long at = (long)i * nodes * 3;
                try
                {
                    if (!double.IsFinite(s.X)) throw new ArithmeticException();
                    for (int j = 0; j < nodes; j++)
                    {
                        s = UniversalKepler.Propagate(s, startMjdTdb + j * gridStepDays);
                        var (ex, ey, ez) = earthAt[j];
                        double gx = s.X - ex, gy = s.Y - ey, gz = s.Z - ez;
                        double tau = Math.Sqrt(gx * gx + gy * gy + gz * gz) / Ephemerides.SpeedOfLightAuPerDay;
                        rho[at++] = (float)(gx - tau * s.Vx);
                        rho[at++] = (float)(gy - tau * s.Vy);
                        rho[at++] = (float)(gz - tau * s.Vz);
                    }
                }
                catch (ArithmeticException)
                {
                    // An orbit that cannot be propagated is never matched: NaN positions fail every radius test.
                    at = (long)i * nodes * 3;
                    for (int j = 0; j < nodes * 3; j++) rho[at + j] = float.NaN;
                }
            }
        });

        int chosen = order ?? ChooseOrder(rho, screenRad, nodes);
        long pixels = Healpix.PixelCount(chosen);
        int intervals = nodes - 1;
        if ((long)intervals * pixels >= int.MaxValue) throw new ArgumentOutOfRangeException(nameof(order), chosen, "too many buckets for this window: choose a coarser order or a shorter window");
        double maxBucket = MaxBucketRadiusDeg * Coordinates.DegToRad;

        // Each thread collects (bucket, orbit) pairs and wide (interval, orbit) pairs; one counting sort merges them.
        var pairLists = new ConcurrentBag<List<long>>();
        var wideLists = new ConcurrentBag<List<long>>();
        Parallel.ForEach(Partitioner.Create(0, n, Math.Max(256, n / 64 + 1)),
            () => (Pairs: new List<long>(1024), Wide: new List<long>(16), Pixels: new long[256], Ranges: new List<PixelRange>()),
            (range, _, local) =>
            {
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    for (int k = 0; k < intervals; k++)
                    {
                        double reach = Reach(rho, screenRad[i], i, k, nodes, out double mx, out double my, out double mz);
                        if (!double.IsFinite(reach)) continue;
                        if (reach > maxBucket)
                        {
                            local.Wide.Add(((long)k << 32) | (uint)i);
                            continue;
                        }
                        var (ra, dec) = Coordinates.FromVector(mx, my, mz);
                        double theta = Healpix.RaDecToTheta(dec), phi = Healpix.RaDecToPhi(ra);
                        long bucketBase = k * pixels;
                        int count = Healpix.QueryDiscNeighbourhoodNested(chosen, theta, phi, reach, local.Pixels);
                        if (count >= 0)
                        {
                            for (int p = 0; p < count; p++) local.Pairs.Add(((bucketBase + local.Pixels[p]) << 32) | (uint)i);
                        }
                        else
                        {
                            local.Ranges.Clear();
                            Healpix.QueryDiscInclusiveNested(chosen, theta, phi, reach, local.Ranges);
                            foreach (var r in local.Ranges)
                                for (long p = r.Start; p < r.End; p++) local.Pairs.Add(((bucketBase + p) << 32) | (uint)i);
                        }
                    }
                }
                return local;
            },
            local =>
            {
                pairLists.Add(local.Pairs);
                wideLists.Add(local.Wide);
            });

        long buckets = intervals * pixels;
        var offsets = new int[buckets + 1];
        long total = 0;
        foreach (var list in pairLists)
        {
            total += list.Count;
            foreach (long key in list) offsets[(key >> 32) + 1]++;
        }
        if (total >= int.MaxValue) throw new InvalidOperationException($"the index would hold {total} entries: choose a coarser order or a shorter window");
        for (long b = 0; b < buckets; b++) offsets[b + 1] += offsets[b];
        var items = new int[total];
        var cursor = (int[])offsets.Clone();
        foreach (var list in pairLists)
            foreach (long key in list) items[cursor[key >> 32]++] = (int)(key & 0xFFFFFFFF);
        // Buckets in orbit order, whatever order the threads finished in: the same index for the same input.
        for (long b = 0; b < buckets; b++)
        {
            int from = offsets[b], to = offsets[b + 1];
            if (to - from > 1) Array.Sort(items, from, to - from);
        }

        var wideByInterval = new List<int>[intervals];
        for (int k = 0; k < intervals; k++) wideByInterval[k] = [];
        foreach (var list in wideLists)
            foreach (long key in list) wideByInterval[(int)(key >> 32)].Add((int)(key & 0xFFFFFFFF));
        var wide = new int[intervals][];
        for (int k = 0; k < intervals; k++)
        {
            wideByInterval[k].Sort();
            wide[k] = [.. wideByInterval[k]];
        }
        return new SolarSystemIndex(catalog, startMjdTdb, gridStepDays, nodes, chosen, rho, screenRad, offsets, items, wide);
    }

    /// <summary>
    /// How far, radians, from the midpoint of interval <paramref name="k"/> an alert matching orbit <paramref name="i"/>
    /// in that interval can be (see the class remarks); the midpoint direction (not normalised) in the out values.
    /// NaN for an orbit without positions.
    /// </summary>
    private static double Reach(float[] rho, float screen, int i, int k, int nodes, out double mx, out double my, out double mz)
    {
        long a = ((long)i * nodes + k) * 3, b = a + 3;
        double ax = rho[a], ay = rho[a + 1], az = rho[a + 2], bx = rho[b], by = rho[b + 1], bz = rho[b + 2];
        // The midpoint by the quadratic through three nodes around it.
        int c = Math.Clamp(k + 1, 1, nodes - 2);
        double s = (k + 0.5) - c;
        Interpolate(rho, i, c, nodes, s, out mx, out my, out mz);
        double dm = Math.Sqrt(mx * mx + my * my + mz * mz), da = Math.Sqrt(ax * ax + ay * ay + az * az), db = Math.Sqrt(bx * bx + by * by + bz * bz);
        if (!(dm > 0 && da > 0 && db > 0)) return double.NaN;
        double half = Math.Max(Angle(mx / dm, my / dm, mz / dm, ax / da, ay / da, az / da), Angle(mx / dm, my / dm, mz / dm, bx / db, by / db, bz / db));
        double nearest = Math.Min(dm, Math.Min(da, db));
        return 1.25 * half + MaxSiteOffsetAu / nearest + InterpolationMarginRad(nearest) + screen;
    }

    /// <summary>The interpolation allowance, radians, at distance Δ (au): 10^-7 au / Δ plus 1" (class remarks).</summary>
    private static double InterpolationMarginRad(double delta) => 1e-7 / delta + 1.0 / ArcsecPerRadian;

    /// <summary>ρ at node <paramref name="c"/> + <paramref name="s"/> steps by the quadratic through nodes c − 1, c, c + 1.</summary>
    private static void Interpolate(float[] rho, int i, int c, int nodes, double s, out double x, out double y, out double z)
    {
        long m = ((long)i * nodes + c - 1) * 3;
        // Lagrange weights for nodes at −1, 0, +1.
        double wm = 0.5 * s * (s - 1), w0 = 1 - s * s, wp = 0.5 * s * (s + 1);
        x = wm * rho[m] + w0 * rho[m + 3] + wp * rho[m + 6];
        y = wm * rho[m + 1] + w0 * rho[m + 4] + wp * rho[m + 7];
        z = wm * rho[m + 2] + w0 * rho[m + 5] + wp * rho[m + 8];
    }

    /// <summary>The angle between two unit vectors, radians, by the half-chord (accurate at small angles).</summary>
    private static double Angle(double ax, double ay, double az, double bx, double by, double bz)
    {
        double dx = ax - bx, dy = ay - by, dz = az - bz;
        return 2 * Math.Asin(Math.Min(1, 0.5 * Math.Sqrt(dx * dx + dy * dy + dz * dz)));
    }

    private static int ChooseOrder(float[] rho, float[] screen, int nodes)
    {
        int n = screen.Length;
        if (n == 0) return 3;
        int samples = Math.Min(n, 4096);
        var reach = new double[samples];
        int kept = 0;
        for (int s = 0; s < samples; s++)
        {
            int i = (int)((long)s * n / samples);
            double r = Reach(rho, screen[i], i, 0, nodes, out _, out _, out _);
            if (double.IsFinite(r)) reach[kept++] = r;
        }
        if (kept == 0) return 3;
        Array.Sort(reach, 0, kept);
        double median = reach[kept / 2];
        int order = 3;
        while (order < 8 && Healpix.MaxPixelRadius(order + 1) >= median) order++;
        return order;
    }

    /// <summary>The interval an MJD TDB falls in (clamped to the window).</summary>
    private int IntervalOf(double mjdTdb) => Math.Clamp((int)Math.Floor((mjdTdb - StartMjdTdb) / GridStepDays), 0, _nodes - 2);

    /// <summary>
    /// The topocentric astrometric direction of orbit <paramref name="orbit"/> at <paramref name="mjdTdb"/> by
    /// interpolation (unit vector), and its distance, au; NaN when the orbit has no positions.
    /// </summary>
    /// <param name="orbit">Index into the catalogue.</param>
    /// <param name="mjdTdb">The time, inside the window.</param>
    /// <param name="site">The observer's geocentric position at that time, au (zero for the geocentre).</param>
    public (double X, double Y, double Z, double DeltaAu) Predict(int orbit, double mjdTdb, (double X, double Y, double Z) site)
    {
        double u = (mjdTdb - StartMjdTdb) / GridStepDays;
        int c = Math.Clamp((int)Math.Round(u), 1, _nodes - 2);
        Interpolate(_rho, orbit, c, _nodes, u - c, out double x, out double y, out double z);
        x -= site.X; y -= site.Y; z -= site.Z;
        double d = Math.Sqrt(x * x + y * y + z * z);
        return (x / d, y / d, z / d, d);
    }

    /// <summary>
    /// The orbits whose interpolated position at <paramref name="mjdTdb"/> is within their screen radius (plus the
    /// interpolation margin) of (<paramref name="raDeg"/>, <paramref name="decDeg"/>), appended to
    /// <paramref name="found"/> in catalogue order.
    /// </summary>
    /// <param name="raDeg">The alert's RA, degrees ICRS.</param>
    /// <param name="decDeg">The alert's Dec, degrees.</param>
    /// <param name="mjdTdb">The alert's time, MJD TDB (clamped to the window's intervals).</param>
    /// <param name="site">The observer's geocentric position at that time, au.</param>
    /// <param name="found">Where the candidates go.</param>
    /// <returns>How many orbits were interpolated (the cost).</returns>
    public int Candidates(double raDeg, double decDeg, double mjdTdb, (double X, double Y, double Z) site, List<IndexCandidate> found)
    {
        ArgumentNullException.ThrowIfNull(found);
        int k = IntervalOf(mjdTdb);
        long pixel = Healpix.RaDecToPixNested(Order, raDeg, decDeg);
        var (ax, ay, az) = Coordinates.ToUnitVector(raDeg, decDeg);
        long bucket = k * _pixels + pixel;
        int from = _offsets[bucket], to = _offsets[bucket + 1];
        for (int j = from; j < to; j++) Test(_items[j], ax, ay, az, mjdTdb, site, found);
        var wide = _wide[k];
        for (int j = 0; j < wide.Length; j++) Test(wide[j], ax, ay, az, mjdTdb, site, found);
        return to - from + wide.Length;
    }

    private void Test(int orbit, double ax, double ay, double az, double mjdTdb, (double X, double Y, double Z) site, List<IndexCandidate> found)
    {
        var (x, y, z, d) = Predict(orbit, mjdTdb, site);
        double angle = Angle(ax, ay, az, x, y, z);
        if (angle <= _screen[orbit] + InterpolationMarginRad(d)) found.Add(new IndexCandidate(orbit, angle * ArcsecPerRadian));
    }
}
