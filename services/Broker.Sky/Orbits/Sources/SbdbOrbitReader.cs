using System.Text.Json;

namespace Broker.Sky.Orbits;

/// <summary>
/// Reads orbits from the JPL Small-Body Database query API's JSON (ssd-api.jpl.nasa.gov/doc/sbdb_query.html), as
/// Debian's kstars-data ships it in <c>/usr/share/kstars/asteroids.dat</c>: <c>{"signature": {...}, "fields": [...],
/// "data": [[...], ...]}</c>, each row an array of strings (or null) in the order of <c>fields</c>.
/// </summary>
/// <remarks>
/// Fields used: <c>full_name</c>; <c>H</c>, <c>G</c>; the epoch as <c>epoch_mjd</c> (MJD) or <c>epoch</c> (JD); <c>e</c>,
/// <c>i</c>, <c>om</c> (node), <c>w</c> (argument of perihelion); and either <c>a</c> with <c>ma</c> (mean anomaly) or
/// <c>q</c> with <c>tp</c> (time of perihelion, JD). SBDB elements are heliocentric ecliptic J2000 and its times are
/// TDB (SBDB query API documentation: "epoch ... (TDB)", "tp ... (TDB)"). A row with a and ma is read from them;
/// one without (comets, parabolic orbits) from q and tp. Any conic is accepted: a hyperbola has a &lt; 0 as JPL writes
/// it. An assumed circular orbit (e = 0) given without <c>ma</c> or <c>tp</c> takes M = 0 at the epoch (its phase is
/// unknown; the simulator always read it so). A missing G is <see cref="OrbitRows.DefaultG"/>, a missing H NaN.
/// The designation is the number when numbered ("1 Ceres (A801 AA)" -> "1"), else the provisional designation
/// ("(2012 QR64)" -> "2012 QR64"); the name is the full name trimmed.
/// </remarks>
public static class SbdbOrbitReader
{
    /// <summary>What <see cref="SolarSystemOrbit.Source"/> says for these orbits.</summary>
    public const string SourceName = "JPL SBDB";

    /// <summary>Debian kstars-data's copy: 7,099 asteroids (epoch MJD 59800).</summary>
    public const string KStarsPath = "/usr/share/kstars/asteroids.dat";

    /// <summary>The orbits in a file (gzip or plain), streamed: the file is opened when enumeration starts.</summary>
    /// <param name="path">The file.</param>
    /// <param name="onBadRow">Gets one line per rejected row (file, row, designation, what is wrong); null to drop them silently.</param>
    /// <exception cref="OrbitFormatException">During enumeration: the file cannot be read or is not SBDB JSON.</exception>
    public static IEnumerable<SolarSystemOrbit> Read(string path, Action<string>? onBadRow = null) =>
        OrbitRows.Lazily(path, (s, f) => Read(s, f, onBadRow));

    /// <summary>The orbits in a stream of SBDB JSON, streamed.</summary>
    /// <param name="stream">The JSON.</param>
    /// <param name="file">The name messages give it.</param>
    /// <param name="onBadRow">Gets one line per rejected row; null to drop them silently.</param>
    /// <exception cref="OrbitFormatException">During enumeration: not SBDB JSON (no "fields" before "data", not an object).</exception>
    public static IEnumerable<SolarSystemOrbit> Read(Stream stream, string file, Action<string>? onBadRow = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        return ReadRows(new OrbitJsonStream(stream, file), onBadRow);
    }

    private static IEnumerable<SolarSystemOrbit> ReadRows(OrbitJsonStream json, Action<string>? onBadRow)
    {
        json.Expect(JsonTokenType.StartObject, "a JSON object with \"fields\" and \"data\" (JPL SBDB query API)");
        Columns? columns = null;
        bool sawData = false;
        while (true)
        {
            var (type, name) = json.Token();
            if (type == JsonTokenType.EndObject) break;
            if (type != JsonTokenType.PropertyName) throw new OrbitFormatException(json.File, 0, "expected a property of the SBDB object");
            if (name == "fields")
            {
                columns = new Columns(json.ScalarArray(), json.File);
            }
            else if (name == "data")
            {
                if (columns is null) throw new OrbitFormatException(json.File, 0, "\"data\" comes before \"fields\": cannot tell the columns");
                sawData = true;
                json.Expect(JsonTokenType.StartArray, "\"data\" to be an array of rows");
                long row = 0;
                while (json.Peek() != JsonTokenType.EndArray)
                {
                    if (json.Peek() == JsonTokenType.None) throw new OrbitFormatException(json.File, row, "the file ends inside \"data\"");
                    string?[] values = json.ScalarArray();
                    row++;
                    var orbit = columns.Orbit(values, row, onBadRow);
                    if (orbit is not null) yield return orbit;
                }
                json.Expect(JsonTokenType.EndArray, "the end of \"data\"");
            }
            else
            {
                json.Value();
            }
        }
        if (!sawData) throw new OrbitFormatException(json.File, 0, columns is null ? "no \"fields\" and no \"data\": not JPL SBDB query JSON" : "no \"data\" array");
    }

    /// <summary>Where each field is in a row.</summary>
    private sealed class Columns
    {
        private readonly string _file;
        private readonly int _name, _h, _g, _epochMjd, _epochJd, _e, _a, _q, _i, _om, _w, _ma, _tp;

        public Columns(string?[] fields, string file)
        {
            _file = file;
            int At(string name) => Array.IndexOf(fields, name);
            (_name, _h, _g, _epochMjd, _epochJd) = (At("full_name"), At("H"), At("G"), At("epoch_mjd"), At("epoch"));
            (_e, _a, _q, _i, _om, _w, _ma, _tp) = (At("e"), At("a"), At("q"), At("i"), At("om"), At("w"), At("ma"), At("tp"));
            var missing = new List<string>();
            if (_name < 0) missing.Add("full_name");
            if (_epochMjd < 0 && _epochJd < 0) missing.Add("epoch_mjd (or epoch)");
            foreach (var (index, field) in new[] { (_e, "e"), (_i, "i"), (_om, "om"), (_w, "w") }) if (index < 0) missing.Add(field);
            if ((_a < 0 || _ma < 0) && (_q < 0 || _tp < 0)) missing.Add("a and ma (or q and tp)");
            if (missing.Count > 0) throw new OrbitFormatException(file, 0, $"\"fields\" lacks {string.Join(", ", missing)}");
        }

        public SolarSystemOrbit? Orbit(string?[] row, long number, Action<string>? onBadRow)
        {
            string name = (Text(row, _name) ?? "").Trim();
            string designation = name.Length > 0 ? Designations.FromFullName(name) : "";
            string? problem = Elements(row, out var elements, out double h, out double g);
            if (problem is null && designation.Length == 0) problem = "full_name is empty";
            if (problem is not null)
            {
                onBadRow?.Invoke(OrbitRows.BadRow(_file, number, designation.Length > 0 ? designation : name, problem));
                return null;
            }
            return new SolarSystemOrbit(designation, name, elements!, h, g, SourceName);
        }

        private string? Elements(string?[] row, out CometaryElements? elements, out double h, out double g)
        {
            elements = null;
            h = double.NaN;
            g = OrbitRows.DefaultG;
            if (Text(row, _h) is { } hText && !OrbitRows.TryNumber(hText, out h)) return OrbitRows.Unparsable("H", hText);
            if (Text(row, _g) is { } gText && !OrbitRows.TryNumber(gText, out g)) return OrbitRows.Unparsable("G", gText);
            double epoch;
            if (_epochMjd >= 0 && Text(row, _epochMjd) is { } mjd)
            {
                if (!OrbitRows.TryNumber(mjd, out epoch)) return OrbitRows.Unparsable("epoch_mjd", mjd);
            }
            else if (_epochJd >= 0 && Text(row, _epochJd) is { } jd)
            {
                if (!OrbitRows.TryNumber(jd, out epoch)) return OrbitRows.Unparsable("epoch", jd);
                epoch -= 2400000.5;
            }
            else return "the epoch is missing";
            string? p = OrbitRows.First(Number(row, _e, "e", out double e), Number(row, _i, "i", out double i),
                Number(row, _om, "om", out double om), Number(row, _w, "w", out double w));
            if (p is not null) return p;
            // An assumed circular orbit (e = 0, as for the lost TNO 2002 PD153 in kstars' file) may come without a mean
            // anomaly or a perihelion time: its position along the orbit is unknown, and M = 0 at the epoch stands in.
            bool circularWithoutPhase = e == 0 && Text(row, _ma) is null && Text(row, _tp) is null;
            if (Text(row, _a) is not null && (Text(row, _ma) is not null || circularWithoutPhase))
            {
                p = OrbitRows.First(Number(row, _a, "a", out double a), circularWithoutPhase ? Zero(out double ma) : Number(row, _ma, "ma", out ma));
                return p ?? OrbitRows.TryKeplerian(a, e, i, om, w, ma, epoch, ellipticOnly: false, out elements);
            }
            p = OrbitRows.First(Number(row, _q, "q", out double q), Number(row, _tp, "tp", out double tp));
            return p ?? OrbitRows.TryCometary(q, e, i, om, w, tp - 2400000.5, epoch, ellipticOnly: false, out elements);
        }

        private static string? Zero(out double value)
        {
            value = 0;
            return null;
        }

        private static string? Text(string?[] row, int index) => index >= 0 && index < row.Length && !string.IsNullOrWhiteSpace(row[index]) ? row[index] : null;

        private static string? Number(string?[] row, int index, string field, out double value)
        {
            value = double.NaN;
            string? text = Text(row, index);
            if (text is null) return $"{field} is missing";
            return OrbitRows.TryNumber(text, out value) ? null : OrbitRows.Unparsable(field, text);
        }
    }
}
