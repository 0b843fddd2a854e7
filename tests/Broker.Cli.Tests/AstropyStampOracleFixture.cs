using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>This assembly's classes that compare with the astropy oracle: one oracle run, never in parallel with each other.</summary>
[CollectionDefinition(AstropyStampOracleCollection.Name)]
public sealed class AstropyStampOracleFixture : ICollectionFixture<AstropyStampOracle>;
