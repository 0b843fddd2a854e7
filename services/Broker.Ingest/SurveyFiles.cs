using System.Runtime.InteropServices;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.StepHost;

namespace Broker.Ingest;

/// <summary>
/// Turns alert files into the Kafka messages a survey would have sent: one message per alert. Files, folders and
/// archives are found and unpacked as <see cref="AlertFiles"/> says (the same alerts <c>broker decode</c> sees, in
/// the same order); a ZTF container holding several alerts (Fink's data-transfer files) is then split into
/// one-alert containers with the same writer schema; Confluent-framed messages pass as they are. Anything else,
/// and damage found while unpacking (a corrupt gzip file, a tar archive cut short), goes on as its bytes, so that
/// ingest reports it as a dead letter under its source's name.
/// </summary>
public static class SurveyFiles
{
    /// <summary>The messages of every path, in order; with <paramref name="withKeys"/>, keys are alert ids where the message decodes.</summary>
    /// <exception cref="FileNotFoundException">A path is neither a file nor a folder.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static IEnumerable<SourceMessage> Read(IEnumerable<string> paths, ISchemaRegistry? registry, bool withKeys = true)
    {
        foreach (var raw in AlertFiles.Read(paths))
        {
            foreach (var m in Split(raw.Source, WholeArray(raw.Bytes), registry, withKeys)) yield return m;
        }
    }

    /// <summary>The same as <see cref="Read"/>, as an async stream for the in-process runner.</summary>
    public static async IAsyncEnumerable<SourceMessage> ReadAsync(IEnumerable<string> paths, ISchemaRegistry? registry, bool withKeys = true)
    {
        foreach (var m in Read(paths, registry, withKeys))
        {
            yield return m;
            await Task.CompletedTask.ConfigureAwait(false);
        }
    }

    /// <summary>The bytes' array when they are all of one (files, archive members and inflated gzip are), else a copy.</summary>
    private static byte[] WholeArray(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : bytes.ToArray();

    /// <summary>
    /// How many messages <see cref="Read"/> gives for the paths (for a progress bar): the files are read and
    /// unpacked, and the records of a container counted by skipping over them, but nothing is split, re-encoded
    /// or keyed.
    /// </summary>
    /// <inheritdoc cref="Read" path="/exception"/>
    public static long Count(IEnumerable<string> paths)
    {
        long n = 0;
        foreach (var raw in AlertFiles.Read(paths)) n += Records(raw.Bytes) is { Datums.Count: > 1 } records ? records.Datums.Count : 1;
        return n;
    }

    /// <summary>One message per alert in <paramref name="bytes"/>.</summary>
    public static IEnumerable<SourceMessage> Split(string source, byte[] bytes, ISchemaRegistry? registry, bool withKeys = true)
    {
        if (Records(bytes) is { Datums.Count: > 1 } records)
        {
            var (schema, datums) = records;
            for (int i = 0; i < datums.Count; i++)
            {
                using var ms = new MemoryStream();
                using (var writer = new AvroContainerWriter(ms, schema, "null", leaveOpen: true))
                    writer.AppendEncoded(datums[i].Span);
                byte[] one = ms.ToArray();
                yield return new SourceMessage(source, i, one, withKeys ? SurveyMessage.TryKey(one, registry) : null);
            }
            yield break;
        }
        yield return new SourceMessage(source, 0, bytes, withKeys ? SurveyMessage.TryKey(bytes, registry) : null);
    }

    /// <summary>The raw records of a readable Avro container with their writer schema; null for anything else, which goes on as one message.</summary>
    private static (AvroSchema WriterSchema, List<ReadOnlyMemory<byte>> Datums)? Records(ReadOnlyMemory<byte> bytes)
    {
        if (!AvroContainerReader.IsContainer(bytes.Span)) return null;
        try
        {
            var container = AvroContainerReader.Open(bytes);
            return (container.WriterSchema, container.RawDatums().ToList());
        }
        catch (Exception ex) when (ex is FormatException or IOException or InvalidDataException)
        {
            return null;
        }
    }
}
