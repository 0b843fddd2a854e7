using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Broker.Sky;

namespace Broker.Catalogs.Index;

/// <summary>One catalogue row within the radius of a position: the row of the index and the separation in arcseconds.</summary>
public readonly record struct CatalogMatch(int Row, double SeparationArcsec)
{
    /// <summary>
    /// Sorts matches by increasing separation, ties by file row: the order <c>broker xmatch</c> writes pairs in and
    /// the crossmatch stage gives entries in. The comparer is a struct, so the sort inlines it (at 60" a position
    /// has thousands of pairs).
    /// </summary>
    public static void SortBySeparation(Span<CatalogMatch> matches)
    {
        if (matches.Length > 1) matches.Sort(new BySeparationThenRow());
    }

    private readonly struct BySeparationThenRow : IComparer<CatalogMatch>
    {
        public int Compare(CatalogMatch a, CatalogMatch b) =>
            a.SeparationArcsec < b.SeparationArcsec ? -1 : a.SeparationArcsec > b.SeparationArcsec ? 1 : a.Row.CompareTo(b.Row);
    }
}

/// <summary>
/// The cone and crossmatch kernel over a <see cref="CatalogIndex"/>. One per thread: it owns the scratch pixel
/// buffers, so a query allocates nothing once they have grown to their working size.
/// </summary>
/// <remarks>
/// <para>
/// A query at (ra, dec, r) finds the HEALPix pixels the disc can touch at the order whose pixels are about the
/// radius's size (<see cref="QueryOrder"/>): from the centre outwards over pixel neighbours
/// (<see cref="Healpix.QueryDiscNeighbourhoodNested"/>, a few dozen pixels), or, for a disc too large for that, by
/// HEALPix's inclusive disc (<see cref="Healpix.QueryDiscInclusiveNested"/>). Each pixel run becomes a row range
/// through the directory and the order-29 keys (binary search, since the rows are sorted by key); rows pass a
/// squared-chord prefilter (four rows at a time with <see cref="Vector256"/> where the hardware has it), then the
/// exact test θ = atan2(|p × c|, p · c) on unit vectors, which keeps full relative precision at every angle, unlike
/// acos(p · c) near 0 (Vincenty 1975 in vector form; the same expression as astropy's
/// <c>angular_separation</c>); at 1 mas it is exact to far below 1e-3".
/// </para>
/// <para>
/// With a query epoch, a row that has an epoch and both proper-motion components is moved to that epoch first
/// (<see cref="PositionAt"/>); the pixel search is widened by the largest total proper motion in the file times the
/// largest |epoch − row epoch| (both from the header), since a row moves at most |µ|·|Δt| from where it is stored.
/// </para>
/// </remarks>
public sealed class CatalogSearcher
{
    private const double ArcsecPerRadian = 180.0 / Math.PI * 3600.0;
    private const double RadiansPerMas = Math.PI / 180.0 / 3600.0 / 1000.0;

    // Pixels of one neighbourhood query; a disc needing more takes the general inclusive disc.
    private readonly long[] _pixels = new long[64];
    private readonly List<PixelRange> _ranges = new(64);
    private readonly bool _hasMotion;
    private readonly double _maxMotionRadPerYear, _minEpoch, _maxEpoch;

    /// <summary>A searcher over <paramref name="index"/>.</summary>
    public CatalogSearcher(CatalogIndex index)
    {
        Index = index ?? throw new ArgumentNullException(nameof(index));
        var h = index.Header;
        _hasMotion = h.MaxProperMotionMasPerYear is > 0 && h.MinEpoch is not null && h.MaxEpoch is not null
            && index.Rows > 0 && !index.RoleFloat64("epoch").IsEmpty && !index.RoleFloat64("pmra").IsEmpty && !index.RoleFloat64("pmdec").IsEmpty;
        if (_hasMotion)
        {
            _maxMotionRadPerYear = h.MaxProperMotionMasPerYear!.Value * RadiansPerMas;
            _minEpoch = h.MinEpoch!.Value;
            _maxEpoch = h.MaxEpoch!.Value;
        }
    }

    /// <summary>The index searched.</summary>
    public CatalogIndex Index { get; }

    /// <summary>
    /// Appends to <paramref name="matches"/> every row within <paramref name="radiusArcsec"/> of (ra, dec) (ICRS
    /// degrees), at the positions the catalogue stores, in file order; returns how many were appended.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">ra not in [0, 360], dec not in [-90, 90] (NaN included), or the radius not in (0, 180°).</exception>
    public int Cone(double raDeg, double decDeg, double radiusArcsec, List<CatalogMatch> matches) =>
        Cone(raDeg, decDeg, radiusArcsec, null, matches);

    /// <summary>
    /// Appends to <paramref name="matches"/> every row within <paramref name="radiusArcsec"/> of (ra, dec) (ICRS
    /// degrees) at <paramref name="epochJulianYear"/>, in file order; returns how many were appended. Rows with
    /// an epoch and proper motion are moved to that epoch (<see cref="PositionAt"/>) and the separation is to the
    /// moved position; other rows, and every row when the epoch is null, are where the catalogue stores them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Cone(double, double, double, List{CatalogMatch})"/>, or an epoch that is NaN or infinite.</exception>
    public int Cone(double raDeg, double decDeg, double radiusArcsec, double? epochJulianYear, List<CatalogMatch> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        int before = matches.Count;
        Search(raDeg, decDeg, radiusArcsec, epochJulianYear, matches, out _);
        return matches.Count - before;
    }

    /// <summary>The nearest row within <paramref name="radiusArcsec"/> of (ra, dec), at stored positions, or false when none; ties go to the earlier row.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Cone(double, double, double, List{CatalogMatch})"/>.</exception>
    public bool Nearest(double raDeg, double decDeg, double radiusArcsec, out CatalogMatch nearest) =>
        Search(raDeg, decDeg, radiusArcsec, null, null, out nearest);

    /// <summary>The nearest row within <paramref name="radiusArcsec"/> of (ra, dec) at <paramref name="epochJulianYear"/> (as <see cref="Cone(double, double, double, double?, List{CatalogMatch})"/>), or false when none; ties go to the earlier row.</summary>
    /// <exception cref="ArgumentOutOfRangeException">As <see cref="Cone(double, double, double, double?, List{CatalogMatch})"/>.</exception>
    public bool Nearest(double raDeg, double decDeg, double radiusArcsec, double? epochJulianYear, out CatalogMatch nearest) =>
        Search(raDeg, decDeg, radiusArcsec, epochJulianYear, null, out nearest);

    /// <summary>
    /// Row <paramref name="row"/>'s ICRS position (degrees, ra in [0, 360)) at <paramref name="epochJulianYear"/>:
    /// as stored when the epoch is null or the row lacks an epoch or either proper-motion component, else moved by
    /// its proper motion over (epoch − row epoch) Julian years (<see cref="Propagate"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A row outside the index, or an epoch that is NaN or infinite.</exception>
    public (double Ra, double Dec) PositionAt(int row, double? epochJulianYear)
    {
        if ((uint)row >= (uint)Index.Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {Index.Rows})");
        CheckEpoch(epochJulianYear);
        double x = Index.X[row], y = Index.Y[row], z = Index.Z[row];
        if (epochJulianYear is { } epoch && _hasMotion) Move(row, epoch, ref x, ref y, ref z);
        double ra = Math.Atan2(y, x) * (180.0 / Math.PI);
        if (ra < 0) ra += 360;
        if (ra >= 360) ra = 0;
        return (ra, Math.Atan2(z, Math.Sqrt(x * x + y * y)) * (180.0 / Math.PI));
    }

    /// <summary>
    /// Moves the unit vector (x, y, z) by a proper motion (radians per year; <paramref name="pmRa"/> includes
    /// cos δ) over <paramref name="years"/>, as rigorous space motion with zero parallax and radial velocity:
    /// u = r₀ + τ µ₀ with µ₀ = p µα* + q µδ, and r = u / |u| (ESA 1997, The Hipparcos and Tycho Catalogues, vol. 1,
    /// §1.5.5, with parallax ϖ = 0 and radial proper motion µr = 0), where p = (−sin α, cos α, 0) and
    /// q = (−sin δ cos α, −sin δ sin α, cos δ) point east and north. The star moves along the great circle
    /// towards µ₀ by atan(|µ|τ), which is what ERFA's <c>eraStarpm</c> gives in the limit of zero parallax.
    /// </summary>
    /// <remarks>p and q come from the vector itself (cos α = x / ρ, sin α = y / ρ, ρ = cos δ), so no angle is recomputed; at a pole (ρ = 0) α is taken as 0.</remarks>
    public static void Propagate(ref double x, ref double y, ref double z, double pmRa, double pmDec, double years)
    {
        double rho = Math.Sqrt(x * x + y * y);
        double cosRa = 1, sinRa = 0;
        if (rho > 0) { cosRa = x / rho; sinRa = y / rho; }
        double east = pmRa * years, north = pmDec * years;
        double ux = x - east * sinRa - north * z * cosRa;
        double uy = y + east * cosRa - north * z * sinRa;
        double uz = z + north * rho;
        double inverse = 1 / Math.Sqrt(ux * ux + uy * uy + uz * uz);
        x = ux * inverse;
        y = uy * inverse;
        z = uz * inverse;
    }

    /// <summary>The order of the disc query: the deepest whose pixels' maximum radius is still at least the radius (a few pixels per disc).</summary>
    public static int QueryOrder(double radiusRad)
    {
        int order = 0;
        while (order < 29 && Healpix.MaxPixelRadius(order + 1) >= radiusRad) order++;
        return order;
    }

    private static void CheckEpoch(double? epoch)
    {
        if (epoch is { } e && !double.IsFinite(e)) throw new ArgumentOutOfRangeException("epochJulianYear", e, "epoch must be a finite Julian year");
    }

    // Moves row's (x, y, z) to epoch when the row has an epoch and both proper-motion components.
    private void Move(int row, double epoch, ref double x, ref double y, ref double z)
    {
        double rowEpoch = Index.RoleFloat64("epoch")[row], pmRa = Index.RoleFloat64("pmra")[row], pmDec = Index.RoleFloat64("pmdec")[row];
        if (double.IsNaN(rowEpoch) || double.IsNaN(pmRa) || double.IsNaN(pmDec)) return;
        Propagate(ref x, ref y, ref z, pmRa * RadiansPerMas, pmDec * RadiansPerMas, epoch - rowEpoch);
    }

    /// <summary>One query's state, passed by reference through the row scan.</summary>
    private ref struct Query
    {
        public double Px, Py, Pz, Radius;
        public List<CatalogMatch>? Matches;
        public CatalogMatch Nearest;
        public double Best;
        public bool Found;
        // Rows below this are behind the scan: pixel runs come in ascending order, and so do their rows.
        public int Cursor;
        // Set when rows are moved to the query epoch.
        public bool Moving;
        public double Epoch;
        public ReadOnlySpan<double> RowEpoch, PmRa, PmDec;
    }

    private bool Search(double raDeg, double decDeg, double radiusArcsec, double? epochJulianYear, List<CatalogMatch>? matches, out CatalogMatch nearest)
    {
        if (!(raDeg >= 0 && raDeg <= 360)) throw new ArgumentOutOfRangeException(nameof(raDeg), raDeg, "ra must be in [0, 360] degrees");
        if (!(decDeg >= -90 && decDeg <= 90)) throw new ArgumentOutOfRangeException(nameof(decDeg), decDeg, "dec must be in [-90, 90] degrees");
        if (!(radiusArcsec > 0 && radiusArcsec < 180 * 3600.0)) throw new ArgumentOutOfRangeException(nameof(radiusArcsec), radiusArcsec, "radius must be in (0, 648000) arcsec");
        CheckEpoch(epochJulianYear);

        var (sinRa, cosRa) = Math.SinCos(raDeg * (Math.PI / 180.0));
        var (sinDec, cosDec) = Math.SinCos(decDeg * (Math.PI / 180.0));
        var q = new Query
        {
            Px = cosDec * cosRa,
            Py = cosDec * sinRa,
            Pz = sinDec,
            Radius = radiusArcsec / ArcsecPerRadian,
            Matches = matches,
            Best = double.PositiveInfinity,
        };
        // The pixels and the prefilter cover where a row may be stored: within the radius, or, when rows move,
        // within the radius plus the farthest any row can move to the query epoch.
        double searchRadius = q.Radius;
        if (epochJulianYear is { } epoch && _hasMotion)
        {
            double years = Math.Max(Math.Abs(epoch - _minEpoch), Math.Abs(epoch - _maxEpoch));
            searchRadius = Math.Min(q.Radius + _maxMotionRadPerYear * years, Math.PI);
            q.Moving = true;
            q.Epoch = epoch;
            q.RowEpoch = Index.RoleFloat64("epoch");
            q.PmRa = Index.RoleFloat64("pmra");
            q.PmDec = Index.RoleFloat64("pmdec");
        }
        // Prefilter on the squared chord |p - c|^2 = 4 sin^2(θ/2), widened by a relative 1e-9 so that rounding drops
        // nothing the exact test keeps.
        double half = Math.Sin(Math.Min(searchRadius, Math.PI) / 2);
        double chord2 = 4 * half * half * (1 + 1e-9) + 1e-30;

        int order = QueryOrder(searchRadius);
        double theta = Healpix.RaDecToTheta(decDeg), phi = Healpix.RaDecToPhi(raDeg == 360 ? 0 : raDeg);
        int count = Healpix.QueryDiscNeighbourhoodNested(order, theta, phi, searchRadius, _pixels);
        if (count >= 0)
        {
            // Runs of consecutive pixels become one row range.
            for (int i = 0; i < count;)
            {
                long start = _pixels[i];
                int j = i + 1;
                while (j < count && _pixels[j] == _pixels[j - 1] + 1) j++;
                ScanPixels(ref q, order, start, _pixels[j - 1] + 1, chord2);
                i = j;
            }
        }
        else
        {
            _ranges.Clear();
            Healpix.QueryDiscInclusiveNested(order, theta, phi, searchRadius, _ranges);
            foreach (var range in _ranges) ScanPixels(ref q, order, range.Start, range.End, chord2);
        }
        nearest = q.Nearest;
        return q.Found;
    }

    // The rows of pixels [start, end) at order: a directory slice, refined by the order-29 keys below the file's order.
    private void ScanPixels(ref Query q, int order, long start, long end, double chord2)
    {
        var directory = Index.Directory;
        int fileOrder = Index.Order;
        int lo, hi;
        if (order <= fileOrder)
        {
            int shift = 2 * (fileOrder - order);
            lo = (int)directory[checked((int)(start << shift))];
            hi = (int)directory[checked((int)(end << shift))];
        }
        else
        {
            int shift = 2 * (order - fileOrder);
            lo = (int)directory[(int)(start >> shift)];
            hi = (int)directory[(int)(((end - 1) >> shift) + 1)];
            var keys = Index.Keys;
            int keyShift = 2 * (29 - order);
            int first = GallopLowerBound(keys, Math.Max(lo, Math.Min(q.Cursor, hi)), hi, start << keyShift);
            hi = GallopLowerBound(keys, first, hi, end << keyShift);
            lo = first;
        }
        q.Cursor = hi;
        if (lo < hi) ScanRows(ref q, lo, hi, chord2);
    }

    private void ScanRows(ref Query q, int lo, int hi, double chord2)
    {
        var xs = Index.X;
        var ys = Index.Y;
        var zs = Index.Z;
        int row = lo;
        if (Vector256.IsHardwareAccelerated && hi - lo >= Vector256<double>.Count)
        {
            // Four rows at a time: the squared chord of each, and a bit mask of those within the prefilter.
            var vpx = Vector256.Create(q.Px);
            var vpy = Vector256.Create(q.Py);
            var vpz = Vector256.Create(q.Pz);
            var vchord2 = Vector256.Create(chord2);
            ref double x0 = ref MemoryMarshal.GetReference(xs);
            ref double y0 = ref MemoryMarshal.GetReference(ys);
            ref double z0 = ref MemoryMarshal.GetReference(zs);
            for (; row <= hi - Vector256<double>.Count; row += Vector256<double>.Count)
            {
                var dx = Vector256.LoadUnsafe(ref x0, (nuint)row) - vpx;
                var dy = Vector256.LoadUnsafe(ref y0, (nuint)row) - vpy;
                var dz = Vector256.LoadUnsafe(ref z0, (nuint)row) - vpz;
                uint inside = Vector256.LessThanOrEqual(dx * dx + dy * dy + dz * dz, vchord2).ExtractMostSignificantBits();
                while (inside != 0)
                {
                    int k = BitOperations.TrailingZeroCount(inside);
                    inside &= inside - 1;
                    Consider(ref q, row + k, xs[row + k], ys[row + k], zs[row + k]);
                }
            }
        }
        for (; row < hi; row++)
        {
            double dx = xs[row] - q.Px, dy = ys[row] - q.Py, dz = zs[row] - q.Pz;
            if (dx * dx + dy * dy + dz * dz <= chord2) Consider(ref q, row, xs[row], ys[row], zs[row]);
        }
    }

    // The exact test on a row that passed the prefilter, at its position moved to the query epoch when it moves.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Consider(ref Query q, int row, double cx, double cy, double cz)
    {
        if (q.Moving)
        {
            double rowEpoch = q.RowEpoch[row], pmRa = q.PmRa[row], pmDec = q.PmDec[row];
            if (!double.IsNaN(rowEpoch) && !double.IsNaN(pmRa) && !double.IsNaN(pmDec))
                Propagate(ref cx, ref cy, ref cz, pmRa * RadiansPerMas, pmDec * RadiansPerMas, q.Epoch - rowEpoch);
        }
        double px = q.Px, py = q.Py, pz = q.Pz;
        double ax = py * cz - pz * cy, ay = pz * cx - px * cz, az = px * cy - py * cx;
        double sep = Math.Atan2(Math.Sqrt(ax * ax + ay * ay + az * az), px * cx + py * cy + pz * cz);
        if (!(sep <= q.Radius)) return;
        if (q.Matches is not null) q.Matches.Add(new CatalogMatch(row, sep * ArcsecPerRadian));
        else if (sep < q.Best || (sep == q.Best && row < q.Nearest.Row))
        {
            q.Best = sep;
            q.Nearest = new CatalogMatch(row, sep * ArcsecPerRadian);
            q.Found = true;
        }
    }

    // The first index in [lo, hi) whose key is at least key (hi if none), probing lo, lo + 1, lo + 3, lo + 7, ...
    // first: the next pixel run's rows usually lie just past the last one's, so this touches a cache line or two
    // where a binary search over the whole directory pixel would miss the cache at each step.
    private static int GallopLowerBound(ReadOnlySpan<long> keys, int lo, int hi, long key)
    {
        int probe = lo;
        long step = 1;
        while (probe < hi && keys[probe] < key)
        {
            lo = probe + 1;
            probe = (int)Math.Min(lo + step, hi);
            step <<= 1;
        }
        return LowerBound(keys, lo, Math.Min(probe, hi), key);
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
