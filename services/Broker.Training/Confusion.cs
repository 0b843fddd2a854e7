using System.Globalization;
using System.Text;

namespace Broker.Training;

/// <summary>A 5 x 5 confusion matrix: rows the true class, columns the predicted one (<see cref="StampClasses.Names"/> order).</summary>
public sealed class Confusion
{
    /// <summary>Counts [true, predicted].</summary>
    public int[,] Counts { get; } = new int[StampClasses.Count, StampClasses.Count];

    /// <summary>The matrix of <paramref name="truth"/> against <paramref name="predicted"/>.</summary>
    public static Confusion Of(IReadOnlyList<int> truth, IReadOnlyList<int> predicted)
    {
        var cm = new Confusion();
        for (int i = 0; i < truth.Count; i++) cm.Counts[truth[i], predicted[i]]++;
        return cm;
    }

    /// <summary>The index of the largest of each row of 5 probabilities.</summary>
    public static int[] ArgMax(ReadOnlySpan<float> probabilities, int n)
    {
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            var row = probabilities.Slice(i * StampClasses.Count, StampClasses.Count);
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
        for (int p = 0; p < StampClasses.Count; p++) s += Counts[c, p];
        return s;
    }

    /// <summary>All examples.</summary>
    public int Total
    {
        get
        {
            int s = 0;
            for (int c = 0; c < StampClasses.Count; c++) s += Support(c);
            return s;
        }
    }

    /// <summary>Fraction classified right.</summary>
    public double Accuracy
    {
        get
        {
            int right = 0;
            for (int c = 0; c < StampClasses.Count; c++) right += Counts[c, c];
            return Total == 0 ? double.NaN : (double)right / Total;
        }
    }

    /// <summary>Recall of class <paramref name="c"/> (NaN without examples).</summary>
    public double Recall(int c) => Support(c) == 0 ? double.NaN : (double)Counts[c, c] / Support(c);

    /// <summary>Mean recall over the classes that have examples (the accuracy on a balanced set).</summary>
    public double BalancedAccuracy
    {
        get
        {
            var recalls = Enumerable.Range(0, StampClasses.Count).Where(c => Support(c) > 0).Select(Recall).ToList();
            return recalls.Count == 0 ? double.NaN : recalls.Average();
        }
    }

    /// <summary>The matrix as a Markdown table, with each row's recall.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("| true \\ predicted |");
        foreach (var n in StampClasses.Names) sb.Append(' ').Append(n).Append(" |");
        sb.AppendLine(" recall |");
        sb.Append("|---|");
        foreach (var _ in StampClasses.Names) sb.Append("---:|");
        sb.AppendLine("---:|");
        for (int c = 0; c < StampClasses.Count; c++)
        {
            sb.Append("| ").Append(StampClasses.Names[c]).Append(" |");
            for (int p = 0; p < StampClasses.Count; p++) sb.Append(' ').Append(Counts[c, p].ToString(CultureInfo.InvariantCulture)).Append(" |");
            double r = Recall(c);
            sb.Append(' ').Append(double.IsNaN(r) ? "-" : r.ToString("F3", CultureInfo.InvariantCulture)).AppendLine(" |");
        }
        return sb.ToString();
    }
}
