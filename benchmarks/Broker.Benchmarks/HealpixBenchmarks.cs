using BenchmarkDotNet.Attributes;
using Broker.Sky;

namespace Broker.Benchmarks;

/// <summary>
/// HEALPix kernels of the crossmatch (issue 11): ang2pix in the nested scheme at order 12 (the catalogue index's
/// depth) and 29 (the finest), and the inclusive disc query at 5" (a typical match radius) at order 12 and at 1"
/// at order 17 (the order the catalogue search picks for 1"), from the base pixels (the general routine) and from
/// the centre outwards (<see cref="Healpix.QueryDiscNeighbourhoodNested"/>, what the search uses for small discs).
/// One operation is one call; the directions are 4096 fixed random ones, cycled.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*Healpix*'
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class HealpixBenchmarks
{
    private const int Directions = 4096;
    private const double FiveArcsec = 5.0 / 3600 * Math.PI / 180;
    private const double OneArcsec = 1.0 / 3600 * Math.PI / 180;
    private readonly long[] _pixels = new long[64];
    private readonly double[] _theta = new double[Directions];
    private readonly double[] _phi = new double[Directions];
    private readonly List<PixelRange> _ranges = new(16);
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (int i = 0; i < Directions; i++)
        {
            _theta[i] = Math.Acos(2 * random.NextDouble() - 1);
            _phi[i] = 2 * Math.PI * random.NextDouble();
        }
    }

    /// <summary>ang2pix, nested, order 12.</summary>
    [Benchmark(OperationsPerInvoke = Directions)]
    public long AngToPixNestedOrder12()
    {
        long sum = 0;
        for (int i = 0; i < Directions; i++) sum += Healpix.AngToPixNested(12, _theta[i], _phi[i]);
        return sum;
    }

    /// <summary>ang2pix, nested, order 29.</summary>
    [Benchmark(OperationsPerInvoke = Directions)]
    public long AngToPixNestedOrder29()
    {
        long sum = 0;
        for (int i = 0; i < Directions; i++) sum += Healpix.AngToPixNested(29, _theta[i], _phi[i]);
        return sum;
    }

    /// <summary>Inclusive disc query, radius 5", order 12, into a reused range list.</summary>
    [Benchmark]
    public int QueryDiscInclusive5ArcsecOrder12()
    {
        int i = _next++ & (Directions - 1);
        _ranges.Clear();
        Healpix.QueryDiscInclusiveNested(12, _theta[i], _phi[i], FiveArcsec, _ranges);
        return _ranges.Count;
    }

    /// <summary>Neighbourhood disc query, radius 5", order 12, into a reused array.</summary>
    [Benchmark]
    public int QueryDiscNeighbourhood5ArcsecOrder12()
    {
        int i = _next++ & (Directions - 1);
        return Healpix.QueryDiscNeighbourhoodNested(12, _theta[i], _phi[i], FiveArcsec, _pixels);
    }

    /// <summary>Inclusive disc query, radius 1", order 17, into a reused range list.</summary>
    [Benchmark]
    public int QueryDiscInclusive1ArcsecOrder17()
    {
        int i = _next++ & (Directions - 1);
        _ranges.Clear();
        Healpix.QueryDiscInclusiveNested(17, _theta[i], _phi[i], OneArcsec, _ranges);
        return _ranges.Count;
    }

    /// <summary>Neighbourhood disc query, radius 1", order 17, into a reused array.</summary>
    [Benchmark]
    public int QueryDiscNeighbourhood1ArcsecOrder17()
    {
        int i = _next++ & (Directions - 1);
        return Healpix.QueryDiscNeighbourhoodNested(17, _theta[i], _phi[i], OneArcsec, _pixels);
    }
}
