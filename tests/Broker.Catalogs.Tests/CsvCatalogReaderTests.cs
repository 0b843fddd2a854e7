namespace Broker.Catalogs.Tests;

public sealed class CsvCatalogReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-catalogs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "cat.csv");
        File.WriteAllText(path, text);
        return path;
    }

    private static readonly CatalogColumns Columns = new("source_id", "ra", "dec") { Pmra = "pmra", Pmdec = "pmdec", Epoch = "epoch", Extra = ["g", "name"] };

    [Fact]
    public void Named_columns_in_any_order_quoted_fields_and_typed_extras_are_read()
    {
        string path = Write("name,DEC,ra,source_id,g,pmra,pmdec,epoch\r\n" +
                            "\"Vega, alpha Lyr\",38.78,279.23,12345678901234,0.03,200.94,286.23,2016.0\r\n" +
                            "\"say \"\"hi\"\"\nthere\",-90,0,x-1,,,,\n" +
                            "\n" +
                            "plain,90,359.999999,7,17,1.5,-2,2000\n");
        var rows = CsvCatalogReader.Read(path, Columns).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(new CatalogId(12345678901234, null), rows[0].Id);
        Assert.Equal((279.23, 38.78, 2016.0, 200.94, 286.23), (rows[0].Ra, rows[0].Dec, rows[0].Epoch!.Value, rows[0].Pmra!.Value, rows[0].Pmdec!.Value));
        Assert.Equal(new object?[] { 0.03, "Vega, alpha Lyr" }, rows[0].Extra);
        Assert.Equal("x-1", rows[1].Id.Text);
        Assert.Equal((0.0, -90.0), (rows[1].Ra, rows[1].Dec));
        Assert.Null(rows[1].Pmra);
        Assert.Equal(new object?[] { null, "say \"hi\"\nthere" }, rows[1].Extra);
        Assert.Equal(new object?[] { 17L, "plain" }, rows[2].Extra);
    }

    [Theory]
    [InlineData("id,ra,dec\n1,10,20\n2,abc,20\n", 2, "ra", "'abc' is not a number")]
    [InlineData("id,ra,dec\n1,NaN,20\n", 1, "ra", "not in [0, 360)")]
    [InlineData("id,ra,dec\n1,10,20\n2,20,30\n3,360,0\n", 3, "ra", "not in [0, 360)")]
    [InlineData("id,ra,dec\n1,-0.001,0\n", 1, "ra", "not in [0, 360)")]
    [InlineData("id,ra,dec\n1,10,90.0000001\n", 1, "dec", "not in [-90, 90]")]
    [InlineData("id,ra,dec\n1,10,nan\n", 1, "dec", "not in [-90, 90]")]
    [InlineData("id,ra\n1,10\n", 0, "dec", "no such column")]
    [InlineData("id,ra,dec\n1,10\n", 1, "dec", "the row has 2 fields")]
    [InlineData("id,ra,dec\n,10,20\n", 1, "id", "identifier is empty")]
    public void Bad_input_names_the_file_row_and_column(string text, long row, string column, string reason)
    {
        string path = Write(text);
        var e = Assert.Throws<CatalogFormatException>(() => CsvCatalogReader.Read(path, new CatalogColumns("id", "ra", "dec")).ToList());
        Assert.Equal((path, row, column), (e.File, e.Row, e.Column));
        Assert.Contains(reason, e.Message);
        Assert.StartsWith(path + ": ", e.Message);
        if (row > 0) Assert.Contains($"row {row}, column '{column}'", e.Message);
    }

    [Fact]
    public void An_unreadable_file_names_the_file()
    {
        string path = Path.Combine(_dir, "missing.csv");
        var e = Assert.Throws<CatalogFormatException>(() => CsvCatalogReader.Read(path, Columns).ToList());
        Assert.Equal(path, e.File);
        Assert.Contains("cannot read the file", e.Message);
    }

    [Fact]
    public void Rows_stream_so_a_bad_row_far_down_is_reported_after_the_good_ones()
    {
        string path = Path.Combine(_dir, "big.csv");
        using (var w = new StreamWriter(path))
        {
            w.WriteLine("id,ra,dec");
            for (int i = 0; i < 200_000; i++) w.WriteLine($"{i},{i % 360}.5,{i % 180 - 89.5}");
            w.WriteLine("x,1,91");
        }
        long seen = 0;
        var e = Assert.Throws<CatalogFormatException>(() => { foreach (var _ in CsvCatalogReader.Read(path, new CatalogColumns("id", "ra", "dec"))) seen++; });
        Assert.Equal(200_000, seen);
        Assert.Equal(200_001, e.Row);
    }
}
