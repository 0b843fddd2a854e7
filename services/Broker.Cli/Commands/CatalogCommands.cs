using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Broker.Catalogs;
using Broker.Catalogs.Index;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker catalog build</c> and <c>broker xmatch</c> (issue 11, items 2 and 3). Bad catalogue or position input
/// (<see cref="CatalogFormatException"/>: unreadable file, missing column, NaN or out-of-range coordinates) is one
/// line on standard error naming the file, row and column, and exit code 1, as <c>broker decode</c> treats bad
/// input; usage errors are exit code 2 (<see cref="CliRun"/>).
/// </summary>
internal static class CatalogCommands
{
    /// <summary>The exit code of bad input data.</summary>
    public const int BadInputExitCode = 1;

    public static Command Catalog()
    {
        var csv = new Option<string?>("--csv") { Description = "Build from this CSV file (header line naming the columns)" };
        var fits = new Option<string?>("--fits") { Description = "Build from the first binary table of this FITS file" };
        var parquet = new Option<string?>("--parquet") { Description = "Build from this Parquet file (read by row group)" };
        var hats = new Option<string?>("--hats") { Description = "Build from this HATS catalogue folder (LSDB's HEALPix-partitioned Parquet; its name is the default --name)" };
        var id = new Option<string>("--id-column") { Description = "Identifier column (int64 if every value is an integer, else strings)", Required = true };
        var ra = new Option<string>("--ra-column") { Description = "Right ascension column, ICRS degrees", Required = true };
        var dec = new Option<string>("--dec-column") { Description = "Declination column, ICRS degrees", Required = true };
        var columns = new Option<string?>("--columns") { Description = "Further columns to carry, comma-separated (A,B,...)" };
        var epoch = new Option<string?>("--epoch-column") { Description = "Epoch column (Julian year)" };
        var pmra = new Option<string?>("--pmra-column") { Description = "Proper motion in RA column (mas/yr, times cos dec)" };
        var pmdec = new Option<string?>("--pmdec-column") { Description = "Proper motion in Dec column (mas/yr)" };
        var name = new Option<string>("--name") { Description = "Catalogue name recorded in the file", DefaultValueFactory = _ => "" };
        var release = new Option<string>("--release") { Description = "Catalogue release recorded in the file", DefaultValueFactory = _ => "" };
        var chunk = new Option<int>("--chunk-rows") { Description = "Rows sorted in memory before spilling to a temporary file (bounds the build's memory)", DefaultValueFactory = _ => 1 << 20 };
        var output = new Option<string>("--out") { Description = "The index file to write", Required = true };
        var build = new Command("build", "Build a HEALPix-sorted, memory-mappable catalogue index file (docs/catalogs.md) from CSV, FITS, Parquet or HATS, streaming");
        foreach (var o in new Option[] { csv, fits, parquet, hats, id, ra, dec, columns, epoch, pmra, pmdec, name, release, chunk, output }) build.Options.Add(o);
        build.SetAction(parse => CliRun.Guard(() => BadInput(() =>
        {
            var inputs = new (string Option, string? Path)[] { ("--csv", parse.GetValue(csv)), ("--fits", parse.GetValue(fits)), ("--parquet", parse.GetValue(parquet)), ("--hats", parse.GetValue(hats)) }
                .Where(i => i.Path is not null).ToList();
            if (inputs.Count != 1) throw new CliUsageException("give exactly one of --csv FILE, --fits FILE, --parquet FILE or --hats FOLDER");
            var (kind, source) = (inputs[0].Option, inputs[0].Path!);
            if (parse.GetValue(chunk) < 1) throw new CliUsageException("--chunk-rows must be at least 1");
            var selection = new CatalogColumns(parse.GetValue(id)!, parse.GetValue(ra)!, parse.GetValue(dec)!)
            {
                Epoch = parse.GetValue(epoch),
                Pmra = parse.GetValue(pmra),
                Pmdec = parse.GetValue(pmdec),
                Extra = (parse.GetValue(columns) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            };
            string catalogName = parse.GetValue(name)!;
            IEnumerable<CatalogRow> rows;
            switch (kind)
            {
                case "--csv": rows = CsvCatalogReader.Read(source, selection); break;
                case "--fits": rows = FitsCatalogReader.Read(source, selection); break;
                case "--parquet": rows = ParquetCatalogReader.Read(source, selection); break;
                default:
                    var catalog = HatsCatalog.Open(source);
                    if (catalogName.Length == 0) catalogName = catalog.Name;
                    rows = catalog.Read(selection);
                    break;
            }
            var clock = Stopwatch.StartNew();
            var result = CatalogIndexBuilder.Build(rows, selection, source, parse.GetValue(output)!, new CatalogIndexBuildOptions
            {
                Name = catalogName,
                Release = parse.GetValue(release)!,
                ChunkRows = parse.GetValue(chunk),
            });
            double s = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine(FormattableString.Invariant(
                $"{result.Rows} rows indexed at HEALPix order {result.Order} in {result.Chunks} chunks into {parse.GetValue(output)}; {s:F1} s, {result.Rows / Math.Max(s, 1e-9):F0} rows/s"));
            return 0;
        })));
        var command = new Command("catalog", "Catalogue index files for crossmatching");
        command.Subcommands.Add(build);
        return command;
    }

    public static Command Xmatch()
    {
        var catalog = new Option<string>("--catalog") { Description = "A catalogue index file (broker catalog build)", Required = true };
        var radius = new Option<double>("--radius") { Description = "Match radius in arcseconds", Required = true };
        var positions = new Option<string>("--positions") { Description = "CSV of positions with header id,ra,dec (ICRS degrees) and optionally epoch (Julian year: the catalogue is moved to it by its proper motions)", Required = true };
        var nearest = new Option<bool>("--nearest") { Description = "Keep only the nearest counterpart per position" };
        var command = new Command("xmatch", "Crossmatch positions against a catalogue index: prints id,catalog_id,separation_arcsec per pair within the radius");
        foreach (var o in new Option[] { catalog, radius, positions, nearest }) command.Options.Add(o);
        command.SetAction(parse => CliRun.Guard(() => BadInput(() =>
        {
            double r = parse.GetValue(radius);
            if (!(r > 0 && r < 648000)) throw new CliUsageException($"--radius must be in (0, 648000) arcsec, not {r.ToString("R", CultureInfo.InvariantCulture)}");
            using var index = CatalogIndex.Open(parse.GetValue(catalog)!);
            using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
            try { CatalogXmatch.Run(index, parse.GetValue(positions)!, r, parse.GetValue(nearest), stdout); }
            finally { stdout.Flush(); }
            return 0;
        })));
        return command;
    }

    /// <summary>Runs <paramref name="body"/>; bad catalogue input is one line on standard error and <see cref="BadInputExitCode"/>.</summary>
    private static int BadInput(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CatalogFormatException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadInputExitCode;
        }
    }
}
