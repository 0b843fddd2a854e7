using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Catalogs.Index;

/// <summary>The element type of one section of a catalogue index file (little-endian).</summary>
public enum IndexColumnType
{
    /// <summary>64-bit signed integers; null is <see cref="long.MinValue"/>.</summary>
    Int64,

    /// <summary>IEEE 754 binary64; null is NaN.</summary>
    Float64,

    /// <summary>UTF-8 strings: an <c>.offsets</c> section of rows + 1 int64 byte offsets into a <c>.heap</c> section; null is the empty string.</summary>
    String,
}

/// <summary>One contiguous array in the file: its name, element type, byte offset from the start of the file and element count.</summary>
public sealed record IndexSection(string Name, IndexColumnType Type, long Offset, long Count);

/// <summary>A column the index carries besides the position: its source name, what it is and its stored type.</summary>
/// <param name="Name">The column's name in the source catalogue.</param>
/// <param name="Role"><c>id</c>, <c>epoch</c>, <c>pmra</c>, <c>pmdec</c> or <c>extra</c>.</param>
/// <param name="Type">The stored type.</param>
/// <param name="Section">The section holding it (for strings, the prefix of its <c>.offsets</c> and <c>.heap</c> sections).</param>
public sealed record IndexColumn(string Name, string Role, IndexColumnType Type, string Section);

/// <summary>
/// The JSON header of a catalogue index file (docs/catalogs.md): catalogue name and release, the HEALPix nested
/// order of the pixel directory, the row count, the columns and where every section lies.
/// </summary>
public sealed record CatalogIndexHeader
{
    /// <summary>The format's name, always <see cref="FormatName"/>.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>The format's version, <see cref="CurrentVersion"/>.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>The catalogue's name (for example <c>Gaia</c>).</summary>
    public string Name { get; init; } = "";

    /// <summary>The catalogue's release (for example <c>DR3</c>).</summary>
    public string Release { get; init; } = "";

    /// <summary>The source file the index was built from (its file name only).</summary>
    public string Source { get; init; } = "";

    /// <summary>HEALPix nested order of the pixel directory (0-29), chosen from the row count.</summary>
    public int Order { get; init; }

    /// <summary>Rows in the catalogue.</summary>
    public long Rows { get; init; }

    /// <summary>
    /// The largest total proper motion √(pmra² + pmdec²) in mas/yr over the rows that have an epoch and both
    /// components; null when no row has (version 2 on; the search widens its pixels by it when it moves rows).
    /// </summary>
    public double? MaxProperMotionMasPerYear { get; init; }

    /// <summary>The earliest epoch (Julian year) of a row with proper motion; null as <see cref="MaxProperMotionMasPerYear"/>.</summary>
    public double? MinEpoch { get; init; }

    /// <summary>The latest epoch (Julian year) of a row with proper motion; null as <see cref="MaxProperMotionMasPerYear"/>.</summary>
    public double? MaxEpoch { get; init; }

    /// <summary>The carried columns, in the order asked for (id first).</summary>
    public IReadOnlyList<IndexColumn> Columns { get; init; } = [];

    /// <summary>Every section of the file.</summary>
    public IReadOnlyList<IndexSection> Sections { get; init; } = [];

    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "broker-catalog-index";

    /// <summary>
    /// The version this code writes. 2 adds the proper-motion bounds (<see cref="MaxProperMotionMasPerYear"/>,
    /// <see cref="MinEpoch"/>, <see cref="MaxEpoch"/>); the sections are as in 1, so a version-1 file opens, unless
    /// it carries proper motions, which cannot be applied without the bounds.
    /// </summary>
    public const int CurrentVersion = 2;

    /// <summary>The eight bytes that open the file.</summary>
    public static ReadOnlySpan<byte> Magic => "BRKCATIX"u8;

    /// <summary>Bytes before the first section: magic, header offset (int64), header length (int64), padded to <see cref="Alignment"/>.</summary>
    public const int PrefixBytes = 64;

    /// <summary>Every section starts at a multiple of this many bytes (a cache line; keeps the mapped arrays aligned).</summary>
    public const int Alignment = 64;

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The section called <paramref name="name"/>, or null.</summary>
    public IndexSection? Find(string name)
    {
        foreach (var s in Sections) if (s.Name == name) return s;
        return null;
    }
}
