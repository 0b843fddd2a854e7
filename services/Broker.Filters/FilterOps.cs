using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// The operations compiled filters call: static, allocation-free, never throwing, with the language's null rules
/// (a decimal is NaN for null; an integer is <c>long?</c>; a condition a <see cref="Tri"/> byte). Nothing here
/// reaches reflection, I/O or an unbounded loop: the loops run over an alert's history or a bounded pattern.
/// </summary>
public static class FilterOps
{
    // ---- logic (Kleene, as SQL) ----

    /// <summary><c>not</c>.</summary>
    public static byte Not(byte a) => (byte)(2 - a);

    /// <summary><c>and</c> without short-circuit.</summary>
    public static byte And(byte a, byte b) => a < b ? a : b;

    /// <summary><c>or</c> without short-circuit.</summary>
    public static byte Or(byte a, byte b) => a > b ? a : b;

    /// <summary>A condition from a boolean field or literal.</summary>
    public static byte IsTrue(byte a) => a;

    // ---- promotion ----

    /// <summary>An integer as a decimal (null stays null).</summary>
    public static double ToReal(long? a) => a is { } v ? v : double.NaN;

    /// <summary>A decimal that is NaN (null) or infinite becomes null; others pass.</summary>
    public static double Finite(double a) => double.IsFinite(a) ? a : double.NaN;

    // ---- integer arithmetic: exact; overflow gives null ----

    /// <summary>a + b.</summary>
    public static long? AddInt(long? a, long? b)
    {
        if (a is not { } x || b is not { } y) return null;
        long r = unchecked(x + y);
        return ((x ^ r) & (y ^ r)) < 0 ? null : r;
    }

    /// <summary>a - b.</summary>
    public static long? SubInt(long? a, long? b)
    {
        if (a is not { } x || b is not { } y) return null;
        long r = unchecked(x - y);
        return ((x ^ y) & (x ^ r)) < 0 ? null : r;
    }

    /// <summary>a * b.</summary>
    public static long? MulInt(long? a, long? b)
    {
        if (a is not { } x || b is not { } y) return null;
        long hi = Math.BigMul(x, y, out long lo);
        return (hi == 0 && lo >= 0) || (hi == -1 && lo < 0) ? lo : null;
    }

    /// <summary>a % b: the remainder with the dividend's sign (C#, SQL); b = 0 gives null.</summary>
    public static long? ModInt(long? a, long? b)
    {
        if (a is not { } x || b is not { } y || y == 0) return null;
        return y == -1 ? 0 : x % y;
    }

    /// <summary>-a (-(-2^63) overflows: null).</summary>
    public static long? NegInt(long? a) => a is { } x && x != long.MinValue ? -x : null;

    // ---- decimal arithmetic ----

    /// <summary>a / b as decimals; b = 0 gives null.</summary>
    public static double Div(double a, double b) => b == 0 ? double.NaN : a / b;

    /// <summary>a % b as decimals (fmod: the dividend's sign); b = 0 gives null.</summary>
    public static double ModReal(double a, double b) => b == 0 ? double.NaN : a % b;

    // ---- comparisons ----

    /// <summary>=.</summary>
    public static byte EqReal(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? Tri.Unknown : Tri.Of(a == b);
    /// <summary>!=.</summary>
    public static byte NeReal(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? Tri.Unknown : Tri.Of(a != b);
    /// <summary>&lt;.</summary>
    public static byte LtReal(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? Tri.Unknown : Tri.Of(a < b);
    /// <summary>&lt;=.</summary>
    public static byte LeReal(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? Tri.Unknown : Tri.Of(a <= b);
    /// <summary>&gt;.</summary>
    public static byte GtReal(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? Tri.Unknown : Tri.Of(a > b);
    /// <summary>&gt;=.</summary>
    public static byte GeReal(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? Tri.Unknown : Tri.Of(a >= b);

    /// <summary>=.</summary>
    public static byte EqInt(long? a, long? b) => a is { } x && b is { } y ? Tri.Of(x == y) : Tri.Unknown;
    /// <summary>!=.</summary>
    public static byte NeInt(long? a, long? b) => a is { } x && b is { } y ? Tri.Of(x != y) : Tri.Unknown;
    /// <summary>&lt;.</summary>
    public static byte LtInt(long? a, long? b) => a is { } x && b is { } y ? Tri.Of(x < y) : Tri.Unknown;
    /// <summary>&lt;=.</summary>
    public static byte LeInt(long? a, long? b) => a is { } x && b is { } y ? Tri.Of(x <= y) : Tri.Unknown;
    /// <summary>&gt;.</summary>
    public static byte GtInt(long? a, long? b) => a is { } x && b is { } y ? Tri.Of(x > y) : Tri.Unknown;
    /// <summary>&gt;=.</summary>
    public static byte GeInt(long? a, long? b) => a is { } x && b is { } y ? Tri.Of(x >= y) : Tri.Unknown;

    /// <summary>String comparison, ordinal: negative, zero or positive; null gives <see cref="int.MinValue"/>.</summary>
    private static int Cmp(string? a, string? b) => a is null || b is null ? int.MinValue : Math.Sign(string.CompareOrdinal(a, b));

    /// <summary>=.</summary>
    public static byte EqStr(string? a, string? b) => a is null || b is null ? Tri.Unknown : Tri.Of(string.Equals(a, b, StringComparison.Ordinal));
    /// <summary>!=.</summary>
    public static byte NeStr(string? a, string? b) => a is null || b is null ? Tri.Unknown : Tri.Of(!string.Equals(a, b, StringComparison.Ordinal));
    /// <summary>&lt;.</summary>
    public static byte LtStr(string? a, string? b) => Cmp(a, b) is var c && c == int.MinValue ? Tri.Unknown : Tri.Of(c < 0);
    /// <summary>&lt;=.</summary>
    public static byte LeStr(string? a, string? b) => Cmp(a, b) is var c && c == int.MinValue ? Tri.Unknown : Tri.Of(c <= 0);
    /// <summary>&gt;.</summary>
    public static byte GtStr(string? a, string? b) => Cmp(a, b) is var c && c == int.MinValue ? Tri.Unknown : Tri.Of(c > 0);
    /// <summary>&gt;=.</summary>
    public static byte GeStr(string? a, string? b) => Cmp(a, b) is var c && c == int.MinValue ? Tri.Unknown : Tri.Of(c >= 0);

    /// <summary>= on conditions.</summary>
    public static byte EqBool(byte a, byte b) => a == Tri.Unknown || b == Tri.Unknown ? Tri.Unknown : Tri.Of(a == b);
    /// <summary>!= on conditions.</summary>
    public static byte NeBool(byte a, byte b) => a == Tri.Unknown || b == Tri.Unknown ? Tri.Unknown : Tri.Of(a != b);

    // ---- is null, in, like ----

    /// <summary>Whether a decimal is null.</summary>
    public static byte IsNullReal(double a) => Tri.Of(double.IsNaN(a));
    /// <summary>Whether an integer is null.</summary>
    public static byte IsNullInt(long? a) => Tri.Of(!a.HasValue);
    /// <summary>Whether a string is null.</summary>
    public static byte IsNullStr(string? a) => Tri.Of(a is null);
    /// <summary>Whether a condition is unknown (SQL: a boolean that is null).</summary>
    public static byte IsNullBool(byte a) => Tri.Of(a == Tri.Unknown);

    /// <summary><c>x in (...)</c> over sorted integers; <paramref name="hasNull"/>: the list holds null (no match is then unknown).</summary>
    public static byte InInt(long? x, long[] sorted, bool hasNull)
    {
        if (x is not { } v) return Tri.Unknown;
        return Array.BinarySearch(sorted, v) >= 0 ? Tri.True : hasNull ? Tri.Unknown : Tri.False;
    }

    /// <summary><c>x in (...)</c> over sorted decimals.</summary>
    public static byte InReal(double x, double[] sorted, bool hasNull)
    {
        if (double.IsNaN(x)) return Tri.Unknown;
        return Array.BinarySearch(sorted, x) >= 0 ? Tri.True : hasNull ? Tri.Unknown : Tri.False;
    }

    /// <summary><c>x in (...)</c> over strings sorted by ordinal.</summary>
    public static byte InStr(string? x, string[] sorted, bool hasNull)
    {
        if (x is null) return Tri.Unknown;
        return Array.BinarySearch(sorted, x, StringComparer.Ordinal) >= 0 ? Tri.True : hasNull ? Tri.Unknown : Tri.False;
    }

    /// <summary><c>x like pattern</c>.</summary>
    public static byte Like(string? x, LikePattern pattern) => x is null ? Tri.Unknown : Tri.Of(pattern.IsMatch(x));

    // ---- functions: null in, null out; outside the domain, null ----

    /// <summary>|a| (|-2^63| overflows: null).</summary>
    public static long? AbsInt(long? a) => a is { } x && x != long.MinValue ? Math.Abs(x) : null;
    /// <summary>|a|.</summary>
    public static double AbsReal(double a) => Math.Abs(a);
    /// <summary>Square root; negative gives null.</summary>
    public static double Sqrt(double a) => a >= 0 ? Math.Sqrt(a) : double.NaN;
    /// <summary>Base-10 logarithm; a &lt;= 0 gives null.</summary>
    public static double Log10(double a) => a > 0 ? Math.Log10(a) : double.NaN;
    /// <summary>Natural logarithm; a &lt;= 0 gives null.</summary>
    public static double Ln(double a) => a > 0 ? Math.Log(a) : double.NaN;
    /// <summary>e^a; an overflow gives null.</summary>
    public static double Exp(double a) => Finite(Math.Exp(a));
    /// <summary>a^b; a result that is not a finite real (pow(-8, 0.5), pow(0, -1)) gives null.</summary>
    public static double Pow(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Finite(Math.Pow(a, b));
    /// <summary>Largest integer-valued decimal not above a.</summary>
    public static double Floor(double a) => Math.Floor(a);
    /// <summary>Smallest integer-valued decimal not below a.</summary>
    public static double Ceil(double a) => Math.Ceiling(a);
    /// <summary>Rounds half away from zero to an integer-valued decimal (as <see cref="RoundTo"/> with 0 digits).</summary>
    public static double Round(double a) => RoundTo(a, 0);

    /// <summary>
    /// Rounds half away from zero to <paramref name="digits"/> decimal places (negative: tens, hundreds...); digits
    /// outside -15..15 give null. The value is first taken to 15 significant digits, as a decimal literal of it
    /// reads (so round(1.45, 1) is 1.5, although the double nearest 1.45 lies just below it); from 1e15 up a
    /// decimal is already an integer and is returned as it is.
    /// </summary>
    public static double RoundTo(double a, long? digits)
    {
        if (digits is not { } d || d < -15 || d > 15 || double.IsNaN(a)) return double.NaN;
        if (Math.Abs(a) >= 1e15) return a;
        decimal x = (decimal)a; // System.Decimal's conversion keeps 15 significant digits
        if (d >= 0) return (double)Math.Round(x, (int)d, MidpointRounding.AwayFromZero);
        decimal scale = 1;
        for (long k = 0; k < -d; k++) scale *= 10;
        return (double)(Math.Round(x / scale, MidpointRounding.AwayFromZero) * scale);
    }

    /// <summary>min over decimals: null if any is null.</summary>
    public static double MinReal(double[] v)
    {
        double m = double.PositiveInfinity;
        foreach (double x in v) { if (double.IsNaN(x)) return double.NaN; if (x < m) m = x; }
        return m;
    }

    /// <summary>max over decimals: null if any is null.</summary>
    public static double MaxReal(double[] v)
    {
        double m = double.NegativeInfinity;
        foreach (double x in v) { if (double.IsNaN(x)) return double.NaN; if (x > m) m = x; }
        return m;
    }

    /// <summary>min of two decimals.</summary>
    public static double Min2(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b);
    /// <summary>max of two decimals.</summary>
    public static double Max2(double a, double b) => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b);
    /// <summary>min of two integers.</summary>
    public static long? Min2Int(long? a, long? b) => a is { } x && b is { } y ? Math.Min(x, y) : null;
    /// <summary>max of two integers.</summary>
    public static long? Max2Int(long? a, long? b) => a is { } x && b is { } y ? Math.Max(x, y) : null;

    /// <summary>Lower case (invariant).</summary>
    public static string? Lower(string? s) => s?.ToLowerInvariant();
    /// <summary>Upper case (invariant).</summary>
    public static string? Upper(string? s) => s?.ToUpperInvariant();
    /// <summary>Length in UTF-16 characters.</summary>
    public static long? Length(string? s) => s?.Length;

    private const double DegToRad = Math.PI / 180;

    /// <summary>
    /// Angular distance between two positions (degrees in), arcseconds: the Vincenty formula for the sphere,
    /// atan2(|u1 × u2|, u1 · u2), accurate at every separation (Vincenty 1975, Survey Review 23, 88; as in
    /// astropy's angular_separation). Null when a declination is outside [-90, 90].
    /// </summary>
    public static double AngDist(double ra1, double dec1, double ra2, double dec2)
    {
        if (!(Math.Abs(dec1) <= 90) || !(Math.Abs(dec2) <= 90) || double.IsNaN(ra1) || double.IsNaN(ra2)) return double.NaN;
        double dl = (ra2 - ra1) * DegToRad, p1 = dec1 * DegToRad, p2 = dec2 * DegToRad;
        var (sdl, cdl) = Math.SinCos(dl);
        var (s1, c1) = Math.SinCos(p1);
        var (s2, c2) = Math.SinCos(p2);
        double num1 = c2 * sdl, num2 = c1 * s2 - s1 * c2 * cdl;
        double den = s1 * s2 + c1 * c2 * cdl;
        return Math.Atan2(Math.Sqrt(num1 * num1 + num2 * num2), den) / DegToRad * 3600.0;
    }

    // The third row of the ICRS -> Galactic rotation (the North Galactic Pole as an ICRS unit vector) (Hipparcos catalogue, ESA 1997, vol. 1, §1.5.3, eq. 1.5.11;
    // the IAU 1958 frame with the North Galactic Pole at ICRS RA 192.85948, Dec 27.12825 degrees).
    private const double Gz0 = -0.8676661490190047, Gz1 = -0.1980763734312015, Gz2 = 0.4559837761750669;

    /// <summary>Galactic latitude b of an ICRS position (degrees in and out); null when dec is outside [-90, 90].</summary>
    public static double GalacticLat(double ra, double dec)
    {
        if (!(Math.Abs(dec) <= 90) || double.IsNaN(ra)) return double.NaN;
        var (sa, ca) = Math.SinCos(ra * DegToRad);
        var (sd, cd) = Math.SinCos(dec * DegToRad);
        double z = Gz0 * cd * ca + Gz1 * cd * sa + Gz2 * sd;
        return Math.Asin(Math.Clamp(z, -1, 1)) / DegToRad;
    }

    // Mean obliquity of the ecliptic at J2000.0, 84381.406" (IAU 2006, Capitaine et al. 2003, A&A 412, 567).
    private const double Obliquity = 23.4392911 * DegToRad;

    /// <summary>
    /// Ecliptic latitude on the mean ecliptic of J2000 (obliquity 23.4392911 degrees) of an ICRS position, degrees:
    /// sin β = sin δ cos ε − cos δ sin ε sin α. Null when dec is outside [-90, 90].
    /// </summary>
    public static double EclipticLat(double ra, double dec)
    {
        if (!(Math.Abs(dec) <= 90) || double.IsNaN(ra)) return double.NaN;
        double sa = Math.Sin(ra * DegToRad);
        var (sd, cd) = Math.SinCos(dec * DegToRad);
        double z = sd * Math.Cos(Obliquity) - cd * Math.Sin(Obliquity) * sa;
        return Math.Asin(Math.Clamp(z, -1, 1)) / DegToRad;
    }

    // ---- light-curve functions over the alert's detections: its previous detections and itself ----

    private static LightCurveSummary.Band? BandOf(LightCurveSummary s, string? band, bool anyBand) => anyBand ? s.All : s.Find(band);

    /// <summary><c>ndet([band])</c>: detections, this one included, in the band (no band: all).</summary>
    public static long? NDet(LightCurveSummary s, string? band, bool anyBand) =>
        !anyBand && band is null ? null : BandOf(s, band, anyBand)?.Detections ?? 0;

    /// <summary><c>nnondet([band])</c>: previous non-detections (upper limits) in the band.</summary>
    public static long? NNonDet(LightCurveSummary s, string? band, bool anyBand) =>
        !anyBand && band is null ? null : BandOf(s, band, anyBand)?.NonDetections ?? 0;

    /// <summary><c>first_mjd([band])</c>: time of the first detection in the band, MJD TAI.</summary>
    public static double FirstMjd(LightCurveSummary s, string? band, bool anyBand) =>
        BandOf(s, band, anyBand) is { Detections: > 0 } b ? b.FirstMjd : double.NaN;

    /// <summary><c>days_since_first([band])</c>: this alert's time minus the first detection's in the band, days.</summary>
    public static double DaysSinceFirst(LightCurveSummary s, string? band, bool anyBand) => s.Now - FirstMjd(s, band, anyBand);

    /// <summary><c>peak_mag([band])</c>: the brightest (smallest) magnitude among the detections in the band.</summary>
    public static double PeakMag(LightCurveSummary s, string? band, bool anyBand) =>
        BandOf(s, band, anyBand) is { } b && !double.IsPositiveInfinity(b.PeakMag) ? b.PeakMag : double.NaN;

    /// <summary><c>last_mag(band)</c>: the magnitude of the latest detection in the band.</summary>
    public static double LastMag(LightCurveSummary s, string? band) => s.Find(band)?.M1 ?? double.NaN;

    /// <summary>
    /// <c>rise_rate(band)</c>: brightening between the two latest detections in the band, magnitudes per day,
    /// (m_previous − m_latest) / (t_latest − t_previous); positive when brightening. Null with fewer than two
    /// detections with magnitudes or when they share one time.
    /// </summary>
    public static double RiseRate(LightCurveSummary s, string? band)
    {
        if (s.Find(band) is not { } b) return double.NaN;
        double dt = b.T1 - b.T2;
        return dt > 0 ? (b.M2 - b.M1) / dt : double.NaN;
    }

    /// <summary>
    /// <c>colour(b1, b2[, max_days])</c>: the latest magnitude in b1 minus the latest in b2 (for example g − r), when
    /// the two detections are at most <paramref name="maxDays"/> apart (default 1 day); otherwise null.
    /// </summary>
    public static double Colour(LightCurveSummary s, string? band1, string? band2, double maxDays)
    {
        if (s.Find(band1) is not { } a || s.Find(band2) is not { } b || double.IsNaN(maxDays)) return double.NaN;
        return Math.Abs(a.T1 - b.T1) <= maxDays ? a.M1 - b.M1 : double.NaN;
    }

    /// <summary><c>xmatch_count(catalog)</c>: counterparts in one catalogue.</summary>
    public static long? XmatchCount(Alert a, string? catalog)
    {
        if (catalog is null) return null;
        long n = 0;
        var x = a.Crossmatches;
        for (int i = 0; i < x.Count; i++) if (x[i].Catalog == catalog) n++;
        return n;
    }

    /// <summary><c>xmatch_distance(catalog)</c>: distance to the nearest counterpart in one catalogue, arcseconds.</summary>
    public static double XmatchDistance(Alert a, string? catalog)
    {
        if (catalog is null) return double.NaN;
        double best = double.PositiveInfinity;
        var x = a.Crossmatches;
        for (int i = 0; i < x.Count; i++) if (x[i].Catalog == catalog && x[i].DistanceArcsec < best) best = x[i].DistanceArcsec;
        return double.IsPositiveInfinity(best) ? double.NaN : best;
    }
}
