using System.Runtime.CompilerServices;
using Broker.StepHost;

namespace Broker.StepHost.Tests.TestSupport;

/// <summary>Loads librdkafka.redist's library before any test of this assembly touches Confluent.Kafka, as the services' entry points do.</summary>
internal static class KafkaNativeInitializer
{
    // A test assembly has no Main; a module initializer is its one entry point that runs before every test.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Load() => KafkaNative.Load();
}
