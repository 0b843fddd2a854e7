using System.Collections.Frozen;
using System.Globalization;

namespace Broker.Sky.Orbits;

/// <summary>
/// An observing site by its Minor Planet Center code, with the MPC's parallax constants: the longitude east of
/// Greenwich and ρ cos φ', ρ sin φ' (φ' the geocentric latitude, ρ the geocentric distance in units of the Earth's
/// equatorial radius). Sites come from <c>Orbits/observatories.csv</c>, transcribed from the MPC's ObsCodes list
/// (the source is in that file's header and in docs/ephemerides.md).
/// </summary>
/// <param name="Code">MPC observatory code ("X05", "I41", "500").</param>
/// <param name="Name">The MPC's name for the site.</param>
/// <param name="LongitudeDeg">Longitude, degrees east of Greenwich, [0, 360).</param>
/// <param name="RhoCosPhi">ρ cos φ', Earth equatorial radii.</param>
/// <param name="RhoSinPhi">ρ sin φ', Earth equatorial radii (negative south of the equator).</param>
public sealed record Observatory(string Code, string Name, double LongitudeDeg, double RhoCosPhi, double RhoSinPhi)
{
    /// <summary>The Earth's equatorial radius, km (IERS Conventions 2010 / GRS80 a = 6378.137 km), the unit of the MPC's parallax constants.</summary>
    public const double EarthEquatorialRadiusKm = 6378.137;

    /// <summary>The astronomical unit, km (IAU 2012 Resolution B2).</summary>
    public const double AuKm = 149597870.700;

    /// <summary>
    /// The Earth's rotation rate, radians per day of UT1: 2π × 1.00273781191135448 (the rate of the Earth rotation
    /// angle, IERS Conventions 2010 eq. 5.15).
    /// </summary>
    public const double EarthRotationRadPerDay = 2 * Math.PI * 1.00273781191135448;

    private static readonly Lazy<(FrozenDictionary<string, Observatory> ByCode, IReadOnlyList<Observatory> All)> Table = new(Load);

    [ThreadStatic] private static double cachedMjdUtc;
    [ThreadStatic] private static double[]? cachedC2t;

    /// <summary>Every site in the table, in file order.</summary>
    public static IReadOnlyList<Observatory> All => Table.Value.All;

    /// <summary>The geocentre (code 500): an observer at the Earth's centre.</summary>
    public static Observatory Geocentre => Find("500");

    /// <summary>The site with this MPC code (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The code is not in the table; the message lists the known codes.</exception>
    public static Observatory Find(string code) =>
        TryFind(code) ?? throw new ArgumentException($"unknown MPC observatory code '{code}'; known codes: {KnownCodes}", nameof(code));

    /// <summary>The site with this MPC code (case-insensitive, surrounding blanks ignored), or null when the table lacks it.</summary>
    public static Observatory? TryFind(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return Table.Value.ByCode.GetValueOrDefault(code.Trim().ToUpperInvariant());
    }

    /// <summary>The table's codes, comma-separated, for messages.</summary>
    public static string KnownCodes => string.Join(", ", All.Select(o => o.Code));

    /// <summary>
    /// A site from geodetic coordinates on the WGS84 ellipsoid (a = 6378.137 km, f = 1/298.257223563; NIMA TR8350.2):
    /// ρ cos φ' = (N + h) cos φ / a, ρ sin φ' = (N (1 - e²) + h) sin φ / a, N = a / √(1 - e² sin² φ).
    /// </summary>
    public static Observatory FromGeodetic(string name, double longitudeDeg, double latitudeDeg, double heightM)
    {
        const double a = EarthEquatorialRadiusKm * 1000, f = 1 / 298.257223563, e2 = f * (2 - f);
        double phi = latitudeDeg * Coordinates.DegToRad, sin = Math.Sin(phi);
        double n = a / Math.Sqrt(1 - e2 * sin * sin);
        return new Observatory("", name, Coordinates.Wrap360(longitudeDeg), (n + heightM) * Math.Cos(phi) / a, (n * (1 - e2) + heightM) * sin / a);
    }

    /// <summary>Whether this is the geocentre (both parallax constants zero).</summary>
    public bool IsGeocentre => RhoCosPhi == 0 && RhoSinPhi == 0;

    /// <summary>
    /// The site's geocentric position, au, in the ICRS (GCRS axes) at a UTC MJD: the terrestrial vector
    /// a (ρ cos φ' cos λ, ρ cos φ' sin λ, ρ sin φ') rotated by the transpose of the IAU 2006/2000A celestial-to-terrestrial
    /// matrix (ERFA <c>eraC2t06a</c>: precession-nutation, Earth rotation angle; polar motion, under 0.5", is left out).
    /// UT1 is taken as UTC: |UT1 - UTC| &lt; 0.9 s turns the Earth by at most 13.5" (0.42 km at the equator), which moves
    /// a body 0.01 au away by at most 0.06" and a main-belt asteroid by under 0.001".
    /// Without liberfa, mean sidereal time is used and precession since J2000 is ignored (about 0.35° in 2025).
    /// </summary>
    public (double X, double Y, double Z) GeocentricIcrs(double mjdUtc)
    {
        var (x, y, z, _, _, _) = GeocentricIcrsState(mjdUtc);
        return (x, y, z);
    }

    /// <summary>
    /// As <see cref="GeocentricIcrs"/>, with the site's geocentric velocity in au/day: ω × r, ω along the Celestial
    /// Intermediate Pole (the third row of the celestial-to-terrestrial matrix) at the Earth rotation angle's rate.
    /// </summary>
    public (double X, double Y, double Z, double Vx, double Vy, double Vz) GeocentricIcrsState(double mjdUtc)
    {
        if (IsGeocentre) return (0, 0, 0, 0, 0, 0);
        double scale = EarthEquatorialRadiusKm / AuKm;
        double lon = LongitudeDeg * Coordinates.DegToRad;
        double tx = scale * RhoCosPhi * Math.Cos(lon), ty = scale * RhoCosPhi * Math.Sin(lon), tz = scale * RhoSinPhi;
        if (!Erfa.Available)
        {
            double gmst = Coordinates.GreenwichMeanSiderealTimeDeg(mjdUtc + TimeScales.MjdOffset) * Coordinates.DegToRad;
            double c = Math.Cos(gmst), s = Math.Sin(gmst);
            double x0 = c * tx - s * ty, y0 = s * tx + c * ty;
            return (x0, y0, tz, -EarthRotationRadPerDay * y0, EarthRotationRadPerDay * x0, 0);
        }
        var m = CelestialToTerrestrial(mjdUtc);
        // Celestial = Mᵀ terrestrial.
        double x = m[0] * tx + m[3] * ty + m[6] * tz;
        double y = m[1] * tx + m[4] * ty + m[7] * tz;
        double z = m[2] * tx + m[5] * ty + m[8] * tz;
        double wx = EarthRotationRadPerDay * m[6], wy = EarthRotationRadPerDay * m[7], wz = EarthRotationRadPerDay * m[8];
        return (x, y, z, wy * z - wz * y, wz * x - wx * z, wx * y - wy * x);
    }

    private static double[] CelestialToTerrestrial(double mjdUtc)
    {
        // eraC2t06a costs some tens of µs (the 2000A nutation series); a night's ephemerides ask for the same instant
        // many times (every orbit at one exposure), so the last matrix is kept per thread.
        if (cachedC2t is not null && cachedMjdUtc == mjdUtc) return cachedC2t;
        var m = new double[9];
        double tt = TimeScales.MjdUtcToMjdTt(mjdUtc);
        Erfa.C2t06a(TimeScales.MjdOffset, tt, TimeScales.MjdOffset, mjdUtc, 0, 0, m);
        cachedMjdUtc = mjdUtc;
        cachedC2t = m;
        return m;
    }

    private static (FrozenDictionary<string, Observatory>, IReadOnlyList<Observatory>) Load()
    {
        using var stream = typeof(Observatory).Assembly.GetManifestResourceStream("Broker.Sky.Orbits.observatories.csv")
            ?? throw new InvalidOperationException("the observatory table (embedded resource Broker.Sky.Orbits.observatories.csv) is missing from Broker.Sky");
        using var reader = new StreamReader(stream);
        var list = new List<Observatory>();
        bool header = true;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            if (header) { header = false; continue; }
            // code,longitude_deg,rho_cos_phi,rho_sin_phi,name (the name may be quoted and hold commas).
            var cells = line.Split(',', 5);
            string name = cells[4].Trim().Trim('"');
            list.Add(new Observatory(cells[0], name,
                double.Parse(cells[1], CultureInfo.InvariantCulture),
                double.Parse(cells[2], CultureInfo.InvariantCulture),
                double.Parse(cells[3], CultureInfo.InvariantCulture)));
        }
        return (list.ToFrozenDictionary(o => o.Code, StringComparer.Ordinal), list);
    }
}
