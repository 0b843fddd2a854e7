using Broker.TestSupport;

namespace Broker.Catalogs.Tests;

public sealed class KStarsCatalogsTests
{
    /// <summary>Angular separation in arcseconds (haversine).</summary>
    private static double Arcsec(double ra1, double dec1, double ra2, double dec2)
    {
        double r = Math.PI / 180, sd = Math.Sin((dec2 - dec1) * r / 2), sa = Math.Sin((ra2 - ra1) * r / 2);
        return 2 * Math.Asin(Math.Sqrt(sd * sd + Math.Cos(dec1 * r) * Math.Cos(dec2 * r) * sa * sa)) / r * 3600;
    }

    // Published J2000 positions: OpenNGC v20210306 (M31 00h42m44.35s +41°16'08.6"; M1 = NGC 1952 05h34m31.97s
    // +22°00'52.1"; M42 = NGC 1976 05h35m16.48s -05°23'22.8"), and SIMBAD/Hipparcos for the stars.
    [KStarsDataFact]
    public void OpenNGC_has_every_object_with_the_published_positions_types_and_sizes()
    {
        var rows = KStarsCatalogs.ReadOpenNgc().ToList();
        Assert.Equal(13_960, rows.Count);
        Assert.Equal(rows.Count, rows.Select(r => r.Id.Text).Distinct().Count());
        var byId = rows.ToDictionary(r => r.Id.Text!);
        var m31 = byId["NGC0224"];
        Assert.True(Arcsec(m31.Ra, m31.Dec, 10.6847917, 41.2690556) < 1);
        Assert.Equal(new object?[] { 4.36, 8L, "galaxy", 177.83, 69.66, 35.0, "M 31" }, m31.Extra[..7]);
        Assert.Contains("Andromeda Galaxy", (string)m31.Extra[7]!);
        var m1 = byId["NGC1952"];
        Assert.True(Arcsec(m1.Ra, m1.Dec, 83.6332083, 22.0144722) < 1);
        Assert.Equal("supernova remnant", m1.Extra[2]);
        var m42 = byId["NGC1976"];
        Assert.True(Arcsec(m42.Ra, m42.Dec, 83.8186667, -5.3896667) < 1);
        Assert.Null(byId["IC0001"].Extra[0]);
        Assert.Equal("multiple star", byId["IC0001"].Extra[2]);
        Assert.All(rows, r => Assert.Equal(2000.0, r.Epoch));
    }

    [KStarsDataFact]
    public void The_Hipparcos_Tycho_stars_have_HD_numbers_and_the_published_positions()
    {
        var rows = KStarsCatalogs.ReadStars().ToList();
        Assert.Equal(1_615 + 41_249, rows.Count);
        var byHd = rows.Where(r => r.Id.IsNumber).GroupBy(r => r.Id.Number).ToDictionary(g => g.Key, g => g.First());
        // (HD, HIP for reference, ra, dec, V): Sirius HIP 32349, Polaris HIP 11767, Vega HIP 91262, Betelgeuse HIP 27989.
        foreach (var (hd, ra, dec, mag) in new[]
                 {
                     (48915L, 101.2871553, -16.7161159, -1.44), (8890L, 37.9545607, 89.2641094, 1.97),
                     (172167L, 279.2347348, 38.7836889, 0.03), (39801L, 88.7929389, 7.4070639, double.NaN), // Betelgeuse varies from 0.0 to 1.6: no magnitude check
                 })
        {
            var star = byHd[hd];
            // Carried linearly from J1991.25 to J2000 (8.75 yr; good to well under 1" for these stars but Polaris,
            // whose RA step is pmra / cos dec, still linear enough over 9 years).
            double years = 2000.0 - star.Epoch!.Value;
            double dec2000 = star.Dec + star.Pmdec!.Value * years / 3.6e6;
            double ra2000 = star.Ra + star.Pmra!.Value * years / 3.6e6 / Math.Cos(star.Dec * Math.PI / 180);
            double off = Arcsec(ra2000, dec2000, ra, dec);
            Assert.True(off < 1, $"HD {hd}: {off:F2}\" from the published J2000 position");
            if (!double.IsNaN(mag)) Assert.Equal(mag, (double)star.Extra[0]!, 0.05); // KStars gives the Cepheid Polaris 2.00, Hipparcos Hp-derived V 1.97
        }
        Assert.All(rows, r => Assert.Equal(KStarsCatalogs.HipparcosEpoch, r.Epoch));
        var sirius = byHd[48915];
        Assert.Equal((-546.0, -1223.1), (sirius.Pmra!.Value, sirius.Pmdec!.Value));
        Assert.Equal("A0", sirius.Extra[2]);
        Assert.Equal(379.21, (double)sirius.Extra[3]!, 0.5); // Hipparcos 379.21 mas; KStars keeps 379.0
    }

    [Fact]
    public void Missing_or_foreign_files_give_one_clear_error()
    {
        string dir = Directory.CreateTempSubdirectory("broker-kstars-").FullName;
        try
        {
            var e = Assert.Throws<CatalogFormatException>(() => KStarsCatalogs.ReadOpenNgc(Path.Combine(dir, "none.kscat")).ToList());
            Assert.Contains("kstars-data", e.Message);
            string junk = Path.Combine(dir, "junk.kscat");
            File.WriteAllText(junk, "not sqlite at all, but long enough to be read as a header by sqlite3 ..................................");
            e = Assert.Throws<CatalogFormatException>(() => KStarsCatalogs.ReadOpenNgc(junk).ToList());
            Assert.Equal(junk, e.File);
            File.WriteAllBytes(Path.Combine(dir, "namedstars.dat"), new byte[200]);
            e = Assert.Throws<CatalogFormatException>(() => KStarsCatalogs.ReadStars(dir).ToList());
            Assert.Contains("'SK'", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
