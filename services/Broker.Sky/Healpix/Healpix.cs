using System.Runtime.Intrinsics.X86;

namespace Broker.Sky;

/// <summary>A half-open run of pixel indices [<see cref="Start"/>, <see cref="End"/>) in one scheme and order.</summary>
/// <param name="Start">First pixel in the run.</param>
/// <param name="End">One past the last pixel.</param>
public readonly record struct PixelRange(long Start, long End)
{
    /// <summary>Number of pixels in the run.</summary>
    public long Count => End - Start;
}

/// <summary>
/// HEALPix pixelisation of the sphere (Górski et al. 2005, ApJ 622, 759), nested and ring schemes, orders 0..29
/// (nside = 2^order, 12·4^order pixels, 64-bit indices). The arithmetic follows the structure of the HEALPix C++
/// library (healpix_base.cc) step by step, so that results are bit-for-bit those of healpy, including at the poles,
/// at φ = 0/2π and on pixel boundaries, where a point belongs to the pixel the reference code assigns it to.
/// <para>
/// Angles are radians: θ is colatitude in [0, π] (0 at the north pole), φ is longitude (any finite value; reduced
/// modulo 2π). For ICRS positions θ = π/2 − Dec and φ = RA (<see cref="RaDecToTheta"/>). A θ outside [0, π], or a
/// NaN or infinite angle, throws <see cref="ArgumentOutOfRangeException"/>, as healpy raises.
/// </para>
/// </summary>
public static class Healpix
{
    /// <summary>The largest order: nside = 2^29, the finest grid whose pixel indices fit in 64 bits.</summary>
    public const int MaxOrder = 29;

    private const double TwoThirds = 2.0 / 3.0;
    private const double HalfPi = Math.PI / 2.0;
    private const double InverseHalfPi = 2.0 / Math.PI;

    // Ring index of each base face's southern corner in units of nside (jrll) and its longitude in units of π/4
    // (jpll): Górski et al. 2005, Fig. 4; the same tables as healpix_base.cc.
    private static ReadOnlySpan<int> FaceRing => [2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4];
    private static ReadOnlySpan<int> FaceLongitude => [1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7];

    // Neighbour steps in the face's (x, y) frame, in the order healpy returns them: SW, W, NW, N, NE, E, SE, S.
    private static ReadOnlySpan<int> NeighbourDx => [-1, -1, 0, 1, 1, 1, 0, -1];
    private static ReadOnlySpan<int> NeighbourDy => [0, 1, 1, 1, 0, -1, -1, -1];

    // Which face lies across an edge or corner: row = 4 + 1·(x overflow) + 3·(y overflow) (0 = S ... 8 = N, 4 = the
    // face itself), column = face; -1 where the corner of an equatorial face touches only three faces.
    private static ReadOnlySpan<sbyte> FaceAcross =>
    [
        8, 9, 10, 11, -1, -1, -1, -1, 10, 11, 8, 9,   // S
        5, 6, 7, 4, 8, 9, 10, 11, 9, 10, 11, 8,       // SE
        -1, -1, -1, -1, 5, 6, 7, 4, -1, -1, -1, -1,   // E
        4, 5, 6, 7, 11, 8, 9, 10, 11, 8, 9, 10,       // SW
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,         // centre
        1, 2, 3, 0, 0, 1, 2, 3, 5, 6, 7, 4,           // NE
        -1, -1, -1, -1, 7, 4, 5, 6, -1, -1, -1, -1,   // W
        3, 0, 1, 2, 3, 0, 1, 2, 4, 5, 6, 7,           // NW
        2, 3, 0, 1, -1, -1, -1, -1, 0, 1, 2, 3,       // N
    ];

    // How (x, y) transform on entering that face (bit 1: x -> nside-1-x, bit 2: y -> nside-1-y, bit 4: swap x and y);
    // row as above, column = face row (0 north, 1 equatorial, 2 south).
    private static ReadOnlySpan<byte> AxesAcross =>
    [
        0, 0, 3,
        0, 0, 6,
        0, 0, 0,
        0, 0, 5,
        0, 0, 0,
        5, 0, 0,
        0, 0, 0,
        6, 0, 0,
        3, 0, 0,
    ];

    private static readonly double[] MaxPixelRadiusByOrder = ComputeMaxPixelRadii();

    /// <summary>nside = 2^order.</summary>
    public static long Nside(int order) => 1L << CheckOrder(order);

    /// <summary>Number of pixels at an order: 12·4^order.</summary>
    public static long PixelCount(int order) => 12L << (2 * CheckOrder(order));

    /// <summary>
    /// Largest angular distance (radians) from a pixel centre to any point of its pixel at this order, as HEALPix's
    /// <c>max_pixrad</c> computes it (the centre-to-corner distance of the pixel at the equatorial-polar transition).
    /// </summary>
    public static double MaxPixelRadius(int order) => MaxPixelRadiusByOrder[CheckOrder(order)];

    /// <summary>Colatitude θ (radians) of a declination in degrees, as healpy's <c>lonlat=True</c> computes it.</summary>
    public static double RaDecToTheta(double decDeg) => HalfPi - decDeg * (Math.PI / 180.0);

    /// <summary>Longitude φ (radians) of a right ascension in degrees, as healpy's <c>lonlat=True</c> computes it.</summary>
    public static double RaDecToPhi(double raDeg) => raDeg * (Math.PI / 180.0);

    /// <summary>Nested pixel holding (RA, Dec) in degrees; same as healpy <c>ang2pix(nside, ra, dec, nest=True, lonlat=True)</c>.</summary>
    public static long RaDecToPixNested(int order, double raDeg, double decDeg) =>
        AngToPixNested(order, RaDecToTheta(decDeg), RaDecToPhi(raDeg));

    /// <summary>Nested pixel holding the direction (θ, φ), radians.</summary>
    public static long AngToPixNested(int order, double theta, double phi)
    {
        CheckAngles(theta, phi);
        // healpy switches to sin θ near the poles, where 1 − |cos θ| loses the digits that place a point.
        bool nearPole = theta < 0.01 || theta > 3.14159 - 0.01;
        return LocToPixNested(CheckOrder(order), Math.Cos(theta), phi, nearPole ? Math.Sin(theta) : 0.0, nearPole);
    }

    /// <summary>Ring pixel holding the direction (θ, φ), radians.</summary>
    public static long AngToPixRing(int order, double theta, double phi)
    {
        CheckAngles(theta, phi);
        bool nearPole = theta < 0.01 || theta > 3.14159 - 0.01;
        return LocToPixRing(CheckOrder(order), Math.Cos(theta), phi, nearPole ? Math.Sin(theta) : 0.0, nearPole);
    }

    /// <summary>Centre (θ, φ), radians, of a nested pixel; φ in [0, 2π).</summary>
    public static (double Theta, double Phi) PixToAngNested(int order, long pixel)
    {
        PixToLocNested(CheckOrder(order), CheckPixel(order, pixel), out double z, out double phi, out double sinTheta, out bool haveSin);
        return (haveSin ? Math.Atan2(sinTheta, z) : Math.Acos(z), phi);
    }

    /// <summary>Centre (θ, φ), radians, of a ring pixel; φ in [0, 2π).</summary>
    public static (double Theta, double Phi) PixToAngRing(int order, long pixel)
    {
        PixToLocRing(CheckOrder(order), CheckPixel(order, pixel), out double z, out double phi, out double sinTheta, out bool haveSin);
        return (haveSin ? Math.Atan2(sinTheta, z) : Math.Acos(z), phi);
    }

    /// <summary>The ring index of a nested pixel.</summary>
    public static long NestedToRing(int order, long pixel)
    {
        CheckOrder(order);
        NestedToXyf(order, CheckPixel(order, pixel), out int x, out int y, out int face);
        return XyfToRing(order, x, y, face);
    }

    /// <summary>The nested index of a ring pixel.</summary>
    public static long RingToNested(int order, long pixel)
    {
        CheckOrder(order);
        RingToXyf(order, CheckPixel(order, pixel), out int x, out int y, out int face);
        return XyfToNested(order, x, y, face);
    }

    /// <summary>
    /// The 8 neighbours of a nested pixel, in healpy's order (SW, W, NW, N, NE, E, SE, S, as
    /// <c>get_all_neighbours(nside, pixel, nest=True)</c>); −1 where the pixel touches only 7 (the W/E or N/S
    /// corner of an equatorial face's corner pixel, 8 pixels per order).
    /// </summary>
    /// <param name="order">Order.</param>
    /// <param name="pixel">Nested pixel.</param>
    /// <param name="neighbours">At least 8 entries; the first 8 are written.</param>
    public static void NeighboursNested(int order, long pixel, Span<long> neighbours)
    {
        CheckOrder(order);
        CheckPixel(order, pixel);
        if (neighbours.Length < 8) throw new ArgumentException("needs room for 8 neighbours", nameof(neighbours));
        NeighboursOf(order, pixel, neighbours);
    }

    // NeighboursNested without the argument checks.
    private static void NeighboursOf(int order, long pixel, Span<long> neighbours)
    {
        NestedToXyf(order, pixel, out int x, out int y, out int face);
        int nside = 1 << order;
        for (int i = 0; i < 8; i++)
        {
            int nx = x + NeighbourDx[i], ny = y + NeighbourDy[i];
            int across = 4;
            if (nx < 0) { nx += nside; across -= 1; }
            else if (nx >= nside) { nx -= nside; across += 1; }
            if (ny < 0) { ny += nside; across -= 3; }
            else if (ny >= nside) { ny -= nside; across += 3; }
            int nextFace = FaceAcross[across * 12 + face];
            if (nextFace < 0) { neighbours[i] = -1; continue; }
            int axes = AxesAcross[across * 3 + (face >> 2)];
            if ((axes & 1) != 0) nx = nside - nx - 1;
            if ((axes & 2) != 0) ny = nside - ny - 1;
            if ((axes & 4) != 0) (nx, ny) = (ny, nx);
            neighbours[i] = XyfToNested(order, nx, ny, nextFace);
        }
    }

    /// <summary>
    /// Every nested pixel that overlaps the disc of centre (θ, φ) and radius <paramref name="radius"/> (radians),
    /// possibly with a few more that only come close: the set of healpy's
    /// <c>query_disc(nside, vec, radius, inclusive=True, fact=4, nest=True)</c>, enlarged by a relative 10^-6 of the
    /// safety distance so that rounding can drop nothing. Appended to <paramref name="ranges"/> as ascending,
    /// non-adjacent runs. A radius of π or more gives the whole sphere; a negative or NaN radius throws.
    /// </summary>
    /// <remarks>
    /// The search descends the nested tree from the 12 base pixels (HEALPix C++ <c>query_disc_internal</c>): a
    /// pixel whose centre is farther than radius + its maximum radius is dropped, one closer than radius − that is
    /// taken whole; at the target order a pixel is taken when its centre is in the disc, or else when one of its
    /// descendants two orders finer passes the same test at its own order.
    /// </remarks>
    public static void QueryDiscInclusiveNested(int order, double theta, double phi, double radius, List<PixelRange> ranges)
    {
        CheckOrder(order);
        CheckAngles(theta, phi);
        if (!(radius >= 0)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "radius must be a non-negative number of radians");
        ArgumentNullException.ThrowIfNull(ranges);
        if (radius >= Math.PI) { Append(ranges, 0, PixelCount(order)); return; }

        const int oversamplingOrders = 2; // healpy's default fact = 4
        int deepest = Math.Min(order + oversamplingOrders, MaxOrder);
        Span<double> cosOuter = stackalloc double[MaxOrder + 1];
        Span<double> cosInner = stackalloc double[MaxOrder + 1];
        for (int o = 0; o <= deepest; o++)
        {
            double safety = MaxPixelRadiusByOrder[o] * (1 + 1e-6);
            cosOuter[o] = radius + safety > Math.PI ? -1.0 : Math.Cos(radius + safety);
            cosInner[o] = radius - safety < 0 ? 1.0 : Math.Cos(radius - safety);
        }
        double cosRadius = Math.Cos(radius);
        double centreZ = Math.Cos(theta);
        double centrePhi = phi;

        // Depth-first stack of (pixel, order); at most 12 + 3 per level below 0, plus one marker per target pixel.
        Span<long> stackPixel = stackalloc long[12 + 4 * (MaxOrder + 3)];
        Span<int> stackOrder = stackalloc int[12 + 4 * (MaxOrder + 3)];
        int top = 0;
        for (int i = 0; i < 12; i++) { stackPixel[top] = 11 - i; stackOrder[top] = 0; top++; }
        int unwindTo = 0;

        while (top > 0)
        {
            top--;
            long pix = stackPixel[top];
            int o = stackOrder[top];
            PixToLocNested(o, pix, out double z, out double pixPhi, out _, out _);
            // Cosine of the angle between the pixel centre and the disc centre, from z and φ as healpy does.
            double cosDistance = centreZ * z + Math.Cos(centrePhi - pixPhi) * Math.Sqrt((1.0 - centreZ * centreZ) * (1.0 - z * z));
            if (!(cosDistance > cosOuter[o])) continue;
            // 1: within the safety margin only; 2: centre in the disc; 3: the whole pixel is in the disc.
            int zone = cosDistance < cosRadius ? 1 : cosDistance <= cosInner[o] ? 2 : 3;

            if (o < order)
            {
                if (zone >= 3)
                {
                    int shift = 2 * (order - o);
                    Append(ranges, pix << shift, (pix + 1) << shift);
                }
                else
                {
                    for (int i = 0; i < 4; i++) { stackPixel[top] = 4 * pix + 3 - i; stackOrder[top] = o + 1; top++; }
                }
            }
            else if (o == order)
            {
                if (zone >= 2 || o == deepest)
                {
                    Append(ranges, pix, pix + 1);
                }
                else
                {
                    unwindTo = top;
                    for (int i = 0; i < 4; i++) { stackPixel[top] = 4 * pix + 3 - i; stackOrder[top] = o + 1; top++; }
                }
            }
            else if (zone >= 2 || o == deepest)
            {
                long parent = pix >> (2 * (o - order));
                Append(ranges, parent, parent + 1);
                top = unwindTo; // the target pixel is in: skip its remaining descendants
            }
            else
            {
                for (int i = 0; i < 4; i++) { stackPixel[top] = 4 * pix + 3 - i; stackOrder[top] = o + 1; top++; }
            }
        }
    }

    /// <summary>
    /// Every nested pixel at <paramref name="order"/> that overlaps the disc of centre (θ, φ) and radius
    /// <paramref name="radius"/> (radians), possibly with a few more that only come close, found from the centre
    /// outwards rather than from the 12 base pixels: for a disc a few pixels across this visits a few dozen pixels
    /// where <see cref="QueryDiscInclusiveNested"/> visits several per order from 0 down. Written to
    /// <paramref name="pixels"/> ascending; returns how many, or −1 when they do not fit (use
    /// <see cref="QueryDiscInclusiveNested"/>).
    /// </summary>
    /// <remarks>
    /// A flood fill over <see cref="NeighboursNested"/> from the pixel holding the centre, keeping a pixel when its
    /// centre is within radius + <see cref="MaxPixelRadius"/>·(1 + 10^-6) of the disc's (the test
    /// <see cref="QueryDiscInclusiveNested"/> applies at every order), and expanding only from kept pixels. It misses
    /// nothing: every pixel that overlaps the disc passes the test, and those pixels are connected through shared
    /// edges or corners (the disc is connected and they cover it), which the 8 (at 8 corners per order, 7)
    /// neighbours of a pixel are (Górski et al. 2005, §4). The result is a superset of the pixels overlapping the
    /// disc, not necessarily the same superset as <see cref="QueryDiscInclusiveNested"/>'s.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A bad order or angle, or a negative or NaN radius.</exception>
    public static int QueryDiscNeighbourhoodNested(int order, double theta, double phi, double radius, Span<long> pixels)
    {
        CheckOrder(order);
        CheckAngles(theta, phi);
        if (!(radius >= 0)) throw new ArgumentOutOfRangeException(nameof(radius), radius, "radius must be a non-negative number of radians");
        if (radius >= Math.PI) return -1;
        double reach = radius + MaxPixelRadiusByOrder[order] * (1 + 1e-6);
        if (reach >= Math.PI) return -1;
        double cosReach = Math.Cos(reach);
        double centreZ = Math.Cos(theta);
        double centreSinTheta = Math.Sqrt((1.0 - centreZ) * (1.0 + centreZ));
        long pixelCount = 12L << (2 * order);

        // pixels[0..kept) are kept, in the order found; pixels[next] is the next one to expand. Rejected pixels are
        // remembered too, so that none is tested twice.
        Span<long> rejected = stackalloc long[128];
        int rejectedCount = 0;
        Span<long> neighbours = stackalloc long[8];
        if (pixels.Length == 0) return -1;
        pixels[0] = AngToPixNested(order, theta, phi);
        int kept = 1;
        for (int next = 0; next < kept; next++)
        {
            NeighboursOf(order, pixels[next], neighbours);
            foreach (long n in neighbours)
            {
                if (n < 0 || (ulong)n >= (ulong)pixelCount) continue;
                if (pixels[..kept].Contains(n) || rejected[..rejectedCount].Contains(n)) continue;
                PixToLocNested(order, n, out double z, out double pixPhi, out double sinTheta, out bool haveSin);
                if (!haveSin) sinTheta = Math.Sqrt((1.0 - z) * (1.0 + z));
                // Cosine of the angle between the pixel centre and the disc centre.
                double cosDistance = centreZ * z + Math.Cos(phi - pixPhi) * centreSinTheta * sinTheta;
                if (cosDistance > cosReach)
                {
                    if (kept == pixels.Length) return -1;
                    pixels[kept++] = n;
                }
                else
                {
                    if (rejectedCount == rejected.Length) return -1;
                    rejected[rejectedCount++] = n;
                }
            }
        }
        pixels[..kept].Sort();
        return kept;
    }

    /// <summary>Every pixel in <paramref name="ranges"/>, ascending.</summary>
    public static long[] Expand(List<PixelRange> ranges)
    {
        long count = 0;
        foreach (var r in ranges) count += r.Count;
        var pixels = new long[count];
        int k = 0;
        foreach (var r in ranges)
            for (long p = r.Start; p < r.End; p++) pixels[k++] = p;
        return pixels;
    }

    private static void Append(List<PixelRange> ranges, long start, long end)
    {
        if (ranges.Count > 0 && ranges[^1].End == start) ranges[^1] = ranges[^1] with { End = end };
        else ranges.Add(new PixelRange(start, end));
    }

    // z = cos θ; sinTheta is used only when haveSin (|z| close to 1). Mirrors loc2pix in healpix_base.cc.
    private static long LocToPixNested(int order, double z, double phi, double sinTheta, bool haveSin)
    {
        long nside = 1L << order;
        double za = Math.Abs(z);
        double tt = FloorModulo(phi * InverseHalfPi, 4.0); // φ in units of π/2, [0, 4)
        if (za <= TwoThirds)
        {
            // Equatorial belt: the pixel lies between the ascending (jp) and descending (jm) edge lines through
            // the point (Górski et al. 2005, eq. 8 and §4).
            double t1 = nside * (0.5 + tt);
            double t2 = nside * (z * 0.75);
            long jp = (long)(t1 - t2);
            long jm = (long)(t1 + t2);
            long ifp = jp >> order;
            long ifm = jm >> order;
            int face = (int)(ifp == ifm ? (ifp | 4) : ifp < ifm ? ifp : ifm + 8);
            int ix = (int)(jm & (nside - 1));
            int iy = (int)(nside - (jp & (nside - 1)) - 1);
            return XyfToNested(order, ix, iy, face);
        }
        else
        {
            // Polar caps: the cap's curvilinear edge lines (Górski et al. 2005, eq. 9); near the pole sin θ keeps
            // √(3(1−|z|)) from cancelling.
            int ntt = Math.Min(3, (int)tt);
            double tp = tt - ntt;
            double tmp = za < 0.99 || !haveSin ? nside * Math.Sqrt(3 * (1 - za)) : nside * sinTheta / Math.Sqrt((1.0 + za) / 3.0);
            long jp = (long)(tp * tmp);
            long jm = (long)((1.0 - tp) * tmp);
            jp = Math.Min(jp, nside - 1); // points on the cap's lower edge
            jm = Math.Min(jm, nside - 1);
            return z >= 0
                ? XyfToNested(order, (int)(nside - jm - 1), (int)(nside - jp - 1), ntt)
                : XyfToNested(order, (int)jp, (int)jm, ntt + 8);
        }
    }

    private static long LocToPixRing(int order, double z, double phi, double sinTheta, bool haveSin)
    {
        long nside = 1L << order;
        long npix = 12L << (2 * order);
        long ncap = 2 * nside * (nside - 1); // pixels in the north polar cap
        double za = Math.Abs(z);
        double tt = FloorModulo(phi * InverseHalfPi, 4.0);
        if (za <= TwoThirds)
        {
            long nl4 = 4 * nside;
            double t1 = nside * (0.5 + tt);
            double t2 = nside * z * 0.75;
            long jp = (long)(t1 - t2);
            long jm = (long)(t1 + t2);
            long ir = nside + 1 + jp - jm; // ring counted from z = 2/3, in 1..2nside+1
            long kshift = 1 - (ir & 1);
            long t = jp + jm - nside + kshift + 1 + nl4 + nl4;
            long ip = (t >> 1) & (nl4 - 1);
            return ncap + (ir - 1) * nl4 + ip;
        }
        else
        {
            double tp = tt - (long)tt;
            double tmp = za < 0.99 || !haveSin ? nside * Math.Sqrt(3 * (1 - za)) : nside * sinTheta / Math.Sqrt((1.0 + za) / 3.0);
            long jp = (long)(tp * tmp);
            long jm = (long)((1.0 - tp) * tmp);
            long ir = jp + jm + 1; // ring counted from the nearer pole
            long ip = (long)(tt * ir);
            return z > 0 ? 2 * ir * (ir - 1) + ip : npix - 2 * ir * (ir + 1) + ip;
        }
    }

    // Centre of a nested pixel as z = cos θ and φ, with sin θ where |z| > 0.99 (pix2loc in healpix_base.cc).
    private static void PixToLocNested(int order, long pixel, out double z, out double phi, out double sinTheta, out bool haveSin)
    {
        long nside = 1L << order;
        long npix = 12L << (2 * order);
        double fact2 = 4.0 / npix;
        double fact1 = (nside << 1) * fact2;
        NestedToXyf(order, pixel, out int ix, out int iy, out int face);
        long jr = ((long)FaceRing[face] << order) - ix - iy - 1; // ring index, 1..4nside-1
        long nr;
        sinTheta = 0;
        haveSin = false;
        if (jr < nside)
        {
            nr = jr;
            double tmp = (nr * nr) * fact2;
            z = 1 - tmp;
            if (z > 0.99) { sinTheta = Math.Sqrt(tmp * (2.0 - tmp)); haveSin = true; }
        }
        else if (jr > 3 * nside)
        {
            nr = nside * 4 - jr;
            double tmp = (nr * nr) * fact2;
            z = tmp - 1;
            if (z < -0.99) { sinTheta = Math.Sqrt(tmp * (2.0 - tmp)); haveSin = true; }
        }
        else
        {
            nr = nside;
            z = (2 * nside - jr) * fact1;
        }
        long t = (long)FaceLongitude[face] * nr + ix - iy;
        if (t < 0) t += 8 * nr;
        phi = nr == nside ? 0.75 * HalfPi * t * fact1 : (0.5 * HalfPi * t) / nr;
    }

    private static void PixToLocRing(int order, long pixel, out double z, out double phi, out double sinTheta, out bool haveSin)
    {
        long nside = 1L << order;
        long npix = 12L << (2 * order);
        long ncap = 2 * nside * (nside - 1);
        double fact2 = 4.0 / npix;
        double fact1 = (nside << 1) * fact2;
        sinTheta = 0;
        haveSin = false;
        if (pixel < ncap)
        {
            long iring = (1 + IntegerSqrt(1 + 2 * pixel)) >> 1;
            long iphi = (pixel + 1) - 2 * iring * (iring - 1);
            double tmp = (iring * iring) * fact2;
            z = 1.0 - tmp;
            if (z > 0.99) { sinTheta = Math.Sqrt(tmp * (2.0 - tmp)); haveSin = true; }
            phi = (iphi - 0.5) * HalfPi / iring;
        }
        else if (pixel < npix - ncap)
        {
            long nl4 = 4 * nside;
            long ip = pixel - ncap;
            long tmp = ip >> (order + 2);
            long iring = tmp + nside;
            long iphi = ip - nl4 * tmp + 1;
            double fodd = ((iring + nside) & 1) != 0 ? 1 : 0.5;
            z = (2 * nside - iring) * fact1;
            phi = (iphi - fodd) * Math.PI * 0.75 * fact1;
        }
        else
        {
            long ip = npix - pixel;
            long iring = (1 + IntegerSqrt(2 * ip - 1)) >> 1;
            long iphi = 4 * iring + 1 - (ip - 2 * iring * (iring - 1));
            double tmp = (iring * iring) * fact2;
            z = tmp - 1.0;
            if (z < -0.99) { sinTheta = Math.Sqrt(tmp * (2.0 - tmp)); haveSin = true; }
            phi = (iphi - 0.5) * HalfPi / iring;
        }
    }

    private static long XyfToNested(int order, int x, int y, int face) =>
        ((long)face << (2 * order)) + SpreadBits((uint)x) + (SpreadBits((uint)y) << 1);

    private static void NestedToXyf(int order, long pixel, out int x, out int y, out int face)
    {
        face = (int)(pixel >> (2 * order));
        long inFace = pixel & ((1L << (2 * order)) - 1);
        x = (int)CompactBits((ulong)inFace);
        y = (int)CompactBits((ulong)inFace >> 1);
    }

    private static long XyfToRing(int order, int x, int y, int face)
    {
        long nside = 1L << order;
        long nl4 = 4 * nside;
        long npix = 12L << (2 * order);
        long jr = ((long)FaceRing[face] << order) - x - y - 1;
        long nr, kshift, before;
        if (jr < nside) { nr = jr; before = 2 * nr * (nr - 1); kshift = 0; }
        else if (jr > 3 * nside) { nr = nl4 - jr; before = npix - 2 * (nr + 1) * nr; kshift = 0; }
        else { nr = nside; before = 2 * nside * (nside - 1) + (jr - nside) * nl4; kshift = (jr - nside) & 1; }
        long jp = ((long)FaceLongitude[face] * nr + x - y + 1 + kshift) / 2;
        if (jp > nl4) jp -= nl4;
        else if (jp < 1) jp += nl4;
        return before + jp - 1;
    }

    private static void RingToXyf(int order, long pixel, out int x, out int y, out int face)
    {
        long nside = 1L << order;
        long nl2 = 2 * nside;
        long npix = 12L << (2 * order);
        long ncap = 2 * nside * (nside - 1);
        long iring, iphi, kshift, nr;
        if (pixel < ncap)
        {
            iring = (1 + IntegerSqrt(1 + 2 * pixel)) >> 1;
            iphi = (pixel + 1) - 2 * iring * (iring - 1);
            kshift = 0;
            nr = iring;
            face = (int)((iphi - 1) / nr);
        }
        else if (pixel < npix - ncap)
        {
            long ip = pixel - ncap;
            long tmp = ip >> (order + 2);
            iring = tmp + nside;
            iphi = ip - tmp * 4 * nside + 1;
            kshift = (iring + nside) & 1;
            nr = nside;
            long ire = tmp + 1, irm = nl2 + 1 - tmp;
            long ifm = (iphi - (ire >> 1) + nside - 1) >> order;
            long ifp = (iphi - (irm >> 1) + nside - 1) >> order;
            face = (int)(ifp == ifm ? (ifp | 4) : ifp < ifm ? ifp : ifm + 8);
        }
        else
        {
            long ip = npix - pixel;
            iring = (1 + IntegerSqrt(2 * ip - 1)) >> 1;
            iphi = 4 * iring + 1 - (ip - 2 * iring * (iring - 1));
            kshift = 0;
            nr = iring;
            iring = 2 * nl2 - iring;
            face = (int)((iphi - 1) / nr) + 8;
        }
        long irt = iring - ((2 + (face >> 2)) * nside) + 1;
        long ipt = 2 * iphi - FaceLongitude[face] * nr - kshift - 1;
        if (ipt >= nl2) ipt -= 8 * nside;
        x = (int)((ipt - irt) >> 1);
        y = (int)((-ipt - irt) >> 1);
    }

    // Interleaves the low 32 bits of v with zeros (bit i -> bit 2i): the Morton code of the nested scheme.
    private static long SpreadBits(uint v)
    {
        if (Bmi2.X64.IsSupported) return (long)Bmi2.X64.ParallelBitDeposit(v, 0x5555555555555555UL);
        ulong x = v;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL;
        return (long)x;
    }

    // The inverse: gathers the even bits of v.
    private static uint CompactBits(ulong v)
    {
        if (Bmi2.X64.IsSupported) return (uint)Bmi2.X64.ParallelBitExtract(v, 0x5555555555555555UL);
        ulong x = v & 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL;
        return (uint)x;
    }

    // ⌊√v⌋ exactly for v up to 2^62: the double estimate, corrected by one either way.
    private static long IntegerSqrt(long v)
    {
        long r = (long)Math.Sqrt(v + 0.5);
        while (r * r > v) r--;
        while ((r + 1) * (r + 1) <= v) r++;
        return r;
    }

    // v mod m in [0, m), as HEALPix's fmodulo (which maps a result equal to m, from rounding, to 0).
    private static double FloorModulo(double v, double m)
    {
        if (v >= 0) return v < m ? v : v % m;
        double r = v % m + m;
        return r == m ? 0.0 : r;
    }

    private static double[] ComputeMaxPixelRadii()
    {
        var radii = new double[MaxOrder + 1];
        for (int order = 0; order <= MaxOrder; order++)
        {
            double nside = 1L << order;
            // Centre-to-corner distance of the pixel whose corner is at z = 2/3, φ = π/(4 nside) (max_pixrad).
            var (ax, ay, az) = FromZPhi(2.0 / 3.0, Math.PI / (4 * nside));
            double t1 = 1.0 - 1.0 / nside;
            t1 *= t1;
            var (bx, by, bz) = FromZPhi(1 - t1 / 3, 0);
            double cx = ay * bz - az * by, cy = az * bx - ax * bz, cz = ax * by - ay * bx;
            radii[order] = Math.Atan2(Math.Sqrt(cx * cx + cy * cy + cz * cz), ax * bx + ay * by + az * bz);
        }
        return radii;
    }

    private static (double X, double Y, double Z) FromZPhi(double z, double phi)
    {
        double sinTheta = Math.Sqrt((1.0 - z) * (1.0 + z));
        return (sinTheta * Math.Cos(phi), sinTheta * Math.Sin(phi), z);
    }

    private static int CheckOrder(int order) =>
        (uint)order <= MaxOrder ? order : throw new ArgumentOutOfRangeException(nameof(order), order, $"HEALPix order must be 0..{MaxOrder}");

    private static long CheckPixel(int order, long pixel) =>
        (ulong)pixel < (ulong)(12L << (2 * order)) ? pixel : throw new ArgumentOutOfRangeException(nameof(pixel), pixel, $"pixel must be 0..12*4^{order}-1");

    private static void CheckAngles(double theta, double phi)
    {
        if (!(theta >= 0 && theta <= Math.PI)) throw new ArgumentOutOfRangeException(nameof(theta), theta, "colatitude must be in [0, pi] radians");
        if (!double.IsFinite(phi)) throw new ArgumentOutOfRangeException(nameof(phi), phi, "longitude must be finite");
    }
}
