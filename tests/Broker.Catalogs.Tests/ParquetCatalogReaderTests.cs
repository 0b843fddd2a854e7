using Parquet;
using Parquet.Schema;

namespace Broker.Catalogs.Tests;

// No pyarrow or pandas on /usr/bin/python3 here, so the files are written by Parquet.Net's own writer and the
// expectations are the values written, by hand.
public sealed class ParquetCatalogReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-catalogs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly DataField Id = new DataField<long>("source_id");
    private static readonly DataField Ra = new DataField<double>("ra");
    private static readonly DataField Dec = new DataField<double>("dec");

    /// <summary>Writes one row group per element of <paramref name="groups"/>: (ids, ra, dec).</summary>
    private static async Task WritePositions(string path, params (long[] Id, double[] Ra, double[] Dec)[] groups)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(Id, Ra, Dec), stream);
        foreach (var (id, ra, dec) in groups)
        {
            using var g = writer.CreateRowGroup();
            await g.WriteAsync<long>(Id, id);
            await g.WriteAsync<double>(Ra, ra);
            await g.WriteAsync<double>(Dec, dec);
        }
    }

    [Fact]
    public async Task Named_columns_of_every_type_with_nulls_are_read_across_row_groups()
    {
        string path = Path.Combine(_dir, "cat.parquet");
        var name = new DataField<string>("Name");
        var id = new DataField<string>("id");
        var ra = new DataField<double>("RA");
        var dec = new DataField<float>("dec");
        var pmra = new DataField<double?>("pmra");
        var epoch = new DataField<float?>("ref_epoch");
        var i32 = new DataField<int?>("n_obs");
        var i64 = new DataField<long>("big");
        var flag = new DataField<bool?>("flag");
        var mag = new DataField<float?>("g");
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(name, id, ra, dec, pmra, epoch, i32, i64, flag, mag), stream))
        {
            using (var g = writer.CreateRowGroup())
            {
                await g.WriteAsync(name, new[] { "Vega", null });
                await g.WriteAsync(id, new[] { "a", "b" });
                await g.WriteAsync<double>(ra, new[] { 279.23473479, 0.0 });
                await g.WriteAsync<float>(dec, new[] { 38.78369f, -90f });
                await g.WriteAsync<double>(pmra, new double?[] { 200.94, null });
                await g.WriteAsync<float>(epoch, new float?[] { 2016f, null });
                await g.WriteAsync<int>(i32, new int?[] { null, -7 });
                await g.WriteAsync<long>(i64, new[] { long.MaxValue, long.MinValue });
                await g.WriteAsync<bool>(flag, new bool?[] { true, null });
                await g.WriteAsync<float>(mag, new float?[] { 0.03f, float.NaN });
            }
            using (var g = writer.CreateRowGroup())
            {
                await g.WriteAsync(name, new[] { "c" });
                await g.WriteAsync(id, new[] { "c" });
                await g.WriteAsync<double>(ra, new[] { Math.BitDecrement(360.0) });
                await g.WriteAsync<float>(dec, new[] { 90f });
                await g.WriteAsync<double>(pmra, new double?[] { -1.5 });
                await g.WriteAsync<float>(epoch, new float?[] { 2000f });
                await g.WriteAsync<int>(i32, new int?[] { 3 });
                await g.WriteAsync<long>(i64, new[] { 5L });
                await g.WriteAsync<bool>(flag, new bool?[] { false });
                await g.WriteAsync<float>(mag, new float?[] { null });
            }
        }
        var columns = new CatalogColumns("ID", "ra", "DEC") { Pmra = "pmra", Epoch = "ref_epoch", Extra = ["n_obs", "big", "flag", "g", "name"] };
        var rows = ParquetCatalogReader.Read(path, columns).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(["a", "b", "c"], rows.Select(r => r.Id.Text));
        Assert.Equal((279.23473479, (double)38.78369f, 200.94, 2016.0), (rows[0].Ra, rows[0].Dec, rows[0].Pmra!.Value, rows[0].Epoch!.Value));
        Assert.Equal(new object?[] { null, long.MaxValue, true, (double)0.03f, "Vega" }, rows[0].Extra);
        Assert.Equal((0.0, -90.0), (rows[1].Ra, rows[1].Dec));
        Assert.Null(rows[1].Pmra);
        Assert.Null(rows[1].Epoch);
        Assert.Null(rows[1].Pmdec);
        Assert.Equal(-7L, rows[1].Extra[0]);
        Assert.Equal(long.MinValue, rows[1].Extra[1]);
        Assert.Null(rows[1].Extra[2]);
        Assert.True(double.IsNaN((double)rows[1].Extra[3]!));
        Assert.Null(rows[1].Extra[4]);
        Assert.Equal((Math.BitDecrement(360.0), 90.0, -1.5), (rows[2].Ra, rows[2].Dec, rows[2].Pmra!.Value));
        Assert.Equal(new object?[] { 3L, 5L, false, null, "c" }, rows[2].Extra);
    }

    [Fact]
    public async Task Integer_identifiers_are_numbers()
    {
        string path = Path.Combine(_dir, "ids.parquet");
        await WritePositions(path, ([4295806720L, -1], [10, 20], [-5, 5]));
        var rows = ParquetCatalogReader.Read(path, new CatalogColumns("source_id", "ra", "dec")).ToList();
        Assert.Equal([new CatalogId(4295806720L, null), new CatalogId(-1, null)], rows.Select(r => r.Id));
    }

    [Fact]
    public async Task Rows_are_numbered_across_row_groups_so_a_bad_row_names_its_place_in_the_file()
    {
        string path = Path.Combine(_dir, "big.parquet");
        var groups = new List<(long[], double[], double[])>();
        for (int g = 0; g < 5; g++)
        {
            var ids = new long[10_000];
            var ra = new double[10_000];
            var dec = new double[10_000];
            for (int i = 0; i < ids.Length; i++) { ids[i] = g * 10_000 + i; ra[i] = i % 360; dec[i] = i % 180 - 89.5; }
            if (g == 4) dec[1234] = double.NaN;
            groups.Add((ids, ra, dec));
        }
        await WritePositions(path, [.. groups]);
        long seen = 0;
        var e = Assert.Throws<CatalogFormatException>(() => { foreach (var _ in ParquetCatalogReader.Read(path, new CatalogColumns("source_id", "ra", "dec"))) seen++; });
        Assert.Equal(41_234, seen);
        Assert.Equal((path, 41_235L, "dec"), (e.File, e.Row, e.Column));
        Assert.Contains("not in [-90, 90]", e.Message);
    }

    [Theory]
    [InlineData("source_id", "ra", "decl", 0L, "decl", "no such column")]
    [InlineData("ra", "ra", "dec", 2L, "ra", "not in [0, 360)")]
    public async Task Bad_input_names_the_file_row_and_column(string id, string ra, string dec, long row, string column, string reason)
    {
        string path = Path.Combine(_dir, "bad.parquet");
        await WritePositions(path, ([1, 2], [10, 360], [0, 0]));
        var e = Assert.Throws<CatalogFormatException>(() => ParquetCatalogReader.Read(path, new CatalogColumns(id, ra, dec)).ToList());
        Assert.Equal((path, row, column), (e.File, e.Row, e.Column));
        Assert.Contains(reason, e.Message);
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public async Task A_null_position_is_an_error_at_its_row()
    {
        string path = Path.Combine(_dir, "null.parquet");
        var id = new DataField<int>("id");
        var ra = new DataField<double?>("ra");
        var dec = new DataField<double>("dec");
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(id, ra, dec), stream))
        using (var g = writer.CreateRowGroup())
        {
            await g.WriteAsync<int>(id, new[] { 1, 2 });
            await g.WriteAsync<double>(ra, new double?[] { 1, null });
            await g.WriteAsync<double>(dec, new[] { 0.0, 0.0 });
        }
        var e = Assert.Throws<CatalogFormatException>(() => ParquetCatalogReader.Read(path, new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.Equal((2L, "ra"), (e.Row, e.Column));
    }

    [Fact]
    public void A_file_that_is_not_Parquet_or_missing_gives_one_clear_error()
    {
        string path = Path.Combine(_dir, "x.parquet");
        File.WriteAllText(path, "id,ra,dec\n1,2,3\n");
        var e = Assert.Throws<CatalogFormatException>(() => ParquetCatalogReader.Read(path, new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.Equal((path, 0L), (e.File, e.Row));
        Assert.Contains("not a Parquet file", e.Message);
        e = Assert.Throws<CatalogFormatException>(() => ParquetCatalogReader.Read(Path.Combine(_dir, "none.parquet"), new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.Contains("cannot read the file", e.Message);
    }

    [Fact]
    public async Task A_HATS_catalogue_is_read_partition_by_partition_in_order_with_its_name_from_the_properties()
    {
        string root = Path.Combine(_dir, "gaia_tiny");
        string data = Path.Combine(root, "dataset");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "properties"), "#HATS catalog\nobs_collection=gaia_tiny\ndataproduct_type=object\nhats_nrows=5\nhats_col_ra=ra\nhats_col_dec=dec\n");
        // Written out of order, with Npix=10 after Npix=2 only numerically, and files that are not partitions.
        await WritePositions(Path.Combine(data, "Norder=2", "Dir=0", "Npix=10.parquet"), ([5], [50], [5]));
        await WritePositions(Path.Combine(data, "Norder=1", "Dir=0", "Npix=47.parquet"), ([3], [30], [3]));
        await WritePositions(Path.Combine(data, "Norder=2", "Dir=0", "Npix=2.parquet"), ([4], [40], [4]));
        await WritePositions(Path.Combine(data, "Norder=0", "Dir=0", "Npix=11.parquet"), ([1, 2], [10, 20], [1, 2]));
        await WritePositions(Path.Combine(data, "_common_metadata"), ([9], [9], [9]));
        File.WriteAllText(Path.Combine(root, "partition_info.csv"), "Norder,Npix\n");

        var cat = HatsCatalog.Open(root);
        Assert.Equal("gaia_tiny", cat.Name);
        Assert.Equal(("ra", "dec"), (cat.RaColumn, cat.DecColumn));
        Assert.Equal([(0, 11L), (1, 47L), (2, 2L), (2, 10L)], cat.Partitions.Select(p => (p.Order, p.Pixel)));
        var rows = cat.Read(new CatalogColumns("source_id", cat.RaColumn!, cat.DecColumn!)).ToList();
        Assert.Equal([1L, 2, 3, 4, 5], rows.Select(r => r.Id.Number));
        Assert.Equal([10.0, 20, 30, 40, 50], rows.Select(r => r.Ra));
    }

    [Fact]
    public async Task An_older_HiPSCat_catalogue_takes_its_name_from_catalog_info_json_and_partitions_at_the_top()
    {
        string root = Path.Combine(_dir, "old");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "catalog_info.json"), """{"catalog_name": "small_sky", "catalog_type": "object", "total_rows": 2, "ra_column": "ra", "dec_column": "dec"}""");
        await WritePositions(Path.Combine(root, "Norder=0", "Dir=0", "Npix=11.parquet"), ([7], [300], [-30]));
        await WritePositions(Path.Combine(root, "Norder=0", "Dir=0", "Npix=4", "part0.parquet"), ([6], [100], [10]));
        var cat = HatsCatalog.Open(root);
        Assert.Equal("small_sky", cat.Name);
        Assert.Equal("dec", cat.DecColumn);
        Assert.Equal([6L, 7], cat.Read(new CatalogColumns("source_id", "ra", "dec")).Select(r => r.Id.Number));
    }

    [Fact]
    public async Task A_bad_value_in_a_HATS_partition_names_the_partition_file()
    {
        string root = Path.Combine(_dir, "badhats");
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "properties"), "obs_collection=bad\n");
        string bad = Path.Combine(root, "dataset", "Norder=0", "Dir=0", "Npix=5.parquet");
        await WritePositions(Path.Combine(root, "dataset", "Norder=0", "Dir=0", "Npix=1.parquet"), ([1], [1], [1]));
        await WritePositions(bad, ([2, 3], [2, 2], [2, 95]));
        var e = Assert.Throws<CatalogFormatException>(() => HatsCatalog.Open(root).Read(new CatalogColumns("source_id", "ra", "dec")).ToList());
        Assert.Equal((bad, 2L, "dec"), (e.File, e.Row, e.Column));
    }

    [Fact]
    public void A_folder_without_properties_or_partitions_is_not_a_HATS_catalogue()
    {
        var e = Assert.Throws<CatalogFormatException>(() => HatsCatalog.Open(_dir));
        Assert.Contains("not a HATS catalogue", e.Message);
        File.WriteAllText(Path.Combine(_dir, "properties"), "obs_collection=empty\n");
        e = Assert.Throws<CatalogFormatException>(() => HatsCatalog.Open(_dir));
        Assert.Contains("no partitions", e.Message);
    }
}
