using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Simulation;
using Broker.Sky.Orbits;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Sso.Tests;

/// <summary>
/// Association recall and false matches on simulated nights: the simulator places kstars' asteroids where two-body
/// motion puts them and writes their designations to the truth (issue 12, "Done means").
/// </summary>
public sealed class SimulatedNightTests(ITestOutputHelper output)
{
    [OrbitFilesFact]
    public void On_simulated_nights_broker_finds_the_simulated_asteroids_and_gives_other_alerts_none()
    {
        var catalog = RealAlerts.KStarsCatalog;
        foreach (var survey in new[] { SurveyKind.Ztf, SurveyKind.Lsst })
        {
            var options = new SimulationOptions { Survey = survey, Nights = 1, AlertsPerNight = 4000, Seed = 20261202 };
            var simulated = AlertSimulator.Generate(options).ToList();
            var alerts = simulated.Select(s => SurveyAlertMapper.Map(SurveyMessage.Decode(
                survey == SurveyKind.Ztf ? s.ToPacket(survey) : AvroFiles.SingleRecordContainer(SurveySchemas.Lsst, s.Datum, (ulong)s.AlertId), null))).ToList();
            // The simulator's truth is two-body motion from the same elements, so Broker refines two-body and the
            // radius does not grow with the 890 days since the epoch: the survey's base radius (10" ZTF, 1" Rubin).
            var step = new SsoStep(new SsoOptions { NBody = false, DistantGrowthArcsecPerDay = 0, NearEarthGrowthArcsecPerDay = 0, CometaryGrowthArcsecPerDay = 0 }, catalog);
            step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            var outputs = RealAlerts.Run(step, alerts);
            int asteroids = 0, found = 0, wrong = 0, others = 0, falseMatches = 0;
            var separations = new List<double>();
            for (int i = 0; i < outputs.Count; i++)
            {
                var truth = simulated[i].Truth;
                var s = outputs[i].SolarSystem;
                bool broker = s is { Source: SsoStep.BrokerSource };
                if (truth.Class == ObjectClass.Asteroid)
                {
                    asteroids++;
                    if (!broker) continue;
                    if (Designations.Key(s!.Designation) == Designations.Key(truth.SsDesignation)) { found++; separations.Add(s.DistanceArcsec); }
                    else wrong++;
                }
                else
                {
                    others++;
                    if (broker) falseMatches++;
                }
            }
            separations.Sort();
            double recall = (double)found / asteroids, falseRate = (double)falseMatches / others;
            output.WriteLine($"{survey}: {alerts.Count} alerts, {asteroids} asteroid alerts, {found} associated with their object (recall {recall:P2}), {wrong} with another, " +
                $"{falseMatches} of {others} other alerts given an object (false-match rate {falseRate:P3}); separation median {separations[separations.Count / 2]:F3}\", max {separations[^1]:F3}\"");
            Assert.True(asteroids > 50, $"{survey}: only {asteroids} asteroid alerts simulated");
            Assert.True(recall >= 0.99, $"{survey}: recall {recall:P2}");
            Assert.Equal(0, wrong);
            Assert.True(falseRate <= 0.001, $"{survey}: false-match rate {falseRate:P3}");
        }
    }
}
