using System.Text.Json;

namespace Broker.Cli.Tests;

/// <summary>One instance that <c>broker up</c> lists in its log folder's instances.json.</summary>
internal sealed record UpInstance(string Stage, int Number, int Pid, string Url, int Restarts)
{
    /// <summary>The instances listed now. broker up writes the file aside and renames it; a missing file is retried briefly.</summary>
    public static List<UpInstance> Read(string logs)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(logs, "instances.json")));
                return doc.RootElement.EnumerateArray().Select(e => new UpInstance(e.GetProperty("stage").GetString()!, e.GetProperty("instance").GetInt32(),
                    e.GetProperty("pid").GetInt32(), e.GetProperty("url").GetString()!, e.GetProperty("restarts").GetInt32())).ToList();
            }
            catch (Exception e) when (attempt < 20 && e is JsonException or IOException)
            {
                Thread.Sleep(50);
            }
        }
    }
}
