using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>Runs a step on a batch with Broker's failure rules; shared by the Kafka host and the in-process runner.</summary>
public static class StepRunner
{
    /// <summary>
    /// Runs the step. A batch that fails with bad input (or an unexpected exception) is re-run one item at a time,
    /// so one poison alert is dead-lettered, with the exception's type and message as its reason, and the rest go
    /// on; transient failures are retried with exponential backoff and jitter, then become fatal. Every attempt runs
    /// against the step's state as it was before the attempt (<see cref="IStepState"/>): what a failed attempt
    /// remembered is rolled back before the batch is retried or isolated.
    /// </summary>
    /// <exception cref="StepException">Fatal, or transient beyond <paramref name="transientRetries"/>.</exception>
    public static async ValueTask<IReadOnlyList<StepResult<TOut>>> ExecuteIsolatingAsync<TIn, TOut>(
        IStep<TIn, TOut> step, IReadOnlyList<TIn> batch, int transientRetries, ILogger? log, CancellationToken ct)
    {
        if (batch.Count == 0) return [];
        try
        {
            return await WithRetriesAsync(step, batch, transientRetries, log, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsIsolatable(ex))
        {
            if (batch.Count == 1) return [StepResult<TOut>.DeadLetter(Reason(ex))];
            log?.LogWarning("Step {Step} failed on a batch of {Count} ({Reason}); retrying one at a time", step.Name, batch.Count, Reason(ex));
            var results = new StepResult<TOut>[batch.Count];
            for (int i = 0; i < batch.Count; i++)
            {
                try
                {
                    var one = await WithRetriesAsync(step, [batch[i]], transientRetries, log, ct).ConfigureAwait(false);
                    results[i] = one[0];
                }
                catch (Exception single) when (IsIsolatable(single))
                {
                    results[i] = StepResult<TOut>.DeadLetter(Reason(single));
                }
            }
            return results;
        }
    }

    /// <summary>Bad input, or an exception the step did not classify: the input's fault, found by isolation.</summary>
    private static bool IsIsolatable(Exception ex) => ex switch
    {
        OperationCanceledException => false,
        StepException s => s.Kind == FailureKind.BadInput,
        _ => true,
    };

    /// <summary>A dead letter's reason: a step's own words for bad input, otherwise the exception's type and message.</summary>
    private static string Reason(Exception ex) => ex is StepException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";

    private static async ValueTask<IReadOnlyList<StepResult<TOut>>> WithRetriesAsync<TIn, TOut>(
        IStep<TIn, TOut> step, IReadOnlyList<TIn> batch, int retries, ILogger? log, CancellationToken ct)
    {
        var state = step as IStepState;
        for (int attempt = 0; ; attempt++)
        {
            state?.BeginBatch();
            IReadOnlyList<StepResult<TOut>> results;
            try
            {
                results = await step.ExecuteAsync(batch, ct).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                state?.RollbackBatch();
                if (ex is not StepException { Kind: FailureKind.Transient } transient) throw;
                if (attempt >= retries)
                    throw new StepException(FailureKind.Fatal, $"step {step.Name}: still failing after {retries} retries: {transient.Message}", transient);
                int delay = (int)Math.Min(30_000, 100 * Math.Pow(2, attempt));
                delay += Random.Shared.Next(delay / 2 + 1);
                log?.LogWarning("Step {Step} transient failure ({Reason}); retry {Attempt} of {Retries} in {Delay} ms", step.Name, transient.Message, attempt + 1, retries, delay);
                await Task.Delay(delay, ct).ConfigureAwait(false);
                continue;
            }
            if (results.Count != batch.Count)
            {
                state?.RollbackBatch();
                throw new StepException(FailureKind.Fatal, $"step {step.Name} returned {results.Count} results for {batch.Count} inputs");
            }
            state?.CommitBatch();
            return results;
        }
    }
}
