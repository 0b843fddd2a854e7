using System.Globalization;
using Broker.Sky.Orbits;
using Broker.StepHost;

namespace Broker.Sso;

/// <summary>Settings of the solar-system step (configuration section <c>Sso</c>; docs/sso.md).</summary>
/// <remarks>
/// What can be checked without the files is checked here (<see cref="Validate"/>); the orbit files are read when the
/// step starts (<see cref="SsoStep.StartAsync"/>), where a missing or unreadable file is one line naming its entry.
/// No orbit file is allowed (a warning): the stage then still compares the survey's own associations, uses the orbit
/// a Rubin alert carries (<c>mpc_orbits</c>) and flags candidate new movers.
/// </remarks>
public sealed class SsoOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "Sso";

    /// <summary>The formats an orbit file may have.</summary>
    public static readonly IReadOnlyList<string> Formats = ["auto", "sbdb-json", "mpcorb", "mpc-comets", "csv"];

    /// <summary>The orbit files, read once at start-up; every orbit of every file is screened for every alert.</summary>
    public List<SsoOrbitFileOptions> Orbits { get; set; } = [];

    /// <summary>
    /// The MPC observatory code each survey observes from (ZTF at Palomar's 48-inch, I41; Rubin, X05), the key being
    /// the survey as Broker names it (<c>ZTF</c>, <c>LSST</c>, <c>UNKNOWN</c>).
    /// </summary>
    public Dictionary<string, string> Observatories { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ZTF"] = "I41",
        ["LSST"] = "X05",
        ["UNKNOWN"] = "500",
    };

    /// <summary>
    /// The match radius at an orbit's epoch, arcseconds, per survey. ZTF: 10": ZTF tags the nearest known object
    /// within 30" (ssdistnr) and Fink keeps its matches under 5"; ZTF's PSF is about 2" FWHM and its astrometry
    /// good to 0.1", so 10" admits an orbit a few arcseconds off while the chance of an unrelated asteroid inside it
    /// stays below 1% (≲100 known asteroids per square degree to V 21 near the ecliptic: 100·π(10/3600)² = 0.002).
    /// Rubin: 1", the radius Rubin itself associates within, with its 0.7" seeing and N-body ephemerides.
    /// </summary>
    public Dictionary<string, double> RadiusArcsec { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ZTF"] = 10,
        ["LSST"] = 1,
        ["UNKNOWN"] = 10,
    };

    /// <summary>
    /// Growth of the two-body screen radius with |t − epoch| for main-belt and more distant orbits, arcseconds per
    /// day (<see cref="AssociationRadius"/>): measured, (692) Hippodamia's two-body position from kstars' epoch-59800
    /// elements is 1054" from ZTF's detection of 2018-11-29, 1349 days earlier (0.78"/day; tests/Broker.Sso.Tests);
    /// 1"/day covers it with a margin.
    /// </summary>
    public double DistantGrowthArcsecPerDay { get; set; } = 1;

    /// <summary>Growth for near-Earth orbits (q &lt; 1.3 au), arcseconds per day: encounters with the Earth and Venus make their two-body drift several times a main-belt orbit's.</summary>
    public double NearEarthGrowthArcsecPerDay { get; set; } = 5;

    /// <summary>Growth for cometary orbits (e ≥ 0.98), arcseconds per day (non-gravitational forces on top of the planets').</summary>
    public double CometaryGrowthArcsecPerDay { get; set; } = 10;

    /// <summary>The largest radius, arcseconds, however old the orbit.</summary>
    public double MaxRadiusArcsec { get; set; } = 3600;

    /// <summary>The spacing of the nightly index's nodes, hours (<see cref="SolarSystemIndex"/> on why 3).</summary>
    public double GridStepHours { get; set; } = 3;

    /// <summary>How long before the first alert of a night the index starts, hours.</summary>
    public double WindowBeforeHours { get; set; } = 2;

    /// <summary>How long after the first alert of a night the index ends, hours (a night and its margins).</summary>
    public double WindowAfterHours { get; set; } = 16;

    /// <summary>
    /// Whether candidates are refined with an N-body integration (the Sun and the eight planets) rather than
    /// two-body motion (default on); with it, the final radius grows at <see cref="NBodyGrowthArcsecPerDay"/> only.
    /// </summary>
    public bool NBody { get; set; } = true;

    /// <summary>
    /// Growth of the final radius after an N-body refinement, arcseconds per day: (692) is 0.04" from ZTF after 1349
    /// days; 0.005"/day allows for orbits less well determined than a numbered main-belt asteroid's.
    /// </summary>
    public double NBodyGrowthArcsecPerDay { get; set; } = 0.005;

    /// <summary>
    /// A folder where the N-body refinement keeps the planets' daily positions (<see cref="PlanetPositions.Cached"/>),
    /// so that a restarted or second instance reads them instead of evaluating VSOP87 again (seconds of CPU per
    /// process for orbits two years from their epoch); empty: kept in memory only. The same positions either way.
    /// </summary>
    public string PlanetCacheFolder { get; set; } = "";

    /// <summary>An earlier detection of the alert's object within this many arcseconds says it is not a mover.</summary>
    public double MoverHistoryRadiusArcsec { get; set; } = 2;

    /// <summary>The survey's real-bogus score (ZTF drb or rb, Rubin reliability) a candidate new mover needs, when the alert has one.</summary>
    public double MoverRealBogus { get; set; } = 0.5;

    /// <summary>The stamp classifier's asteroid probability a candidate new mover needs, when the alert has one.</summary>
    public double MoverStampScore { get; set; } = 0.5;

    /// <summary>The largest radius setting accepted, arcseconds.</summary>
    public const double MaxRadiusLimitArcsec = 36000;

    /// <summary>Checks the values that need no file.</summary>
    /// <exception cref="StepHostConfigurationException">One line naming the setting and what is wrong.</exception>
    public void Validate()
    {
        for (int i = 0; i < Orbits.Count; i++) Orbits[i].Validate(i);
        foreach (var (survey, code) in Observatories)
        {
            if (!IsSurvey(survey)) throw Bad($"Observatories:{survey}: '{survey}' is not a survey (ZTF, LSST, UNKNOWN)");
            if (string.IsNullOrWhiteSpace(code)) throw Bad($"Observatories:{survey} is empty: name an MPC observatory code (I41, X05, 500)");
            if (Observatory.TryFind(code) is null) throw Bad($"Observatories:{survey}: '{code}' is not an observatory code this build knows ({Observatory.KnownCodes})");
        }
        foreach (var (survey, radius) in RadiusArcsec)
        {
            if (!IsSurvey(survey)) throw Bad($"RadiusArcsec:{survey}: '{survey}' is not a survey (ZTF, LSST, UNKNOWN)");
            if (!(radius > 0 && radius <= MaxRadiusLimitArcsec)) throw Bad($"RadiusArcsec:{survey} {Format(radius)} is not in (0, {Format(MaxRadiusLimitArcsec)}]");
        }
        Range(nameof(DistantGrowthArcsecPerDay), DistantGrowthArcsecPerDay, 0, 1000);
        Range(nameof(NearEarthGrowthArcsecPerDay), NearEarthGrowthArcsecPerDay, 0, 1000);
        Range(nameof(CometaryGrowthArcsecPerDay), CometaryGrowthArcsecPerDay, 0, 1000);
        Range(nameof(NBodyGrowthArcsecPerDay), NBodyGrowthArcsecPerDay, 0, 1000);
        if (!(MaxRadiusArcsec > 0 && MaxRadiusArcsec <= MaxRadiusLimitArcsec)) throw Bad($"MaxRadiusArcsec {Format(MaxRadiusArcsec)} is not in (0, {Format(MaxRadiusLimitArcsec)}]");
        if (!(GridStepHours >= 0.25 && GridStepHours <= 12)) throw Bad($"GridStepHours {Format(GridStepHours)} is not in [0.25, 12]");
        Range(nameof(WindowBeforeHours), WindowBeforeHours, 0, 48);
        if (!(WindowAfterHours > 0 && WindowAfterHours <= 48)) throw Bad($"WindowAfterHours {Format(WindowAfterHours)} is not in (0, 48]");
        if (!(MoverHistoryRadiusArcsec > 0 && MoverHistoryRadiusArcsec <= 3600)) throw Bad($"MoverHistoryRadiusArcsec {Format(MoverHistoryRadiusArcsec)} is not in (0, 3600]");
        Range(nameof(MoverStampScore), MoverStampScore, 0, 1);
        Range(nameof(MoverRealBogus), MoverRealBogus, 0, 1);
    }

    /// <inheritdoc />
    public IEnumerable<string> Warnings()
    {
        if (Orbits.Count == 0)
            yield return $"{Section}:Orbits is empty: the solar-system stage associates only with the orbits Rubin alerts carry (mpc_orbits) and reports the surveys' own associations (set {Section}:Orbits:0:Path=FILE and optionally Format=sbdb-json|mpcorb|mpc-comets|csv; docs/sso.md)";
    }

    /// <summary>The radius model of the two-body screen for a survey.</summary>
    public AssociationRadius ScreenRadius(string survey) => new(BaseRadius(survey), DistantGrowthArcsecPerDay, NearEarthGrowthArcsecPerDay, CometaryGrowthArcsecPerDay, MaxRadiusArcsec);

    /// <summary>The radius model of the final match: the screen's, or after an N-body refinement the base plus <see cref="NBodyGrowthArcsecPerDay"/>.</summary>
    public AssociationRadius FinalRadius(string survey) => NBody
        ? new(BaseRadius(survey), NBodyGrowthArcsecPerDay, NBodyGrowthArcsecPerDay, CometaryGrowthArcsecPerDay, MaxRadiusArcsec)
        : ScreenRadius(survey);

    /// <summary>The radius at the epoch for a survey (the UNKNOWN entry, else 10").</summary>
    public double BaseRadius(string survey) =>
        RadiusArcsec.TryGetValue(survey, out double r) ? r : RadiusArcsec.TryGetValue("UNKNOWN", out double u) ? u : 10;

    /// <summary>The observatory code for a survey (the UNKNOWN entry, else the geocentre, 500).</summary>
    public string ObservatoryCode(string survey) =>
        Observatories.TryGetValue(survey, out string? c) ? c : Observatories.TryGetValue("UNKNOWN", out string? u) ? u : "500";

    private static bool IsSurvey(string name) => name.ToUpperInvariant() is "ZTF" or "LSST" or "UNKNOWN";

    private static void Range(string name, double value, double min, double max)
    {
        if (!(value >= min && value <= max)) throw Bad($"{name} {Format(value)} is not in [{Format(min)}, {Format(max)}]");
    }

    private static StepHostConfigurationException Bad(string problem) => new($"invalid configuration: {Section}:{problem}");

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>One orbit file of <see cref="SsoOptions.Orbits"/>.</summary>
public sealed class SsoOrbitFileOptions
{
    /// <summary>The file.</summary>
    public string Path { get; set; } = "";

    /// <summary>Its format: <c>auto</c> (told from the content, the default), <c>sbdb-json</c> (JPL SBDB query API JSON, as kstars' asteroids.dat), <c>mpcorb</c> (MPCORB.DAT), <c>mpc-comets</c> (MPC comet elements JSON), <c>csv</c>; gzipped or not.</summary>
    public string Format { get; set; } = "auto";

    /// <summary>"Sso:Orbits:i ('path')": how messages name the entry.</summary>
    public string Describe(int index) => $"{SsoOptions.Section}:Orbits:{index} ('{Path}')";

    /// <summary>Checks the values that need no file.</summary>
    /// <exception cref="StepHostConfigurationException">One line naming the entry.</exception>
    public void Validate(int index)
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new StepHostConfigurationException($"invalid configuration: {Describe(index)}: Path is empty: name an orbit file");
        if (!SsoOptions.Formats.Contains(Format.Trim().ToLowerInvariant()))
            throw new StepHostConfigurationException($"invalid configuration: {Describe(index)}: Format '{Format}' is not one of {string.Join(", ", SsoOptions.Formats)}");
    }
}
