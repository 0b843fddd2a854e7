using System.Globalization;
using Parquet;
using Parquet.Schema;

namespace Broker.Catalogs;

/// <summary>
/// Reads a catalogue from an Apache Parquet file (as Gaia, LSDB/HATS and most new archives write them) with Parquet.Net.
/// Columns are found by name among the top-level fields; physical types int8 to int64 (signed and unsigned up to
/// 32 bits), float, double, boolean and UTF-8 strings are read, nulls included. Streams by row group: only the
/// chosen columns of one row group are in memory at a time, so memory does not grow with the file.
/// </summary>
public static class ParquetCatalogReader
{
    /// <summary>The rows of <paramref name="path"/>, read lazily as the enumeration advances; rows are numbered from 1 across the file's row groups.</summary>
    /// <exception cref="CatalogFormatException">On enumeration: the file cannot be read or is not Parquet, a column is missing or of a type not read, an identifier is null, or a position is null, NaN or out of range.</exception>
    public static IEnumerable<CatalogRow> Read(string path, CatalogColumns columns) => CatalogFiles.Rows(path, columns, ReadRows);

    private static IEnumerable<CatalogRow> ReadRows(Stream stream, string path, CatalogColumns columns)
    {
        ParquetReader reader;
        try { reader = ParquetReader.CreateAsync(stream, leaveStreamOpen: true).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CatalogFormatException(path, 0, null, $"not a Parquet file, or a damaged one: {e.Message}", e);
        }
        try
        {
            var fields = reader.Schema.DataFields;
            DataField Find(string name)
            {
                foreach (var f in fields)
                    if (string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase) && f.Path.Length == 1)
                    {
                        if (f.IsArray) throw new CatalogFormatException(path, 0, name, "the column is a list; only scalar columns are read");
                        if (!Readable(f.ClrType)) throw new CatalogFormatException(path, 0, name, $"the column's type {f.ClrType.Name} is not one a catalogue column can have");
                        return f;
                    }
                throw new CatalogFormatException(path, 0, name, $"no such column in the Parquet schema ({string.Join(",", fields.Select(f => f.Name))})");
            }
            var found = columns.Find<DataField?>(Find, absent: null);
            DataField id = found.Id!, ra = found.Ra!, dec = found.Dec!;
            DataField? epoch = found.Epoch, pmra = found.Pmra, pmdec = found.Pmdec;
            DataField[] extra = found.Extra!;
            foreach (var f in found.Numeric)
                if (f is not null && (IsString(f.ClrType) || f.ClrType == typeof(bool)))
                    throw new CatalogFormatException(path, 0, f.Name, $"the column's type {f.ClrType.Name} is not numeric");

            long row = 1;
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                object?[] ids, raValues, decValues;
                object?[]? epochValues, pmraValues, pmdecValues;
                var extraValues = new object?[extra.Length][];
                int n;
                try
                {
                    using var group = reader.OpenRowGroupReader(g);
                    n = checked((int)group.RowCount);
                    ids = ReadColumn(group, id, n);
                    raValues = ReadColumn(group, ra, n);
                    decValues = ReadColumn(group, dec, n);
                    epochValues = epoch is null ? null : ReadColumn(group, epoch, n);
                    pmraValues = pmra is null ? null : ReadColumn(group, pmra, n);
                    pmdecValues = pmdec is null ? null : ReadColumn(group, pmdec, n);
                    for (int k = 0; k < extra.Length; k++) extraValues[k] = ReadColumn(group, extra[k], n);
                }
                catch (Exception e) when (e is not (CatalogFormatException or OutOfMemoryException))
                {
                    throw new CatalogFormatException(path, row, null, $"row group {g} cannot be read: {e.Message}", e);
                }
                for (int i = 0; i < n; i++, row++)
                {
                    double r = Number(raValues[i]), d = Number(decValues[i]);
                    CatalogChecks.Position(path, row, columns, r, d);
                    var catalogId = ids[i] switch
                    {
                        long v => new CatalogId(v, null),
                        string s when s.Length > 0 => new CatalogId(0, s),
                        double v when v == Math.Floor(v) && Math.Abs(v) < 9.2e18 => new CatalogId((long)v, null),
                        _ => throw new CatalogFormatException(path, row, id.Name, $"identifier {ids[i] ?? "null"} is not an integer or a non-empty string"),
                    };
                    var values = new object?[extra.Length];
                    for (int k = 0; k < extra.Length; k++) values[k] = extraValues[k][i];
                    yield return new CatalogRow(catalogId, r, d,
                        Optional(path, row, epoch, epochValues, i), Optional(path, row, pmra, pmraValues, i), Optional(path, row, pmdec, pmdecValues, i), values);
                }
            }
        }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    private static bool Readable(Type t) =>
        t == typeof(sbyte) || t == typeof(byte) || t == typeof(short) || t == typeof(ushort) || t == typeof(int) || t == typeof(uint)
        || t == typeof(long) || t == typeof(float) || t == typeof(double) || t == typeof(bool) || IsString(t);

    /// <summary>Parquet.Net 6 reports a UTF-8 column of a file it reads as <see cref="ReadOnlyMemory{T}"/> of char; either reads as string.</summary>
    private static bool IsString(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>);

    /// <summary>Null (a null or missing position) reads as NaN, which the position check rejects.</summary>
    private static double Number(object? v) => v is null ? double.NaN : Convert.ToDouble(v, CultureInfo.InvariantCulture);

    private static double? Optional(string path, long row, DataField? field, object?[]? values, int i) =>
        field is null || values![i] is null ? null : CatalogChecks.Optional(path, row, field.Name, Number(values[i]));

    /// <summary>One column of one row group as the catalogue row's value types: integers as long, floats as double, bool, string, or null.</summary>
    private static object?[] ReadColumn(ParquetRowGroupReader group, DataField field, int n)
    {
        var t = field.ClrType;
        if (IsString(t))
        {
            var s = new string?[n];
            group.ReadAsync(field, s.AsMemory()).GetAwaiter().GetResult();
            var o = new object?[n];
            for (int i = 0; i < n; i++) o[i] = s[i];
            return o;
        }
        if (t == typeof(double)) return Values<double>(group, field, n, v => v);
        if (t == typeof(float)) return Values<float>(group, field, n, v => (double)v);
        if (t == typeof(bool)) return Values<bool>(group, field, n, v => v);
        if (t == typeof(long)) return Values<long>(group, field, n, v => v);
        if (t == typeof(int)) return Values<int>(group, field, n, v => (long)v);
        if (t == typeof(uint)) return Values<uint>(group, field, n, v => (long)v);
        if (t == typeof(short)) return Values<short>(group, field, n, v => (long)v);
        if (t == typeof(ushort)) return Values<ushort>(group, field, n, v => (long)v);
        if (t == typeof(sbyte)) return Values<sbyte>(group, field, n, v => (long)v);
        return Values<byte>(group, field, n, v => (long)v);
    }

    private static object?[] Values<T>(ParquetRowGroupReader group, DataField field, int n, Func<T, object> box) where T : struct
    {
        var o = new object?[n];
        if (field.IsNullable)
        {
            var a = new T?[n];
            group.ReadAsync<T>(field, a.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < n; i++) o[i] = a[i] is { } v ? box(v) : null;
        }
        else
        {
            var a = new T[n];
            group.ReadAsync<T>(field, a.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < n; i++) o[i] = box(a[i]);
        }
        return o;
    }
}
