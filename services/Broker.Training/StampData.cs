using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Simulation;
using Broker.StampClassifier;

namespace Broker.Training;

/// <summary>
/// Labelled stamp-classifier examples from the alert simulator: every simulated alert is decoded as the service
/// decodes it (Broker's Avro reader, <see cref="SurveyAlertMapper.Map"/>) and preprocessed by
/// <see cref="StampInput.TryWrite"/>, the service's own code, so training and serving see identical inputs.
/// </summary>
/// <remarks>
/// ALeRCE classifies each object from its first alert (Carrasco-Davis et al. 2021, §2): only the first alert of
/// each simulated object (truth.csv's object_id, in the simulator's time order) is kept; later alerts of the same
/// object are counted as skipped. Alerts StampInput refuses are skipped with its reason.
/// </remarks>
public static class StampData
{
    /// <summary>The Broker survey of a simulated one.</summary>
    public static Survey SurveyOf(SurveyKind kind) => kind == SurveyKind.Ztf ? Survey.Ztf : Survey.Lsst;

    /// <summary>The simulation behind a data set.</summary>
    public static SimulationOptions Options(SurveyKind survey, ulong seed, int alerts) => new()
    {
        Survey = survey,
        Seed = seed,
        Nights = 1,
        AlertsPerNight = alerts,
        Workers = Math.Max(1, Math.Min(2, Environment.ProcessorCount)),
    };

    /// <summary>Simulates about <paramref name="alerts"/> alerts of <paramref name="survey"/> with <paramref name="seed"/> and keeps each object's first.</summary>
    public static StampDataset Simulate(SurveyKind survey, ulong seed, int alerts, CancellationToken cancellationToken = default)
    {
        var options = Options(survey, seed, alerts);
        var broker = SurveyOf(survey);
        var set = new StampDataset(StampInput.Side, StampInput.Channels, StampInput.FeatureNames(broker).Count);
        var reader = AvroDatumReader.For(survey == SurveyKind.Ztf ? SurveySchemas.Ztf : SurveySchemas.Lsst);
        var images = new float[StampInput.ImageLength];
        var features = new float[set.FeatureCount];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var simulated in AlertSimulator.Generate(options, cancellationToken))
        {
            if (!seen.Add(simulated.Truth.ObjectId))
            {
                set.Skip("not the object's first alert");
                continue;
            }
            var record = (AvroRecord)reader.Read(simulated.Datum)!;
            var alert = SurveyAlertMapper.Map(record);
            string? why = StampInput.TryWrite(alert, images, features);
            if (why is not null)
            {
                set.Skip(why);
                continue;
            }
            set.Add(images, features, StampClasses.Of(simulated.Truth.Class));
        }
        return set;
    }
}
