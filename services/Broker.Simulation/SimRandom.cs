using System.Numerics;
using System.Runtime.CompilerServices;

namespace Broker.Simulation;

/// <summary>
/// xoshiro256** (Blackman and Vigna 2018, "Scrambled linear pseudorandom number generators") seeded through
/// SplitMix64. A value type, so each alert and each (object, visit) pair gets its own stream from a hash of its
/// keys: output never depends on thread scheduling or on what else was generated.
/// </summary>
internal struct SimRandom
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spare;
    private bool _hasSpare;

    public SimRandom(ulong seed)
    {
        _s0 = SplitMix(ref seed);
        _s1 = SplitMix(ref seed);
        _s2 = SplitMix(ref seed);
        _s3 = SplitMix(ref seed);
        _spare = 0;
        _hasSpare = false;
    }

    /// <summary>A stream for a tuple of keys.</summary>
    public static SimRandom For(ulong seed, ulong a, ulong b = 0, ulong c = 0) => new(Hash(seed, a, b, c));

    /// <summary>Mixes keys into one 64-bit value (SplitMix64 finaliser chained).</summary>
    public static ulong Hash(ulong seed, ulong a, ulong b = 0, ulong c = 0)
    {
        ulong h = Mix(seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ a);
        h = Mix(h ^ (b + 0x632BE59BD9B4E019UL));
        return Mix(h ^ (c + 0x8CB92BA72F3D8DD7UL));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextULong()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => ToUnit(NextULong());

    /// <summary>A double in [0, 1) from the top 53 bits of 64 random ones (a <see cref="Hash"/>, say).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToUnit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [lo, hi).</summary>
    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)((NextULong() >> 33) * (ulong)n >> 31);

    /// <summary>True with probability p.</summary>
    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal (Marsaglia polar method).</summary>
    public double Gaussian()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.Sqrt(-2 * Math.Log(s) / s);
        _spare = v * f;
        _hasSpare = true;
        return u * f;
    }

    /// <summary>Normal with mean and standard deviation.</summary>
    public double Normal(double mean, double sigma) => mean + sigma * Gaussian();

    /// <summary>Log-normal: exp of a normal with the given median and sigma of ln.</summary>
    public double LogNormal(double median, double sigmaLn) => median * Math.Exp(sigmaLn * Gaussian());

    /// <summary>Log-uniform in [lo, hi).</summary>
    public double LogUniform(double lo, double hi) => Math.Exp(Uniform(Math.Log(lo), Math.Log(hi)));

    /// <summary>Beta(a, b) from two gamma draws (Marsaglia and Tsang 2000).</summary>
    public double Beta(double a, double b)
    {
        double x = Gamma(a), y = Gamma(b);
        return x / (x + y);
    }

    /// <summary>Gamma(shape, 1), Marsaglia and Tsang (2000), with the shape &lt; 1 boost.</summary>
    public double Gamma(double shape)
    {
        if (shape < 1) return Gamma(shape + 1) * Math.Pow(NextDouble() + 1e-300, 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Gaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }

    /// <summary>Poisson draw (Knuth for small means, normal approximation above 30).</summary>
    public int Poisson(double mean)
    {
        if (mean <= 0) return 0;
        if (mean > 30) return Math.Max(0, (int)Math.Round(Normal(mean, Math.Sqrt(mean))));
        double l = Math.Exp(-mean), p = 1;
        int k = 0;
        do
        {
            k++;
            p *= NextDouble();
        } while (p > l);
        return k - 1;
    }
}
