using System.Runtime.InteropServices;
using System.Text;
using Broker.Alerts.Model;
using Broker.Catalogs.Index;
using Broker.Sky;
using Broker.StepHost;
using Microsoft.Extensions.Logging;
// The namespace Broker.Crossmatch hides the record's short name here.
using AlertCrossmatch = Broker.Alerts.Model.Crossmatch;

namespace Broker.Crossmatch;

/// <summary>
/// Broker alert records to the same records with their catalogue counterparts: per alert and per configured catalogue
/// (<see cref="CrossmatchOptions.Catalogs"/>, in order), the nearest row, the K nearest or every row within the
/// catalogue's radius, each as a <see cref="Broker.Alerts.Model.Crossmatch"/> entry (name, release, id, position, distance, radius, type,
/// chosen columns, and from a redshift column the redshift and the physical offset in kpc), and the alert's Galactic
/// context (l, b, inside the plane or not: <see cref="Alert.Galactic"/>). An alert with no counterpart in a catalogue
/// gets no entry from it. An alert whose position is not
/// a position (NaN, out of range) is a dead letter naming the alert; the stream goes on. Each output records this
/// stage's time and version (<see cref="Alert.WithStage(string, string, DateTimeOffset)"/>).
/// </summary>
/// <remarks>
/// The index files are memory-mapped once, at start-up (<see cref="StartAsync"/>), where a missing file, a file that is
/// not an index or a column it lacks is refused in one line; the step disposes them. The hosts run one batch of a
/// step at a time, so one set of searchers (<see cref="CatalogSearcher"/>, one per thread, allocation-free once warm)
/// serves every batch; a caller that runs batches concurrently gets a second set for the overlapping call rather than
/// a shared one.
/// </remarks>
public sealed class CrossmatchStep : IStep<Alert, Alert>, IStepStartup, IDisposable
{
    private readonly CrossmatchOptions _options;
    private readonly ILogger? _log;
    private readonly TimeProvider _clock;
    private CrossmatchCatalog[] _catalogs = [];
    private CrossmatchScratch? _idle;
    private bool _disposed;

    /// <summary>The step's name in headers, dead letters and metrics.</summary>
    public const string StepName = "crossmatch";

    /// <summary>What crossmatch reads: ingest's output.</summary>
    public const string InputTopic = "broker.ingested";

    /// <summary>What crossmatch writes: alert records with their counterparts.</summary>
    public const string OutputTopic = "broker.xmatched";

    /// <summary>Crossmatch's entry in the stage registry (docs/stages.md): its topics, its options section, how its step is made.</summary>
    public static StageDefinition<Alert, Alert, CrossmatchOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Adds each alert's counterparts in memory-mapped catalogue index files (nearest, k nearest or all within a radius, with chosen columns and a normalised type) and its Galactic context.",
        Input = InputTopic,
        Outputs = [new TopicDefinition(OutputTopic, "Broker alert record as on `broker.ingested`, with `crossmatches` and `galactic` set (docs/catalogs.md, \"Crossmatch stage\")")],
        Needs = StageNeeds.Catalogues,
        Section = CrossmatchOptions.Section,
        InputCodec = AlertMessageCodec.Instance,
        OutputCodec = AlertMessageCodec.Instance,
        Factory = (options, context) => new CrossmatchStep(options, context.Loggers.CreateLogger<CrossmatchStep>()),
    };

    /// <summary>The version the step writes into each alert's <c>stageVersions</c>: its assembly's informational version.</summary>
    public static string StageVersion { get; } = BrokerBuild.VersionOf(typeof(CrossmatchStep).Assembly);

    /// <summary>Creates the step; nothing is opened until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Its settings, validated (<see cref="CrossmatchOptions.Validate"/>).</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="clock">The clock for the stage time each output records (default: the system's).</param>
    public CrossmatchStep(CrossmatchOptions options, ILogger<CrossmatchStep>? logger = null, TimeProvider? clock = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = logger;
        _clock = clock ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public string Name => StepName;

    /// <summary>The catalogues' names, in configuration order (after <see cref="StartAsync"/>).</summary>
    public IReadOnlyList<string> CatalogNames => [.. _catalogs.Select(c => c.Name)];

    /// <summary>Opens every catalogue index and resolves the columns each entry names.</summary>
    /// <exception cref="StepHostConfigurationException">An entry's file is missing, unreadable or not an index, names a column the index lacks, or two entries share a name: one line naming the entry and its file.</exception>
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_catalogs.Length > 0) return ValueTask.CompletedTask;
        _options.Validate();
        var opened = new List<CrossmatchCatalog>(_options.Catalogs.Count);
        try
        {
            for (int i = 0; i < _options.Catalogs.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var catalog = CrossmatchCatalog.Open(_options.Catalogs[i], i);
                opened.Add(catalog);
                if (opened.FindIndex(c => c.Name == catalog.Name) is var first && first < i)
                    throw new StepHostConfigurationException($"invalid configuration: {_options.Catalogs[i].Describe(i)}: its name '{catalog.Name}' is {_options.Catalogs[first].Describe(first)}'s too: set Name on one of them");
                _log?.LogInformation("Catalogue {Catalog} {Release}: {Rows} rows from {Path}, within {RadiusArcsec} arcsec, {Match}",
                    catalog.Name, catalog.Release, catalog.Index.Rows, catalog.Index.Path, catalog.Options.RadiusArcsec, catalog.Options.Match);
            }
        }
        catch
        {
            foreach (var c in opened) c.Dispose();
            throw;
        }
        _catalogs = [.. opened];
        _idle = new CrossmatchScratch(_catalogs);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <exception cref="StepException">Fatal: the step was not started (<see cref="StartAsync"/>) or is disposed.</exception>
    public ValueTask<IReadOnlyList<StepResult<Alert>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        if (_disposed || _catalogs.Length == 0)
            throw new StepException(FailureKind.Fatal, _disposed ? "the crossmatch step is disposed" : "the crossmatch step was not started: its catalogues are opened by StartAsync");
        // The hosts run one batch at a time, so this is the one scratch set; an overlapping call makes its own.
        var scratch = Interlocked.Exchange(ref _idle, null) ?? new CrossmatchScratch(_catalogs);
        try
        {
            var results = new StepResult<Alert>[batch.Count];
            var finished = _clock.GetUtcNow();
            for (int i = 0; i < results.Length; i++) results[i] = One(batch[i], scratch, finished);
            return ValueTask.FromResult<IReadOnlyList<StepResult<Alert>>>(results);
        }
        finally
        {
            _idle = scratch;
        }
    }

    private StepResult<Alert> One(Alert alert, CrossmatchScratch scratch, DateTimeOffset finished)
    {
        if (alert.PositionProblem() is { } problem) return StepResult<Alert>.DeadLetter($"invalid position: alert {alert.AlertId}: {problem}");
        double? epoch = JulianEpochOf(alert.MjdTai);
        var found = scratch.Found;
        found.Clear();
        for (int c = 0; c < _catalogs.Length; c++) Match(_catalogs[c], scratch, c, alert, epoch, found);
        var (l, b) = Coordinates.EquatorialToGalactic(alert.Ra, alert.Dec);
        var matched = alert with
        {
            Crossmatches = Entries(alert.Crossmatches, found),
            Galactic = new GalacticContext(l, b, Math.Abs(b) < _options.GalacticPlaneLatitudeDeg),
        };
        return StepResult<Alert>.Emit(matched.WithStage(StepName, StageVersion, finished));
    }

    /// <summary>
    /// The alert's epoch as a Julian year, for proper motion: J2000.0 + (MJD_TT − 51544.5) / 365.25, with TT = TAI +
    /// 32.184 s: the Julian epoch of the IAU 1976 system (Lieske 1979, A&amp;A 73, 282), as astropy's <c>Time.jyear</c>
    /// computes it from TT; null when the alert's time is not a number.
    /// </summary>
    internal static double? JulianEpochOf(double mjdTai) =>
        double.IsFinite(mjdTai) ? 2000.0 + (TimeScales.MjdTaiToMjdTt(mjdTai) - 51544.5) / 365.25 : null;

    /// <summary>Appends the counterparts of <paramref name="alert"/> in <paramref name="catalog"/> to <paramref name="found"/>, by separation.</summary>
    /// <remarks>
    /// Rows with proper motions are moved to the alert's epoch before the separation is taken (CatalogSearcher's
    /// epoch overloads; docs/catalogs.md, "Proper motion"), and the entry gives the counterpart's position at that
    /// epoch: a star of a Hipparcos-epoch catalogue with 1"/yr is matched where it is, not 35" away.
    /// </remarks>
    private static void Match(CrossmatchCatalog catalog, CrossmatchScratch scratch, int c, Alert alert, double? epoch, List<AlertCrossmatch> found)
    {
        var searcher = scratch.Searchers[c];
        double radius = catalog.RadiusArcsec;
        if (catalog.Mode == CrossmatchMode.Nearest)
        {
            if (searcher.Nearest(alert.Ra, alert.Dec, radius, epoch, out var nearest)) found.Add(Counterpart(catalog, scratch, searcher, nearest, epoch));
            return;
        }
        var matches = scratch.Matches;
        matches.Clear();
        searcher.Cone(alert.Ra, alert.Dec, radius, epoch, matches);
        // The searcher returns file order; entries go by separation, ties by row, as broker xmatch writes them.
        CatalogMatch.SortBySeparation(CollectionsMarshal.AsSpan(matches));
        int n = Math.Min(matches.Count, catalog.Limit);
        for (int i = 0; i < n; i++) found.Add(Counterpart(catalog, scratch, searcher, matches[i], epoch));
    }

    private static AlertCrossmatch Counterpart(CrossmatchCatalog catalog, CrossmatchScratch scratch, CatalogSearcher searcher, CatalogMatch match, double? epoch)
    {
        int row = match.Row;
        var (ra, dec) = searcher.PositionAt(row, epoch);
        // A map nobody else holds, behind the read-only interface: the codec writes it without a copy.
        var properties = new Dictionary<string, object?>(catalog.Properties.Length, StringComparer.Ordinal);
        foreach (var column in catalog.Properties) properties[column.Column.Name] = CrossmatchCatalog.Value(column, row);
        double? z = catalog.RedshiftColumn is { } redshift ? CrossmatchCatalog.Number(redshift, row) : null;
        return new AlertCrossmatch
        {
            Catalog = catalog.Name,
            CatalogRelease = catalog.Release,
            SourceId = catalog.SourceId(row),
            Ra = ra,
            Dec = dec,
            DistanceArcsec = match.SeparationArcsec,
            MatchRadiusArcsec = catalog.RadiusArcsec,
            ObjectType = catalog.FixedType ?? (catalog.TypeColumn is { } type ? scratch.TypeOf(type.Utf8(row)) : null),
            Redshift = z,
            PhysicalOffsetKpc = z is { } known ? PhysicalOffsetKpc(match.SeparationArcsec, known) : null,
            Properties = properties,
        };
    }

    /// <summary>
    /// The transverse proper distance between the alert and a counterpart at redshift <paramref name="z"/>, kpc:
    /// θ · D_A(z), the small-angle separation times the angular-diameter distance (Hogg 1999, eq. 18) in Planck 2018
    /// cosmology (<see cref="Cosmology.Planck18"/>); null for z ≤ 0 (a blueshifted neighbour such as M31 has no
    /// Hubble-flow distance) or not finite.
    /// </summary>
    internal static double? PhysicalOffsetKpc(double separationArcsec, double z) =>
        z > 0 && double.IsFinite(z) ? separationArcsec * Cosmology.Planck18.KpcPerArcsec(z) : null;

    /// <summary>
    /// The alert's entries: those it came with from catalogues this step does not search (none from ingest; a record
    /// crossmatched again keeps one set per catalogue, not two), then this step's.
    /// </summary>
    private IReadOnlyList<AlertCrossmatch> Entries(IReadOnlyList<AlertCrossmatch> before, List<AlertCrossmatch> found)
    {
        int kept = 0;
        for (int i = 0; i < before.Count; i++) if (!Searches(before[i].Catalog)) kept++;
        if (kept + found.Count == 0) return [];
        var entries = new AlertCrossmatch[kept + found.Count];
        int at = 0;
        for (int i = 0; i < before.Count; i++) if (!Searches(before[i].Catalog)) entries[at++] = before[i];
        found.CopyTo(entries, at);
        return ImmutableCollectionsMarshal.AsImmutableArray(entries);
    }

    private bool Searches(string catalog)
    {
        foreach (var c in _catalogs) if (c.Name == catalog) return true;
        return false;
    }

    /// <summary>Closes the index files.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var c in _catalogs) c.Dispose();
        _catalogs = [];
        _idle = null;
    }
}

/// <summary>
/// What one batch at a time needs: a searcher per catalogue (a <see cref="CatalogSearcher"/> is one per thread), the
/// scratch match and entry lists, and the normalised types seen so far, so that a warm step allocates only its outputs.
/// </summary>
internal sealed class CrossmatchScratch
{
    private const int MaxTypes = 4096;
    private readonly Dictionary<string, string?> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string?>.AlternateLookup<ReadOnlySpan<char>> _typeLookup;

    public CrossmatchScratch(CrossmatchCatalog[] catalogs)
    {
        Searchers = [.. catalogs.Select(c => new CatalogSearcher(c.Index))];
        _typeLookup = _types.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>One searcher per catalogue, in configuration order.</summary>
    public CatalogSearcher[] Searchers { get; }

    /// <summary>The rows within a radius (k-nearest, all).</summary>
    public List<CatalogMatch> Matches { get; } = new(64);

    /// <summary>The entries found for one alert.</summary>
    public List<AlertCrossmatch> Found { get; } = new(16);

    /// <summary>The normalised type of a type column's value (UTF-8), one string per distinct value.</summary>
    public string? TypeOf(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty) return null;
        int length = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        Span<char> chars = length <= 256 ? stackalloc char[length] : new char[length];
        chars = chars[..Encoding.UTF8.GetChars(utf8, chars)];
        if (_typeLookup.TryGetValue(chars, out var known)) return known;
        string? type = ObjectTypes.Normalise(chars);
        // Bounded: a column of free text would otherwise grow the table with every distinct value.
        if (_types.Count < MaxTypes) _typeLookup[chars] = type;
        return type;
    }
}
