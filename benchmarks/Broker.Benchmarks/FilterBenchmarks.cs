using System.Globalization;
using BenchmarkDotNet.Attributes;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Filters;
using Broker.TestSupport;

namespace Broker.Benchmarks;

/// <summary>
/// Cost per alert of evaluating 1, 10 and 100 active filters (issue 15's goal: 100 filters under 5 µs per alert per
/// core), on the 651 real ZTF and Rubin alerts of ../shared/data. One operation is one alert: load the fields the
/// set uses once (<see cref="FilterSet.Load"/>), then run every filter; <c>LoadOnly</c> is the first half alone.
/// The filters are the five examples of filters/ and 20 further realistic cuts (magnitudes, real-bogus, colours,
/// rise rates, history counts, Galactic latitude, like patterns, in lists), each repeated with its numbers shifted
/// so that no two of the 100 are the same text.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*FilterBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class FilterBenchmarks
{
    private static readonly string[] Cuts =
    [
        "mag < {0} and isPositive",
        "coalesce(realBogus, 0) > 0.{1} and band = 'g'",
        "candidate.magpsf between 17 and {0} and candidate.sgscore1 < 0.5",
        "diaSource.psfFlux > {2} and diaSource.reliability > 0.5",
        "colour('g', 'r') < -0.{1}",
        "rise_rate('g') > 0.0{1} or rise_rate('r') > 0.0{1}",
        "ndet() >= {3} and days_since_first() < 30",
        "abs(galactic_lat(ra, dec)) > {3} and mag < {0}",
        "objectId like 'ZTF1{1}%' or objectId like '%a{1}'",
        "candidate.fid in (1, 2) and candidate.ndethist > {3}",
        "class.stamp.SN > 0.{1} and xmatch.count > 0",
        "sso.designation is null and (candidate.ssnamenr is null or candidate.ssnamenr = 'null') and mag < {0}",
        "ecliptic_lat(ra, dec) between -{3} and {3} and ndet() = 1",
        "angdist(ra, dec, 150, 2.{1}) < 3600 and isPositive",
        "peak_mag('r') < {0} and last_mag('r') - peak_mag('r') > 0.{1}",
        "alertId % 1{1} = 0 or candidate.drb > 0.99",
        "log10(abs(flux)) > 3.{1} and magErr < 0.1",
        "not (candidate.isdiffpos = 'f') and candidate.distnr < 1.{1}",
        "survey = 'lsst' and diaSource.snr > {3}",
        "round(mag, 1) = {0}.{1} or floor(mag) = {3}",
    ];

    private Alert[] _alerts = [];
    private FilterSet _set = null!;
    private AlertRow _row = null!;
    private byte[] _results = [];

    /// <summary>How many filters are active.</summary>
    [Params(1, 10, 100)]
    public int Filters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _alerts = [.. BacktestAlerts.Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")], new FolderSchemaRegistry(SharedData.Path("lsst/schema")))
            .Where(a => a.Alert is not null).Select(a => a.Alert!)];
        if (_alerts.Length != 651) throw new InvalidOperationException($"expected the 651 real alerts, read {_alerts.Length}");
        var texts = new List<string>();
        foreach (var file in Directory.GetFiles(SharedData.RepositoryPath("filters"), "*.yaml").Order(StringComparer.Ordinal))
            texts.Add(FilterDefinition.Load(file).Where);
        for (int k = 0; texts.Count < Filters; k++)
        {
            string cut = Cuts[k % Cuts.Length];
            int round = k / Cuts.Length;
            texts.Add(string.Format(CultureInfo.InvariantCulture, cut, 17 + round, 3 + round, 1000 * (round + 1), 2 + round));
        }
        var layout = new FieldLayout();
        _set = new FilterSet(layout, [.. texts.Take(Filters).Select(t => FilterExpression.Compile(t, layout: layout))]);
        _row = _set.CreateRow();
        _results = new byte[Filters];
        Console.WriteLine($"// {_alerts.Length} alerts, {Filters} filters, {_set.FieldCount} distinct fields loaded per alert");
    }

    /// <summary>Loads and evaluates every filter on every alert; per alert.</summary>
    [Benchmark(OperationsPerInvoke = 651)]
    public int Evaluate()
    {
        int matches = 0;
        foreach (var a in _alerts) matches += _set.Evaluate(a, _row, _results);
        return matches;
    }

    /// <summary>Only loads the fields; per alert.</summary>
    [Benchmark(OperationsPerInvoke = 651)]
    public int LoadOnly()
    {
        foreach (var a in _alerts) _set.Load(a, _row);
        return _row.Reals.Length;
    }
}
