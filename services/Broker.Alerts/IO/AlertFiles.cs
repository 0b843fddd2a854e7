using System.Formats.Tar;

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

    /// <summary>Every raw message of every path, in order: <see cref="Files"/>, each read and <see cref="Unpack"/>ed.</summary>
    /// <exception cref="FileNotFoundException">A path is neither a file nor a folder.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">A file cannot be read.</exception>
    public static IEnumerable<RawAlertMessage> Read(IEnumerable<string> paths)
    {
        foreach (var file in Files(paths))
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(file);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new FileNotFoundException($"no such file or folder: {file}", file, e);
            }
            foreach (var m in Unpack(file, bytes)) yield return m;
        }
    }

    /// <summary>
    /// The raw messages in one file's bytes: gzip is inflated and tar archives are opened, by their magic bytes and
    /// at any depth (members in ordinal name order, without <see cref="SkippedExtensions"/>); anything else is one
    /// message as it is. Bad input never throws: damage is an item with <see cref="RawAlertMessage.Error"/>, after
    /// whatever could be read. An archive that ends without its closing zero blocks is not damaged.
    /// </summary>
    public static IEnumerable<RawAlertMessage> Unpack(string source, ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        if (Gzip.IsGzip(span))
        {
            byte[] inflated;
            try
            {
                inflated = Gzip.Inflate(span);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                return [new RawAlertMessage(source, 0, bytes, $"corrupt gzip: {e.Message}")];
            }
            return Unpack(source, inflated);
        }
        if (IsTar(span)) return UnpackTar(source, bytes);
        return [new RawAlertMessage(source, 0, bytes)];
    }

    /// <summary>True for a POSIX (ustar) or GNU tar archive: "ustar" at offset 257 of the first header.</summary>
    private static bool IsTar(ReadOnlySpan<byte> span) =>
        span.Length >= TarBlock && span.Slice(257, 5).SequenceEqual("ustar"u8);

    private static IEnumerable<RawAlertMessage> UnpackTar(string source, ReadOnlyMemory<byte> tar)
    {
        var members = new List<(string Name, byte[] Data)>();
        RawAlertMessage? damage = null;
        // Where the next header starts: past the last entry's data, padded to whole blocks.
        long next = 0;
        using (var stream = new ForwardStream(tar))
        {
            try
            {
                using var reader = new TarReader(stream, leaveOpen: true);
                while (reader.GetNextEntry() is { } entry)
                {
                    // The reader has consumed the headers and nothing more: the entry's data starts here.
                    long start = stream.Position;
                    next = start + (entry.Length + TarBlock - 1) / TarBlock * TarBlock;
                    bool wanted = entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is not null && !IsSkipped(entry.Name);
                    if (start + entry.Length > tar.Length)
                    {
                        // .NET's reader hands out the short data without complaint; the archive was cut off here.
                        damage = new RawAlertMessage($"{source}::{entry.Name}", 0, tar[(int)Math.Min(start, tar.Length)..],
                            $"truncated tar archive: member {entry.Name} ends after {Math.Max(0, tar.Length - start)} of its {entry.Length} bytes");
                        break;
                    }
                    if (!wanted) continue;
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
            foreach (var m in Unpack($"{source}::{name}", data)) yield return m;
        }
        if (damage is { } d) yield return d;
    }

    /// <summary>
    /// The bytes as a forward-only stream whose <see cref="Position"/> says how much was read. Not seekable on
    /// purpose: .NET's tar reader then reads headers and data strictly in order, so the position after
    /// <see cref="TarReader.GetNextEntry"/> is where the entry's data starts, and data cut off is seen as such
    /// (over a seekable stream it seeks past the data, even past the end, without a word).
    /// </summary>
    private sealed class ForwardStream(ReadOnlyMemory<byte> bytes) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(Span<byte> buffer)
        {
            int n = Math.Min(buffer.Length, bytes.Length - _position);
            bytes.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
