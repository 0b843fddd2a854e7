namespace Broker.Catalogs;

/// <summary>Opening a catalogue file the one way every reader does: buffered, shared, and a failure named.</summary>
internal static class CatalogFiles
{
    /// <summary>
    /// A reader's rows of <paramref name="path"/>, lazily: the arguments are checked now, the file is opened
    /// (<see cref="OpenRead"/>) when the enumeration starts and closed when it ends, and <paramref name="read"/> makes
    /// the rows of the open stream.
    /// </summary>
    public static IEnumerable<CatalogRow> Rows(string path, CatalogColumns columns, Func<Stream, string, CatalogColumns, IEnumerable<CatalogRow>> read)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(columns);
        return Lazily(path, columns, read);
    }

    private static IEnumerable<CatalogRow> Lazily(string path, CatalogColumns columns, Func<Stream, string, CatalogColumns, IEnumerable<CatalogRow>> read)
    {
        using var stream = OpenRead(path);
        foreach (var row in read(stream, path, columns)) yield return row;
    }

    /// <summary>Opens <paramref name="path"/> for reading with a 64 kB buffer.</summary>
    /// <exception cref="CatalogFormatException">The file cannot be opened (missing, a folder, no permission).</exception>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CatalogFormatException(path, 0, null, $"cannot read the file: {e.Message}", e);
        }
    }
}
