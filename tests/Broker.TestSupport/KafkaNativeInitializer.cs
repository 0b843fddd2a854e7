using System.Runtime.CompilerServices;
using Broker.StepHost;

namespace Broker.TestSupport;

/// <summary>
/// Loads librdkafka.redist's library as soon as a test touches the test support (every Kafka test does, for its
/// data, topics or runs), as the services' entry points do. <see cref="MockCluster"/> and
/// <see cref="KafkaClients"/> load it too, so no order of tests can reach Confluent.Kafka first.
/// </summary>
internal static class KafkaNativeInitializer
{
    // A library has no Main; a module initializer runs before any other code of this assembly.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Load() => KafkaNative.Load();
}
