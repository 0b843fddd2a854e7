namespace Broker.Sky.Orbits;

/// <summary>
/// Reads the plain orbit CSV of issue 12: a header naming
/// <c>designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G</c> (in any order; other
/// columns are ignored), then one orbit per line: heliocentric osculating Keplerian elements in the ecliptic and
/// equinox of J2000, the epoch in MJD TDB, angles in degrees.
/// </summary>
/// <remarks>
/// Ellipses (0 ≤ e &lt; 1, a &gt; 0) and hyperbolas written as MPC and JPL write them (e &gt; 1 with a &lt; 0, the mean
/// anomaly M = n (t - T) unwrapped) are accepted, so an interstellar object such as 1I/'Oumuamua fits the format; a
/// hyperbola with a &gt; 0, and e = 1, are bad rows. An empty H is NaN, an empty G <see cref="OrbitRows.DefaultG"/>.
/// Fields may be quoted ("..." with "" for a quote, RFC 4180). The designation is stored in its <see cref="Designations.Key"/>
/// form ("2012QR64" -> "2012 QR64"); the name is the text as given.
/// </remarks>
public static class OrbitCsvReader
{
    /// <summary>What <see cref="SolarSystemOrbit.Source"/> says for these orbits.</summary>
    public const string SourceName = "CSV";

    /// <summary>The columns the header must name.</summary>
    public static readonly IReadOnlyList<string> Columns = ["designation", "epoch_mjd_tdb", "a_au", "e", "i_deg", "node_deg", "argperi_deg", "mean_anomaly_deg", "H", "G"];

    /// <summary>The orbits in a file (gzip or plain), streamed: the file is opened when enumeration starts.</summary>
    /// <param name="path">The file.</param>
    /// <param name="onBadRow">Gets one line per rejected row (file, line number, designation, what is wrong); null to drop them silently.</param>
    /// <exception cref="OrbitFormatException">During enumeration: the file cannot be read or its header lacks a column.</exception>
    public static IEnumerable<SolarSystemOrbit> Read(string path, Action<string>? onBadRow = null) =>
        OrbitRows.Lazily(path, (s, f) => Read(s, f, onBadRow));

    /// <summary>The orbits in a stream of the elements CSV, streamed.</summary>
    /// <param name="stream">The text.</param>
    /// <param name="file">The name messages give it.</param>
    /// <param name="onBadRow">Gets one line per rejected row; null to drop them silently.</param>
    public static IEnumerable<SolarSystemOrbit> Read(Stream stream, string file, Action<string>? onBadRow = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        return ReadLines(stream, file, onBadRow);
    }

    /// <summary>Whether a line is this format's header (names every column of <see cref="Columns"/>).</summary>
    public static bool IsHeader(string line)
    {
        var names = Split(line);
        foreach (string c in Columns) if (!names.Contains(c)) return false;
        return true;
    }

    private static IEnumerable<SolarSystemOrbit> ReadLines(Stream stream, string file, Action<string>? onBadRow)
    {
        int[]? at = null;
        foreach (var (line, number) in OrbitRows.Lines(stream, file))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = Split(line);
            if (at is null)
            {
                at = new int[Columns.Count];
                var missing = new List<string>();
                for (int c = 0; c < Columns.Count; c++)
                {
                    at[c] = fields.IndexOf(Columns[c]);
                    if (at[c] < 0) missing.Add(Columns[c]);
                }
                if (missing.Count > 0) throw new OrbitFormatException(file, number, $"the header lacks {string.Join(", ", missing)} (expected {string.Join(",", Columns)})");
                continue;
            }
            var orbit = Parse(fields, at, number, file, onBadRow);
            if (orbit is not null) yield return orbit;
        }
        if (at is null) throw new OrbitFormatException(file, 0, $"empty: no header {string.Join(",", Columns)}");
    }

    private static SolarSystemOrbit? Parse(List<string> fields, int[] at, long number, string file, Action<string>? onBadRow)
    {
        string Get(int c) => at[c] < fields.Count ? fields[at[c]].Trim() : "";
        string name = Get(0);
        string? problem = name.Length == 0 ? "the designation is empty" : null;
        double h = double.NaN, g = OrbitRows.DefaultG;
        CometaryElements? elements = null;
        if (problem is null)
        {
            problem = OrbitRows.First(Number(Get(1), "epoch_mjd_tdb", out double epoch), Number(Get(2), "a_au", out double a), Number(Get(3), "e", out double e),
                Number(Get(4), "i_deg", out double i), Number(Get(5), "node_deg", out double node), Number(Get(6), "argperi_deg", out double peri),
                Number(Get(7), "mean_anomaly_deg", out double m),
                Get(8).Length == 0 ? null : Number(Get(8), "H", out h), Get(9).Length == 0 ? null : Number(Get(9), "G", out g));
            problem ??= OrbitRows.TryKeplerian(a, e, i, node, peri, m, epoch, ellipticOnly: false, out elements);
        }
        if (problem is not null)
        {
            onBadRow?.Invoke(OrbitRows.BadRow(file, number, name, problem));
            return null;
        }
        return new SolarSystemOrbit(Designations.Key(name), name, elements!, h, g, SourceName);
    }

    private static string? Number(string text, string field, out double value) =>
        OrbitRows.TryNumber(text, out value) ? null : OrbitRows.Unparsable(field, text);

    /// <summary>One CSV line's fields (RFC 4180 quoting; no line breaks inside a field).</summary>
    private static List<string> Split(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int k = 0; k < line.Length; k++)
        {
            char c = line[k];
            if (quoted)
            {
                if (c == '"' && k + 1 < line.Length && line[k + 1] == '"')
                {
                    field.Append('"');
                    k++;
                }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }
}
