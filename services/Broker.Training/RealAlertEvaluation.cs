using System.Globalization;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.StampClassifier;

namespace Broker.Training;

/// <summary>What the ZTF model does on the real alerts of ../shared/data (evaluation only: never trained, stopped or selected on).</summary>
/// <param name="AsteroidAlerts">Real ZTF alerts with a known solar-system object (candidate.ssnamenr not null).</param>
/// <param name="AsteroidClassified">Of those, alerts StampInput could prepare.</param>
/// <param name="AsteroidFound">Of those, alerts whose top class is asteroid.</param>
/// <param name="AsteroidPredictions">Top classes of the classified ones, by class.</param>
/// <param name="BraaiAlerts">Real alerts whose drbversion is d6_m7.</param>
/// <param name="BraaiClassified">Of those, alerts StampInput could prepare.</param>
/// <param name="BraaiAgree">Of those, alerts where "top class bogus" equals "braai drb &lt; 0.5".</param>
/// <param name="BraaiBogusBoth">Bogus by both.</param>
/// <param name="BraaiBogusOnlyBraai">Bogus by braai only.</param>
/// <param name="BraaiBogusOnlyBroker">Bogus by Broker only.</param>
/// <param name="NotClassified">Reasons StampInput gave, over both sets.</param>
/// <param name="OnlyBrokerBogusBy">The "bogus by Broker only" alerts by sign of the subtraction and source folder, to read the disagreement.</param>
public sealed record RealAlertReport(
    int AsteroidAlerts, int AsteroidClassified, int AsteroidFound, IReadOnlyDictionary<string, int> AsteroidPredictions,
    int BraaiAlerts, int BraaiClassified, int BraaiAgree, int BraaiBogusBoth, int BraaiBogusOnlyBraai, int BraaiBogusOnlyBroker,
    IReadOnlyDictionary<string, int> NotClassified, IReadOnlyDictionary<string, int> OnlyBrokerBogusBy)
{
    /// <summary>Asteroid recall over the classified alerts with a known ssnamenr.</summary>
    public double AsteroidRecall => AsteroidClassified == 0 ? double.NaN : (double)AsteroidFound / AsteroidClassified;

    /// <summary>Agreement with braai on bogus / not bogus.</summary>
    public double BraaiAgreement => BraaiClassified == 0 ? double.NaN : (double)BraaiAgree / BraaiClassified;

    /// <summary>The figures as text.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"real ZTF alerts with a known ssnamenr: {AsteroidAlerts}, classified {AsteroidClassified}, top class asteroid {AsteroidFound}: recall {AsteroidRecall:F3} " +
        $"(top classes: {string.Join(", ", AsteroidPredictions.Select(kv => kv.Key + " " + kv.Value))})\n" +
        $"real d6_m7 alerts: {BraaiAlerts}, classified {BraaiClassified}; agreement with braai (drb < 0.5 = bogus) {BraaiAgree}/{BraaiClassified} = {BraaiAgreement:F3} " +
        $"(bogus by both {BraaiBogusBoth}, braai only {BraaiBogusOnlyBraai}, Broker only {BraaiBogusOnlyBroker})\n" +
        $"bogus by Broker only, by isdiffpos and folder: {string.Join(", ", OnlyBrokerBogusBy.Select(kv => kv.Key + " " + kv.Value))}\n" +
        $"not classified: {(NotClassified.Count == 0 ? "none" : string.Join("; ", NotClassified.Select(kv => kv.Key + " x" + kv.Value)))}");

    /// <summary>Runs the ZTF model <paramref name="onnxPath"/> on every real ZTF alert under <paramref name="sharedData"/>/ztf/alerts.</summary>
    public static RealAlertReport Evaluate(string onnxPath, string sharedData)
    {
        var names = StampInput.FeatureNames(Survey.Ztf);
        var asteroidImages = new List<float>();
        var asteroidFeatures = new List<float>();
        var braaiImages = new List<float>();
        var braaiFeatures = new List<float>();
        var braaiScores = new List<double>();
        var braaiKeys = new List<string>();
        int asteroids = 0, braai = 0;
        var notClassified = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var images = new float[StampInput.ImageLength];
        var features = new float[names.Count];
        foreach (var item in new AlertFileReader(null).Read([Path.Combine(sharedData, "ztf", "alerts")]))
        {
            if (!item.Ok) throw new InvalidDataException($"{item.Source}: {item.Error}");
            var alert = SurveyAlertMapper.Map(item.Record!);
            bool asteroid = alert.SurveyFields.TryGetValue("candidate.ssnamenr", out var ss) && ss is string s && s.Length > 0 && s != "null";
            bool d6m7 = alert.SurveyFields.TryGetValue("candidate.drbversion", out var version) && version as string == "d6_m7";
            if (!asteroid && !d6m7) continue;
            if (asteroid) asteroids++;
            if (d6m7) braai++;
            string? why = StampInput.TryWrite(alert, images, features);
            if (why is not null)
            {
                notClassified[why] = notClassified.GetValueOrDefault(why) + 1;
                continue;
            }
            if (asteroid)
            {
                asteroidImages.AddRange(images);
                asteroidFeatures.AddRange(features);
            }
            if (d6m7)
            {
                braaiImages.AddRange(images);
                braaiFeatures.AddRange(features);
                braaiScores.Add(Convert.ToDouble(alert.SurveyFields["candidate.drb"], CultureInfo.InvariantCulture));
                string folder = Path.GetRelativePath(Path.Combine(sharedData, "ztf", "alerts"), item.Source).Split('/', '\\')[0];
                braaiKeys.Add((alert.IsPositive ? "positive" : "negative") + " " + folder);
            }
        }
        using var runner = new StampOnnxRunner(onnxPath);
        int na = asteroidImages.Count / StampInput.ImageLength, nb = braaiScores.Count;
        var pa = Confusion.ArgMax(runner.Run(asteroidImages.ToArray(), asteroidFeatures.ToArray(), na, StampInput.Side, StampInput.Channels, names.Count), na);
        var pb = Confusion.ArgMax(runner.Run(braaiImages.ToArray(), braaiFeatures.ToArray(), nb, StampInput.Side, StampInput.Channels, names.Count), nb);
        var predictions = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in pa) predictions[StampClasses.Names[p]] = predictions.GetValueOrDefault(StampClasses.Names[p]) + 1;
        int agree = 0, both = 0, onlyBraai = 0, onlyBroker = 0;
        var onlyBrokerBy = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < nb; i++)
        {
            bool braaiBogus = braaiScores[i] < 0.5, brokerBogus = pb[i] == StampClasses.Bogus;
            if (braaiBogus == brokerBogus) agree++;
            if (braaiBogus && brokerBogus) both++;
            else if (braaiBogus) onlyBraai++;
            else if (brokerBogus)
            {
                onlyBroker++;
                onlyBrokerBy[braaiKeys[i]] = onlyBrokerBy.GetValueOrDefault(braaiKeys[i]) + 1;
            }
        }
        return new RealAlertReport(asteroids, na, pa.Count(p => p == StampClasses.Asteroid), predictions, braai, nb, agree, both, onlyBraai, onlyBroker, notClassified, onlyBrokerBy);
    }
}
