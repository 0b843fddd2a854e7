using System.Text;

namespace Broker.Sky.Orbits;

/// <summary>The orbit file formats Broker reads.</summary>
public enum OrbitFormat
{
    /// <summary>Told from the content (<see cref="OrbitSources.Sniff"/>).</summary>
    Auto,

    /// <summary>MPC one-line orbits, <c>MPCORB.DAT</c> (<see cref="MpcOrbReader"/>).</summary>
    MpcOrb,

    /// <summary>JPL SBDB query API JSON, kstars' <c>asteroids.dat</c> (<see cref="SbdbOrbitReader"/>).</summary>
    Sbdb,

    /// <summary>MPC comet elements JSON, <c>CometEls.json</c> (<see cref="MpcCometReader"/>).</summary>
    MpcComets,

    /// <summary>The elements CSV <c>designation,epoch_mjd_tdb,a_au,...</c> (<see cref="OrbitCsvReader"/>).</summary>
    Csv,
}

/// <summary>One entry point for orbit files: the format told from the content, then the matching streaming reader.</summary>
public static class OrbitSources
{
    /// <summary>How much of the (decompressed) start of a file <see cref="Sniff"/> looks at.</summary>
    private const int SniffBytes = 1 << 16;

    /// <summary>
    /// The orbits in <paramref name="path"/> (gzip or plain), streamed. The file is opened and, for
    /// <see cref="OrbitFormat.Auto"/>, its format told now, so a missing file or an unknown format fails at the call
    /// with one line; the orbits are read as the result is enumerated.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="format">The format, or <see cref="OrbitFormat.Auto"/> to tell it from the content.</param>
    /// <param name="onBadRow">Gets one line per rejected row (file, row, designation, what is wrong); null to drop them silently.</param>
    /// <exception cref="OrbitFormatException">The file cannot be opened, or its format is not one of <see cref="OrbitFormat"/>.</exception>
    public static IEnumerable<SolarSystemOrbit> Read(string path, OrbitFormat format = OrbitFormat.Auto, Action<string>? onBadRow = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (format == OrbitFormat.Auto) format = Sniff(path);
        else OrbitRows.OpenRead(path).Dispose();
        return format switch
        {
            OrbitFormat.MpcOrb => MpcOrbReader.Read(path, onBadRow),
            OrbitFormat.Sbdb => SbdbOrbitReader.Read(path, onBadRow),
            OrbitFormat.MpcComets => MpcCometReader.Read(path, onBadRow),
            OrbitFormat.Csv => OrbitCsvReader.Read(path, onBadRow),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not an orbit format"),
        };
    }

    /// <summary>
    /// The format of an orbit file, from its first 64 kB (decompressed when gzipped): a JSON object with "fields" or
    /// "signature" is SBDB; a JSON array of objects with "Perihelion_dist" or "Orbit_type" is MPC comets; a first line
    /// naming the CSV's columns is the CSV; a line with a packed designation and epoch in MPCORB's columns is MPCORB.
    /// </summary>
    /// <exception cref="OrbitFormatException">The file cannot be opened, or it is none of these.</exception>
    public static OrbitFormat Sniff(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string head;
        using (var stream = OrbitRows.OpenMaybeGzip(path))
        {
            var buffer = new byte[SniffBytes];
            int n;
            try
            {
                n = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new OrbitFormatException(path, 0, $"cannot read the file: {e.Message}", e);
            }
            head = Encoding.UTF8.GetString(buffer, 0, n).TrimStart('\uFEFF');
        }
        var known = SniffText(head);
        return known ?? throw new OrbitFormatException(path, 0,
            "unknown orbit format: expected MPCORB.DAT lines, JPL SBDB query JSON, MPC comet elements JSON, or a CSV with header " + string.Join(",", OrbitCsvReader.Columns));
    }

    /// <summary>The format the start of a file's text shows, or null.</summary>
    internal static OrbitFormat? SniffText(string head)
    {
        string trimmed = head.TrimStart();
        if (trimmed.StartsWith('{'))
            return head.Contains("\"fields\"", StringComparison.Ordinal) || head.Contains("\"signature\"", StringComparison.Ordinal) ? OrbitFormat.Sbdb : null;
        if (trimmed.StartsWith('['))
            return head.Contains("\"Perihelion_dist\"", StringComparison.Ordinal) || head.Contains("\"Orbit_type\"", StringComparison.Ordinal) ? OrbitFormat.MpcComets : null;
        var lines = head.Split('\n');
        // The last line of the window may be cut short; it is judged only when the window holds the whole file.
        int usable = head.Length < SniffBytes ? lines.Length : Math.Max(1, lines.Length - 1);
        string? first = lines.Take(usable).Select(l => l.TrimEnd('\r')).FirstOrDefault(l => !string.IsNullOrWhiteSpace(l));
        if (first is not null && OrbitCsvReader.IsHeader(first)) return OrbitFormat.Csv;
        for (int k = 0; k < usable; k++)
            if (MpcOrbReader.LooksLikeOrbitLine(lines[k].TrimEnd('\r'))) return OrbitFormat.MpcOrb;
        return null;
    }
}
