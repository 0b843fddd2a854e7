namespace Broker.Sky;

/// <summary>An observatory on the Earth: geodetic longitude (degrees, east positive), latitude (degrees) and height (metres).</summary>
/// <param name="Name">Short name, for messages.</param>
/// <param name="LongitudeDeg">Geodetic longitude, degrees, east positive.</param>
/// <param name="LatitudeDeg">Geodetic latitude, degrees.</param>
/// <param name="HeightM">Height above the WGS84 ellipsoid, metres.</param>
public sealed record ObservatorySite(string Name, double LongitudeDeg, double LatitudeDeg, double HeightM)
{
    /// <summary>Palomar Observatory, the ZTF site (MPC code I41: 243.1403° E, 33.3564° N, 1712 m).</summary>
    public static ObservatorySite Palomar { get; } = new("Palomar", -116.8597, 33.3564, 1712);

    /// <summary>Cerro Pachón, the Rubin site (MPC code X05: 289.2634° E, 30.2446° S, 2663 m).</summary>
    public static ObservatorySite CerroPachon { get; } = new("Cerro Pachon", -70.7366, -30.2446, 2663);
}

/// <summary>
/// Sky coordinate transforms. Angles are in degrees unless a name says radians; times are UTC Julian dates where
/// Earth rotation matters (UT1 - UTC, below 0.9 s, is ignored: 0.004° in hour angle). Results for NaN inputs are NaN.
/// </summary>
public static class Coordinates
{
    /// <summary>Degrees to radians.</summary>
    public const double DegToRad = Math.PI / 180.0;

    /// <summary>Radians to degrees.</summary>
    public const double RadToDeg = 180.0 / Math.PI;

    /// <summary>JD of the J2000.0 epoch (2000-01-01T12:00 TT).</summary>
    public const double J2000 = 2451545.0;

    /// <summary>
    /// Obliquity of the ecliptic at J2000 used by JPL for its "ecliptic and mean equinox of J2000" frame, in which
    /// SBDB and Horizons give orbital elements: 84381.448 arcsec (IAU 1976).
    /// </summary>
    public const double ObliquityJ2000Deg = 84381.448 / 3600.0;

    // ICRS -> Galactic rotation (Hipparcos catalogue, ESA 1997, vol. 1, §1.5.3, eq. 1.5.11).
    private static readonly double[] IcrsToGalactic =
    [
        -0.0548755604162154, -0.8734370902348850, -0.4838350155487132,
        0.4941094278755837, -0.4448296299600112, 0.7469822444972189,
        -0.8676661490190047, -0.1980763734312015, 0.4559837761750669,
    ];

    /// <summary>Reduces an angle to [0, 360).</summary>
    public static double Wrap360(double deg)
    {
        double r = deg % 360.0;
        return r < 0 ? r + 360.0 : r;
    }

    /// <summary>
    /// Greenwich mean sidereal time in degrees at a UT Julian date: IAU 1982 expression (Meeus, Astronomical
    /// Algorithms, 2nd ed., eq. 12.4), good to 0.1 s over this century.
    /// </summary>
    public static double GreenwichMeanSiderealTimeDeg(double jdUt)
    {
        double d = jdUt - J2000;
        double t = d / 36525.0;
        return Wrap360(280.46061837 + 360.98564736629 * d + 0.000387933 * t * t - t * t * t / 38710000.0);
    }

    /// <summary>Local mean sidereal time in degrees at a UT Julian date and east longitude.</summary>
    public static double LocalSiderealTimeDeg(double jdUt, double longitudeDeg) => Wrap360(GreenwichMeanSiderealTimeDeg(jdUt) + longitudeDeg);

    /// <summary>
    /// Equatorial (RA, Dec of date) to horizontal coordinates at a site and UT Julian date: altitude (degrees above the
    /// geometric horizon, no refraction) and azimuth (degrees from north through east). Meeus eq. 13.5-13.6.
    /// Mean J2000 coordinates may be given at the cost of precession (0.35° by 2025), which is fine for visibility.
    /// </summary>
    public static (double AltitudeDeg, double AzimuthDeg) EquatorialToHorizontal(double raDeg, double decDeg, double jdUt, ObservatorySite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        double h = (LocalSiderealTimeDeg(jdUt, site.LongitudeDeg) - raDeg) * DegToRad;
        double phi = site.LatitudeDeg * DegToRad, dec = decDeg * DegToRad;
        double sinAlt = Math.Sin(phi) * Math.Sin(dec) + Math.Cos(phi) * Math.Cos(dec) * Math.Cos(h);
        double alt = Math.Asin(Math.Clamp(sinAlt, -1, 1));
        double az = Math.Atan2(-Math.Cos(dec) * Math.Sin(h), Math.Sin(dec) * Math.Cos(phi) - Math.Cos(dec) * Math.Sin(phi) * Math.Cos(h));
        return (alt * RadToDeg, Wrap360(az * RadToDeg));
    }

    /// <summary>Horizontal (altitude, azimuth from north through east) to equatorial RA, Dec at a site and UT Julian date.</summary>
    public static (double RaDeg, double DecDeg) HorizontalToEquatorial(double altitudeDeg, double azimuthDeg, double jdUt, ObservatorySite site)
    {
        ArgumentNullException.ThrowIfNull(site);
        double phi = site.LatitudeDeg * DegToRad, alt = altitudeDeg * DegToRad, az = azimuthDeg * DegToRad;
        double sinDec = Math.Sin(phi) * Math.Sin(alt) + Math.Cos(phi) * Math.Cos(alt) * Math.Cos(az);
        double dec = Math.Asin(Math.Clamp(sinDec, -1, 1));
        double h = Math.Atan2(-Math.Cos(alt) * Math.Sin(az), Math.Sin(alt) * Math.Cos(phi) - Math.Cos(alt) * Math.Sin(phi) * Math.Cos(az));
        return (Wrap360(LocalSiderealTimeDeg(jdUt, site.LongitudeDeg) - h * RadToDeg), dec * RadToDeg);
    }

    /// <summary>Unit vector of a direction (RA, Dec in degrees).</summary>
    public static (double X, double Y, double Z) ToUnitVector(double raDeg, double decDeg)
    {
        double a = raDeg * DegToRad, d = decDeg * DegToRad;
        return (Math.Cos(d) * Math.Cos(a), Math.Cos(d) * Math.Sin(a), Math.Sin(d));
    }

    /// <summary>Direction (longitude in [0, 360), latitude, degrees) of a non-zero vector.</summary>
    public static (double LonDeg, double LatDeg) FromVector(double x, double y, double z)
    {
        double r = Math.Sqrt(x * x + y * y + z * z);
        return (Wrap360(Math.Atan2(y, x) * RadToDeg), Math.Asin(Math.Clamp(z / r, -1, 1)) * RadToDeg);
    }

    /// <summary>ICRS (RA, Dec) to Galactic (l, b), degrees.</summary>
    public static (double LDeg, double BDeg) EquatorialToGalactic(double raDeg, double decDeg)
    {
        var (x, y, z) = ToUnitVector(raDeg, decDeg);
        var m = IcrsToGalactic;
        return FromVector(m[0] * x + m[1] * y + m[2] * z, m[3] * x + m[4] * y + m[5] * z, m[6] * x + m[7] * y + m[8] * z);
    }

    /// <summary>Rotates a vector from the ecliptic of J2000 to the equator of J2000 (about x by the obliquity).</summary>
    public static (double X, double Y, double Z) EclipticToEquatorial(double x, double y, double z)
    {
        double e = ObliquityJ2000Deg * DegToRad, c = Math.Cos(e), s = Math.Sin(e);
        return (x, c * y - s * z, s * y + c * z);
    }

    /// <summary>Rotates a vector from the equator of J2000 to the ecliptic of J2000.</summary>
    public static (double X, double Y, double Z) EquatorialToEcliptic(double x, double y, double z)
    {
        double e = ObliquityJ2000Deg * DegToRad, c = Math.Cos(e), s = Math.Sin(e);
        return (x, c * y + s * z, -s * y + c * z);
    }

    /// <summary>Angular separation of two directions, degrees (haversine form, accurate at small angles).</summary>
    public static double SeparationDeg(double ra1Deg, double dec1Deg, double ra2Deg, double dec2Deg)
    {
        double d1 = dec1Deg * DegToRad, d2 = dec2Deg * DegToRad;
        double sdd = Math.Sin((d2 - d1) / 2), sda = Math.Sin((ra2Deg - ra1Deg) * DegToRad / 2);
        double h = sdd * sdd + Math.Cos(d1) * Math.Cos(d2) * sda * sda;
        return 2 * Math.Asin(Math.Min(1, Math.Sqrt(h))) * RadToDeg;
    }

    /// <summary>
    /// Moves a direction by small offsets on the tangent plane: <paramref name="eastArcsec"/> toward increasing RA and
    /// <paramref name="northArcsec"/> toward the north pole (gnomonic inverse; exact for any offset).
    /// </summary>
    public static (double RaDeg, double DecDeg) Offset(double raDeg, double decDeg, double eastArcsec, double northArcsec)
    {
        double xi = eastArcsec / 3600.0 * DegToRad, eta = northArcsec / 3600.0 * DegToRad;
        double a0 = raDeg * DegToRad, d0 = decDeg * DegToRad;
        double den = Math.Cos(d0) - eta * Math.Sin(d0);
        double a = a0 + Math.Atan2(xi, den);
        double d = Math.Atan2(Math.Sin(d0) + eta * Math.Cos(d0), Math.Sqrt(xi * xi + den * den));
        return (Wrap360(a * RadToDeg), d * RadToDeg);
    }
}
