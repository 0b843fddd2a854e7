namespace Broker.Sky;

/// <summary>
/// A flat ΛCDM cosmology with photons and neutrinos, for physical offsets of a transient from its host (kpc at the
/// host's redshift). <see cref="Planck18"/> is the Planck 2018 result (Planck Collaboration 2020, A&amp;A 641, A6,
/// table 2, TT,TE,EE+lowE+lensing+BAO) with the parameters astropy's <c>Planck18</c> uses; distances follow Hogg 1999
/// (astro-ph/9905116), and the neutrinos' energy density the fitting function of Komatsu et al. 2011 (ApJS 192, 18,
/// eq. 26), as astropy computes it, so that the two agree to integration precision.
/// </summary>
public sealed class Cosmology
{
    /// <summary>Speed of light, km/s.</summary>
    private const double SpeedOfLightKmS = 299_792.458;

    // SI constants (CODATA 2018) for the photon density.
    private const double StefanBoltzmann = 5.670374419e-8;
    private const double SpeedOfLightMs = 299_792_458.0;
    private const double Gravitation = 6.67430e-11;
    private const double MpcInMetres = 3.0856775814913673e22;
    private const double BoltzmannEvPerK = 8.617333262e-5;

    // Komatsu et al. 2011, eq. 26: F(y) = (1 + (A y)^p)^(1/p) with A = 180 ζ(3) / (7 π^4) and p = 1.83; the
    // prefactor is 7/8 (4/11)^(4/3) per neutrino species.
    private const double NeutrinoA = 0.3173;
    private const double NeutrinoP = 1.83;
    private const double NeutrinoPrefactor = 0.22710731766;

    /// <summary>Tν/Tγ = (4/11)^(1/3), after electron-positron annihilation.</summary>
    private const double NeutrinoTemperatureRatio = 0.7137658555036082;

    private readonly double _omegaMatter, _omegaPhoton, _omegaLambda, _neffPerSpecies;
    private readonly double[] _neutrinoY;
    private readonly int _masslessNeutrinos;

    /// <summary>Planck 2018: H0 67.66 km/s/Mpc, Ωm 0.30966, T_CMB 2.7255 K, N_eff 3.046, one neutrino of 0.06 eV.</summary>
    public static Cosmology Planck18 { get; } = new(67.66, 0.30966, 2.7255, 3.046, [0.0, 0.0, 0.06]);

    /// <summary>A flat cosmology; <paramref name="neutrinoMassesEv"/> lists each of the species' masses (0 for massless).</summary>
    public Cosmology(double h0KmSMpc, double omegaMatter, double cmbTemperatureK, double effectiveNeutrinoSpecies, double[] neutrinoMassesEv)
    {
        H0 = h0KmSMpc;
        _omegaMatter = omegaMatter;
        double h0PerSecond = h0KmSMpc * 1000.0 / MpcInMetres;
        double criticalDensity = 3 * h0PerSecond * h0PerSecond / (8 * Math.PI * Gravitation);
        double photonDensity = 4 * StefanBoltzmann * Math.Pow(cmbTemperatureK, 4) / Math.Pow(SpeedOfLightMs, 3);
        _omegaPhoton = photonDensity / criticalDensity;
        _neffPerSpecies = effectiveNeutrinoSpecies / neutrinoMassesEv.Length;
        double neutrinoTemperature = NeutrinoTemperatureRatio * cmbTemperatureK;
        _neutrinoY = [.. neutrinoMassesEv.Where(m => m > 0).Select(m => m / (BoltzmannEvPerK * neutrinoTemperature))];
        _masslessNeutrinos = neutrinoMassesEv.Length - _neutrinoY.Length;
        _omegaLambda = 1 - _omegaMatter - _omegaPhoton * (1 + NeutrinoRelativeDensity(0));
    }

    /// <summary>The Hubble constant, km/s/Mpc.</summary>
    public double H0 { get; }

    /// <summary>Today's neutrino density (massive ones included) over the critical density.</summary>
    public double OmegaNeutrino => _omegaPhoton * NeutrinoRelativeDensity(0);

    /// <summary>Today's photon density over the critical density.</summary>
    public double OmegaPhoton => _omegaPhoton;

    /// <summary>H(z)/H0 (Hogg 1999, eq. 14, with radiation).</summary>
    public double E(double z)
    {
        double a = 1 + z;
        return Math.Sqrt(_omegaMatter * a * a * a + _omegaPhoton * (1 + NeutrinoRelativeDensity(z)) * a * a * a * a + _omegaLambda);
    }

    /// <summary>Line-of-sight comoving distance to redshift <paramref name="z"/>, Mpc (Hogg 1999, eq. 15).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="z"/> is negative or not finite.</exception>
    public double ComovingDistanceMpc(double z)
    {
        if (!(z >= 0) || double.IsInfinity(z)) throw new ArgumentOutOfRangeException(nameof(z), z, "redshift must be finite and non-negative");
        // Gauss-Legendre on [0, z] in pieces of at most 0.5 in redshift: the integrand is smooth, and 16 nodes per
        // piece reach 1e-12 relative precision.
        int pieces = Math.Max(1, (int)Math.Ceiling(z / 0.5));
        double width = z / pieces, sum = 0;
        for (int p = 0; p < pieces; p++)
        {
            double mid = (p + 0.5) * width, half = width / 2;
            for (int i = 0; i < GaussNodes.Length; i++) sum += GaussWeights[i] * half / E(mid + half * GaussNodes[i]);
        }
        return SpeedOfLightKmS / H0 * sum;
    }

    /// <summary>Angular diameter distance, Mpc (flat: the comoving distance over 1 + z; Hogg 1999, eq. 18).</summary>
    public double AngularDiameterDistanceMpc(double z) => ComovingDistanceMpc(z) / (1 + z);

    /// <summary>Proper distance across one arcsecond at redshift <paramref name="z"/>, kpc.</summary>
    public double KpcPerArcsec(double z) => AngularDiameterDistanceMpc(z) * 1000.0 * Math.PI / (180.0 * 3600.0);

    /// <summary>Neutrino over photon energy density at <paramref name="z"/> (Komatsu et al. 2011, eq. 26).</summary>
    private double NeutrinoRelativeDensity(double z)
    {
        double massive = 0;
        foreach (double y in _neutrinoY) massive += Math.Pow(1 + Math.Pow(NeutrinoA * y / (1 + z), NeutrinoP), 1 / NeutrinoP);
        return NeutrinoPrefactor * _neffPerSpecies * (massive + _masslessNeutrinos);
    }

    // 16-point Gauss-Legendre nodes and weights on [-1, 1] (Abramowitz and Stegun, table 25.4).
    private static readonly double[] GaussNodes =
    [
        -0.9894009349916499, -0.9445750230732326, -0.8656312023878318, -0.7554044083550030,
        -0.6178762444026438, -0.4580167776572274, -0.2816035507792589, -0.0950125098376374,
        0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438,
        0.7554044083550030, 0.8656312023878318, 0.9445750230732326, 0.9894009349916499,
    ];

    private static readonly double[] GaussWeights =
    [
        0.0271524594117541, 0.0622535239386479, 0.0951585116824928, 0.1246289712555339,
        0.1495959888165767, 0.1691565193950025, 0.1826034150449236, 0.1894506104550685,
        0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767,
        0.1246289712555339, 0.0951585116824928, 0.0622535239386479, 0.0271524594117541,
    ];
}
