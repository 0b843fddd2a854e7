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
/// single-object messages, gzipped files and <c>.tar.gz</c> / <c>.tar</c> bundles of any of these (the ZTF public
/// archive's nightly tarballs), and folders of them: found and unpacked as <see cref="AlertFiles"/> says, like
/// every other reader of alert files. Bad input never throws: each problem becomes an item with an
/// <see cref="AlertFileItem.Error"/> naming the file, and reading goes on.
/// </summary>
public sealed class AlertFileReader(ISchemaRegistry? registry = null, AvroSchema? readerSchema = null, AlertLimits? limits = null)
{
    private readonly AlertLimits _limits = limits ?? AlertLimits.Default;

    /// <summary>Every item from every path, in order.</summary>
    public IEnumerable<AlertFileItem> Read(IEnumerable<string> paths)
    {
        foreach (var file in AlertFiles.Files(paths))
        {
            foreach (var item in ReadFile(file)) yield return item;
        }
    }

    /// <summary>Every item in one file (read within the reader's <see cref="AlertLimits"/>, as <see cref="AlertFiles.ReadFile"/> says).</summary>
    public IEnumerable<AlertFileItem> ReadFile(string path) => Items(AlertFiles.ReadFile(path, _limits));

    /// <summary>Every item in an in-memory file or message.</summary>
    public IEnumerable<AlertFileItem> ReadBytes(string source, ReadOnlyMemory<byte> bytes) => Items(AlertFiles.Unpack(source, bytes, _limits));

    private IEnumerable<AlertFileItem> Items(IEnumerable<RawAlertMessage> messages)
    {
        foreach (var raw in messages)
        {
            if (raw.Error is not null)
            {
                yield return Fail(raw.Source, raw.Index, "", raw.Error);
                continue;
            }
            foreach (var item in Decode(raw.Source, raw.Bytes)) yield return item;
        }
    }

    private IEnumerable<AlertFileItem> Decode(string source, ReadOnlyMemory<byte> bytes)
    {
        var span = bytes.Span;
        if (span.Length == 0) return [Fail(source, 0, "", "empty file")];
        if (AvroContainerReader.IsContainer(span)) return ReadContainer(source, bytes);
        if (AvroSingleObject.IsSingleObject(span)) return [ReadSingleObject(source, bytes)];
        if (span[0] == ConfluentWireFormat.MagicByte && span.Length > ConfluentWireFormat.HeaderLength) return [ReadConfluent(source, bytes)];
        return [Fail(source, 0, "", $"unrecognised format (first bytes {Convert.ToHexString(span[..Math.Min(4, span.Length)])}; expected an Avro container 'Obj\\x01', Confluent framing 0x00 + schema id, single-object C3 01, or gzip/tar)")];
    }

    private IEnumerable<AlertFileItem> ReadContainer(string source, ReadOnlyMemory<byte> bytes)
    {
        AvroContainerReader container;
        AvroDatumReader datumReader;
        try
        {
            container = AvroContainerReader.Open(bytes, _limits.MaxInflatedBytes);
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
