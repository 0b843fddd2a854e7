using System.Globalization;
using Broker.Catalogs.Index;
using Broker.TestSupport;

namespace Broker.Catalogs.Tests;

/// <summary>
/// The catalogue index and crossmatch kernel of issue 11: cones equal brute force; chunked builds are
/// byte-identical; bad input names file, row and column. (Pairs equal Q3C's on 3·10^6 rows: <see cref="Q3cXmatchOracleTests"/>.)
/// </summary>
public sealed class CatalogIndexTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("broker-catidx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Build(SkyTestCatalog catalog, string name, int chunkRows = 1 << 20, string? csvName = null)
    {
        string csv = Path.Combine(_folder, (csvName ?? name) + ".csv");
        if (!File.Exists(csv)) catalog.WriteCsv(csv, id: "source_id", ra: "RAdeg", dec: "DEdeg");
        string index = Path.Combine(_folder, name + ".bci");
        var columns = new CatalogColumns("source_id", "RAdeg", "DEdeg");
        CatalogIndexBuilder.Build(CsvCatalogReader.Read(csv, columns), columns, csv, index, new CatalogIndexBuildOptions { Name = "test", Release = "1", ChunkRows = chunkRows });
        return index;
    }

    [Fact]
    public void A_build_spilled_in_many_small_chunks_is_byte_identical_to_one_chunk()
    {
        var catalog = SkyTestCatalog.Catalog(new Random(7), 30_000);
        string one = Build(catalog, "one", csvName: "same");
        string many = Build(catalog, "many", chunkRows: 777, csvName: "same");
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(many));
        using var index = CatalogIndex.Open(many);
        Assert.Equal(30_000, index.Rows);
        Assert.Equal("test", index.Header.Name);
        Assert.Equal("1", index.Header.Release);
        var keys = index.Keys;
        for (int i = 1; i < keys.Length; i++) Assert.True(keys[i - 1] <= keys[i]);
        Assert.Empty(Directory.GetDirectories(_folder));
    }

    [Fact]
    public void Cone_equals_brute_force_and_nearest_is_the_smallest_separation_with_string_ids_and_typed_extra_columns()
    {
        var rng = new Random(3);
        var catalog = SkyTestCatalog.Catalog(rng, 20_000);
        var positions = SkyTestCatalog.Positions(rng, catalog, uniform: 200, near: 400);
        string csv = Path.Combine(_folder, "typed.csv");
        using (var w = new StreamWriter(csv))
        {
            w.WriteLine("name,ra,dec,mag,flag,label,pmra,pmdec,epoch");
            for (int i = 0; i < catalog.Count; i++)
                w.WriteLine(FormattableString.Invariant($"J{i},{catalog.Ra[i]:R},{catalog.Dec[i]:R},{i * 0.5:R},{i % 3},{(i % 2 == 0 ? "star" : "")},{(i % 5 == 0 ? "" : "1.5")},-2,2016"));
        }
        var columns = new CatalogColumns("name", "ra", "dec") { Epoch = "epoch", Pmra = "pmra", Pmdec = "pmdec", Extra = ["mag", "flag", "label"] };
        string path = Path.Combine(_folder, "typed.bci");
        CatalogIndexBuilder.Build(CsvCatalogReader.Read(csv, columns), columns, csv, path, new CatalogIndexBuildOptions { ChunkRows = 4096 });
        using var index = CatalogIndex.Open(path);
        Assert.False(index.HasNumericIds);
        Assert.Equal(["string", "float64", "float64", "float64", "float64", "int64", "string"],
            index.Header.Columns.Select(c => c.Type.ToString().ToLowerInvariant() == "string" ? "string" : c.Type == IndexColumnType.Int64 ? "int64" : "float64"));
        var mag = index.Float64Column("mag");
        var flag = index.Int64Column("flag");
        var pmra = index.Float64Column("pmra");
        for (int row = 0; row < index.Rows; row++)
        {
            int i = int.Parse(index.Id(row).Text!.AsSpan(1), CultureInfo.InvariantCulture);
            Assert.Equal(i * 0.5, mag[row]);
            Assert.Equal(i % 3, flag[row]);
            Assert.Equal(i % 5 == 0, double.IsNaN(pmra[row]));
        }

        var searcher = new CatalogSearcher(index);
        var matches = new List<CatalogMatch>();
        double r = 30;
        for (int p = 0; p < positions.Count; p++)
        {
            matches.Clear();
            searcher.Cone(positions.Ra[p], positions.Dec[p], r, matches);
            var found = matches.Select(m => index.Id(m.Row).Text!).Order().ToList();
            var expected = new List<string>();
            double bestSep = double.PositiveInfinity;
            for (int c = 0; c < catalog.Count; c++)
            {
                double sep = Separation(positions.Ra[p], positions.Dec[p], catalog.Ra[c], catalog.Dec[c]);
                if (sep <= r) { expected.Add("J" + c.ToString(CultureInfo.InvariantCulture)); bestSep = Math.Min(bestSep, sep); }
            }
            expected.Sort();
            Assert.Equal(expected, found);
            bool any = searcher.Nearest(positions.Ra[p], positions.Dec[p], r, out var nearest);
            Assert.Equal(expected.Count > 0, any);
            if (any) Assert.Equal(bestSep, nearest.SeparationArcsec, 1e-6);
        }
    }

    private static double Separation(double ra1, double dec1, double ra2, double dec2)
    {
        double d2r = Math.PI / 180;
        double x1 = Math.Cos(dec1 * d2r) * Math.Cos(ra1 * d2r), y1 = Math.Cos(dec1 * d2r) * Math.Sin(ra1 * d2r), z1 = Math.Sin(dec1 * d2r);
        double x2 = Math.Cos(dec2 * d2r) * Math.Cos(ra2 * d2r), y2 = Math.Cos(dec2 * d2r) * Math.Sin(ra2 * d2r), z2 = Math.Sin(dec2 * d2r);
        double cx = y1 * z2 - z1 * y2, cy = z1 * x2 - x1 * z2, cz = x1 * y2 - y1 * x2;
        return Math.Atan2(Math.Sqrt(cx * cx + cy * cy + cz * cz), x1 * x2 + y1 * y2 + z1 * z2) * (180 / Math.PI * 3600);
    }

    [Theory]
    [InlineData("id,ra,dec\n1,10,20\n2,NaN,5\n", "row 2, column 'ra'")]
    [InlineData("id,ra,dec\n1,10,20\n2,10,95\n", "row 2, column 'dec'")]
    [InlineData("id,ra,dec\n1,360,20\n", "row 1, column 'ra'")]
    [InlineData("id,ra\n1,10\n", "column 'dec': no such column")]
    public void Bad_catalogue_rows_fail_the_build_naming_file_row_and_column(string text, string expected)
    {
        string csv = Path.Combine(_folder, "bad.csv");
        File.WriteAllText(csv, text);
        var columns = new CatalogColumns("id", "ra", "dec");
        var e = Assert.Throws<CatalogFormatException>(() => CatalogIndexBuilder.Build(CsvCatalogReader.Read(csv, columns), columns, csv, Path.Combine(_folder, "bad.bci")));
        Assert.Contains(csv, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.False(File.Exists(Path.Combine(_folder, "bad.bci")));
        Assert.Empty(Directory.GetDirectories(_folder));
    }

    [Fact]
    public void An_unreadable_or_foreign_or_truncated_index_file_is_a_catalog_format_exception_naming_the_file()
    {
        string missing = Path.Combine(_folder, "missing.bci");
        Assert.Contains(missing, Assert.Throws<CatalogFormatException>(() => CatalogIndex.Open(missing)).Message);
        string foreign = Path.Combine(_folder, "foreign.bci");
        File.WriteAllBytes(foreign, new byte[4096]);
        Assert.Contains("not a catalogue index", Assert.Throws<CatalogFormatException>(() => CatalogIndex.Open(foreign)).Message);
        string good = Build(SkyTestCatalog.Catalog(new Random(1), 2_000), "good");
        string truncated = Path.Combine(_folder, "truncated.bci");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Assert.Contains("truncated", Assert.Throws<CatalogFormatException>(() => CatalogIndex.Open(truncated)).Message);
    }

    [Fact]
    public void Xmatch_reads_positions_with_a_byte_order_mark_crlf_quoted_fields_and_blank_lines_as_the_csv_reader_does()
    {
        var catalog = SkyTestCatalog.Catalog(new Random(1), 2_000);
        string good = Build(catalog, "good");
        using var index = CatalogIndex.Open(good);
        string ra = catalog.Ra[5].ToString("R", CultureInfo.InvariantCulture), dec = catalog.Dec[5].ToString("R", CultureInfo.InvariantCulture);
        string positions = Path.Combine(_folder, "quoted.csv");
        File.WriteAllText(positions, $"\uFEFFmag,\"ID\",Ra,dec\r\n1,\"a, \"\"b\"\"\nc\",{ra},\"{dec}\"\r\n\r\n2, +0042 ,{ra},{dec}\n3,x,{ra},{dec}");
        var text = new StringWriter { NewLine = "\n" };
        CatalogXmatch.Run(index, positions, 0.001, nearest: true, text);
        string id = index.IdNumber(Enumerable.Range(0, index.Rows).First(r => index.IdNumber(r) == catalog.Ids[5])).ToString(CultureInfo.InvariantCulture);
        Assert.Equal($"{CatalogXmatch.HeaderLine}\na, \"b\"\nc,{id},0\n42,{id},0\nx,{id},0\n", text.ToString());

        File.WriteAllText(positions, $"id,ra,dec\n1,{ra},{dec}\n\n2,{ra}\n");
        var e = Assert.Throws<CatalogFormatException>(() => CatalogXmatch.Run(index, positions, 5, false, TextWriter.Null));
        Assert.Contains($"{positions}: row 2, column 'dec': the row has 2 fields", e.Message);
        File.WriteAllText(positions, "id,ra,dec\n1,ten,20\n");
        Assert.Contains("row 1, column 'ra': 'ten' is not a number", Assert.Throws<CatalogFormatException>(() => CatalogXmatch.Run(index, positions, 5, false, TextWriter.Null)).Message);
    }

    [Fact]
    public void Xmatch_positions_with_nan_or_out_of_range_coordinates_fail_naming_file_row_and_column()
    {
        string good = Build(SkyTestCatalog.Catalog(new Random(1), 2_000), "good");
        using var index = CatalogIndex.Open(good);
        string positions = Path.Combine(_folder, "positions.csv");
        File.WriteAllText(positions, "id,ra,dec\n1,10,20\n2,10,-91\n");
        var e = Assert.Throws<CatalogFormatException>(() => CatalogXmatch.Run(index, positions, 5, false, TextWriter.Null));
        Assert.Contains($"{positions}: row 2, column 'dec'", e.Message);
    }
}
