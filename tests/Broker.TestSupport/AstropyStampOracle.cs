using System.Globalization;

namespace Broker.TestSupport;

/// <summary>
/// Runs <c>oracles/fits_astropy.py</c> once over the real ZTF and Rubin alerts in shared/data: it extracts every
/// cutout's raw stamp bytes and astropy's reading of it (.npy) into a temporary directory. Lazy, so that a run
/// whose oracle tests are all skipped never starts Python. One instance serves every class in
/// the <see cref="AstropyStampOracleCollection"/> (the run takes seconds and writes tens of megabytes); a test with work
/// of its own can <see cref="Start"/> it first and do that work meanwhile.
/// </summary>
public sealed class AstropyStampOracle : IDisposable
{
    /// <summary>The oracle script, relative to the repository root.</summary>
    public const string Script = "tests/Broker.TestSupport/oracles/fits_astropy.py";

    private readonly Lazy<Task<IReadOnlyList<OracleStamp>>> _stamps;
    private readonly string _directory;

    public AstropyStampOracle()
    {
        _directory = Directory.CreateTempSubdirectory("broker-fits-oracle-").FullName;
        _stamps = new Lazy<Task<IReadOnlyList<OracleStamp>>>(() => Task.Run(Run), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>Starts the oracle in the background unless it has started already.</summary>
    public void Start() => _ = _stamps.Value;

    /// <summary>Every cutout the oracle wrote, in the order it found them; waits for the oracle.</summary>
    public IReadOnlyList<OracleStamp> Stamps => _stamps.Value.GetAwaiter().GetResult();

    /// <summary>
    /// The directory the oracle wrote into: <c>&lt;id&gt;_&lt;kind&gt;.stamp</c>, <c>.npy</c> and
    /// <c>.hdu&lt;N&gt;.npy</c> files as <c>oracles/fits_astropy.py</c> describes; waits for the oracle.
    /// </summary>
    public string OutputDirectory
    {
        get
        {
            _ = Stamps;
            return _directory;
        }
    }

    /// <summary>The cutout named <c>&lt;id&gt;_&lt;kind&gt;</c>.</summary>
    public OracleStamp Get(string name) =>
        Stamps.FirstOrDefault(s => s.Name == name) ?? throw new KeyNotFoundException($"the oracle wrote no cutout {name}");

    private IReadOnlyList<OracleStamp> Run()
    {
        string output = Python.Run(
            SharedData.RepositoryPath(Script), _directory, SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts"));
        var stamps = new List<OracleStamp>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            stamps.Add(new OracleStamp(
                f[0], f[1], int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture), int.Parse(f[5], CultureInfo.InvariantCulture),
                double.Parse(f[6], CultureInfo.InvariantCulture), double.Parse(f[7], CultureInfo.InvariantCulture),
                _directory));
        }
        return stamps;
    }

    public void Dispose()
    {
        // Python may still be writing when a test that started it failed before waiting for it.
        if (_stamps.IsValueCreated) Task.WaitAny(_stamps.Value);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A temporary directory left behind is harmless; failing the run over it is not.
        }
    }
}

/// <summary>The name of the xunit collection whose classes share one oracle run (each test assembly defines it: xunit looks for a collection definition in the assembly of its tests).</summary>
public static class AstropyStampOracleCollection
{
    /// <summary>The collection's name, for <c>[Collection]</c> and <c>[CollectionDefinition]</c>.</summary>
    public const string Name = "astropy stamp oracle";
}

/// <summary>One cutout as the oracle saw it.</summary>
/// <param name="Name"><c>&lt;candid or diaSourceId&gt;_&lt;science|template|difference&gt;</c>.</param>
/// <param name="Source">The alert file (<c>tarball::member</c> for tarballs).</param>
/// <param name="HduCount">HDUs astropy found.</param>
/// <param name="FirstImageHdu">Index of the first image HDU with data.</param>
/// <param name="Rows">NAXIS2.</param>
/// <param name="Columns">NAXIS1.</param>
/// <param name="ZScaleMin">astropy ZScaleInterval lower limit (NaN for an all-NaN image).</param>
/// <param name="ZScaleMax">astropy ZScaleInterval upper limit.</param>
/// <param name="Directory">Where the oracle wrote its files.</param>
public sealed record OracleStamp(
    string Name, string Source, int HduCount, int FirstImageHdu, int Rows, int Columns, double ZScaleMin, double ZScaleMax, string Directory)
{
    public bool IsRubin => Source.Contains("/lsst/", StringComparison.Ordinal);

    public byte[] StampBytes() => File.ReadAllBytes(Path.Combine(Directory, Name + ".stamp"));

    /// <summary>The raw bytes of astropy's first image as numpy.save wrote them.</summary>
    public byte[] NpyBytes() => File.ReadAllBytes(Path.Combine(Directory, Name + ".npy"));

    /// <summary>Astropy's image of HDU <paramref name="index"/> (other than the first image), or null when it wrote none.</summary>
    public byte[]? HduNpyBytes(int index)
    {
        string path = Path.Combine(Directory, $"{Name}.hdu{index}.npy");
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    public override string ToString() => Name;
}
