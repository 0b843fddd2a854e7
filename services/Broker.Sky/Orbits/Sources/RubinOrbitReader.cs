using System.Globalization;
using System.Text.Json;

namespace Broker.Sky.Orbits;

/// <summary>
/// Reads the MPC orbit Rubin attaches to a solar-system alert: the <c>mpc_orbits</c> record of alert schema 10.0 and
/// later (lsst.v10_0.mpc_orbits.avsc), given as its fields by name, the way <c>SurveyAlertMapper</c> flattens them
/// into an alert's survey fields ("mpc_orbits.q", ...), or without the prefix.
/// </summary>
/// <remarks>
/// Elements: the cometary set <c>q</c>, <c>e</c>, <c>i</c>, <c>node</c>, <c>argperi</c> and <c>peri_time</c> at
/// <c>epoch_mjd</c>, which covers every conic. The schema documents <c>peri_time</c> as "Time from Pericenter
/// Passage [days]", but the values are the MJD of perihelion: they equal the <c>peri_time</c> coefficient of the COM
/// solution in <c>mpc_orb_jsonb</c>, and for 2004 JQ12 (epoch 61000, M = 202.686°, n = 0.214579°/day) the next perihelion
/// falls (360° - M) / n = 733.13 days after the epoch, at 61733.13 as given. The time scale is TT
/// (<c>mpc_orb_jsonb.epoch_data.timesystem</c> = "TDT"), used as TDB (see <see cref="Designations.PackedDateToMjd"/>);
/// the frame is the ecliptic of J2000 (<c>system_data.refsys</c> = "Ecliptic", obliquity 84381.448″, the IAU 1976 value
/// <see cref="Coordinates"/> rotates with). When <c>q</c> or <c>peri_time</c> is null (Broker's simulator fills only the
/// Keplerian fields), <c>a</c>, <c>e</c> and <c>mean_anomaly</c> are used. When a field is null in the record and
/// present in <c>mpc_orb_jsonb</c>'s COM solution, the JSON value is used.
/// Designation: the permanent number when <c>mpc_orb_jsonb.designation_data.permid</c> has one (2004 JQ12 is 217301),
/// with the name written as SBDB writes full names, "217301 (2004 JQ12)", so <see cref="Designations.SameObject"/> matches
/// Rubin's <c>ssSource.designation</c> "2004 JQ12"; else the record's <c>designation</c>.
/// </remarks>
public static class RubinOrbitReader
{
    /// <summary>What <see cref="SolarSystemOrbit.Source"/> says for these orbits.</summary>
    public const string SourceName = "Rubin mpc_orbits";

    /// <summary>The prefix of the record's fields among an alert's flattened survey fields.</summary>
    public const string AlertFieldPrefix = "mpc_orbits.";

    /// <summary>
    /// The orbit in an <c>mpc_orbits</c> record's fields, or null when the alert carries none (no designation) or it
    /// is bad (reported through <paramref name="onBadRow"/>).
    /// </summary>
    /// <param name="fields">Field name -> value (numbers as double, long or int; strings; null).</param>
    /// <param name="prefix">What precedes each field name: <see cref="AlertFieldPrefix"/> for an alert's survey fields, "" for the bare record.</param>
    /// <param name="where">What messages call the record ("alert 170055325589045266").</param>
    /// <param name="onBadRow">Gets one line when the record is bad; null to drop it silently.</param>
    public static SolarSystemOrbit? FromFields(IReadOnlyDictionary<string, object?> fields, string prefix = AlertFieldPrefix, string where = "mpc_orbits", Action<string>? onBadRow = null)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(prefix);
        string? designation = Text(fields, prefix + "designation") ?? Text(fields, prefix + "unpacked_primary_provisional_designation");
        if (designation is null) return null;
        var json = Json(fields, prefix);
        double Get(string field) => Number(fields, prefix + field) ?? Com(json, field);

        double q = Get("q"), e = Get("e"), i = Get("i"), node = Get("node"), peri = Get("argperi"), tp = Get("peri_time"), epoch = Get("epoch_mjd");
        double h = Number(fields, prefix + "h") ?? double.NaN, g = Number(fields, prefix + "g") ?? OrbitRows.DefaultG;
        CometaryElements? elements;
        // A value given as NaN stays in the cometary path to be reported; only fields absent everywhere switch paths.
        bool cometary = Number(fields, prefix + "q") is not null || Number(fields, prefix + "peri_time") is not null || !double.IsNaN(q) || !double.IsNaN(tp);
        string? problem = !cometary
            ? OrbitRows.TryKeplerian(Get("a"), e, i, node, peri, Get("mean_anomaly"), epoch, ellipticOnly: false, out elements)
            : OrbitRows.TryCometary(q, e, i, node, peri, tp, epoch, ellipticOnly: false, out elements);
        if (problem is not null)
        {
            onBadRow?.Invoke($"{where}: mpc_orbits ({designation}): {problem}");
            return null;
        }
        string? permanent = Permid(json);
        return permanent is null
            ? new SolarSystemOrbit(designation, designation, elements!, h, g, SourceName)
            : new SolarSystemOrbit(permanent, $"{permanent} ({designation})", elements!, h, g, SourceName);
    }

    /// <summary>
    /// The Cartesian state of the same solution (<c>mpc_orb_jsonb.CAR</c>: heliocentric x, y, z in au and vx, vy, vz in
    /// au/day in the ecliptic of J2000, at the epoch), in Broker's equatorial frame; null when the record has none.
    /// </summary>
    public static OrbitState? CartesianState(IReadOnlyDictionary<string, object?> fields, string prefix = AlertFieldPrefix)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var json = Json(fields, prefix);
        if (json is not { } root || !root.TryGetProperty("CAR", out var car) || !car.TryGetProperty("coefficient_values", out var values)) return null;
        double epoch = Number(fields, prefix + "epoch_mjd") ?? (root.TryGetProperty("epoch_data", out var ed) && ed.TryGetProperty("epoch", out var ep) && ep.ValueKind == JsonValueKind.Number ? ep.GetDouble() : double.NaN);
        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() < 6 || double.IsNaN(epoch)) return null;
        var v = new double[6];
        for (int k = 0; k < 6; k++)
        {
            if (values[k].ValueKind != JsonValueKind.Number) return null;
            v[k] = values[k].GetDouble();
        }
        return OrbitState.FromEcliptic(v[0], v[1], v[2], v[3], v[4], v[5], epoch);
    }

    private static JsonElement? Json(IReadOnlyDictionary<string, object?> fields, string prefix)
    {
        if (Text(fields, prefix + "mpc_orb_jsonb") is not { } text) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            // The flat fields carry the same solution; a damaged JSON copy only loses the permanent number.
            return null;
        }
    }

    private static double Com(JsonElement? json, string field)
    {
        if (json is not { } root || !root.TryGetProperty("COM", out var com)) return double.NaN;
        if (!com.TryGetProperty("coefficient_names", out var names) || !com.TryGetProperty("coefficient_values", out var values)) return double.NaN;
        if (names.ValueKind != JsonValueKind.Array || values.ValueKind != JsonValueKind.Array) return double.NaN;
        int k = 0;
        foreach (var name in names.EnumerateArray())
        {
            if (name.ValueKind == JsonValueKind.String && name.GetString() == field)
                return k < values.GetArrayLength() && values[k].ValueKind == JsonValueKind.Number ? values[k].GetDouble() : double.NaN;
            k++;
        }
        if (field == "epoch_mjd" && root.TryGetProperty("epoch_data", out var ed) && ed.TryGetProperty("epoch", out var ep) && ep.ValueKind == JsonValueKind.Number) return ep.GetDouble();
        return double.NaN;
    }

    private static string? Permid(JsonElement? json)
    {
        if (json is not { } root || !root.TryGetProperty("designation_data", out var d) || !d.TryGetProperty("permid", out var p)) return null;
        string? text = p.ValueKind switch
        {
            JsonValueKind.String => p.GetString()?.Trim(),
            JsonValueKind.Number => p.GetRawText(),
            _ => null,
        };
        return !string.IsNullOrEmpty(text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0 ? n.ToString(CultureInfo.InvariantCulture) : null;
    }

    private static string? Text(IReadOnlyDictionary<string, object?> fields, string key) =>
        fields.TryGetValue(key, out var v) && v is string s && !string.IsNullOrWhiteSpace(s) ? s.Trim() : null;

    private static double? Number(IReadOnlyDictionary<string, object?> fields, string key) =>
        fields.TryGetValue(key, out var v) ? v switch
        {
            double d => d,
            float f => f,
            long l => l,
            int n => n,
            string s when OrbitRows.TryNumber(s, out double parsed) => parsed,
            _ => null,
        } : null;
}
