using System.Text.Json;
using System.Text.Json.Serialization;

namespace Broker.Onnx;

/// <summary>
/// Reading and writing a model manifest (the stamp classifier's, the light-curve forests', the periodic CNN's): each
/// manifest keeps its own JSON options and its own exception type; the checks and the one-line messages are here.
/// </summary>
public static class ModelManifestJson
{
    /// <summary>
    /// The options a manifest is read and written with: camelCase, indented, nulls left out, comments and trailing
    /// commas accepted, text as written ("+", "'", non-ASCII, not \u002B: people read manifests too), plus
    /// <paramref name="converters"/>.
    /// </summary>
    public static JsonSerializerOptions CreateOptions(params JsonConverter[] converters)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            WriteIndented = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        foreach (var c in converters) options.Converters.Add(c);
        return options;
    }

    /// <summary>Reads the manifest at <paramref name="path"/>.</summary>
    /// <param name="path">The manifest file.</param>
    /// <param name="options">The manifest's JSON options.</param>
    /// <param name="what">What it is, for the messages ("stamp model manifest").</param>
    /// <param name="error">Makes the exception to throw from a one-line message and its cause.</param>
    /// <exception cref="Exception">What <paramref name="error"/> makes: the file is missing, unreadable or not a manifest.</exception>
    public static T Read<T>(string path, JsonSerializerOptions options, string what, Func<string, Exception?, Exception> error) where T : class
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw error($"{what} '{full}' does not exist", null);
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllBytes(full), options) ?? throw error($"{what} '{full}' is not valid: null", null);
        }
        catch (JsonException e)
        {
            throw error($"{what} '{full}' is not valid JSON of a manifest: {FirstLine(e.Message)}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw error($"{what} '{full}' cannot be read: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Writes <paramref name="manifest"/> with <paramref name="options"/> and a final newline, creating the folder.</summary>
    public static void Write<T>(T manifest, string path, JsonSerializerOptions options)
    {
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(path, JsonSerializer.Serialize(manifest, options) + "\n");
    }

    private static string FirstLine(string message)
    {
        int nl = message.IndexOf('\n');
        return (nl >= 0 ? message[..nl] : message).Trim();
    }
}
