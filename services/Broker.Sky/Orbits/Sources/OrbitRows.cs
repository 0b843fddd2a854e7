using System.Globalization;

namespace Broker.Sky.Orbits;

/// <summary>
/// An orbit file that cannot be read at all (missing, not the format it claims, broken JSON): one line naming the
/// file and, where there is one, the row. A bad row inside a readable file is not thrown; the readers report it
/// through their <c>onBadRow</c> callback and go on.
/// </summary>
/// <param name="file">The file.</param>
/// <param name="row">The 1-based row or line, or 0 when the problem is not in one row.</param>
/// <param name="reason">What is wrong.</param>
/// <param name="inner">The underlying exception, if any.</param>
public sealed class OrbitFormatException(string file, long row, string reason, Exception? inner = null)
    : FormatException($"{file}: " + (row > 0 ? $"row {row}: " : "") + reason, inner)
{
    /// <summary>The file.</summary>
    public string File { get; } = file;

    /// <summary>The 1-based row or line, or 0 when the problem is not in one row.</summary>
    public long Row { get; } = row;
}

/// <summary>The checks and conversions every orbit reader shares, so a bad row reads the same whatever the format.</summary>
internal static class OrbitRows
{
    /// <summary>The slope parameter assumed when a source gives none (Bowell et al. 1989, as MPC and JPL assume).</summary>
    public const double DefaultG = 0.15;

    /// <summary>Opens a file for reading with a 64 kB buffer, a failure named in one line.</summary>
    /// <exception cref="OrbitFormatException">Missing, a folder, no permission.</exception>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new OrbitFormatException(path, 0, e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : $"cannot read the file: {e.Message}", e);
        }
    }

    /// <summary>
    /// Opens a file, decompressed when it starts with the gzip magic bytes (1f 8b, RFC 1952 §2.3.1) whatever its name,
    /// so "cometels.json.gz" and a gzipped MPCORB.DAT read as their plain forms.
    /// </summary>
    /// <exception cref="OrbitFormatException">The file cannot be opened.</exception>
    public static Stream OpenMaybeGzip(string path)
    {
        var file = OpenRead(path);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress) : file;
        }
        catch (IOException e)
        {
            file.Dispose();
            throw new OrbitFormatException(path, 0, $"cannot read the file: {e.Message}", e);
        }
    }

    /// <summary>The items a reader makes from a file, lazily: the file is opened when enumeration starts and closed when it ends.</summary>
    public static IEnumerable<T> Lazily<T>(string path, Func<Stream, string, IEnumerable<T>> read)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Open(path, read);

        static IEnumerable<T> Open(string path, Func<Stream, string, IEnumerable<T>> read)
        {
            using var stream = OpenMaybeGzip(path);
            foreach (var item in read(stream, path)) yield return item;
        }
    }

    /// <summary>The lines of a text stream with their 1-based numbers; a read failure (a damaged gzip stream) is one named line.</summary>
    /// <exception cref="OrbitFormatException">During enumeration: the stream cannot be read.</exception>
    public static IEnumerable<(string Text, long Number)> Lines(Stream stream, string file)
    {
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        long number = 0;
        while (true)
        {
            string? line;
            try
            {
                line = reader.ReadLine();
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new OrbitFormatException(file, number + 1, $"cannot read the file: {e.Message}", e);
            }
            if (line is null) yield break;
            number++;
            yield return (line, number);
        }
    }

    /// <summary>The one line a bad row is reported with: "asteroids.dat: row 17 (2004 XY): e = 1.2 >= 1 for an elliptic format".</summary>
    public static string BadRow(string file, long row, string? designation, string problem) =>
        $"{Path.GetFileName(file)}: row {row}" + (string.IsNullOrWhiteSpace(designation) ? "" : $" ({designation.Trim()})") + $": {problem}";

    /// <summary>A number in invariant culture (a leading '.' as SBDB writes ".0786" is fine); false for empty or malformed text.</summary>
    public static bool TryNumber(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// Keplerian elements to cometary, or why they are not an orbit: every element finite, e ≥ 0, i in [0, 180],
    /// a > 0 for an ellipse; with <paramref name="ellipticOnly"/> e ≥ 1 is refused, otherwise a hyperbola needs a &lt; 0
    /// (as MPC and JPL write it) and a parabola cannot be given by a.
    /// </summary>
    public static string? TryKeplerian(double a, double e, double iDeg, double nodeDeg, double periDeg, double meanAnomalyDeg, double epochMjdTdb, bool ellipticOnly, out CometaryElements? elements)
    {
        elements = null;
        string? problem = NotFinite(("a", a), ("e", e), ("i", iDeg), ("node", nodeDeg), ("peri", periDeg), ("M", meanAnomalyDeg), ("epoch", epochMjdTdb));
        if (problem is not null) return problem;
        if (e < 0) return $"e = {Format(e)} < 0";
        if (e >= 1 && ellipticOnly) return $"e = {Format(e)} >= 1 for an elliptic format";
        if (e < 1 && !(a > 0)) return $"a = {Format(a)} au is not positive for e = {Format(e)} < 1";
        if (e == 1) return "e = 1 (parabolic) cannot be given by a semi-major axis";
        if (e > 1 && !(a < 0)) return $"a = {Format(a)} au must be negative for a hyperbolic orbit (e = {Format(e)})";
        if (iDeg < 0 || iDeg > 180) return $"i = {Format(iDeg)} deg is not in [0, 180]";
        elements = CometaryElements.FromKeplerian(a, e, iDeg, nodeDeg, periDeg, meanAnomalyDeg, epochMjdTdb);
        return null;
    }

    /// <summary>Cometary elements, or why they are not an orbit: every element finite, q > 0, e ≥ 0, i in [0, 180].</summary>
    public static string? TryCometary(double q, double e, double iDeg, double nodeDeg, double periDeg, double perihelionMjdTdb, double epochMjdTdb, bool ellipticOnly, out CometaryElements? elements)
    {
        elements = null;
        string? problem = NotFinite(("q", q), ("e", e), ("i", iDeg), ("node", nodeDeg), ("peri", periDeg), ("Tp", perihelionMjdTdb), ("epoch", epochMjdTdb));
        if (problem is not null) return problem;
        if (!(q > 0)) return $"q = {Format(q)} au is not positive";
        if (e < 0) return $"e = {Format(e)} < 0";
        if (e >= 1 && ellipticOnly) return $"e = {Format(e)} >= 1 for an elliptic format";
        if (iDeg < 0 || iDeg > 180) return $"i = {Format(iDeg)} deg is not in [0, 180]";
        elements = new CometaryElements(q, e, iDeg, nodeDeg, periDeg, perihelionMjdTdb, epochMjdTdb);
        return null;
    }

    /// <summary>"H = 'x' is not a number" style text for an unparsable field.</summary>
    public static string Unparsable(string field, ReadOnlySpan<char> text) =>
        text.Trim().IsEmpty ? $"{field} is missing" : $"{field} = '{text.Trim().ToString()}' is not a number";

    /// <summary>The first problem of several checks (each already run, so every out value is set), or null.</summary>
    public static string? First(params ReadOnlySpan<string?> problems)
    {
        foreach (string? p in problems) if (p is not null) return p;
        return null;
    }

    /// <summary>The value in invariant culture, shortest round-trip form.</summary>
    public static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string? NotFinite(params ReadOnlySpan<(string Name, double Value)> values)
    {
        foreach (var (name, value) in values)
            if (!double.IsFinite(value)) return $"{name} = {Format(value)} is not finite";
        return null;
    }
}
