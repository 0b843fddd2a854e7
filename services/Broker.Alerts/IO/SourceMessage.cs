namespace Broker.Alerts.IO;

/// <summary>One message read from a file or folder (<see cref="SurveyFiles"/>): what a survey would have put on Kafka.</summary>
/// <param name="Source">Where it came from (file, or <c>archive.tar.gz::member</c>).</param>
/// <param name="Index">Its position within <paramref name="Source"/> (0 for one-alert files).</param>
/// <param name="Value">The message bytes (a ZTF container with one alert, or a Confluent-framed Rubin alert).</param>
/// <param name="Key">The Kafka key it would carry (the alert id), when known.</param>
public sealed record SourceMessage(string Source, int Index, byte[] Value, string? Key = null);
