using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Cli.Pipeline;
using Broker.Simulation;

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
        var openNgc = new Option<string?>("--openngc") { Description = $"Build from KStars' OpenNGC database (Debian kstars-data: {KStarsCatalogs.DefaultFolder}/OpenNGC.kscat); its columns are fixed (docs/catalogs.md)" };
        var kstarsStars = new Option<string?>("--kstars-stars") { Description = $"Build from the Hipparcos/Tycho star list in this kstars-data folder ({KStarsCatalogs.DefaultFolder}), with its epoch (J1991.25) and proper motions; its columns are fixed" };
        var simulated = new Option<bool>("--simulated") { Description = "Build from the simulator's sky (every star and galaxy of `broker simulate`'s populations for the same --survey, --seed, --nights, --alerts-per-night, --start-mjd and --bogus-fraction)" };
        var id = new Option<string?>("--id-column") { Description = "Identifier column (int64 if every value is an integer, else strings); required for file inputs" };
        var ra = new Option<string?>("--ra-column") { Description = "Right ascension column, ICRS degrees; required for file inputs" };
        var dec = new Option<string?>("--dec-column") { Description = "Declination column, ICRS degrees; required for file inputs" };
        var columns = new Option<string?>("--columns") { Description = "Further columns to carry, comma-separated (A,B,...)" };
        var epoch = new Option<string?>("--epoch-column") { Description = "Epoch column (Julian year)" };
        var pmra = new Option<string?>("--pmra-column") { Description = "Proper motion in RA column (mas/yr, times cos dec)" };
        var pmdec = new Option<string?>("--pmdec-column") { Description = "Proper motion in Dec column (mas/yr)" };
        var name = new Option<string>("--name") { Description = "Catalogue name recorded in the file", DefaultValueFactory = _ => "" };
        var release = new Option<string>("--release") { Description = "Catalogue release recorded in the file", DefaultValueFactory = _ => "" };
        var chunk = new Option<int>("--chunk-rows") { Description = "Rows sorted in memory before spilling to a temporary file (bounds the build's memory)", DefaultValueFactory = _ => 1 << 20 };
        var output = new Option<string>("--out") { Description = "The index file to write", Required = true };
        var build = new Command("build", "Build a HEALPix-sorted, memory-mappable catalogue index file (docs/catalogs.md) from CSV, FITS, Parquet or HATS, streaming");
        var sim = new SimulationSkyOptions();
        foreach (var o in new Option[] { csv, fits, parquet, hats, openNgc, kstarsStars, simulated, id, ra, dec, columns, epoch, pmra, pmdec, name, release, chunk, output }) build.Options.Add(o);
        sim.AddTo(build);
        build.SetAction(parse => CliRun.Guard(() => BadInput(() =>
        {
            var inputs = new (string Option, string? Path)[] { ("--csv", parse.GetValue(csv)), ("--fits", parse.GetValue(fits)), ("--parquet", parse.GetValue(parquet)), ("--hats", parse.GetValue(hats)) }
                .Where(i => i.Path is not null).ToList();
            if (parse.GetValue(openNgc) is { } ngcFile) inputs.Add(("--openngc", ngcFile));
            if (parse.GetValue(kstarsStars) is { } starFolder) inputs.Add(("--kstars-stars", starFolder));
            if (parse.GetValue(simulated)) inputs.Add(("--simulated", null));
            if (inputs.Count != 1) throw new CliUsageException("give exactly one of --csv FILE, --fits FILE, --parquet FILE, --hats FOLDER, --openngc FILE, --kstars-stars FOLDER or --simulated");
            var (kind, source) = (inputs[0].Option, inputs[0].Path);
            if (parse.GetValue(chunk) < 1) throw new CliUsageException("--chunk-rows must be at least 1");
            string catalogName = parse.GetValue(name)!;
            CatalogColumns selection;
            IEnumerable<CatalogRow> rows;
            bool fixedColumns = kind is "--simulated" or "--openngc" or "--kstars-stars";
            // These inputs' rows carry their own columns; a column option would be ignored, so it is refused.
            if (fixedColumns && new[] { parse.GetValue(id), parse.GetValue(ra), parse.GetValue(dec), parse.GetValue(columns), parse.GetValue(epoch), parse.GetValue(pmra), parse.GetValue(pmdec) }.Any(v => v is not null))
                throw new CliUsageException($"{kind} takes no column options: its columns are fixed (docs/catalogs.md)");
            if (kind != "--simulated" && sim.Given(parse) is { } stray) throw new CliUsageException($"{stray} is for --simulated only");
            if (kind is "--openngc" or "--kstars-stars")
            {
                bool ngc = kind == "--openngc";
                selection = ngc ? KStarsCatalogs.OpenNgcColumns : KStarsCatalogs.StarColumns;
                rows = ngc ? KStarsCatalogs.ReadOpenNgc(source!) : KStarsCatalogs.ReadStars(source!);
                if (catalogName.Length == 0) catalogName = ngc ? "openngc" : "kstars-stars";
            }
            else if (kind == "--simulated")
            {
                var options = sim.Options(parse);
                selection = SimulatedSkyCatalog.Columns;
                rows = SimulatedSkyCatalog.Rows(options);
                source = SimulationSkyOptions.Describe(options);
                if (catalogName.Length == 0) catalogName = "simulated-" + (options.Survey == SurveyKind.Ztf ? "ztf" : "lsst");
            }
            else
            {
                selection = new CatalogColumns(
                    parse.GetValue(id) ?? throw new CliUsageException("--id-column is required with " + kind),
                    parse.GetValue(ra) ?? throw new CliUsageException("--ra-column is required with " + kind),
                    parse.GetValue(dec) ?? throw new CliUsageException("--dec-column is required with " + kind))
                {
                    Epoch = parse.GetValue(epoch),
                    Pmra = parse.GetValue(pmra),
                    Pmdec = parse.GetValue(pmdec),
                    Extra = (parse.GetValue(columns) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                };
                rows = FileRows(kind, source!, selection, ref catalogName);
            }
            var clock = Stopwatch.StartNew();
            var result = CatalogIndexBuilder.Build(rows, selection, source!, parse.GetValue(output)!, new CatalogIndexBuildOptions
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

    private static IEnumerable<CatalogRow> FileRows(string kind, string source, CatalogColumns selection, ref string catalogName)
    {
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
        return rows;
    }

    public static Command Xmatch()
    {
        var catalog = new Option<string>("--catalog") { Description = "A catalogue index file (broker catalog build)", Required = true };
        var radius = new Option<double>("--radius") { Description = "Match radius in arcseconds", Required = true };
        var positions = new Option<string?>("--positions") { Description = "CSV of positions with header id,ra,dec (ICRS degrees) and optionally epoch (Julian year: the catalogue is moved to it by its proper motions)" };
        var nearest = new Option<bool>("--nearest") { Description = "Keep only the nearest counterpart per position (per alert)" };
        var alerts = new AlertInputOptions();
        var command = new Command("xmatch", "Crossmatch positions against a catalogue index: prints id,catalog_id,separation_arcsec per pair within the radius. " +
            "Given alert files instead of --positions, runs them through ingest and the crossmatch stage with this one catalogue and prints each annotated alert as one JSON line.");
        foreach (var o in new Option[] { catalog, radius, positions, nearest }) command.Options.Add(o);
        alerts.AddTo(command, pathsOptional: true, readerSchema: false);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            double r = parse.GetValue(radius);
            if (!(r > 0 && r < 648000)) throw new CliUsageException($"--radius must be in (0, 648000) arcsec, not {r.ToString("R", CultureInfo.InvariantCulture)}");
            var paths = parse.GetValue(alerts.Paths) ?? [];
            string? positionsFile = parse.GetValue(positions);
            if ((positionsFile is null) == (paths.Length == 0)) throw new CliUsageException("give either --positions CSV or alert files, not both");
            if (positionsFile is null) return await XmatchAlerts.RunAsync(parse.GetValue(catalog)!, r, parse.GetValue(nearest), alerts.ExistingPaths(parse),
                alerts.CreateRegistry(parse), alerts.Limits(parse), ct);
            return BadInput(() =>
            {
                using var index = CatalogIndex.Open(parse.GetValue(catalog)!);
                using var stdout = Console.OpenStandardOutput();
                CatalogXmatch.Run(index, positionsFile, r, parse.GetValue(nearest), stdout);
                return 0;
            });
        }));
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
