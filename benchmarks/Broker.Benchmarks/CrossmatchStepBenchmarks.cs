using BenchmarkDotNet.Attributes;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Crossmatch;
using Broker.Simulation;
using Broker.Sky;

namespace Broker.Benchmarks;

/// <summary>
/// The crossmatch step (issue 11, item 4) on one core over a batch of simulated ZTF alerts against three catalogues
/// built at setup: KStars' 42,864 Hipparcos/Tycho stars (nearest within 5", four columns, type star), OpenNGC's
/// 13,960 objects (all within 60", three columns, the type from <c>type_name</c>) and a synthetic dense catalogue of
/// 10^6 rows, half uniform and half clustered within 30" of the alerts as hosts would be (the 5 nearest within 5",
/// a magnitude and a redshift, so each entry also gets a physical offset). One operation is one alert: alerts per
/// second = 1 / mean.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*CrossmatchStep*' [--job short --inProcess]
/// (<c>--inProcess</c> where BenchmarkDotNet's own rebuild of the project would pass its two-minute build timeout).
/// </summary>
[MemoryDiagnoser]
public class CrossmatchStepBenchmarks
{
    private const int Alerts = 1000;
    private const int DenseRows = 1_000_000;
    private string _folder = "";
    private CrossmatchStep _step = null!;
    private Alert[] _batch = [];

    [GlobalSetup]
    public void Setup()
    {
        var simulation = new SimulationOptions { Survey = SurveyKind.Ztf, Nights = 1, AlertsPerNight = 2 * Alerts, Seed = 1, Workers = 1, Cutouts = false };
        _batch = [.. AlertSimulator.Generate(simulation).Take(Alerts)
            .Select(a => SurveyAlertMapper.Map(SurveyMessage.Decode(a.ToPacket(SurveyKind.Ztf), null)))];
        if (_batch.Length != Alerts) throw new InvalidOperationException($"the simulator made {_batch.Length} alerts, not {Alerts}");

        _folder = Directory.CreateTempSubdirectory("broker-xmatch-step-bench-").FullName;
        string stars = Path.Combine(_folder, "stars.bci"), ngc = Path.Combine(_folder, "openngc.bci"), dense = Path.Combine(_folder, "dense.bci");
        CatalogIndexBuilder.Build(KStarsCatalogs.ReadStars(), new CatalogColumns("HD", "RA", "Dec") { Extra = KStarsCatalogs.StarExtra }, "namedstars.dat", stars,
            new CatalogIndexBuildOptions { Name = "KStars stars", Release = "kstars-data" });
        CatalogIndexBuilder.Build(KStarsCatalogs.ReadOpenNgc(), new CatalogColumns("catalog_identifier", "ra", "dec") { Extra = KStarsCatalogs.OpenNgcExtra }, "OpenNGC.kscat", ngc,
            new CatalogIndexBuildOptions { Name = "OpenNGC", Release = "kstars-data" });
        CatalogIndexBuilder.Build(DenseRowsAround(_batch, new Random(20240611)), new CatalogColumns("id", "ra", "dec") { Extra = ["r_mag", "z"] }, "generated", dense,
            new CatalogIndexBuildOptions { Name = "dense", Release = "synthetic" });

        var options = new CrossmatchOptions
        {
            Catalogs =
            [
                new() { Path = stars, RadiusArcsec = 5, Columns = ["magnitude", "bv_index", "spectral_type", "parallax_mas"], Type = "star" },
                new() { Path = ngc, RadiusArcsec = 60, Match = "all", Columns = ["magnitude", "major_axis_arcmin", "name"], TypeColumn = "type_name" },
                new() { Path = dense, RadiusArcsec = 5, Match = "k-nearest", K = 5, Columns = ["r_mag"], Type = "galaxy", RedshiftColumn = "z" },
            ],
        };
        options.Validate();
        _step = new CrossmatchStep(options);
        _step.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        long entries = 0;
        foreach (var r in _step.ExecuteAsync(_batch, CancellationToken.None).GetAwaiter().GetResult()) entries += r.Value?.Crossmatches.Count ?? 0;
        Console.WriteLine($"// {Alerts} simulated ZTF alerts, {entries} crossmatch entries per batch ({(double)entries / Alerts:F2} per alert)");
    }

    /// <summary>Half the rows uniform on the sphere, half within 30" of the alerts (Gaussian, σ 10"), with a magnitude and a redshift.</summary>
    private static IEnumerable<CatalogRow> DenseRowsAround(Alert[] alerts, Random rng)
    {
        for (long id = 0; id < DenseRows; id++)
        {
            double ra, dec;
            if (id % 2 == 0)
            {
                ra = rng.NextDouble() * 360;
                dec = Math.Asin(2 * rng.NextDouble() - 1) * 180 / Math.PI;
            }
            else
            {
                var a = alerts[rng.Next(alerts.Length)];
                (ra, dec) = Coordinates.Offset(a.Ra, a.Dec, Math.Clamp(Gauss(rng) * 10, -30, 30), Math.Clamp(Gauss(rng) * 10, -30, 30));
            }
            yield return new CatalogRow(new CatalogId(id, null), ra, dec, null, null, null, [16 + 8 * rng.NextDouble(), 0.01 + 0.5 * rng.NextDouble()]);
        }
    }

    private static double Gauss(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [GlobalCleanup]
    public void Cleanup()
    {
        _step.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The step over the batch, three catalogues per alert; the time reported is per alert.</summary>
    [Benchmark(OperationsPerInvoke = Alerts)]
    public int OneBatchOfSimulatedZtfAlerts() => _step.ExecuteAsync(_batch, CancellationToken.None).GetAwaiter().GetResult().Count;
}
