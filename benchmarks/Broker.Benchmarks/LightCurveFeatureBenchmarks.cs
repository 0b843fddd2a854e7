using BenchmarkDotNet.Attributes;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.LightCurves;
using Broker.Simulation;

namespace Broker.Benchmarks;

/// <summary>
/// Light-curve features per alert on one core (issue 14: features + forest above 2,000 ZTF alerts/s/core, so features
/// alone ~3,000+/s). One operation is one alert: Load (alert → pooled light curve) plus Compute, or one feature group
/// alone, so alerts/s/core = 1 s / mean.
/// <list type="bullet">
/// <item><c>Ztf30Day</c>: 200 alerts from Broker's ZTF simulator (30-day histories of detections and upper limits,
/// survey cadence and noise; point counts printed at setup).</item>
/// <item><c>Ztf30DayDense</c>: 200 synthetic ZTF 30-day histories at the densest public-survey cadence (g and r on
/// ~80% of nights, ~25 points per band), the upper end of the 10-30 points per band, of the same four kinds.</item>
/// <item><c>Rubin12Month</c>: 200 synthetic Rubin histories, 12 months of a deep-drilling-like cadence in u g r i z y
/// (one visit every night the field is up, ~8 months a year, the band drawn with WFD's band fractions), ~300 detections
/// each, of periodic, damped-random-walk, supernova and constant sources.</item>
/// </list>
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*LightCurveFeature*'
/// (quicker, as measured for the docs: add --inProcess --warmupCount 2 --iterationCount 8)
/// </summary>
[MemoryDiagnoser]
public class LightCurveFeatureBenchmarks
{
    private const int Batch = 200;
    private Alert[] _alerts = [];
    private readonly LightCurve _lc = new();
    private LightCurveFeatures _features = null!;
    private double[] _output = [];
    private LightCurve[] _loaded = [];

    /// <summary>Which histories.</summary>
    [Params("Ztf30Day", "Ztf30DayDense", "Rubin12Month")]
    public string History { get; set; } = "Ztf30Day";

    [GlobalSetup]
    public void Setup()
    {
        if (History == "Ztf30Day")
        {
            var simulation = new SimulationOptions { Survey = SurveyKind.Ztf, Nights = 1, AlertsPerNight = 1500, Seed = 1, Workers = 1, Cutouts = false, BogusFraction = 0 };
            _alerts = [.. AlertSimulator.Generate(simulation)
                .Select(a => SurveyAlertMapper.Map(SurveyMessage.Decode(a.ToPacket(SurveyKind.Ztf), null)))
                .Where(a => a.Detections.Count >= 1)
                .Take(Batch)];
            _features = new LightCurveFeatures(FeatureBands.Ztf);
        }
        else if (History == "Ztf30DayDense")
        {
            _alerts = [.. ZtfDenseHistories(Batch, new Random(15))];
            _features = new LightCurveFeatures(FeatureBands.Ztf);
        }
        else
        {
            _alerts = [.. RubinHistories(Batch, new Random(14))];
            _features = new LightCurveFeatures(FeatureBands.Rubin);
        }
        if (_alerts.Length != Batch) throw new InvalidOperationException($"{History}: {_alerts.Length} alerts, not {Batch}");
        _output = new double[_features.FeatureNames.Count];
        _loaded = [.. _alerts.Select(LightCurve.FromAlert)];
        var g = _loaded.Select(l => l.Detections(LightCurveBands.G).Count).Order().ToArray();
        var r = _loaded.Select(l => l.Detections(LightCurveBands.R).Count).Order().ToArray();
        var all = _loaded.Select(l => l.DetectionCount).Order().ToArray();
        var limits = _loaded.Select(l => Enumerable.Range(0, LightCurveBands.Count).Sum(b => l.UpperLimits(b).Count)).Order().ToArray();
        long frequencies = 0;
        foreach (var l in _loaded)
        {
            _features.Compute(l, _output);
            frequencies += _features.LastFrequencyCount;
        }
        Console.WriteLine($"// {History}: {_alerts.Length} alerts; detections per alert median {all[all.Length / 2]} (max {all[^1]}), " +
            $"g median {g[g.Length / 2]}, r median {r[r.Length / 2]}, upper limits median {limits[limits.Length / 2]}; " +
            $"mean period-grid size {frequencies / _loaded.Length} frequencies");
    }

    /// <summary>Load + every feature (per alert).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public double LoadAndAllFeatures()
    {
        double sum = 0;
        foreach (var alert in _alerts)
        {
            _lc.Load(alert);
            _features.Compute(_lc, _output);
            sum += _output[0];
        }
        return sum;
    }

    /// <summary>Alert → light curve only.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int LoadOnly()
    {
        int n = 0;
        foreach (var alert in _alerts)
        {
            _lc.Load(alert);
            n += _lc.DetectionCount;
        }
        return n;
    }

    /// <summary>Variability statistics.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public double Variability() => Group(LightCurveFeatures.FeatureGroups.Variability);

    /// <summary>Period search (multiband GLS, FAP, per-band periods), Psi_CS/Psi_eta and harmonics.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public double PeriodSearch() => Group(LightCurveFeatures.FeatureGroups.Period);

    /// <summary>Damped random walk fit.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public double DampedRandomWalk() => Group(LightCurveFeatures.FeatureGroups.DampedRandomWalk);

    /// <summary>Supernova parametric model fit.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public double SupernovaModel() => Group(LightCurveFeatures.FeatureGroups.SupernovaModel);

    /// <summary>Detection, non-detection, colour and context features.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public double Detections() => Group(LightCurveFeatures.FeatureGroups.Detections);

    private double Group(LightCurveFeatures.FeatureGroups group)
    {
        double sum = 0;
        foreach (var lc in _loaded)
        {
            _features.Compute(lc, _output, group);
            sum += _output[^1];
        }
        return sum;
    }

    /// <summary>Synthetic 12-month Rubin histories of a deep-drilling-like cadence (see the class summary).</summary>
    private static IEnumerable<Alert> RubinHistories(int count, Random rng)
    {
        string[] bands = ["u", "g", "r", "i", "z", "y"];
        double[] fraction = [0.07, 0.09, 0.22, 0.22, 0.20, 0.20]; // LSST WFD band fractions
        double[] colour = [0.8, 0.3, 0, -0.1, -0.15, -0.2];
        for (int k = 0; k < count; k++)
        {
            int kind = k % 4;
            double start = 61000, baseMag = 19 + 2 * rng.NextDouble();
            double period = Math.Exp(Math.Log(0.2) + rng.NextDouble() * Math.Log(200)), amp = 0.1 + 0.5 * rng.NextDouble();
            double tau = 50 + 200 * rng.NextDouble(), drw = 0;
            double peak = start + 60 + 200 * rng.NextDouble();
            var dets = new List<Detection>();
            var limits = new List<UpperLimit>();
            double last = start;
            for (int night = 0; night < 365; night++)
            {
                if (night % 365 > 240 || rng.NextDouble() > 0.9) continue; // the season, and weather
                for (int visit = 0; visit < 2; visit++)
                {
                    double t = start + night + 0.05 + 0.3 * rng.NextDouble();
                    double u = rng.NextDouble(), acc = 0;
                    int b = 0;
                    for (; b < 5; b++) { acc += fraction[b]; if (u < acc) break; }
                    double a = Math.Exp(-(t - last) / tau);
                    drw = a * drw + Math.Sqrt(0.04 * (1 - a * a)) * Gaussian(rng);
                    last = t;
                    double mag = kind switch
                    {
                        0 => baseMag + colour[b] * 0.3 + amp * Math.Sin(2 * Math.PI * t / period),
                        1 => baseMag + colour[b] * 0.5 + drw,
                        2 => t < peak - 20 || t > peak + 150 ? double.PositiveInfinity : baseMag - 2.5 * Math.Log10(Math.Max(1e-3, Math.Exp(-(t - peak) / 30) / (1 + Math.Exp(-(t - peak + 10) / 3)))),
                        _ => baseMag + colour[b] * 0.2,
                    };
                    double err = 0.01 + 0.02 * Math.Pow(10, 0.4 * (mag - 21));
                    if (!double.IsFinite(mag) || mag > 24)
                    {
                        limits.Add(new UpperLimit(t, bands[b], 24.0));
                        continue;
                    }
                    dets.Add(new Detection { MjdTai = t, Band = bands[b], Mag = mag + err * Gaussian(rng), MagErr = err, IsPositive = true });
                }
            }
            if (dets.Count == 0) continue;
            var own = dets[^1];
            yield return new Alert
            {
                Survey = Survey.Lsst,
                AlertId = k,
                ObjectId = k.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MjdTai = own.MjdTai,
                Band = own.Band,
                Mag = own.Mag,
                MagErr = own.MagErr,
                Flux = double.NaN,
                FluxErr = double.NaN,
                IsPositive = true,
                Detections = [.. dets.Take(dets.Count - 1)],
                UpperLimits = limits,
            };
        }
    }

    /// <summary>Synthetic dense ZTF 30-day histories (see the class summary).</summary>
    private static IEnumerable<Alert> ZtfDenseHistories(int count, Random rng)
    {
        for (int k = 0; k < count; k++)
        {
            int kind = k % 4;
            double start = 60000, baseMag = 17 + 3 * rng.NextDouble(), period = Math.Exp(Math.Log(0.1) + rng.NextDouble() * Math.Log(100));
            double peak = start + 10 + 10 * rng.NextDouble(), drw = 0, last = start;
            var dets = new List<Detection>();
            var limits = new List<UpperLimit>();
            for (int night = 0; night < 30; night++)
            {
                if (rng.NextDouble() > 0.8) continue;
                double t0 = start + night + 0.1 + 0.3 * rng.NextDouble();
                for (int b = 0; b < 2; b++)
                {
                    double t = t0 + b * 0.03;
                    double a = Math.Exp(-(t - last) / 100);
                    drw = a * drw + Math.Sqrt(0.04 * (1 - a * a)) * Gaussian(rng);
                    last = t;
                    double mag = kind switch
                    {
                        0 => baseMag + 0.3 * Math.Sin(2 * Math.PI * t / period + b),
                        1 => baseMag + drw,
                        2 => baseMag - 2.5 * Math.Log10(Math.Max(1e-3, Math.Exp(-(t - peak) / 25) / (1 + Math.Exp(-(t - peak + 8) / 3)))),
                        _ => baseMag,
                    };
                    string band = b == 0 ? "g" : "r";
                    if (mag > 20.5) { limits.Add(new UpperLimit(t, band, 20.5)); continue; }
                    double err = 0.015 + 0.1 * Math.Pow(10, 0.4 * (mag - 20.5));
                    dets.Add(new Detection { MjdTai = t, Band = band, Mag = mag + err * Gaussian(rng), MagErr = err, IsPositive = true });
                }
            }
            if (dets.Count == 0) continue;
            var own = dets[^1];
            yield return new Alert
            {
                Survey = Survey.Ztf, AlertId = k, ObjectId = "ZTFdense" + k.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MjdTai = own.MjdTai, Band = own.Band, Mag = own.Mag, MagErr = own.MagErr, Flux = double.NaN, FluxErr = double.NaN, IsPositive = true,
                Detections = [.. dets.Take(dets.Count - 1)], UpperLimits = limits,
            };
        }
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
