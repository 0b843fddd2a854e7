using System.Runtime.InteropServices;

namespace Broker.Sky.Orbits;

/// <summary>
/// The few IAU SOFA routines the ephemerides need, from ERFA (Debian's <c>liberfa1</c>, the BSD-licensed build of
/// SOFA), by P/Invoke: the one place Broker binds the library. <see cref="Available"/> says whether it loads;
/// callers fall back to lower-precision formulae when it does not.
/// </summary>
internal static partial class Erfa
{
    private const string Library = "liberfa.so.1";

    private static readonly Lazy<bool> Loaded = new(Probe);

    /// <summary>Whether liberfa loads on this machine.</summary>
    public static bool Available => Loaded.Value;

    /// <summary>
    /// The Earth's heliocentric and barycentric position (au) and velocity (au/day), BCRS axes, at a TDB
    /// two-part Julian date (SOFA iauEpv00: 4.6 km in position, 1900-2100).
    /// </summary>
    public static void Epv00(double jd1Tdb, double jd2Tdb, Span<double> pvh, Span<double> pvb)
    {
        if (pvh.Length < 6 || pvb.Length < 6) throw new ArgumentException("eraEpv00 needs 6-element buffers");
        _ = EraEpv00(jd1Tdb, jd2Tdb, ref MemoryMarshal.GetReference(pvh), ref MemoryMarshal.GetReference(pvb));
    }

    /// <summary>
    /// TDB - TT in seconds (SOFA iauDtdb: the Fairhead &amp; Bretagnon 1990 series, 787 terms, a few ns), at a TDB (or
    /// TT) two-part Julian date, with <paramref name="utFraction"/> the UT1 fraction of the day and the site's
    /// longitude (radians east) and distances from the Earth's axis and equator (km) for the topocentric terms.
    /// </summary>
    public static double Dtdb(double jd1, double jd2, double utFraction, double elongRad, double uKm, double vKm) =>
        EraDtdb(jd1, jd2, utFraction, elongRad, uKm, vKm);

    /// <summary>
    /// The celestial-to-terrestrial matrix (SOFA iauC2t06a: IAU 2006/2000A precession-nutation, CIO based, Earth
    /// rotation angle, polar motion) at TT and UT1 two-part Julian dates; polar motion in radians. Row-major 3x3:
    /// v_terrestrial = M v_celestial.
    /// </summary>
    public static void C2t06a(double tt1, double tt2, double ut1, double ut2, double xpRad, double ypRad, Span<double> matrix)
    {
        if (matrix.Length < 9) throw new ArgumentException("eraC2t06a needs a 9-element buffer");
        EraC2t06a(tt1, tt2, ut1, ut2, xpRad, ypRad, ref MemoryMarshal.GetReference(matrix));
    }

    /// <summary>
    /// The Moon's geocentric position (au) and velocity (au/day), GCRS, at a TT two-part Julian date (SOFA iauMoon98:
    /// Meeus' simplified ELP2000-82, about 10" in longitude, 3e-8 au).
    /// </summary>
    public static void Moon98(double jd1Tt, double jd2Tt, Span<double> pv)
    {
        if (pv.Length < 6) throw new ArgumentException("eraMoon98 needs a 6-element buffer");
        EraMoon98(jd1Tt, jd2Tt, ref MemoryMarshal.GetReference(pv));
    }

    private static bool Probe()
    {
        try
        {
            _ = EraDtdb(2451545.0, 0, 0, 0, 0, 0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    // int eraEpv00(double date1, double date2, double pvh[2][3], double pvb[2][3]);
    [LibraryImport(Library, EntryPoint = "eraEpv00")]
    private static partial int EraEpv00(double date1, double date2, ref double pvh, ref double pvb);

    // double eraDtdb(double date1, double date2, double ut, double elong, double u, double v);
    [LibraryImport(Library, EntryPoint = "eraDtdb")]
    private static partial double EraDtdb(double date1, double date2, double ut, double elong, double u, double v);

    // void eraMoon98(double date1, double date2, double pv[2][3]);
    [LibraryImport(Library, EntryPoint = "eraMoon98")]
    private static partial void EraMoon98(double date1, double date2, ref double pv);

    // void eraC2t06a(double tta, double ttb, double uta, double utb, double xp, double yp, double rc2t[3][3]);
    [LibraryImport(Library, EntryPoint = "eraC2t06a")]
    private static partial void EraC2t06a(double tta, double ttb, double uta, double utb, double xp, double yp, ref double rc2t);
}
