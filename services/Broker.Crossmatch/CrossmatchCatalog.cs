using System.Globalization;
using System.Text;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.StepHost;
using ExtraColumnValues = Broker.Catalogs.Index.CatalogIndex.ExtraColumnValues;

namespace Broker.Crossmatch;

/// <summary>
/// One configured catalogue, open: its memory-mapped index (opened once, disposed with the step), the name and
/// release its entries carry, and the columns its entries read, resolved against the index when it is opened so
/// that a column the index lacks is refused at start-up rather than found missing per alert. Thread-safe: the
/// per-thread parts (searcher, scratch lists) are <see cref="CrossmatchScratch"/>'s.
/// </summary>
internal sealed class CrossmatchCatalog : IDisposable
{
    private CrossmatchCatalog(CrossmatchCatalogOptions options, CatalogIndex index, string name, ExtraColumnValues[] properties, ExtraColumnValues? type, ExtraColumnValues? redshift, string? fixedType)
    {
        Options = options;
        Index = index;
        Name = name;
        Properties = properties;
        TypeColumn = type;
        RedshiftColumn = redshift;
        FixedType = fixedType;
        Mode = options.Mode;
        Limit = options.Limit;
        RadiusArcsec = options.RadiusArcsec;
    }

    /// <summary>How many counterparts an alert gets (parsed once: the options hold text).</summary>
    public CrossmatchMode Mode { get; }

    /// <summary>At most this many counterparts per alert: 1, K, or unbounded.</summary>
    public int Limit { get; }

    /// <summary>The search radius, arcseconds.</summary>
    public double RadiusArcsec { get; }

    /// <summary>The entry's settings.</summary>
    public CrossmatchCatalogOptions Options { get; }

    /// <summary>The open index.</summary>
    public CatalogIndex Index { get; }

    /// <summary>The name the entries carry: the configured one, else the header's.</summary>
    public string Name { get; }

    /// <summary>The index header's release.</summary>
    public string Release => Index.Header.Release;

    /// <summary>The columns copied into each entry's properties, in configuration order.</summary>
    public ExtraColumnValues[] Properties { get; }

    /// <summary>The text column giving each row's type, or null.</summary>
    public ExtraColumnValues? TypeColumn { get; }

    /// <summary>The numeric column giving each row's redshift, or null.</summary>
    public ExtraColumnValues? RedshiftColumn { get; }

    /// <summary>The normalised fixed type (<see cref="CrossmatchCatalogOptions.Type"/>), or null.</summary>
    public string? FixedType { get; }

    /// <summary>Opens entry <paramref name="entry"/>'s index and resolves its columns.</summary>
    /// <exception cref="StepHostConfigurationException">The file is missing, unreadable or not an index, or a column is missing or of the wrong kind: one line naming the entry and the file.</exception>
    public static CrossmatchCatalog Open(CrossmatchCatalogOptions options, int entry)
    {
        string describe = options.Describe(entry);
        StepHostConfigurationException Bad(string problem, Exception? inner = null) => new($"invalid configuration: {describe}: {problem}", inner);
        if (Directory.Exists(options.Path)) throw Bad("is a folder, not a catalogue index file");
        if (!File.Exists(options.Path)) throw Bad("the catalogue index file does not exist (build one with ./broker catalog build)");
        CatalogIndex index;
        try
        {
            index = CatalogIndex.Open(options.Path);
        }
        catch (CatalogFormatException e)
        {
            throw Bad($"not a usable catalogue index file: {e.Reason}", e);
        }
        try
        {
            var properties = new ExtraColumnValues[options.Columns.Count];
            for (int i = 0; i < properties.Length; i++) properties[i] = Resolve(index, options.Columns[i], "Columns", Bad);
            ExtraColumnValues? type = null, redshift = null;
            if (!string.IsNullOrWhiteSpace(options.TypeColumn))
            {
                type = Resolve(index, options.TypeColumn, "TypeColumn", Bad);
                if (type.Type != IndexColumnType.String) throw Bad($"TypeColumn '{options.TypeColumn}' is a {Describe(type.Type)} column; a type column holds text (star, galaxy, qso ...)");
            }
            if (!string.IsNullOrWhiteSpace(options.RedshiftColumn))
            {
                redshift = Resolve(index, options.RedshiftColumn, "RedshiftColumn", Bad);
                if (redshift.Type == IndexColumnType.String) throw Bad($"RedshiftColumn '{options.RedshiftColumn}' is a text column; a redshift is a number");
            }
            string name = string.IsNullOrWhiteSpace(options.Name) ? index.Header.Name : options.Name;
            if (string.IsNullOrWhiteSpace(name)) throw Bad("the index header names no catalogue: set Name");
            string? fixedType = string.IsNullOrWhiteSpace(options.Type) ? null : ObjectTypes.Normalise(options.Type);
            return new CrossmatchCatalog(options, index, name, properties, type, redshift, fixedType);
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    private static ExtraColumnValues Resolve(CatalogIndex index, string column, string setting, Func<string, Exception?, StepHostConfigurationException> bad)
    {
        if (index.Values(column) is { } found) return found;
        var extras = index.Header.Columns.Where(c => c.Role == "extra").Select(c => c.Name).ToList();
        throw bad($"{setting} names column '{column}', which the index does not carry (its extra columns: {(extras.Count == 0 ? "none" : string.Join(", ", extras))})", null);
    }

    private static string Describe(IndexColumnType type) => type switch
    {
        IndexColumnType.Int64 => "integer",
        IndexColumnType.Float64 => "floating-point",
        _ => "text",
    };

    /// <summary>Row <paramref name="row"/>'s identifier as text.</summary>
    public string SourceId(int row) => Index.HasNumericIds
        ? Index.IdNumber(row).ToString(CultureInfo.InvariantCulture)
        : Encoding.UTF8.GetString(Index.IdUtf8(row));

    /// <summary>Row <paramref name="row"/>'s value of <paramref name="column"/>: a double, a string, or null for the index's null.</summary>
    public static object? Value(ExtraColumnValues column, int row)
    {
        if (column.Type != IndexColumnType.String) return Number(column, row);
        var utf8 = column.Utf8(row);
        return utf8.IsEmpty ? null : Encoding.UTF8.GetString(utf8);
    }

    /// <summary>
    /// Row <paramref name="row"/>'s number in <paramref name="column"/>, or null (the index's null). The schema's
    /// property values are double or string: an integer column is carried as a double, exact to 2^53.
    /// </summary>
    public static double? Number(ExtraColumnValues column, int row)
    {
        if (column.Type == IndexColumnType.Float64)
        {
            double d = column.Float64(row);
            return double.IsNaN(d) ? null : d;
        }
        long l = column.Int64(row);
        return l == long.MinValue ? null : l;
    }

    /// <inheritdoc />
    public void Dispose() => Index.Dispose();
}


/// <summary>The object types entries carry: lower case, with the catalogues' spellings of the common ones made one.</summary>
internal static class ObjectTypes
{
    /// <summary>
    /// <paramref name="type"/> in lower case without surrounding blanks, the common classes under one name each (star
    /// for <c>*</c> and KStars' <c>catalog star</c>, galaxy for <c>G</c>, qso for <c>quasar</c>); null when blank.
    /// </summary>
    public static string? Normalise(ReadOnlySpan<char> type)
    {
        type = type.Trim();
        if (type.IsEmpty) return null;
        Span<char> lower = type.Length <= 128 ? stackalloc char[type.Length] : new char[type.Length];
        type.ToLowerInvariant(lower);
        return lower switch
        {
            "*" or "star" or "catalog star" or "catalogue star" => "star",
            "g" or "gal" or "galaxy" => "galaxy",
            "qso" or "quasar" => "qso",
            _ => lower.ToString(),
        };
    }
}
