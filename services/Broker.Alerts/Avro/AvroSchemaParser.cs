using System.Text.Json;

namespace Broker.Alerts.Avro;

/// <summary>
/// A table of named types by full name. One table may be shared by several schema files so that they can refer to
/// each other by full name, as Rubin's schemas do (<c>lsst.v10_0.alert</c> refers to <c>lsst.v10_0.diaSource</c>).
/// </summary>
public sealed class AvroSchemaNames
{
    private readonly Dictionary<string, NamedSchema> _byName = new(StringComparer.Ordinal);

    /// <summary>Every named type defined so far.</summary>
    public IEnumerable<NamedSchema> All => _byName.Values;

    /// <summary>Looks a type up by full name.</summary>
    public bool TryGet(string fullName, out NamedSchema schema) => _byName.TryGetValue(fullName, out schema!);

    /// <summary>Defines a named type; redefining a name is an error, as the specification requires.</summary>
    public void Add(NamedSchema schema)
    {
        if (!_byName.TryAdd(schema.FullName, schema))
            throw new AvroSchemaException($"the name '{schema.FullName}' is defined twice");
    }

    /// <summary>
    /// Parses every <c>*.avsc</c> file under <paramref name="folder"/> into this table, in whatever order their
    /// references allow, and returns the top-level schema of each file keyed by file path.
    /// </summary>
    public IReadOnlyDictionary<string, AvroSchema> LoadFolder(string folder, SearchOption search = SearchOption.TopDirectoryOnly)
    {
        var pending = Directory.GetFiles(folder, "*.avsc", search).OrderBy(f => f, StringComparer.Ordinal).ToList();
        return LoadFiles(pending);
    }

    /// <summary>Parses the given files into this table, retrying files whose references are defined by later ones.</summary>
    public IReadOnlyDictionary<string, AvroSchema> LoadFiles(IEnumerable<string> files)
    {
        var pending = files.ToList();
        var result = new Dictionary<string, AvroSchema>(StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            var failures = new List<(string File, AvroSchemaException Error)>();
            foreach (var file in pending)
            {
                var attempt = Clone();
                try
                {
                    var schema = AvroSchemaParser.Parse(File.ReadAllText(file), attempt);
                    foreach (var named in attempt.All) _byName.TryAdd(named.FullName, named);
                    result[file] = schema;
                }
                catch (AvroSchemaException e) when (e.Message.Contains(AvroSchemaParser.UnknownNameMarker, StringComparison.Ordinal))
                {
                    failures.Add((file, e));
                }
                catch (Exception e) when (e is AvroSchemaException or JsonException)
                {
                    throw new AvroSchemaException($"{file}: {e.Message}", e);
                }
            }
            if (failures.Count == pending.Count)
                throw new AvroSchemaException($"{failures[0].File}: {failures[0].Error.Message}");
            pending = failures.Select(f => f.File).ToList();
        }
        return result;
    }

    private AvroSchemaNames Clone()
    {
        var copy = new AvroSchemaNames();
        foreach (var (k, v) in _byName) copy._byName[k] = v;
        return copy;
    }
}

/// <summary>Parses Avro schema JSON (Avro 1.11 specification, "Schema Declaration" and "Names").</summary>
internal static class AvroSchemaParser
{
    internal const string UnknownNameMarker = "is not a defined type";

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "type", "name", "namespace", "fields", "symbols", "items", "values", "size", "aliases", "doc", "default",
        "logicalType", "order",
    };

    /// <summary>Parses one schema text, defining its named types in <paramref name="names"/>.</summary>
    /// <exception cref="AvroSchemaException">
    /// The text is not JSON, or not a valid schema. Every failure is this one type, whatever the text holds: a schema
    /// embedded in a damaged container file is bad input, never a crash (issue 8).
    /// </exception>
    public static AvroSchema Parse(string json, AvroSchemaNames names)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return ParseNode(doc.RootElement, names, enclosingNamespace: null);
        }
        catch (JsonException e)
        {
            throw new AvroSchemaException($"the schema is not valid JSON: {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // JsonElement's accessors throw InvalidOperationException for a value of the wrong kind (a field that is
            // not an object, an order that is not a string), and a null symbol or alias ends as ArgumentNullException:
            // valid JSON, but not a valid schema.
            throw new AvroSchemaException($"the schema has a value of the wrong JSON kind: {e.Message}", e);
        }
    }

    private static AvroSchema ParseNode(JsonElement node, AvroSchemaNames names, string? enclosingNamespace)
    {
        switch (node.ValueKind)
        {
            case JsonValueKind.String:
                return Resolve(node.GetString()!, names, enclosingNamespace);
            case JsonValueKind.Array:
                var branches = new List<AvroSchema>(node.GetArrayLength());
                foreach (var b in node.EnumerateArray()) branches.Add(ParseNode(b, names, enclosingNamespace));
                return new UnionSchema(branches);
            case JsonValueKind.Object:
                return ParseObject(node, names, enclosingNamespace);
            default:
                throw new AvroSchemaException($"a schema must be a string, an array or an object, not {node.ValueKind}");
        }
    }

    private static AvroSchema Resolve(string name, AvroSchemaNames names, string? enclosingNamespace)
    {
        if (TryPrimitive(name, out var type)) return PrimitiveSchema.Of(type);
        if (name.Contains('.'))
        {
            if (names.TryGet(name, out var full)) return full;
        }
        else
        {
            if (enclosingNamespace is not null && names.TryGet(enclosingNamespace + "." + name, out var inSpace)) return inSpace;
            if (names.TryGet(name, out var bare)) return bare;
        }
        throw new AvroSchemaException($"'{name}' {UnknownNameMarker}" + (enclosingNamespace is null ? "" : $" (namespace '{enclosingNamespace}')"));
    }

    private static bool TryPrimitive(string name, out AvroType type)
    {
        switch (name)
        {
            case "null": type = AvroType.Null; return true;
            case "boolean": type = AvroType.Boolean; return true;
            case "int": type = AvroType.Int; return true;
            case "long": type = AvroType.Long; return true;
            case "float": type = AvroType.Float; return true;
            case "double": type = AvroType.Double; return true;
            case "bytes": type = AvroType.Bytes; return true;
            case "string": type = AvroType.String; return true;
            default: type = default; return false;
        }
    }

    private static AvroSchema ParseObject(JsonElement node, AvroSchemaNames names, string? enclosingNamespace)
    {
        if (!node.TryGetProperty("type", out var typeNode))
            throw new AvroSchemaException("a schema object has no 'type'");
        string? logicalType = node.TryGetProperty("logicalType", out var lt) && lt.ValueKind == JsonValueKind.String ? lt.GetString() : null;
        var props = ExtraProperties(node);

        if (typeNode.ValueKind != JsonValueKind.String)
        {
            // {"type": {...}} or {"type": [...]}: a schema wrapped in an object.
            return ParseNode(typeNode, names, enclosingNamespace);
        }

        string type = typeNode.GetString()!;
        if (TryPrimitive(type, out var primitive))
        {
            if (logicalType is null && props.Count == 0) return PrimitiveSchema.Of(primitive);
            return new PrimitiveSchema(primitive) { LogicalType = logicalType, Properties = props };
        }

        switch (type)
        {
            case "record":
            case "error":
            {
                var (name, space) = SplitName(node, enclosingNamespace);
                var record = new RecordSchema(name, space, type == "error")
                {
                    Aliases = Aliases(node, space), Doc = Doc(node), LogicalType = logicalType, Properties = props,
                };
                names.Add(record);
                if (!node.TryGetProperty("fields", out var fieldsNode) || fieldsNode.ValueKind != JsonValueKind.Array)
                    throw new AvroSchemaException($"record {record.FullName} has no 'fields' array");
                var fields = new List<AvroField>(fieldsNode.GetArrayLength());
                foreach (var f in fieldsNode.EnumerateArray())
                {
                    string fieldName = RequiredString(f, "name", $"a field of {record.FullName}");
                    if (!f.TryGetProperty("type", out var fieldType))
                        throw new AvroSchemaException($"field {record.FullName}.{fieldName} has no 'type'");
                    AvroSchema fieldSchema;
                    try
                    {
                        fieldSchema = ParseNode(fieldType, names, record.Namespace);
                    }
                    catch (AvroSchemaException e) when (!e.Message.StartsWith("field ", StringComparison.Ordinal))
                    {
                        throw new AvroSchemaException($"field {record.FullName}.{fieldName}: {e.Message}", e);
                    }
                    JsonElement? defaultValue = f.TryGetProperty("default", out var d) ? d.Clone() : null;
                    var order = f.TryGetProperty("order", out var o) ? o.GetString() switch
                    {
                        "descending" => AvroFieldOrder.Descending,
                        "ignore" => AvroFieldOrder.Ignore,
                        _ => AvroFieldOrder.Ascending,
                    } : AvroFieldOrder.Ascending;
                    fields.Add(new AvroField(fieldName, fieldSchema, fields.Count)
                    {
                        Default = defaultValue,
                        Aliases = f.TryGetProperty("aliases", out var fa) && fa.ValueKind == JsonValueKind.Array
                            ? fa.EnumerateArray().Select(a => StringItem(a, $"an alias of field {record.FullName}.{fieldName}")).ToArray() : [],
                        Doc = Doc(f),
                        Order = order,
                        Properties = ExtraProperties(f),
                    });
                }
                record.SetFields(fields);
                return record;
            }
            case "enum":
            {
                var (name, space) = SplitName(node, enclosingNamespace);
                if (!node.TryGetProperty("symbols", out var symbolsNode) || symbolsNode.ValueKind != JsonValueKind.Array)
                    throw new AvroSchemaException($"enum {name} has no 'symbols' array");
                var symbols = symbolsNode.EnumerateArray().Select(s => StringItem(s, $"a symbol of enum {name}")).ToArray();
                string? defaultSymbol = node.TryGetProperty("default", out var ds) && ds.ValueKind == JsonValueKind.String ? ds.GetString() : null;
                var e = new EnumSchema(name, space, symbols, defaultSymbol)
                {
                    Aliases = Aliases(node, space), Doc = Doc(node), LogicalType = logicalType, Properties = props,
                };
                names.Add(e);
                return e;
            }
            case "fixed":
            {
                var (name, space) = SplitName(node, enclosingNamespace);
                if (!node.TryGetProperty("size", out var sizeNode) || !sizeNode.TryGetInt32(out int size))
                    throw new AvroSchemaException($"fixed {name} has no integer 'size'");
                var f = new FixedSchema(name, space, size)
                {
                    Aliases = Aliases(node, space), Doc = Doc(node), LogicalType = logicalType, Properties = props,
                };
                names.Add(f);
                return f;
            }
            case "array":
                if (!node.TryGetProperty("items", out var items)) throw new AvroSchemaException("array has no 'items'");
                return new ArraySchema(ParseNode(items, names, enclosingNamespace)) { LogicalType = logicalType, Properties = props };
            case "map":
                if (!node.TryGetProperty("values", out var values)) throw new AvroSchemaException("map has no 'values'");
                return new MapSchema(ParseNode(values, names, enclosingNamespace)) { LogicalType = logicalType, Properties = props };
            default:
                // {"type": "some.Name"} refers to a named type.
                return Resolve(type, names, enclosingNamespace);
        }
    }

    private static (string Name, string? Namespace) SplitName(JsonElement node, string? enclosingNamespace)
    {
        string name = RequiredString(node, "name", "a named type");
        int dot = name.LastIndexOf('.');
        if (dot >= 0) return (name[(dot + 1)..], name[..dot]);
        string? space = node.TryGetProperty("namespace", out var ns) && ns.ValueKind == JsonValueKind.String ? ns.GetString() : enclosingNamespace;
        ValidateName(name);
        return (name, space);
    }

    private static void ValidateName(string name)
    {
        // Avro names: [A-Za-z_][A-Za-z0-9_]*
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
            throw new AvroSchemaException($"'{name}' is not a valid Avro name");
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) throw new AvroSchemaException($"'{name}' is not a valid Avro name");
        }
    }

    private static IReadOnlyList<string> Aliases(JsonElement node, string? space)
    {
        if (!node.TryGetProperty("aliases", out var a) || a.ValueKind != JsonValueKind.Array) return [];
        return a.EnumerateArray().Select(x =>
        {
            string alias = StringItem(x, "an alias");
            return alias.Contains('.') || space is null ? alias : space + "." + alias;
        }).ToArray();
    }

    private static string StringItem(JsonElement item, string what) =>
        item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new AvroSchemaException($"{what} is a JSON {item.ValueKind}, not a string");

    private static string? Doc(JsonElement node) =>
        node.TryGetProperty("doc", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;

    private static string RequiredString(JsonElement node, string property, string what)
    {
        if (!node.TryGetProperty(property, out var v) || v.ValueKind != JsonValueKind.String)
            throw new AvroSchemaException($"{what} has no string '{property}'");
        return v.GetString()!;
    }

    private static IReadOnlyDictionary<string, JsonElement> ExtraProperties(JsonElement node)
    {
        Dictionary<string, JsonElement>? props = null;
        foreach (var p in node.EnumerateObject())
        {
            if (Reserved.Contains(p.Name)) continue;
            (props ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[p.Name] = p.Value.Clone();
        }
        return props ?? AvroSchema.EmptyProperties;
    }
}
