using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Broker.Catalogs;

/// <summary>
/// A HATS catalogue (Hierarchical Adaptive Tiling Scheme, the HEALPix-partitioned Parquet layout of LSDB; formerly
/// HiPSCat): a folder with a <c>properties</c> file (<c>hats.properties</c> in some releases, <c>catalog_info.json</c>
/// in HiPSCat ones) and one Parquet partition per HEALPix pixel at <c>dataset/Norder=K/Dir=D/Npix=N.parquet</c>
/// (<c>Norder=K/Dir=D/Npix=N.parquet</c> in the older layout). A partition may also be a folder <c>Npix=N/</c> of
/// Parquet files. Only the folder names are used; no HEALPix arithmetic is done here.
/// </summary>
public sealed partial class HatsCatalog
{
    private HatsCatalog(string folder, string name, IReadOnlyDictionary<string, string> properties, IReadOnlyList<HatsPartition> partitions)
    {
        Folder = folder;
        Name = name;
        Properties = properties;
        Partitions = partitions;
    }

    /// <summary>The catalogue folder.</summary>
    public string Folder { get; }

    /// <summary>
    /// The catalogue's name: <c>obs_collection</c> from <c>properties</c> (the HiPS property HATS adopted), else
    /// <c>hats_catalog_name</c>, else <c>catalog_name</c> from <c>catalog_info.json</c>, else the folder's name.
    /// </summary>
    public string Name { get; }

    /// <summary>Every key and value of the properties file (or the top-level scalars of <c>catalog_info.json</c>).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>The partition files in reading order: by Norder, then Npix, then file name (ordinal).</summary>
    public IReadOnlyList<HatsPartition> Partitions { get; }

    /// <summary>The RA column the catalogue declares (<c>hats_col_ra</c>, or <c>ra_column</c> in HiPSCat), or null.</summary>
    public string? RaColumn => Properties.GetValueOrDefault("hats_col_ra") ?? Properties.GetValueOrDefault("ra_column");

    /// <summary>The Dec column the catalogue declares (<c>hats_col_dec</c>, or <c>dec_column</c> in HiPSCat), or null.</summary>
    public string? DecColumn => Properties.GetValueOrDefault("hats_col_dec") ?? Properties.GetValueOrDefault("dec_column");

    [GeneratedRegex(@"^Norder=(\d+)$")]
    private static partial Regex NorderName();

    [GeneratedRegex(@"^Dir=(\d+)$")]
    private static partial Regex DirName();

    [GeneratedRegex(@"^Npix=(\d+)(\.parquet)?$")]
    private static partial Regex NpixName();

    /// <summary>Reads the properties and lists the partitions of the catalogue in <paramref name="folder"/>.</summary>
    /// <exception cref="CatalogFormatException">The folder does not exist, has neither properties file, or has no partitions.</exception>
    public static HatsCatalog Open(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new CatalogFormatException(folder, 0, null, "no such folder");
        var properties = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? propertiesFile = new[] { "properties", "hats.properties" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        string json = Path.Combine(folder, "catalog_info.json");
        try
        {
            if (propertiesFile is not null) ReadProperties(propertiesFile, properties);
            else if (File.Exists(json)) ReadJson(json, properties);
            else throw new CatalogFormatException(folder, 0, null, "not a HATS catalogue: no 'properties' or 'catalog_info.json' file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new CatalogFormatException(propertiesFile ?? json, 0, null, $"cannot read the catalogue properties: {e.Message}", e);
        }
        string name = properties.GetValueOrDefault("obs_collection") ?? properties.GetValueOrDefault("hats_catalog_name")
            ?? properties.GetValueOrDefault("catalog_name") ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));

        string dataset = Path.Combine(folder, "dataset");
        string root = Directory.Exists(dataset) && Directory.EnumerateDirectories(dataset, "Norder=*").Any() ? dataset : folder;
        var partitions = new List<HatsPartition>();
        foreach (var orderDir in Directory.EnumerateDirectories(root))
        {
            var om = NorderName().Match(Path.GetFileName(orderDir));
            if (!om.Success) continue;
            int order = int.Parse(om.Groups[1].Value, CultureInfo.InvariantCulture);
            foreach (var dirDir in Directory.EnumerateDirectories(orderDir))
            {
                if (!DirName().IsMatch(Path.GetFileName(dirDir))) continue;
                foreach (var entry in Directory.EnumerateFileSystemEntries(dirDir))
                {
                    var pm = NpixName().Match(Path.GetFileName(entry));
                    if (!pm.Success) continue;
                    long pixel = long.Parse(pm.Groups[1].Value, CultureInfo.InvariantCulture);
                    if (File.Exists(entry)) partitions.Add(new HatsPartition(order, pixel, entry));
                    else
                        foreach (var file in Directory.EnumerateFiles(entry, "*.parquet"))
                            partitions.Add(new HatsPartition(order, pixel, file));
                }
            }
        }
        if (partitions.Count == 0) throw new CatalogFormatException(folder, 0, null, "no partitions: no Norder=K/Dir=D/Npix=N.parquet files under the folder or its 'dataset' folder");
        partitions.Sort((a, b) => a.Order != b.Order ? a.Order.CompareTo(b.Order)
            : a.Pixel != b.Pixel ? a.Pixel.CompareTo(b.Pixel) : string.CompareOrdinal(a.Path, b.Path));
        return new HatsCatalog(folder, name, properties, partitions);
    }

    /// <summary>
    /// The rows of every partition in <see cref="Partitions"/> order, streamed one row group at a time. A bad value
    /// is reported with the partition file and its 1-based row within that file.
    /// </summary>
    public IEnumerable<CatalogRow> Read(CatalogColumns columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        return Partitions.SelectMany(p => ParquetCatalogReader.Read(p.Path, columns));
    }

    /// <summary>Java-properties style lines <c>key=value</c>; <c>#</c> and <c>!</c> begin comments.</summary>
    private static void ReadProperties(string path, Dictionary<string, string> into)
    {
        foreach (var raw in File.ReadLines(path))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            int eq = line.IndexOf('=');
            if (eq <= 0) continue;
            into[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
    }

    private static void ReadJson(string path, Dictionary<string, string> into)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var p in doc.RootElement.EnumerateObject())
            if (p.Value.ValueKind is JsonValueKind.String) into[p.Name] = p.Value.GetString()!;
            else if (p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False) into[p.Name] = p.Value.GetRawText();
    }
}

/// <summary>One partition file of a HATS catalogue: HEALPix order and pixel as the folder names give them, and the file.</summary>
public sealed record HatsPartition(int Order, long Pixel, string Path);
