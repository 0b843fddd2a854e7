using Broker.StepHost;

namespace Broker.StepHost.Tests;

/// <summary>A step over integers: negative numbers are bad input, zero is a duplicate, odd numbers are filtered.</summary>
internal sealed class ParityStep(bool throwOnBad = false) : IStep<int, int>
{
    public int Calls { get; private set; }

    public string Name => "parity";

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
    {
        Calls++;
        var results = new StepResult<int>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            int x = batch[i];
            if (x < 0 && throwOnBad) throw new StepException(FailureKind.BadInput, $"{x} is negative");
            results[i] = x < 0 ? StepResult<int>.DeadLetter($"{x} is negative")
                : x == 0 ? StepResult<int>.Duplicate("zero again")
                : x % 2 == 1 ? StepResult<int>.Filter("odd")
                : StepResult<int>.Emit(x * 10);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(results);
    }
}

/// <summary>Fails transiently a given number of times, then doubles its input.</summary>
internal sealed class FlakyStep(int failures, FailureKind kind = FailureKind.Transient) : IStep<int, int>
{
    private int _left = failures;

    public int Calls { get; private set; }

    public string Name => "flaky";

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
    {
        Calls++;
        if (_left-- > 0) throw new StepException(kind, "dependency down");
        return ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(batch.Select(x => StepResult<int>.Emit(x * 2)).ToArray());
    }
}

public class StepRunnerTests
{
    [Fact]
    public async Task A_poison_alert_thrown_as_bad_input_is_dead_lettered_and_the_rest_of_the_batch_goes_on()
    {
        var step = new ParityStep(throwOnBad: true);
        var results = await StepRunner.ExecuteIsolatingAsync(step, [2, -3, 4], 0, null, CancellationToken.None);
        Assert.Equal([StepOutcome.Emitted, StepOutcome.DeadLettered, StepOutcome.Emitted], results.Select(r => r.Outcome));
        Assert.Equal(20, results[0].Value);
        Assert.Equal("-3 is negative", results[1].Reason);
        Assert.Equal(40, results[2].Value);
    }

    [Fact]
    public async Task Results_keep_input_order_and_each_outcome()
    {
        var results = await StepRunner.ExecuteIsolatingAsync(new ParityStep(), [2, 0, 3, -1], 0, null, CancellationToken.None);
        Assert.Equal([StepOutcome.Emitted, StepOutcome.Duplicate, StepOutcome.Filtered, StepOutcome.DeadLettered], results.Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_transient_failure_is_retried_until_it_passes()
    {
        var step = new FlakyStep(failures: 2);
        var results = await StepRunner.ExecuteIsolatingAsync(step, [1, 2], 3, null, CancellationToken.None);
        Assert.Equal([2, 4], results.Select(r => r.Value));
        Assert.Equal(3, step.Calls);
    }

    [Fact]
    public async Task A_transient_failure_beyond_the_retries_becomes_fatal()
    {
        var step = new FlakyStep(failures: 10);
        var ex = await Assert.ThrowsAsync<StepException>(async () => await StepRunner.ExecuteIsolatingAsync(step, [1], 1, null, CancellationToken.None));
        Assert.Equal(FailureKind.Fatal, ex.Kind);
        Assert.Equal(2, step.Calls);
    }

    [Fact]
    public async Task A_fatal_failure_is_not_mistaken_for_bad_input()
    {
        var step = new FlakyStep(failures: 1, FailureKind.Fatal);
        var ex = await Assert.ThrowsAsync<StepException>(async () => await StepRunner.ExecuteIsolatingAsync(step, [1, 2], 3, null, CancellationToken.None));
        Assert.Equal(FailureKind.Fatal, ex.Kind);
    }
}
