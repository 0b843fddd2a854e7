using Broker.Sky.Orbits;

namespace Broker.Sso;

/// <summary>The dynamical class that sets how fast an orbit's two-body prediction drifts from the truth (<see cref="AssociationRadius"/>).</summary>
public enum OrbitClass
{
    /// <summary>Main belt and beyond (q ≥ 1.3 au, e &lt; 0.98): perturbed mostly by Jupiter, slowly.</summary>
    Distant,

    /// <summary>Near-Earth objects (q &lt; 1.3 au, the CNEOS definition): close planetary encounters, fast drift, large parallax.</summary>
    NearEarth,

    /// <summary>Comets and near-parabolic or hyperbolic orbits (e ≥ 0.98): non-gravitational forces, poorly known.</summary>
    Cometary,
}

/// <summary>
/// The orbits association screens, with each one's heliocentric state at its epoch and its class computed once
/// (not per night): the part of the work that does not depend on the night. Structure of arrays.
/// </summary>
public sealed class SolarSystemCatalog
{
    private SolarSystemCatalog(SolarSystemOrbit[] orbits, OrbitState[] states, OrbitClass[] classes, int unusable)
    {
        Orbits = orbits;
        EpochStates = states;
        Classes = classes;
        Unusable = unusable;
    }

    /// <summary>The orbits, in the order given.</summary>
    public IReadOnlyList<SolarSystemOrbit> Orbits { get; }

    /// <summary>Each orbit's heliocentric equatorial state at its epoch (NaN for an orbit whose elements give none).</summary>
    public OrbitState[] EpochStates { get; }

    /// <summary>Each orbit's class.</summary>
    public OrbitClass[] Classes { get; }

    /// <summary>How many orbits had no finite state at their epoch (they are never matched).</summary>
    public int Unusable { get; }

    /// <summary>Number of orbits.</summary>
    public int Count => EpochStates.Length;

    /// <summary>An empty catalogue (the stage still compares the survey's associations and reads Rubin's own orbits).</summary>
    public static SolarSystemCatalog Empty { get; } = new([], [], [], 0);

    /// <summary>The class of a conic: q &lt; 1.3 au is near-Earth (CNEOS), e ≥ 0.98 cometary.</summary>
    public static OrbitClass ClassOf(CometaryElements elements)
    {
        ArgumentNullException.ThrowIfNull(elements);
        if (!(elements.E < 0.98)) return OrbitClass.Cometary;
        return elements.Q < 1.3 ? OrbitClass.NearEarth : OrbitClass.Distant;
    }

    /// <summary>Computes every orbit's state at its epoch, in parallel.</summary>
    public static SolarSystemCatalog Create(IReadOnlyList<SolarSystemOrbit> orbits)
    {
        ArgumentNullException.ThrowIfNull(orbits);
        var array = orbits as SolarSystemOrbit[] ?? [.. orbits];
        var states = new OrbitState[array.Length];
        var classes = new OrbitClass[array.Length];
        int unusable = 0;
        Parallel.For(0, array.Length, () => 0, (i, _, bad) =>
        {
            var e = array[i].Elements;
            classes[i] = ClassOf(e);
            try
            {
                var s = e.StateAtEpoch();
                if (double.IsFinite(s.X + s.Y + s.Z + s.Vx + s.Vy + s.Vz)) { states[i] = s; return bad; }
            }
            catch (ArithmeticException)
            {
            }
            states[i] = new OrbitState(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, e.EpochMjdTdb);
            return bad + 1;
        }, bad => Interlocked.Add(ref unusable, bad));
        return new SolarSystemCatalog(array, states, classes, unusable);
    }
}

/// <summary>
/// How far from its prediction an object may be, arcseconds: a base radius (astrometry and the survey's own
/// association radius) plus a drift that grows linearly with the time since the orbit's epoch, at a rate set by the
/// orbit's class, capped. The ISO serendipity search sized its two-body search radius the same way, from the
/// ephemeris uncertainty, and refined with an N-body integration afterwards.
/// </summary>
/// <remarks>
/// The rates are what two-body motion loses against planetary perturbations, measured in tests/Broker.Sso.Tests
/// (ZTF's 2018 and 2023 asteroids against kstars' epoch-59800 elements, and the Horizons positions of the adam_core
/// objects): a main-belt orbit drifts by tens of arcseconds a year, a near-Earth orbit by far more after an
/// encounter. A linear model over-covers short gaps and under-covers secular growth (roughly quadratic in time
/// along-track); the cap bounds the cost of a very old orbit. MPC's uncertainty parameter U would sharpen the
/// base for poorly known orbits; the orbit sources read here do not carry it, so it is not used.
/// </remarks>
/// <param name="BaseArcsec">Radius at the orbit's epoch.</param>
/// <param name="DistantPerDay">Growth for <see cref="OrbitClass.Distant"/>, arcseconds per day of |t − epoch|.</param>
/// <param name="NearEarthPerDay">Growth for <see cref="OrbitClass.NearEarth"/>.</param>
/// <param name="CometaryPerDay">Growth for <see cref="OrbitClass.Cometary"/>.</param>
/// <param name="MaxArcsec">The largest radius, whatever the gap.</param>
public sealed record AssociationRadius(double BaseArcsec, double DistantPerDay, double NearEarthPerDay, double CometaryPerDay, double MaxArcsec)
{
    /// <summary>The radius, arcseconds, for an orbit of class <paramref name="orbitClass"/> used <paramref name="gapDays"/> from its epoch.</summary>
    public double For(OrbitClass orbitClass, double gapDays)
    {
        double rate = orbitClass switch
        {
            OrbitClass.NearEarth => NearEarthPerDay,
            OrbitClass.Cometary => CometaryPerDay,
            _ => DistantPerDay,
        };
        return Math.Min(MaxArcsec, BaseArcsec + rate * Math.Abs(gapDays));
    }
}
