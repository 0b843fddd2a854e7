using Broker.StepHost;
using Broker.StepHost.Tests.TestSupport;
using Broker.TestSupport;

namespace Broker.StepHost.Tests;

/// <summary>Turns message bytes into an int (its first byte, minus 100 so that bytes below 100 are negative).</summary>
internal sealed class ParseStep : IStep<byte[], int>
{
    public string Name => "parse";

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<byte[]> batch, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(batch
            .Select(b => b.Length == 0 ? StepResult<int>.DeadLetter("empty") : StepResult<int>.Emit(b[0] - 100)).ToArray());
}

/// <summary>Passes ints through until it has seen <paramref name="limit"/> of them, then fails fatally (a corrupt model).</summary>
internal sealed class FatalAfterStep(int limit) : IStep<int, int>
{
    private int _seen;

    public string Name => "fatal";

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
    {
        _seen += batch.Count;
        if (_seen > limit) throw new StepException(FailureKind.Fatal, "model file corrupt");
        return ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(batch.Select(StepResult<int>.Emit).ToArray());
    }
}

public class InProcessPipelineTests
{
    [Fact]
    public async Task Every_message_is_output_dead_lettered_duplicated_or_filtered_and_the_counts_reconcile()
    {
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParseStep()), PipelineStage.From(new ParityStep())], new InProcessOptions { BatchSize = 7, ChannelCapacity = 5 });
        var outputs = new List<int>();
        var summary = await pipeline.RunAsync(NumberedMessages.Read("test", 1000), o => outputs.Add((int)o.Value));

        Assert.Equal(1000, summary.Read);
        Assert.Equal(0, summary.InFlight);
        var parse = summary.Stages[0];
        var parity = summary.Stages[1];
        Assert.Equal(1000, parse.In);
        Assert.Equal(parse.Out, parity.In);
        Assert.Equal(parse.In, parse.Out + parse.DeadLettered);
        Assert.Equal(parity.In, parity.Out + parity.DeadLettered + parity.Duplicates + parity.Filtered);
        Assert.Equal(summary.Written, outputs.Count);
        Assert.All(outputs, v => Assert.True(v % 20 == 0 && v > 0));
        // Expected by construction: empties are i % 17 == 5.
        int empties = Enumerable.Range(0, 1000).Count(i => i % 17 == 5);
        Assert.Equal(empties, parse.DeadLettered);
        Assert.Equal(empties, summary.DeadLetters.Count(d => d.Stage == "parse" && d.Reason == "empty"));
        int evenPositive = Enumerable.Range(0, 1000).Count(i => i % 17 != 5 && i % 100 != 0 && i % 2 == 0);
        Assert.Equal(evenPositive, outputs.Count);
    }

    [Fact]
    public async Task A_stopped_run_finishes_what_it_read_and_still_reconciles()
    {
        using var stop = new CancellationTokenSource();
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParseStep())], new InProcessOptions { BatchSize = 4, ChannelCapacity = 2 });
        var summary = await pipeline.RunAsync(NumberedMessages.Read("test", 1000, stop, 300), null, null, stop.Token);

        Assert.True(summary.Stopped);
        Assert.InRange(summary.Read, 300, 999);
        Assert.Equal(0, summary.InFlight);
        Assert.Equal(summary.Read, summary.Stages[0].In);
    }

    [Fact]
    public async Task Stages_of_mismatched_types_fail_with_a_fatal_error_naming_them()
    {
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParityStep())]);
        var ex = await Assert.ThrowsAsync<StepException>(() => pipeline.RunAsync(NumberedMessages.Read("test", 3)));
        Assert.Equal(FailureKind.Fatal, ex.Kind);
        Assert.Contains("parity takes Int32", ex.Message);
    }

    // The timeout guards against the hang this test is about: upstream stages blocked on full channels.
    [Fact(Timeout = 60_000)]
    public async Task A_fatal_failure_with_full_channels_ends_the_run_with_that_failure()
    {
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParseStep()), PipelineStage.From(new FatalAfterStep(20))], new InProcessOptions { BatchSize = 4, ChannelCapacity = 2 });
        var ex = await Assert.ThrowsAsync<StepException>(() => pipeline.RunAsync(NumberedMessages.Read("test", 1000)));
        Assert.Equal(FailureKind.Fatal, ex.Kind);
        Assert.Contains("model file corrupt", ex.Message);
    }

    /// <summary>Indices of the numbered messages (<see cref="NumberedMessages"/>) whose value <see cref="FanOutStep"/> routes to each destination.</summary>
    private static Dictionary<string, List<int>> Expected(int count)
    {
        var expected = new Dictionary<string, List<int>>();
        for (int i = 0; i < count; i++)
        {
            if (i % 17 == 5) continue;
            foreach (var (d, _) in FanOutStep.Routes(i % 100))
            {
                if (!expected.TryGetValue(d, out var list)) expected[d] = list = [];
                list.Add(i);
            }
        }
        return expected;
    }

    [Fact]
    public async Task A_routing_stage_sends_each_output_to_its_destination_once_and_the_counts_reconcile_per_destination()
    {
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParseStep()), PipelineStage.From(new FanOutStep(), new IntCodec())], new InProcessOptions { BatchSize = 7, ChannelCapacity = 3 });
        Assert.Equal([FanOutStep.A, FanOutStep.B, FanOutStep.C], pipeline.Destinations);
        var outputs = new List<PipelineOutput>();
        var summary = await pipeline.RunAsync(NumberedMessages.Read("test", 1000), outputs.Add);

        Assert.Equal(0, summary.InFlight);
        var fan = summary.Stages[1];
        Assert.Equal(fan.In, fan.Out + fan.DeadLettered + fan.Duplicates + fan.Filtered);
        var expected = Expected(1000);
        var got = outputs.GroupBy(o => o.Destination).ToDictionary(g => g.Key, g => g.Select(o => o.Origin.Index).ToList());
        Assert.Equal(expected.Keys.Order(), got.Keys.Order());
        foreach (var (d, indices) in expected)
        {
            Assert.Equal(indices, got[d].Order());
            Assert.Equal(indices.Count, fan.For(d)!.Out);
            Assert.Equal(indices.Count, summary.Destinations[d]);
        }
        // Each destination gets its own value, keyed by the step's codec.
        Assert.All(outputs.Where(o => o.Destination == FanOutStep.B), o => Assert.Equal(((int)o.Value).ToString(System.Globalization.CultureInfo.InvariantCulture), o.Key));
        Assert.All(outputs.Where(o => o.Destination == FanOutStep.B), o => Assert.InRange((int)o.Value, 100_000, 100_099));
        Assert.Equal(expected[Destination.Default].Count, summary.Written);
        // Inputs that came out: routed to at least one destination.
        Assert.Equal(fan.Out, summary.Finished);
        Assert.Equal(Enumerable.Range(0, 1000).Count(i => i % 17 != 5 && i % 100 % 11 == 0), fan.DeadLettered);
        Assert.All(summary.DeadLetters.Where(d => d.Stage == "fan"), d => Assert.StartsWith("misrouted: step fan routed a result to the unknown destination 'fan.z'", d.Reason));
        Assert.Equal(fan.In - fan.Out - fan.DeadLettered, fan.Filtered);
    }

    [Fact]
    public async Task A_routing_stage_in_the_middle_feeds_the_next_stage_with_its_default_output_and_its_other_destinations_leave_the_chain()
    {
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParseStep()), PipelineStage.From(new FanOutStep()), PipelineStage.From(new ParityStep())],
            new InProcessOptions { BatchSize = 5, ChannelCapacity = 2 });
        var outputs = new List<PipelineOutput>();
        var summary = await pipeline.RunAsync(NumberedMessages.Read("test", 1000), outputs.Add);

        Assert.Equal(0, summary.InFlight);
        var (fan, parity) = (summary.Stages[1], summary.Stages[2]);
        var expected = Expected(1000);
        Assert.Equal(expected[Destination.Default].Count, parity.In);
        Assert.Equal(fan.For(Destination.Default)!.Out, parity.In);
        // ParityStep emits 10 x even values (the default's are v + 300000) and filters odd ones.
        var defaults = outputs.Where(o => o.Destination == Destination.Default).ToList();
        Assert.Equal(parity.Out, defaults.Count);
        Assert.Equal(summary.Written, defaults.Count);
        Assert.Equal(expected[Destination.Default].Where(i => (i % 100) % 2 == 0).ToList(), defaults.Select(o => o.Origin.Index).Order());
        foreach (var d in new[] { FanOutStep.A, FanOutStep.B, FanOutStep.C })
            Assert.Equal(expected[d], outputs.Where(o => o.Destination == d).Select(o => o.Origin.Index).Order());
        // Out of the chain: the inputs routed to named destinations only, and those the last stage emitted (an input
        // also routed to the default goes on, and the last stage may filter it).
        Assert.Equal(fan.Out - fan.For(Destination.Default)!.Out + parity.Out, summary.Finished);
    }

    [Fact]
    public void Two_stages_routing_to_one_destination_name_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new InProcessPipeline([PipelineStage.From(new ParseStep()), PipelineStage.From(new FanOutStep()), PipelineStage.From(new FanOutStep())]));
        Assert.Contains("stages fan and fan both route to a destination named fan.a", ex.Message);
    }

    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(5, RunSummary.Percentile(sorted, 0.5));
        Assert.Equal(10, RunSummary.Percentile(sorted, 0.99));
        Assert.Equal(1, RunSummary.Percentile(sorted, 0.0));
        Assert.Equal(0, RunSummary.Percentile([], 0.5));
    }
}
