using System.Globalization;

namespace Broker.Sky.Orbits;

/// <summary>The eight planets, in order from the Sun (the order of <see cref="Vsop87"/>'s and <see cref="PlanetPositions"/>'s arrays).</summary>
public enum Planet
{
    /// <summary>Mercury.</summary>
    Mercury,
    /// <summary>Venus.</summary>
    Venus,
    /// <summary>The Earth (VSOP87B gives the Earth itself, not the Earth-Moon barycentre).</summary>
    Earth,
    /// <summary>Mars.</summary>
    Mars,
    /// <summary>Jupiter.</summary>
    Jupiter,
    /// <summary>Saturn.</summary>
    Saturn,
    /// <summary>Uranus.</summary>
    Uranus,
    /// <summary>Neptune.</summary>
    Neptune,
}

/// <summary>
/// Heliocentric planetary positions from the VSOP87B series (Bretagnon &amp; Francou 1988, A&amp;A 202, 309): heliocentric
/// spherical coordinates L, B (radians) and R (au) in the dynamical ecliptic and equinox of J2000, each
/// Σ_k T^k Σ_i A_i cos(B_i + C_i T), T in Julian millennia of TDB from J2000. The coefficients are read from the files
/// Debian's kstars-data installs (<c>/usr/share/kstars/&lt;planet&gt;.{L,B,R}{0..5}.vsop</c>: one term "A B C" per line;
/// the Earth's L1 constant term 6283.07584999140 identifies them as VSOP87B). Positions are rotated into the ICRS
/// (FK5) equator with the VSOP87-to-FK5 matrix of Bretagnon &amp; Francou (1988; also Meeus, Astronomical Algorithms,
/// 2nd ed., eq. 32.3); FK5 and ICRS differ by the 23 mas frame bias, 1e-7 au at 1 au. Accuracy: about 1" for the
/// inner planets and a few arcsec for the outer ones over 1900-2100, far more than a perturbation needs.
/// </summary>
public sealed class Vsop87
{
    /// <summary>Where Debian's kstars-data puts the series.</summary>
    public const string DefaultFolder = "/usr/share/kstars";

    private static readonly string[] FileNames = ["mercury", "venus", "earth", "mars", "jupiter", "saturn", "uranus", "neptune"];
    private static readonly Lazy<Vsop87> DefaultSeries = new(() => Load(DefaultFolder));

    // terms[planet][coordinate L/B/R][power] = flat (A, B, C) triples.
    private readonly double[][][][] terms;

    private Vsop87(double[][][][] terms)
    {
        this.terms = terms;
        Fingerprint = FingerprintOf(terms);
    }

    /// <summary>
    /// SHA-256 (hex) of every coefficient, in order: two loads of the same series have the same fingerprint, and a
    /// changed file a different one (it names <see cref="PlanetPositions"/>' cached tables).
    /// </summary>
    public string Fingerprint { get; }

    private static string FingerprintOf(double[][][][] terms)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        Span<byte> count = stackalloc byte[4];
        foreach (var planet in terms)
            foreach (var coordinate in planet)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(count, coordinate.Length);
                hash.AppendData(count);
                foreach (var series in coordinate)
                {
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(count, series.Length);
                    hash.AppendData(count);
                    hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(series.AsSpan()));
                }
            }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The series from <see cref="DefaultFolder"/>, loaded once.</summary>
    /// <exception cref="FileNotFoundException">kstars-data is not installed.</exception>
    public static Vsop87 Default => DefaultSeries.Value;

    /// <summary>Whether the series' files are present in <see cref="DefaultFolder"/>.</summary>
    public static bool DefaultAvailable => File.Exists(Path.Combine(DefaultFolder, "earth.L0.vsop"));

    /// <summary>Reads the series from a folder of kstars <c>.vsop</c> files.</summary>
    /// <exception cref="FileNotFoundException">A planet's L0, B0 or R0 file is missing (install kstars-data).</exception>
    /// <exception cref="InvalidDataException">A line is not three numbers.</exception>
    public static Vsop87 Load(string folder)
    {
        var all = new double[FileNames.Length][][][];
        for (int p = 0; p < FileNames.Length; p++)
        {
            all[p] = new double[3][][];
            for (int c = 0; c < 3; c++)
            {
                var powers = new List<double[]>();
                for (int k = 0; k <= 5; k++)
                {
                    string path = Path.Combine(folder, $"{FileNames[p]}.{"LBR"[c]}{k}.vsop");
                    if (!File.Exists(path))
                    {
                        if (k == 0) throw new FileNotFoundException($"VSOP87 series file {path} is missing: install the Debian package kstars-data", path);
                        break;
                    }
                    powers.Add(ReadTerms(path));
                }
                all[p][c] = [.. powers];
            }
        }
        return new Vsop87(all);
    }

    private static double[] ReadTerms(string path)
    {
        var values = new List<double>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var cells = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length != 3 || !double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
                || !double.TryParse(cells[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b)
                || !double.TryParse(cells[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double c))
                throw new InvalidDataException($"{path} line {lineNumber}: expected three numbers A B C, got '{line.Trim()}'");
            values.Add(a); values.Add(b); values.Add(c);
        }
        return [.. values];
    }

    /// <summary>Heliocentric spherical L, B (radians) and R (au), dynamical ecliptic and equinox of J2000, at MJD TDB.</summary>
    public (double L, double B, double R) Spherical(Planet planet, double mjdTdb)
    {
        double t = (mjdTdb + TimeScales.MjdOffset - Coordinates.J2000) / 365250.0;
        var p = terms[(int)planet];
        return (Sum(p[0], t), Sum(p[1], t), Sum(p[2], t));
    }

    private static double Sum(double[][] powers, double t)
    {
        double total = 0, tk = 1;
        foreach (var series in powers)
        {
            double s = 0;
            for (int i = 0; i < series.Length; i += 3) s += series[i] * Math.Cos(series[i + 1] + series[i + 2] * t);
            total += s * tk;
            tk *= t;
        }
        return total;
    }

    /// <summary>Heliocentric position, au, in the ICRS-aligned (FK5 J2000) equator, at MJD TDB.</summary>
    public (double X, double Y, double Z) HeliocentricIcrs(Planet planet, double mjdTdb)
    {
        var (l, b, r) = Spherical(planet, mjdTdb);
        double cb = Math.Cos(b);
        double x = r * cb * Math.Cos(l), y = r * cb * Math.Sin(l), z = r * Math.Sin(b);
        // VSOP87 dynamical ecliptic J2000 -> FK5 equator J2000 (Bretagnon & Francou 1988).
        return (x + 0.000000440360 * y - 0.000000190919 * z,
            -0.000000479966 * x + 0.917482137087 * y - 0.397776982902 * z,
            0.397776982902 * y + 0.917482137087 * z);
    }
}
