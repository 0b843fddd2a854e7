using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.InteropServices;

namespace Broker.Alerts.IO;

/// <summary>
/// One file, or one member of a tar archive, with gzip undone: the bytes of one survey message or of a container
/// of alerts, not yet decoded. Or damage that kept part of a file from being unpacked (<see cref="Error"/> set).
/// </summary>
/// <param name="Source">The file, with <c>::member</c> for a member of a tar archive.</param>
/// <param name="Index">0, except for a damaged archive: how many of its members were read before the damage.</param>
/// <param name="Bytes">
/// The bytes. For damage, the bytes that could not be unpacked (a corrupt gzip file as it is, the part of a member
/// that was there, the rest of an archive from the damaged entry on), so that they can be passed on as a bad message.
/// </param>
/// <param name="Error">What was wrong, or null.</param>
public readonly record struct RawAlertMessage(string Source, int Index, ReadOnlyMemory<byte> Bytes, string? Error = null);

/// <summary>
/// The one way Broker finds alerts in files, for every reader (<c>broker decode</c>, <c>stamps</c>, <c>run</c>,
/// <c>demo</c>, <c>replay</c>): folders are walked recursively, files and archive members are taken in ordinal
/// name order (a run's checkpoint counts messages in this order), files that cannot be alerts are skipped by
/// extension, and gzip and tar (the ZTF public archive's nightly <c>.tar.gz</c>, a gzipped <c>.avro.gz</c>) are
/// recognised by their magic bytes, not their names, and unpacked at any depth.
/// </summary>
public static class AlertFiles
{
    /// <summary>
    /// Extensions never read as alerts in folders and archives: schemas, documentation, tables, Spark and Arrow
    /// metadata, scripts, Parquet and HDF5 files, model weights, and the NumPy and PNG cutouts Broker writes.
    /// </summary>
    public static IReadOnlyList<string> SkippedExtensions { get; } =
        [".avsc", ".json", ".md", ".txt", ".csv", ".tsv", ".metadata", ".py", ".parquet", ".h5", ".pt", ".npy", ".png"];

    private const int TarBlock = 512;

    /// <summary>True when a file or member of this name is never read as alerts (see <see cref="SkippedExtensions"/>).</summary>
    public static bool IsSkipped(string name)
    {
        string extension = Path.GetExtension(name);
        foreach (var skipped in SkippedExtensions)
        {
            if (string.Equals(extension, skipped, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>
    /// The files to read, in order: each folder's files, recursively, in ordinal order of their paths and without
    /// <see cref="SkippedExtensions"/>; any other path as it is, whether or not it exists (its reader says).
    /// </summary>
    public static IEnumerable<string> Files(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    if (!IsSkipped(file)) yield return file;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    /// <summary>
    /// Every raw message of every path, in order: <see cref="Files"/>, each read as <see cref="ReadFile"/> says.
    /// Never throws for a file: one that is missing or unreadable is an item with <see cref="RawAlertMessage.Error"/>.
    /// </summary>
    public static IEnumerable<RawAlertMessage> Read(IEnumerable<string> paths, AlertLimits? limits = null)
    {
        foreach (var file in Files(paths))
        {
            foreach (var m in ReadFile(file, limits)) yield return m;
        }
    }

    /// <summary>
    /// The raw messages of one file. A file up to <see cref="AlertLimits.MaxMessageBytes"/> is read whole and
    /// <see cref="Unpack"/>ed; a larger gzip or tar file is streamed, member by member in archive order, each member
    /// within <see cref="AlertLimits.MaxInflatedBytes"/>; any other larger file is refused, naming the limit (so a
    /// file of several GiB costs no more memory than a small one). Damage never throws: it is an item with
    /// <see cref="RawAlertMessage.Error"/> (for a streamed file, without bytes).
    /// </summary>
    public static IEnumerable<RawAlertMessage> ReadFile(string file, AlertLimits? limits = null)
    {
        limits ??= AlertLimits.Default;
        var (stream, error) = Open(file);
        if (stream is null)
        {
            yield return new RawAlertMessage(file, 0, default, error);
            yield break;
        }
        using (stream)
        {
            long length = stream.Length;
            if (length <= limits.MaxMessageBytes)
            {
                var bytes = Guarded(() => { var b = new byte[length]; stream.ReadExactly(b); return b; }, out error);
                IEnumerable<RawAlertMessage> items = bytes is null ? [new RawAlertMessage(file, 0, default, error)] : Unpack(file, bytes, limits);
                foreach (var m in items) yield return m;
                yield break;
            }
            foreach (var m in StreamLarge(file, stream, length, limits)) yield return m;
        }
    }

    private static (FileStream? Stream, string? Error) Open(string file)
    {
        try
        {
            return (new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), null);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (null, "no such file or folder");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot read the file: {e.Message}");
        }
    }

    /// <summary>Runs a read; the exceptions damaged or unreadable bytes raise become <paramref name="error"/>.</summary>
    private static T? Guarded<T>(Func<T> read, out string? error) where T : class
    {
        try
        {
            error = null;
            return read();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
    }

    private static IEnumerable<RawAlertMessage> StreamLarge(string file, FileStream stream, long length, AlertLimits limits)
    {
        var input = new ForwardStream(stream);
        var head = Guarded(() => input.Peek(TarBlock), out string? error);
        if (head is not null && Gzip.IsGzip(head))
        {
            var inflated = new ForwardStream(new GZipStream(input, CompressionMode.Decompress), gzip: true);
            head = Guarded(() => inflated.Peek(TarBlock), out error);
            if (head is not null && IsTar(head)) return UnpackTarStream(file, inflated, limits, 0);
            if (head is not null)
            {
                var message = Guarded(() => ReadBounded(inflated, limits), out error);
                if (message is not null) return Unpack(file, message, limits);
            }
        }
        else if (head is not null && IsTar(head))
        {
            return UnpackTarStream(file, input, limits, 0);
        }
        else if (head is not null)
        {
            error = $"the file is {AlertLimits.Describe(length)}, more than the {AlertLimits.Describe(limits.MaxMessageBytes)} one message may be " +
                    "(--max-message-bytes); only gzip and tar files are read in parts";
        }
        return [new RawAlertMessage(file, 0, default, error)];
    }

    /// <summary>The inflated stream's bytes.</summary>
    /// <exception cref="InvalidDataException">There are more than <see cref="AlertLimits.MaxInflatedBytes"/>.</exception>
    private static byte[] ReadBounded(Stream stream, AlertLimits limits)
    {
        int limit = limits.MaxInflatedBytes;
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        while (true)
        {
            int n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limit + 1L - buffer.Length));
            if (n == 0) return buffer.ToArray();
            buffer.Write(chunk, 0, n);
            if (buffer.Length > limit) throw new InvalidDataException(InflatedTooLarge(limits));
        }
    }

    private static string InflatedTooLarge(AlertLimits limits) =>
        $"gzip inflates to more than {AlertLimits.Describe(limits.MaxInflatedBytes)} (--max-inflated-bytes); refusing it (a gzip bomb?)";

    // Gzip in tar in gzip ... is unpacked at any real depth; this bounds a crafted nest, each level of which may
    // inflate to the limit.
    private const int MaxNesting = 8;

    /// <summary>
    /// The raw messages in one file's bytes: gzip is inflated and tar archives are opened, by their magic bytes and
    /// at any depth (members in ordinal name order, without <see cref="SkippedExtensions"/>); anything else is one
    /// message as it is. Bad input never throws: damage is an item with <see cref="RawAlertMessage.Error"/>, after
    /// whatever could be read. An archive that ends without its closing zero blocks is not damaged. Gzip that
    /// inflates to more than <see cref="AlertLimits.MaxInflatedBytes"/> is refused, unless it holds a tar archive:
    /// that is streamed in archive order, each member within the limit.
    /// </summary>
    public static IEnumerable<RawAlertMessage> Unpack(string source, ReadOnlyMemory<byte> bytes, AlertLimits? limits = null) =>
        UnpackAt(source, bytes, limits ?? AlertLimits.Default, 0);

    private static IEnumerable<RawAlertMessage> UnpackAt(string source, ReadOnlyMemory<byte> bytes, AlertLimits limits, int depth)
    {
        var span = bytes.Span;
        bool gzip = Gzip.IsGzip(span);
        if ((gzip || IsTar(span)) && depth >= MaxNesting)
            return [new RawAlertMessage(source, 0, bytes, $"gzip and tar nested more than {MaxNesting} deep; refusing it")];
        if (gzip)
        {
            byte[] inflated;
            try
            {
                inflated = Gzip.Inflate(span, limits.MaxInflatedBytes);
            }
            catch (GzipLimitException)
            {
                var tar = new ForwardStream(new GZipStream(AsStream(bytes), CompressionMode.Decompress), gzip: true);
                var head = Guarded(() => tar.Peek(TarBlock), out _);
                return head is not null && IsTar(head)
                    ? UnpackTarStream(source, tar, limits, depth + 1)
                    : [new RawAlertMessage(source, 0, bytes, InflatedTooLarge(limits))];
            }
            catch (InvalidDataException e)
            {
                return [new RawAlertMessage(source, 0, bytes, $"corrupt gzip: {e.Message}")];
            }
            return UnpackAt(source, inflated, limits, depth + 1);
        }
        if (IsTar(span)) return UnpackTar(source, bytes, limits, depth + 1);
        return [new RawAlertMessage(source, 0, bytes)];
    }

    private static MemoryStream AsStream(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(bytes.ToArray(), writable: false);

    /// <summary>True for a POSIX (ustar) or GNU tar archive: "ustar" at offset 257 of the first header.</summary>
    public static bool IsTar(ReadOnlySpan<byte> span) =>
        span.Length >= TarBlock && span.Slice(257, 5).SequenceEqual("ustar"u8);

    private static bool Wanted(TarEntry entry) =>
        entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is not null && !IsSkipped(entry.Name);

    private static string MemberTooLarge(TarEntry entry, AlertLimits limits) =>
        $"tar member {entry.Name} is {AlertLimits.Describe(entry.Length)}, more than the {AlertLimits.Describe(limits.MaxInflatedBytes)} one member may be (--max-inflated-bytes)";

    private static IEnumerable<RawAlertMessage> UnpackTar(string source, ReadOnlyMemory<byte> tar, AlertLimits limits, int depth)
    {
        var members = new List<(string Name, byte[] Data)>();
        var refused = new List<RawAlertMessage>();
        RawAlertMessage? damage = null;
        // Where the next header starts: past the last entry's data, padded to whole blocks.
        long next = 0;
        using (var stream = new ForwardStream(AsStream(tar)))
        {
            try
            {
                using var reader = new TarReader(stream, leaveOpen: true);
                while (reader.GetNextEntry() is { } entry)
                {
                    // The reader has consumed the headers and nothing more: the entry's data starts here.
                    long start = stream.Position;
                    next = start + (entry.Length + TarBlock - 1) / TarBlock * TarBlock;
                    if (start + entry.Length > tar.Length)
                    {
                        // .NET's reader hands out the short data without complaint; the archive was cut off here.
                        damage = new RawAlertMessage($"{source}::{entry.Name}", 0, tar[(int)Math.Min(start, tar.Length)..],
                            $"truncated tar archive: member {entry.Name} ends after {Math.Max(0, tar.Length - start)} of its {entry.Length} bytes");
                        break;
                    }
                    if (!Wanted(entry)) continue;
                    if (entry.Length > limits.MaxInflatedBytes)
                    {
                        refused.Add(new RawAlertMessage($"{source}::{entry.Name}", 0, default, MemberTooLarge(entry, limits)));
                        continue;
                    }
                    var data = new byte[entry.Length];
                    entry.DataStream!.ReadExactly(data);
                    members.Add((entry.Name, data));
                }
            }
            catch (EndOfStreamException) when (tar.Span[(int)Math.Min(next, tar.Length)..].IndexOfAnyExcept((byte)0) < 0)
            {
                // The archive ends after its last member without (all of) its two closing zero blocks, as the ZTF
                // public tarballs do: every member was read.
            }
            catch (Exception e) when (e is InvalidDataException or IOException or FormatException or ArgumentException or OverflowException)
            {
                damage = new RawAlertMessage(source, members.Count, tar[(int)Math.Min(next, tar.Length)..],
                    $"corrupt tar archive after {members.Count} members: {e.Message}");
            }
        }
        foreach (var (name, data) in members.OrderBy(m => m.Name, StringComparer.Ordinal))
        {
            foreach (var m in UnpackAt($"{source}::{name}", data, limits, depth)) yield return m;
        }
        foreach (var r in refused) yield return r;
        if (damage is { } d) yield return d;
    }

    /// <summary>
    /// A tar archive too large to hold, read from a stream member by member in archive order; each member is held
    /// (within <see cref="AlertLimits.MaxInflatedBytes"/>) only while it is unpacked. Damage carries no bytes.
    /// </summary>
    private static IEnumerable<RawAlertMessage> UnpackTarStream(string source, ForwardStream stream, AlertLimits limits, int depth)
    {
        using var owned = stream;
        using var reader = new TarReader(stream, leaveOpen: true);
        int read = 0;
        while (true)
        {
            var (entry, error) = NextEntry(reader);
            if (error is not null)
            {
                yield return new RawAlertMessage(source, read, default, $"corrupt tar archive after {read} members: {error}");
                yield break;
            }
            if (entry is null) yield break;
            if (!Wanted(entry)) continue;
            string name = $"{source}::{entry.Name}";
            if (entry.Length > limits.MaxInflatedBytes)
            {
                yield return new RawAlertMessage(name, 0, default, MemberTooLarge(entry, limits));
                continue;
            }
            var data = Guarded(() =>
            {
                var b = new byte[entry.Length];
                int n = entry.DataStream!.ReadAtLeast(b, b.Length, throwOnEndOfStream: false);
                return n == b.Length ? b : throw new EndOfStreamException($"truncated tar archive: member {entry.Name} ends after {n} of its {entry.Length} bytes");
            }, out error);
            if (data is null)
            {
                yield return new RawAlertMessage(name, 0, default, error);
                yield break;
            }
            read++;
            foreach (var m in UnpackAt(name, data, limits, depth)) yield return m;
        }
    }

    private static (TarEntry? Entry, string? Error) NextEntry(TarReader reader)
    {
        try
        {
            return (reader.GetNextEntry(), null);
        }
        catch (EndOfStreamException)
        {
            // The archive ends without (all of) its closing zero blocks, as the ZTF public tarballs do.
            return (null, null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or ArgumentException or OverflowException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>
    /// A stream read forward only, whose <see cref="Position"/> says how much was read, and whose first bytes can be
    /// peeked at without losing them. Not seekable on purpose: .NET's tar reader then reads headers and data strictly
    /// in order, so the position after <see cref="TarReader.GetNextEntry"/> is where the entry's data starts, and data
    /// cut off is seen as such (over a seekable stream it seeks past the data, even past the end, without a word).
    /// With <c>gzip</c>, the inner stream is a <see cref="GZipStream"/> and its errors say so.
    /// </summary>
    private sealed class ForwardStream(Stream inner, bool gzip = false) : Stream
    {
        private long _position;
        private byte[] _peeked = [];
        private int _peekedAt;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        /// <summary>Up to <paramref name="count"/> first bytes (fewer at the end), read again by the next reads. Only before any read.</summary>
        public byte[] Peek(int count)
        {
            var head = new byte[count];
            int n = ReadInner(head);
            _peeked = head[..n];
            return _peeked;
        }

        public override int Read(Span<byte> buffer)
        {
            int n;
            if (_peekedAt < _peeked.Length)
            {
                n = Math.Min(buffer.Length, _peeked.Length - _peekedAt);
                _peeked.AsSpan(_peekedAt, n).CopyTo(buffer);
                _peekedAt += n;
            }
            else
            {
                n = ReadInner(buffer);
            }
            _position += n;
            return n;
        }

        private int ReadInner(Span<byte> buffer)
        {
            try
            {
                return inner.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            }
            catch (InvalidDataException e) when (gzip)
            {
                throw new InvalidDataException($"corrupt gzip: {e.Message}", e);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
