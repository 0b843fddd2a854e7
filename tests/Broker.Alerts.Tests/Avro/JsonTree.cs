using System.Globalization;
using System.Text.Json;

namespace Broker.Alerts.Tests.Avro;

/// <summary>Compares two JSON documents: same structure and strings, numbers equal to a relative tolerance.</summary>
internal static class JsonTree
{
    /// <summary>The first difference as "path: left vs right", or null when equal.</summary>
    public static string? FirstDifference(JsonElement a, JsonElement b, double relativeTolerance, string path = "$")
    {
        if (a.ValueKind != b.ValueKind) return $"{path}: {Show(a)} vs {Show(b)}";
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var an = a.EnumerateObject().Select(p => p.Name).ToList();
                var bn = b.EnumerateObject().Select(p => p.Name).ToList();
                if (!an.SequenceEqual(bn)) return $"{path}: fields [{string.Join(",", an)}] vs [{string.Join(",", bn)}]";
                foreach (var p in a.EnumerateObject())
                {
                    var d = FirstDifference(p.Value, b.GetProperty(p.Name), relativeTolerance, path + "." + p.Name);
                    if (d is not null) return d;
                }
                return null;
            }
            case JsonValueKind.Array:
            {
                if (a.GetArrayLength() != b.GetArrayLength()) return $"{path}: {a.GetArrayLength()} items vs {b.GetArrayLength()}";
                int i = 0;
                foreach (var (x, y) in a.EnumerateArray().Zip(b.EnumerateArray()))
                {
                    var d = FirstDifference(x, y, relativeTolerance, $"{path}[{i++}]");
                    if (d is not null) return d;
                }
                return null;
            }
            case JsonValueKind.Number:
            {
                if (a.TryGetInt64(out long la) && b.TryGetInt64(out long lb)) return la == lb ? null : $"{path}: {la} vs {lb}";
                double x = a.GetDouble(), y = b.GetDouble();
                double scale = Math.Max(Math.Abs(x), Math.Abs(y));
                return Math.Abs(x - y) <= relativeTolerance * scale ? null
                    : $"{path}: {x.ToString("R", CultureInfo.InvariantCulture)} vs {y.ToString("R", CultureInfo.InvariantCulture)}";
            }
            case JsonValueKind.String:
                return a.GetString() == b.GetString() ? null : $"{path}: {Show(a)} vs {Show(b)}";
            default:
                return null;
        }
    }

    private static string Show(JsonElement e)
    {
        string text = e.GetRawText();
        return text.Length > 60 ? text[..60] + "..." : text;
    }
}
