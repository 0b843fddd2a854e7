using System.Globalization;
using Broker.Alerts.Model;
using Broker.Sky;
using Broker.Sky.Orbits;
using Broker.StepHost;
using Microsoft.Extensions.Logging;

namespace Broker.Sso;

/// <summary>
/// Broker alert records to the same records with their known solar-system object (issue 12, item 4): Broker's own
/// association (<see cref="SolarSystemIndex"/> screens every orbit of the configured files; the few candidates are
/// refined with the accurate ephemeris and the nearest within the final radius is kept), compared with the survey's
/// (ZTF <c>candidate.ssnamenr</c>/<c>ssdistnr</c>; Rubin <c>ssSource.designation</c>/<c>ephRa</c>/<c>ephDec</c>), and
/// for an alert with neither, whether it looks like a new moving object (<see cref="Alert.NewMover"/>). A Rubin
/// alert's own orbit (<c>mpc_orbits</c>) is refined as one more candidate. An alert whose position or time is not
/// a number is a dead letter naming it.
/// </summary>
/// <remarks>
/// The index of a night is built when the first alert of the night arrives, for the survey's observatory
/// (<see cref="SsoOptions.Observatories"/>), over [t − <see cref="SsoOptions.WindowBeforeHours"/>, t +
/// <see cref="SsoOptions.WindowAfterHours"/>]; an alert outside it builds the next. The newest two per observatory
/// are kept. The hosts run one batch at a time; an overlapping call waits for the index lock.
/// </remarks>
public sealed class SsoStep : IStep<Alert, Alert>, IStepStartup
{
    private readonly SsoOptions _options;
    private readonly ILogger? _log;
    private readonly TimeProvider _clock;
    private readonly Func<SsoOrbitFileOptions, int, Action<string>, IReadOnlyList<SolarSystemOrbit>> _load;
    private readonly Dictionary<string, List<SolarSystemIndex>> _indexes = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private SolarSystemCatalog? _catalog;
    private readonly Dictionary<int, NBodyMotion> _integrated = [];
    private (string Code, double MjdTai, ObserverState Observer, (double X, double Y, double Z) Site)? _lastObserver;
    private NBodyOptions? _nBodyOptions;

    /// <summary>The step's name in headers, dead letters and metrics.</summary>
    public const string StepName = "sso";

    /// <summary>What the step reads: crossmatch's output.</summary>
    public const string InputTopic = "broker.xmatched";

    /// <summary>What the step writes.</summary>
    public const string OutputTopic = "broker.sso";

    /// <summary>The source named for Broker's own association.</summary>
    public const string BrokerSource = "broker";

    /// <summary>The source named for an association only the survey made.</summary>
    public const string SurveySource = "survey";

    /// <summary>The solar-system stage's entry in the stage registry (docs/stages.md).</summary>
    public static StageDefinition<Alert, Alert, SsoOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Associates each alert with a known asteroid or comet by Broker's own ephemerides (every orbit screened on a nightly HEALPix index, candidates refined), says whether the survey agrees, and flags candidate new moving objects.",
        Input = InputTopic,
        Outputs = [new TopicDefinition(OutputTopic, "Broker alert record as on `broker.xmatched`, with `solarSystem` and `newMover` set (docs/sso.md)")],
        Needs = StageNeeds.Catalogues,
        Section = SsoOptions.Section,
        InputCodec = AlertMessageCodec.Instance,
        OutputCodec = AlertMessageCodec.Instance,
        Factory = (options, context) => new SsoStep(options, context.Loggers.CreateLogger<SsoStep>()),
    };

    /// <summary>The version the step writes into each alert's <c>stageVersions</c>.</summary>
    public static string StageVersion { get; } = BrokerBuild.VersionOf(typeof(SsoStep).Assembly);

    /// <summary>Creates the step; the orbit files are read by <see cref="StartAsync"/>.</summary>
    /// <param name="options">Its settings.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="clock">The clock for the stage time each output records.</param>
    public SsoStep(SsoOptions options, ILogger<SsoStep>? logger = null, TimeProvider? clock = null)
        : this(options, logger, clock, SsoOrbitFiles.Load)
    {
    }

    /// <summary>A step over orbits already read (tests, benchmarks): <see cref="StartAsync"/> reads no file.</summary>
    internal SsoStep(SsoOptions options, SolarSystemCatalog catalog, TimeProvider? clock = null)
        : this(options, null, clock, (_, _, _) => [])
    {
        _catalog = catalog;
    }

    private SsoStep(SsoOptions options, ILogger? logger, TimeProvider? clock, Func<SsoOrbitFileOptions, int, Action<string>, IReadOnlyList<SolarSystemOrbit>> load)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = logger;
        _clock = clock ?? TimeProvider.System;
        _load = load;
    }

    /// <inheritdoc />
    public string Name => StepName;

    /// <summary>The orbits screened (after <see cref="StartAsync"/>).</summary>
    public SolarSystemCatalog Catalog => _catalog ?? SolarSystemCatalog.Empty;

    /// <summary>Reads every orbit file; a bad row is logged in one line and skipped, a missing file refused.</summary>
    /// <exception cref="StepHostConfigurationException">A file is missing or unreadable: one line naming its entry.</exception>
    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _options.Validate();
        if (_catalog is not null) return ValueTask.CompletedTask;
        var all = new List<SolarSystemOrbit>();
        for (int i = 0; i < _options.Orbits.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = _options.Orbits[i];
            int rejected = 0;
            var orbits = _load(entry, i, line =>
            {
                if (rejected++ < 20) _log?.LogWarning("{Entry}: {Problem}", entry.Describe(i), line);
            });
            all.AddRange(orbits);
            _log?.LogInformation("Orbits {Entry}: {Count} read, {Rejected} rejected", entry.Describe(i), orbits.Count, rejected);
        }
        _catalog = SolarSystemCatalog.Create(all);
        if (_catalog.Unusable > 0) _log?.LogWarning("{Unusable} orbits have no finite state at their epoch and are never matched", _catalog.Unusable);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <exception cref="StepException">Fatal: the step was not started.</exception>
    public ValueTask<IReadOnlyList<StepResult<Alert>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        if (_catalog is null) throw new StepException(FailureKind.Fatal, "the sso step was not started: its orbits are read by StartAsync");
        var results = new StepResult<Alert>[batch.Count];
        var finished = _clock.GetUtcNow();
        var found = new List<IndexCandidate>(16);
        lock (_gate)
        {
            for (int i = 0; i < results.Length; i++) results[i] = One(batch[i], found, finished);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<Alert>>>(results);
    }

    private StepResult<Alert> One(Alert alert, List<IndexCandidate> found, DateTimeOffset finished)
    {
        if (alert.PositionProblem() is { } problem) return StepResult<Alert>.DeadLetter($"invalid position: alert {alert.AlertId}: {problem}");
        if (!double.IsFinite(alert.MjdTai)) return StepResult<Alert>.DeadLetter($"invalid time: alert {alert.AlertId}: mjdTai {SsoOptions.Format(alert.MjdTai)} is not a number");
        var (association, orbit) = Associate(alert, found);
        var survey = SurveyAssociation.Of(alert);
        SolarSystemAssociation? result = Combine(association, orbit, survey);
        NewMoverCandidate? mover = result is null ? NewMover(alert) : null;
        var output = alert with { SolarSystem = result, NewMover = mover };
        return StepResult<Alert>.Emit(output.WithStage(StepName, StageVersion, finished));
    }

    /// <summary>Broker's association and the orbit it came from: the nearest refined candidate within its final radius, or nulls.</summary>
    internal (SolarSystemAssociation? Association, SolarSystemOrbit? Orbit) Associate(Alert alert, List<IndexCandidate> found)
    {
        string survey = SurveyName(alert.Survey);
        var observatory = Observatory.Find(_options.ObservatoryCode(survey));
        double utc = TimeScales.MjdTaiToMjdUtc(alert.MjdTai);
        double tdb = TimeScales.MjdUtcToMjdTdb(utc);
        var (observer, site) = ObserverAt(observatory, alert.MjdTai, utc);
        var final = _options.FinalRadius(survey);
        (SolarSystemAssociation? Association, SolarSystemOrbit? Orbit) best = (null, null);
        var catalog = Catalog;
        if (catalog.Count > 0)
        {
            var index = IndexFor(observatory, tdb);
            found.Clear();
            index.Candidates(alert.Ra, alert.Dec, tdb, site, found);
            foreach (var c in found)
            {
                var orbit = catalog.Orbits[c.Orbit];
                Consider(alert, orbit, catalog.Classes[c.Orbit], Motion(c.Orbit), _options.NBody, observer, final, ref best);
            }
        }
        if (SsoOrbitFiles.FromAlert(alert) is { } own)
        {
            // The survey's own orbit for the object: refined like any other candidate.
            IHeliocentricMotion motion = _options.NBody ? new NBodyMotion(own.Elements, NBodyOptions()) : new TwoBodyMotion(own.Elements);
            Consider(alert, own, SolarSystemCatalog.ClassOf(own.Elements), motion, _options.NBody, observer, final, ref best);
        }
        return best;
    }

    private static void Consider(Alert alert, SolarSystemOrbit orbit, OrbitClass orbitClass, IHeliocentricMotion motion, bool nBody,
        in ObserverState observer, AssociationRadius final, ref (SolarSystemAssociation? Association, SolarSystemOrbit? Orbit) best)
    {
        Ephemeris p;
        try
        {
            p = Ephemerides.Observe(motion, observer);
        }
        catch (ArithmeticException)
        {
            return;
        }
        double separation = Coordinates.SeparationDeg(alert.Ra, alert.Dec, p.RaDeg, p.DecDeg) * 3600;
        if (!(separation <= final.For(orbitClass, observer.MjdTdb - orbit.Elements.EpochMjdTdb))) return;
        if (best.Association is { } known && known.DistanceArcsec <= separation) return;
        double v = double.IsFinite(orbit.H) ? p.VMagnitude(orbit.H, orbit.G) : double.NaN;
        best = (new SolarSystemAssociation
        {
            Designation = orbit.Designation,
            DistanceArcsec = separation,
            PredictedMag = double.IsFinite(v) ? v : null,
            Source = BrokerSource,
            PredictedRa = p.RaDeg,
            PredictedDec = p.DecDeg,
            RaRateArcsecPerHour = double.IsFinite(p.RaRateArcsecPerHour) ? p.RaRateArcsecPerHour : null,
            DecRateArcsecPerHour = double.IsFinite(p.DecRateArcsecPerHour) ? p.DecRateArcsecPerHour : null,
            // Named only for the nearest so far, not for every candidate screened.
            EphemerisSource = $"{orbit.Source} {(nBody ? "N-body" : "two-body")}",
            EphemerisEpochMjdTdb = orbit.Elements.EpochMjdTdb,
        }, orbit);
    }

    /// <summary>
    /// The observer's state and the site's geocentric vector at an alert's time, kept for the next alert: a survey's
    /// alerts come an exposure at a time (hundreds to thousands at one time), and the site's rotation matrix (ERFA's
    /// IAU 2006/2000A <c>eraC2t06a</c>) is the costliest part of one alert.
    /// </summary>
    private (ObserverState Observer, (double X, double Y, double Z) Site) ObserverAt(Observatory observatory, double mjdTai, double utc)
    {
        if (_lastObserver is { } last && last.Code == observatory.Code && last.MjdTai == mjdTai) return (last.Observer, last.Site);
        var observer = Ephemerides.Observer(observatory, utc);
        var earth = Ephemerides.EarthState(observer.MjdTdb);
        var site = (observer.X - earth.X, observer.Y - earth.Y, observer.Z - earth.Z);
        _lastObserver = (observatory.Code, mjdTai, observer, site);
        return (observer, site);
    }

    private SolarSystemIndex IndexFor(Observatory observatory, double tdb)
    {
        if (!_indexes.TryGetValue(observatory.Code, out var kept)) _indexes[observatory.Code] = kept = [];
        foreach (var known in kept)
            if (known.Covers(tdb)) return known;
        double start = tdb - _options.WindowBeforeHours / 24, end = tdb + _options.WindowAfterHours / 24;
        // The screen radius is the same model for every survey but its base; the largest base screens for all.
        var screen = _options.ScreenRadius(LargestBaseSurvey());
        var index = SolarSystemIndex.Build(Catalog, start, end, EarthEphemeris.HeliocentricEquatorial, screen, _options.GridStepHours / 24);
        _log?.LogInformation("Solar-system index for {Observatory} over MJD TDB {Start:F3} to {End:F3}: {Orbits} orbits, order {Order}, {Entries} entries, {Wide} wide",
            observatory.Code, index.StartMjdTdb, index.EndMjdTdb, Catalog.Count, index.Order, index.Entries, index.WideCount);
        // The newest two per observatory: a replay that alternates between two nights builds each once.
        if (kept.Count == KeptIndexes) kept.RemoveAt(0);
        kept.Add(index);
        return index;
    }

    private string LargestBaseSurvey()
    {
        string best = "UNKNOWN";
        foreach (var survey in new[] { "ZTF", "LSST", "UNKNOWN" })
            if (_options.BaseRadius(survey) > _options.BaseRadius(best)) best = survey;
        return best;
    }

    /// <summary>Broker's association combined with the survey's: who agrees with whom (schema 1.3's agreement).</summary>
    /// <param name="broker">Broker's association, or null.</param>
    /// <param name="orbit">The orbit Broker's association came from (its full name carries designations a survey may write instead); null with <paramref name="broker"/>.</param>
    /// <param name="survey">The survey's, or null.</param>
    internal static SolarSystemAssociation? Combine(SolarSystemAssociation? broker, SolarSystemOrbit? orbit, SurveyAssociation? survey)
    {
        if (broker is null && survey is null) return null;
        if (broker is null)
        {
            var s = survey!;
            return new SolarSystemAssociation
            {
                Designation = s.Designation,
                DistanceArcsec = s.DistanceArcsec ?? double.NaN,
                Source = SurveySource,
                PredictedRa = s.PredictedRa,
                PredictedDec = s.PredictedDec,
                EphemerisSource = s.PredictedRa is null ? "" : SurveySource,
                SurveyDesignation = s.Designation,
                SurveyDistanceArcsec = s.DistanceArcsec,
                Agreement = SolarSystemAssociation.SurveyOnly,
            };
        }
        if (survey is null || orbit is null) return broker with { Agreement = SolarSystemAssociation.BrokerOnly };
        bool same = Designations.SameObject(orbit, survey.Designation);
        return broker with
        {
            SurveyDesignation = survey.Designation,
            SurveyDistanceArcsec = survey.DistanceArcsec,
            Agreement = same ? SolarSystemAssociation.Agree : SolarSystemAssociation.Disagree,
        };
    }

    /// <summary>
    /// Whether an alert without any known object looks like a new mover, and why: brighter than its template, a
    /// survey real-bogus score of at least <see cref="SsoOptions.MoverRealBogus"/> when it gives one, no
    /// earlier detection at its position (the survey's count, ZTF <c>ndethist</c> or Rubin <c>nDiaSources</c>, at
    /// most 1, and none in its history within <see cref="SsoOptions.MoverHistoryRadiusArcsec"/>), no catalogue
    /// counterpart (star, galaxy or anything else the crossmatch stage found), and, when a stamp classifier gave an
    /// asteroid probability, at least <see cref="SsoOptions.MoverStampScore"/>. A real transient on a faint host
    /// passes these too: this is a candidate flag for follow-up (a second detection elsewhere), not a classification.
    /// </summary>
    internal NewMoverCandidate? NewMover(Alert alert)
    {
        if (!alert.IsPositive) return null;
        // A detection the survey itself scores as bogus (ZTF drb, Rubin reliability) is not a mover either.
        if (alert.RealBogus is { } rb && rb < _options.MoverRealBogus) return null;
        if (alert.Crossmatches.Count > 0) return null;
        // The survey's own count of detections at this position, this one included (ZTF ndethist: within 1.5";
        // Rubin diaObject.nDiaSources): a history there means a fixed source, whatever the history sent along.
        if (SurveyCount(alert, alert.Survey == Survey.Ztf ? "candidate.ndethist" : "diaObject.nDiaSources") is > 1) return null;
        double radius = _options.MoverHistoryRadiusArcsec;
        foreach (var d in alert.Detections)
        {
            if (d.AlertId == alert.AlertId || d.Ra is not { } ra || d.Dec is not { } dec) continue;
            if (Coordinates.SeparationDeg(alert.Ra, alert.Dec, ra, dec) * 3600 <= radius) return null;
        }
        string stamp = "";
        foreach (var c in alert.Classifications)
        {
            if (!c.Probabilities.TryGetValue("asteroid", out double p) && !c.Probabilities.TryGetValue("Asteroid", out p)) continue;
            if (p < _options.MoverStampScore) return null;
            stamp = FormattableString.Invariant($"; {c.Classifier} asteroid score {p:F2}");
        }
        string history = alert.Detections.Count == 0 ? "no earlier detection" : FormattableString.Invariant($"no earlier detection within {radius:G}\"");
        return new NewMoverCandidate(FormattableString.Invariant($"no known orbit matches; {history}; no catalogue counterpart{stamp}"));
    }

    private static long? SurveyCount(Alert alert, string field) => alert.SurveyFields.GetValueOrDefault(field) switch
    {
        long n => n,
        double d when double.IsFinite(d) => (long)d,
        _ => null,
    };

    private static string SurveyName(Survey survey) => survey switch
    {
        Survey.Ztf => "ZTF",
        Survey.Lsst => "LSST",
        _ => "UNKNOWN",
    };

    /// <summary>
    /// The motion a candidate is refined with: two-body, or with <see cref="SsoOptions.NBody"/> the N-body
    /// integration, kept per orbit so that the integration from the epoch to the night is done once, not per alert
    /// (bounded: beyond <see cref="MaxIntegrations"/> orbits the table starts again).
    /// </summary>
    private IHeliocentricMotion Motion(int orbit)
    {
        var state = Catalog.EpochStates[orbit];
        if (!_options.NBody) return new TwoBodyMotion(state);
        if (_integrated.TryGetValue(orbit, out var known)) return known;
        if (_integrated.Count >= MaxIntegrations) _integrated.Clear();
        var motion = new NBodyMotion(state, NBodyOptions());
        _integrated[orbit] = motion;
        return motion;
    }

    /// <summary>The integrations' settings: the defaults, with the planets' positions kept in <see cref="SsoOptions.PlanetCacheFolder"/> when it is set.</summary>
    private NBodyOptions NBodyOptions() => _nBodyOptions ??= string.IsNullOrWhiteSpace(_options.PlanetCacheFolder)
        ? new NBodyOptions()
        : new NBodyOptions(Planets: PlanetPositions.Cached(_options.PlanetCacheFolder));

    /// <summary>How many nightly indexes are kept per observatory.</summary>
    private const int KeptIndexes = 2;

    /// <summary>How many orbits' N-body integrations are kept.</summary>
    private const int MaxIntegrations = 20_000;
}

/// <summary>What the survey itself associated an alert with.</summary>
/// <param name="Designation">The survey's designation (ZTF <c>ssnamenr</c>, Rubin <c>ssSource.designation</c>).</param>
/// <param name="DistanceArcsec">Its distance from the alert, arcseconds (ZTF <c>ssdistnr</c>; Rubin: from <c>ephRa</c>/<c>ephDec</c>).</param>
/// <param name="PredictedRa">Rubin's predicted RA, degrees.</param>
/// <param name="PredictedDec">Rubin's predicted Dec, degrees.</param>
internal sealed record SurveyAssociation(string Designation, double? DistanceArcsec, double? PredictedRa, double? PredictedDec)
{
    /// <summary>The survey's association of an alert, or null (ZTF writes the string "null" and −999 for none).</summary>
    public static SurveyAssociation? Of(Alert alert)
    {
        var f = alert.SurveyFields;
        if (f.TryGetValue("candidate.ssnamenr", out var z) && z is string ztf && ztf.Length > 0 && !ztf.Equals("null", StringComparison.OrdinalIgnoreCase))
        {
            double? d = f.TryGetValue("candidate.ssdistnr", out var dist) && Number(dist) is { } x && x >= 0 ? x : null;
            return new SurveyAssociation(ztf.Trim(), d, null, null);
        }
        if (f.TryGetValue("ssSource.designation", out var r) && r is string rubin && rubin.Length > 0)
        {
            double? ra = Number(f.GetValueOrDefault("ssSource.ephRa")), dec = Number(f.GetValueOrDefault("ssSource.ephDec"));
            double? d = ra is { } a && dec is { } b ? Coordinates.SeparationDeg(alert.Ra, alert.Dec, a, b) * 3600 : null;
            return new SurveyAssociation(rubin.Trim(), d, ra, dec);
        }
        return null;
    }

    private static double? Number(object? value) => value switch
    {
        double d when double.IsFinite(d) => d,
        long l => l,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) => p,
        _ => null,
    };
}
