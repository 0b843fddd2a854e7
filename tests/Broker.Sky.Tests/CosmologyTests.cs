using System.Globalization;
using Broker.TestSupport;

namespace Broker.Sky.Tests;

/// <summary>Planck 2018 distances against astropy's <c>Planck18</c> (the crossmatch's physical host offsets, issue 11).</summary>
public sealed class CosmologyTests
{
    private static readonly double[] Redshifts = [0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 1, 2, 3, 6];

    [OracleFact("astropy", NeedsSharedData = false)]
    public void Planck18_distances_and_kpc_per_arcsec_agree_with_astropy()
    {
        string output = Python.RunCode("""
            import sys
            from astropy.cosmology import Planck18 as c
            zs = [float(z) for z in sys.argv[1:]]
            for z in zs:
                print(repr(c.comoving_distance(z).value), repr(c.angular_diameter_distance(z).value), repr(c.kpc_proper_per_arcmin(z).value / 60))
            print(repr(c.Ogamma0), repr(c.Onu0))
            """, [.. Redshifts.Select(z => z.ToString("R", CultureInfo.InvariantCulture))]);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var cosmology = Cosmology.Planck18;
        for (int i = 0; i < Redshifts.Length; i++)
        {
            var v = lines[i].Split(' ').Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
            double z = Redshifts[i];
            Assert.Equal(1, cosmology.ComovingDistanceMpc(z) / v[0], 1e-7);
            Assert.Equal(1, cosmology.AngularDiameterDistanceMpc(z) / v[1], 1e-7);
            Assert.Equal(1, cosmology.KpcPerArcsec(z) / v[2], 1e-7);
        }
        var omegas = lines[^1].Split(' ').Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(1, cosmology.OmegaPhoton / omegas[0], 1e-6);
        Assert.Equal(1, cosmology.OmegaNeutrino / omegas[1], 1e-6);
    }

    [Fact]
    public void Distances_start_at_zero_grow_with_redshift_and_refuse_a_negative_one()
    {
        var c = Cosmology.Planck18;
        Assert.Equal(0, c.ComovingDistanceMpc(0));
        // Near z = 0 the distance is the Hubble law's, cz/H0.
        Assert.Equal(299792.458 * 1e-4 / 67.66, c.ComovingDistanceMpc(1e-4), 1e-4);
        Assert.True(c.ComovingDistanceMpc(2) > c.ComovingDistanceMpc(1));
        // The angular diameter distance peaks near z = 1.6 and then falls.
        Assert.True(c.AngularDiameterDistanceMpc(3) < c.AngularDiameterDistanceMpc(1.6));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.ComovingDistanceMpc(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => c.ComovingDistanceMpc(double.NaN));
    }
}
