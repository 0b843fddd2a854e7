using BenchmarkDotNet.Attributes;
using Broker.Sky;
using Broker.Sky.Orbits;

namespace Broker.Benchmarks;

/// <summary>
/// Ephemeris kernels of solar-system association (issue 12), per call: the observer (Earth by eraEpv00 plus the X05
/// site by eraC2t06a) once per exposure; a two-body astrometric ephemeris; an N-body ephemeris inside a night whose
/// integration is already done (one short Bulirsch-Stoer step from the nearest kept step); and the first N-body
/// integration of an orbit over a year (the per-orbit set-up cost, with the planets' day grid already cached).
/// Needs liberfa1 and kstars-data.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*Ephemeris*'
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class EphemerisBenchmarks
{
    private const int Times = 64;
    private static readonly OrbitState MainBelt = new CometaryElements(2.2, 0.15, 7.5, 120, 250, 59900, 60200).StateAtEpoch();
    private readonly Observatory _site = Observatory.Find("X05");
    private readonly ObserverState[] _observers = new ObserverState[Times];
    private readonly double[] _mjdUtc = new double[Times];
    private TwoBodyMotion _twoBody = null!;
    private NBodyMotion _nBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Times; i++)
        {
            _mjdUtc[i] = 60565.1 + i * 0.005;
            _observers[i] = Ephemerides.Observer(_site, _mjdUtc[i]);
        }
        _twoBody = new TwoBodyMotion(MainBelt);
        _nBody = new NBodyMotion(MainBelt);
        _ = _nBody.StateAt(_observers[^1].MjdTdb);
        _ = new NBodyMotion(MainBelt).StateAt(60565);
    }

    /// <summary>Observer state at a new instant (Earth + site; the site matrix is cached per instant, so each call is a new time).</summary>
    [Benchmark(OperationsPerInvoke = Times)]
    public double ObserverAtNewTimes()
    {
        double sum = 0;
        for (int i = 0; i < Times; i++) sum += Ephemerides.Observer(_site, _mjdUtc[i] + 1e-7 * sum).X;
        return sum;
    }

    /// <summary>Two-body astrometric ephemeris with rates.</summary>
    [Benchmark(OperationsPerInvoke = Times)]
    public double TwoBodyObserve()
    {
        double sum = 0;
        for (int i = 0; i < Times; i++) sum += Ephemerides.Observe(_twoBody, _observers[i]).RaDeg;
        return sum;
    }

    /// <summary>N-body astrometric ephemeris inside an integrated night.</summary>
    [Benchmark(OperationsPerInvoke = Times)]
    public double NBodyObserveWithinANight()
    {
        double sum = 0;
        for (int i = 0; i < Times; i++) sum += Ephemerides.Observe(_nBody, _observers[i]).RaDeg;
        return sum;
    }

    /// <summary>A fresh N-body integration of one orbit over 365 days.</summary>
    [Benchmark]
    public double NBodyIntegrateOneYear() => new NBodyMotion(MainBelt).StateAt(60565).X;
}
