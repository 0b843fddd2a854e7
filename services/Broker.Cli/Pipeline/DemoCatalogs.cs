using System.Globalization;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Cli.Commands;
using Broker.Simulation;

namespace Broker.Cli.Pipeline;

/// <summary>One catalogue of the demo set: its name in the crossmatch settings, its index file, rows, and whether this call built it.</summary>
/// <param name="Name">The catalogue's name (<c>Crossmatch:Catalogs:N:Name</c>).</param>
/// <param name="Path">The index file.</param>
/// <param name="Rows">Rows in the file.</param>
/// <param name="Built">True when this call built (or rebuilt) the file; false when it was reused.</param>
public sealed record DemoCatalog(string Name, string Path, long Rows, bool Built);

/// <summary>What <see cref="DemoCatalogs.Ensure"/> found or built.</summary>
/// <param name="Catalogs">The catalogues, in the order of their settings' indices.</param>
/// <param name="Settings">The crossmatch stage's catalogue settings as <c>Section:Key</c> pairs (<c>Crossmatch:Catalogs:N:...</c>).</param>
/// <param name="Warnings">Catalogues left out and why (kstars-data not installed).</param>
public sealed record DemoCatalogSet(IReadOnlyList<DemoCatalog> Catalogs, IReadOnlyDictionary<string, string?> Settings, IReadOnlyList<string> Warnings);

/// <summary>
/// The demo's crossmatch catalogues (issue 11, item 4), built on first use into a cache folder and reused after:
/// KStars' star list and OpenNGC from Debian's kstars-data, and the simulator's sky for the demo's simulation
/// settings as two files, its stars and its galaxies (with quasars), so each can be matched at its own radius.
/// </summary>
/// <remarks>
/// <para><b>Freshness:</b> each index records in its header's <c>release</c> a digest of what it was built from (<see cref="Stamp"/>): the
/// source files' full paths, sizes and modification times (kstars-data), or the simulation options that shape the
/// populations and the simulator assembly's module version id (a new simulator build may draw other populations;
/// .NET builds are deterministic, so the id changes only when the simulator's code does). A file whose stamp differs,
/// or that does not open as an index, is rebuilt.</para>
/// <para><b>Two commands at once:</b> the whole check-and-build holds an exclusive lock on <c>FOLDER/.lock</c>
/// (<see cref="FileShare.None"/>, which .NET takes as an advisory <c>flock</c> on Linux, as the <c>./broker</c> script
/// does for its build), so a second command waits and then finds the files fresh. Each file is built under a
/// temporary name and renamed over the old one, so a reader never sees half a file, and a command that already
/// has the old file mapped keeps reading it.</para>
/// </remarks>
public static class DemoCatalogs
{
    /// <summary>Bumped when what the demo catalogues hold changes (columns, rows): every file is rebuilt.</summary>
    private const int SetVersion = 1;

    /// <summary>The KStars star list's name and file.</summary>
    public const string KStarsStars = "kstars-stars";

    /// <summary>OpenNGC's name and file.</summary>
    public const string OpenNgc = "openngc";

    /// <summary>The simulator's stars' name and file.</summary>
    public const string SimulatedStars = "simulated-stars";

    /// <summary>The simulator's galaxies' (and quasars') name and file.</summary>
    public const string SimulatedGalaxies = "simulated-galaxies";

    /// <summary>The index files' extension.</summary>
    public const string Extension = ".bcat";

    /// <summary>
    /// The cache folder: <c>$BROKER_ROOT/.cache/catalogs</c> (the repository, where <c>./broker</c> runs; git-ignored),
    /// or <c>broker-catalogs</c> under the system's temp folder outside a repository.
    /// </summary>
    public static string DefaultFolder => RepositoryPaths.Root is { } root
        ? Path.Combine(root, ".cache", "catalogs")
        : Path.Combine(Path.GetTempPath(), "broker-catalogs");

    /// <summary>
    /// What <c>broker demo</c> simulates without paths: one night of ZTF and one of Rubin, each sized for about
    /// <paramref name="alertsPerSurvey"/> alerts, with <paramref name="seed"/> (DemoCommand's options).
    /// </summary>
    public static IReadOnlyList<SimulationOptions> DemoSimulations(int alertsPerSurvey, ulong seed) =>
    [
        new SimulationOptions { Survey = SurveyKind.Ztf, Nights = 1, AlertsPerNight = alertsPerSurvey, Seed = seed },
        new SimulationOptions { Survey = SurveyKind.Lsst, Nights = 1, AlertsPerNight = alertsPerSurvey, Seed = seed },
    ];

    /// <summary>
    /// Makes sure the demo catalogues exist and are current in <paramref name="folder"/>, building what is missing or
    /// outdated, and returns the crossmatch settings for them. Without kstars-data in <paramref name="kstarsFolder"/>
    /// the star list and OpenNGC are left out with a warning (also given to <paramref name="log"/>); with no
    /// <paramref name="simulations"/> the simulated catalogues are.
    /// </summary>
    /// <param name="simulations">The simulation runs whose skies to catalogue (<see cref="DemoSimulations"/>); their rows go into one stars file and one galaxies file.</param>
    /// <param name="folder">The cache folder; <see cref="DefaultFolder"/> when null.</param>
    /// <param name="kstarsFolder">Where kstars-data's files are.</param>
    /// <param name="log">Progress lines (what is built, how many rows), and the warnings.</param>
    /// <param name="check">Given the settings the set will have before anything is built (their paths are known): throws to refuse them, so a bad setting beside them is refused before minutes of building.</param>
    /// <param name="lockTimeout">How long to wait for another command's build (default 10 minutes).</param>
    /// <param name="cancellationToken">Stops a build (between rows).</param>
    /// <exception cref="CatalogFormatException">A kstars-data file is present but unreadable.</exception>
    /// <exception cref="TimeoutException">Another command held the lock for longer than <paramref name="lockTimeout"/>.</exception>
    public static DemoCatalogSet Ensure(IReadOnlyList<SimulationOptions> simulations, string? folder = null, string kstarsFolder = KStarsCatalogs.DefaultFolder,
        Action<string>? log = null, Action<IReadOnlyDictionary<string, string?>>? check = null, TimeSpan? lockTimeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(simulations);
        ArgumentNullException.ThrowIfNull(kstarsFolder);
        folder = Path.GetFullPath(folder ?? DefaultFolder);
        Directory.CreateDirectory(folder);
        var warnings = new List<string>();
        var plans = new List<Plan>();
        string stars = Path.Combine(kstarsFolder, "namedstars.dat"), unnamed = Path.Combine(kstarsFolder, "unnamedstars.dat"), ngc = Path.Combine(kstarsFolder, "OpenNGC.kscat");
        if (Missing(stars, unnamed) is { } noStars) warnings.Add($"{noStars} not found: the demo crossmatches without KStars' star list (install the Debian package kstars-data)");
        else plans.Add(KStarsStarList(kstarsFolder, stars, unnamed));
        if (Missing(ngc) is { } noNgc) warnings.Add($"{noNgc} not found: the demo crossmatches without OpenNGC (install the Debian package kstars-data)");
        else plans.Add(OpenNgcPlan(ngc));
        if (simulations.Count > 0)
        {
            plans.Add(Simulated(simulations, SimulatedSources.Stars));
            plans.Add(Simulated(simulations, SimulatedSources.Galaxies));
        }
        var settings = new Dictionary<string, string?>();
        for (int n = 0; n < plans.Count; n++) plans[n].Settings(settings, $"Crossmatch:Catalogs:{n}:", PathOf(plans[n], folder));
        check?.Invoke(settings);
        foreach (var w in warnings) log?.Invoke("warning: " + w);

        var catalogs = new List<DemoCatalog>();
        using (Lock(Path.Combine(folder, ".lock"), lockTimeout ?? TimeSpan.FromMinutes(10), cancellationToken))
        {
            foreach (var plan in plans) catalogs.Add(EnsureOne(plan, folder, log, cancellationToken));
        }
        return new DemoCatalogSet(catalogs, settings, warnings);
    }

    /// <summary>What one catalogue is built from, the stamp that says so, and its crossmatch settings.</summary>
    private sealed record Plan(string Name, string Stamp, CatalogColumns Columns, string Source, Func<IEnumerable<CatalogRow>> Rows, Action<Dictionary<string, string?>, string, string> Settings);

    private static Plan KStarsStarList(string folder, string named, string unnamed) => new(
        KStarsStars, Stamp(FileStamp(named), FileStamp(unnamed)),
        KStarsCatalogs.StarColumns,
        folder, () => KStarsCatalogs.ReadStars(folder),
        // Hipparcos/Tycho stars to magnitude ~8, epoch J1991.25 with their proper motions: 1.5" takes the alert's
        // astrometric error (ZTF ~0.1-0.3", Masci et al. 2019) and most stars' motion since 1991 (under 45 mas/yr
        // for 34 years). Faster stars need the proper motion applied, which the file carries.
        (s, p, path) => Entry(s, p, path, KStarsStars, 1.5, "nearest", ["magnitude", "bv_index", "spectral_type"], type: "star"));

    private static Plan OpenNgcPlan(string path) => new(
        OpenNgc, Stamp(FileStamp(path)),
        KStarsCatalogs.OpenNgcColumns,
        path, () => KStarsCatalogs.ReadOpenNgc(path),
        // Extended objects given by their centres: an alert inside a galaxy, cluster or nebula can lie arcminutes
        // from the centre. 60" keeps the small ones (most of OpenNGC's galaxies are under 2' across) without
        // listing every alert in M31's disc; all of them, since objects overlap (galaxy pairs, clusters in nebulae).
        (s, p, file) => Entry(s, p, file, OpenNgc, 60, "all", ["name", "type_name", "magnitude", "major_axis_arcmin"], typeColumn: "type_name"));

    private static Plan Simulated(IReadOnlyList<SimulationOptions> simulations, SimulatedSources sources)
    {
        bool stars = sources == SimulatedSources.Stars;
        string name = stars ? SimulatedStars : SimulatedGalaxies;
        var module = typeof(SimulatedSkyCatalog).Assembly.ManifestModule.ModuleVersionId.ToString("N");
        var parts = simulations.Select(o => SimulationSkyOptions.Describe(o)).Append("simulator " + module).ToArray();
        return new Plan(name, Stamp(parts), SimulatedSkyCatalog.Columns, string.Join(" + ", simulations.Select(o => o.Survey.ToString().ToLowerInvariant())),
            () => simulations.SelectMany(o => SimulatedSkyCatalog.Rows(o, sources)),
            stars
                // The simulated stars sit exactly where their alerts are, but for astrometric noise (σ = FWHM / (2.35 S/N),
                // under 0.4" at S/N 5 in 2" seeing): 1.5" as for real stars.
                ? (s, p, path) => Entry(s, p, path, SimulatedStars, 1.5, "nearest", ["mag", "class"], typeColumn: "type")
                // A supernova lies up to a few host radii from its host's centre (offsets drawn with σ = 0.8 × half-light
                // radius, radii up to 8"): the nearest galaxy within 30" is the host in all but crowded fields.
                : (s, p, path) => Entry(s, p, path, SimulatedGalaxies, 30, "nearest", ["mag", "radius_arcsec", "class"], typeColumn: "type", redshiftColumn: "redshift"));
    }

    private static void Entry(Dictionary<string, string?> s, string prefix, string path, string name, double radius, string match, string[] columns,
        string? type = null, string? typeColumn = null, string? redshiftColumn = null)
    {
        s[prefix + "Path"] = path;
        s[prefix + "Name"] = name;
        s[prefix + "RadiusArcsec"] = radius.ToString("R", CultureInfo.InvariantCulture);
        s[prefix + "Match"] = match;
        for (int m = 0; m < columns.Length; m++) s[prefix + "Columns:" + m.ToString(CultureInfo.InvariantCulture)] = columns[m];
        if (type is not null) s[prefix + "Type"] = type;
        if (typeColumn is not null) s[prefix + "TypeColumn"] = typeColumn;
        if (redshiftColumn is not null) s[prefix + "RedshiftColumn"] = redshiftColumn;
    }

    private static DemoCatalog EnsureOne(Plan plan, string folder, Action<string>? log, CancellationToken cancellationToken)
    {
        string path = PathOf(plan, folder);
        if (Current(path, plan) is { } rows) return new DemoCatalog(plan.Name, path, rows, Built: false);
        string temp = Path.Combine(folder, $".{plan.Name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            log?.Invoke($"building the {plan.Name} catalogue from {plan.Source} into {path}");
            var result = CatalogIndexBuilder.Build(Cancellable(plan.Rows(), cancellationToken), plan.Columns, plan.Source, temp,
                new CatalogIndexBuildOptions { Name = plan.Name, Release = plan.Stamp });
            File.Move(temp, path, overwrite: true);
            log?.Invoke(FormattableString.Invariant($"{plan.Name}: {result.Rows} rows"));
            return new DemoCatalog(plan.Name, path, result.Rows, Built: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static string PathOf(Plan plan, string folder) => Path.Combine(folder, plan.Name + Extension);

    /// <summary>The rows of the file when it is an index built from what the plan says now, else null.</summary>
    private static long? Current(string path, Plan plan)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var index = CatalogIndex.Open(path);
            return index.Header.Name == plan.Name && index.Header.Release == plan.Stamp ? index.Header.Rows : null;
        }
        catch (CatalogFormatException)
        {
            return null;
        }
    }

    private static IEnumerable<CatalogRow> Cancellable(IEnumerable<CatalogRow> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return row;
        }
    }

    private static string? Missing(params string[] files) => files.FirstOrDefault(f => !File.Exists(f));

    private static string FileStamp(string path)
    {
        var info = new FileInfo(path);
        return string.Create(CultureInfo.InvariantCulture, $"{info.FullName} {info.Length} bytes {info.LastWriteTimeUtc:O}");
    }

    /// <summary>
    /// The release recorded in a demo index: the set's version and a digest of what it was built from (the parts),
    /// short enough to read in every crossmatch entry (<c>demo-1-3fa2c18e90b1</c>) yet changing with any source.
    /// </summary>
    private static string Stamp(params string[] parts)
    {
        var digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", parts)));
        return $"demo-{SetVersion}-{Convert.ToHexStringLower(digest)[..12]}";
    }

    /// <summary>Opens <paramref name="path"/> exclusively, retrying while another process (or thread) holds it.</summary>
    private static FileStream Lock(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
                cancellationToken.ThrowIfCancellationRequested();
            }
            catch (IOException e)
            {
                throw new TimeoutException($"{path}: another command has been building the demo catalogues for over {timeout.TotalMinutes:F0} minutes", e);
            }
        }
    }
}
