namespace Broker.Sky;

/// <summary>
/// Conversions between the time scales alerts use. ZTF stamps detections with a Julian date in UTC; Rubin with
/// MJD in TAI. Broker carries MJD TAI throughout because TAI is uniform (no leap seconds), so differences of
/// times are true elapsed times.
/// </summary>
public static class TimeScales
{
    /// <summary>JD of MJD 0 (1858-11-17T00:00).</summary>
    public const double MjdOffset = 2400000.5;

    /// <summary>Seconds per day.</summary>
    public const double SecondsPerDay = 86400.0;

    /// <summary>TT - TAI, seconds (exact by definition, IAU 1991 Resolution A4).</summary>
    public const double TtMinusTaiSeconds = 32.184;

    // TAI-UTC (Delta AT) from the IERS Bulletin C leap-second table: the UTC MJD at which each value starts.
    // The last change was 2017-01-01 (Bulletin C 52 and every bulletin since says no new leap second).
    private static readonly (int Mjd, int Seconds)[] LeapSeconds =
    [
        (41317, 10), (41499, 11), (41683, 12), (42048, 13), (42413, 14), (42778, 15), (43144, 16), (43509, 17),
        (43874, 18), (44239, 19), (44786, 20), (45151, 21), (45516, 22), (46247, 23), (47161, 24), (47892, 25),
        (48257, 26), (48804, 27), (49169, 28), (49534, 29), (50083, 30), (50630, 31), (51179, 32), (53736, 33),
        (54832, 34), (56109, 35), (57204, 36), (57754, 37),
    ];

    /// <summary>TAI - UTC in seconds at a UTC MJD (10 s before 1972, where the table starts).</summary>
    public static int TaiMinusUtcSeconds(double mjdUtc)
    {
        int seconds = 10;
        foreach (var (mjd, s) in LeapSeconds)
        {
            if (mjdUtc >= mjd) seconds = s;
            else break;
        }
        return seconds;
    }

    /// <summary>MJD TAI from a UTC Julian date (as in ZTF's <c>jd</c>).</summary>
    public static double JdUtcToMjdTai(double jdUtc)
    {
        double mjdUtc = jdUtc - MjdOffset;
        return mjdUtc + TaiMinusUtcSeconds(mjdUtc) / SecondsPerDay;
    }

    /// <summary>MJD TAI from a UTC MJD.</summary>
    public static double MjdUtcToMjdTai(double mjdUtc) => mjdUtc + TaiMinusUtcSeconds(mjdUtc) / SecondsPerDay;

    /// <summary>UTC MJD from MJD TAI (inverse of <see cref="MjdUtcToMjdTai"/>, exact except inside a leap second).</summary>
    public static double MjdTaiToMjdUtc(double mjdTai)
    {
        double guess = mjdTai - TaiMinusUtcSeconds(mjdTai) / SecondsPerDay;
        return mjdTai - TaiMinusUtcSeconds(guess) / SecondsPerDay;
    }

    /// <summary>MJD TT from MJD TAI.</summary>
    public static double MjdTaiToMjdTt(double mjdTai) => mjdTai + TtMinusTaiSeconds / SecondsPerDay;

    /// <summary>MJD TT from a UTC MJD (UTC + leap seconds + 32.184 s).</summary>
    public static double MjdUtcToMjdTt(double mjdUtc) => MjdTaiToMjdTt(MjdUtcToMjdTai(mjdUtc));

    /// <summary>
    /// TDB - TT in seconds at a TT MJD, at the geocentre: ERFA's <c>eraDtdb</c> (Fairhead &amp; Bretagnon 1990, 787 terms,
    /// a few nanoseconds) when liberfa loads, else the series' two leading terms 0.001657 sin g + 0.000014 sin 2g with
    /// g = 357.53° + 0.98560028° d (USNO Circular 179, Kaplan 2005, eq. 2.6; about 30 µs). The topocentric terms
    /// (under 2 µs) are left out: 2 µs moves a main-belt asteroid by 0.1 mm.
    /// </summary>
    public static double TdbMinusTtSeconds(double mjdTt)
    {
        if (Orbits.Erfa.Available)
        {
            double day = Math.Floor(mjdTt);
            return Orbits.Erfa.Dtdb(MjdOffset + day, mjdTt - day, mjdTt - day, 0, 0, 0);
        }
        double g = (357.53 + 0.98560028 * (mjdTt + MjdOffset - 2451545.0)) * Math.PI / 180;
        return 0.001657 * Math.Sin(g) + 0.000014 * Math.Sin(2 * g);
    }

    /// <summary>MJD TDB from MJD TT (<see cref="TdbMinusTtSeconds"/>; the difference is at most 1.7 ms).</summary>
    public static double MjdTtToMjdTdb(double mjdTt) => mjdTt + TdbMinusTtSeconds(mjdTt) / SecondsPerDay;

    /// <summary>MJD TDB from a UTC MJD: UTC -> TAI (leap seconds) -> TT -> TDB.</summary>
    public static double MjdUtcToMjdTdb(double mjdUtc) => MjdTtToMjdTdb(MjdUtcToMjdTt(mjdUtc));

    /// <summary>
    /// UTC MJD from MJD TDB (inverse of <see cref="MjdUtcToMjdTdb"/> by fixed-point iteration; exact to well under a
    /// microsecond except inside a leap second).
    /// </summary>
    public static double MjdTdbToMjdUtc(double mjdTdb)
    {
        double utc = mjdTdb - (TtMinusTaiSeconds + TaiMinusUtcSeconds(mjdTdb)) / SecondsPerDay;
        for (int i = 0; i < 3; i++) utc += mjdTdb - MjdUtcToMjdTdb(utc);
        return utc;
    }

    /// <summary>UTC MJD of a <see cref="DateTime"/> (treated as UTC).</summary>
    public static double ToMjdUtc(DateTime utc) => (utc - new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc)).TotalDays;

    /// <summary>The <see cref="DateTime"/> (UTC) of a UTC MJD.</summary>
    public static DateTime FromMjdUtc(double mjdUtc) => new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc).AddTicks((long)Math.Round(mjdUtc * TimeSpan.TicksPerDay));
}
