using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// What the light-curve functions need from an alert's history, per band, in one pass: detections (this alert
/// included), the first detection's time, the brightest magnitude, the latest two detections with magnitudes, and the
/// previous non-detections. Built at most once per alert and row (<see cref="AlertRow.LightCurve"/>), so a hundred
/// filters calling <c>ndet('g')</c> or <c>rise_rate('r')</c> cost one pass over the history. Detections are ordered by
/// time, then alert id (Fink's Spark files give every previous detection one time); this alert counts as a
/// detection and, at equal times, as the latest.
/// </summary>
public sealed class LightCurveSummary
{
    /// <summary>Per-band figures.</summary>
    public sealed class Band
    {
        internal string Name = "";
        internal long Detections;
        internal long NonDetections;
        internal double FirstMjd = double.PositiveInfinity;
        internal double PeakMag = double.PositiveInfinity;
        internal double T1 = double.NaN, M1 = double.NaN, T2 = double.NaN, M2 = double.NaN;
        internal long Id1 = long.MinValue, Id2 = long.MinValue;

        internal void Clear(string name)
        {
            Name = name;
            Detections = NonDetections = 0;
            FirstMjd = PeakMag = double.PositiveInfinity;
            T1 = M1 = T2 = M2 = double.NaN;
            Id1 = Id2 = long.MinValue;
        }

        internal void Detect(double t, long id, double? mag)
        {
            Detections++;
            if (t < FirstMjd) FirstMjd = t;
            if (mag is not { } m) return;
            if (m < PeakMag) PeakMag = m;
            if (double.IsNaN(T1) || t > T1 || (t == T1 && id >= Id1))
            {
                (T2, Id2, M2) = (T1, Id1, M1);
                (T1, Id1, M1) = (t, id, m);
            }
            else if (double.IsNaN(T2) || t > T2 || (t == T2 && id >= Id2))
            {
                (T2, Id2, M2) = (t, id, m);
            }
        }
    }

    private readonly List<Band> _bands = [];
    private int _count;
    internal readonly Band All = new();
    internal double Now;

    /// <summary>Rebuilds the summary for <paramref name="a"/>.</summary>
    internal void Build(Alert a)
    {
        _count = 0;
        All.Clear("");
        Now = a.MjdTai;
        var d = a.Detections;
        for (int i = 0; i < d.Count; i++)
        {
            var x = d[i];
            long id = x.AlertId ?? long.MinValue;
            All.Detect(x.MjdTai, id, x.Mag);
            For(x.Band).Detect(x.MjdTai, id, x.Mag);
        }
        All.Detect(a.MjdTai, long.MaxValue, a.Mag);
        For(a.Band).Detect(a.MjdTai, long.MaxValue, a.Mag);
        var u = a.UpperLimits;
        for (int i = 0; i < u.Count; i++)
        {
            All.NonDetections++;
            For(u[i].Band).NonDetections++;
        }
    }

    private Band For(string name)
    {
        for (int i = 0; i < _count; i++)
        {
            if (string.Equals(_bands[i].Name, name, StringComparison.Ordinal)) return _bands[i];
        }
        if (_count == _bands.Count) _bands.Add(new Band());
        var b = _bands[_count++];
        b.Clear(name);
        return b;
    }

    /// <summary>The band's figures, or null when the alert has no detection or non-detection in it.</summary>
    internal Band? Find(string? name)
    {
        if (name is null) return null;
        for (int i = 0; i < _count; i++)
        {
            if (string.Equals(_bands[i].Name, name, StringComparison.Ordinal)) return _bands[i];
        }
        return null;
    }
}
