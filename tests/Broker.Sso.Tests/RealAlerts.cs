using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Sky.Orbits;
using Broker.TestSupport;

namespace Broker.Sso.Tests;

/// <summary>The real alerts and orbits the association tests read.</summary>
internal static class RealAlerts
{
    private static readonly Lazy<SolarSystemCatalog> KStars = new(() => SolarSystemCatalog.Create([.. SbdbOrbitReader.Read(OrbitFilesFactAttribute.KStarsAsteroids)]));

    /// <summary>kstars-data's 7,099 JPL SBDB orbits (epoch MJD 59800), read once.</summary>
    public static SolarSystemCatalog KStarsCatalog => KStars.Value;

    /// <summary>Every alert in a folder of the shared data, mapped to Broker's model.</summary>
    public static List<Alert> In(string folder)
    {
        var alerts = new List<Alert>();
        foreach (var m in SurveyFiles.Read([SharedData.Path(folder)], null))
            alerts.Add(SurveyAlertMapper.Map(SurveyMessage.Decode(m.Value, null)));
        return alerts;
    }

    /// <summary>Runs a started step over alerts, in one batch, and returns its outputs (failing on a dead letter).</summary>
    public static List<Alert> Run(SsoStep step, IReadOnlyList<Alert> alerts)
    {
        var results = step.ExecuteAsync(alerts, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        var outputs = new List<Alert>(results.Count);
        foreach (var r in results)
        {
            Assert.True(r.Outcome == Broker.StepHost.StepOutcome.Emitted, r.Reason);
            outputs.Add(r.Value!);
        }
        return outputs;
    }
}
