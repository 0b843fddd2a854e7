using System.Buffers.Binary;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Broker.Catalogs;

/// <summary>
/// The catalogues a new Debian machine can take from the <c>kstars-data</c> package: OpenNGC (NGC, IC and Messier
/// objects) in <c>OpenNGC.kscat</c>, and KStars' Hipparcos/Tycho-derived stars to magnitude 8 in
/// <c>namedstars.dat</c> and <c>unnamedstars.dat</c>. Positions are ICRS/J2000 degrees as KStars stores them.
/// </summary>
public static class KStarsCatalogs
{
    /// <summary>Where Debian's kstars-data installs its files.</summary>
    public const string DefaultFolder = "/usr/share/kstars";

    /// <summary>The extra columns of <see cref="ReadOpenNgc"/>, in <see cref="CatalogRow.Extra"/> order.</summary>
    public static readonly IReadOnlyList<string> OpenNgcExtra = ["magnitude", "type", "type_name", "major_axis_arcmin", "minor_axis_arcmin", "position_angle_deg", "name", "long_name"];

    /// <summary>The extra columns of <see cref="ReadStars"/>, in <see cref="CatalogRow.Extra"/> order.</summary>
    public static readonly IReadOnlyList<string> StarExtra = ["magnitude", "bv_index", "spectral_type", "parallax_mas"];

    /// <summary>What <see cref="ReadOpenNgc"/>'s rows hold, as an index build takes it.</summary>
    public static CatalogColumns OpenNgcColumns { get; } = new("catalog_identifier", "ra", "dec") { Extra = OpenNgcExtra };

    /// <summary>What <see cref="ReadStars"/>' rows hold, as an index build takes it: with the epoch and proper motions, so a crossmatch moves the stars to the alert's epoch.</summary>
    public static CatalogColumns StarColumns { get; } = new("HD", "RA", "Dec") { Epoch = "epoch", Pmra = "pmra", Pmdec = "pmdec", Extra = StarExtra };

    /// <summary>
    /// OpenNGC from KStars' <c>.kscat</c>, an SQLite database whose table <c>cat</c> holds one row per object
    /// (13,960 in kstars-data 3.6): id is <c>catalog_identifier</c> (<c>NGC0224</c>, <c>IC0001</c>); extras as
    /// <see cref="OpenNgcExtra"/> names them: magnitude (V, or B where OpenNGC has no V; null when unknown), the
    /// KStars object type code (<c>SkyObject::TYPE</c>: 3 open cluster, 4 globular, 5 nebula, 6 planetary nebula,
    /// 8 galaxy, ...), its name, major and minor axes in arcmin and position angle in degrees (null when unknown),
    /// and KStars' display name (<c>M 31</c>) and long name. Rows are in <c>catalog_identifier</c> order.
    /// </summary>
    /// <exception cref="CatalogFormatException">On enumeration: the file is missing or not such a database, or a position is out of range.</exception>
    public static IEnumerable<CatalogRow> ReadOpenNgc(string path = DefaultFolder + "/OpenNGC.kscat")
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReadOpenNgcLazily(path);
    }

    private static IEnumerable<CatalogRow> ReadOpenNgcLazily(string path)
    {
        if (!File.Exists(path)) throw new CatalogFormatException(path, 0, null, "cannot read the file: it does not exist (Debian package kstars-data)");
        SqliteConnection connection;
        SqliteDataReader reader;
        try
        {
            connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            var command = connection.CreateCommand();
            command.CommandText = "SELECT catalog_identifier, ra, dec, magnitude, type, major_axis, minor_axis, position_angle, name, long_name FROM cat ORDER BY catalog_identifier";
            reader = command.ExecuteReader();
        }
        catch (SqliteException e)
        {
            throw new CatalogFormatException(path, 0, null, $"not a KStars catalogue database (SQLite with table 'cat'): {e.Message}", e);
        }
        using (connection)
        using (reader)
        {
            for (long row = 1; reader.Read(); row++)
            {
                double? Real(int i) => reader.IsDBNull(i) ? null : reader.GetDouble(i);
                string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                double ra = Real(1) ?? double.NaN, dec = Real(2) ?? double.NaN;
                CatalogChecks.Position(path, row, OpenNgcColumns, ra, dec);
                string id = Text(0) is { Length: > 0 } s ? s : Text(8) ?? throw new CatalogFormatException(path, row, "catalog_identifier", "the identifier is empty");
                long type = reader.IsDBNull(4) ? 255 : reader.GetInt64(4);
                yield return new CatalogRow(new CatalogId(0, id), ra, dec, 2000.0, null, null,
                    [Real(3), type, TypeName(type), Real(5), Real(6), Real(7), Text(8), Text(9)]);
            }
        }
    }

    /// <summary>KStars' <c>SkyObject::TYPE</c> names for the codes OpenNGC uses.</summary>
    public static string TypeName(long type) => type switch
    {
        0 => "star", 1 => "catalog star", 3 => "open cluster", 4 => "globular cluster", 5 => "gaseous nebula",
        6 => "planetary nebula", 7 => "supernova remnant", 8 => "galaxy", 13 => "asterism", 14 => "galaxy cluster",
        15 => "dark nebula", 16 => "quasar", 17 => "multiple star", 18 => "radio source", 20 => "supernova",
        _ => "unknown",
    };

    /// <summary>
    /// KStars' stars: <c>namedstars.dat</c> (bright stars with names) then <c>unnamedstars.dat</c>, 42,864 stars to
    /// magnitude about 8 derived from Hipparcos and Tycho (ESA 1997). Each is a "KStars Star Data" binary file: a 124-byte
    /// text header, the byte-order mark <c>SK</c> (little-endian), a version byte, a uint16 field count and 16-byte
    /// field descriptors (name[10], size, type, int32 scale), a uint32 count of HTM level-3 trixels and for each
    /// (uint32 trixel, uint32 offset, uint32 count), then 32-byte records: int32 RA (hours × 10^6), Dec (degrees ×
    /// 10^5), pmRA·cos dec and pmDec (mas/yr × 10), parallax (mas × 10), HD number; int16 mag and B−V (× 100);
    /// char[2] spectral type; flags; a spare byte. The descriptors are checked against that layout. Id is the HD
    /// number, or <c>file:record</c> text for a star without one. Positions are ICRS at the Hipparcos epoch J1991.25,
    /// not propagated to J2000 (Sirius, with 1.3"/yr, sits 11.7" from its J2000 place), so <see cref="CatalogRow.Epoch"/>
    /// is 1991.25 and the proper motions carry them on. The files carry no HIP numbers.
    /// </summary>
    /// <exception cref="CatalogFormatException">On enumeration: a file is missing, not in this layout, or truncated.</exception>
    public static IEnumerable<CatalogRow> ReadStars(string folder = DefaultFolder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        return ReadStarFile(Path.Combine(folder, "namedstars.dat")).Concat(ReadStarFile(Path.Combine(folder, "unnamedstars.dat")));
    }

    /// <summary>The epoch of the star positions, a Julian year: Hipparcos' J1991.25 (ESA 1997, vol. 1 §1.2).</summary>
    public const double HipparcosEpoch = 1991.25;

    private static readonly (string Name, int Size, int Scale)[] StarLayout =
    [
        ("RA", 4, 1_000_000), ("Dec", 4, 100_000), ("dRA", 4, 10), ("dDec", 4, 10), ("parallax", 4, 10), ("HD", 4, 10),
        ("mag", 2, 100), ("bv_index", 2, 100), ("spec_type", 2, 0), ("flags", 1, 0), ("unused", 1, 100),
    ];

    private static IEnumerable<CatalogRow> ReadStarFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); } // 1.3 MB at most: the whole file is read once
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new CatalogFormatException(path, 0, null, $"cannot read the file: {e.Message} (Debian package kstars-data)", e);
        }
        var index = StarIndex(path, bytes);
        string file = Path.GetFileNameWithoutExtension(path);
        long row = 1;
        foreach (var (offset, count) in index)
        {
            for (int k = 0; k < count; k++, row++)
            {
                int o = offset + 32 * k;
                int I(int at) => BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(o + at));
                short S(int at) => BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(o + at));
                double ra = I(0) / 1e6 * 15.0, dec = I(4) / 1e5;
                CatalogChecks.Position(path, row, StarColumns, ra, dec);
                int hd = I(20);
                var id = hd > 0 ? new CatalogId(hd, null) : new CatalogId(0, $"{file}:{row}");
                string spectral = Encoding.ASCII.GetString(bytes, o + 28, 2).TrimEnd('\0', ' ');
                yield return new CatalogRow(id, ra, dec, HipparcosEpoch, I(8) / 10.0, I(12) / 10.0, [S(24) / 100.0, S(26) / 100.0, spectral, I(16) / 10.0]);
            }
        }
    }

    /// <summary>Checks the header and returns (offset, count) for each trixel, every record inside the file.</summary>
    private static List<(int Offset, int Count)> StarIndex(string path, byte[] b)
    {
        const int Header = 124;
        if (b.Length < Header + 5 || b[Header] != 'S' || b[Header + 1] != 'K')
            throw new CatalogFormatException(path, 0, null, "not a little-endian KStars star data file: no 'SK' after the 124-byte header");
        int fields = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(Header + 3));
        int at = Header + 5;
        if (fields != StarLayout.Length || b.Length < at + 16 * fields + 4)
            throw new CatalogFormatException(path, 0, null, $"{fields} field descriptors; the 32-byte star record has {StarLayout.Length}");
        for (int f = 0; f < fields; f++, at += 16)
        {
            string name = Encoding.ASCII.GetString(b.AsSpan(at, 10)).TrimEnd('\0');
            int size = b[at + 10], scale = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at + 12));
            if (name != StarLayout[f].Name || size != StarLayout[f].Size || scale != StarLayout[f].Scale)
                throw new CatalogFormatException(path, 0, name, $"field {f + 1} is {name} ({size} bytes, scale {scale}); expected {StarLayout[f].Name} ({StarLayout[f].Size} bytes, scale {StarLayout[f].Scale})");
        }
        long trixels = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
        at += 4;
        if (b.Length < at + 12 * trixels) throw new CatalogFormatException(path, 0, null, $"truncated: the index of {trixels} trixels does not fit");
        var index = new List<(int, int)>((int)trixels);
        for (int t = 0; t < trixels; t++, at += 12)
        {
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 4)), count = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 8));
            if (offset + 32 * count > b.Length) throw new CatalogFormatException(path, 0, null, $"truncated: trixel {t}'s {count} records at byte {offset} run past the end of the file");
            index.Add(((int)offset, (int)count));
        }
        return index;
    }
}
