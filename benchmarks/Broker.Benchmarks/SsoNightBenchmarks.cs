using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Broker.Alerts.Model;
using Broker.Sky;
using Broker.Sky.Orbits;
using Broker.Sso;

namespace Broker.Benchmarks;

/// <summary>
/// Issue 12's whole-catalogue night: <c>BROKER_BENCH_ORBITS</c> orbits (default 1,500,000, the MPC catalogue's size)
/// against <c>BROKER_BENCH_ALERTS</c> ZTF alerts of one night (default 200,000). <see cref="BuildIndex"/> is the
/// nightly index (<see cref="SolarSystemIndex.Build"/>: every orbit propagated to the nodes, bucketed);
/// <see cref="Night"/> is the sso step end to end over the night's alerts in batches of 500, as the service runs it:
/// the index built lazily at the first alert, then each alert screened and its candidates refined two-body
/// (<c>Sso:NBody=false</c>: the synthetic orbits' truth is two-body, and an N-body integration per candidate is the
/// ISO paper's second pass, a cost per candidate, not per orbit). An LSST night (10^7 alerts) is the build plus
/// 50 times the per-alert part: Night − BuildIndex, times 10^7 / alerts.
/// </summary>
/// <remarks>
/// <para><b>Orbits.</b> Drawn from the real distribution of elements: each is one of kstars-data's 7,099 JPL SBDB
/// orbits (numbered asteroids, mostly main belt, some NEAs, Trojans and beyond) chosen at random, its a, e and i
/// jittered (a × (1 + N(0, 0.02)), e + N(0, 0.01), i + N(0°, 0.5°)), its node, argument of perihelion and mean
/// anomaly drawn uniformly (so the copies spread around the sky as a real population does), H from the chosen
/// orbit ± N(0, 0.3), and epoch 30 days before the night (a current MPCORB epoch). Without kstars-data, a synthetic main
/// belt (a 2.1-3.3 au, e &lt; 0.25, i &lt; 20°).</para>
/// <para><b>Alerts.</b> In exposures of 300 alerts spread over 0.4 day; 10% at the exact two-body position of a random
/// orbit (plus 0.1" of noise) from Palomar (I41), the rest uniform over the sky north of Dec −30°.</para>
/// Run: <c>BROKER_BENCH_ORBITS=150000 dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*SsoNight*'</c>
/// </remarks>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 3)]
[MemoryDiagnoser]
public class SsoNightBenchmarks
{
    private const double NightStartUtc = 60300.1; // 2023-12-23, evening at Palomar
    private SolarSystemCatalog _catalog = null!;
    private Alert[] _alerts = [];
    private double _startTdb;

    /// <summary>Orbits screened.</summary>
    public static int OrbitCount => Env("BROKER_BENCH_ORBITS", 1_500_000);

    /// <summary>Alerts in the night.</summary>
    public static int AlertCount => Env("BROKER_BENCH_ALERTS", 200_000);

    private static int Env(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : fallback;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(20261202);
        var seeds = File.Exists(SbdbOrbitReader.KStarsPath) ? SbdbOrbitReader.Read(SbdbOrbitReader.KStarsPath).Where(o => o.Elements.E < 1).ToArray() : [];
        _startTdb = TimeScales.MjdUtcToMjdTdb(NightStartUtc);
        double epoch = _startTdb - 30;
        var orbits = new SolarSystemOrbit[OrbitCount];
        for (int n = 0; n < orbits.Length; n++)
        {
            double a, e, i, h;
            if (seeds.Length > 0)
            {
                var s = seeds[rng.Next(seeds.Length)];
                double sa = s.Elements.Q / (1 - s.Elements.E);
                a = sa * (1 + 0.02 * Normal(rng));
                e = Math.Clamp(s.Elements.E + 0.01 * Normal(rng), 0, 0.99);
                i = Math.Abs(s.Elements.IDeg + 0.5 * Normal(rng));
                h = s.H + 0.3 * Normal(rng);
            }
            else
            {
                a = 2.1 + 1.2 * rng.NextDouble();
                e = 0.25 * rng.NextDouble();
                i = 20 * rng.NextDouble();
                h = 15 + 3 * rng.NextDouble();
            }
            var el = CometaryElements.FromKeplerian(a, e, i, 360 * rng.NextDouble(), 360 * rng.NextDouble(), 360 * rng.NextDouble(), epoch);
            orbits[n] = new SolarSystemOrbit($"S{n}", $"S{n}", el, h, 0.15, "synthetic");
        }
        _catalog = SolarSystemCatalog.Create(orbits);

        var site = Observatory.Find("I41");
        _alerts = new Alert[AlertCount];
        for (int k = 0; k < _alerts.Length; k++)
        {
            // Exposures of 300 alerts each (ZTF: about 200,000 alerts from some 700 exposures a night), spread over 0.4 day.
            int exposures = (_alerts.Length + AlertsPerExposure - 1) / AlertsPerExposure;
            double utc = NightStartUtc + 0.4 * (k / AlertsPerExposure) / exposures;
            double ra, dec;
            if (rng.NextDouble() < 0.1)
            {
                var p = Ephemerides.Observe(new TwoBodyMotion(_catalog.EpochStates[rng.Next(_catalog.Count)]), site, utc);
                (ra, dec) = Coordinates.Offset(p.RaDeg, p.DecDeg, 0.1 * Normal(rng), 0.1 * Normal(rng));
            }
            else
            {
                ra = 360 * rng.NextDouble();
                dec = Math.Asin(-0.5 + 1.5 * rng.NextDouble()) * Coordinates.RadToDeg;
            }
            _alerts[k] = new Alert
            {
                Survey = Survey.Ztf, AlertId = k + 1, Ra = ra, Dec = dec, MjdTai = TimeScales.MjdUtcToMjdTai(utc), IsPositive = true, Band = "r",
            };
        }
        Console.WriteLine($"// {_catalog.Count} orbits ({(seeds.Length > 0 ? "resampled from kstars' " + seeds.Length : "synthetic main belt")}), {_alerts.Length} alerts");
    }

    private const int AlertsPerExposure = 300;

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>The nightly index alone.</summary>
    [Benchmark]
    public long BuildIndex()
    {
        var options = new SsoOptions();
        var index = SolarSystemIndex.Build(_catalog, _startTdb - options.WindowBeforeHours / 24, _startTdb + options.WindowAfterHours / 24,
            EarthEphemeris.HeliocentricEquatorial, options.ScreenRadius("ZTF"), options.GridStepHours / 24);
        Console.WriteLine($"// order {index.Order}, {index.Entries} entries, {index.WideCount} wide");
        return index.Entries;
    }

    /// <summary>The sso step over the night: index built at the first alert, then every alert associated.</summary>
    [Benchmark]
    public int Night()
    {
        var step = new SsoStep(new SsoOptions { NBody = false }, _catalog);
        step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        int associated = 0;
        for (int from = 0; from < _alerts.Length; from += 500)
        {
            var batch = new ArraySegment<Alert>(_alerts, from, Math.Min(500, _alerts.Length - from));
            foreach (var r in step.ExecuteAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult())
                if (r.Value?.SolarSystem is not null) associated++;
        }
        Console.WriteLine($"// {associated} of {_alerts.Length} alerts associated");
        return associated;
    }
}
