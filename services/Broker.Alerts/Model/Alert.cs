using System.Globalization;
using System.Collections.Immutable;

namespace Broker.Alerts.Model;

/// <summary>The survey that issued an alert.</summary>
public enum Survey { Ztf, Lsst, Unknown }

/// <summary>
/// One survey detection in Broker's survey-neutral form (schemas/broker/broker.alert.v1.3.avsc), plus what later
/// stages add. Units: degrees (ICRS) for positions, MJD TAI for times, nJy for fluxes, AB magnitudes.
/// </summary>
/// <remarks>
/// <para>
/// An alert is immutable: every property is init-only and every collection read-only, and a stage that adds
/// something returns a new alert (<c>alert with { Crossmatches = [.. alert.Crossmatches, match] }</c>, or the
/// helpers <see cref="WithCrossmatch"/>, <see cref="WithClassification"/>, <see cref="WithStage(string, string, DateTimeOffset)"/> ...), leaving
/// its input as it was. This is issue 10's choice for enrichment that is safe under retries: the step runner
/// re-runs the same input objects when it retries a batch after a transient failure and when it re-runs a batch
/// one alert at a time to find a bad one, so an alert that a failed attempt had appended to would reach the next
/// attempt with the entry already there, and leave with it twice. With immutable alerts every attempt starts
/// from the unchanged input and what a failed attempt built is simply dropped. The other design (a step returns
/// its additions and the host applies them) would need a host that knows the alert's shape; this one keeps the
/// host generic and the rule local: never mutate an input.
/// </para>
/// <para>
/// The collections the codec and the survey mapper build are immutable arrays behind
/// <see cref="IReadOnlyList{T}"/>; the maps are read-only views of maps nobody else holds. A collection
/// expression (<c>[.. list, item]</c>) assigned to one of these properties makes a new read-only list.
/// </para>
/// </remarks>
public sealed record Alert
{
    /// <summary>The issuing survey.</summary>
    public Survey Survey { get; init; }

    /// <summary>The survey's alert schema version (ZTF <c>schemavsn</c>; Rubin <c>lsst.vX_Y</c> as <c>X.Y</c>).</summary>
    public string SurveySchemaVersion { get; init; } = "";

    /// <summary>Unique detection id: ZTF <c>candid</c>, Rubin <c>diaSourceId</c>. The Kafka key.</summary>
    public long AlertId { get; init; }

    /// <summary>The survey's object id (ZTF <c>objectId</c>, Rubin <c>diaObjectId</c> or <c>ssObjectId</c>).</summary>
    public string ObjectId { get; init; } = "";

    /// <summary>Right ascension, degrees ICRS.</summary>
    public double Ra { get; init; }

    /// <summary>Declination, degrees ICRS.</summary>
    public double Dec { get; init; }

    /// <summary>Uncertainty of <see cref="Ra"/>, degrees, when the survey gives one.</summary>
    public double? RaErr { get; init; }

    /// <summary>Uncertainty of <see cref="Dec"/>, degrees, when the survey gives one.</summary>
    public double? DecErr { get; init; }

    /// <summary>Detection time, MJD TAI (ZTF's UTC <c>jd</c> converted with the leap-second table).</summary>
    public double MjdTai { get; init; }

    /// <summary>Band name: g, r, i (ZTF); u, g, r, i, z, y (Rubin).</summary>
    public string Band { get; init; } = "";

    /// <summary>Difference-image PSF flux, nJy; negative when fading; NaN when the survey gave none (Rubin <c>psfFlux</c> null).</summary>
    public double Flux { get; init; }

    /// <summary>Uncertainty of <see cref="Flux"/>, nJy.</summary>
    public double FluxErr { get; init; }

    /// <summary>AB magnitude of |flux|, when defined.</summary>
    public double? Mag { get; init; }

    /// <summary>Uncertainty of <see cref="Mag"/>.</summary>
    public double? MagErr { get; init; }

    /// <summary>True when the science image is brighter than the template.</summary>
    public bool IsPositive { get; init; }

    /// <summary>The survey's real-bogus score (ZTF drb or rb; Rubin reliability).</summary>
    public double? RealBogus { get; init; }

    /// <summary>Previous detections, oldest first.</summary>
    public IReadOnlyList<Detection> Detections { get; init; } = [];

    /// <summary>Previous non-detections, oldest first.</summary>
    public IReadOnlyList<UpperLimit> UpperLimits { get; init; } = [];

    /// <summary>Forced photometry history.</summary>
    public IReadOnlyList<ForcedPoint> ForcedPhotometry { get; init; } = [];

    /// <summary>
    /// The image stamps, when the survey sent any; null when it sent none (AMPEL's archive copies, Rubin's
    /// pittgoogle samples). An alert without cutouts is valid: a stage that needs them records that it could not
    /// run (<see cref="Classification.NotClassified"/> with <see cref="Classification.NoCutouts"/>).
    /// </summary>
    public Cutouts? Cutouts { get; init; }

    /// <summary>True when all three stamps (science, template, difference) are present.</summary>
    public bool HasAllCutouts => Cutouts is { Science: not null, Template: not null, Difference: not null };

    /// <summary>
    /// Why the alert's position cannot be used on the sky (NaN, RA outside [0, 360], Dec outside [-90, 90]), or null:
    /// ingest refuses such alerts, and the stages after it check again for records another producer wrote.
    /// </summary>
    public string? PositionProblem()
    {
        if (!(Ra >= 0 && Ra <= 360)) return $"ra {Ra.ToString("R", CultureInfo.InvariantCulture)} is not in [0, 360] degrees";
        if (!(Dec >= -90 && Dec <= 90)) return $"dec {Dec.ToString("R", CultureInfo.InvariantCulture)} is not in [-90, 90] degrees";
        return null;
    }

    /// <summary>The survey's own scalar fields keyed by path (<c>candidate.sgscore1</c>, <c>diaSource.snr</c>, ...).</summary>
    public IReadOnlyDictionary<string, object?> SurveyFields { get; init; } = EmptyFields;

    /// <summary>Catalogue counterparts (crossmatch stage).</summary>
    public IReadOnlyList<Crossmatch> Crossmatches { get; init; } = [];

    /// <summary>Where the alert lies in Galactic coordinates and whether that is inside the Galactic plane (crossmatch stage); null before it (schema 1.2 on).</summary>
    public GalacticContext? Galactic { get; init; }

    /// <summary>Known solar-system object association (sso stage).</summary>
    public SolarSystemAssociation? SolarSystem { get; init; }

    /// <summary>Set by the sso stage when the alert looks like a moving object that no known orbit explains, with why (schema 1.3 on); null otherwise.</summary>
    public NewMoverCandidate? NewMover { get; init; }

    /// <summary>Classifier outputs, each naming its model; also the classifiers that could not run and why.</summary>
    public IReadOnlyList<Classification> Classifications { get; init; } = [];

    /// <summary>The user filters the alert passed, with their versions.</summary>
    public IReadOnlyList<FilterMatch> Filters { get; init; } = [];

    /// <summary>
    /// Per stage, when it finished with the alert: Unix microseconds, set by the stage's own code through
    /// <see cref="WithStage(string, string, DateTimeOffset)"/>, so the same in the Kafka services and the in-process runner. This is the source of
    /// truth for an alert's per-stage times (docs/alerts.md, "Stage times"); the host's <c>broker.time.&lt;stage&gt;</c>
    /// Kafka headers only stamp when a message was produced, for latency metrics.
    /// </summary>
    public ImmutableDictionary<string, long> StageTimes { get; init; } = ImmutableDictionary<string, long>.Empty;

    /// <summary>Per stage, the version of the stage that touched the alert (set with <see cref="StageTimes"/>).</summary>
    public ImmutableDictionary<string, string> StageVersions { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>
    /// The Broker build that wrote the record this alert was decoded from (schema 1.1 on), or null (schema 1.0, or
    /// an alert made in this process). Encoding always writes the running build (<see cref="BrokerBuild"/>).
    /// </summary>
    public BrokerBuild? WrittenBy { get; init; }

    /// <summary>A copy that records stage <paramref name="stage"/> (version <paramref name="version"/>) finishing at <paramref name="unixMicros"/>.</summary>
    public Alert WithStage(string stage, string version, long unixMicros) => this with
    {
        StageTimes = StageTimes.SetItem(stage, unixMicros),
        StageVersions = StageVersions.SetItem(stage, version),
    };

    /// <summary>A copy that records stage <paramref name="stage"/> (version <paramref name="version"/>) finishing at <paramref name="finishedAt"/>.</summary>
    public Alert WithStage(string stage, string version, DateTimeOffset finishedAt) =>
        WithStage(stage, version, (finishedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond);

    /// <summary>A copy with one more crossmatch entry.</summary>
    public Alert WithCrossmatch(Crossmatch match) => this with { Crossmatches = [.. Crossmatches, match] };

    /// <summary>A copy with one more classification (or not-classified) entry.</summary>
    public Alert WithClassification(Classification classification) => this with { Classifications = [.. Classifications, classification] };

    /// <summary>A copy with one more filter match.</summary>
    public Alert WithFilter(FilterMatch filter) => this with { Filters = [.. Filters, filter] };

    private static readonly IReadOnlyDictionary<string, object?> EmptyFields =
        new System.Collections.ObjectModel.ReadOnlyDictionary<string, object?>(new Dictionary<string, object?>(StringComparer.Ordinal));
}

/// <summary>A Broker build: the software's name and version (written into schema 1.1 records).</summary>
/// <param name="Name">The broker's name (<c>Broker</c>).</param>
/// <param name="Version">Its version (the assembly's informational version: semantic version and commit).</param>
public sealed record BrokerBuild(string Name, string Version)
{
    /// <summary>The running build.</summary>
    public static BrokerBuild Current { get; } = new("Broker", VersionOf(typeof(BrokerBuild).Assembly));

    /// <summary>The informational version of an assembly (<c>1.0.0+commit</c>), or its assembly version.</summary>
    public static string VersionOf(System.Reflection.Assembly assembly) =>
        assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false) is [System.Reflection.AssemblyInformationalVersionAttribute a, ..]
            ? a.InformationalVersion
            : assembly.GetName().Version?.ToString() ?? "0.0.0";
}

/// <summary>A previous detection of the same object.</summary>
public sealed record Detection
{
    /// <summary>Its alert id, when the survey gives one.</summary>
    public long? AlertId { get; init; }

    /// <summary>MJD TAI.</summary>
    public double MjdTai { get; init; }

    /// <summary>Band name.</summary>
    public string Band { get; init; } = "";

    /// <summary>Degrees ICRS.</summary>
    public double? Ra { get; init; }

    /// <summary>Degrees ICRS.</summary>
    public double? Dec { get; init; }

    /// <summary>nJy.</summary>
    public double? Flux { get; init; }

    /// <summary>nJy.</summary>
    public double? FluxErr { get; init; }

    /// <summary>AB magnitude.</summary>
    public double? Mag { get; init; }

    /// <summary>Magnitude uncertainty.</summary>
    public double? MagErr { get; init; }

    /// <summary>Science brighter than template.</summary>
    public bool IsPositive { get; init; } = true;

    /// <summary>Real-bogus score.</summary>
    public double? RealBogus { get; init; }
}

/// <summary>A previous non-detection.</summary>
public sealed record UpperLimit(double MjdTai, string Band, double? LimitingMag);

/// <summary>A forced-photometry measurement, nJy.</summary>
public sealed record ForcedPoint(double MjdTai, string Band, double? Flux, double? FluxErr);

/// <summary>The three stamps as the survey sent them: gzipped FITS (ZTF) or plain FITS (Rubin); any may be absent.</summary>
public sealed record Cutouts(string Format, byte[]? Science, byte[]? Template, byte[]? Difference)
{
    /// <summary>The stamp of kind <paramref name="index"/> in <see cref="SurveyAlertMapper.CutoutKinds"/> order (science, template, difference).</summary>
    public byte[]? this[int index] => index switch
    {
        0 => Science,
        1 => Template,
        2 => Difference,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "cutout kinds are 0..2"),
    };
}

/// <summary>A catalogue counterpart.</summary>
public sealed record Crossmatch
{
    /// <summary>The catalogue's name (<c>Gaia</c>, <c>PS1</c>, <c>NED</c>).</summary>
    public string Catalog { get; init; } = "";

    /// <summary>The catalogue release (<c>DR3</c>); empty when not known (schema 1.0 records).</summary>
    public string CatalogRelease { get; init; } = "";

    /// <summary>The counterpart's id in the catalogue.</summary>
    public string SourceId { get; init; } = "";

    /// <summary>Its right ascension, degrees ICRS.</summary>
    public double Ra { get; init; }

    /// <summary>Its declination, degrees ICRS.</summary>
    public double Dec { get; init; }

    /// <summary>Angular distance from the alert, arcseconds.</summary>
    public double DistanceArcsec { get; init; }

    /// <summary>The search radius the match was made within, arcseconds; null when not known (schema 1.0 records).</summary>
    public double? MatchRadiusArcsec { get; init; }

    /// <summary>The counterpart's type as the catalogue gives it (<c>star</c>, <c>galaxy</c>, <c>QSO</c>), when it gives one.</summary>
    public string? ObjectType { get; init; }

    /// <summary>The counterpart's redshift, when the catalogue gives one (schema 1.2 on).</summary>
    public double? Redshift { get; init; }

    /// <summary>
    /// Projected separation at the counterpart's redshift, kpc: the angular separation times the angular-diameter
    /// distance in Planck 2018 cosmology (<c>Broker.Sky.Cosmology.Planck18</c>); null when no redshift above 0 is known (schema 1.2 on).
    /// </summary>
    public double? PhysicalOffsetKpc { get; init; }

    /// <summary>Further catalogue columns (magnitudes, parallax ...).</summary>
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = new Dictionary<string, object?>(StringComparer.Ordinal);
}

/// <summary>An alert's Galactic position, for filters (schema 1.2 on).</summary>
/// <param name="LDeg">Galactic longitude, degrees.</param>
/// <param name="BDeg">Galactic latitude, degrees.</param>
/// <param name="InPlane">True when |b| is below the crossmatch stage's Galactic-plane latitude.</param>
public sealed record GalacticContext(double LDeg, double BDeg, bool InPlane);

/// <summary>An association with a known solar-system object.</summary>
public sealed record SolarSystemAssociation
{
    /// <summary>The object's designation (MPC number or provisional designation).</summary>
    public string Designation { get; init; } = "";

    /// <summary>Distance between the alert and the predicted position, arcseconds.</summary>
    public double DistanceArcsec { get; init; }

    /// <summary>Predicted V magnitude, when known.</summary>
    public double? PredictedMag { get; init; }

    /// <summary>Who made the association: <c>survey</c> (its own) or <c>broker</c> (Broker's ephemerides).</summary>
    public string Source { get; init; } = "";

    /// <summary>Predicted right ascension at the alert's time, degrees ICRS (astrometric); null when not known.</summary>
    public double? PredictedRa { get; init; }

    /// <summary>Predicted declination at the alert's time, degrees ICRS; null when not known.</summary>
    public double? PredictedDec { get; init; }

    /// <summary>Predicted rate in right ascension, dRA/dt · cos(Dec), arcseconds per hour; null when not known.</summary>
    public double? RaRateArcsecPerHour { get; init; }

    /// <summary>Predicted rate in declination, arcseconds per hour; null when not known.</summary>
    public double? DecRateArcsecPerHour { get; init; }

    /// <summary>Where the prediction comes from (<c>mpc_orbits two-body</c>, <c>JPL Horizons</c>, <c>survey</c>); empty when not known.</summary>
    public string EphemerisSource { get; init; } = "";

    /// <summary>Epoch of the orbit the prediction was propagated from, MJD TDB; null when not known.</summary>
    public double? EphemerisEpochMjdTdb { get; init; }

    /// <summary>The survey's own designation for the alert (ZTF <c>ssnamenr</c>, Rubin <c>ssSource.designation</c>), when it made one (schema 1.3 on).</summary>
    public string? SurveyDesignation { get; init; }

    /// <summary>The survey's distance to its object, arcseconds (ZTF <c>ssdistnr</c>; Rubin: to <c>ssSource.ephRa/ephDec</c>) (schema 1.3 on).</summary>
    public double? SurveyDistanceArcsec { get; init; }

    /// <summary>
    /// How Broker's association compares with the survey's: <see cref="Agree"/>, <see cref="Disagree"/>,
    /// <see cref="BrokerOnly"/>, <see cref="SurveyOnly"/>; null when not compared (schema 1.3 on).
    /// </summary>
    public string? Agreement { get; init; }

    /// <summary>Both associated the alert with the same object.</summary>
    public const string Agree = "agree";

    /// <summary>Both associated it, with different objects (<see cref="Designation"/> is Broker's).</summary>
    public const string Disagree = "disagree";

    /// <summary>Only Broker associated it.</summary>
    public const string BrokerOnly = "broker-only";

    /// <summary>Only the survey associated it (<see cref="Source"/> is <c>survey</c>).</summary>
    public const string SurveyOnly = "survey-only";
}

/// <summary>An alert that looks like a moving object no known orbit explains (schema 1.3 on).</summary>
/// <param name="Reason">Why, in one line (no known orbit, no earlier detection there, no catalogue counterpart, the stamp score).</param>
public sealed record NewMoverCandidate(string Reason);

/// <summary>
/// One classifier's output, or its record that it could not classify the alert (<see cref="NotClassifiedReason"/>
/// set, no probabilities).
/// </summary>
public sealed record Classification
{
    /// <summary>The reason a stage that needs cutouts gives for an alert without them.</summary>
    public const string NoCutouts = "no cutouts";

    /// <summary>The classifier (the stage: <c>stamp</c>, <c>lightcurve</c>).</summary>
    public string Classifier { get; init; } = "";

    /// <summary>The model's name.</summary>
    public string Model { get; init; } = "";

    /// <summary>The model's version (its manifest's).</summary>
    public string ModelVersion { get; init; } = "";

    /// <summary>The taxonomy the classes belong to (<c>alerce-stamp-2020</c>); empty when not known (schema 1.0 records).</summary>
    public string Taxonomy { get; init; } = "";

    /// <summary>The model's classes in its output order (empty when not known, schema 1.0 records).</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Probability per class.</summary>
    public IReadOnlyDictionary<string, double> Probabilities { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>The most probable class; empty when not classified.</summary>
    public string TopClass { get; init; } = "";

    /// <summary>Why the classifier did not classify the alert (<see cref="NoCutouts"/>); null when it did.</summary>
    public string? NotClassifiedReason { get; init; }

    /// <summary>True when the classifier produced probabilities.</summary>
    public bool IsClassified => NotClassifiedReason is null;

    /// <summary>
    /// The entry a classifier adds when it cannot classify an alert (for a stamp classifier, an alert without all
    /// three cutouts: <c>NotClassified("stamp", model, version, taxonomy, Classification.NoCutouts)</c>): no
    /// probabilities and an empty top class, so readers of schema 1.0, which has no reason field, see an entry that
    /// names the model but no class.
    /// </summary>
    public static Classification NotClassified(string classifier, string model, string modelVersion, string taxonomy, string reason) => new()
    {
        Classifier = classifier,
        Model = model,
        ModelVersion = modelVersion,
        Taxonomy = taxonomy,
        NotClassifiedReason = reason,
    };

    /// <summary>
    /// The entry a classifier adds from a model's output row (one probability per class, in <paramref name="classes"/>'
    /// order): the probabilities by class and the most probable as the top class (the first on ties). A value that is
    /// not a probability (NaN, below 0, above 1) gives a <see cref="NotClassified"/> entry saying which, not an exception.
    /// </summary>
    public static Classification FromProbabilities(string classifier, string model, string modelVersion, string taxonomy, IReadOnlyList<string> classes, ReadOnlySpan<float> row)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (row.Length != classes.Count) throw new ArgumentException($"{row.Length} probabilities for {classes.Count} classes", nameof(row));
        var probabilities = new Dictionary<string, double>(classes.Count, StringComparer.Ordinal);
        int top = 0;
        for (int c = 0; c < row.Length; c++)
        {
            float p = row[c];
            if (!(p >= 0 && p <= 1)) return NotClassified(classifier, model, modelVersion, taxonomy, $"the model gave {classes[c]} {p.ToString(System.Globalization.CultureInfo.InvariantCulture)}, not a probability");
            probabilities[classes[c]] = p;
            if (p > row[top]) top = c;
        }
        return new Classification
        {
            Classifier = classifier,
            Model = model,
            ModelVersion = modelVersion,
            Taxonomy = taxonomy,
            Classes = classes,
            Probabilities = probabilities,
            TopClass = classes[top],
        };
    }
}

/// <summary>A user filter the alert passed.</summary>
/// <param name="Name">The filter's registered name.</param>
/// <param name="Version">Its version; empty when not known (schema 1.0 records carry names only).</param>
public sealed record FilterMatch(string Name, string Version);
