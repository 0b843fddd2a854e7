namespace Broker.Sky;

/// <summary>
/// The Sun's apparent place from the low-precision formulae of the Astronomical Almanac (section C, "Low precision
/// formulas for the Sun"): 0.01° in RA and Dec between 1950 and 2050. Enough for twilight and for an Earth position
/// good to 2e-4 au where nothing better is available.
/// </summary>
public static class SolarPosition
{
    /// <summary>
    /// Geocentric apparent RA and Dec (degrees, equinox of date) and distance (au) of the Sun at a Julian date
    /// (TT or UT; the difference is far below the formulae's precision).
    /// </summary>
    public static (double RaDeg, double DecDeg, double DistanceAu) Equatorial(double jd)
    {
        var (lambda, eps, r) = Ecliptic(jd);
        double l = lambda * Coordinates.DegToRad, e = eps * Coordinates.DegToRad;
        double ra = Math.Atan2(Math.Cos(e) * Math.Sin(l), Math.Cos(l)) * Coordinates.RadToDeg;
        double dec = Math.Asin(Math.Sin(e) * Math.Sin(l)) * Coordinates.RadToDeg;
        return (Coordinates.Wrap360(ra), dec, r);
    }

    /// <summary>Ecliptic longitude of the Sun (degrees, of date), obliquity of date (degrees) and distance (au).</summary>
    public static (double LongitudeDeg, double ObliquityDeg, double DistanceAu) Ecliptic(double jd)
    {
        double n = jd - Coordinates.J2000;
        double l = 280.460 + 0.9856474 * n;
        double g = (357.528 + 0.9856003 * n) * Coordinates.DegToRad;
        double lambda = Coordinates.Wrap360(l + 1.915 * Math.Sin(g) + 0.020 * Math.Sin(2 * g));
        double eps = 23.439 - 0.0000004 * n;
        double r = 1.00014 - 0.01671 * Math.Cos(g) - 0.00014 * Math.Cos(2 * g);
        return (lambda, eps, r);
    }

    /// <summary>Altitude of the Sun's centre above the geometric horizon at a site, degrees (no refraction).</summary>
    public static double AltitudeDeg(double jdUt, ObservatorySite site)
    {
        var (ra, dec, _) = Equatorial(jdUt);
        return Coordinates.EquatorialToHorizontal(ra, dec, jdUt, site).AltitudeDeg;
    }
}
