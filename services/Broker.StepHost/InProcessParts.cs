using Broker.Alerts.IO;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>An alert on its way through the in-process chain: its origin, its current value and key.</summary>
internal sealed class Envelope(SourceMessage origin, object value, long started)
{
    public SourceMessage Origin { get; } = origin;

    public object Value { get; set; } = value;

    /// <summary>When it was read (a <see cref="Stopwatch"/> time stamp).</summary>
    public long Started { get; } = started;

    public string? Key { get; set; } = origin.Key;
}

/// <summary>
/// A record leaving the chain, for the sink. <paramref name="EndsInput"/> marks the last record of its input: the
/// input is then accounted for (an input routed to three destinations leaves as three records, one of them last).
/// </summary>
internal readonly record struct ChainOutput(SourceMessage Origin, long Started, object Value, string? Key, string Destination, bool EndsInput);

/// <summary>
/// The first failure of any part of a run. It completes every channel, so that writers blocked on a full channel and
/// readers waiting on an empty one end instead of hanging, and it is what the run throws.
/// </summary>
internal sealed class RunFault(Action completeChannels)
{
    private Exception? _first;

    /// <summary>The first failure, or null.</summary>
    public Exception? First => Volatile.Read(ref _first);

    /// <summary>Records <paramref name="ex"/> (the first is kept) and ends the run.</summary>
    public void Fail(Exception ex)
    {
        Interlocked.CompareExchange(ref _first, ex, null);
        completeChannels();
    }
}

/// <summary>How many messages are accounted for, told to a progress reporter at most every 50 ms. Thread-safe.</summary>
internal sealed class RunProgress(IProgress<long>? progress)
{
    private long _accounted;
    private long _lastReport;

    /// <summary>Counts <paramref name="n"/> messages accounted for.</summary>
    public void Add(int n)
    {
        long a = Interlocked.Add(ref _accounted, n);
        long now = Environment.TickCount64;
        if (progress is not null && now - Interlocked.Read(ref _lastReport) >= 50)
        {
            Interlocked.Exchange(ref _lastReport, now);
            progress.Report(a);
        }
    }

    /// <summary>Reports the count now (at the end of a run).</summary>
    public void ReportNow() => progress?.Report(Interlocked.Read(ref _accounted));
}

/// <summary>Reads the source into the first stage's channel until it ends or the run is stopped.</summary>
internal sealed class SourcePump(IAsyncEnumerable<SourceMessage> source, ChannelWriter<Envelope> output, RunFault fault)
{
    /// <summary>Messages read (read once the run has ended).</summary>
    public long Read { get; private set; }

    /// <summary>True when the run was stopped before the source ended.</summary>
    public bool Stopped { get; private set; }

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var m in source.WithCancellation(stop).ConfigureAwait(false))
            {
                await output.WriteAsync(new Envelope(m, m.Value, Stopwatch.GetTimestamp()), CancellationToken.None).ConfigureAwait(false);
                Read++;
                if (stop.IsCancellationRequested)
                {
                    Stopped = true;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Stopped = true;
        }
        catch (Exception ex)
        {
            fault.Fail(ex);
            throw;
        }
        finally
        {
            output.TryComplete();
        }
    }
}

/// <summary>
/// Runs one stage: takes batches from its channel, runs the step, counts each input once and each output per
/// destination, passes default outputs to the next stage (or, after the last stage, out of the chain) and named
/// destinations out of the chain, and records dead letters.
/// </summary>
/// <param name="stage">The stage.</param>
/// <param name="input">Its input.</param>
/// <param name="next">The next stage's input; null for the last stage, whose default output leaves the chain.</param>
/// <param name="outputs">What leaves the chain (shared by every stage; the last stage completes it).</param>
/// <param name="counters">The stage's counters.</param>
/// <param name="deadLetters">Every stage's dead letters (locked).</param>
/// <param name="progress">Told of inputs dropped here.</param>
/// <param name="fault">Told of a failure.</param>
/// <param name="options">Batch size, retries.</param>
/// <param name="log">The step's log.</param>
internal sealed class StageWorker(PipelineStage stage, ChannelReader<Envelope> input, ChannelWriter<Envelope>? next, ChannelWriter<ChainOutput> outputs,
    StepCounters counters, List<DeadLetterRecord> deadLetters, RunProgress progress, RunFault fault, InProcessOptions options, ILogger? log)
{
    public async Task RunAsync()
    {
        counters.Route(stage.Table);
        var batch = new List<Envelope>(options.BatchSize);
        try
        {
            while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < options.BatchSize && input.TryRead(out var e)) batch.Add(e);
                if (batch.Count == 0) continue;
                counters.AddIn(batch.Count);
                var values = new object[batch.Count];
                for (int i = 0; i < values.Length; i++) values[i] = batch[i].Value;
                long t0 = Stopwatch.GetTimestamp();
                var results = await stage.RunAsync(values, options.TransientRetries, log, CancellationToken.None).ConfigureAwait(false);
                // The step's own time (decode, transform, encode; one worker per stage): where a run's time goes (issue 16, item 4).
                counters.BatchDone((long)Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                int dropped = 0;
                for (int i = 0; i < batch.Count; i++)
                {
                    var r = results[i];
                    counters.Count(r.Outcome, r.Reason);
                    var e = batch[i];
                    if (r.Outcome == StepOutcome.Emitted)
                    {
                        await RouteAsync(e, r.Outputs!).ConfigureAwait(false);
                        continue;
                    }
                    dropped++;
                    if (r.Outcome == StepOutcome.DeadLettered)
                    {
                        lock (deadLetters) deadLetters.Add(new DeadLetterRecord(stage.Name, e.Origin.Source, e.Origin.Index, e.Key, r.Reason ?? "(no reason)"));
                    }
                }
                if (dropped > 0) progress.Add(dropped);
            }
        }
        catch (Exception ex)
        {
            fault.Fail(ex);
            throw;
        }
        finally
        {
            // The last stage writes the chain's outputs last: every earlier stage has finished when its input completes.
            if (next is not null) next.TryComplete();
            else outputs.TryComplete();
        }
    }

    /// <summary>
    /// Sends an emitted input's outputs on: the default one to the next stage (the input goes on, keeping its origin),
    /// the others out of the chain; after the last stage, all of them out of the chain.
    /// </summary>
    private async ValueTask RouteAsync(Envelope e, StageOutput[] routed)
    {
        int continuing = -1, leaving = 0;
        for (int k = 0; k < routed.Length; k++)
        {
            counters.Destination(routed[k].Destination).AddOut();
            if (next is not null && routed[k].Destination == 0) continuing = k;
            else leaving++;
        }
        foreach (var o in routed)
        {
            if (next is not null && o.Destination == 0) continue;
            leaving--;
            // The last record of an input that goes no further ends it (an input that goes on ends further on).
            bool ends = leaving == 0 && continuing < 0;
            string? key = stage.KeyOf(o.Value) ?? e.Key;
            await outputs.WriteAsync(new ChainOutput(e.Origin, e.Started, o.Value, key, stage.Table.Names[o.Destination], ends), CancellationToken.None).ConfigureAwait(false);
        }
        if (continuing >= 0)
        {
            var value = routed[continuing].Value;
            e.Value = value;
            e.Key = stage.KeyOf(value) ?? e.Key;
            await next!.WriteAsync(e, CancellationToken.None).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The one reader of what leaves the chain: hands each record to the caller's callback in arrival order, counts
/// records per destination and inputs finished, and keeps each finished input's latency.
/// </summary>
internal sealed class OutputSink(ChannelReader<ChainOutput> input, Action<PipelineOutput>? onOutput, RunProgress progress, RunFault fault)
{
    private readonly Dictionary<string, long> _byDestination = new(StringComparer.Ordinal);

    /// <summary>Per-input latency from reading the message to its last record leaving the chain, ms.</summary>
    public List<double> Latencies { get; } = [];

    /// <summary>Records of the last stage's default output.</summary>
    public long Written { get; private set; }

    /// <summary>Inputs that left the chain (to one destination or more).</summary>
    public long Finished { get; private set; }

    /// <summary>Records per destination.</summary>
    public IReadOnlyDictionary<string, long> ByDestination => _byDestination;

    public async Task RunAsync()
    {
        try
        {
            while (await input.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                int n = 0;
                while (input.TryRead(out var o))
                {
                    onOutput?.Invoke(new PipelineOutput(o.Value, o.Key, o.Origin, o.Destination));
                    _byDestination[o.Destination] = _byDestination.GetValueOrDefault(o.Destination) + 1;
                    if (o.Destination == Destination.Default) Written++;
                    if (!o.EndsInput) continue;
                    Latencies.Add((Stopwatch.GetTimestamp() - o.Started) * 1000.0 / Stopwatch.Frequency);
                    Finished++;
                    n++;
                }
                progress.Add(n);
            }
        }
        catch (Exception ex)
        {
            fault.Fail(ex);
            throw;
        }
    }
}
