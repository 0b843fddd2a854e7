using System.Formats.Tar;
using Broker.Alerts.Avro;

namespace Broker.Alerts.IO;

/// <summary>
/// One record read from an alert file, or the reason a file (or part of one) could not be read. Exactly one of
/// <see cref="Record"/> and <see cref="Error"/> is set.
/// </summary>
/// <param name="Source">The file, with <c>::member</c> for a member of a tar archive.</param>
/// <param name="Index">The record's position in its source (0 for single messages).</param>
/// <param name="Framing">How the bytes were framed: <c>container</c>, <c>confluent</c> or <c>single-object</c>.</param>
/// <param name="WriterSchema">The schema the record was written with, when known.</param>
/// <param name="Record">The decoded record (through the reader schema, when one was given).</param>
/// <param name="Datum">The record's Avro binary encoding as written (for a container: the datum; for a message: the body).</param>
/// <param name="SchemaId">The Confluent schema id, for Confluent-framed messages.</param>
/// <param name="Error">Why this source could not be read (names the record and field where known).</param>
public sealed record AlertFileItem(
    string Source,
    int Index,
    string Framing,
    AvroSchema? WriterSchema,
    AvroRecord? Record,
    ReadOnlyMemory<byte> Datum,
    int? SchemaId,
    string? Error)
{
    /// <summary>True when the item holds a record.</summary>
    public bool Ok => Error is null;
}

/// <summary>
/// Reads survey alerts from paths: Avro container files (ZTF packets, Spark re-serialisations, Broker output),
/// Confluent-framed messages (Rubin; schema id resolved through an <see cref="ISchemaRegistry"/>), Avro
/// single-object messages, <c>.tar.gz</c> / <c>.tar</c> bundles of any of these (the ZTF public archive's
/// nightly tarballs), and folders of them (recursively, in name order). Bad input never throws: each problem
/// becomes an item with an <see cref="AlertFileItem.Error"/> naming the file, and reading goes on.
/// </summary>
public sealed class AlertFileReader(ISchemaRegistry? registry = null, AvroSchema? readerSchema = null)
{
    private static readonly string[] SkippedExtensions = [".avsc", ".json", ".md", ".txt", ".csv", ".metadata", ".npy", ".png"];

    /// <summary>Every item from every path, in order.</summary>
    public IEnumerable<AlertFileItem> Read(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    if (SkippedExtensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase)) continue;
                    foreach (var item in ReadFile(file)) yield return item;
                }
            }
            else
            {
                foreach (var item in ReadFile(path)) yield return item;
            }
        }
    }

    /// <summary>Every item in one file.</summary>
    public IEnumerable<AlertFileItem> ReadFile(string path)
    {
        byte[] bytes;
        string? error = null;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bytes = [];
            error = e is FileNotFoundException or DirectoryNotFoundException ? "no such file or folder" : e.Message;
        }
        if (error is not null)
        {
            yield return Fail(path, 0, "", error);
            yield break;
        }
        foreach (var item in ReadBytes(path, bytes)) yield return item;
    }

    /// <summary>Every item in an in-memory file or message.</summary>
    public IEnumerable<AlertFileItem> ReadBytes(string source, ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        if (span.Length == 0) return [Fail(source, 0, "", "empty file")];
        if (span.Length >= 2 && span[0] == 0x1f && span[1] == 0x8b) return ReadGzip(source, bytes);
        if (IsTar(span)) return ReadTar(source, new MemoryStream(bytes.ToArray(), writable: false));
        if (AvroContainerReader.IsContainer(span)) return ReadContainer(source, bytes);
        if (AvroSingleObject.IsSingleObject(span)) return [ReadSingleObject(source, bytes)];
        if (span[0] == ConfluentWireFormat.MagicByte && span.Length > ConfluentWireFormat.HeaderLength) return [ReadConfluent(source, bytes)];
        return [Fail(source, 0, "", $"unrecognised format (first bytes {Convert.ToHexString(span[..Math.Min(4, span.Length)])}; expected an Avro container 'Obj\\x01', Confluent framing 0x00 + schema id, single-object C3 01, or gzip/tar)")];
    }

    private static bool IsTar(ReadOnlySpan<byte> span) =>
        span.Length >= 512 && span.Slice(257, 5).SequenceEqual("ustar"u8);

    private IEnumerable<AlertFileItem> ReadGzip(string source, ReadOnlyMemory<byte> bytes)
    {
        byte[] inflated;
        string? error = null;
        try
        {
            inflated = Gzip.Inflate(bytes.Span);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            inflated = [];
            error = $"corrupt gzip: {e.Message}";
        }
        if (error is not null) return [Fail(source, 0, "", error)];
        if (IsTar(inflated)) return ReadTar(source, new MemoryStream(inflated, writable: false));
        return ReadBytes(source, inflated);
    }

    private IEnumerable<AlertFileItem> ReadTar(string source, Stream tar)
    {
        var members = new List<(string Name, byte[] Data)>();
        string? error = null;
        try
        {
            using var reader = new TarReader(tar);
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                using var ms = new MemoryStream();
                entry.DataStream.CopyTo(ms);
                members.Add((entry.Name, ms.ToArray()));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException)
        {
            error = $"corrupt tar archive after {members.Count} members: {e.Message}";
        }
        foreach (var (name, data) in members)
        {
            if (SkippedExtensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase)) continue;
            foreach (var item in ReadBytes($"{source}::{name}", data)) yield return item;
        }
        if (error is not null) yield return Fail(source, members.Count, "", error);
    }

    private IEnumerable<AlertFileItem> ReadContainer(string source, ReadOnlyMemory<byte> bytes)
    {
        AvroContainerReader container;
        AvroDatumReader datumReader;
        try
        {
            container = AvroContainerReader.Open(bytes);
            datumReader = AvroDatumReader.For(container.WriterSchema, readerSchema);
        }
        catch (Exception e) when (e is FormatException)
        {
            return [Fail(source, 0, "container", e.Message)];
        }
        return Records(source, container, datumReader);
    }

    private static IEnumerable<AlertFileItem> Records(string source, AvroContainerReader container, AvroDatumReader datumReader)
    {
        using var e = container.Datums(datumReader).GetEnumerator();
        int index = 0;
        while (true)
        {
            AlertFileItem item;
            bool failed = false;
            try
            {
                if (!e.MoveNext()) yield break;
                var (datum, value) = e.Current;
                item = value is AvroRecord record
                    ? new AlertFileItem(source, index, "container", container.WriterSchema, record, datum, null, null)
                    : Fail(source, index, "container", $"record {index} is a {container.WriterSchema.DisplayName}, not a record");
            }
            catch (FormatException ex)
            {
                // The rest of a container cannot be located once a record fails to decode.
                item = Fail(source, index, "container", ex.Message);
                failed = true;
            }
            yield return item;
            if (failed) yield break;
            index++;
        }
    }

    private AlertFileItem ReadConfluent(string source, ReadOnlyMemory<byte> bytes)
    {
        ConfluentWireFormat.TryParse(bytes.Span, out int id, out _);
        var body = bytes[ConfluentWireFormat.HeaderLength..];
        if (registry is null)
            return Fail(source, 0, "confluent", $"Confluent-framed message with schema id {id}: give --schemas DIR or --schema-registry URL to resolve it");
        try
        {
            var writer = registry.GetSchema(id);
            var value = AvroDatumReader.For(writer, readerSchema).Read(body.Span);
            return value is AvroRecord record
                ? new AlertFileItem(source, 0, "confluent", writer, record, body, id, null)
                : Fail(source, 0, "confluent", $"schema id {id} is not a record schema");
        }
        catch (SchemaNotFoundException e)
        {
            return Fail(source, 0, "confluent", $"unknown Confluent schema id {id}: {e.Message}");
        }
        catch (FormatException e)
        {
            return Fail(source, 0, "confluent", $"schema id {id}: {e.Message}");
        }
    }

    private AlertFileItem ReadSingleObject(string source, ReadOnlyMemory<byte> bytes)
    {
        var (fp, body) = AvroSingleObject.Split(bytes);
        AvroSchema? writer = null;
        if (registry is FolderSchemaRegistry folder)
        {
            foreach (int id in folder.Ids)
            {
                var s = folder.GetSchema(id);
                if (s.Fingerprint == fp) { writer = s; break; }
            }
        }
        if (writer is null) return Fail(source, 0, "single-object", $"no known schema has CRC-64-AVRO fingerprint {fp:x16}");
        try
        {
            var value = AvroDatumReader.For(writer, readerSchema).Read(body.Span);
            return value is AvroRecord record
                ? new AlertFileItem(source, 0, "single-object", writer, record, body, null, null)
                : Fail(source, 0, "single-object", "the schema is not a record schema");
        }
        catch (FormatException e)
        {
            return Fail(source, 0, "single-object", e.Message);
        }
    }

    private static AlertFileItem Fail(string source, int index, string framing, string error) =>
        new(source, index, framing, null, null, default, null, error);
}
