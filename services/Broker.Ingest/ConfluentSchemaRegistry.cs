using System.Collections.Concurrent;
using System.Net;
using Broker.Alerts.Avro;
using Confluent.SchemaRegistry;

namespace Broker.Ingest;

/// <summary>
/// A Confluent-compatible schema registry over HTTP, as Rubin runs for its alert stream, through Confluent's own
/// client (Confluent.SchemaRegistry): <c>GET /schemas/ids/{id}</c>, with schema references resolved through
/// <c>GET /subjects/{subject}/versions/{version}</c>, depth first. Parsed schemas are cached by id.
/// </summary>
/// <remarks>
/// Two failures are told apart. The registry answering that it has no such schema (HTTP 404, Confluent error codes
/// 40401-40403) is the message's fault: <see cref="SchemaNotFoundException"/>, and the alert is dead-lettered.
/// Anything else (connection refused, timeout, 5xx, an authentication refusal) is the registry's:
/// <see cref="SchemaRegistryUnavailableException"/>, which ingest reports as a transient failure, so the host retries
/// the batch with backoff and exits non-zero when the retries are spent, and no alert is lost or dead-lettered.
/// The client's own retries are kept to one quick retry so that one policy (the host's, logged) governs.
/// </remarks>
public sealed class ConfluentSchemaRegistry : ISchemaRegistry, IDisposable
{
    private readonly CachedSchemaRegistryClient _client;
    private readonly ConcurrentDictionary<int, AvroSchema> _cache = new();
    private readonly string _url;

    /// <summary>Connects lazily to the registry at <paramref name="url"/>.</summary>
    /// <param name="url">Base URL (several may be given, comma-separated, as Confluent's client takes them).</param>
    /// <param name="timeout">How long one request may take before the registry counts as unavailable.</param>
    public ConfluentSchemaRegistry(string url, TimeSpan timeout)
    {
        _url = url;
        _client = new CachedSchemaRegistryClient(new SchemaRegistryConfig
        {
            Url = url,
            RequestTimeoutMs = (int)timeout.TotalMilliseconds,
            // MaxRetries = 0 makes Confluent.SchemaRegistry 2.16 throw NullReferenceException before any request
            // (RestService.ExecuteOnOneInstanceAsync never runs its loop): one quick retry instead.
            MaxRetries = 1,
            RetriesWaitMs = 100,
            RetriesMaxWaitMs = 100,
        });
    }

    /// <inheritdoc />
    /// <exception cref="SchemaRegistryUnavailableException">The registry could not be asked.</exception>
    public AvroSchema GetSchema(int id) => _cache.GetOrAdd(id, static (key, self) => self.Fetch(key), this);

    private AvroSchema Fetch(int id)
    {
        var schema = Call(() => _client.GetSchemaAsync(id), $"schema id {id}");
        if (schema.SchemaType != SchemaType.Avro) throw new SchemaNotFoundException($"schema id {id} at {_url} is a {schema.SchemaType} schema, not Avro");
        var names = new AvroSchemaNames();
        LoadReferences(schema.References, names, depth: 0);
        try
        {
            return AvroSchema.Parse(schema.SchemaString, names);
        }
        catch (AvroSchemaException e)
        {
            throw new SchemaNotFoundException($"schema id {id} at {_url} is not a valid Avro schema: {e.Message}", e);
        }
    }

    /// <summary>Parses each reference's own references first, then the reference, into one name table.</summary>
    private void LoadReferences(IReadOnlyList<SchemaReference>? references, AvroSchemaNames names, int depth)
    {
        if (references is null || references.Count == 0) return;
        if (depth > 32) throw new SchemaNotFoundException($"schema references at {_url} nest deeper than 32 levels");
        foreach (var r in references)
        {
            var registered = Call(() => _client.GetRegisteredSchemaAsync(r.Subject, r.Version), $"reference {r.Subject} version {r.Version}");
            LoadReferences(registered.References, names, depth + 1);
            try
            {
                AvroSchema.Parse(registered.SchemaString, names);
            }
            catch (AvroSchemaException e) when (e.Message.Contains("defined twice", StringComparison.Ordinal))
            {
                // Shared by two references: already loaded.
            }
        }
    }

    private T Call<T>(Func<Task<T>> request, string what)
    {
        try
        {
            return request().GetAwaiter().GetResult();
        }
        catch (SchemaRegistryException e) when (e.Status == HttpStatusCode.NotFound || e.ErrorCode is >= 40401 and <= 40403)
        {
            throw new SchemaNotFoundException($"{what} is not in the schema registry at {_url} ({e.ErrorCode}: {e.Message})", e);
        }
        catch (Exception e) when (e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException or IOException)
        {
            throw new SchemaRegistryUnavailableException($"schema registry at {_url} did not answer for {what}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();
}
