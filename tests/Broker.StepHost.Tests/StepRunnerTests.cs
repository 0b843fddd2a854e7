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

/// <summary>
/// Remembers every number it emitted (a repeat is a duplicate, as ingest's window does with alert ids) and keeps
/// that memory as <see cref="IStepState"/>. 13 is poison: an exception of no Broker type, thrown halfway through a
/// batch, after the numbers before it were remembered. With <c>transientOnce</c> the first call fails transiently
/// halfway through, after remembering the first half.
/// </summary>
internal sealed class RememberingStep(bool transientOnce = false) : IStep<int, int>, IStepState
{
    private readonly HashSet<int> _seen = [];
    private readonly List<int> _pending = [];
    private bool _inBatch, _failedOnce;

    public string Name => "remembering";

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<int>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            if (transientOnce && !_failedOnce && i == batch.Count / 2)
            {
                _failedOnce = true;
                throw new StepException(FailureKind.Transient, "catalogue server busy");
            }
            int x = batch[i];
            if (x == 13) throw new InvalidOperationException("13 is unlucky");
            if (_seen.Contains(x) || _pending.Contains(x))
            {
                results[i] = StepResult<int>.Duplicate($"{x} again");
                continue;
            }
            if (_inBatch) _pending.Add(x);
            else _seen.Add(x);
            results[i] = StepResult<int>.Emit(x);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(results);
    }

    public void BeginBatch()
    {
        _pending.Clear();
        _inBatch = true;
    }

    public void CommitBatch()
    {
        _seen.UnionWith(_pending);
        _pending.Clear();
        _inBatch = false;
    }

    public void RollbackBatch()
    {
        _pending.Clear();
        _inBatch = false;
    }
}

public class StepRunnerTests
{
    [Fact]
    public async Task Isolating_a_poison_input_runs_against_the_state_before_the_batch_so_no_good_input_becomes_a_duplicate()
    {
        var step = new RememberingStep();
        var results = await StepRunner.ExecuteIsolatingAsync(step, [2, 4, 13, 6, 4], 0, null, CancellationToken.None);
        Assert.Equal([StepOutcome.Emitted, StepOutcome.Emitted, StepOutcome.DeadLettered, StepOutcome.Emitted, StepOutcome.Duplicate], results.Select(r => r.Outcome));
        Assert.Equal("InvalidOperationException: 13 is unlucky", results[2].Reason);

        // What the batch kept is remembered for the next one; what the failed attempt saw was not kept twice.
        var next = await StepRunner.ExecuteIsolatingAsync(step, [2, 8], 0, null, CancellationToken.None);
        Assert.Equal([StepOutcome.Duplicate, StepOutcome.Emitted], next.Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_transient_retry_runs_against_the_state_before_the_failed_attempt()
    {
        var step = new RememberingStep(transientOnce: true);
        var results = await StepRunner.ExecuteIsolatingAsync(step, [2, 4, 6, 8], 1, null, CancellationToken.None);
        Assert.All(results, r => Assert.Equal(StepOutcome.Emitted, r.Outcome));
    }

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
