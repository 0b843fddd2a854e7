using System.Runtime.InteropServices;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Sky.Tests;

/// <summary>
/// HEALPix against healpy (Debian python3-healpy), through <c>oracles/healpix_healpy.py</c> and raw little-endian
/// files: ang2pix exactly on 10^6 random directions and on a table of edge cases, pix2ang to 1e-12 rad,
/// nest/ring conversion and neighbours exactly, and the inclusive disc query as a superset of healpy's that misses
/// no pixel touched by the disc.
/// </summary>
public sealed class HealpixTests(ITestOutputHelper output) : IDisposable
{
    private static readonly int[] Orders = [0, 1, 2, 8, 12, 20, 28, 29];
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-healpix-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [OracleFact("healpy", NeedsSharedData = false)]
    public void Ang2pix_agrees_exactly_with_healpy_on_a_million_random_directions()
    {
        const int count = 1_000_000;
        var random = new Random(11);
        var theta = new double[count];
        var phi = new double[count];
        for (int i = 0; i < count; i++)
        {
            // Uniform on the sphere: cos θ uniform in [-1, 1].
            theta[i] = Math.Acos(2 * random.NextDouble() - 1);
            phi[i] = 2 * Math.PI * random.NextDouble();
        }
        AssertAng2pixMatchesHealpy(theta, phi);
    }

    [OracleFact("healpy", NeedsSharedData = false)]
    public void Ang2pix_agrees_exactly_with_healpy_at_poles_wrap_transition_and_pixel_corners()
    {
        var theta = new List<double>();
        var phi = new List<double>();
        double zTransition = Math.Acos(2.0 / 3.0), zSouthTransition = Math.Acos(-2.0 / 3.0);
        double[] edgeTheta =
        [
            0, double.Epsilon, 1e-300, 1e-15, 1e-9, Math.PI, Math.BitDecrement(Math.PI), Math.PI - 1e-15, Math.PI - 1e-9,
            0.01, Math.BitDecrement(0.01), Math.BitIncrement(0.01), 3.14159 - 0.01, Math.BitDecrement(3.14159 - 0.01),
            Math.BitIncrement(3.14159 - 0.01), zTransition, Math.BitDecrement(zTransition), Math.BitIncrement(zTransition),
            zSouthTransition, Math.BitDecrement(zSouthTransition), Math.BitIncrement(zSouthTransition),
            Math.PI / 2, Math.BitDecrement(Math.PI / 2), Math.BitIncrement(Math.PI / 2), Math.Acos(0.99), Math.Acos(-0.99),
        ];
        double[] edgePhi =
        [
            0, -0.0, double.Epsilon, -double.Epsilon, 1e-300, -1e-300, 2 * Math.PI, Math.BitDecrement(2 * Math.PI),
            Math.BitIncrement(2 * Math.PI), Math.PI / 4, Math.PI / 2, Math.BitDecrement(Math.PI / 2), Math.BitIncrement(Math.PI / 2),
            Math.PI, 3 * Math.PI / 2, Math.BitDecrement(3 * Math.PI / 2), -Math.PI / 4, 4 * Math.PI, -2 * Math.PI, 1e6,
        ];
        foreach (double t in edgeTheta)
            foreach (double p in edgePhi) { theta.Add(t); phi.Add(p); }

        // The centre of a pixel at order o is the corner its four children share at order o + 1, and a midpoint
        // between two centres of one ring lies on their common edge: exact boundary points, nudged by one ulp.
        var random = new Random(29);
        foreach (int order in new[] { 0, 1, 2, 3, 8, 12, 20, 28 })
        {
            long npix = Healpix.PixelCount(order);
            for (int k = 0; k < 400; k++)
            {
                long pix = npix <= 400 ? k % npix : k < 48 ? (k % 12) * (npix / 12) + (k / 12 % 2 == 0 ? 0 : npix / 12 - 1) : random.NextInt64(npix);
                var (ct, cp) = Healpix.PixToAngNested(order, pix);
                var (rt, rp) = Healpix.PixToAngRing(order, pix);
                long next = pix + 1 < npix ? pix + 1 : pix;
                var (nt, np) = Healpix.PixToAngRing(order, next);
                double midPhi = nt == rt ? 0.5 * (rp + np) : rp;
                foreach (var (t, p) in new[] { (ct, cp), (rt, rp), (rt, midPhi) })
                {
                    theta.Add(t); phi.Add(p);
                    theta.Add(Math.BitDecrement(t)); phi.Add(p);
                    theta.Add(Math.Min(Math.PI, Math.BitIncrement(t))); phi.Add(p);
                    theta.Add(t); phi.Add(Math.BitDecrement(p));
                    theta.Add(t); phi.Add(Math.BitIncrement(p));
                }
            }
        }
        AssertAng2pixMatchesHealpy([.. theta], [.. phi]);
    }

    [OracleFact("healpy", NeedsSharedData = false)]
    public void RaDec_to_pixel_agrees_exactly_with_healpy_lonlat_at_dec_90_and_ra_0_360()
    {
        double[] ras = [0, -0.0, 360, Math.BitDecrement(360), 359.9999999999, 1e-13, 90, 180, 270, 45, 123.456789];
        double[] decs = [90, -90, Math.BitDecrement(90), Math.BitIncrement(-90), 89.9999999, -89.9999999, 0, 1e-12,
            Math.Asin(2.0 / 3.0) * 180 / Math.PI, -Math.Asin(2.0 / 3.0) * 180 / Math.PI, 41.8103148957786, -41.8103148957786, 30, -60];
        var ra = new List<double>();
        var dec = new List<double>();
        foreach (double r in ras)
            foreach (double d in decs) { ra.Add(r); dec.Add(d); }
        Write("ra.f64", ra.ToArray());
        Write("dec.f64", dec.ToArray());
        RunOracle(["radec2pix", _dir, .. Orders.Select(o => o.ToString())]);
        foreach (int order in Orders)
        {
            var nest = Read<long>($"nest_{order}.i64");
            for (int i = 0; i < ra.Count; i++)
                Assert.True(nest[i] == Healpix.RaDecToPixNested(order, ra[i], dec[i]), $"order {order}, RA {ra[i]:R}, Dec {dec[i]:R}: healpy {nest[i]}, ours {Healpix.RaDecToPixNested(order, ra[i], dec[i])}");
        }
    }

    [OracleFact("healpy", NeedsSharedData = false)]
    public void Pix2ang_nest2ring_ring2nest_and_neighbours_agree_with_healpy()
    {
        var random = new Random(12);
        Span<long> ours = stackalloc long[8];
        foreach (int order in Orders)
        {
            long npix = Healpix.PixelCount(order);
            var pixels = new List<long>();
            if (npix <= 20_000) for (long p = 0; p < npix; p++) pixels.Add(p);
            else
            {
                // Every face's first and last pixels (its corners and edges) and random ones.
                for (int f = 0; f < 12; f++)
                    for (int k = 0; k < 20; k++) { pixels.Add(f * (npix / 12) + k); pixels.Add((f + 1) * (npix / 12) - 1 - k); }
                for (int k = 0; k < 20_000; k++) pixels.Add(random.NextInt64(npix));
            }
            Write("pix.i64", pixels.ToArray());
            RunOracle(["pixels", _dir, order.ToString()]);
            var nestTheta = Read<double>("nest_theta.f64");
            var nestPhi = Read<double>("nest_phi.f64");
            var ringTheta = Read<double>("ring_theta.f64");
            var ringPhi = Read<double>("ring_phi.f64");
            var toRing = Read<long>("nest2ring.i64");
            var toNested = Read<long>("ring2nest.i64");
            var neighbours = Read<long>("neighbours.i64");
            for (int i = 0; i < pixels.Count; i++)
            {
                long p = pixels[i];
                var (t, f) = Healpix.PixToAngNested(order, p);
                Assert.True(Math.Abs(t - nestTheta[i]) <= 1e-12 && Math.Abs(f - nestPhi[i]) <= 1e-12, $"order {order} nested {p}: healpy ({nestTheta[i]:R}, {nestPhi[i]:R}), ours ({t:R}, {f:R})");
                (t, f) = Healpix.PixToAngRing(order, p);
                Assert.True(Math.Abs(t - ringTheta[i]) <= 1e-12 && Math.Abs(f - ringPhi[i]) <= 1e-12, $"order {order} ring {p}: healpy ({ringTheta[i]:R}, {ringPhi[i]:R}), ours ({t:R}, {f:R})");
                Assert.True(toRing[i] == Healpix.NestedToRing(order, p), $"order {order}: nest2ring({p}) healpy {toRing[i]}, ours {Healpix.NestedToRing(order, p)}");
                Assert.True(toNested[i] == Healpix.RingToNested(order, p), $"order {order}: ring2nest({p}) healpy {toNested[i]}, ours {Healpix.RingToNested(order, p)}");
                Assert.Equal(p, Healpix.RingToNested(order, Healpix.NestedToRing(order, p)));
                Healpix.NeighboursNested(order, p, ours);
                for (int k = 0; k < 8; k++)
                    Assert.True(neighbours[8 * i + k] == ours[k], $"order {order} pixel {p} neighbour {k}: healpy {neighbours[8 * i + k]}, ours {ours[k]}");
            }
        }
    }

    [OracleFact("healpy", NeedsSharedData = false)]
    public void Inclusive_disc_queries_from_the_base_pixels_and_from_the_centre_hold_every_pixel_healpy_returns_and_every_pixel_the_disc_touches()
    {
        const double arcsec = Math.PI / 180 / 3600;
        (double RadiusArcsec, int[] Orders)[] cases =
        [
            (1, [8, 12, 16, 20]), (5, [12, 16]), (60, [8, 12, 14]), (3600, [4, 8, 10]), (36000, [2, 4, 6]),
        ];
        var random = new Random(5);
        // Centres: the poles, RA 0/360, the z = ±2/3 transition, base-face corners, and random directions.
        var centres = new List<(double Theta, double Phi)>
        {
            (0, 0), (Math.PI, 0), (Math.PI / 2, 0), (Math.PI / 2, Math.BitDecrement(2 * Math.PI)), (Math.Acos(2.0 / 3.0), 0),
            (Math.Acos(-2.0 / 3.0), Math.PI / 4), (Math.Acos(2.0 / 3.0), Math.PI / 2), (1e-7, 1.0), (Math.PI - 1e-7, 5.0),
        };
        for (int k = 0; k < 40; k++) centres.Add((Math.Acos(2 * random.NextDouble() - 1), 2 * Math.PI * random.NextDouble()));

        var ranges = new List<PixelRange>();
        Span<long> neighbours = stackalloc long[8];
        var nearBuffer = new long[256];
        long nearDiscs = 0;
        foreach (var (radiusArcsec, orders) in cases)
        {
            double radius = radiusArcsec * arcsec;
            foreach (int order in orders)
            {
                var discs = new double[3 * centres.Count];
                for (int c = 0; c < centres.Count; c++) { discs[3 * c] = centres[c].Theta; discs[3 * c + 1] = centres[c].Phi; discs[3 * c + 2] = radius; }
                Write("discs.f64", discs);
                RunOracle(["disc", _dir, order.ToString()]);
                var counts = Read<long>("disc_counts.i64");
                var healpyPixels = Read<long>("disc_pixels.i64");
                long offset = 0, extra = 0, total = 0, healpyTotal = 0, sampled = 0;
                for (int c = 0; c < centres.Count; c++)
                {
                    var (theta, phi) = centres[c];
                    ranges.Clear();
                    Healpix.QueryDiscInclusiveNested(order, theta, phi, radius, ranges);
                    var ours = new HashSet<long>(Healpix.Expand(ranges));
                    int nearCount = Healpix.QueryDiscNeighbourhoodNested(order, theta, phi, radius, nearBuffer);
                    var near = nearCount < 0 ? null : new HashSet<long>(nearBuffer.AsSpan(0, nearCount).ToArray());
                    if (near is not null) nearDiscs++;
                    for (long i = offset; i < offset + counts[c]; i++)
                    {
                        Assert.True(ours.Contains(healpyPixels[i]), $"order {order}, radius {radiusArcsec}\", centre ({theta:R}, {phi:R}): healpy's pixel {healpyPixels[i]} missing");
                        Assert.True(near?.Contains(healpyPixels[i]) ?? true, $"order {order}, radius {radiusArcsec}\", centre ({theta:R}, {phi:R}): healpy's pixel {healpyPixels[i]} missing from the neighbourhood query");
                    }
                    extra += ours.Count - counts[c];
                    total += ours.Count;
                    healpyTotal += counts[c];
                    offset += counts[c];

                    // Brute force: the pixel under any point of the disc (random, and on its rim) is returned.
                    for (int s = 0; s < 2000; s++)
                    {
                        double distance = s < 200 ? radius : Math.Acos(1 - random.NextDouble() * (1 - Math.Cos(radius)));
                        var (pt, pp) = Offset(theta, phi, distance, 2 * Math.PI * random.NextDouble());
                        long pix = Healpix.AngToPixNested(order, pt, pp);
                        Assert.True(ours.Contains(pix), $"order {order}, radius {radiusArcsec}\", centre ({theta:R}, {phi:R}): point ({pt:R}, {pp:R}) at {distance / arcsec}\" is in pixel {pix}, not returned");
                        Assert.True(near?.Contains(pix) ?? true, $"order {order}, radius {radiusArcsec}\", centre ({theta:R}, {phi:R}): point ({pt:R}, {pp:R}) at {distance / arcsec}\" is in pixel {pix}, not returned by the neighbourhood query");
                        sampled++;
                    }
                    // Every neighbour of a returned pixel whose centre is in the disc is returned too.
                    foreach (long p in ours)
                    {
                        Healpix.NeighboursNested(order, p, neighbours);
                        foreach (long n in neighbours)
                        {
                            if (n < 0 || ours.Contains(n)) continue;
                            var (nt, np) = Healpix.PixToAngNested(order, n);
                            Assert.False(Distance(theta, phi, nt, np) <= radius, $"order {order}, radius {radiusArcsec}\": pixel {n} has its centre in the disc but was not returned");
                        }
                    }
                }
                output.WriteLine($"radius {radiusArcsec,6}\" order {order,2}: {centres.Count} discs, {total} pixels, healpy {healpyTotal}, extra {extra}; {sampled} sampled points all covered");
            }
        }
        output.WriteLine($"{nearDiscs} discs checked through the neighbourhood query as well");
        Assert.True(nearDiscs > 500, "the neighbourhood query gave up on most discs; the test would prove little");
    }

    private void AssertAng2pixMatchesHealpy(double[] theta, double[] phi)
    {
        Write("theta.f64", theta);
        Write("phi.f64", phi);
        RunOracle(["ang2pix", _dir, .. Orders.Select(o => o.ToString())]);
        foreach (int order in Orders)
        {
            var nest = Read<long>($"nest_{order}.i64");
            var ring = Read<long>($"ring_{order}.i64");
            Assert.Equal(theta.Length, nest.Length);
            int mismatches = 0;
            string first = "";
            for (int i = 0; i < theta.Length; i++)
            {
                long n = Healpix.AngToPixNested(order, theta[i], phi[i]);
                long r = Healpix.AngToPixRing(order, theta[i], phi[i]);
                if (n == nest[i] && r == ring[i]) continue;
                if (mismatches++ == 0) first = $"θ {theta[i]:R}, φ {phi[i]:R}: nested healpy {nest[i]} ours {n}, ring healpy {ring[i]} ours {r}";
            }
            Assert.True(mismatches == 0, $"order {order}: {mismatches} of {theta.Length} differ from healpy; first: {first}");
        }
        output.WriteLine($"{theta.Length} directions agree with healpy at orders {string.Join(", ", Orders)} (nested and ring)");
    }

    // The direction at angular distance d and position angle b from (θ, φ), all radians.
    private static (double Theta, double Phi) Offset(double theta, double phi, double d, double b)
    {
        double st = Math.Sin(theta), ct = Math.Cos(theta), sp = Math.Sin(phi), cp = Math.Cos(phi);
        double cd = Math.Cos(d), sd = Math.Sin(d), cb = Math.Cos(b), sb = Math.Sin(b);
        double x = cd * st * cp + sd * (cb * ct * cp - sb * sp);
        double y = cd * st * sp + sd * (cb * ct * sp + sb * cp);
        double z = cd * ct - sd * cb * st;
        return (Math.Atan2(Math.Sqrt(x * x + y * y), z), Math.Atan2(y, x));
    }

    private static double Distance(double t1, double p1, double t2, double p2)
    {
        double x1 = Math.Sin(t1) * Math.Cos(p1), y1 = Math.Sin(t1) * Math.Sin(p1), z1 = Math.Cos(t1);
        double x2 = Math.Sin(t2) * Math.Cos(p2), y2 = Math.Sin(t2) * Math.Sin(p2), z2 = Math.Cos(t2);
        double cx = y1 * z2 - z1 * y2, cy = z1 * x2 - x1 * z2, cz = x1 * y2 - y1 * x2;
        return Math.Atan2(Math.Sqrt(cx * cx + cy * cy + cz * cz), x1 * x2 + y1 * y2 + z1 * z2);
    }

    private static void RunOracle(string[] args) =>
        Python.Run(Path.Combine(AppContext.BaseDirectory, "oracles", "healpix_healpy.py"), args);

    // Raw little-endian files; the test hosts are little-endian (x64, arm64).
    private void Write<T>(string name, T[] values) where T : unmanaged =>
        File.WriteAllBytes(Path.Combine(_dir, name), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private T[] Read<T>(string name) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(File.ReadAllBytes(Path.Combine(_dir, name))).ToArray();
}
