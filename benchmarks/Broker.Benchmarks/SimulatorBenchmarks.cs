using BenchmarkDotNet.Attributes;
using Broker.Simulation;

namespace Broker.Benchmarks;

/// <summary>
/// Alerts generated per second on one core, with cutouts, as <c>broker simulate</c> makes them (issue 4: a full LSST
/// night, 10M alerts, should take a few hours). One operation is one alert: the run's alerts divided into its time.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*SimulatorBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class SimulatorBenchmarks
{
    private const int AlertsPerNight = 2000;
    private SimulationOptions _options = null!;

    /// <summary>The survey simulated.</summary>
    [Params(SurveyKind.Ztf, SurveyKind.Lsst)]
    public SurveyKind Survey { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _options = new SimulationOptions { Survey = Survey, Nights = 1, AlertsPerNight = AlertsPerNight, Seed = 1, Workers = 1 };
        long alerts = 0;
        foreach (var _ in AlertSimulator.Generate(_options)) alerts++;
        Console.WriteLine($"// {Survey}: {alerts} alerts per invocation");
    }

    /// <summary>Generates and encodes one night on one worker (cutouts included); alerts/s/core = alert count (printed at setup) / mean.</summary>
    [Benchmark]
    public long OneNightOnOneCore()
    {
        long bytes = 0;
        foreach (var a in AlertSimulator.Generate(_options)) bytes += a.Datum.Length;
        return bytes;
    }
}
