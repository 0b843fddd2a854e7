using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// Many compiled filters over one <see cref="FieldLayout"/>, evaluated together: <see cref="Load"/> reads each
/// field any of them uses once per alert, then every filter runs on the same row. Immutable: a change to the active
/// filters makes a new set (<see cref="With"/>, <see cref="Without"/>), which shares the compiled filters and the
/// layout, so a registry can swap sets while alerts flow.
/// </summary>
public sealed class FilterSet
{
    private readonly (FieldDefinition Field, int Slot)[] _load;

    /// <summary>A set of <paramref name="filters"/>, all compiled against <paramref name="layout"/>.</summary>
    /// <exception cref="ArgumentException">A filter was compiled against another layout.</exception>
    public FilterSet(FieldLayout layout, IReadOnlyList<FilterExpression> filters)
    {
        Layout = layout;
        Filters = filters;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var load = new List<(FieldDefinition, int)>();
        foreach (var f in filters)
        {
            if (!ReferenceEquals(f.Layout, layout)) throw new ArgumentException("every filter of a set must be compiled against the set's layout", nameof(filters));
            foreach (var field in f.Fields)
            {
                if (seen.Add(field.Field.Path)) load.Add(field);
            }
        }
        _load = [.. load];
    }

    /// <summary>The layout.</summary>
    public FieldLayout Layout { get; }

    /// <summary>The filters, in evaluation order.</summary>
    public IReadOnlyList<FilterExpression> Filters { get; }

    /// <summary>How many distinct fields are loaded per alert.</summary>
    public int FieldCount => _load.Length;

    /// <summary>A row for this set (one per worker thread).</summary>
    public AlertRow CreateRow() => new(Layout);

    /// <summary>Loads every field the set's filters read.</summary>
    public void Load(Alert alert, AlertRow row)
    {
        row.Alert = alert;
        var load = _load;
        for (int i = 0; i < load.Length; i++) load[i].Field.Reader.Load(alert, row, load[i].Slot);
    }

    /// <summary>
    /// Loads <paramref name="alert"/> and evaluates every filter: <paramref name="results"/>[i] is filter i's
    /// <see cref="Tri"/> value. Returns how many matched.
    /// </summary>
    public int Evaluate(Alert alert, AlertRow row, Span<byte> results)
    {
        if (!row.Fits(Layout)) throw new ArgumentException("the row was made for a smaller layout; make one with CreateRow()", nameof(row));
        Load(alert, row);
        int matches = 0;
        var filters = Filters;
        for (int i = 0; i < filters.Count; i++)
        {
            byte r = filters[i].Evaluate(row);
            results[i] = r;
            if (r == Tri.True) matches++;
        }
        return matches;
    }

    /// <summary>This set with one more filter.</summary>
    public FilterSet With(FilterExpression filter) => new(Layout, [.. Filters, filter]);

    /// <summary>This set without a filter.</summary>
    public FilterSet Without(FilterExpression filter) => new(Layout, [.. Filters.Where(f => !ReferenceEquals(f, filter))]);
}
