using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Broker.Filters;

/// <summary>What a filter publishes for each match (docs/filters.md, "Content").</summary>
public enum FilterContent
{
    /// <summary>The whole Broker alert (<c>schemas/broker/broker.alert.v1.3.avsc</c>) with its cutouts.</summary>
    Full,

    /// <summary>The Broker alert without cutouts (the same schema, <c>cutouts</c> null).</summary>
    Lite,

    /// <summary>Only the ids and a few scalars (<c>schemas/broker/broker.filter.ids.v1.avsc</c>).</summary>
    Ids,
}

/// <summary>
/// A filter as a scientist writes it, in YAML (docs/filters.md, "Filter definitions"):
/// <code>
/// name: fast_risers            # lowercase letters, digits, underscore; the topic is broker.filter.&lt;name&gt;
/// description: One sentence stating the cuts.
/// owner: someone@example.org
/// content: lite                # full | lite | ids
/// quota: 500                   # optional: alerts per hour; more are dropped and counted
/// active: true                 # optional, default true
/// where: |
///   rise_rate('g') > 0.1 and ndet() >= 2
/// </code>
/// Its <see cref="Version"/> is a hash of its text, so it changes whenever the definition does.
/// </summary>
public sealed partial record FilterDefinition
{
    /// <summary>The filter's name.</summary>
    public required string Name { get; init; }

    /// <summary>One sentence stating the cuts.</summary>
    public required string Description { get; init; }

    /// <summary>Who answers for the filter.</summary>
    public required string Owner { get; init; }

    /// <summary>The <c>where</c> expression.</summary>
    public required string Where { get; init; }

    /// <summary>What each match publishes.</summary>
    public FilterContent Content { get; init; } = FilterContent.Lite;

    /// <summary>At most this many matches are published per hour; the rest are dropped and counted. Null: no quota.</summary>
    public int? QuotaPerHour { get; init; }

    /// <summary>Whether the filter runs.</summary>
    public bool Active { get; init; } = true;

    /// <summary>Where <see cref="Where"/> starts in the YAML text, when it can be mapped back line by line.</summary>
    internal WhereOrigin? Origin { get; init; }

    /// <summary>The Kafka topic its matches go to: <c>broker.filter.&lt;name&gt;</c>.</summary>
    public string Topic => TopicPrefix + Name;

    /// <summary>The prefix of every filter's topic.</summary>
    public const string TopicPrefix = "broker.filter.";

    /// <summary>
    /// The version: the first 16 hex digits of the SHA-256 of the canonical text (every field, in a fixed order),
    /// so any change of name, description, owner, content, quota, activity or expression makes a new version, and
    /// re-indenting the YAML or editing its comments does not.
    /// </summary>
    public string Version => ComputeVersion();

    private string ComputeVersion()
    {
        string canonical = string.Join("\n",
            "name=" + Name, "description=" + Description, "owner=" + Owner, "content=" + ContentName(Content),
            "quota=" + (QuotaPerHour?.ToString(CultureInfo.InvariantCulture) ?? ""), "active=" + (Active ? "true" : "false"), "where=" + Where.Trim());
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..16];
    }

    /// <summary>The YAML name of a content kind.</summary>
    public static string ContentName(FilterContent c) => c switch { FilterContent.Full => "full", FilterContent.Lite => "lite", _ => "ids" };

    [GeneratedRegex("^[a-z][a-z0-9_]{0,99}$")]
    private static partial Regex NamePattern();

    /// <summary>Whether <paramref name="name"/> is a valid filter name (a lowercase letter, then lowercase letters, digits and underscores; at most 100).</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    private static readonly string[] Keys = ["name", "description", "owner", "where", "content", "quota", "active"];

    /// <summary>Reads a definition from YAML text.</summary>
    /// <exception cref="FilterCompileException">Not valid YAML, an unknown or missing key, or a bad value (the message gives the line and column).</exception>
    public static FilterDefinition Parse(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new FilterCompileException(new((int)e.Start.Line, (int)e.Start.Column), "not valid YAML: " + e.Message);
        }
        if (stream.Documents.Count != 1)
            throw new FilterCompileException(new(1, 1), $"a filter definition is one YAML document, not {stream.Documents.Count}");
        if (stream.Documents[0].RootNode is not YamlMappingNode map)
            throw new FilterCompileException(At(stream.Documents[0].RootNode), "a filter definition is a mapping of name, description, owner, where, content, quota, active");
        var values = new Dictionary<string, YamlScalarNode>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            if (Array.IndexOf(Keys, key) < 0)
                throw new FilterCompileException(At(k), $"unknown key '{key}'; a filter has {string.Join(", ", Keys)}");
            if (v is not YamlScalarNode s)
                throw new FilterCompileException(At(v), $"'{key}' must be a single value");
            values[key] = s;
        }
        string Required(string key)
        {
            if (!values.TryGetValue(key, out var node) || string.IsNullOrWhiteSpace(node.Value))
                throw new FilterCompileException(values.TryGetValue(key, out var n) ? At(n) : At(map), $"'{key}' is missing");
            return node.Value!;
        }
        string name = Required("name").Trim();
        if (!IsValidName(name))
            throw new FilterCompileException(At(values["name"]), $"name '{name}' must be a lowercase letter followed by lowercase letters, digits or underscores (at most 100)");
        string description = Required("description").Trim();
        string owner = Required("owner").Trim();
        string where = Required("where");
        var content = Required("content").Trim() switch
        {
            "full" => FilterContent.Full,
            "lite" => FilterContent.Lite,
            "ids" => FilterContent.Ids,
            var other => throw new FilterCompileException(At(values["content"]), $"content '{other}' is not one of full, lite, ids"),
        };
        int? quota = null;
        if (values.TryGetValue("quota", out var q) && !string.IsNullOrWhiteSpace(q.Value))
        {
            if (!int.TryParse(q.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1)
                throw new FilterCompileException(At(q), $"quota '{q.Value}' must be a whole number of alerts per hour, at least 1");
            quota = v;
        }
        bool active = true;
        if (values.TryGetValue("active", out var a))
        {
            active = a.Value switch
            {
                "true" => true,
                "false" => false,
                _ => throw new FilterCompileException(At(a), $"active '{a.Value}' must be true or false"),
            };
        }
        return new FilterDefinition
        {
            Name = name, Description = description, Owner = owner, Where = where, Content = content, QuotaPerHour = quota, Active = active,
            Origin = OriginOf(values["where"], yaml),
        };
    }

    /// <summary>Reads a definition from a YAML file.</summary>
    /// <exception cref="FilterCompileException">The file's text is not a valid definition.</exception>
    public static FilterDefinition Load(string path) => Parse(File.ReadAllText(path));

    /// <summary>The definition as YAML (what <c>broker filter publish</c> puts on <c>broker.filters</c>); parses back to an equal definition.</summary>
    public string ToYaml()
    {
        var sb = new StringBuilder();
        sb.Append("name: ").Append(Name).Append('\n');
        sb.Append("description: ").Append(Quote(Description)).Append('\n');
        sb.Append("owner: ").Append(Quote(Owner)).Append('\n');
        sb.Append("content: ").Append(ContentName(Content)).Append('\n');
        if (QuotaPerHour is { } q) sb.Append("quota: ").Append(q.ToString(CultureInfo.InvariantCulture)).Append('\n');
        sb.Append("active: ").Append(Active ? "true" : "false").Append('\n');
        sb.Append("where: |\n");
        foreach (var line in Where.TrimEnd('\n').Split('\n')) sb.Append("  ").Append(line).Append('\n');
        return sb.ToString();
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>Compiles the <c>where</c> expression; errors name the line and column in the YAML text where it can be mapped back.</summary>
    /// <exception cref="FilterCompileException">The expression does not compile.</exception>
    public FilterExpression Compile(FieldCatalog? catalog = null, FieldLayout? layout = null, FilterLimits? limits = null)
    {
        try
        {
            return FilterExpression.Compile(Where, catalog, layout, limits);
        }
        catch (FilterCompileException e) when (Origin is { } o)
        {
            throw new FilterCompileException(o.Map(e.Position), e.Reason);
        }
    }

    private static SourcePosition At(YamlNode node) => new((int)node.Start.Line, (int)node.Start.Column);

    private static WhereOrigin? OriginOf(YamlScalarNode node, string yaml)
    {
        var start = node.Start;
        switch (node.Style)
        {
            case ScalarStyle.Literal:
            {
                // Content begins on the line after the indicator, indented by the block's indentation.
                var lines = yaml.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
                int first = (int)start.Line; // 1-based line of '|' = 0-based index of the next line
                for (int i = first; i < lines.Length; i++)
                {
                    if (lines[i].Trim().Length == 0) continue;
                    int indent = lines[i].Length - lines[i].TrimStart(' ').Length;
                    return new WhereOrigin(first + 1, indent, PerLine: true);
                }
                return null;
            }
            case ScalarStyle.Plain when !node.Value!.Contains('\n'):
                return new WhereOrigin((int)start.Line, (int)start.Column - 1, PerLine: false);
            case ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted when !node.Value!.Contains('\n') && !node.Value.Contains('\'') && !node.Value.Contains('"') && !node.Value.Contains('\\'):
                return new WhereOrigin((int)start.Line, (int)start.Column, PerLine: false);
            default:
                return null;
        }
    }
}

/// <summary>Where a <c>where</c> expression lies in its YAML file: its first line, and the columns before it.</summary>
internal readonly record struct WhereOrigin(int Line, int ColumnOffset, bool PerLine)
{
    public SourcePosition Map(SourcePosition p) => PerLine
        ? new(Line + p.Line - 1, ColumnOffset + p.Column)
        : new(Line + p.Line - 1, p.Line == 1 ? ColumnOffset + p.Column : p.Column);
}
