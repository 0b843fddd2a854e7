using System.Globalization;

namespace Broker.StepHost;

/// <summary>
/// How a step runs on Kafka. Bound from the <c>StepHost</c> configuration section; librdkafka settings come from
/// the <c>Kafka</c> section (both clients), <c>KafkaConsumer</c> and <c>KafkaProducer</c> (one client each), so
/// any librdkafka setting is a deployment choice (docs/kafka.md, "Configuration").
/// </summary>
public sealed class StepHostOptions
{
    /// <summary>The configuration section bound to this class.</summary>
    public const string Section = "StepHost";

    /// <summary>Topic read.</summary>
    public string InputTopic { get; set; } = "";

    /// <summary>Topic written: the step's default destination (<see cref="Destination.Default"/>).</summary>
    public string OutputTopic { get; set; } = "";

    /// <summary>
    /// Topics of a routing step's named destinations (<see cref="IRoutingStep.Destinations"/>), where a topic is not
    /// the destination's name: <c>StepHost:DestinationTopics:&lt;name&gt;=&lt;topic&gt;</c>. A destination not listed
    /// goes to the topic of its own name.
    /// </summary>
    public Dictionary<string, string> DestinationTopics { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// How long a delivered batch's commit may be refused (a rebalance in progress, a coordinator moving) before the
    /// process gives up and exits (fatal), seconds. The commit is retried every half second while the rebalance is
    /// served. Like confluent-kafka-dotnet's stance, a worker that cannot commit does not limp on: its supervisor
    /// restarts it, and the restarted instance finds the uncommitted batch's outputs with its replay guard.
    /// </summary>
    public int CommitRetrySeconds { get; set; } = 30;

    /// <summary>Dead-letter topic; default <c>&lt;InputTopic&gt;.dlq</c>.</summary>
    public string? DeadLetterTopic { get; set; }

    /// <summary>Consumer group; default <c>broker-&lt;step&gt;</c>.</summary>
    public string? GroupId { get; set; }

    /// <summary>Most messages per batch.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Longest wait to fill a batch once its first message has arrived, milliseconds.</summary>
    public int BatchWaitMs { get; set; } = 100;

    /// <summary>How long start-up may take to reach the cluster and find the topics before failing, seconds.</summary>
    public int StartupTimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Retries of a step failing with <see cref="FailureKind.Transient"/> before it becomes fatal. The waits double
    /// from 100 ms up to 30 s (plus up to 50% jitter): the default 10 rides out about 80 s of a dependency's outage
    /// (a schema registry restarting) before the process exits for its supervisor to restart.
    /// </summary>
    public int TransientRetries { get; set; } = 10;

    /// <summary>Where to write the health file (JSON, rewritten at least every few seconds); none when empty.</summary>
    public string? HealthFile { get; set; }

    /// <summary>
    /// Where the operators' endpoints listen (<c>/metrics</c>, <c>/health/live</c>, <c>/health/ready</c>), as
    /// <c>http://ADDRESS:PORT</c>; port 0 takes a free port (logged). None when empty.
    /// </summary>
    public string? HttpUrl { get; set; }

    /// <summary>
    /// <c>/health/live</c> fails when the loop has shown no progress for this long, seconds: a consumer stuck in a
    /// call that never returns is restarted by its probe. Longer than a transient retry's longest wait (30 s).
    /// </summary>
    public int LivenessTimeoutSeconds { get; set; } = 120;

    /// <summary>How often counters and lag are logged at Information, seconds (0: never).</summary>
    public int MetricsIntervalSeconds { get; set; } = 30;

    /// <summary>
    /// At start, read the keys of the last <see cref="BatchSize"/> messages of each output partition and do not
    /// produce again an output whose key is there (counted as a duplicate and as replayed): after a crash, the
    /// batch that was delivered but not committed is recognised instead of being sent twice.
    /// </summary>
    public bool DropReplayedOutputs { get; set; } = true;

    /// <summary>
    /// When a routing step declares a destination while it runs (the filter service, for a filter published after it
    /// started) and that destination's topic does not exist, create it, with the input topic's partition count
    /// (default on). Off: such a destination's results are dead-lettered saying the topic is missing, until it is made.
    /// </summary>
    public bool CreateDestinationTopics { get; set; } = true;

    /// <summary>
    /// Keep the buffers librdkafka frees in the native heap for reuse (<see cref="NativeHeap"/>; Linux with glibc): saves
    /// a page fault per 4 kB of every fetch response, at the price of keeping the peak native heap.
    /// </summary>
    public bool RetainNativeBuffers { get; set; } = true;

    /// <summary>Where to start when the group has no committed offset: <c>earliest</c> or <c>latest</c>.</summary>
    public string AutoOffsetReset { get; set; } = "earliest";

    /// <summary>The dead-letter topic in effect.</summary>
    public string EffectiveDeadLetterTopic => string.IsNullOrWhiteSpace(DeadLetterTopic) ? DeadLetterOf(InputTopic) : DeadLetterTopic;

    /// <summary>The default dead-letter topic of an input topic, <c>&lt;input&gt;.dlq</c>.</summary>
    public static string DeadLetterOf(string input) => input + ".dlq";

    /// <summary>The topic of a destination: <see cref="OutputTopic"/> for the default one, else as <see cref="DestinationTopics"/> says, else its name.</summary>
    public string TopicOf(string destination) =>
        destination == Destination.Default ? OutputTopic
        : DestinationTopics.TryGetValue(destination, out var topic) && !string.IsNullOrWhiteSpace(topic) ? topic : destination;

    /// <summary>The consumer group in effect for a step.</summary>
    public string EffectiveGroupId(string step) => string.IsNullOrWhiteSpace(GroupId) ? "broker-" + step : GroupId;

    /// <summary>Checks the values; throws one clear message naming every bad setting.</summary>
    /// <exception cref="StepHostConfigurationException">A setting is missing or out of range.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(InputTopic)) errors.Add("StepHost:InputTopic is empty");
        if (string.IsNullOrWhiteSpace(OutputTopic)) errors.Add("StepHost:OutputTopic is empty");
        if (BatchSize is < 1 or > 100_000) errors.Add($"StepHost:BatchSize {BatchSize} is not in 1..100000");
        if (BatchWaitMs is < 0 or > 60_000) errors.Add($"StepHost:BatchWaitMs {BatchWaitMs} is not in 0..60000");
        if (StartupTimeoutSeconds is < 1 or > 600) errors.Add($"StepHost:StartupTimeoutSeconds {StartupTimeoutSeconds} is not in 1..600");
        if (TransientRetries is < 0 or > 100) errors.Add($"StepHost:TransientRetries {TransientRetries} is not in 0..100");
        if (CommitRetrySeconds is < 1 or > 600) errors.Add($"StepHost:CommitRetrySeconds {CommitRetrySeconds} is not in 1..600");
        foreach (var (name, topic) in DestinationTopics)
        {
            if (string.IsNullOrWhiteSpace(topic)) errors.Add($"StepHost:DestinationTopics:{name} is empty");
        }
        if (LivenessTimeoutSeconds is < 5 or > 3600) errors.Add($"StepHost:LivenessTimeoutSeconds {LivenessTimeoutSeconds} is not in 5..3600");
        if (!string.IsNullOrWhiteSpace(HttpUrl) && HttpUrlProblem(HttpUrl) is { } problem) errors.Add($"StepHost:HttpUrl '{HttpUrl}' {problem}");
        if (AutoOffsetReset is not ("earliest" or "latest")) errors.Add($"StepHost:AutoOffsetReset '{AutoOffsetReset}' is neither earliest nor latest");
        if (errors.Count > 0) throw new StepHostConfigurationException("invalid configuration: " + string.Join("; ", errors));
    }

    /// <summary>Why a <see cref="HttpUrl"/> cannot be listened on, or null.</summary>
    private static string? HttpUrlProblem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            return "is not an http://ADDRESS:PORT address";
        if (uri.AbsolutePath != "/" || uri.Query.Length > 0) return "has a path; the endpoints are /metrics, /health/live and /health/ready";
        if (!url.TrimEnd('/').EndsWith(":" + uri.Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)) return "names no port";
        return null;
    }

    /// <summary>Renders a number setting for librdkafka.</summary>
    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>librdkafka settings: shared, consumer-only and producer-only (keys are librdkafka's own names).</summary>
public sealed class KafkaSettings
{
    /// <summary>Settings for both clients (<c>bootstrap.servers</c>, <c>security.protocol</c>, ...).</summary>
    public Dictionary<string, string> Common { get; } = new(StringComparer.Ordinal);

    /// <summary>Consumer-only settings (<c>fetch.max.bytes</c>, ...).</summary>
    public Dictionary<string, string> Consumer { get; } = new(StringComparer.Ordinal);

    /// <summary>Producer-only settings (<c>linger.ms</c>, <c>compression.type</c>, ...).</summary>
    public Dictionary<string, string> Producer { get; } = new(StringComparer.Ordinal);

    /// <summary>The bootstrap servers, or null when not set.</summary>
    public string? Bootstrap => Common.TryGetValue("bootstrap.servers", out var b) && !string.IsNullOrWhiteSpace(b) ? b : null;

    /// <summary>Shared settings overlaid with one client's.</summary>
    public Dictionary<string, string> For(Dictionary<string, string> specific)
    {
        var all = new Dictionary<string, string>(Common, StringComparer.Ordinal);
        foreach (var (k, v) in specific) all[k] = v;
        return all;
    }

    /// <summary>Settings for a given bootstrap address only.</summary>
    public static KafkaSettings ForBootstrap(string bootstrap)
    {
        var s = new KafkaSettings();
        s.Common["bootstrap.servers"] = bootstrap;
        return s;
    }
}
