using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Ingest;
using Broker.StepHost;
using Broker.TestSupport;

namespace Broker.Ingest.Tests;

/// <summary>
/// The ingest step on its own (no Kafka), issue 10, item 5: absent cutouts pass, a stamp that is present but
/// broken is still a dead letter; and every output records ingest's time and version (the source of truth for
/// per-stage times).
/// </summary>
public sealed class IngestCutoutPolicyTests
{
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static byte[] Sample => SurveyFiles.Read([SharedData.Path("ztf/alerts/fink-alert-simulator_20181129_v3.2/697251920815010004.avro")], null).Single().Value;

    /// <summary>The sample re-encoded under a new alert id with one change.</summary>
    private static byte[] Modified(long candid, Action<AvroRecord> change) => AlertContainers.Reencoded(Sample, r =>
    {
        r["candid"] = candid;
        ((AvroRecord)r["candidate"]!)["candid"] = candid;
        change(r);
    });

    private static async Task<IReadOnlyList<StepResult<Broker.Alerts.Model.Alert>>> IngestAsync(params byte[][] messages)
    {
        var step = new IngestStep(new IngestOptions(), clock: new FixedClock(Now));
        return await StepRunner.ExecuteIsolatingAsync(step, messages, 0, null, CancellationToken.None);
    }

    [Fact]
    public async Task Alerts_without_any_or_some_stamps_pass_with_them_absent_and_record_ingests_time_and_version()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        byte[] none = File.ReadAllBytes(SharedData.Path("ztf/alerts/ampel-ztf/ZTF20abyfpze.avro"));
        byte[] noTemplate = Modified(1, r => r["cutoutTemplate"] = null);
        byte[] onlyScience = Modified(2, r =>
        {
            r["cutoutTemplate"] = null;
            r["cutoutDifference"] = null;
        });
        var results = await IngestAsync(none, noTemplate, onlyScience, Sample);
        Assert.All(results, r => Assert.Equal(StepOutcome.Emitted, r.Outcome));
        Assert.Null(results[0].Value!.Cutouts);
        Assert.Null(results[1].Value!.Cutouts!.Template);
        Assert.NotNull(results[1].Value!.Cutouts!.Difference);
        Assert.Equal((true, false, false), (results[2].Value!.Cutouts!.Science is not null, results[2].Value!.HasAllCutouts, results[2].Value!.Cutouts!.Difference is not null));
        Assert.True(results[3].Value!.HasAllCutouts);
        foreach (var r in results)
        {
            Assert.Equal(Now.ToUnixTimeSeconds() * 1_000_000, r.Value!.StageTimes["ingest"]);
            Assert.Equal(IngestStep.StageVersion, r.Value.StageVersions["ingest"]);
        }
    }

    [Theory]
    [InlineData("not a FITS file", "science cutout is not a decodable FITS image")]
    [InlineData("", "science cutout is not a decodable FITS image")]
    public async Task A_stamp_that_is_present_but_broken_is_still_a_dead_letter(string stamp, string reason)
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        byte[] broken = Modified(1, r => ((AvroRecord)r["cutoutScience"]!)["stampData"] = System.Text.Encoding.ASCII.GetBytes(stamp));
        var results = await IngestAsync(Sample, broken);
        Assert.Equal(StepOutcome.Emitted, results[0].Outcome);
        Assert.Equal(StepOutcome.DeadLettered, results[1].Outcome);
        Assert.StartsWith("bad cutout: alert ", results[1].Reason);
        Assert.Contains(reason, results[1].Reason);
    }
}
