using System.Globalization;

namespace Broker.Catalogs;

/// <summary>A catalogue row's identifier: a 64-bit integer where the column holds one, else its text.</summary>
public readonly record struct CatalogId(long Number, string? Text)
{
    /// <summary>True when the identifier is the integer <see cref="Number"/>.</summary>
    public bool IsNumber => Text is null;

    /// <inheritdoc/>
    public override string ToString() => Text ?? Number.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// One catalogue row: identifier, ICRS position in degrees (ra in [0, 360), dec in [-90, 90], never NaN),
/// optional epoch (Julian year, as the catalogue gives it) and proper motion (mas/yr, <c>pmra</c> including
/// cos dec as Gaia's is), and the chosen extra columns in the order asked for.
/// </summary>
/// <remarks>
/// Extra values are typed by the source: <see cref="long"/>, <see cref="double"/>, <see cref="bool"/> or
/// <see cref="string"/>, or null when empty or a FITS null. From CSV a field that parses as an integer is a long,
/// else one that parses as a number is a double, else a string.
/// </remarks>
public sealed record CatalogRow(CatalogId Id, double Ra, double Dec, double? Epoch, double? Pmra, double? Pmdec, object?[] Extra);

/// <summary>Which columns of a catalogue file to read. Names match case-insensitively.</summary>
public sealed record CatalogColumns(string Id, string Ra, string Dec)
{
    /// <summary>The epoch column, or null.</summary>
    public string? Epoch { get; init; }

    /// <summary>The proper motion in RA (mas/yr, times cos dec), or null.</summary>
    public string? Pmra { get; init; }

    /// <summary>The proper motion in Dec (mas/yr), or null.</summary>
    public string? Pmdec { get; init; }

    /// <summary>Further columns carried into <see cref="CatalogRow.Extra"/>, in this order.</summary>
    public IReadOnlyList<string> Extra { get; init; } = [];

    /// <summary>
    /// Every column named here as a reader finds it in its file (a header index, a FITS column, a Parquet field):
    /// <paramref name="find"/> throws for a name the file lacks; a column not asked for is <paramref name="absent"/>.
    /// </summary>
    internal FoundColumns<T> Find<T>(Func<string, T> find, T absent) => new(
        find(Id), find(Ra), find(Dec),
        Epoch is null ? absent : find(Epoch), Pmra is null ? absent : find(Pmra), Pmdec is null ? absent : find(Pmdec),
        [.. Extra.Select(find)]);
}

/// <summary>The columns of <see cref="CatalogColumns"/> as found in one file (<see cref="CatalogColumns.Find"/>).</summary>
internal readonly record struct FoundColumns<T>(T Id, T Ra, T Dec, T Epoch, T Pmra, T Pmdec, T[] Extra)
{
    /// <summary>The columns that must hold numbers: position, epoch and proper motions (absent ones included as absent).</summary>
    public T[] Numeric => [Ra, Dec, Epoch, Pmra, Pmdec];
}

/// <summary>
/// Bad catalogue input: an unreadable file, a missing column, a value that does not parse, NaN or out-of-range
/// coordinates. The message names the file, the 1-based data row (0 for the file or its header) and the column.
/// </summary>
public sealed class CatalogFormatException(string file, long row, string? column, string reason, Exception? inner = null)
    : Exception(Describe(file, row, column, reason), inner)
{
    /// <summary>The file.</summary>
    public string File { get; } = file;

    /// <summary>The 1-based data row (not counting a CSV header line), or 0 when the problem is not in a row.</summary>
    public long Row { get; } = row;

    /// <summary>The column, or null when the problem is not in one column.</summary>
    public string? Column { get; } = column;

    /// <summary>What is wrong.</summary>
    public string Reason { get; } = reason;

    private static string Describe(string file, long row, string? column, string reason) =>
        $"{file}: " + (row > 0 ? $"row {row}, " : "") + (column is null ? "" : $"column '{column}': ") + reason;
}

/// <summary>Checks shared by the readers.</summary>
internal static class CatalogChecks
{
    /// <summary>Throws unless ra is in [0, 360) and dec in [-90, 90] (NaN fails both).</summary>
    public static void Position(string file, long row, CatalogColumns columns, double ra, double dec)
    {
        if (!(ra >= 0 && ra < 360))
            throw new CatalogFormatException(file, row, columns.Ra, $"ra = {ra.ToString("R", CultureInfo.InvariantCulture)} is not in [0, 360) degrees");
        if (!(dec >= -90 && dec <= 90))
            throw new CatalogFormatException(file, row, columns.Dec, $"dec = {dec.ToString("R", CultureInfo.InvariantCulture)} is not in [-90, 90] degrees");
    }

    /// <summary>An optional quantity: NaN (a missing proper motion) becomes null; infinities are errors.</summary>
    public static double? Optional(string file, long row, string column, double value)
    {
        if (double.IsNaN(value)) return null;
        if (double.IsInfinity(value)) throw new CatalogFormatException(file, row, column, "value is infinite");
        return value;
    }
}
