using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Broker.Alerts.IO;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>A record that came out of the chain.</summary>
/// <param name="Value">The record (an <c>Alert</c> for Broker's chain).</param>
/// <param name="Key">Its key (the alert id).</param>
/// <param name="Origin">The message it came from.</param>
/// <param name="Destination">
/// Where it goes: <see cref="StepHost.Destination.Default"/> for the last stage's default output, else the name of
/// a destination a stage routed it to (<see cref="IRoutingStep"/>; on Kafka, by default, the topic of that name).
/// </param>
public sealed record PipelineOutput(object Value, string? Key, SourceMessage Origin, string Destination = Destination.Default);

/// <summary>An alert a stage refused, with the reason.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Source">Where the message came from.</param>
/// <param name="Index">Its index within the source.</param>
/// <param name="Key">Its key, when known.</param>
/// <param name="Reason">Why.</param>
public sealed record DeadLetterRecord(string Stage, string Source, int Index, string? Key, string Reason);

/// <summary>
/// A step wrapped for the in-process runner, which chains stages of different types. It owns its step: disposing the
/// stage disposes the step (<see cref="StepLifetime"/>).
/// </summary>
public abstract class PipelineStage : IAsyncDisposable
{
    private int _started;

    private protected PipelineStage(DestinationTable destinations) => Table = destinations;

    /// <summary>The step's name.</summary>
    public string Name => Table.Step;

    /// <summary>The destinations the step routes to besides the default (<see cref="IRoutingStep.Destinations"/>).</summary>
    public IReadOnlyList<string> Destinations => [.. Table.Names.Skip(1)];

    /// <summary>The step's destinations, named as on Kafka by default (the name is the topic).</summary>
    internal DestinationTable Table { get; }

    /// <summary>The step.</summary>
    private protected abstract object Step { get; }

    /// <summary>Runs the step's start-up hook (<see cref="IStepStartup"/>), once however often it is called.</summary>
    /// <exception cref="StepHostConfigurationException">Something the step needs is missing or does not match its manifest.</exception>
    public ValueTask StartAsync(CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _started, 1) == 0 ? StepLifetime.StartAsync(Step, cancellationToken) : ValueTask.CompletedTask;

    /// <summary>Disposes the step.</summary>
    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return StepLifetime.DisposeAsync(Step);
    }

    /// <summary>The key of an output, from the step's codec; null keeps the input's.</summary>
    internal abstract string? KeyOf(object output);

    /// <summary>Runs the step on a batch (<see cref="StepRunner.ExecuteIsolatingAsync"/>) and resolves each result's destinations.</summary>
    internal abstract ValueTask<StageResult[]> RunAsync(IReadOnlyList<object> inputs, int retries, ILogger? log, CancellationToken ct);

    /// <summary>Wraps a step; <paramref name="outputCodec"/> names each output's key.</summary>
    public static PipelineStage From<TIn, TOut>(IStep<TIn, TOut> step, IMessageCodec<TOut>? outputCodec = null) where TIn : notnull where TOut : notnull =>
        new Typed<TIn, TOut>(step, outputCodec);

    private sealed class Typed<TIn, TOut>(IStep<TIn, TOut> step, IMessageCodec<TOut>? codec)
        : PipelineStage(DestinationTable.For(step, static name => name)) where TIn : notnull where TOut : notnull
    {
        private protected override object Step => step;

        internal override string? KeyOf(object output) => codec?.KeyOf((TOut)output);

        internal override async ValueTask<StageResult[]> RunAsync(IReadOnlyList<object> inputs, int retries, ILogger? log, CancellationToken ct)
        {
            var typed = new TIn[inputs.Count];
            for (int i = 0; i < typed.Length; i++)
            {
                typed[i] = inputs[i] is TIn t ? t
                    : throw new StepException(FailureKind.Fatal, $"stage {step.Name} takes {typeof(TIn).Name}, the stage before it emits {inputs[i].GetType().Name}");
            }
            var results = await StepRunner.ExecuteIsolatingAsync(step, typed, retries, log, ct).ConfigureAwait(false);
            var list = new StageResult[results.Count];
            var routes = new List<(int Destination, TOut Value)>();
            for (int i = 0; i < list.Length; i++)
            {
                var r = results[i];
                if (r.Outcome != StepOutcome.Emitted)
                {
                    list[i] = new StageResult(r.Outcome, r.Reason, null);
                    continue;
                }
                routes.Clear();
                if (Table.Resolve(r, routes) is { } misrouted) list[i] = new StageResult(StepOutcome.DeadLettered, misrouted, null);
                else if (routes.Count == 0) list[i] = new StageResult(StepOutcome.Filtered, StepResult<TOut>.NoDestination, null);
                else list[i] = new StageResult(StepOutcome.Emitted, null, [.. routes.Select(o => new StageOutput(o.Destination, o.Value))]);
            }
            return list;
        }
    }
}

/// <summary>One input's fate at a stage: emitted with its outputs, or not, with the reason.</summary>
internal readonly record struct StageResult(StepOutcome Outcome, string? Reason, StageOutput[]? Outputs);

/// <summary>One output of an input at a stage: its destination (by number, <see cref="DestinationTable"/>) and value.</summary>
internal readonly record struct StageOutput(int Destination, object Value);

/// <summary>Options of the in-process runner.</summary>
public sealed class InProcessOptions
{
    /// <summary>Most alerts a stage takes at once.</summary>
    public int BatchSize { get; set; } = 64;

    /// <summary>Capacity of each bounded channel between stages (back-pressure).</summary>
    public int ChannelCapacity { get; set; } = 256;

    /// <summary>Transient retries before a failure is fatal.</summary>
    public int TransientRetries { get; set; } = 3;
}

/// <summary>
/// Chains steps in one process, without Kafka, with bounded channels between them: the same step classes the Kafka
/// host runs, for <c>broker run</c>, <c>broker demo</c> and tests (the idea of Kafka Streams' TopologyTestDriver).
/// Each stage's default output feeds the next stage; the last stage's default output, and every stage's named
/// destinations (<see cref="IRoutingStep"/>), come out of the chain, each record once per destination it was routed
/// to. Every alert read ends up out of the chain, dead-lettered, dropped as a duplicate or filtered; on cancellation
/// the source stops and what was read is drained, so the summary still reconciles. Each stage's start-up hook runs
/// before the source is read; the pipeline owns its stages, and disposing it disposes them and their steps. The run's
/// parts (<see cref="SourcePump"/>, one <see cref="StageWorker"/> per stage, <see cref="OutputSink"/>) share only the
/// channels between them, the counters, the dead-letter list, <see cref="RunProgress"/> and <see cref="RunFault"/>.
/// </summary>
public sealed class InProcessPipeline : IAsyncDisposable
{
    private readonly IReadOnlyList<PipelineStage> _stages;
    private readonly InProcessOptions _options;
    private readonly ILogger? _logger;

    /// <summary>A chain of <paramref name="stages"/>.</summary>
    /// <exception cref="ArgumentException">No stages, or two stages declare the same destination.</exception>
    public InProcessPipeline(IReadOnlyList<PipelineStage> stages, InProcessOptions? options = null, ILogger? logger = null)
    {
        if (stages.Count == 0) throw new ArgumentException("no stages", nameof(stages));
        _stages = stages;
        _options = options ?? new InProcessOptions();
        _logger = logger;
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var stage in stages)
        {
            foreach (var d in stage.Destinations)
            {
                if (!owner.TryAdd(d, stage.Name))
                    throw new ArgumentException($"stages {owner[d]} and {stage.Name} both route to a destination named {d}", nameof(stages));
            }
        }
        Destinations = [.. owner.Keys];
    }

    /// <summary>The chain's named destinations (every stage's, in chain order), besides the default output of its last stage.</summary>
    public IReadOnlyList<string> Destinations { get; }

    /// <summary>Runs every message of <paramref name="source"/> through the chain.</summary>
    /// <param name="source">The input messages.</param>
    /// <param name="onOutput">Called for each record that comes out of the chain, in one thread, in arrival order.</param>
    /// <param name="progress">Told the number of messages accounted for so far (not more than ~20 times a second).</param>
    /// <param name="stop">Stops reading the source; what was read is still finished.</param>
    /// <exception cref="StepException">A fatal step failure.</exception>
    /// <exception cref="StepHostConfigurationException">A stage's start-up hook found something missing; nothing was read.</exception>
    public async Task<RunSummary> RunAsync(IAsyncEnumerable<SourceMessage> source, Action<PipelineOutput>? onOutput = null,
        IProgress<long>? progress = null, CancellationToken stop = default)
    {
        foreach (var stage in _stages) await stage.StartAsync(stop).ConfigureAwait(false);
        var counters = _stages.Select(s => new StepCounters(s.Name)).ToArray();
        var deadLetters = new List<DeadLetterRecord>();
        var channels = new Channel<Envelope>[_stages.Count];
        for (int i = 0; i < channels.Length; i++)
            channels[i] = Channel.CreateBounded<Envelope>(new BoundedChannelOptions(_options.ChannelCapacity) { SingleReader = true, SingleWriter = true });
        // Everything that leaves the chain, from any stage, to the one sink.
        var outputs = Channel.CreateBounded<ChainOutput>(new BoundedChannelOptions(_options.ChannelCapacity) { SingleReader = true, SingleWriter = _stages.Count == 1 });
        var fault = new RunFault(() =>
        {
            foreach (var c in channels) c.Writer.TryComplete();
            outputs.Writer.TryComplete();
        });
        var accounted = new RunProgress(progress);
        long t0 = Stopwatch.GetTimestamp();

        var pump = new SourcePump(source, channels[0].Writer, fault);
        var sink = new OutputSink(outputs.Reader, onOutput, accounted, fault);
        // Workers are not cancelled by stop: they drain what was read so that every alert is accounted for.
        var workers = new Task[_stages.Count];
        for (int s = 0; s < _stages.Count; s++)
        {
            var worker = new StageWorker(_stages[s], channels[s].Reader, s + 1 < _stages.Count ? channels[s + 1].Writer : null, outputs.Writer,
                counters[s], deadLetters, accounted, fault, _options, _logger);
            workers[s] = Task.Run(worker.RunAsync, CancellationToken.None);
        }
        var reading = Task.Run(() => pump.RunAsync(stop), CancellationToken.None);
        var writing = Task.Run(sink.RunAsync, CancellationToken.None);
        try
        {
            await Task.WhenAll([reading, .. workers, writing]).ConfigureAwait(false);
        }
        catch when (fault.First is not null)
        {
            // The first failure, not the ChannelClosedException it caused in the tasks it stopped.
            ExceptionDispatchInfo.Throw(fault.First);
        }
        accounted.ReportNow();
        var elapsed = Stopwatch.GetElapsedTime(t0);
        return new RunSummary(pump.Read, sink.Written, counters.Select(c => c.Snapshot()).ToList(), deadLetters, elapsed, sink.Latencies, pump.Stopped,
            sink.Finished, sink.ByDestination);
    }

    /// <summary>Disposes the stages and their steps.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var stage in _stages) await stage.DisposeAsync().ConfigureAwait(false);
    }
}
