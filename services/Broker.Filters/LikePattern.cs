namespace Broker.Filters;

/// <summary>
/// A compiled SQL <c>like</c> pattern: <c>%</c> matches any run of characters (also none), <c>_</c> exactly one,
/// every other character itself (case-sensitive, ordinal). Matching never backtracks: the pattern is split at
/// <c>%</c> into segments, the first anchored at the start, the last at the end, and each middle one taken at its
/// leftmost occurrence after the previous (leftmost is always safe, as anything a later occurrence could match
/// after it, the earlier one can too). The cost is at most text length × pattern length character comparisons, so
/// the bounded pattern length (<see cref="FilterLimits.MaxLikePatternLength"/>) bounds it linearly in the text; a
/// pattern such as <c>%a%a%a%a%b</c>, exponential for a backtracking matcher, costs the same as any other.
/// </summary>
public sealed class LikePattern
{
    private readonly string[] _segments;
    private readonly int _minLength;

    /// <summary>Compiles <paramref name="pattern"/>.</summary>
    public LikePattern(string pattern)
    {
        Pattern = pattern;
        _segments = pattern.Split('%');
        foreach (var s in _segments) _minLength += s.Length;
    }

    /// <summary>The pattern's text.</summary>
    public string Pattern { get; }

    /// <summary>Whether <paramref name="text"/> matches the whole pattern.</summary>
    public bool IsMatch(string text)
    {
        if (text.Length < _minLength) return false;
        var segs = _segments;
        if (segs.Length == 1) return text.Length == segs[0].Length && SegmentAt(text, 0, segs[0]);
        // First segment anchored at the start, last at the end.
        string first = segs[0], last = segs[^1];
        if (!SegmentAt(text, 0, first)) return false;
        int endStart = text.Length - last.Length;
        if (!SegmentAt(text, endStart, last)) return false;
        int pos = first.Length;
        for (int k = 1; k < segs.Length - 1; k++)
        {
            string s = segs[k];
            if (s.Length == 0) continue;
            int found = -1;
            for (int i = pos; i + s.Length <= endStart; i++)
            {
                if (SegmentAt(text, i, s)) { found = i; break; }
            }
            if (found < 0) return false;
            pos = found + s.Length;
        }
        return pos <= endStart;
    }

    private static bool SegmentAt(string text, int at, string segment)
    {
        if (at < 0 || at + segment.Length > text.Length) return false;
        for (int j = 0; j < segment.Length; j++)
        {
            char p = segment[j];
            if (p != '_' && p != text[at + j]) return false;
        }
        return true;
    }
}
