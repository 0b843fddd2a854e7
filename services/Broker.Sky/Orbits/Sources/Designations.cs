using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Broker.Sky.Orbits;

/// <summary>
/// Minor-planet and comet designations: the MPC packed forms (numbers, provisional designations, comets, dates)
/// and one comparison key, so that what ZTF (<c>ssnamenr</c> "4826", "2012QR64"), Rubin ("2004 JQ12"), MPC files
/// ("K12Q64R", "A0345") and JPL SBDB ("     1 Ceres (A801 AA)", "(2012 QR64)") write for the same object compare equal.
/// </summary>
/// <remarks>
/// Specifications: MPC, "Packed Provisional and Permanent Designations" (minorplanetcenter.net/iau/info/PackedDes.html)
/// and "Provisional Designations" (minorplanetcenter.net/mpcops/documentation/provisional-designation-definition/);
/// the extended packed provisional scheme for cycle counts of 620 and more, announced in the MPC newsletter of
/// October 2023 (underscore, base-62 year, half-month letter, four base-62 digits of the sequence number minus 15,501;
/// examples checked against projectpluto.com/packed.htm: "_QC0000" = "2026 CA620"); and "Packed Dates"
/// (minorplanetcenter.net/iau/info/PackedDates.html).
/// </remarks>
public static partial class Designations
{
    /// <summary>The base-62 digits of MPC packed forms: 0-9, then A-Z (10-35), then a-z (36-61).</summary>
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The letters of the order within a half-month, A = 1 ... Z = 25 (I omitted).</summary>
    private const string OrderLetters = "ABCDEFGHJKLMNOPQRSTUVWXYZ";

    /// <summary>The half-month letters, A (Jan. 1-15) ... Y (Dec. 16-31), I omitted and Z unused.</summary>
    private const string HalfMonthLetters = "ABCDEFGHJKLMNOPQRSTUVWXY";

    /// <summary>The extended scheme starts where the old one ends: cycle 620 (a 2-character cycle count reaches z9 = 619).</summary>
    private const int FirstExtendedSequence = 620 * 25 + 1;

    /// <summary>The first number written in the tilde form (<c>~0000</c>); below it a letter prefix covers 100,000-619,999.</summary>
    public const int FirstTildeNumber = 620_000;

    /// <summary>The largest number the tilde form holds: 620,000 + 62⁴ - 1.</summary>
    public const int LastTildeNumber = FirstTildeNumber + 62 * 62 * 62 * 62 - 1;

    // ---------------------------------------------------------------- permanent numbers

    /// <summary>
    /// The 5-character packed permanent number: zero-padded below 100,000 ("00433"), a letter for the ten-thousands
    /// from 100,000 to 619,999 ("A0345" = 100345, "z9999" = 619999), and "~" with four base-62 digits of n - 620,000 from
    /// 620,000 ("~0000", "~000a" = 620036).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">n is not in 1 ... <see cref="LastTildeNumber"/>.</exception>
    public static string PackNumber(int number)
    {
        if (number < 1 || number > LastTildeNumber) throw new ArgumentOutOfRangeException(nameof(number), number, $"a minor-planet number is 1 ... {LastTildeNumber}");
        if (number < 100_000) return number.ToString("D5", CultureInfo.InvariantCulture);
        if (number < FirstTildeNumber) return Base62[number / 10_000] + (number % 10_000).ToString("D4", CultureInfo.InvariantCulture);
        return "~" + ToBase62(number - FirstTildeNumber, 4);
    }

    /// <summary>The number in a 5-character packed permanent number; false when it is not one.</summary>
    public static bool TryUnpackNumber(ReadOnlySpan<char> packed, out int number)
    {
        number = 0;
        if (packed.Length != 5) return false;
        if (packed[0] == '~')
        {
            if (!TryFromBase62(packed[1..], out int offset)) return false;
            number = FirstTildeNumber + offset;
            return true;
        }
        int head = Base62.IndexOf(packed[0]);
        if (head < 0) return false;
        foreach (char c in packed[1..]) if (!char.IsAsciiDigit(c)) return false;
        number = head * 10_000 + int.Parse(packed[1..], NumberStyles.None, CultureInfo.InvariantCulture);
        return number > 0;
    }

    /// <summary>The number in a 5-character packed permanent number.</summary>
    /// <exception cref="FormatException">It is not one.</exception>
    public static int UnpackNumber(string packed) =>
        TryUnpackNumber(packed, out int n) ? n : throw new FormatException($"'{packed}' is not a packed minor-planet number");

    // ---------------------------------------------------------------- provisional designations

    /// <summary>
    /// The 7-character packed provisional designation of a minor planet: "2004 JQ12" -> "K04J12Q", "1998 SQ108" ->
    /// "J98SA8Q", survey designations "2040 P-L" -> "PLS2040", and from cycle 620 the extended form "2026 CA620" ->
    /// "_QC0000".
    /// </summary>
    /// <exception cref="FormatException">It is not an unpacked provisional designation.</exception>
    public static string PackProvisional(string unpacked) =>
        TryPackProvisional(unpacked, out string? packed) ? packed : throw new FormatException($"'{unpacked}' is not a provisional designation");

    /// <summary>As <see cref="PackProvisional"/>; false when it is not a provisional designation.</summary>
    public static bool TryPackProvisional(string? unpacked, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? packed)
    {
        packed = null;
        if (unpacked is null) return false;
        string s = unpacked.Trim();
        var survey = UnpackedSurvey().Match(s);
        if (survey.Success)
        {
            packed = SurveyCode(survey.Groups[2].Value) + "S" + survey.Groups[1].Value;
            return true;
        }
        var m = UnpackedProvisional().Match(s);
        if (!m.Success) return false;
        int year = int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        char half = m.Groups[2].Value[0], order = m.Groups[3].Value[0];
        int cycle = m.Groups[4].Length == 0 ? 0 : int.Parse(m.Groups[4].ValueSpan, CultureInfo.InvariantCulture);
        if (year < 1800 || year > 2499) return false;
        if (cycle < 620)
        {
            string cycleCode = cycle < 100 ? cycle.ToString("D2", CultureInfo.InvariantCulture) : $"{Base62[cycle / 10]}{cycle % 10}";
            packed = $"{Base62[year / 100]}{year % 100:D2}{half}{cycleCode}{order}";
            return true;
        }
        // Extended scheme: '_', the year since 2000 in base 62, the half-month letter, and the sequence number within
        // the half-month (cycle × 25 + order) less 15,501 in four base-62 digits.
        long sequence = (long)cycle * 25 + OrderLetters.IndexOf(order, StringComparison.Ordinal) + 1 - FirstExtendedSequence;
        if (year < 2000 || year > 2061 || sequence >= 62L * 62 * 62 * 62) return false;
        packed = $"_{Base62[year - 2000]}{half}{ToBase62((int)sequence, 4)}";
        return true;
    }

    /// <summary>
    /// The unpacked provisional designation of a packed one: "K04J12Q" -> "2004 JQ12", "J95X00A" -> "1995 XA",
    /// "K07Tf8A" -> "2007 TA418", "PLS2040" -> "2040 P-L", "_QC0aEM" -> "2026 CZ6190".
    /// </summary>
    /// <exception cref="FormatException">It is not a packed provisional designation.</exception>
    public static string UnpackProvisional(string packed) =>
        TryUnpackProvisional(packed, out string? unpacked) ? unpacked : throw new FormatException($"'{packed}' is not a packed provisional designation");

    /// <summary>As <see cref="UnpackProvisional"/>; false when it is not a packed provisional designation.</summary>
    public static bool TryUnpackProvisional(string? packed, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? unpacked)
    {
        unpacked = null;
        if (packed is null || packed.Length != 7) return false;
        if (packed[0] == '_')
        {
            int yearCode = Base62.IndexOf(packed[1]);
            if (yearCode < 0 || HalfMonthLetters.IndexOf(packed[2]) < 0 || !TryFromBase62(packed.AsSpan(3), out int offset)) return false;
            long sequence = (long)offset + FirstExtendedSequence;
            long cycle = (sequence - 1) / 25;
            char order = OrderLetters[(int)((sequence - 1) % 25)];
            unpacked = $"{2000 + yearCode} {packed[2]}{order}{cycle}";
            return true;
        }
        if (packed[2] == 'S' && SurveyName(packed[..2]) is { } surveyName && packed.AsSpan(3).ContainsAnyExceptInRange('0', '9') == false)
        {
            unpacked = $"{packed[3..]} {surveyName}";
            return true;
        }
        if (!TryCentury(packed[0], out int century) || !char.IsAsciiDigit(packed[1]) || !char.IsAsciiDigit(packed[2])) return false;
        if (HalfMonthLetters.IndexOf(packed[3]) < 0 || OrderLetters.IndexOf(packed[6]) < 0) return false;
        int tens = Base62.IndexOf(packed[4]);
        if (tens < 0 || !char.IsAsciiDigit(packed[5])) return false;
        int cycleCount = tens * 10 + (packed[5] - '0');
        int year = century * 100 + (packed[1] - '0') * 10 + (packed[2] - '0');
        unpacked = $"{year} {packed[3]}{packed[6]}" + (cycleCount > 0 ? cycleCount.ToString(CultureInfo.InvariantCulture) : "");
        return true;
    }

    // ---------------------------------------------------------------- comets

    /// <summary>
    /// The unpacked form of a packed comet designation. The 7-character provisional part: "J95A010" -> "1995 A1",
    /// "J94P01b" -> "1994 P1-B" (a fragment), "K88AA30" -> "2088 A103", and a comet with a minor-planet-style designation
    /// "K04D29O" -> "2004 DO29". With the orbit type in front (8 characters, "CJ95O010") or in the 12-character form
    /// ("    CJ95O010", "0001P       "), the result carries it: "C/1995 O1", "1P". A numbered periodic comet's
    /// 5-character form "0041P" -> "41P".
    /// </summary>
    /// <exception cref="FormatException">It is not a packed comet designation.</exception>
    public static string UnpackComet(string packed) =>
        TryUnpackComet(packed, out string? unpacked) ? unpacked : throw new FormatException($"'{packed}' is not a packed comet designation");

    /// <summary>As <see cref="UnpackComet"/>; false when it is not a packed comet designation.</summary>
    public static bool TryUnpackComet(string? packed, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? unpacked)
    {
        unpacked = null;
        if (packed is null) return false;
        string s = packed;
        if (s.Length == 12)
        {
            // Columns 1-4: the periodic-comet number (or blanks), 5: the orbit type, 6-12: the provisional part.
            // Columns 1-4 are all digits (zero-padded) or all blank; for a numbered comet 6-12 are blank but for a
            // fragment's lower-case letters at the end ("3141P      e" is 3141P-E, projectpluto.com/packed.htm).
            string number = s[..4], type = s[4..5], provisional = s[5..].Trim();
            if (!"PCDXAI".Contains(type, StringComparison.Ordinal)) return false;
            if (number.AsSpan().ContainsAnyExceptInRange('0', '9'))
                return number == "    " && TryUnpackComet(type + provisional, out unpacked);
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n <= 0) return false;
            if (provisional.Length > 2 || provisional.AsSpan().ContainsAnyExceptInRange('a', 'z')) return false;
            unpacked = $"{n}{type}" + (provisional.Length > 0 ? "-" + provisional.ToUpperInvariant() : "");
            return true;
        }
        s = s.Trim();
        if (s.Length == 5 && "PDI".Contains(s[4], StringComparison.Ordinal) && int.TryParse(s.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out int periodic) && periodic > 0)
        {
            unpacked = $"{periodic}{s[4]}";
            return true;
        }
        if (s.Length == 8 && "PCDXAI".Contains(s[0], StringComparison.Ordinal))
        {
            if (!TryUnpackCometProvisional(s[1..], out string? inner)) return false;
            unpacked = $"{s[0]}/{inner}";
            return true;
        }
        return s.Length == 7 && TryUnpackCometProvisional(s, out unpacked);
    }

    /// <summary>
    /// The packed form of a comet designation, inverse of <see cref="UnpackComet"/>: "C/1995 O1" -> "CJ95O010",
    /// "P/1994 P1-B" -> "PJ94P01b", "1P" (or "1P/Halley") -> "0001P", "2004 DO29" -> "K04D29O". A fragment of a
    /// numbered comet ("73P-B") has no 5-character packed form and is refused.
    /// </summary>
    /// <exception cref="FormatException">It is not a comet designation.</exception>
    public static string PackComet(string unpacked)
    {
        string s = unpacked.Trim();
        var numbered = NumberedComet().Match(s);
        if (numbered.Success && !numbered.Groups[3].Success) return int.Parse(numbered.Groups[1].ValueSpan, CultureInfo.InvariantCulture).ToString("D4", CultureInfo.InvariantCulture) + numbered.Groups[2].Value;
        string type = "";
        if (s.Length > 2 && s[1] == '/')
        {
            type = s[..1];
            s = s[2..];
        }
        var m = UnpackedComet().Match(s);
        if (m.Success)
        {
            int year = int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
            int order = int.Parse(m.Groups[3].ValueSpan, CultureInfo.InvariantCulture);
            char fragment = m.Groups[4].Success ? char.ToLowerInvariant(m.Groups[4].Value[0]) : '0';
            if (year >= 1800 && year < 2500 && order < 620)
            {
                string orderCode = order < 100 ? order.ToString("D2", CultureInfo.InvariantCulture) : $"{Base62[order / 10]}{order % 10}";
                return $"{type}{Base62[year / 100]}{year % 100:D2}{m.Groups[2].Value}{orderCode}{fragment}";
            }
        }
        if (TryPackProvisional(s, out string? asteroidStyle)) return type + asteroidStyle;
        throw new FormatException($"'{unpacked}' is not a comet designation");
    }

    private static bool TryUnpackCometProvisional(string s, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? unpacked)
    {
        unpacked = null;
        if (s.Length != 7) return false;
        // A comet given a minor-planet-style designation (P/2004 DO29) has a letter in column 7.
        if (char.IsAsciiLetterUpper(s[6])) return TryUnpackProvisional(s, out unpacked);
        if (!TryCentury(s[0], out int century) || !char.IsAsciiDigit(s[1]) || !char.IsAsciiDigit(s[2])) return false;
        if (HalfMonthLetters.IndexOf(s[3]) < 0) return false;
        int tens = Base62.IndexOf(s[4]);
        if (tens < 0 || !char.IsAsciiDigit(s[5])) return false;
        int order = tens * 10 + (s[5] - '0');
        if (order == 0) return false;
        string fragment;
        if (s[6] == '0') fragment = "";
        else if (char.IsAsciiLetterLower(s[6])) fragment = "-" + char.ToUpperInvariant(s[6]);
        else return false;
        unpacked = $"{century * 100 + (s[1] - '0') * 10 + (s[2] - '0')} {s[3]}{order}{fragment}";
        return true;
    }

    // ---------------------------------------------------------------- dates

    /// <summary>
    /// A packed MPC date as a calendar date and fraction: "K2485" -> 2024-08-05, "J981I73" -> 1998 Jan. 18.73. Column 1
    /// is the century (I = 18, J = 19, K = 20), 2-3 the year, 4 the month and 5 the day (1-9, then A = 10 ... V = 31),
    /// and any further digits the decimal fraction of the day.
    /// </summary>
    public static bool TryUnpackDate(string? packed, out DateOnly date, out double dayFraction)
    {
        date = default;
        dayFraction = 0;
        if (packed is null) return false;
        string s = packed.Trim();
        if (s.Length < 5 || !TryCentury(s[0], out int century) || !char.IsAsciiDigit(s[1]) || !char.IsAsciiDigit(s[2])) return false;
        int month = Base62.IndexOf(s[3]), day = Base62.IndexOf(s[4]);
        int year = century * 100 + (s[1] - '0') * 10 + (s[2] - '0');
        if (month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        if (s.Length > 5)
        {
            foreach (char c in s.AsSpan(5)) if (!char.IsAsciiDigit(c)) return false;
            dayFraction = double.Parse("0." + s[5..], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        date = new DateOnly(year, month, day);
        return true;
    }

    /// <summary>
    /// A packed MPC date or epoch as a Modified Julian Date in its own time scale: MPC epochs are TT ("Epoch (in packed
    /// form, .0 TT)", MPC Export Format for Minor-Planet Orbits), so "K2485" -> MJD 60527.0 TT. Orbit readers use the
    /// value as MJD TDB: TDB - TT is periodic with amplitude 1.66 ms (Explanatory Supplement 3rd ed. §3.5), which moves a
    /// main-belt asteroid by about 30 m and a near-Earth object by well under a milliarcsecond, far below our needs.
    /// </summary>
    /// <exception cref="FormatException">It is not a packed date.</exception>
    public static double PackedDateToMjd(string packed) =>
        TryUnpackDate(packed, out var date, out double fraction) ? CalendarToMjd(date) + fraction : throw new FormatException($"'{packed}' is not a packed MPC date");

    /// <summary>The 5-character packed form of a calendar date: 2024-08-05 -> "K2485".</summary>
    /// <exception cref="ArgumentOutOfRangeException">The year is outside 1000 ... 6199.</exception>
    public static string PackDate(DateOnly date)
    {
        if (date.Year < 1000 || date.Year >= 6200) throw new ArgumentOutOfRangeException(nameof(date), date, "a packed date's century is one base-62 character (10 ... 61)");
        return $"{Base62[date.Year / 100]}{date.Year % 100:D2}{Base62[date.Month]}{Base62[date.Day]}";
    }

    /// <summary>The MJD of 0h on a (proleptic Gregorian) calendar date: days since 1858 November 17.</summary>
    public static double CalendarToMjd(DateOnly date) => date.DayNumber - MjdZero.DayNumber;

    /// <summary>The MJD of a calendar date with a fractional day (day 29.6466 = 29 d 15.5 h).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a valid date.</exception>
    public static double CalendarToMjd(int year, int month, double day)
    {
        int whole = (int)Math.Floor(day);
        if (month < 1 || month > 12 || whole < 1 || whole > DateTime.DaysInMonth(year, month)) throw new ArgumentOutOfRangeException(nameof(day), $"{year}-{month}-{day} is not a date");
        return CalendarToMjd(new DateOnly(year, month, whole)) + (day - whole);
    }

    private static readonly DateOnly MjdZero = new(1858, 11, 17);

    // ---------------------------------------------------------------- comparison keys

    /// <summary>
    /// One comparison key for a designation in any form: a permanent number gives its digits ("1", "217301"), a
    /// provisional designation its unpacked form with one space ("2004 JQ12"), a comet its designation without a name
    /// ("1P", "C/1995 O1"). Accepted: bare numbers ("4826", "(433)"), packed numbers ("00433", "A0345", "~0000"),
    /// unpacked provisional designations with or without the space ("2004 JQ12", "2012QR64"), packed ones
    /// ("K12Q64R", "_QC0000", "PLS2040"), JPL SBDB full names ("     1 Ceres (A801 AA)" -> "1", "(2012 QR64)" ->
    /// "2012 QR64", "594913 'Aylo'chaxnim (2020 AV2)" -> "594913"), comets ("1P/Halley" -> "1P",
    /// "C/1995 O1 (Hale-Bopp)" -> "C/1995 O1", "0001P", "CJ95O010"). Anything else gives its trimmed text with runs of
    /// blanks made one, so two unknown names still compare as text. Null or blank gives "".
    /// </summary>
    /// <remarks>
    /// A numbered object's number and its provisional designation are different keys: telling that 217301 is 2004 JQ12
    /// needs the orbit catalogue. <see cref="Keys"/> gives every key a name carries ("217301 (2004 JQ12)" gives both),
    /// and <see cref="SameObject"/> compares an orbit against a survey's designation with them.
    /// </remarks>
    public static string Key(string? designation)
    {
        if (string.IsNullOrWhiteSpace(designation)) return "";
        string s = Collapse(designation);
        if (TryCanonical(s, out string? key)) return key;
        // "C/1995 O1 (Hale-Bopp)", "217301 (2004 JQ12)": the designation before the parenthesis.
        int open = s.IndexOf(" (", StringComparison.Ordinal);
        if (open > 0 && TryCanonical(s[..open], out key)) return key;
        // "2004 JQ12 Somename": a provisional designation, then more.
        string[] words = s.Split(' ', 3);
        if (words.Length >= 2 && UnpackedProvisional().IsMatch(words[0] + " " + words[1]) && TryCanonical(words[0] + " " + words[1], out key)) return key;
        // "1 Ceres (A801 AA)", "(433) Eros", "594913 'Aylo'chaxnim (2020 AV2)": the number leads.
        var named = NumberThenName().Match(s);
        if (named.Success) return TrimZeros(named.Groups[1].Value);
        // "Ceres (A801 AA)": only the parenthesis holds a designation.
        string? inner = Parenthesised(s);
        if (inner is not null && TryCanonical(inner, out key)) return key;
        return s;
    }

    /// <summary>
    /// Every key (<see cref="Key"/>) a designation or full name carries: "217301 (2004 JQ12)" (SBDB) and
    /// "(217301) 2004 JQ12" (MPCORB) give "217301" and "2004 JQ12"; "     1 Ceres (A801 AA)" gives "1" and "A801 AA";
    /// a plain designation gives its one key.
    /// </summary>
    public static IReadOnlyList<string> Keys(string? designationOrName)
    {
        string first = Key(designationOrName);
        if (first.Length == 0) return [];
        var keys = new List<string>(2) { first };
        string collapsed = Collapse(designationOrName!);
        string? inner = Parenthesised(collapsed);
        if (inner is not null && TryCanonical(inner, out string? second) && second != first) keys.Add(second);
        // MPCORB's readable form of a numbered, unnamed object: "(217301) 2004 JQ12".
        var named = NumberThenName().Match(collapsed);
        if (named.Success && TryCanonical(collapsed[(named.Index + named.Length - 1)..].Trim(), out string? rest) && !keys.Contains(rest)) keys.Add(rest);
        return keys;
    }

    /// <summary>
    /// Whether a survey's designation (<c>ssnamenr</c>, <c>ssSource.designation</c>, any form <see cref="Key"/> reads)
    /// names this orbit's object: by its designation or by a designation in its full name (so a numbered object whose
    /// name carries its provisional designation matches a survey that still writes the provisional one).
    /// </summary>
    public static bool SameObject(SolarSystemOrbit orbit, string? surveyDesignation)
    {
        ArgumentNullException.ThrowIfNull(orbit);
        var theirs = Keys(surveyDesignation);
        if (theirs.Count == 0) return false;
        foreach (string k in Keys(orbit.Designation)) if (theirs.Contains(k)) return true;
        foreach (string k in Keys(orbit.Name)) if (theirs.Contains(k)) return true;
        return false;
    }

    /// <summary>
    /// The designation an orbit reader stores from a JPL SBDB-style full name: the number when it leads
    /// ("1 Ceres (A801 AA)" -> "1"), else the designation (<see cref="Key"/>): "(2012 QR64)" -> "2012 QR64".
    /// </summary>
    public static string FromFullName(string fullName) => Key(fullName);

    /// <summary>
    /// What ZTF writes in <c>ssnamenr</c> for a designation: the bare number when numbered ("4826"), else the
    /// provisional designation without its space ("2012QR64").
    /// </summary>
    public static string ZtfForm(string designation) => Key(designation).Replace(" ", "", StringComparison.Ordinal);

    private static bool TryCanonical(string s, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? key)
    {
        key = null;
        if (s.Length == 0) return false;
        // A bare number, possibly in parentheses: "4826", "(433)".
        string bare = s.Length > 2 && s[0] == '(' && s[^1] == ')' ? s[1..^1].Trim() : s;
        if (bare.Length is > 0 and <= 9 && !bare.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            string digits = TrimZeros(bare);
            if (digits != "0")
            {
                key = digits;
                return true;
            }
            return false;
        }
        if (bare != s) return TryCanonical(bare, out key);
        if (TryUnpackNumber(s, out int number))
        {
            key = number.ToString(CultureInfo.InvariantCulture);
            return true;
        }
        // Unpacked provisional, with or without its space; survey designations; the packed forms.
        var m = UnpackedProvisional().Match(s);
        if (m.Success)
        {
            key = $"{m.Groups[1].Value} {m.Groups[2].Value}{m.Groups[3].Value}{TrimZeros(m.Groups[4].Value, keepEmpty: true)}";
            return true;
        }
        var survey = UnpackedSurvey().Match(s);
        if (survey.Success)
        {
            key = $"{survey.Groups[1].Value} {survey.Groups[2].Value}";
            return true;
        }
        if (OldStyleProvisional().IsMatch(s))
        {
            key = s;
            return true;
        }
        if (TryUnpackProvisional(s, out key)) return true;
        // Comets: "1P", "1P/Halley", "C/1995 O1", "P/2004 DO29", and the packed forms.
        var numbered = NumberedComet().Match(s);
        if (numbered.Success)
        {
            key = TrimZeros(numbered.Groups[1].Value) + numbered.Groups[2].Value + numbered.Groups[3].Value;
            return true;
        }
        var comet = CometWithType().Match(s);
        if (comet.Success)
        {
            string type = comet.Groups[1].Value, body = comet.Groups[2].Value;
            var c = UnpackedComet().Match(body);
            if (c.Success)
            {
                key = $"{type}/{c.Groups[1].Value} {c.Groups[2].Value}{TrimZeros(c.Groups[3].Value)}" + (c.Groups[4].Success ? "-" + c.Groups[4].Value : "");
                return true;
            }
            // A comet with a minor-planet-style designation: "P/2004 DO29".
            var p = UnpackedProvisional().Match(body);
            if (p.Success)
            {
                key = $"{type}/{p.Groups[1].Value} {p.Groups[2].Value}{p.Groups[3].Value}{TrimZeros(p.Groups[4].Value, keepEmpty: true)}";
                return true;
            }
            return false;
        }
        if (s.Length is 5 or 8 or 12 && TryUnpackComet(s, out string? unpackedComet)) return TryCanonical(unpackedComet, out key);
        return false;
    }

    private static string? Parenthesised(string s)
    {
        int open = s.LastIndexOf('('), close = s.LastIndexOf(')');
        return open >= 0 && close > open + 1 ? s[(open + 1)..close].Trim() : null;
    }

    private static string Collapse(string s)
    {
        var b = new StringBuilder(s.Length);
        bool blank = false;
        foreach (char c in s.Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                blank = true;
                continue;
            }
            if (blank) b.Append(' ');
            blank = false;
            b.Append(c);
        }
        return b.ToString();
    }

    private static string TrimZeros(string digits, bool keepEmpty = false)
    {
        string t = digits.TrimStart('0');
        return t.Length > 0 ? t : keepEmpty ? "" : "0";
    }

    private static bool TryCentury(char c, out int century)
    {
        // I = 18, J = 19, K = 20: base-62 digits, so the rule extends to any century letter A-Z.
        century = c is >= 'A' and <= 'Z' ? c - 'A' + 10 : 0;
        return century > 0;
    }

    private static string SurveyCode(string survey) => survey == "P-L" ? "PL" : survey.Replace("-", "", StringComparison.Ordinal);

    private static string? SurveyName(string code) => code switch
    {
        "PL" => "P-L",
        "T1" => "T-1",
        "T2" => "T-2",
        "T3" => "T-3",
        _ => null,
    };

    private static string ToBase62(int value, int digits)
    {
        Span<char> text = stackalloc char[digits];
        for (int i = digits - 1; i >= 0; i--)
        {
            text[i] = Base62[value % 62];
            value /= 62;
        }
        return new string(text);
    }

    private static bool TryFromBase62(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (char c in text)
        {
            int d = Base62.IndexOf(c);
            if (d < 0) return false;
            value = value * 62 + d;
        }
        return true;
    }

    /// <summary>"2004 JQ12", "2012QR64", "1995 XA": year, half-month letter, order letter, cycle count.</summary>
    [GeneratedRegex(@"^(\d{4}) ?([A-HJ-Y])([A-HJ-Z])(\d*)$", RegexOptions.CultureInvariant)]
    private static partial Regex UnpackedProvisional();

    /// <summary>"2040 P-L", "3138 T-1".</summary>
    [GeneratedRegex(@"^(\d{4}) ?(P-L|T-1|T-2|T-3)$", RegexOptions.CultureInvariant)]
    private static partial Regex UnpackedSurvey();

    /// <summary>Pre-1925 provisional designations as SBDB writes them: "A801 AA".</summary>
    [GeneratedRegex(@"^[A-Z]\d{3} [A-Z]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex OldStyleProvisional();

    /// <summary>"1P", "0001P", "1P/Halley", "73P-B" (numbered periodic comets and interstellar objects).</summary>
    [GeneratedRegex(@"^0*(\d+)([PDI])(-[A-Z]{1,2})?(?:/.*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NumberedComet();

    /// <summary>"C/1995 O1", "P/2004 DO29", "A/2018 V3", "P/1994 P1-B": orbit type and the rest.</summary>
    [GeneratedRegex(@"^([PCDXAI])/(.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex CometWithType();

    /// <summary>A comet's provisional part "1995 O1", "1994 P1-B": year, half-month letter, order, fragment.</summary>
    [GeneratedRegex(@"^(\d{4}) ?([A-HJ-Y])(\d+)(?:-([A-Z]))?$", RegexOptions.CultureInvariant)]
    private static partial Regex UnpackedComet();

    /// <summary>A number, then a name: "1 Ceres (A801 AA)", "(433) Eros", "594913 'Aylo'chaxnim (2020 AV2)".</summary>
    [GeneratedRegex(@"^\(?(\d+)\)? \S", RegexOptions.CultureInvariant)]
    private static partial Regex NumberThenName();
}
