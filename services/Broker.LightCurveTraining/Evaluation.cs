using System.Globalization;
using System.Text;
using Broker.Alerts.Model;
using Broker.LightCurveClassifier;
using Broker.LightCurves;

namespace Broker.LightCurveTraining;

/// <summary>Feature rows of alerts, computed as the service computes them (LightCurve.Load, <see cref="LightCurveInput.Write"/>).</summary>
public static class Featurizer
{
    /// <summary>
    /// The rows of <paramref name="alerts"/> in order, computed by <paramref name="workers"/> threads, each with its own
    /// light curve and feature workspace (the rows do not depend on the worker count). An alert the service would not
    /// classify (<see cref="LightCurveInput.Eligibility"/>) gets its reason in <c>Reasons</c>.
    /// </summary>
    public static (float[] Rows, string?[] Reasons) Rows(IReadOnlyList<Alert> alerts, FeatureBands layout, int workers)
    {
        int f = LightCurveFeatures.NamesFor(layout).Count;
        var rows = new float[alerts.Count * f];
        var reasons = new string?[alerts.Count];
        Parallel.For(0, alerts.Count, new ParallelOptions { MaxDegreeOfParallelism = workers },
            () => (Lc: new LightCurve(), Features: new LightCurveFeatures(layout), Scratch: new double[f]),
            (i, _, ws) =>
            {
                ws.Lc.Load(alerts[i]);
                reasons[i] = LightCurveInput.Eligibility(ws.Lc);
                LightCurveInput.Write(ws.Lc, ws.Features, ws.Scratch, rows.AsSpan(i * f, f));
                return ws;
            },
            _ => { });
        return (rows, reasons);
    }
}

/// <summary>A confusion matrix and its macro precision and recall.</summary>
public sealed class Confusion
{
    /// <summary>An empty matrix over <paramref name="classes"/>.</summary>
    public Confusion(IReadOnlyList<string> classes)
    {
        Classes = classes;
        Counts = new int[classes.Count][];
        for (int i = 0; i < classes.Count; i++) Counts[i] = new int[classes.Count];
    }

    /// <summary>The classes, rows (true) and columns (predicted) in this order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Counts[true][predicted].</summary>
    public int[][] Counts { get; }

    /// <summary>Adds one prediction.</summary>
    public void Add(int truth, int predicted) => Counts[truth][predicted]++;

    /// <summary>Rows counted.</summary>
    public int Total => Counts.Sum(r => r.Sum());

    /// <summary>Fraction on the diagonal.</summary>
    public double Accuracy => Total == 0 ? double.NaN : (double)Enumerable.Range(0, Classes.Count).Sum(i => Counts[i][i]) / Total;

    /// <summary>Recall of class <paramref name="c"/>: TP / (TP + FN); NaN when it has no rows.</summary>
    public double Recall(int c)
    {
        int n = Counts[c].Sum();
        return n == 0 ? double.NaN : (double)Counts[c][c] / n;
    }

    /// <summary>Precision of class <paramref name="c"/>: TP / (TP + FP); 0 when it is never predicted (scikit-learn's zero_division=0).</summary>
    public double Precision(int c)
    {
        int n = Enumerable.Range(0, Classes.Count).Sum(t => Counts[t][c]);
        return n == 0 ? 0 : (double)Counts[c][c] / n;
    }

    /// <summary>Mean precision over the classes that have rows.</summary>
    public double MacroPrecision => Present().Average(Precision);

    /// <summary>Mean recall over the classes that have rows.</summary>
    public double MacroRecall => Present().Average(Recall);

    private IEnumerable<int> Present() => Enumerable.Range(0, Classes.Count).Where(c => Counts[c].Sum() > 0);

    /// <summary>The matrix as a Markdown table with per-class recall and precision.</summary>
    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.Append("| true \\ predicted | ").AppendJoin(" | ", Classes).Append(" | recall |\n|---|");
        foreach (var _ in Classes) sb.Append("---:|");
        sb.Append("---:|\n");
        for (int t = 0; t < Classes.Count; t++)
        {
            sb.Append("| ").Append(Classes[t]).Append(" | ").AppendJoin(" | ", Counts[t]).Append(" | ").Append(F(Recall(t))).Append(" |\n");
        }
        sb.Append("| precision | ").AppendJoin(" | ", Enumerable.Range(0, Classes.Count).Select(c => F(Precision(c)))).Append(" | |\n");
        return sb.ToString();
    }

    /// <summary>A number with two decimals, invariant.</summary>
    public static string F(double x) => double.IsNaN(x) ? "-" : x.ToString("F2", CultureInfo.InvariantCulture);
}

/// <summary>The hierarchy's predictions on a table, at both levels.</summary>
public sealed record HierarchyScores(float[] Top, float[] Classes, int Count)
{
    /// <summary>Argmax of a row.</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
            if (row[i] > row[best]) best = i;
        return best;
    }

    /// <summary>Confusion matrices at the top level and over the fifteen classes for true labels <paramref name="labels"/> (class indices).</summary>
    public (Confusion Top, Confusion Bottom) Confusions(int[] labels)
    {
        var top = new Confusion(LightCurveModelManifest.ExpectedTopClasses);
        var bottom = new Confusion(LightCurveModelManifest.ExpectedClasses);
        int nt = top.Classes.Count, nc = bottom.Classes.Count;
        for (int i = 0; i < Count; i++)
        {
            int c = labels[i];
            top.Add(TrainingData.GroupOf(c), ArgMax(Top.AsSpan(i * nt, nt)));
            bottom.Add(c, ArgMax(Classes.AsSpan(i * nc, nc)));
        }
        return (top, bottom);
    }
}
