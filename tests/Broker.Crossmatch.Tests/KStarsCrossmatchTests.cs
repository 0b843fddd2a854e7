using Broker.TestSupport;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using static Broker.Crossmatch.Tests.TestCatalogs;

namespace Broker.Crossmatch.Tests;

/// <summary>The step against real catalogues: OpenNGC and the Hipparcos/Tycho stars that Debian's kstars-data carries.</summary>
public sealed class KStarsCrossmatchTests : IDisposable
{
    private readonly TestCatalogs _catalogs = new();

    public void Dispose() => _catalogs.Dispose();

    [KStarsDataFact]
    public async Task An_alert_on_the_nucleus_of_M31_matches_NGC_224_as_a_galaxy_and_one_on_Vega_matches_HD_172167_as_a_star()
    {
        string ngc = Path.Combine(_catalogs.Folder, "openngc.bci"), stars = Path.Combine(_catalogs.Folder, "stars.bci");
        CatalogIndexBuilder.Build(KStarsCatalogs.ReadOpenNgc(), new CatalogColumns("catalog_identifier", "ra", "dec") { Extra = KStarsCatalogs.OpenNgcExtra }, "OpenNGC.kscat", ngc,
            new CatalogIndexBuildOptions { Name = "OpenNGC", Release = "kstars-data" });
        CatalogIndexBuilder.Build(KStarsCatalogs.ReadStars(), new CatalogColumns("HD", "RA", "Dec") { Extra = KStarsCatalogs.StarExtra }, "namedstars.dat", stars,
            new CatalogIndexBuildOptions { Name = "Hipparcos-Tycho", Release = "kstars-data" });
        using var step = await StartedStep(
            new CrossmatchCatalogOptions { Path = ngc, RadiusArcsec = 120, Match = "all", Columns = ["magnitude", "name"], TypeColumn = "type_name" },
            new CrossmatchCatalogOptions { Path = stars, RadiusArcsec = 10, Columns = ["magnitude"], Type = "star" });

        // OpenNGC's M31 (00h42m44.35s +41°16'08.6") and Vega's J2000 position (SIMBAD); KStars' stars sit at J1991.25,
        // and Vega's 0.35"/yr moves it about 3" in between: within the radius until proper motion is applied.
        var m31 = await One(step, AlertAt(1, 10.6847917, 41.2690556));
        var galaxy = Assert.Single(m31.Crossmatches, m => m.SourceId == "NGC0224");
        Assert.Equal(("OpenNGC", "kstars-data", "galaxy"), (galaxy.Catalog, galaxy.CatalogRelease, galaxy.ObjectType));
        Assert.True(galaxy.DistanceArcsec < 1);
        Assert.Equal(4.36, galaxy.Properties["magnitude"]);
        Assert.Equal("M 31", galaxy.Properties["name"]);
        Assert.False(m31.Galactic!.InPlane);

        var vega = await One(step, AlertAt(2, 279.2347348, 38.7836889));
        var star = Assert.Single(vega.Crossmatches);
        Assert.Equal(("Hipparcos-Tycho", "172167", "star"), (star.Catalog, star.SourceId, star.ObjectType));
        Assert.InRange(star.DistanceArcsec, 1, 6);
        Assert.Equal(0.03, (double)star.Properties["magnitude"]!, 1e-9);
    }
}
