using Broker.Sky;

namespace Broker.Catalogs.Index;

/// <summary>One catalogue row within the radius of a position: the row of the index and the separation in arcseconds.</summary>
public readonly record struct CatalogMatch(int Row, double SeparationArcsec);

/// <summary>
/// The cone and crossmatch kernel over a <see cref="CatalogIndex"/>. One per thread: it owns the scratch pixel
/// list, so a query allocates nothing once the lists have grown to their working size.
/// </summary>
/// <remarks>
/// A query at (ra, dec, r) takes HEALPix's inclusive disc (<see cref="Healpix.QueryDiscInclusiveNested"/>, a
/// superset of the pixels the disc touches) at the order whose pixels are about the radius's size, turns each
/// pixel range into a row range through the directory and the order-29 keys (binary search, since the rows are
/// sorted by key), and keeps the rows whose exact separation is at most r. The separation is
/// θ = atan2(|p × c|, p · c) on unit vectors, which keeps full relative precision at every angle, unlike
/// acos(p · c) near 0 (Vincenty 1975 in vector form; the same expression as astropy's
/// <c>angular_separation</c>); at 1 mas it is exact to far below 1e-3".
/// </remarks>
public sealed class CatalogSearcher(CatalogIndex index)
{
    private const double ArcsecPerRadian = 180.0 / Math.PI * 3600.0;
    private readonly List<PixelRange> _ranges = new(64);

    /// <summary>The index searched.</summary>
    public CatalogIndex Index { get; } = index ?? throw new ArgumentNullException(nameof(index));

    /// <summary>
    /// Appends to <paramref name="matches"/> every row within <paramref name="radiusArcsec"/> of (ra, dec) (ICRS
    /// degrees), in file order; returns how many were appended.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">ra not in [0, 360], dec not in [-90, 90] (NaN included), or the radius not in (0, 180°).</exception>
    public int Cone(double raDeg, double decDeg, double radiusArcsec, List<CatalogMatch> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        int before = matches.Count;
        Search(raDeg, decDeg, radiusArcsec, matches, out _);
        return matches.Count - before;
    }

    /// <summary>The nearest row within <paramref name="radiusArcsec"/> of (ra, dec), or false when none; ties go to the earlier row.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Cone"/>.</exception>
    public bool Nearest(double raDeg, double decDeg, double radiusArcsec, out CatalogMatch nearest) =>
        Search(raDeg, decDeg, radiusArcsec, null, out nearest);

    /// <summary>The order of the disc query: the deepest whose pixels' maximum radius is still at least the radius (a few pixels per disc).</summary>
    public static int QueryOrder(double radiusRad)
    {
        int order = 0;
        while (order < 29 && Healpix.MaxPixelRadius(order + 1) >= radiusRad) order++;
        return order;
    }

    private bool Search(double raDeg, double decDeg, double radiusArcsec, List<CatalogMatch>? matches, out CatalogMatch nearest)
    {
        if (!(raDeg >= 0 && raDeg <= 360)) throw new ArgumentOutOfRangeException(nameof(raDeg), raDeg, "ra must be in [0, 360] degrees");
        if (!(decDeg >= -90 && decDeg <= 90)) throw new ArgumentOutOfRangeException(nameof(decDeg), decDeg, "dec must be in [-90, 90] degrees");
        if (!(radiusArcsec > 0 && radiusArcsec < 180 * 3600.0)) throw new ArgumentOutOfRangeException(nameof(radiusArcsec), radiusArcsec, "radius must be in (0, 648000) arcsec");
        nearest = default;
        bool found = false;
        double best = double.PositiveInfinity;

        double radius = radiusArcsec / ArcsecPerRadian;
        int order = QueryOrder(radius);
        _ranges.Clear();
        Healpix.QueryDiscInclusiveNested(order, Healpix.RaDecToTheta(decDeg), Healpix.RaDecToPhi(raDeg == 360 ? 0 : raDeg), radius, _ranges);

        var (sinRa, cosRa) = Math.SinCos(raDeg * (Math.PI / 180.0));
        var (sinDec, cosDec) = Math.SinCos(decDeg * (Math.PI / 180.0));
        double px = cosDec * cosRa, py = cosDec * sinRa, pz = sinDec;
        // Prefilter on the squared chord |p - c|^2 = 4 sin^2(θ/2), widened by a relative 1e-9 so that rounding drops
        // nothing the exact test below would keep.
        double half = Math.Sin(radius / 2);
        double chord2 = 4 * half * half * (1 + 1e-9) + 1e-30;

        var directory = Index.Directory;
        var keys = Index.Keys;
        var xs = Index.X;
        var ys = Index.Y;
        var zs = Index.Z;
        int fileOrder = Index.Order;
        foreach (var range in _ranges)
        {
            int lo, hi;
            if (order <= fileOrder)
            {
                int shift = 2 * (fileOrder - order);
                lo = (int)directory[checked((int)(range.Start << shift))];
                hi = (int)directory[checked((int)(range.End << shift))];
            }
            else
            {
                int shift = 2 * (order - fileOrder);
                lo = (int)directory[(int)(range.Start >> shift)];
                hi = (int)directory[(int)(((range.End - 1) >> shift) + 1)];
                int keyShift = 2 * (29 - order);
                int first = LowerBound(keys, lo, hi, range.Start << keyShift);
                hi = LowerBound(keys, first, hi, range.End << keyShift);
                lo = first;
            }
            for (int row = lo; row < hi; row++)
            {
                double dx = xs[row] - px, dy = ys[row] - py, dz = zs[row] - pz;
                if (dx * dx + dy * dy + dz * dz > chord2) continue;
                double cx = xs[row], cy = ys[row], cz = zs[row];
                double ax = py * cz - pz * cy, ay = pz * cx - px * cz, az = px * cy - py * cx;
                double sep = Math.Atan2(Math.Sqrt(ax * ax + ay * ay + az * az), px * cx + py * cy + pz * cz);
                if (!(sep <= radius)) continue;
                if (matches is not null) matches.Add(new CatalogMatch(row, sep * ArcsecPerRadian));
                else if (sep < best || (sep == best && row < nearest.Row))
                {
                    best = sep;
                    nearest = new CatalogMatch(row, sep * ArcsecPerRadian);
                    found = true;
                }
            }
        }
        return found;
    }

    private static int LowerBound(ReadOnlySpan<long> keys, int lo, int hi, long key)
    {
        while (lo < hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            if (keys[mid] < key) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
