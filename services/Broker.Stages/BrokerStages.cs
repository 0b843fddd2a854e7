using Broker.Crossmatch;
using Broker.Filter;
using Broker.Filters;
using Broker.Ingest;
using Broker.LightCurveClassifier;
using Broker.Sso;
using Broker.StampClassifier;
using Broker.StepHost;

namespace Broker.Stages;

/// <summary>
/// The stage registry (docs/stages.md): the topics that enter Broker and its stages in chain order, one line each. A
/// stage's entry (its name, topics, options section, needs and step factory) lives in its own service project
/// (<see cref="IngestStep.Stage"/>), so that its service runs without this project; this project is the one place
/// that knows them all. Broker.StepHost holds the generic types and references no stage; the CLI, the tests and the
/// load harness reference this.
/// </summary>
public static class BrokerStages
{
    /// <summary>Topics written outside Broker.</summary>
    public static IReadOnlyList<TopicDefinition> Sources { get; } =
    [
        new(BrokerTopics.SurveyAlerts,
            "ZTF: one Avro Object Container File per message (writer schema in the header); Rubin: Confluent wire format (0x00, 4-byte big-endian schema id, Avro body)",
            "alert id (ZTF `candid`, Rubin `diaSourceId`) in decimal",
            "the survey, or `broker replay`"),
        new(FilterRegistry.Topic,
            "compacted: a filter's YAML definition (docs/filters.md, \"The registry\"); an empty value deletes it",
            "filter name",
            "`broker filter publish`, `broker filter delete`"),
    ];

    /// <summary>Every stage, in chain order: a new stage is one line here.</summary>
    public static StageRegistry All { get; } = new(Sources,
    [
        IngestStep.Stage,
        CrossmatchStep.Stage,
        SsoStep.Stage,
        StampClassifierStep.Stage,
        LightCurveClassifierStep.Stage,
        FilterStep.Stage,
    ]);
}

/// <summary>
/// The topic names other code names: the surveys' stream (the chain's source) and ingest's output. A new stage does
/// not add its topics here: the topology is <see cref="BrokerStages.All"/>'s.
/// </summary>
public static class BrokerTopics
{
    /// <summary>Raw survey alerts (ZTF containers or Confluent-framed Rubin alerts): ingest's input, <c>broker replay</c>'s default target.</summary>
    public const string SurveyAlerts = IngestStep.InputTopic;

    /// <summary>Broker alert records written by ingest.</summary>
    public const string Ingested = IngestStep.OutputTopic;

    /// <summary>The dead-letter topic of an input topic.</summary>
    public static string DeadLetter(string input) => StepHostOptions.DeadLetterOf(input);
}

/// <summary>Broker's topology on librdkafka's mock cluster.</summary>
public static class MockClusterTopology
{
    /// <summary>Creates every topic of the registry (<see cref="StageRegistry.Topics"/>) with the given partition count.</summary>
    public static void CreateTopology(this MockCluster cluster, int partitions) => cluster.CreateTopics(BrokerStages.All.Topics, partitions);
}
