using System.Globalization;
using System.Text;

namespace Broker.Training;

/// <summary>
/// A confusion matrix: rows the true class, columns the predicted one, in the order of <see cref="Names"/> (the stamp
/// classifier's five <see cref="StampClasses.Names"/> unless other classes are given).
/// </summary>
public sealed class Confusion
{
    /// <summary>A matrix of the stamp classes.</summary>
    public Confusion() : this(StampClasses.Names) { }

    /// <summary>A matrix of <paramref name="names"/>.</summary>
    public Confusion(IReadOnlyList<string> names)
    {
        Names = names;
        Counts = new int[names.Count, names.Count];
    }

    /// <summary>The class names, in index order.</summary>
    public IReadOnlyList<string> Names { get; }

    private int ClassCount => Names.Count;

    /// <summary>Counts [true, predicted].</summary>
    public int[,] Counts { get; }

    /// <summary>The stamp-class matrix of <paramref name="truth"/> against <paramref name="predicted"/>.</summary>
    public static Confusion Of(IReadOnlyList<int> truth, IReadOnlyList<int> predicted) => Of(StampClasses.Names, truth, predicted);

    /// <summary>The matrix of <paramref name="truth"/> against <paramref name="predicted"/> over <paramref name="names"/>.</summary>
    public static Confusion Of(IReadOnlyList<string> names, IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        var cm = new Confusion(names);
        for (int i = 0; i < truth.Count; i++) cm.Counts[truth[i], predicted[i]]++;
        return cm;
    }

    /// <summary>The index of the largest of each row of <paramref name="classes"/> probabilities (5, the stamp classes, by default).</summary>
    public static int[] ArgMax(ReadOnlySpan<float> probabilities, int n, int classes = StampClasses.Count)
    {
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            var row = probabilities.Slice(i * classes, classes);
            int best = 0;
            for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
            result[i] = best;
        }
        return result;
    }

    /// <summary>Examples of class <paramref name="c"/>.</summary>
    public int Support(int c)
    {
        int s = 0;
        for (int p = 0; p < ClassCount; p++) s += Counts[c, p];
        return s;
    }

    /// <summary>Examples predicted as class <paramref name="p"/>.</summary>
    public int Predicted(int p)
    {
        int s = 0;
        for (int c = 0; c < ClassCount; c++) s += Counts[c, p];
        return s;
    }

    /// <summary>All examples.</summary>
    public int Total
    {
        get
        {
            int s = 0;
            for (int c = 0; c < ClassCount; c++) s += Support(c);
            return s;
        }
    }

    /// <summary>Fraction classified right.</summary>
    public double Accuracy
    {
        get
        {
            int right = 0;
            for (int c = 0; c < ClassCount; c++) right += Counts[c, c];
            return Total == 0 ? double.NaN : (double)right / Total;
        }
    }

    /// <summary>Recall of class <paramref name="c"/> (NaN without examples).</summary>
    public double Recall(int c) => Support(c) == 0 ? double.NaN : (double)Counts[c, c] / Support(c);

    /// <summary>Precision of class <paramref name="c"/> (NaN when nothing is predicted as it).</summary>
    public double Precision(int c) => Predicted(c) == 0 ? double.NaN : (double)Counts[c, c] / Predicted(c);

    /// <summary>Mean precision over the classes that have examples (a class with examples that is never predicted counts 0).</summary>
    public double MacroPrecision
    {
        get
        {
            var values = Enumerable.Range(0, ClassCount).Where(c => Support(c) > 0).Select(c => Predicted(c) == 0 ? 0 : Precision(c)).ToList();
            return values.Count == 0 ? double.NaN : values.Average();
        }
    }

    /// <summary>Mean recall over the classes that have examples (the accuracy on a balanced set).</summary>
    public double BalancedAccuracy
    {
        get
        {
            var recalls = Enumerable.Range(0, ClassCount).Where(c => Support(c) > 0).Select(Recall).ToList();
            return recalls.Count == 0 ? double.NaN : recalls.Average();
        }
    }

    /// <summary>The matrix as a Markdown table, with each row's recall (and, with <paramref name="withPrecision"/>, a last row of each column's precision).</summary>
    public string ToMarkdown(bool withPrecision = false)
    {
        var sb = new StringBuilder();
        sb.Append("| true \\ predicted |");
        foreach (var n in Names) sb.Append(' ').Append(n).Append(" |");
        sb.AppendLine(" recall |");
        sb.Append("|---|");
        foreach (var _ in Names) sb.Append("---:|");
        sb.AppendLine("---:|");
        for (int c = 0; c < ClassCount; c++)
        {
            sb.Append("| ").Append(Names[c]).Append(" |");
            for (int p = 0; p < ClassCount; p++) sb.Append(' ').Append(Counts[c, p].ToString(CultureInfo.InvariantCulture)).Append(" |");
            double r = Recall(c);
            sb.Append(' ').Append(double.IsNaN(r) ? "-" : r.ToString("F3", CultureInfo.InvariantCulture)).AppendLine(" |");
        }
        if (withPrecision)
        {
            sb.Append("| precision |");
            for (int p = 0; p < ClassCount; p++)
            {
                double v = Precision(p);
                sb.Append(' ').Append(double.IsNaN(v) ? "-" : v.ToString("F3", CultureInfo.InvariantCulture)).Append(" |");
            }
            sb.AppendLine(" |");
        }
        return sb.ToString();
    }
}
