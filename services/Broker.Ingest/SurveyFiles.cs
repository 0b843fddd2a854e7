using System.Formats.Tar;
using System.IO.Compression;
using Broker.Alerts.Avro;
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

    /// <summary>The messages of every path, in order; keys are alert ids where the message decodes.</summary>
    public static IEnumerable<SourceMessage> Read(IEnumerable<string> paths, ISchemaRegistry? registry)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.GetFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    if (Skipped.Any(s => file.EndsWith(s, StringComparison.OrdinalIgnoreCase))) continue;
                    foreach (var m in ReadFile(file, registry)) yield return m;
                }
            }
            else if (File.Exists(path))
            {
                foreach (var m in ReadFile(path, registry)) yield return m;
            }
            else
            {
                throw new FileNotFoundException($"no such file or folder: {path}", path);
            }
        }
    }

    /// <summary>The same as <see cref="Read"/>, as an async stream for the in-process runner.</summary>
    public static async IAsyncEnumerable<SourceMessage> ReadAsync(IEnumerable<string> paths, ISchemaRegistry? registry)
    {
        foreach (var m in Read(paths, registry))
        {
            yield return m;
            await Task.CompletedTask.ConfigureAwait(false);
        }
    }

    private static IEnumerable<SourceMessage> ReadFile(string file, ISchemaRegistry? registry)
    {
        if (file.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) || file.EndsWith(".tar", StringComparison.OrdinalIgnoreCase))
        {
            var members = new List<(string Name, byte[] Bytes)>();
            using (var stream = File.OpenRead(file))
            using (Stream tar = file.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? stream : new GZipStream(stream, CompressionMode.Decompress))
            using (var reader = new TarReader(tar))
            {
                while (reader.GetNextEntry() is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                    using var ms = new MemoryStream();
                    entry.DataStream.CopyTo(ms);
                    members.Add((entry.Name, ms.ToArray()));
                }
            }
            foreach (var (name, bytes) in members.OrderBy(m => m.Name, StringComparer.Ordinal))
            {
                foreach (var m in Split(file + "::" + name, bytes, registry)) yield return m;
            }
        }
        else
        {
            foreach (var m in Split(file, File.ReadAllBytes(file), registry)) yield return m;
        }
    }

    /// <summary>One message per alert in <paramref name="bytes"/>.</summary>
    public static IEnumerable<SourceMessage> Split(string source, byte[] bytes, ISchemaRegistry? registry)
    {
        if (AvroContainerReader.IsContainer(bytes))
        {
            List<ReadOnlyMemory<byte>>? datums = null;
            AvroContainerReader? container = null;
            try
            {
                container = AvroContainerReader.Open(bytes);
                datums = container.Blocks().ToList();
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
                    yield return new SourceMessage(source, i, one, SurveyMessage.TryKey(one, registry));
                }
                yield break;
            }
        }
        yield return new SourceMessage(source, 0, bytes, SurveyMessage.TryKey(bytes, registry));
    }
}
