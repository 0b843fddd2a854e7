using System.Runtime.InteropServices;
using Broker.Alerts.Avro;

namespace Broker.Alerts.IO;

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
    /// <param name="paths">Files and folders.</param>
    /// <param name="registry">Resolves Confluent schema ids (for keys).</param>
    /// <param name="withKeys">Decode each message for its key.</param>
    /// <param name="limits">What one file, member or message may cost (default <see cref="AlertLimits.Default"/>).</param>
    /// <param name="onBadInput">
    /// Told of every damaged input, in order, before it is passed on: damage found while reading or unpacking (a
    /// missing file, a corrupt gzip, a member over a limit) and, with <paramref name="withKeys"/>, a message that does
    /// not decode. Damage without bytes (<see cref="RawAlertMessage.Bytes"/> empty: unreadable, or too large to hold)
    /// is not passed on as a message; everything else is, so that ingest dead-letters it under its source's name.
    /// </param>
    /// <remarks>Never throws for a damaged or unreadable file.</remarks>
    public static IEnumerable<SourceMessage> Read(IEnumerable<string> paths, ISchemaRegistry? registry, bool withKeys = true,
        AlertLimits? limits = null, Action<RawAlertMessage>? onBadInput = null)
    {
        foreach (var raw in AlertFiles.Read(paths, limits))
        {
            if (raw.Error is not null)
            {
                onBadInput?.Invoke(raw);
                if (raw.Bytes.IsEmpty) continue;
            }
            foreach (var m in Split(raw.Source, WholeArray(raw.Bytes), registry, withKeys, limits))
            {
                if (withKeys && m.Key is null && raw.Error is null)
                    onBadInput?.Invoke(new RawAlertMessage(m.Source, m.Index, m.Value, SurveyMessage.Problem(m.Value, registry, limits) ?? "no alert id"));
                yield return m;
            }
        }
    }

    /// <summary>The same as <see cref="Read"/>, as an async stream for the in-process runner.</summary>
    public static async IAsyncEnumerable<SourceMessage> ReadAsync(IEnumerable<string> paths, ISchemaRegistry? registry, bool withKeys = true,
        AlertLimits? limits = null, Action<RawAlertMessage>? onBadInput = null)
    {
        foreach (var m in Read(paths, registry, withKeys, limits, onBadInput))
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
    public static long Count(IEnumerable<string> paths, AlertLimits? limits = null)
    {
        long n = 0;
        foreach (var raw in AlertFiles.Read(paths, limits))
        {
            if (raw.Error is not null && raw.Bytes.IsEmpty) continue;
            n += Records(raw.Bytes, limits) is { Datums.Count: > 1 } records ? records.Datums.Count : 1;
        }
        return n;
    }

    /// <summary>One message per alert in <paramref name="bytes"/>.</summary>
    public static IEnumerable<SourceMessage> Split(string source, byte[] bytes, ISchemaRegistry? registry, bool withKeys = true, AlertLimits? limits = null)
    {
        if (Records(bytes, limits) is { Datums.Count: > 1 } records)
        {
            var (schema, datums) = records;
            for (int i = 0; i < datums.Count; i++)
            {
                using var ms = new MemoryStream();
                using (var writer = new AvroContainerWriter(ms, schema, "null", leaveOpen: true))
                    writer.AppendEncoded(datums[i].Span);
                byte[] one = ms.ToArray();
                yield return new SourceMessage(source, i, one, withKeys ? SurveyMessage.TryKey(one, registry, limits) : null);
            }
            yield break;
        }
        yield return new SourceMessage(source, 0, bytes, withKeys ? SurveyMessage.TryKey(bytes, registry, limits) : null);
    }

    /// <summary>The raw records of a readable Avro container with their writer schema; null for anything else, which goes on as one message.</summary>
    private static (AvroSchema WriterSchema, List<ReadOnlyMemory<byte>> Datums)? Records(ReadOnlyMemory<byte> bytes, AlertLimits? limits)
    {
        if (!AvroContainerReader.IsContainer(bytes.Span)) return null;
        try
        {
            var container = AvroContainerReader.Open(bytes, (limits ?? AlertLimits.Default).MaxInflatedBytes);
            return (container.WriterSchema, container.RawDatums().ToList());
        }
        catch (Exception ex) when (ex is FormatException or IOException or InvalidDataException)
        {
            return null;
        }
    }
}
