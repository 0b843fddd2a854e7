using System.Text.Json;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.TestSupport;
using Parquet;
using Parquet.Schema;

namespace Broker.Cli.Tests;

/// <summary><c>broker catalog build</c> and <c>broker xmatch</c> as processes: output, one-line errors naming file, row and column, exit codes (issue 11).</summary>
public sealed class CatalogCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("broker-catcli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Catalog_build_then_xmatch_prints_the_header_and_pairs_and_bad_input_is_one_line_with_exit_code_1()
    {
        string csv = Path.Combine(_folder, "cat.csv");
        File.WriteAllText(csv, "sid,RA,DE,mag\n1,0.0,90.0,10\n2,359.9999,0.0,11\n3,0.0002,0.0,12\n4,180,-30,13\n");
        string index = Path.Combine(_folder, "cat.bci");
        var build = BrokerProcess.Run("catalog", "build", "--csv", csv, "--id-column", "sid", "--ra-column", "RA", "--dec-column", "DE", "--columns", "mag", "--name", "T", "--release", "1", "--out", index);
        Assert.Equal(0, build.ExitCode);

        string positions = Path.Combine(_folder, "pos.csv");
        File.WriteAllText(positions, "id,ra,dec\nwrap,0,0\npole,77,89.99999\n");
        var run = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "1", "--positions", positions);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("id,catalog_id,separation_arcsec", run.OutputLines[0]);
        Assert.Equal(["wrap,2", "wrap,3", "pole,1"], run.OutputLines.Skip(1).Select(l => string.Join(',', l.Split(',')[..2])));
        var nearest = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "1", "--positions", positions, "--nearest");
        Assert.Equal(3, nearest.OutputLines.Length);

        File.WriteAllText(positions, "id,ra,dec\n1,10,20\n2,NaN,5\n");
        var bad = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "1", "--positions", positions);
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal($"error: {positions}: row 2, column 'ra': ra = NaN is not in [0, 360) degrees", Assert.Single(bad.ErrorLines));

        var missing = BrokerProcess.Run("catalog", "build", "--csv", csv, "--id-column", "nope", "--ra-column", "RA", "--dec-column", "DE", "--out", index + "2");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith($"error: {csv}: column 'nope': no such column", Assert.Single(missing.ErrorLines));

        var notIndex = BrokerProcess.Run("xmatch", "--catalog", csv, "--radius", "1", "--positions", positions);
        Assert.Equal(1, notIndex.ExitCode);
        Assert.Contains(csv, Assert.Single(notIndex.ErrorLines));

        var usage = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "-1", "--positions", positions);
        Assert.Equal(2, usage.ExitCode);
    }

    [Fact]
    public void Xmatch_given_alert_files_prints_each_alert_with_its_counterpart_and_refuses_positions_beside_them()
    {
        // A catalogue with one row 0.5" north of the first alert of each object in a folder of real ZTF alerts (the
        // other alerts of an object lie within a few hundredths of an arcsecond of it), and one far away.
        string folder = SharedData.Path("ztf/alerts/ztf-avro-alert_samples");
        var alerts = new AlertFileReader(null).Read([folder]).Select(item => SurveyAlertMapper.Map(item.Record!)).ToList();
        var objects = alerts.DistinctBy(a => a.ObjectId).ToList();
        Assert.True(objects.Count >= 3 && alerts.Count > objects.Count, $"{alerts.Count} alerts of {objects.Count} objects");
        string csv = Path.Combine(_folder, "near.csv");
        File.WriteAllLines(csv, ["id,ra,dec", .. objects.Select(a => FormattableString.Invariant($"{a.ObjectId},{a.Ra:R},{a.Dec + 0.5 / 3600:R}")), "far,10,-80"]);
        string index = Path.Combine(_folder, "near.bci");
        Assert.Equal(0, BrokerProcess.Run("catalog", "build", "--csv", csv, "--id-column", "id", "--ra-column", "ra", "--dec-column", "dec", "--name", "near", "--out", index).ExitCode);

        var run = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "2", "--nearest", folder);
        Assert.Equal(0, run.ExitCode);
        var lines = run.OutputLines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        // Repeats of an alert id are duplicates to ingest: each alert comes out once.
        Assert.Equal(alerts.Select(a => a.AlertId).Distinct().Order(), lines.Select(l => l.GetProperty("alertId").GetInt64()).Order());
        foreach (var line in lines)
        {
            var match = Assert.Single(line.GetProperty("crossmatches").EnumerateArray());
            Assert.Equal(("near", line.GetProperty("objectId").GetString()), (match.GetProperty("catalog").GetString(), match.GetProperty("sourceId").GetString()));
            Assert.Equal(0.5, match.GetProperty("separationArcsec").GetDouble(), 0.05);
            Assert.Equal(2.0, match.GetProperty("radiusArcsec").GetDouble());
            Assert.True(line.GetProperty("galactic").GetProperty("b").GetDouble() is >= -90 and <= 90);
        }

        string positions = Path.Combine(_folder, "pos.csv");
        File.WriteAllText(positions, "id,ra,dec\n1,10,-80\n");
        var both = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "2", "--positions", positions, folder);
        Assert.Equal(2, both.ExitCode);
        Assert.Equal(2, BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "2").ExitCode);
    }

    [KStarsDataFact]
    public void Catalog_build_takes_openngc_and_the_kstars_star_list_from_kstars_data_with_their_fixed_columns()
    {
        string ngc = Path.Combine(_folder, "ngc.bci"), stars = Path.Combine(_folder, "stars.bci");
        var built = BrokerProcess.Run("catalog", "build", "--openngc", "/usr/share/kstars/OpenNGC.kscat", "--out", ngc);
        Assert.Equal(0, built.ExitCode);
        Assert.StartsWith("13960 rows indexed", Assert.Single(built.ErrorLines));
        Assert.Equal(0, BrokerProcess.Run("catalog", "build", "--kstars-stars", "/usr/share/kstars", "--out", stars).ExitCode);
        string positions = Path.Combine(_folder, "pos.csv");
        // The nucleus of M31 (NGC 224) and Vega (HD 172167, J2000 position: the star list is at J1991.25, 2" away then).
        File.WriteAllText(positions, "id,ra,dec\nm31,10.684708,41.268750\nvega,279.234735,38.783689\n");
        var m31 = BrokerProcess.Run("xmatch", "--catalog", ngc, "--radius", "60", "--positions", positions, "--nearest");
        Assert.Equal("m31,NGC0224", string.Join(',', m31.OutputLines[1].Split(',')[..2]));
        var vega = BrokerProcess.Run("xmatch", "--catalog", stars, "--radius", "10", "--positions", positions, "--nearest");
        Assert.Equal("vega,172167", string.Join(',', Assert.Single(vega.OutputLines.Skip(1)).Split(',')[..2]));

        Assert.Equal(2, BrokerProcess.Run("catalog", "build", "--openngc", "/usr/share/kstars/OpenNGC.kscat", "--id-column", "x", "--out", ngc).ExitCode);
    }

    [Fact]
    public async Task Catalog_build_takes_parquet_and_hats_and_records_the_hats_catalogues_name()
    {
        var id = new DataField<long>("source_id");
        var ra = new DataField<double>("ra");
        var dec = new DataField<double>("dec");
        string parquet = Path.Combine(_folder, "hats", "dataset", "Norder=0", "Dir=0", "Npix=4.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(parquet)!);
        await using (var stream = File.Create(parquet))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, ra, dec), stream))
        {
            using var g = writer.CreateRowGroup();
            await g.WriteAsync<long>(id, new long[] { 7, 8 });
            await g.WriteAsync<double>(ra, new[] { 10.0, 10.0 });
            await g.WriteAsync<double>(dec, new[] { 20.0, 21.0 });
        }
        File.WriteAllText(Path.Combine(_folder, "hats", "properties"), "obs_collection=tiny_survey\nhats_col_ra=ra\nhats_col_dec=dec\n");
        string positions = Path.Combine(_folder, "pos.csv");
        File.WriteAllText(positions, "id,ra,dec\na,10.0001,20\n");
        foreach (var (option, source) in new[] { ("--parquet", parquet), ("--hats", Path.Combine(_folder, "hats")) })
        {
            string index = Path.Combine(_folder, option[2..] + ".bci");
            var build = BrokerProcess.Run("catalog", "build", option, source, "--id-column", "source_id", "--ra-column", "ra", "--dec-column", "dec", "--out", index);
            Assert.Equal(0, build.ExitCode);
            if (option == "--hats") Assert.Contains("tiny_survey", File.ReadAllText(index));
            var run = BrokerProcess.Run("xmatch", "--catalog", index, "--radius", "1", "--positions", positions);
            Assert.Equal(["id,catalog_id", "a,7"], run.OutputLines.Select(l => string.Join(',', l.Split(',').Take(2))));
        }
        var both = BrokerProcess.Run("catalog", "build", "--parquet", parquet, "--hats", _folder, "--id-column", "source_id", "--ra-column", "ra", "--dec-column", "dec", "--out", Path.Combine(_folder, "x.bci"));
        Assert.Equal(2, both.ExitCode);
    }

    [Fact]
    public void Catalog_build_simulated_indexes_the_simulators_sky_for_the_options_simulate_takes()
    {
        string index = Path.Combine(_folder, "sim.bci");
        var build = BrokerProcess.Run("catalog", "build", "--simulated", "--survey", "lsst", "--seed", "2", "--alerts-per-night", "100", "--out", index);
        Assert.Equal(0, build.ExitCode);
        var options = new Broker.Simulation.SimulationOptions { Survey = Broker.Simulation.SurveyKind.Lsst, Seed = 2, AlertsPerNight = 100 };
        var rows = Broker.Simulation.SimulatedSkyCatalog.Rows(options).ToList();
        using (var built = Broker.Catalogs.Index.CatalogIndex.Open(index))
        {
            Assert.Equal(rows.Count, built.Rows);
            Assert.Equal("simulated-lsst", built.Header.Name);
            Assert.True(built.HasNumericIds);
            Assert.Equal(rows.Select(r => r.Id.Number).Order(), Enumerable.Range(0, built.Rows).Select(built.IdNumber).Order());
        }
        // Column options belong to file inputs, simulation options to --simulated.
        Assert.Equal(2, BrokerProcess.Run("catalog", "build", "--simulated", "--id-column", "x", "--out", index).ExitCode);
        Assert.Equal(2, BrokerProcess.Run("catalog", "build", "--csv", index, "--id-column", "a", "--ra-column", "b", "--dec-column", "c", "--seed", "3", "--out", index).ExitCode);
        Assert.Equal(2, BrokerProcess.Run("catalog", "build", "--csv", index, "--ra-column", "b", "--dec-column", "c", "--out", index).ExitCode);
    }
}
