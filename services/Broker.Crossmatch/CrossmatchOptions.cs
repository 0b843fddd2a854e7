using System.Globalization;
using Broker.StepHost;

namespace Broker.Crossmatch;

/// <summary>Settings of the crossmatch step (configuration section <c>Crossmatch</c>; docs/catalogs.md, "Crossmatch stage").</summary>
/// <remarks>
/// What can be checked without the files is checked here (<see cref="Validate"/>, when the stage is made); what needs
/// the files (each exists, is a catalogue index, has the columns named) when the step starts
/// (<see cref="CrossmatchStep.StartAsync"/>). Either way a bad entry is one line naming the entry and its file, and the
/// service exits 2.
/// </remarks>
public sealed class CrossmatchOptions : IStageOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "Crossmatch";

    /// <summary>The catalogues, searched in this order; each alert's entries come in this order too.</summary>
    public List<CrossmatchCatalogOptions> Catalogs { get; set; } = [];

    /// <summary>
    /// An alert with |b| below this many degrees is flagged as in the Galactic plane (Alert.Galactic.InPlane). Within
    /// about 10° of the plane the star density and the dust extinction are high (E(B−V) commonly above 0.3 mag in the
    /// maps of Schlegel, Finkbeiner &amp; Davis 1998, ApJ 500, 525), so a counterpart is far more likely a foreground
    /// star than a host galaxy and host offsets and magnitudes are unreliable; |b| &gt; 10° is the cut extragalactic
    /// transient samples commonly make. 0 flags nothing.
    /// </summary>
    public double GalacticPlaneLatitudeDeg { get; set; } = 10;

    /// <summary>The largest match radius accepted, arcseconds: one degree bounds what one alert may cost.</summary>
    public const double MaxRadiusArcsec = 3600;

    /// <summary>The largest K of <c>k-nearest</c>.</summary>
    public const int MaxK = 1000;

    /// <summary>Checks the values that need no file.</summary>
    /// <exception cref="StepHostConfigurationException">No catalogue, or an entry's value is missing or out of range: one line naming the entry and its file.</exception>
    public void Validate()
    {
        if (Catalogs.Count == 0)
            throw new StepHostConfigurationException($"invalid configuration: {Section}:Catalogs is empty: the crossmatch stage needs at least one catalogue index file (build one with ./broker catalog build; docs/catalogs.md)");
        if (!(GalacticPlaneLatitudeDeg >= 0 && GalacticPlaneLatitudeDeg <= 90))
            throw new StepHostConfigurationException($"invalid configuration: {Section}:GalacticPlaneLatitudeDeg {Format(GalacticPlaneLatitudeDeg)} is not in 0..90");
        for (int i = 0; i < Catalogs.Count; i++) Catalogs[i].Validate(i);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Catalogs.Count; i++)
        {
            // Only configured names can be compared here; a header name is compared when the files are open.
            if (Catalogs[i].Name is { Length: > 0 } name && !names.Add(name))
                throw new StepHostConfigurationException($"invalid configuration: {Catalogs[i].Describe(i)}: Name '{name}' is another entry's: entries are told apart by name");
        }
    }

    internal static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>How many counterparts a catalogue gives an alert.</summary>
public enum CrossmatchMode
{
    /// <summary>The nearest row within the radius (<c>nearest</c>).</summary>
    Nearest,

    /// <summary>The K nearest rows within the radius, by separation, ties by row (<c>k-nearest</c>).</summary>
    KNearest,

    /// <summary>Every row within the radius, by separation, ties by row (<c>all</c>: extended catalogues, where the nearest centre need not be the host).</summary>
    All,
}

/// <summary>One catalogue of <see cref="CrossmatchOptions.Catalogs"/>: an index file and how to match against it.</summary>
public sealed class CrossmatchCatalogOptions
{
    /// <summary>A catalogue index file made by <c>./broker catalog build</c> (docs/catalogs.md).</summary>
    public string Path { get; set; } = "";

    /// <summary>The catalogue's name in the entries (Crossmatch.Catalog); empty for the index header's name.</summary>
    public string? Name { get; set; }

    /// <summary>The search radius, arcseconds, in (0, <see cref="CrossmatchOptions.MaxRadiusArcsec"/>].</summary>
    public double RadiusArcsec { get; set; }

    /// <summary><c>nearest</c> (default), <c>k-nearest</c> (with <see cref="K"/>) or <c>all</c>.</summary>
    public string Match { get; set; } = "nearest";

    /// <summary>How many counterparts <c>k-nearest</c> keeps, 1..<see cref="CrossmatchOptions.MaxK"/>; only for <c>k-nearest</c>.</summary>
    public int? K { get; set; }

    /// <summary>Extra columns of the index copied into each entry's properties (numbers as doubles, text as strings, null as null).</summary>
    public List<string> Columns { get; set; } = [];

    /// <summary>A text column of the index giving each row's type (OpenNGC's <c>type_name</c>); not with <see cref="Type"/>.</summary>
    public string? TypeColumn { get; set; }

    /// <summary>The type of every row (<c>star</c>, <c>galaxy</c>, <c>qso</c> ...); not with <see cref="TypeColumn"/>.</summary>
    public string? Type { get; set; }

    /// <summary>A numeric column of the index giving each row's redshift; empty when the catalogue has none.</summary>
    public string? RedshiftColumn { get; set; }

    /// <summary>The parsed <see cref="Match"/> (after <see cref="Validate"/>).</summary>
    public CrossmatchMode Mode => ParseMode(Match) ?? CrossmatchMode.Nearest;

    /// <summary>How many counterparts at most one alert gets from this catalogue: 1, K, or unbounded.</summary>
    public int Limit => Mode switch { CrossmatchMode.Nearest => 1, CrossmatchMode.KNearest => K ?? 1, _ => int.MaxValue };

    /// <summary>"Crossmatch:Catalogs:i ('path')": how messages name the entry.</summary>
    public string Describe(int index) => $"{CrossmatchOptions.Section}:Catalogs:{index} ('{Path}')";

    /// <summary>Checks the values that need no file.</summary>
    /// <exception cref="StepHostConfigurationException">One line naming the entry, its file and the setting.</exception>
    public void Validate(int index)
    {
        string entry = Describe(index);
        StepHostConfigurationException Bad(string problem) => new($"invalid configuration: {entry}: {problem}");
        if (string.IsNullOrWhiteSpace(Path)) throw Bad("Path is empty: name a catalogue index file (./broker catalog build)");
        if (!(RadiusArcsec > 0 && RadiusArcsec <= CrossmatchOptions.MaxRadiusArcsec))
            throw Bad($"RadiusArcsec {CrossmatchOptions.Format(RadiusArcsec)} is not in (0, {CrossmatchOptions.MaxRadiusArcsec}]");
        if (ParseMode(Match) is not { } mode) throw Bad($"Match '{Match}' is not one of nearest, k-nearest, all");
        if (mode == CrossmatchMode.KNearest && K is not (>= 1 and <= CrossmatchOptions.MaxK))
            throw Bad($"Match k-nearest needs K in 1..{CrossmatchOptions.MaxK}; K is {(K is { } k ? k.ToString(CultureInfo.InvariantCulture) : "not set")}");
        if (mode != CrossmatchMode.KNearest && K is not null) throw Bad($"K is set but Match is {Match}: K is only for k-nearest");
        if (!string.IsNullOrWhiteSpace(Type) && !string.IsNullOrWhiteSpace(TypeColumn))
            throw Bad($"both Type '{Type}' and TypeColumn '{TypeColumn}' are set: a catalogue's type is fixed or read from a column, not both");
        foreach (string column in Columns)
        {
            if (string.IsNullOrWhiteSpace(column)) throw Bad("Columns names an empty column");
        }
    }

    /// <summary>The mode a <see cref="Match"/> value names (case-insensitive), or null.</summary>
    public static CrossmatchMode? ParseMode(string? match) => match?.Trim().ToLowerInvariant() switch
    {
        "nearest" => CrossmatchMode.Nearest,
        "k-nearest" => CrossmatchMode.KNearest,
        "all" => CrossmatchMode.All,
        _ => null,
    };
}
