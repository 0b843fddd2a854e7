using System.Globalization;
using System.Text;

namespace Broker.Catalogs.Index;

/// <summary>
/// The body of <c>broker xmatch</c> (issue 11, item 3): positions from CSV (header <c>id,ra,dec</c>, ICRS degrees)
/// against a catalogue index, written as a header line and then <c>id,catalog_id,separation_arcsec</c> per pair.
/// </summary>
public static class CatalogXmatch
{
    /// <summary>The first line of the output.</summary>
    public const string HeaderLine = "id,catalog_id,separation_arcsec";

    /// <summary>
    /// Matches every position of <paramref name="positionsPath"/> within <paramref name="radiusArcsec"/> and writes the
    /// pairs to <paramref name="output"/>: per position in input order, its pairs by increasing separation (ties by
    /// file row), or only the nearest with <paramref name="nearest"/>. Separations are written round-trip ("R").
    /// </summary>
    /// <returns>The number of pairs written.</returns>
    /// <exception cref="CatalogFormatException">The positions file is unreadable, lacks a column, or has a NaN or out-of-range coordinate: names file, row and column.</exception>
    public static long Run(CatalogIndex index, string positionsPath, double radiusArcsec, bool nearest, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(output);
        var searcher = new CatalogSearcher(index);
        var matches = new List<CatalogMatch>(64);
        var line = new StringBuilder(64);
        long pairs = 0;
        output.WriteLine(HeaderLine);
        foreach (var position in CsvCatalogReader.Read(positionsPath, new CatalogColumns("id", "ra", "dec")))
        {
            matches.Clear();
            if (nearest)
            {
                if (searcher.Nearest(position.Ra, position.Dec, radiusArcsec, out var m)) matches.Add(m);
            }
            else
            {
                searcher.Cone(position.Ra, position.Dec, radiusArcsec, matches);
                matches.Sort(static (a, b) => a.SeparationArcsec != b.SeparationArcsec ? a.SeparationArcsec.CompareTo(b.SeparationArcsec) : a.Row.CompareTo(b.Row));
            }
            foreach (var m in matches)
            {
                line.Clear();
                line.Append(position.Id.ToString()).Append(',');
                if (index.HasNumericIds) line.Append(index.IdNumber(m.Row));
                else line.Append(Encoding.UTF8.GetString(index.IdUtf8(m.Row)));
                line.Append(',').Append(m.SeparationArcsec.ToString("R", CultureInfo.InvariantCulture));
                output.WriteLine(line);
                pairs++;
            }
        }
        return pairs;
    }
}
