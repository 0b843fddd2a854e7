using System.Collections.Concurrent;

namespace Broker.Sky.Orbits;

/// <summary>
/// The eight planets' heliocentric ICRS positions at any TDB instant, cheaply: VSOP87 (<see cref="Vsop87"/>, some
/// 35,000 cosine terms a call) is evaluated once per whole MJD day, in blocks of 64 days cached for the process,
/// and interpolated with an 8-point Lagrange polynomial (degree 7) over the surrounding days. For Mercury, the
/// fastest (n = 0.0714 rad/day), the interpolation error bound is r (nh)^8 max|Π(t - t_i)| / 8! ≈ 3e-13 au, far
/// below VSOP87's own accuracy. With liberfa, the Moon too (ERFA <c>eraMoon98</c> added to the Earth; its 13°/day
/// interpolates to 2e-11 au on the same grid). Thread-safe.
/// </summary>
/// <remarks>
/// A block costs some 2 million cosines, and an integration from an orbit's epoch to tonight touches every block in
/// between (kstars' orbits are 890 days old: 15 blocks, seconds of CPU per process). Positions made with a cache
/// folder (<see cref="Cached"/>) keep each block there as a file of its 64 × 27 doubles, named by the series'
/// <see cref="Vsop87.Fingerprint"/>, whether the Moon is in, and the layout's version, so that the next process (a
/// restarted or second instance of a service, the next <c>broker run</c>) reads the block instead of computing it: the
/// same doubles, so the same positions bit for bit. A file that cannot be read or has the wrong length is computed
/// again and rewritten; a folder that cannot be written only costs the computation.
/// </remarks>
public sealed class PlanetPositions
{
    private const int BlockDays = 64;
    private const int Nodes = 8;
    private const int PlanetValues = 3 * 8;
    private const int Values = 3 * 9;

    private static readonly Lazy<PlanetPositions> DefaultPositions = new(() => new PlanetPositions(Vsop87.Default));

    // The Lagrange denominators for unit-spaced nodes -3..4: Π_{m≠j} (j - m).
    private static readonly double[] Denominators = BuildDenominators();

    // Bumped when a block file's layout or content changes.
    private const int CacheLayout = 1;

    private static readonly ConcurrentDictionary<string, PlanetPositions> CachedPositions = new(StringComparer.Ordinal);

    private readonly Vsop87 series;
    private readonly ConcurrentDictionary<long, double[]> blocks = new();
    private readonly string? cacheFolder;
    private readonly string cacheName = "";

    /// <summary>Positions from a VSOP87 series.</summary>
    public PlanetPositions(Vsop87 series) : this(series, null)
    {
    }

    /// <summary>Positions from a VSOP87 series whose daily blocks are kept in <paramref name="cacheFolder"/> (see the remarks); null: in memory only.</summary>
    public PlanetPositions(Vsop87 series, string? cacheFolder)
    {
        this.series = series ?? throw new ArgumentNullException(nameof(series));
        if (cacheFolder is null) return;
        if (string.IsNullOrWhiteSpace(cacheFolder)) throw new ArgumentException("the cache folder is empty", nameof(cacheFolder));
        this.cacheFolder = Path.GetFullPath(cacheFolder);
        cacheName = FormattableString.Invariant($"planets-v{CacheLayout}-{(HasMoon ? "moon" : "nomoon")}-{(BitConverter.IsLittleEndian ? "le" : "be")}-{series.Fingerprint[..16]}");
    }

    /// <summary>
    /// The positions from <see cref="Vsop87.Default"/> with their blocks kept in <paramref name="cacheFolder"/>, one
    /// instance per folder for the process (every integration shares its blocks in memory too).
    /// </summary>
    /// <exception cref="FileNotFoundException">kstars-data is not installed.</exception>
    public static PlanetPositions Cached(string cacheFolder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(cacheFolder);
        return CachedPositions.GetOrAdd(Path.GetFullPath(cacheFolder), folder => new PlanetPositions(Vsop87.Default, folder));
    }

    /// <summary>Positions from <see cref="Vsop87.Default"/> (kstars-data), shared by every integration in the process.</summary>
    public static PlanetPositions Default => DefaultPositions.Value;

    /// <summary>Writes the 8 planets' heliocentric positions (au, ICRS; x, y, z per planet in <see cref="Planet"/> order) at MJD TDB into <paramref name="positions"/> (24 values).</summary>
    public void At(double mjdTdb, Span<double> positions)
    {
        if (positions.Length < PlanetValues) throw new ArgumentException("needs 24 values", nameof(positions));
        Span<double> all = stackalloc double[Values];
        AtWithMoon(mjdTdb, all);
        all[..PlanetValues].CopyTo(positions);
    }

    /// <summary>Whether <see cref="AtWithMoon"/> gives the Moon (liberfa loads); otherwise its last three values are the Earth's.</summary>
    public static bool HasMoon => Erfa.Available;

    /// <summary>As <see cref="At"/>, followed by the Moon's heliocentric position (27 values).</summary>
    public void AtWithMoon(double mjdTdb, Span<double> positions)
    {
        if (positions.Length < Values) throw new ArgumentException("needs 27 values", nameof(positions));
        double day0 = Math.Floor(mjdTdb);
        double s = mjdTdb - day0; // in [0, 1): nodes at day0 - 3 .. day0 + 4
        Span<double> weights = stackalloc double[Nodes];
        if (s == 0)
        {
            weights.Clear();
            weights[3] = 1;
        }
        else
        {
            // w_j = Π_{m≠j} (s - m) / Π_{m≠j} (j - m), j and m over -3..4.
            double all = 1;
            for (int m = -3; m <= 4; m++) all *= s - m;
            for (int j = 0; j < Nodes; j++) weights[j] = all / ((s - (j - 3)) * Denominators[j]);
        }
        positions[..Values].Clear();
        long first = (long)day0 - 3;
        for (int j = 0; j < Nodes; j++)
        {
            double w = weights[j];
            if (w == 0) continue;
            var node = Node(first + j);
            for (int v = 0; v < Values; v++) positions[v] += w * node[v];
        }
    }

    private ReadOnlySpan<double> Node(long day)
    {
        long block = Math.DivRem(day, BlockDays, out long offset);
        if (offset < 0) { block--; offset += BlockDays; }
        var values = blocks.GetOrAdd(block, Compute);
        return values.AsSpan((int)offset * Values, Values);
    }

    private double[] Compute(long block)
    {
        if (cacheFolder is null) return ComputeBlock(block);
        string path = Path.Combine(cacheFolder, FormattableString.Invariant($"{cacheName}-{block}.bin"));
        if (ReadBlock(path) is { } kept) return kept;
        var values = ComputeBlock(block);
        WriteBlock(path, values);
        return values;
    }

    private static double[]? ReadBlock(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length != (long)BlockDays * Values * sizeof(double)) return null;
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length != BlockDays * Values * sizeof(double)) return null;
            var values = new double[BlockDays * Values];
            bytes.AsSpan().CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            foreach (double v in values) if (!double.IsFinite(v)) return null;
            return values;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void WriteBlock(string path, double[] values)
    {
        // Written beside the final name and renamed over it: a reader sees a whole block or none.
        string temporary = FormattableString.Invariant($"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (Exception f) when (f is IOException or UnauthorizedAccessException) { }
        }
    }

    private double[] ComputeBlock(long block)
    {
        var values = new double[BlockDays * Values];
        Span<double> pv = stackalloc double[6];
        for (int d = 0; d < BlockDays; d++)
        {
            double mjd = block * BlockDays + d;
            for (int p = 0; p < 8; p++)
            {
                var (x, y, z) = series.HeliocentricIcrs((Planet)p, mjd);
                values[d * Values + 3 * p] = x;
                values[d * Values + 3 * p + 1] = y;
                values[d * Values + 3 * p + 2] = z;
            }
            // The Moon: the Earth plus its geocentric position (eraMoon98, at TT; TT - TDB, 1.7 ms, moves it 2 m).
            var moon = (X: 0.0, Y: 0.0, Z: 0.0);
            if (Erfa.Available)
            {
                Erfa.Moon98(TimeScales.MjdOffset, mjd, pv);
                moon = (pv[0], pv[1], pv[2]);
            }
            values[d * Values + 24] = values[d * Values + 6] + moon.X;
            values[d * Values + 25] = values[d * Values + 7] + moon.Y;
            values[d * Values + 26] = values[d * Values + 8] + moon.Z;
        }
        return values;
    }

    private static double[] BuildDenominators()
    {
        var d = new double[Nodes];
        for (int j = 0; j < Nodes; j++)
        {
            double product = 1;
            for (int m = 0; m < Nodes; m++) if (m != j) product *= j - m;
            d[j] = product;
        }
        return d;
    }
}
