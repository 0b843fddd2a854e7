using Broker.Sky.Orbits;
using Xunit;

namespace Broker.Sky.Tests;

/// <summary>The N-body integrator's own properties: reversibility, the Kepler limit, cached states equal fresh ones.</summary>
public sealed class NBodyMotionTests
{
    private static readonly OrbitState Ceres = new CometaryElements(2.5535, 0.0785, 10.59, 80.25, 73.30, 60000 - 120, 60200).StateAtEpoch();
    private static readonly OrbitState NearEarth = new CometaryElements(0.95, 0.45, 6.0, 40.0, 300.0, 60180, 60200).StateAtEpoch();

    private static double Distance(OrbitState a, OrbitState b) => Math.Sqrt(Math.Pow(a.X - b.X, 2) + Math.Pow(a.Y - b.Y, 2) + Math.Pow(a.Z - b.Z, 2));

    [EphemerisFact(NeedsSharedData = false)]
    public void Integrating_ten_years_forward_then_back_returns_the_starting_state()
    {
        foreach (var start in new[] { Ceres, NearEarth })
        {
            var there = new NBodyMotion(start).StateAt(start.MjdTdb + 3652.5);
            var back = new NBodyMotion(there).StateAt(start.MjdTdb);
            // 1e-8 au is 0.002" at 1 au after twenty years of integration.
            Assert.True(Distance(back, start) < 1e-8, $"{Distance(back, start):E2} au");
        }
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void Over_a_day_the_planets_move_a_main_belt_orbit_by_far_less_than_over_a_year_and_two_body_motion_is_the_limit()
    {
        var nbody = new NBodyMotion(Ceres, new NBodyOptions(GeneralRelativity: false));
        var kepler = new TwoBodyMotion(Ceres);
        double day = Distance(nbody.StateAt(Ceres.MjdTdb + 1), kepler.StateAt(Ceres.MjdTdb + 1));
        double year = Distance(nbody.StateAt(Ceres.MjdTdb + 365), kepler.StateAt(Ceres.MjdTdb + 365));
        // Jupiter's perturbing acceleration on Ceres, ~3e-8 au/day², gives ½ a t²: ~1e-8 au in a day, ~1e-3 au in a year.
        Assert.InRange(day, 1e-10, 1e-7);
        Assert.InRange(year, 1e-5, 1e-2);
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void States_read_from_the_kept_steps_equal_those_of_a_fresh_integration_forward_and_backward()
    {
        var warmed = new NBodyMotion(NearEarth);
        var night = Enumerable.Range(0, 50).Select(i => NearEarth.MjdTdb - 400 + i * 0.01).ToArray();
        var states = night.Select(warmed.StateAt).ToArray();
        _ = warmed.StateAt(NearEarth.MjdTdb + 700);
        int steps = warmed.StepCount;
        for (int i = 0; i < night.Length; i += 7)
        {
            var fresh = new NBodyMotion(NearEarth).StateAt(night[i]);
            Assert.True(Distance(fresh, states[i]) < 1e-10, $"{Distance(fresh, states[i]):E2} au");
            Assert.True(Distance(warmed.StateAt(night[i]), states[i]) == 0);
        }
        Assert.Equal(steps, warmed.StepCount);
        Assert.Equal(NearEarth, warmed.StateAt(NearEarth.MjdTdb));
    }

    [Fact]
    public void A_state_at_the_sun_or_not_finite_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new NBodyMotion(new OrbitState(0, 0, 0, 0, 0.01, 0, 60000), new NBodyOptions(Planets: null)));
        Assert.Throws<ArgumentException>(() => new NBodyMotion(new OrbitState(double.NaN, 1, 0, 0, 0.01, 0, 60000)));
    }
}
