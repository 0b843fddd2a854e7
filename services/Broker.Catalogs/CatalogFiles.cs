namespace Broker.Catalogs;

/// <summary>Opening a catalogue file the one way every reader does: buffered, shared, and a failure named.</summary>
internal static class CatalogFiles
{
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
