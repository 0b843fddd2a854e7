using System.Text.Json;
using System.Text.RegularExpressions;

namespace Broker.Alerts.Avro;

/// <summary>Finds writer schemas by Confluent schema registry id.</summary>
public interface ISchemaRegistry
{
    /// <summary>The schema with this id.</summary>
    /// <exception cref="SchemaNotFoundException">No schema has the id.</exception>
    AvroSchema GetSchema(int id);
}

/// <summary>No schema has the requested id.</summary>
public sealed class SchemaNotFoundException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A folder of Rubin schema files (<c>lsst.vX_Y.*.avsc</c>, as in lsst/alert_packet) served as a registry: id
/// X*100+Y is the record <c>lsst.vX_Y.alert</c>, parsed with the other files of its version in one name table.
/// Folders of other surveys work the same when their alert record's namespace follows that pattern or carries
/// a <c>confluent:version</c> attribute.
/// </summary>
public sealed partial class FolderSchemaRegistry : ISchemaRegistry
{
    private readonly string _root;
    private readonly Lazy<IReadOnlyDictionary<int, AvroSchema>> _schemas;

    /// <summary>Serves the schemas found anywhere under <paramref name="root"/>.</summary>
    public FolderSchemaRegistry(string root)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"schema folder '{root}' does not exist");
        _root = root;
        _schemas = new Lazy<IReadOnlyDictionary<int, AvroSchema>>(Load);
    }

    /// <summary>Every id this folder serves.</summary>
    public IReadOnlyCollection<int> Ids => (IReadOnlyCollection<int>)_schemas.Value.Keys;

    /// <inheritdoc />
    public AvroSchema GetSchema(int id) =>
        _schemas.Value.TryGetValue(id, out var s)
            ? s
            : throw new SchemaNotFoundException($"schema id {id} is not in {_root} (ids there: {string.Join(", ", _schemas.Value.Keys.Order())})");

    [GeneratedRegex(@"^lsst\.v(\d+)_(\d+)$")]
    private static partial Regex VersionNamespace();

    private IReadOnlyDictionary<int, AvroSchema> Load()
    {
        var result = new Dictionary<int, AvroSchema>();
        foreach (var dir in Directory.GetFiles(_root, "*.avsc", SearchOption.AllDirectories).Select(Path.GetDirectoryName).Distinct().Order(StringComparer.Ordinal))
        {
            // Each folder holds one version; its files refer to each other by full name.
            var names = new AvroSchemaNames();
            names.LoadFolder(dir!);
            foreach (var named in names.All)
            {
                if (named is not RecordSchema { Name: "alert" } alert) continue;
                int? id = null;
                if (alert.Properties.TryGetValue("confluent:version", out var v) && v.ValueKind == JsonValueKind.Number) id = v.GetInt32();
                else if (alert.Namespace is not null && VersionNamespace().Match(alert.Namespace) is { Success: true } m)
                    id = ConfluentWireFormat.RubinSchemaId(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
                if (id is int i) result.TryAdd(i, alert);
            }
        }
        return result;
    }
}
