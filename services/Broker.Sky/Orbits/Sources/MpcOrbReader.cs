namespace Broker.Sky.Orbits;

/// <summary>
/// Reads <c>MPCORB.DAT</c> and other files in the MPC's one-line "Export Format for Minor-Planet Orbits"
/// (minorplanetcenter.net/iau/info/MPOrbitFormat.html): heliocentric osculating elements in the ecliptic and equinox
/// of J2000, one orbit per line in fixed columns.
/// </summary>
/// <remarks>
/// Columns (1-based, inclusive): 1-7 number or provisional designation, packed; 9-13 H; 15-19 G; 21-25 epoch, packed
/// (0h TT); 27-35 mean anomaly; 38-46 argument of perihelion; 49-57 node; 60-68 inclination; 71-79 eccentricity;
/// 81-91 mean daily motion; 93-103 semi-major axis; 167-194 the readable designation ("(1) Ceres", "2004 JQ12").
/// The format is elliptic only: e ≥ 1 is a bad row. The epoch, TT, is used as TDB (<see cref="Designations.PackedDateToMjd"/>
/// says why that is fine). A blank H is NaN, a blank G <see cref="OrbitRows.DefaultG"/>. Everything before the first
/// line with a packed designation and a packed epoch in their columns is header (MPCORB.DAT's ends with a dashed line);
/// blank lines between sections are skipped. A bad line after that is reported with its line number.
/// </remarks>
public static class MpcOrbReader
{
    /// <summary>What <see cref="SolarSystemOrbit.Source"/> says for these orbits.</summary>
    public const string SourceName = "MPCORB";

    /// <summary>The shortest line that holds the elements (through the semi-major axis, column 103).</summary>
    public const int MinimumLineLength = 103;

    /// <summary>The orbits in a file (gzip or plain), streamed: the file is opened when enumeration starts.</summary>
    /// <param name="path">The file.</param>
    /// <param name="onBadRow">Gets one line per rejected row (file, line number, designation, what is wrong); null to drop them silently.</param>
    /// <exception cref="OrbitFormatException">During enumeration: the file cannot be read.</exception>
    public static IEnumerable<SolarSystemOrbit> Read(string path, Action<string>? onBadRow = null) =>
        OrbitRows.Lazily(path, (s, f) => Read(s, f, onBadRow));

    /// <summary>The orbits in a stream of MPCORB lines, streamed.</summary>
    /// <param name="stream">The text.</param>
    /// <param name="file">The name messages give it.</param>
    /// <param name="onBadRow">Gets one line per rejected row; null to drop them silently.</param>
    public static IEnumerable<SolarSystemOrbit> Read(Stream stream, string file, Action<string>? onBadRow = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        return ReadLines(stream, file, onBadRow);
    }

    /// <summary>Whether a line has a packed designation in columns 1-7 and a packed epoch in 21-25: an orbit line, good or bad.</summary>
    public static bool LooksLikeOrbitLine(string line)
    {
        if (line.Length < 25 || line[7] != ' ') return false;
        return TryDesignation(line[..7].Trim(), out _) && Designations.TryUnpackDate(line[20..25], out _, out _);
    }

    private static IEnumerable<SolarSystemOrbit> ReadLines(Stream stream, string file, Action<string>? onBadRow)
    {
        bool inData = false;
        foreach (var (line, number) in OrbitRows.Lines(stream, file))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (!inData)
            {
                if (line.StartsWith("----", StringComparison.Ordinal))
                {
                    inData = true;
                    continue;
                }
                if (!LooksLikeOrbitLine(line)) continue;
                inData = true;
            }
            var orbit = Parse(line, number, file, onBadRow);
            if (orbit is not null) yield return orbit;
        }
    }

    /// <summary>One orbit line, or null (reported) when it is bad.</summary>
    private static SolarSystemOrbit? Parse(string line, long number, string file, Action<string>? onBadRow)
    {
        string packed = line.Length >= 7 ? line[..7].Trim() : line.Trim();
        string? problem = Elements(line, packed, out string? designation, out var elements, out double h, out double g);
        if (problem is not null)
        {
            onBadRow?.Invoke(OrbitRows.BadRow(file, number, designation ?? packed, problem));
            return null;
        }
        string readable = Column(line, 167, 194).Trim();
        return new SolarSystemOrbit(designation!, readable.Length > 0 ? readable : designation!, elements!, h, g, SourceName);
    }

    private static string? Elements(string line, string packed, out string? designation, out CometaryElements? elements, out double h, out double g)
    {
        elements = null;
        h = double.NaN;
        g = OrbitRows.DefaultG;
        if (!TryDesignation(packed, out designation)) return $"columns 1-7 '{packed}' are not a packed number or provisional designation";
        if (line.Length < MinimumLineLength) return $"the line has {line.Length} characters; the elements end at column {MinimumLineLength}";
        string hText = Column(line, 9, 13), gText = Column(line, 15, 19), epochText = Column(line, 21, 25);
        if (!string.IsNullOrWhiteSpace(hText) && !OrbitRows.TryNumber(hText, out h)) return OrbitRows.Unparsable("H (columns 9-13)", hText);
        if (!string.IsNullOrWhiteSpace(gText) && !OrbitRows.TryNumber(gText, out g)) return OrbitRows.Unparsable("G (columns 15-19)", gText);
        if (!Designations.TryUnpackDate(epochText, out var epochDate, out _)) return $"epoch (columns 21-25) '{epochText.Trim()}' is not a packed date";
        double epoch = Designations.CalendarToMjd(epochDate);
        string? p = OrbitRows.First(Field(line, 27, 35, "M", out double m), Field(line, 38, 46, "peri", out double peri),
            Field(line, 49, 57, "node", out double node), Field(line, 60, 68, "i", out double i),
            Field(line, 71, 79, "e", out double e), Field(line, 93, 103, "a", out double a));
        return p ?? OrbitRows.TryKeplerian(a, e, i, node, peri, m, epoch, ellipticOnly: true, out elements);
    }

    private static bool TryDesignation(string packed, out string? designation)
    {
        designation = null;
        if (Designations.TryUnpackNumber(packed, out int n))
        {
            designation = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }
        return Designations.TryUnpackProvisional(packed, out designation);
    }

    private static string? Field(string line, int first, int last, string name, out double value)
    {
        string text = Column(line, first, last);
        value = double.NaN;
        return OrbitRows.TryNumber(text, out value) ? null : OrbitRows.Unparsable($"{name} (columns {first}-{last})", text);
    }

    /// <summary>Columns first..last (1-based, inclusive), as much of them as the line has.</summary>
    private static string Column(string line, int first, int last) =>
        line.Length < first ? "" : line[(first - 1)..Math.Min(last, line.Length)];
}
