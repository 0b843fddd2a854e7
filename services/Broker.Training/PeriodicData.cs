using Broker.LightCurves;
using Broker.Simulation;

namespace Broker.Training;

/// <summary>ALeRCE's six periodic classes in the CNN's output order (<see cref="PeriodicCnnManifest.ExpectedClasses"/>).</summary>
public static class PeriodicClasses
{
    /// <summary>The classes in output order: LPV, E, DSCT, RRL, CEP, Periodic-Other.</summary>
    public static IReadOnlyList<string> Names => PeriodicCnnManifest.ExpectedClasses;

    /// <summary>How many.</summary>
    public const int Count = 6;

    /// <summary>The index of an ALeRCE class name, or -1 when it is not periodic.</summary>
    public static int IndexOf(string label)
    {
        for (int i = 0; i < Names.Count; i++) if (Names[i] == label) return i;
        return -1;
    }
}

/// <summary>
/// One set of periodic-CNN examples: the inputs as <see cref="PhaseFoldedImage.TryWrite"/> writes them (the serving
/// code), the labelled alerts they come from (so another classifier can be scored on the same objects), and the
/// period each was folded at.
/// </summary>
public sealed class PeriodicSet
{
    /// <summary>The examples (labels index <see cref="PeriodicClasses.Names"/>).</summary>
    public StampDataset Data { get; } = new(PhaseFoldedImage.DefaultSide, PhaseFoldedImage.Channels, PhaseFoldedImage.ScalarCount, PeriodicClasses.Count);

    /// <summary>The labelled alert behind each example, in example order.</summary>
    public List<LabelledAlert> Alerts { get; } = [];

    /// <summary>The period (days) each example was folded at.</summary>
    public List<double> Periods { get; } = [];

    /// <summary>Examples.</summary>
    public int Count => Data.Count;
}

/// <summary>
/// Labelled periodic-variable examples from the simulator's labelled light curves (<see cref="LabelledLightCurves"/>:
/// objects of the six periodic classes observed with the survey's cadence and noise and delivered as the alert a
/// broker receives, with the history the survey ships). Each alert goes through the serving path: LightCurve.Load,
/// then <see cref="PhaseFoldedInputs.TryWrite"/> (the period search on the g and r fluxes and the drawing), as
/// <see cref="PeriodicCnnBatch"/> does in the step. Alerts it refuses are counted by reason.
/// </summary>
public static class PeriodicData
{
    /// <summary>The generator options of one set.</summary>
    /// <param name="survey">The survey.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="perClass">Objects per periodic class.</param>
    /// <param name="historyDays">Days of history each alert carries; null for the survey's own (ZTF 30, Rubin 365).</param>
    public static LabelledLightCurveOptions Options(SurveyKind survey, ulong seed, int perClass, int? historyDays = null) => new()
    {
        Survey = survey,
        Seed = seed,
        HistoryDays = historyDays,
        Counts = PeriodicClasses.Names.ToDictionary(n => n, _ => perClass, StringComparer.Ordinal),
        Workers = Math.Max(1, Math.Min(2, Environment.ProcessorCount)),
    };

    /// <summary>Simulates <paramref name="perClass"/> objects of each periodic class with <paramref name="seed"/> and prepares them.</summary>
    public static PeriodicSet Simulate(SurveyKind survey, ulong seed, int perClass, int? historyDays = null, CancellationToken cancellationToken = default) =>
        Prepare(new LabelledLightCurves(Options(survey, seed, perClass, historyDays)).Generate(cancellationToken));

    /// <summary>Prepares labelled alerts of the periodic classes (others are skipped and counted).</summary>
    public static PeriodicSet Prepare(IEnumerable<LabelledAlert> alerts)
    {
        var set = new PeriodicSet();
        var inputs = new PhaseFoldedInputs();
        var lc = new LightCurve();
        var image = new float[set.Data.ImageLength];
        var scalars = new float[set.Data.FeatureCount];
        foreach (var labelled in alerts)
        {
            int label = PeriodicClasses.IndexOf(labelled.Label);
            if (label < 0)
            {
                set.Data.Skip("not a periodic class");
                continue;
            }
            lc.Load(labelled.Alert);
            string? why = inputs.TryWrite(lc, image, scalars);
            if (why is not null)
            {
                set.Data.Skip(why);
                continue;
            }
            set.Data.Add(image, scalars, label);
            set.Alerts.Add(labelled);
            set.Periods.Add(inputs.LastPeriod);
        }
        return set;
    }

    /// <summary>The simulated true period of a labelled object (its <c>period_d=</c> parameter), days, or NaN.</summary>
    public static double TruePeriod(string parameters)
    {
        foreach (var part in parameters.Split(';'))
        {
            if (part.StartsWith("period_d=", StringComparison.Ordinal)
                && double.TryParse(part.AsSpan("period_d=".Length), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double p))
                return p;
        }
        return double.NaN;
    }

    /// <summary>
    /// How well the period search found the simulated period, per class: the fraction of objects whose folding
    /// period is within 1% of the true one, and the fraction within 1% of half or twice it (an eclipsing binary with
    /// two similar eclipses folds at half its period; a sinusoid's harmonics at twice).
    /// </summary>
    public static (double[] Exact, double[] HalfOrDouble) PeriodRecovery(PeriodicSet set)
    {
        var exact = new double[PeriodicClasses.Count];
        var alias = new double[PeriodicClasses.Count];
        var n = new int[PeriodicClasses.Count];
        for (int i = 0; i < set.Count; i++)
        {
            int c = set.Data.Labels[i];
            double truth = TruePeriod(set.Alerts[i].Parameters), found = set.Periods[i];
            n[c]++;
            if (!double.IsFinite(truth)) continue;
            if (Math.Abs(found / truth - 1) < 0.01) exact[c]++;
            else if (Math.Abs(2 * found / truth - 1) < 0.01 || Math.Abs(found / (2 * truth) - 1) < 0.01) alias[c]++;
        }
        for (int c = 0; c < n.Length; c++)
        {
            exact[c] = n[c] == 0 ? double.NaN : exact[c] / n[c];
            alias[c] = n[c] == 0 ? double.NaN : alias[c] / n[c];
        }
        return (exact, alias);
    }

    /// <summary>Examples per class, e.g. "6000 (LPV 1000, E 1000, ...)".</summary>
    public static string Counts(PeriodicSet set)
    {
        var c = set.Data.ClassCounts();
        return $"{set.Count} ({string.Join(", ", PeriodicClasses.Names.Select((n, i) => $"{n} {c[i]}"))})";
    }
}
