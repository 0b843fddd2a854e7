using System.Globalization;
using System.Text;
using Broker.Alerts.Model;

namespace Broker.Training;

/// <summary>
/// The periodic CNN against another light-curve classifier (the forest's <c>lightcurve</c> classification) on the
/// same test objects, restricted to periodic truth (issue 14: "whether it beats the forest on the periodic classes,
/// per class"). The other classifier may answer any of the fifteen ALeRCE classes, or nothing; an answer outside the
/// six periodic classes counts against its recall and is left out of every column's precision.
/// </summary>
public static class PeriodicComparison
{
    /// <summary>The comparison's figures.</summary>
    /// <param name="Cnn">The CNN's matrix on the test objects.</param>
    /// <param name="Other">The other classifier's matrix over the six periodic classes (answers outside them dropped).</param>
    /// <param name="OtherRecall">The other classifier's recall per class, every object of the class counted (answers outside the six are misses).</param>
    /// <param name="OutsidePeriodic">Objects of each class the other classifier put outside the six periodic classes (or did not classify).</param>
    public sealed record Result(Confusion Cnn, Confusion Other, double[] OtherRecall, int[] OutsidePeriodic);

    /// <summary>Scores <paramref name="other"/> (an alert's predicted ALeRCE class, null when it does not classify it) on <paramref name="test"/> beside the CNN's <paramref name="cnnProbabilities"/>.</summary>
    public static Result Run(PeriodicSet test, float[] cnnProbabilities, Func<Alert, string?> other)
    {
        var cnn = Confusion.Of(PeriodicClasses.Names, test.Data.Labels, Confusion.ArgMax(cnnProbabilities, test.Count, PeriodicClasses.Count));
        var inside = new Confusion(PeriodicClasses.Names);
        var outside = new int[PeriodicClasses.Count];
        var support = new int[PeriodicClasses.Count];
        for (int i = 0; i < test.Count; i++)
        {
            int truth = test.Data.Labels[i];
            support[truth]++;
            string? answer = other(test.Alerts[i].Alert);
            int predicted = answer is null ? -1 : PeriodicClasses.IndexOf(answer);
            if (predicted < 0) outside[truth]++;
            else inside.Counts[truth, predicted]++;
        }
        var recall = new double[PeriodicClasses.Count];
        for (int c = 0; c < recall.Length; c++) recall[c] = support[c] == 0 ? double.NaN : (double)inside.Counts[c, c] / support[c];
        return new Result(cnn, inside, recall, outside);
    }

    /// <summary>The per-class table: recall and precision of each, and which is higher.</summary>
    public static string ToMarkdown(Result r, string otherName)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| class | objects | CNN recall | {otherName} recall | CNN precision | {otherName} precision | {otherName} outside the periodic classes | higher recall |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
        for (int c = 0; c < PeriodicClasses.Count; c++)
        {
            double cr = r.Cnn.Recall(c), or = r.OtherRecall[c];
            string better = double.IsNaN(cr) || double.IsNaN(or) ? "-" : cr > or ? "CNN" : cr < or ? otherName : "tie";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {PeriodicClasses.Names[c]} | {r.Cnn.Support(c)} | {F(cr)} | {F(or)} | {F(r.Cnn.Precision(c))} | {F(r.Other.Precision(c))} | {r.OutsidePeriodic[c]} | {better} |");
        }
        double otherMacro = r.OtherRecall.Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Average();
        sb.AppendLine(CultureInfo.InvariantCulture, $"| macro | {r.Cnn.Total} | {F(r.Cnn.BalancedAccuracy)} | {F(otherMacro)} | {F(r.Cnn.MacroPrecision)} | {F(r.Other.MacroPrecision)} | {r.OutsidePeriodic.Sum()} | |");
        return sb.ToString();
    }

    private static string F(double v) => double.IsNaN(v) ? "-" : v.ToString("F3", CultureInfo.InvariantCulture);
}
