using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Broker.Alerts.IO;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>An output record of the last stage.</summary>
/// <param name="Value">The record (an <c>Alert</c> for Broker's chain).</param>
/// <param name="Key">Its key (the alert id).</param>
/// <param name="Origin">The message it came from.</param>
public sealed record PipelineOutput(object Value, string? Key, SourceMessage Origin);

/// <summary>An alert a stage refused, with the reason.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Source">Where the message came from.</param>
/// <param name="Index">Its index within the source.</param>
/// <param name="Key">Its key, when known.</param>
/// <param name="Reason">Why.</param>
public sealed record DeadLetterRecord(string Stage, string Source, int Index, string? Key, string Reason);

/// <summary>A step wrapped for the in-process runner, which chains stages of different types.</summary>
public abstract class PipelineStage
{
    /// <summary>The step's name.</summary>
    public abstract string Name { get; }

    /// <summary>The step's codec for outputs, used for keys.</summary>
    internal abstract string? KeyOf(object output);

    internal abstract ValueTask<IReadOnlyList<(StepOutcome Outcome, object? Value, string? Reason)>> RunAsync(IReadOnlyList<object> inputs, int retries, ILogger? log, CancellationToken ct);

    /// <summary>Wraps a step; <paramref name="outputCodec"/> names each output's key.</summary>
    public static PipelineStage From<TIn, TOut>(IStep<TIn, TOut> step, IMessageCodec<TOut>? outputCodec = null) where TIn : notnull where TOut : notnull =>
        new Typed<TIn, TOut>(step, outputCodec);

    private sealed class Typed<TIn, TOut>(IStep<TIn, TOut> step, IMessageCodec<TOut>? codec) : PipelineStage where TIn : notnull where TOut : notnull
    {
        public override string Name => step.Name;

        internal override string? KeyOf(object output) => codec?.KeyOf((TOut)output);

        internal override async ValueTask<IReadOnlyList<(StepOutcome, object?, string?)>> RunAsync(IReadOnlyList<object> inputs, int retries, ILogger? log, CancellationToken ct)
        {
            var typed = new TIn[inputs.Count];
            for (int i = 0; i < typed.Length; i++)
            {
                typed[i] = inputs[i] is TIn t ? t
                    : throw new StepException(FailureKind.Fatal, $"stage {step.Name} takes {typeof(TIn).Name}, the stage before it emits {inputs[i].GetType().Name}");
            }
            var results = await StepRunner.ExecuteIsolatingAsync(step, typed, retries, log, ct).ConfigureAwait(false);
            var list = new (StepOutcome, object?, string?)[results.Count];
            for (int i = 0; i < list.Length; i++) list[i] = (results[i].Outcome, results[i].Value, results[i].Reason);
            return list;
        }
    }
}

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
/// Every alert read ends up output, dead-lettered, dropped as a duplicate or filtered; on cancellation the source
/// stops and what was read is drained, so the summary still reconciles.
/// </summary>
public sealed class InProcessPipeline(IReadOnlyList<PipelineStage> stages, InProcessOptions? options = null, ILogger? logger = null)
{
    private readonly InProcessOptions _options = options ?? new InProcessOptions();

    private sealed class Envelope(SourceMessage origin, object value, long started)
    {
        public SourceMessage Origin { get; } = origin;
        public object Value { get; set; } = value;
        public long Started { get; } = started;
        public string? Key { get; set; } = origin.Key;
    }

    /// <summary>Runs every message of <paramref name="source"/> through the chain.</summary>
    /// <param name="source">The input messages.</param>
    /// <param name="onOutput">Called for each output of the last stage, in one thread, in arrival order.</param>
    /// <param name="progress">Told the number of messages accounted for so far (not more than ~20 times a second).</param>
    /// <param name="stop">Stops reading the source; what was read is still finished.</param>
    /// <exception cref="StepException">A fatal step failure.</exception>
    public async Task<RunSummary> RunAsync(IAsyncEnumerable<SourceMessage> source, Action<PipelineOutput>? onOutput = null,
        IProgress<long>? progress = null, CancellationToken stop = default)
    {
        if (stages.Count == 0) throw new ArgumentException("no stages", nameof(stages));
        var counters = stages.Select(s => new StepCounters(s.Name)).ToArray();
        var deadLetters = new List<DeadLetterRecord>();
        var latencies = new List<double>();
        var channels = new Channel<Envelope>[stages.Count + 1];
        for (int i = 0; i < channels.Length; i++)
            channels[i] = Channel.CreateBounded<Envelope>(new BoundedChannelOptions(_options.ChannelCapacity) { SingleReader = true, SingleWriter = true });

        // The first failure of any task. It completes every channel, so that writers blocked on a full channel and
        // readers waiting on an empty one end instead of hanging, and it is what RunAsync throws.
        Exception? failure = null;
        void Fail(Exception ex)
        {
            Interlocked.CompareExchange(ref failure, ex, null);
            foreach (var c in channels) c.Writer.TryComplete();
        }

        long read = 0, accounted = 0, written = 0, lastReport = 0;
        bool stopped = false;
        long t0 = Stopwatch.GetTimestamp();
        void Accounted(int n)
        {
            long a = Interlocked.Add(ref accounted, n);
            long now = Environment.TickCount64;
            if (progress is not null && now - Interlocked.Read(ref lastReport) >= 50)
            {
                Interlocked.Exchange(ref lastReport, now);
                progress.Report(a);
            }
        }

        // Workers are not cancelled by stop: they drain what was read so that every alert is accounted for.
        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var m in source.WithCancellation(stop).ConfigureAwait(false))
                {
                    await channels[0].Writer.WriteAsync(new Envelope(m, m.Value, Stopwatch.GetTimestamp()), CancellationToken.None).ConfigureAwait(false);
                    read++;
                    if (stop.IsCancellationRequested)
                    {
                        stopped = true;
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                stopped = true;
            }
            catch (Exception ex)
            {
                Fail(ex);
                throw;
            }
            finally
            {
                channels[0].Writer.TryComplete();
            }
        }, CancellationToken.None);

        var workers = new Task[stages.Count];
        for (int s = 0; s < stages.Count; s++)
        {
            int index = s;
            workers[s] = Task.Run(async () =>
            {
                var stage = stages[index];
                var input = channels[index].Reader;
                var output = channels[index + 1].Writer;
                var batch = new List<Envelope>(_options.BatchSize);
                try
                {
                    while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                    {
                        batch.Clear();
                        while (batch.Count < _options.BatchSize && input.TryRead(out var e)) batch.Add(e);
                        if (batch.Count == 0) continue;
                        counters[index].AddIn(batch.Count);
                        var values = new object[batch.Count];
                        for (int i = 0; i < values.Length; i++) values[i] = batch[i].Value;
                        var results = await stage.RunAsync(values, _options.TransientRetries, logger, CancellationToken.None).ConfigureAwait(false);
                        int dropped = 0;
                        for (int i = 0; i < batch.Count; i++)
                        {
                            var (outcome, value, reason) = results[i];
                            counters[index].Count(outcome, reason);
                            var e = batch[i];
                            if (outcome == StepOutcome.Emitted)
                            {
                                e.Value = value!;
                                e.Key = stage.KeyOf(value!) ?? e.Key;
                                await output.WriteAsync(e, CancellationToken.None).ConfigureAwait(false);
                                continue;
                            }
                            dropped++;
                            if (outcome == StepOutcome.DeadLettered)
                            {
                                lock (deadLetters) deadLetters.Add(new DeadLetterRecord(stage.Name, e.Origin.Source, e.Origin.Index, e.Key, reason ?? "(no reason)"));
                            }
                        }
                        if (dropped > 0) Accounted(dropped);
                    }
                }
                catch (Exception ex)
                {
                    Fail(ex);
                    throw;
                }
                finally
                {
                    output.TryComplete();
                }
            }, CancellationToken.None);
        }

        var sink = Task.Run(async () =>
        {
            try
            {
                var input = channels[^1].Reader;
                while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
                {
                    int n = 0;
                    while (input.TryRead(out var e))
                    {
                        latencies.Add((Stopwatch.GetTimestamp() - e.Started) * 1000.0 / Stopwatch.Frequency);
                        onOutput?.Invoke(new PipelineOutput(e.Value, e.Key, e.Origin));
                        written++;
                        n++;
                    }
                    Accounted(n);
                }
            }
            catch (Exception ex)
            {
                Fail(ex);
                throw;
            }
        }, CancellationToken.None);

        try
        {
            await Task.WhenAll([reader, .. workers, sink]).ConfigureAwait(false);
        }
        catch when (failure is not null)
        {
            // The first failure, not the ChannelClosedException it caused in the tasks it stopped.
            ExceptionDispatchInfo.Throw(failure);
        }
        progress?.Report(Interlocked.Read(ref accounted));
        var elapsed = Stopwatch.GetElapsedTime(t0);
        return new RunSummary(read, written, counters.Select(c => c.Snapshot()).ToList(), deadLetters, elapsed, latencies, stopped);
    }
}
