using System.Text.Json;

namespace Broker.Sky.Orbits;

/// <summary>
/// Reads the MPC's comet elements as JSON (<c>CometEls.json</c>; Debian kstars-data ships it as
/// <c>/usr/share/kstars/cometels.json.gz</c>): an array of objects with <c>Orbit_type</c>, <c>Comet_num</c> or
/// <c>Provisional_packed_desig</c>, <c>Year/Month/Day_of_perihelion</c>, <c>Perihelion_dist</c>, <c>e</c>,
/// <c>Peri</c>, <c>Node</c>, <c>i</c>, <c>Epoch_year/month/day</c>, <c>H</c>, <c>G</c>, <c>Designation_and_name</c>.
/// </summary>
/// <remarks>
/// The elements are the MPC comet format's (minorplanetcenter.net/iau/info/CometOrbitFormat.html): perihelion time and
/// distance, e, and the angles in the ecliptic and equinox of J2000; times TT, used as TDB (see
/// <see cref="Designations.PackedDateToMjd"/>). Every conic is allowed (e ≥ 1 is fine). Elements without an epoch are
/// taken as osculating at perihelion (the epoch is set to the perihelion time). For comets <c>H</c> and <c>G</c> are
/// the total-magnitude parameters of m = H + 5 log Δ + 2.5 G log r (G is the activity index, 4 for the classical
/// r⁻⁴ law), not Bowell's asteroid H, G: they are kept as given, and <see cref="SourceName"/> marks them, so a
/// magnitude model can tell (the ephemeris's Bowell formula does not apply). A missing H is NaN, a missing G
/// <see cref="OrbitRows.DefaultG"/> as for every source (every kstars comet has both).
/// The designation is the comet's ("1P", "C/1995 O1", "73P-B", "P/2004 DO29"); the name is
/// <c>Designation_and_name</c>.
/// </remarks>
public static class MpcCometReader
{
    /// <summary>What <see cref="SolarSystemOrbit.Source"/> says for these orbits; their H, G are comet total-magnitude parameters.</summary>
    public const string SourceName = "MPC comets";

    /// <summary>Debian kstars-data's copy.</summary>
    public const string KStarsPath = "/usr/share/kstars/cometels.json.gz";

    /// <summary>The orbits in a file (gzip or plain), streamed: the file is opened when enumeration starts.</summary>
    /// <param name="path">The file.</param>
    /// <param name="onBadRow">Gets one line per rejected element set (file, row, designation, what is wrong); null to drop them silently.</param>
    /// <exception cref="OrbitFormatException">During enumeration: the file cannot be read or is not a JSON array.</exception>
    public static IEnumerable<SolarSystemOrbit> Read(string path, Action<string>? onBadRow = null) =>
        OrbitRows.Lazily(path, (s, f) => Read(s, f, onBadRow));

    /// <summary>The orbits in a stream of MPC comet JSON, streamed.</summary>
    /// <param name="stream">The JSON.</param>
    /// <param name="file">The name messages give it.</param>
    /// <param name="onBadRow">Gets one line per rejected element set; null to drop them silently.</param>
    public static IEnumerable<SolarSystemOrbit> Read(Stream stream, string file, Action<string>? onBadRow = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        return ReadElements(new OrbitJsonStream(stream, file), onBadRow);
    }

    private static IEnumerable<SolarSystemOrbit> ReadElements(OrbitJsonStream json, Action<string>? onBadRow)
    {
        json.Expect(JsonTokenType.StartArray, "a JSON array of comet element sets (MPC CometEls.json)");
        long row = 0;
        while (true)
        {
            var next = json.Peek();
            if (next == JsonTokenType.EndArray) break;
            if (next == JsonTokenType.None) throw new OrbitFormatException(json.File, row, "the file ends inside the array");
            var element = json.Value();
            row++;
            var orbit = Parse(element, row, json.File, onBadRow);
            if (orbit is not null) yield return orbit;
        }
        json.Expect(JsonTokenType.EndArray, "the end of the array");
    }

    private static SolarSystemOrbit? Parse(JsonElement o, long row, string file, Action<string>? onBadRow)
    {
        string? name = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("Designation_and_name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()?.Trim() : null;
        string? designation = null;
        CometaryElements? elements = null;
        double h = double.NaN, g = OrbitRows.DefaultG;
        string? problem = o.ValueKind != JsonValueKind.Object ? "not a JSON object" : Elements(o, name, out designation, out elements, out h, out g);
        if (problem is not null)
        {
            onBadRow?.Invoke(OrbitRows.BadRow(file, row, name ?? designation, problem));
            return null;
        }
        return new SolarSystemOrbit(designation!, string.IsNullOrEmpty(name) ? designation! : name, elements!, h, g, SourceName);
    }

    private static string? Elements(JsonElement o, string? name, out string? designation, out CometaryElements? elements, out double h, out double g)
    {
        elements = null;
        h = double.NaN;
        g = OrbitRows.DefaultG;
        designation = DesignationOf(o, name);
        if (designation is null) return "no designation (Designation_and_name, Comet_num or Provisional_packed_desig)";
        string? p = OrbitRows.First(Number(o, "Perihelion_dist", out double q), Number(o, "e", out double e), Number(o, "i", out double i),
            Number(o, "Node", out double node), Number(o, "Peri", out double peri),
            Number(o, "Year_of_perihelion", out double ty), Number(o, "Month_of_perihelion", out double tm), Number(o, "Day_of_perihelion", out double td));
        if (p is not null) return p;
        if (!TryDate(ty, tm, td, out double perihelion)) return $"perihelion date {ty}-{tm}-{td} is not a date";
        double epoch = perihelion;
        if (o.TryGetProperty("Epoch_year", out _))
        {
            p = OrbitRows.First(Number(o, "Epoch_year", out double ey), Number(o, "Epoch_month", out double em), Number(o, "Epoch_day", out double ed));
            if (p is not null) return p;
            if (!TryDate(ey, em, ed, out epoch)) return $"epoch {ey}-{em}-{ed} is not a date";
        }
        if (o.TryGetProperty("H", out _) && Number(o, "H", out h) is { } hProblem) return hProblem;
        if (o.TryGetProperty("G", out _) && Number(o, "G", out g) is { } gProblem) return gProblem;
        return OrbitRows.TryCometary(q, e, i, node, peri, perihelion, epoch, ellipticOnly: false, out elements);
    }

    /// <summary>"1P", "C/1995 O1", "73P-B": from the name, else from the number and orbit type, else from the packed designation.</summary>
    private static string? DesignationOf(JsonElement o, string? name)
    {
        if (!string.IsNullOrEmpty(name)) return Designations.Key(name);
        string type = o.TryGetProperty("Orbit_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() ?? "" : "";
        if (o.TryGetProperty("Comet_num", out var num) && num.TryGetInt32(out int number) && number > 0 && type.Length == 1)
            return $"{number}{type}";
        if (o.TryGetProperty("Provisional_packed_desig", out var packed) && packed.ValueKind == JsonValueKind.String
            && Designations.TryUnpackComet(type + packed.GetString(), out string? unpacked))
            return unpacked;
        return null;
    }

    private static bool TryDate(double year, double month, double day, out double mjd)
    {
        mjd = double.NaN;
        if (year != Math.Floor(year) || month != Math.Floor(month) || year < 1 || year > 9999 || month < 1 || month > 12) return false;
        int whole = (int)Math.Floor(day);
        if (whole < 1 || whole > DateTime.DaysInMonth((int)year, (int)month)) return false;
        mjd = Designations.CalendarToMjd((int)year, (int)month, day);
        return true;
    }

    private static string? Number(JsonElement o, string field, out double value)
    {
        value = double.NaN;
        if (!o.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return $"{field} is missing";
        if (v.ValueKind == JsonValueKind.Number) value = v.GetDouble();
        else if (v.ValueKind != JsonValueKind.String || !OrbitRows.TryNumber(v.GetString(), out value)) return OrbitRows.Unparsable(field, v.ToString());
        return double.IsFinite(value) ? null : $"{field} = {OrbitRows.Format(value)} is not finite";
    }
}
