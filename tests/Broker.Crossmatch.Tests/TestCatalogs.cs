using Broker.Alerts.Model;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Sky;

namespace Broker.Crossmatch.Tests;

/// <summary>
/// Small catalogue index files built in a temporary folder with <see cref="CatalogIndexBuilder"/>, rows placed at
/// chosen offsets from a target, and the alerts and steps the tests run over them.
/// </summary>
internal sealed class TestCatalogs : IDisposable
{
    /// <summary>Where the index files are written.</summary>
    public string Folder { get; } = Directory.CreateTempSubdirectory("broker-xmatch-step-").FullName;

    /// <summary>The target the hand-placed rows sit around (ICRS degrees).</summary>
    public const double Ra = 150.0, Dec = 2.0;

    /// <summary>The extra columns of <see cref="Nearby"/>.</summary>
    public static readonly string[] NearbyColumns = ["gmag", "flags", "label", "kind", "z"];

    /// <summary>
    /// Rows around (<see cref="Ra"/>, <see cref="Dec"/>), ids 1..6: 1 at 1" east, 2 at 2" north, 3 and 4 both at
    /// 3" west (a tie), 5 at 10" south, 6 at 1° (never matched); with a magnitude (null for 2), integer flags (null
    /// for 3), a label (null for 4), a type as catalogues spell it and a redshift (null for 1 and 5, 0 for 6).
    /// </summary>
    public static IEnumerable<CatalogRow> Nearby()
    {
        yield return Row(1, 1, 0, [17.5, 3L, "a", " Galaxy ", null]);
        yield return Row(2, 0, 2, [null, 0L, "b", "Quasar", 0.5]);
        yield return Row(3, -3, 0, [19.0, null, "c", "catalog star", 0.1]);
        yield return Row(4, -3, 0, [19.5, 7L, null, "Planetary Nebula", 0.2]);
        yield return Row(5, 0, -10, [20.0, 1L, "e", "", null]);
        yield return Row(6, 3600, 0, [21.0, 2L, "f", "G", 0.0]);
    }

    /// <summary>A row at (east, north) arcseconds from the target.</summary>
    public static CatalogRow Row(long id, double eastArcsec, double northArcsec, object?[] extra)
    {
        var (ra, dec) = Coordinates.Offset(Ra, Dec, eastArcsec, northArcsec);
        return new CatalogRow(new CatalogId(id, null), ra, dec, null, null, null, extra);
    }

    /// <summary>Builds <c>NAME.bci</c> from <paramref name="rows"/> with the given extra columns; returns its path.</summary>
    public string Build(string name, IEnumerable<CatalogRow> rows, IReadOnlyList<string>? extra = null, string release = "DR1", string? headerName = null)
    {
        string path = Path.Combine(Folder, name + ".bci");
        var columns = new CatalogColumns("id", "ra", "dec") { Extra = extra ?? [] };
        CatalogIndexBuilder.Build(rows, columns, name + ".csv", path, new CatalogIndexBuildOptions { Name = headerName ?? name, Release = release });
        return path;
    }

    /// <summary>The hand-placed catalogue, built once per folder.</summary>
    public string NearbyIndex => _nearby ??= Build("nearby", Nearby(), NearbyColumns);

    private string? _nearby;

    /// <summary>An alert at (ra, dec) with a ZTF-like time.</summary>
    public static Alert AlertAt(long id, double ra, double dec) => new()
    {
        Survey = Survey.Ztf,
        SurveySchemaVersion = "3.3",
        AlertId = id,
        ObjectId = "ZTF24test" + id,
        Ra = ra,
        Dec = dec,
        MjdTai = 60_400.25,
        Band = "r",
        Flux = 1000,
        FluxErr = 10,
    };

    /// <summary>A started step over <paramref name="catalogs"/>.</summary>
    public static async Task<CrossmatchStep> StartedStep(params CrossmatchCatalogOptions[] catalogs)
    {
        var options = new CrossmatchOptions { Catalogs = [.. catalogs] };
        options.Validate();
        var step = new CrossmatchStep(options);
        await step.StartAsync(CancellationToken.None);
        return step;
    }

    /// <summary>Runs one batch and returns its results.</summary>
    public static async Task<IReadOnlyList<StepHost.StepResult<Alert>>> Run(CrossmatchStep step, params Alert[] alerts) =>
        await step.ExecuteAsync(alerts, CancellationToken.None);

    /// <summary>The one emitted alert of a one-alert batch.</summary>
    public static async Task<Alert> One(CrossmatchStep step, Alert alert)
    {
        var results = await Run(step, alert);
        var result = Assert.Single(results);
        Assert.Equal(StepHost.StepOutcome.Emitted, result.Outcome);
        return result.Value!;
    }

    /// <summary>The separation of row <paramref name="id"/> of <see cref="Nearby"/> from (ra, dec), arcseconds.</summary>
    public static double SeparationArcsec(long id, double ra, double dec)
    {
        var row = Nearby().Single(r => r.Id.Number == id);
        return Coordinates.SeparationDeg(ra, dec, row.Ra, row.Dec) * 3600;
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
