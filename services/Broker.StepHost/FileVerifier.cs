using System.Security.Cryptography;
using System.Text.Json;

namespace Broker.StepHost;

/// <summary>A file checked against the SHA-256 (and size) it was expected to have.</summary>
/// <param name="Path">Its full path.</param>
/// <param name="Sha256">Its SHA-256, lower-case hex.</param>
/// <param name="Bytes">Its size.</param>
public sealed record VerifiedFile(string Path, string Sha256, long Bytes);

/// <summary>
/// Checks the files a step needs (model files, catalogue slices) against what their manifest says, for a step's
/// start-up hook (<see cref="IStepStartup"/>): a file that is missing, or whose size or SHA-256 differs, is refused
/// with one line naming the file, the manifest and both values, as a <see cref="StepHostConfigurationException"/>
/// (the service exits 2: a restart would find the same file).
/// </summary>
/// <remarks>
/// A manifest is a JSON object naming one file, <c>{"file": "model.onnx", "sha256": "...", "bytes": 1250015}</c>, or
/// several, <c>{"files": [{"file": ..., "sha256": ...}, ...]}</c>; <c>bytes</c> is optional, and every other property
/// (a model's inputs, classes, metrics) is the caller's to read. File names are relative to the manifest's folder.
/// </remarks>
public static class FileVerifier
{
    /// <summary>Checks one file against an expected SHA-256 and, when given, size.</summary>
    /// <param name="path">The file.</param>
    /// <param name="sha256">Expected SHA-256, hex (either case).</param>
    /// <param name="bytes">Expected size, or null not to check it apart from the hash.</param>
    /// <param name="what">What the file is, for the message (<c>model file</c>, <c>catalogue file</c>).</param>
    /// <param name="manifest">The manifest that names the file, for the message; null when none does.</param>
    /// <exception cref="StepHostConfigurationException">The file is missing, unreadable, or differs.</exception>
    public static VerifiedFile Verify(string path, string sha256, long? bytes = null, string what = "file", string? manifest = null) =>
        Check(path, sha256, bytes, what, manifest);

    /// <summary>Checks every file a manifest names.</summary>
    /// <param name="manifest">The manifest file.</param>
    /// <param name="what">What its files are, for the message (<c>model file</c>, <c>catalogue file</c>).</param>
    /// <returns>The files, in the manifest's order.</returns>
    /// <exception cref="StepHostConfigurationException">The manifest is missing or not valid, or a file it names is missing, unreadable or differs.</exception>
    public static IReadOnlyList<VerifiedFile> VerifyManifest(string manifest, string what = "file")
    {
        string full = System.IO.Path.GetFullPath(manifest);
        string folder = System.IO.Path.GetDirectoryName(full)!;
        var entries = ReadManifest(full);
        var files = new List<VerifiedFile>(entries.Count);
        foreach (var (file, sha256, bytes) in entries)
            files.Add(Check(System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, file)), sha256, bytes, what, full));
        return files;
    }

    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static VerifiedFile Check(string path, string sha256, long? bytes, string what, string? manifest)
    {
        string source = manifest is null ? "" : $" its manifest '{manifest}'";
        if (Directory.Exists(path)) throw Refused($"{what} '{path}' is a folder, not a file");
        if (!File.Exists(path)) throw Refused($"{what} '{path}' does not exist{(manifest is null ? "" : $" (named by manifest '{manifest}')")}");
        long size;
        string actual;
        try
        {
            size = new FileInfo(path).Length;
            // The size first: a truncated copy is told apart without reading it.
            if (bytes is { } expectedBytes && size != expectedBytes)
                throw Refused($"{what} '{path}' does not match{source}: {size} bytes, expected {expectedBytes}");
            actual = Sha256(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Refused($"{what} '{path}' cannot be read: {e.Message}");
        }
        if (!actual.Equals(sha256, StringComparison.OrdinalIgnoreCase))
            throw Refused($"{what} '{path}' does not match{source}: sha256 {actual}, expected {sha256.ToLowerInvariant()}");
        return new VerifiedFile(path, actual, size);
    }

    private static List<(string File, string Sha256, long? Bytes)> ReadManifest(string manifest)
    {
        if (!File.Exists(manifest)) throw Refused($"manifest '{manifest}' does not exist");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
        }
        catch (JsonException e)
        {
            throw Refused($"manifest '{manifest}' is not valid: not JSON ({e.Message})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Refused($"manifest '{manifest}' cannot be read: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Refused($"manifest '{manifest}' is not valid: not a JSON object");
            var entries = new List<(string, string, long?)>();
            if (root.TryGetProperty("files", out var list))
            {
                if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
                    throw Refused($"manifest '{manifest}' is not valid: \"files\" is not a non-empty array");
                int i = 0;
                foreach (var entry in list.EnumerateArray()) entries.Add(Entry(manifest, entry, $"files[{i++}]"));
            }
            else
            {
                entries.Add(Entry(manifest, root, "the manifest"));
            }
            return entries;
        }
    }

    private static (string File, string Sha256, long? Bytes) Entry(string manifest, JsonElement entry, string where)
    {
        string? Text(string name) =>
            entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        string file = Text("file") is { Length: > 0 } f ? f : throw Refused($"manifest '{manifest}' is not valid: {where} names no \"file\"");
        string sha256 = Text("sha256") ?? throw Refused($"manifest '{manifest}' is not valid: {where} gives no \"sha256\"");
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigit))
            throw Refused($"manifest '{manifest}' is not valid: {where} sha256 '{sha256}' is not 64 hexadecimal digits");
        long? bytes = null;
        if (entry.TryGetProperty("bytes", out var b))
        {
            bytes = b.ValueKind == JsonValueKind.Number && b.TryGetInt64(out long n) && n >= 0 ? n
                : throw Refused($"manifest '{manifest}' is not valid: {where} bytes {b.GetRawText()} is not a size");
        }
        return (file, sha256, bytes);
    }

    private static StepHostConfigurationException Refused(string message) => new(message);
}
