using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Simulation;
using Broker.StampClassifier;
using Broker.TestSupport;

namespace Broker.Training.Tests;

/// <summary>Small data sets shared by the tests (simulated once per test run).</summary>
internal static class TrainingData
{
    private static readonly Lazy<StampDataset> ZtfSmall = new(() => StampData.Simulate(SurveyKind.Ztf, 31, 2500));
    private static readonly Lazy<StampDataset> LsstSmall = new(() => StampData.Simulate(SurveyKind.Lsst, 31, 2500));

    /// <summary>About 1,500 first alerts of a simulated ZTF night.</summary>
    public static StampDataset Ztf => ZtfSmall.Value;

    /// <summary>About 1,500 first alerts of a simulated Rubin night.</summary>
    public static StampDataset Lsst => LsstSmall.Value;

    /// <summary>The real ZTF alerts of ../shared/data that StampInput prepares (label 0: the tests need only the inputs).</summary>
    public static StampDataset RealZtf()
    {
        var set = new StampDataset(StampInput.Side, StampInput.Channels, StampInput.FeatureNames(Survey.Ztf).Count);
        var images = new float[StampInput.ImageLength];
        var features = new float[set.FeatureCount];
        foreach (var item in new AlertFileReader(null).Read([SharedData.Path("ztf/alerts")]))
        {
            var alert = SurveyAlertMapper.Map(item.Record!);
            if (StampInput.TryWrite(alert, images, features) is null) set.Add(images, features, 0);
        }
        return set;
    }
}
