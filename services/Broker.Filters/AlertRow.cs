using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// One alert's fields, flattened into typed arrays: what a compiled filter reads. A <see cref="FilterSet"/> loads
/// each field that any of its filters uses once per alert (<see cref="FilterSet.Load"/>), so a filter's field access
/// is an array read at a slot fixed when it was compiled, and a field used by a hundred filters is looked up once.
/// Not thread-safe: one row per worker.
/// </summary>
public sealed class AlertRow
{
    internal AlertRow(FieldLayout layout)
    {
        Reals = new double[Math.Max(1, layout.Count(FilterType.Real))];
        Ints = new long?[Math.Max(1, layout.Count(FilterType.Int))];
        Strings = new string?[Math.Max(1, layout.Count(FilterType.String))];
        Bools = new byte[Math.Max(1, layout.Count(FilterType.Bool))];
    }

    /// <summary>The alert loaded (the light-curve functions read its history).</summary>
    public Alert Alert
    {
        get => _alert;
        internal set
        {
            _alert = value;
            _summarised = null;
        }
    }

    private Alert _alert = EmptyAlert;
    private Alert? _summarised;
    private readonly LightCurveSummary _summary = new();

    /// <summary>The loaded alert's light-curve summary, built on first use after each load.</summary>
    public LightCurveSummary LightCurve
    {
        get
        {
            if (!ReferenceEquals(_summarised, _alert))
            {
                _summary.Build(_alert);
                _summarised = _alert;
            }
            return _summary;
        }
    }

    /// <summary>Decimal fields; NaN is null.</summary>
    public readonly double[] Reals;

    /// <summary>Integer fields.</summary>
    public readonly long?[] Ints;

    /// <summary>String fields.</summary>
    public readonly string?[] Strings;

    /// <summary>Boolean fields as <see cref="Tri"/> values.</summary>
    public readonly byte[] Bools;

    internal bool Fits(FieldLayout layout) =>
        Reals.Length >= layout.Count(FilterType.Real) && Ints.Length >= layout.Count(FilterType.Int)
        && Strings.Length >= layout.Count(FilterType.String) && Bools.Length >= layout.Count(FilterType.Bool);

    private static readonly Alert EmptyAlert = new();
}

/// <summary>
/// Which field lives in which slot of an <see cref="AlertRow"/>. Append-only: a filter compiled against a layout
/// stays valid as later filters add fields, so filters can be added to a running set without recompiling the
/// others. Thread-safe.
/// </summary>
public sealed class FieldLayout
{
    private readonly object _gate = new();
    private readonly Dictionary<string, int> _slots = new(StringComparer.Ordinal);
    private readonly List<FieldDefinition>[] _byType = [[], [], [], [], []];

    /// <summary>The slot of a field, adding it when new.</summary>
    internal int SlotOf(FieldDefinition field)
    {
        lock (_gate)
        {
            if (_slots.TryGetValue(field.Path, out int slot)) return slot;
            var list = _byType[(int)field.Type];
            slot = list.Count;
            list.Add(field);
            _slots[field.Path] = slot;
            return slot;
        }
    }

    /// <summary>How many fields of a type have slots.</summary>
    public int Count(FilterType type)
    {
        lock (_gate) return _byType[(int)type].Count;
    }
}
