namespace Broker.Alerts.Avro;

/// <summary>
/// The schema registry could not answer (down, slow, refusing the client): a dependency failing for a while, not
/// anything wrong with the message being decoded. Callers retry with backoff and then stop; they never dead-letter
/// the message for it (issue 9: a registry outage used to dead-letter every Rubin alert).
/// </summary>
public sealed class SchemaRegistryUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
