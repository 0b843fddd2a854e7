using System.Globalization;
using Broker.Alerts.Avro;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Sky;

namespace Broker.Simulation.Tests;

/// <summary>The simulator's sky as a catalogue (issue 11): simulated alerts find their true counterparts in it.</summary>
public sealed class SimulatedSkyCatalogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("broker-simsky-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Build(SimulationOptions options, SimulatedSources sources, string name)
    {
        string path = Path.Combine(_folder, name + ".bcat");
        CatalogIndexBuilder.Build(SimulatedSkyCatalog.Rows(options, sources), SimulatedSkyCatalog.Columns, name, path);
        return path;
    }

    private static double Arcsec(double ra1, double dec1, double ra2, double dec2) => Coordinates.SeparationDeg(ra1, dec1, ra2, dec2) * 3600;

    private static bool IsSupernova(ObjectClass c) => c is ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN;

    /// <summary>
    /// Every alert of an astrophysical object (asteroids and artefacts apart) is matched at its measured position,
    /// with its astrometric noise: a star's nearest star within 1" is its own object, and so is an AGN's or quasar's
    /// nearest galaxy within 1"; a supernova's nearest galaxy within 30" is its host, and (ZTF, whose alerts give the
    /// host offset as distnr) lies within the host offset plus the alert's astrometric error of the measured position.
    /// </summary>
    [Theory]
    [InlineData(SurveyKind.Ztf, 600)]
    [InlineData(SurveyKind.Lsst, 300)]
    public void Each_simulated_alert_finds_its_own_object_as_its_counterpart_in_the_simulated_catalogue(SurveyKind survey, int alertsPerNight)
    {
        var options = new SimulationOptions { Survey = survey, Nights = 1, AlertsPerNight = alertsPerNight, Seed = 11, Cutouts = false };
        using var stars = CatalogIndex.Open(Build(options, SimulatedSources.Stars, "stars"));
        using var galaxies = CatalogIndex.Open(Build(options, SimulatedSources.Galaxies, "galaxies"));
        var starSearch = new CatalogSearcher(stars);
        var galaxySearch = new CatalogSearcher(galaxies);
        var reader = AvroDatumReader.For(survey == SurveyKind.Ztf ? SurveySchemas.Ztf : SurveySchemas.Lsst);
        int stellar = 0, nuclear = 0, supernovae = 0, hostOffsets = 0;
        foreach (var alert in AlertSimulator.Generate(options))
        {
            var truth = alert.Truth;
            if (truth.Class == ObjectClass.Asteroid || truth.Class.IsBogus()) continue;
            var record = (AvroRecord)reader.Read(alert.Datum)!;
            var source = (AvroRecord)record[survey == SurveyKind.Ztf ? "candidate" : "diaSource"]!;
            double ra = Convert.ToDouble(source["ra"], CultureInfo.InvariantCulture), dec = Convert.ToDouble(source["dec"], CultureInfo.InvariantCulture);
            double noise = Arcsec(ra, dec, truth.RaDeg, truth.DecDeg);
            string where = $"alert {alert.AlertId} ({truth.Class}, object {truth.ObjectId})";
            if (truth.Class.IsStellar())
            {
                Assert.True(starSearch.Nearest(ra, dec, 1.0, out var m), $"{where}: no star within 1\"");
                Assert.Equal(truth.ObjectId, stars.Id(m.Row).ToString());
                stellar++;
            }
            else if (truth.Class is ObjectClass.AGN or ObjectClass.QSO)
            {
                Assert.True(galaxySearch.Nearest(ra, dec, 1.0, out var m), $"{where}: no galaxy or quasar within 1\"");
                Assert.Equal(truth.ObjectId, galaxies.Id(m.Row).ToString());
                nuclear++;
            }
            else
            {
                Assert.True(IsSupernova(truth.Class), where);
                Assert.True(galaxySearch.Nearest(ra, dec, 30.0, out var m), $"{where}: no galaxy within 30\"");
                Assert.Equal(truth.ObjectId, galaxies.Id(m.Row).ToString());
                // z is the one the light curve was stretched by (truth parameters carry it to 4 decimals).
                double z = galaxies.Float64Column("redshift")[m.Row];
                Assert.Contains(FormattableString.Invariant($"z={z:F4}"), truth.Parameters, StringComparison.Ordinal);
                if (survey == SurveyKind.Ztf)
                {
                    // distnr is the true host offset; the measured position is `noise` from the true one (triangle inequality).
                    double offset = Convert.ToDouble(source["distnr"], CultureInfo.InvariantCulture);
                    Assert.InRange(m.SeparationArcsec, 0, offset + noise + 1e-6);
                    Assert.InRange(m.SeparationArcsec, offset - noise - 1e-6, double.MaxValue);
                    hostOffsets++;
                }
                supernovae++;
            }
        }
        Assert.True(stellar >= 50, $"{stellar} stellar alerts checked");
        Assert.True(nuclear >= 5, $"{nuclear} AGN and quasar alerts checked");
        Assert.True(supernovae >= 3, $"{supernovae} supernova alerts checked");
        Assert.True(survey != SurveyKind.Ztf || hostOffsets == supernovae);
    }

    /// <summary>
    /// A separation cannot tell on which side of the supernova its host lies, so this looks at the template cutout,
    /// where the simulator draws the host's light: over the ZTF supernovae whose host is at least a pixel away, the
    /// template is brighter at the catalogue host's position than at its mirror image through the stamp's centre.
    /// </summary>
    [Fact]
    public void A_supernova_host_lies_where_the_template_cutout_shows_its_light()
    {
        var options = new SimulationOptions { Survey = SurveyKind.Ztf, Nights = 1, AlertsPerNight = 1500, Seed = 11 };
        using var galaxies = CatalogIndex.Open(Build(options, SimulatedSources.Galaxies, "galaxies"));
        var search = new CatalogSearcher(galaxies);
        var reader = AvroDatumReader.For(SurveySchemas.Ztf);
        double px = SurveyModel.For(SurveyKind.Ztf).PixelScale;
        int cases = 0, brighter = 0;
        foreach (var alert in AlertSimulator.Generate(options))
        {
            var truth = alert.Truth;
            if (!IsSupernova(truth.Class)) continue;
            Assert.True(search.Nearest(truth.RaDeg, truth.DecDeg, 30.0, out var m));
            Assert.Equal(truth.ObjectId, galaxies.Id(m.Row).ToString());
            var (hx, hy, hz) = (galaxies.X[m.Row], galaxies.Y[m.Row], galaxies.Z[m.Row]);
            double hostRa = Coordinates.Wrap360(Math.Atan2(hy, hx) * Coordinates.RadToDeg), hostDec = Math.Asin(hz) * Coordinates.RadToDeg;
            double east = (Coordinates.Wrap360(hostRa - truth.RaDeg + 180) - 180) * Math.Cos(truth.DecDeg * Coordinates.DegToRad) * 3600;
            double north = (hostDec - truth.DecDeg) * 3600;
            // East is toward -x and north toward +y in the stamps (ZtfPacketBuilder.Scene).
            double dx = -east / px, dy = north / px;
            if (Math.Sqrt(dx * dx + dy * dy) is < 1 or > 25) continue;
            var stamp = (AvroRecord)((AvroRecord)reader.Read(alert.Datum)!)["cutoutTemplate"]!;
            var image = Broker.Alerts.Fits.FitsFile.Read((byte[])stamp["stampData"]!).FirstImage;
            if (image.Width != 63 || image.Height != 63) continue; // a stamp cut by the CCD edge is not centred on the source
            double Aperture(double x, double y)
            {
                double sum = 0;
                for (int j = -1; j <= 1; j++)
                    for (int i = -1; i <= 1; i++)
                    {
                        int xi = (int)Math.Round(x) + i, yj = (int)Math.Round(y) + j;
                        if (xi >= 0 && xi < 63 && yj >= 0 && yj < 63 && float.IsFinite(image.Pixels[yj * 63 + xi])) sum += image.Pixels[yj * 63 + xi];
                    }
                return sum;
            }
            cases++;
            if (Aperture(31 + dx, 31 + dy) > Aperture(31 - dx, 31 - dy)) brighter++;
        }
        // Seed 11 gives 16 such supernova alerts, 14 brighter at the host (with the host mirrored, as "object minus
        // offset" would place it, 1 of 16); noise and field stars in the stamps account for the rest.
        Assert.True(cases >= 10, $"{cases} supernovae with a host 1-25 pixels away");
        Assert.True(brighter >= 0.75 * cases, $"the template is brighter at the host in {brighter} of {cases}");
    }

    [Fact]
    public void The_same_options_give_the_same_rows_whatever_the_worker_count_and_the_seed_changes_them()
    {
        var options = new SimulationOptions { Survey = SurveyKind.Ztf, AlertsPerNight = 200, Seed = 3, Workers = 1 };
        static List<string> Text(IEnumerable<CatalogRow> rows) =>
            rows.Select(r => FormattableString.Invariant($"{r.Id} {r.Ra:R} {r.Dec:R} {string.Join(' ', r.Extra.Select(e => Convert.ToString(e, CultureInfo.InvariantCulture)))}")).ToList();
        var one = Text(SimulatedSkyCatalog.Rows(options));
        Assert.True(one.Count > 1000, $"{one.Count} rows");
        Assert.Equal(one, Text(SimulatedSkyCatalog.Rows(options with { Workers = 2 })));
        Assert.NotEqual(one, Text(SimulatedSkyCatalog.Rows(options with { Seed = 4 })));
        var kinds = SimulatedSkyCatalog.Rows(options).Select(r => (string)r.Extra[0]!).ToHashSet();
        Assert.Equal(["galaxy", "qso", "star"], kinds.Order());
        Assert.Equal(one.Count, SimulatedSkyCatalog.Rows(options, SimulatedSources.Stars).Count() + SimulatedSkyCatalog.Rows(options, SimulatedSources.Galaxies).Count());
    }
}
