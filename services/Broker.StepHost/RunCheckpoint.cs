using System.Text.Json;
using Broker.Alerts.IO;

namespace Broker.StepHost;

/// <summary>
/// Where an in-process run over files stands, kept as <c>checkpoint.json</c> in its output folder so that a run
/// stopped with Ctrl+C or SIGTERM resumes with the same inputs and folder. The source is read in a fixed order, and
/// on a stop the runner finishes everything it has read (<see cref="InProcessPipeline"/>), so the messages done form
/// a prefix: a resumed run skips <see cref="Done"/> messages and writes its outputs to a new part file. A part that
/// was being written when the process was killed (SIGKILL) is discarded and its messages are done again, so no alert
/// is missing and none is written twice.
/// </summary>
public sealed class RunCheckpoint
{
    /// <summary>The file name inside the output folder.</summary>
    public const string FileName = "checkpoint.json";

    /// <summary>The inputs (full paths, in order) this checkpoint belongs to.</summary>
    public List<string> Inputs { get; set; } = [];

    /// <summary>Messages of the inputs fully accounted for (written, dead-lettered or dropped), as a prefix.</summary>
    public long Done { get; set; }

    /// <summary>True when the last run read its inputs to the end.</summary>
    public bool Complete { get; set; }

    /// <summary>Output part files closed cleanly, in order (names inside the folder).</summary>
    public List<string> Parts { get; set; } = [];

    /// <summary>The part being written, or null; a leftover one (the process was killed) is discarded on resume.</summary>
    public string? InProgress { get; set; }

    /// <summary>Runs so far, the first included.</summary>
    public int Runs { get; set; }

    /// <summary>
    /// The chain's named destinations (<see cref="InProcessPipeline.Destinations"/>). Each part is one file per
    /// destination: the part's own name for the default output, and for destination <c>d</c> the name with
    /// <c>.d</c> inserted (<see cref="PartFor"/>): <c>alerts.avro</c>, <c>alerts.d.avro</c>; <c>alerts-2.avro</c>, <c>alerts.d-2.avro</c>.
    /// </summary>
    public List<string> Destinations { get; set; } = [];

    /// <summary>The file of destination <paramref name="destination"/> in part <paramref name="part"/> (<see cref="Destinations"/>).</summary>
    public static string PartFor(string part, string destination)
    {
        if (destination == Destination.Default) return part;
        string ext = Path.GetExtension(part), stem = part[..^ext.Length];
        int dash = stem.LastIndexOf('-');
        bool numbered = dash > 0 && dash < stem.Length - 1 && !stem.AsSpan(dash + 1).ContainsAnyExceptInRange('0', '9');
        return numbered ? $"{stem[..dash]}.{destination}{stem[dash..]}{ext}" : $"{stem}.{destination}{ext}";
    }

    /// <summary>Each destination's file of <paramref name="part"/>, the default output's first.</summary>
    public IEnumerable<(string Destination, string File)> FilesOf(string part) =>
        Destinations.Prepend(Destination.Default).Select(d => (d, PartFor(part, d)));

    /// <summary>Every file of the parts closed cleanly, in order.</summary>
    public IEnumerable<string> Files => Parts.SelectMany(p => FilesOf(p).Select(f => f.File));

    /// <summary>Reads the checkpoint in <paramref name="folder"/>, or null when there is none or it is unreadable.</summary>
    public static RunCheckpoint? Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<RunCheckpoint>(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The checkpoint a new run in <paramref name="folder"/> continues: the stored one when it belongs to the same
    /// inputs and did not complete (a leftover part in progress is deleted), else a fresh one (old parts deleted).
    /// </summary>
    public static RunCheckpoint Begin(string folder, IReadOnlyList<string> inputs, bool resume, string firstPart, Func<int, string> partName,
        IReadOnlyList<string>? destinations = null)
    {
        var full = inputs.Select(Path.GetFullPath).ToList();
        var named = destinations?.ToList() ?? [];
        var old = Load(folder);
        if (resume && old is { Complete: false } && old.Inputs.SequenceEqual(full, StringComparer.Ordinal) && old.Destinations.SequenceEqual(named, StringComparer.Ordinal))
        {
            if (old.InProgress is { } leftover) old.Delete(folder, leftover);
            old.Runs++;
            old.InProgress = partName(old.Runs);
            return old;
        }
        if (old is not null)
        {
            foreach (var part in old.Parts.Append(old.InProgress ?? "")) if (part.Length > 0) old.Delete(folder, part);
        }
        return new RunCheckpoint { Inputs = full, Runs = 1, InProgress = firstPart, Destinations = named };
    }

    private void Delete(string folder, string part)
    {
        foreach (var (_, file) in FilesOf(part)) File.Delete(Path.Combine(folder, file));
    }

    /// <summary>True when this run continues an earlier, stopped one.</summary>
    public bool Resumed => Runs > 1;

    /// <summary>Records a run that ended (stopped or complete) after <paramref name="read"/> messages, its part closed.</summary>
    public void End(long read, bool stopped)
    {
        Done += read;
        Complete = !stopped;
        if (InProgress is { } part) Parts.Add(part);
        InProgress = null;
    }

    /// <summary>Writes the checkpoint atomically.</summary>
    public void Save(string folder)
    {
        string path = Path.Combine(folder, FileName), tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The source without its first <paramref name="count"/> messages (those a stopped run already did).</summary>
    public static async IAsyncEnumerable<SourceMessage> Skip(IAsyncEnumerable<SourceMessage> source, long count)
    {
        long seen = 0;
        await foreach (var m in source.ConfigureAwait(false))
        {
            if (seen++ < count) continue;
            yield return m;
        }
    }
}
