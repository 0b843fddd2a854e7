using System.Formats.Tar;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.StepHost;

namespace Broker.Ingest;

/// <summary>
/// Turns alert files into the Kafka messages a survey would have sent: one message per alert. A ZTF container
/// holding several alerts (Fink's data-transfer files) is split into one-alert containers with the same writer
/// schema; Confluent-framed files pass as they are; <c>.tar.gz</c> archives are opened; folders are walked in
/// name order. Files that are neither are passed through as they are, so ingest reports them as dead letters.
/// </summary>
public static class SurveyFiles
{
    private static readonly string[] Skipped = [".avsc", ".json", ".md", ".csv", ".txt", ".metadata", ".tsv", ".py", ".parquet", ".h5", ".pt"];

    /// <summary>The messages of every path, in order; with <paramref name="withKeys"/>, keys are alert ids where the message decodes.</summary>
    public static IEnumerable<SourceMessage> Read(IEnumerable<string> paths, ISchemaRegistry? registry, bool withKeys = true)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.GetFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    if (Skipped.Any(s => file.EndsWith(s, StringComparison.OrdinalIgnoreCase))) continue;
                    foreach (var m in ReadFile(file, registry, withKeys)) yield return m;
                }
            }
            else if (File.Exists(path))
            {
                foreach (var m in ReadFile(path, registry, withKeys)) yield return m;
            }
            else
            {
                throw new FileNotFoundException($"no such file or folder: {path}", path);
            }
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

    private static IEnumerable<SourceMessage> ReadFile(string file, ISchemaRegistry? registry, bool withKeys)
    {
        if (file.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tar", StringComparison.OrdinalIgnoreCase))
        {
            var members = new List<(string Name, byte[] Bytes)>();
            byte[] fileBytes = File.ReadAllBytes(file);
            var tarBytes = new MemoryStream(file.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? fileBytes : Gzip.Inflate(fileBytes), writable: false);
            using (var reader = new TarReader(tarBytes))
            {
                try
                {
                    while (reader.GetNextEntry() is { } entry)
                    {
                        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                        using var ms = new MemoryStream();
                        entry.DataStream.CopyTo(ms);
                        members.Add((entry.Name, ms.ToArray()));
                    }
                }
                catch (EndOfStreamException)
                {
                    // Some archives (the ZTF public tarballs among them) end without the two zero blocks.
                }
            }
            foreach (var (name, bytes) in members.OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                foreach (var m in Split(file + "::" + name, bytes, registry, withKeys)) yield return m;
            }
        }
        else
        {
            foreach (var m in Split(file, File.ReadAllBytes(file), registry, withKeys)) yield return m;
        }
    }

    /// <summary>One message per alert in <paramref name="bytes"/>.</summary>
    public static IEnumerable<SourceMessage> Split(string source, byte[] bytes, ISchemaRegistry? registry, bool withKeys = true)
    {
        if (AvroContainerReader.IsContainer(bytes))
        {
            List<ReadOnlyMemory<byte>>? datums = null;
            AvroContainerReader? container = null;
            try
            {
                container = AvroContainerReader.Open(bytes);
                datums = container.RawDatums().ToList();
            }
            catch (Exception ex) when (ex is FormatException or IOException or InvalidDataException)
            {
                datums = null;
            }
            if (datums is { Count: > 1 } && container is not null)
            {
                for (int i = 0; i < datums.Count; i++)
                {
                    using var ms = new MemoryStream();
                    using (var writer = new AvroContainerWriter(ms, container.WriterSchema, "null", leaveOpen: true))
                        writer.AppendEncoded(datums[i].Span);
                    byte[] one = ms.ToArray();
                    yield return new SourceMessage(source, i, one, withKeys ? SurveyMessage.TryKey(one, registry) : null);
                }
                yield break;
            }
        }
        yield return new SourceMessage(source, 0, bytes, withKeys ? SurveyMessage.TryKey(bytes, registry) : null);
    }
}
