namespace Broker.StepHost;

/// <summary>
/// One stage of the broker: a typed transform over a batch of alerts. A step never sees a consumer, a producer
/// or an offset; the Kafka host (<see cref="KafkaStepHost{TIn,TOut}"/>) and the in-process runner
/// (<see cref="InProcessPipeline"/>) run the same step classes.
/// </summary>
/// <typeparam name="TIn">What the step reads (raw survey bytes for ingest, <c>Alert</c> afterwards).</typeparam>
/// <typeparam name="TOut">What the step emits.</typeparam>
public interface IStep<TIn, TOut>
{
    /// <summary>Short stable name (<c>ingest</c>, <c>crossmatch</c>): used in headers, dead letters and metrics.</summary>
    string Name { get; }

    /// <summary>
    /// Processes a batch. The result has exactly one entry per input, in input order. Bad input is reported as a
    /// <see cref="StepResult{T}.DeadLetter"/> result (or by throwing a <see cref="StepException"/> with
    /// <see cref="FailureKind.BadInput"/>, in which case the host retries the items one at a time to find it).
    /// </summary>
    ValueTask<IReadOnlyList<StepResult<TOut>>> ExecuteAsync(IReadOnlyList<TIn> batch, CancellationToken cancellationToken);
}

/// <summary>
/// What a step remembers between inputs (ingest's duplicate window; later a cache or a filter's quota), made safe
/// for the runner's retries: <see cref="StepRunner"/> calls <see cref="BeginBatch"/> before every attempt at a batch
/// (or at one input while it isolates a bad one), <see cref="CommitBatch"/> when the attempt returned results, and
/// <see cref="RollbackBatch"/> when it threw. So a batch that is retried, or re-run one input at a time to find the
/// poison one, runs against the state as it was before the batch, and nothing is lost or miscounted because an
/// earlier attempt already remembered it (issue 8: the alerts handled before a poison message were counted as
/// duplicates of themselves on the isolating re-run).
/// </summary>
/// <remarks>
/// Changes made outside a batch (no <see cref="BeginBatch"/>) take effect at once. A step that keeps no state
/// between inputs does not implement this.
/// </remarks>
public interface IStepState
{
    /// <summary>Starts recording changes: until <see cref="CommitBatch"/> they are pending.</summary>
    void BeginBatch();

    /// <summary>Keeps the changes made since <see cref="BeginBatch"/>.</summary>
    void CommitBatch();

    /// <summary>Forgets the changes made since <see cref="BeginBatch"/>: the state is as it was before it.</summary>
    void RollbackBatch();
}

/// <summary>
/// A step that sends results to named destinations besides its default output (the filter service: one topic per
/// matching filter; a stage sending a slim copy to a subscriber's topic). The names are read when the host or the
/// in-process runner starts the step, and again when a result routes to a name not seen yet: a step may declare
/// destinations while it runs (a filter published to the live registry), and the host then sets up its topic (creating
/// it unless <c>StepHost:CreateDestinationTopics</c> is off), counters and replay guard before producing there. A
/// result routed to a name not declared here is a step bug, and its input is dead-lettered saying so (docs/kafka.md,
/// "Fan-out"). <see cref="Destinations"/> is read on the thread that runs the step, between batches.
/// </summary>
public interface IRoutingStep
{
    /// <summary>
    /// The destinations the step may route to, besides <see cref="Destination.Default"/> (which every step has). On
    /// Kafka each maps to a topic: the name itself unless <c>StepHost:DestinationTopics:&lt;name&gt;</c> says otherwise.
    /// </summary>
    IReadOnlyCollection<string> Destinations { get; }
}

/// <summary>
/// A step with instruments of its own besides the host's (the filter step: matches, drops over quota and failures per
/// filter). The Kafka host calls <see cref="AddInstruments"/> once, with its meter, so they are exported at
/// <c>/metrics</c> with the host's (docs/kafka.md, "Metrics"). Observable instruments only: they are read at each scrape,
/// on the scraping thread.
/// </summary>
public interface IStepInstruments
{
    /// <summary>Creates the step's instruments on <paramref name="meter"/>; each measurement carries <paramref name="stepTag"/>.</summary>
    void AddInstruments(System.Diagnostics.Metrics.Meter meter, KeyValuePair<string, object?> stepTag);
}

/// <summary>Names of a step's destinations, and a short way to route a value.</summary>
public static class Destination
{
    /// <summary>
    /// The default destination: what <see cref="StepResult{T}.Emit"/> sends to. On Kafka it is the host's
    /// <c>StepHost:OutputTopic</c>; in-process it feeds the next stage, or is the chain's output after the last one.
    /// </summary>
    public const string Default = "default";

    /// <summary>A value for the destination <paramref name="name"/>.</summary>
    public static Routed<T> To<T>(string name, T value) => new(name, value);
}

/// <summary>One value of a result and the destination it goes to.</summary>
/// <typeparam name="T">The step's output type.</typeparam>
/// <param name="Destination">A name the step declared (<see cref="IRoutingStep.Destinations"/>) or <see cref="StepHost.Destination.Default"/>.</param>
/// <param name="Value">What goes there; each destination may get a different value (a slim copy).</param>
public readonly record struct Routed<T>(string Destination, T Value);

/// <summary>What a step did with one input.</summary>
public enum StepOutcome
{
    /// <summary>Produced output: one record to the default destination, or one to each destination it was routed to.</summary>
    Emitted,

    /// <summary>Bad input: its original bytes go to the dead-letter topic with the reason.</summary>
    DeadLettered,

    /// <summary>An exact duplicate of an alert seen recently: counted and dropped.</summary>
    Duplicate,

    /// <summary>Deliberately not passed on (a filter's "no"): counted and dropped.</summary>
    Filtered,
}

/// <summary>The outcome of a step for one input.</summary>
/// <typeparam name="T">The step's output type.</typeparam>
/// <param name="Outcome">What happened.</param>
/// <param name="Value">The output to the default destination, when <see cref="StepOutcome.Emitted"/> and not routed.</param>
/// <param name="Reason">Why, for anything but <see cref="StepOutcome.Emitted"/>.</param>
public readonly record struct StepResult<T>(StepOutcome Outcome, T? Value, string? Reason)
{
    /// <summary>
    /// When <see cref="Route"/> made this result: each destination and its value (then <see cref="Value"/> is unused);
    /// null for <see cref="Emit"/>, which goes to <see cref="Destination.Default"/>.
    /// </summary>
    public IReadOnlyList<Routed<T>>? Routes { get; init; }

    /// <summary>An output record for the default destination.</summary>
    public static StepResult<T> Emit(T value) => new(StepOutcome.Emitted, value, null);

    /// <summary>
    /// Outputs for several destinations, each with its own value (a destination at most once). Routed to none, the
    /// input is <see cref="StepOutcome.Filtered"/>: nothing wanted it.
    /// </summary>
    public static StepResult<T> Route(params IReadOnlyList<Routed<T>> routes) =>
        routes.Count == 0 ? Filter(NoDestination) : new(StepOutcome.Emitted, default, null) { Routes = routes };

    /// <summary>The reason of an input routed to no destination.</summary>
    public const string NoDestination = "routed to no destination";

    /// <summary>Bad input, with a reason a person can act on.</summary>
    public static StepResult<T> DeadLetter(string reason) => new(StepOutcome.DeadLettered, default, reason);

    /// <summary>A duplicate of a recently seen alert.</summary>
    public static StepResult<T> Duplicate(string reason) => new(StepOutcome.Duplicate, default, reason);

    /// <summary>Deliberately dropped.</summary>
    public static StepResult<T> Filter(string reason) => new(StepOutcome.Filtered, default, reason);
}

/// <summary>The three kinds of failure (../../docs/kafka.md, "Failures").</summary>
public enum FailureKind
{
    /// <summary>The input is bad (undecodable, impossible values): dead-letter it and go on.</summary>
    BadInput,

    /// <summary>A dependency fails for a while: retry with backoff and jitter, then escalate to fatal.</summary>
    Transient,

    /// <summary>The process cannot go on (fatal Kafka error, corrupt model): log Critical and exit non-zero.</summary>
    Fatal,
}

/// <summary>The one exception type a step throws; it carries its disposition and is caught once, in the host.</summary>
public class StepException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StepException(FailureKind kind, string message, Exception? inner = null) : base(message, inner) => Kind = kind;

    /// <summary>What the host does about it.</summary>
    public FailureKind Kind { get; }
}

/// <summary>Configuration that cannot work (unreachable bootstrap, missing topic, bad option value).</summary>
public sealed class StepHostConfigurationException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Turns a step's values into Kafka message bytes and back, and names each value's key.</summary>
/// <typeparam name="T">The value type.</typeparam>
public interface IMessageCodec<T>
{
    /// <summary>Decodes a message value.</summary>
    /// <exception cref="Exception">Any exception means bad input: the message is dead-lettered.</exception>
    T Decode(byte[] value);

    /// <summary>Encodes a value.</summary>
    byte[] Encode(T value);

    /// <summary>The Kafka key for a value (the alert id), or null to keep the input message's key.</summary>
    string? KeyOf(T value);

    /// <summary>
    /// The Kafka key for a value as the bytes the host produces (UTF-8 of <see cref="KeyOf"/>), or null to keep the
    /// input message's key. Codecs with a numeric key override it to format the digits straight into bytes.
    /// </summary>
    byte[]? KeyBytesOf(T value) => KeyOf(value) is { } key ? System.Text.Encoding.UTF8.GetBytes(key) : null;
}

/// <summary>Passes message bytes through unchanged (the input side of ingest).</summary>
public sealed class RawBytesCodec : IMessageCodec<byte[]>
{
    /// <summary>The shared instance.</summary>
    public static readonly RawBytesCodec Instance = new();

    /// <inheritdoc />
    public byte[] Decode(byte[] value) => value;

    /// <inheritdoc />
    public byte[] Encode(byte[] value) => value;

    /// <inheritdoc />
    public string? KeyOf(byte[] value) => null;
}
