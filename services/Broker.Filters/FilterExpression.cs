using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// A compiled <c>where</c> expression: parsed, type-checked against a <see cref="FieldCatalog"/> and compiled to a
/// delegate once. Evaluate it through a <see cref="FilterSet"/> (many filters, each field loaded once per alert) or,
/// for one filter, with <see cref="Matches(Alert)"/>.
/// </summary>
public sealed class FilterExpression
{
    private readonly Func<AlertRow, byte> _evaluate;
    private AlertRow? _ownRow;

    private FilterExpression(string text, FieldLayout layout, Func<AlertRow, byte> evaluate, IReadOnlyList<(FieldDefinition Field, int Slot)> fields)
    {
        Text = text;
        Layout = layout;
        _evaluate = evaluate;
        Fields = fields;
    }

    /// <summary>The filter's text.</summary>
    public string Text { get; }

    /// <summary>The layout its field slots belong to.</summary>
    public FieldLayout Layout { get; }

    /// <summary>The fields it reads, with their slots.</summary>
    public IReadOnlyList<(FieldDefinition Field, int Slot)> Fields { get; }

    /// <summary>Compiles <paramref name="text"/> against the default catalogue, in a layout of its own.</summary>
    /// <exception cref="FilterCompileException">The text is not a valid filter (the message is <c>line L, column C: ...</c>).</exception>
    public static FilterExpression Compile(string text, FieldCatalog? catalog = null, FieldLayout? layout = null, FilterLimits? limits = null)
    {
        layout ??= new FieldLayout();
        var (evaluate, fields) = Compiler.Compile(text, catalog ?? FieldCatalog.Default, layout, limits ?? FilterLimits.Default);
        return new FilterExpression(text, layout, evaluate, fields);
    }

    /// <summary>Evaluates on a row loaded with every field this filter reads: <see cref="Tri.True"/>, <see cref="Tri.False"/> or <see cref="Tri.Unknown"/>.</summary>
    public byte Evaluate(AlertRow row) => _evaluate(row);

    /// <summary>Loads this filter's fields of <paramref name="alert"/> into <paramref name="row"/> (a row of <see cref="Layout"/>).</summary>
    public void Load(Alert alert, AlertRow row)
    {
        row.Alert = alert;
        foreach (var (field, slot) in Fields) field.Reader.Load(alert, row, slot);
    }

    /// <summary>A row for this filter's layout.</summary>
    public AlertRow CreateRow() => new(Layout);

    /// <summary>Whether the alert matches (the expression is true). Not thread-safe (one row, reused).</summary>
    public bool Matches(Alert alert) => Evaluate(alert) == Tri.True;

    /// <summary>The expression's value on the alert. Not thread-safe (one row, reused).</summary>
    public byte Evaluate(Alert alert)
    {
        if (_ownRow is null || !_ownRow.Fits(Layout)) _ownRow = CreateRow();
        Load(alert, _ownRow);
        return _evaluate(_ownRow);
    }
}
