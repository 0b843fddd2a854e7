using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.TestSupport;

namespace Broker.LightCurveClassifier.Tests;

/// <summary>The real alerts of the shared data, read once per test run.</summary>
internal static class RealAlerts
{
    private static readonly Lazy<List<(string Source, Alert Alert)>> ZtfAlerts = new(() => In("ztf/alerts"));
    private static readonly Lazy<List<(string Source, Alert Alert)>> LsstAlerts = new(() => In("lsst/alerts"));

    /// <summary>Every real ZTF alert (627).</summary>
    public static List<(string Source, Alert Alert)> Ztf => ZtfAlerts.Value;

    /// <summary>Every Rubin alert of the shared data (the real LSSTCam ones and the samples).</summary>
    public static List<(string Source, Alert Alert)> Lsst => LsstAlerts.Value;


    private static List<(string, Alert)> In(string folder)
    {
        // Rubin's Confluent-framed samples name their schema by id: the shared data's schema folder resolves it.
        var registry = new FolderSchemaRegistry(SharedData.Path("lsst/schema"));
        var alerts = new List<(string, Alert)>();
        foreach (var m in SurveyFiles.Read([SharedData.Path(folder)], registry))
            alerts.Add((m.Source, SurveyAlertMapper.Map(SurveyMessage.Decode(m.Value, registry))));
        return alerts;
    }
}
