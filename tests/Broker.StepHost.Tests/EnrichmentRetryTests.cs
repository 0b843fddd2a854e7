using Broker.Alerts.Avro;
using Broker.Alerts.Model;

namespace Broker.StepHost.Tests;

/// <summary>
/// An enrichment stage as the crossmatch and classifier stages will be: each alert gets one crossmatch entry, one
/// classification and its stage time. It fails halfway through a batch, after it has enriched the alerts before
/// the failure: transiently the first time it is called (<c>transientOnce</c>), and as bad input whenever the
/// batch holds alert <c>poison</c> (its exception names no Broker type when <c>untyped</c>).
/// </summary>
internal sealed class EnrichingStep(bool transientOnce = false, long? poison = null, bool untyped = false) : IStep<Alert, Alert>
{
    private bool _failedOnce;

    public int Calls { get; private set; }

    /// <summary>Every alert the step made, from failed attempts too.</summary>
    public List<Alert> Made { get; } = [];

    public string Name => "enrich";

    public ValueTask<IReadOnlyList<StepResult<Alert>>> ExecuteAsync(IReadOnlyList<Alert> batch, CancellationToken cancellationToken)
    {
        Calls++;
        var results = new StepResult<Alert>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            var alert = batch[i];
            if (transientOnce && !_failedOnce && i == batch.Count / 2)
            {
                _failedOnce = true;
                throw new StepException(FailureKind.Transient, "catalogue server busy");
            }
            if (alert.AlertId == poison)
            {
                if (untyped) throw new InvalidOperationException($"alert {alert.AlertId} breaks the classifier");
                throw new StepException(FailureKind.BadInput, $"alert {alert.AlertId}: no light curve");
            }
            var enriched = alert
                .WithCrossmatch(new Crossmatch { Catalog = "Gaia", CatalogRelease = "DR3", SourceId = $"gaia-{alert.AlertId}", Ra = alert.Ra, Dec = alert.Dec })
                .WithClassification(new Classification
                {
                    Classifier = "lightcurve", Model = "test", ModelVersion = "1", Classes = ["SN", "AGN"],
                    Probabilities = new Dictionary<string, double> { ["SN"] = 0.75, ["AGN"] = 0.25 }, TopClass = "SN",
                })
                .WithStage(Name, "1", 1_000_000 + alert.AlertId);
            Made.Add(enriched);
            results[i] = StepResult<Alert>.Emit(enriched);
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<Alert>>>(results);
    }
}

/// <summary>
/// Issue 10, item 4: a retried or isolated batch never duplicates what a step adds. The runner re-runs the same
/// input objects; alerts are immutable, so an attempt that failed halfway left nothing on them.
/// </summary>
public class EnrichmentRetryTests
{
    /// <summary>Ten alerts; every third already carries a crossmatch from upstream, which must be kept as it is.</summary>
    private static List<Alert> Inputs() => Enumerable.Range(1, 10).Select(i =>
    {
        var alert = new Alert { Survey = Survey.Ztf, AlertId = i, ObjectId = $"ZTF{i}", Ra = 10 + i, Dec = -5, MjdTai = 60000 + i, Band = "g" };
        return i % 3 == 0 ? alert.WithCrossmatch(new Crossmatch { Catalog = "PS1", SourceId = $"ps1-{i}" }) : alert;
    }).ToList();

    private static string Json(Alert a) => AvroJson.ToJson(BrokerAlertCodec.ToRecord(a));

    /// <summary>Each emitted alert holds its input's entries plus the step's, each exactly once; the inputs are as they were.</summary>
    private static void AssertEnrichedOnce(IReadOnlyList<Alert> inputs, IReadOnlyList<string> before, IReadOnlyList<StepResult<Alert>> results, long? poison)
    {
        Assert.Equal(inputs.Count, results.Count);
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            Assert.Equal(before[i], Json(input));
            Assert.DoesNotContain(input.Crossmatches, m => m.Catalog == "Gaia");
            Assert.Empty(input.Classifications);
            Assert.Empty(input.StageTimes);
            if (input.AlertId == poison)
            {
                Assert.Equal(StepOutcome.DeadLettered, results[i].Outcome);
                continue;
            }
            Assert.Equal(StepOutcome.Emitted, results[i].Outcome);
            var output = results[i].Value!;
            Assert.Equal(input.AlertId, output.AlertId);
            Assert.Equal(input.Crossmatches.Count + 1, output.Crossmatches.Count);
            Assert.Equal(input.Crossmatches, output.Crossmatches.Take(input.Crossmatches.Count));
            Assert.Equal($"gaia-{input.AlertId}", Assert.Single(output.Crossmatches, m => m.Catalog == "Gaia").SourceId);
            Assert.Equal("SN", Assert.Single(output.Classifications).TopClass);
            Assert.Equal(1_000_000 + input.AlertId, Assert.Single(output.StageTimes).Value);
            // And so it is written: one Gaia entry in the record a subscriber reads.
            var decoded = BrokerAlertCodec.Decode(BrokerAlertCodec.Encode(output));
            Assert.Single(decoded.Crossmatches, m => m.Catalog == "Gaia");
            Assert.Single(decoded.Classifications);
        }
    }

    [Fact]
    public async Task A_batch_retried_after_a_transient_failure_halfway_carries_each_addition_exactly_once()
    {
        var inputs = Inputs();
        var before = inputs.Select(Json).ToList();
        var step = new EnrichingStep(transientOnce: true);
        var results = await StepRunner.ExecuteIsolatingAsync(step, inputs, 2, null, CancellationToken.None);
        Assert.Equal(2, step.Calls);
        Assert.Equal(inputs.Count / 2 + inputs.Count, step.Made.Count);
        AssertEnrichedOnce(inputs, before, results, poison: null);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_batch_isolated_one_alert_at_a_time_after_a_bad_input_halfway_carries_each_addition_exactly_once(bool untyped)
    {
        var inputs = Inputs();
        var before = inputs.Select(Json).ToList();
        var step = new EnrichingStep(poison: 6, untyped: untyped);
        var results = await StepRunner.ExecuteIsolatingAsync(step, inputs, 2, null, CancellationToken.None);
        // The whole batch once (failing at alert 6, after enriching 1 to 5), then each alert alone.
        Assert.Equal(1 + inputs.Count, step.Calls);
        Assert.Equal(5 + inputs.Count - 1, step.Made.Count);
        AssertEnrichedOnce(inputs, before, results, poison: 6);
        Assert.Contains("alert 6", results[5].Reason);
    }

    [Fact]
    public async Task A_transient_failure_then_a_bad_input_retried_and_isolated_together_carry_each_addition_exactly_once()
    {
        var inputs = Inputs();
        var before = inputs.Select(Json).ToList();
        var step = new EnrichingStep(transientOnce: true, poison: 9);
        var results = await StepRunner.ExecuteIsolatingAsync(step, inputs, 2, null, CancellationToken.None);
        // Transient at alert 6 (retried), bad input at 9 on the retry, then one at a time.
        Assert.Equal(2 + inputs.Count, step.Calls);
        AssertEnrichedOnce(inputs, before, results, poison: 9);
    }
}
