using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>
/// Issue 10, "done means": every real alert in ../shared/data comes out of <c>broker run</c>, those without cutouts
/// (AMPEL's archive copies, the pittgoogle Rubin samples) included, with none dead-lettered. The broken inputs are
/// still reported: <see cref="DamagedCorpusTests"/> and <see cref="BadInputTests"/>.
/// </summary>
public sealed class RealAlertsRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-real-run").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [OracleFact]
    public void Every_real_alert_comes_out_of_run_with_its_cutouts_or_without_and_none_is_dead_lettered()
    {
        string schemas = SharedData.Path("lsst/schema");
        string[] inputs = [SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")];
        // What went in, read here: each message's alert id and whether it carries all three stamps, any or none.
        var expected = new Dictionary<long, Alert>();
        int messages = 0, messagesWithoutCutouts = 0;
        foreach (var item in new AlertFileReader(new FolderSchemaRegistry(schemas)).Read(inputs))
        {
            Assert.True(item.Ok, $"{item.Source}: {item.Error}");
            messages++;
            var alert = SurveyAlertMapper.Map(item.Record!);
            if (alert.Cutouts is null) messagesWithoutCutouts++;
            expected.TryAdd(alert.AlertId, alert);
        }
        Assert.Equal(651, messages);
        // AMPEL's archive copies and the pittgoogle Rubin samples (one fake alert in four schema versions).
        int withoutCutouts = expected.Values.Count(a => a.Cutouts is null);
        Assert.Equal((12, 9), (messagesWithoutCutouts, withoutCutouts));

        string output = Path.Combine(_dir, "run");
        var result = BrokerProcess.Run(["run", "--schemas", schemas, .. inputs, "--out", output]);
        Assert.True(result.ExitCode == 0, result.StandardError);

        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var ingest = summary.RootElement.GetProperty("stages")[0];
        Assert.Equal(messages, ingest.GetProperty("in").GetInt32());
        Assert.Equal(0, ingest.GetProperty("deadLettered").GetInt32());
        // Repeated alert ids (one ZTF sample written with four schema versions, ...) are duplicates, not losses.
        Assert.Equal(messages - expected.Count, ingest.GetProperty("duplicates").GetInt32());
        Assert.Equal("", File.ReadAllText(Path.Combine(output, "dead-letters.jsonl")).Trim());
        // Every stage of the chain, the filter stage last, passes every alert on.
        var stages = summary.RootElement.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(["ingest", "crossmatch", "sso", "stamp", "lightcurve", "filter"], stages.Select(s => s.GetProperty("step").GetString()));
        Assert.All(stages, s => Assert.Equal(0, s.GetProperty("deadLettered").GetInt32()));

        var written = new Dictionary<long, Alert>();
        var container = AvroContainerReader.Open(File.ReadAllBytes(Path.Combine(output, "alerts.avro")));
        Assert.Equal(BrokerAlertCodec.Schema.CanonicalForm, container.WriterSchema.CanonicalForm);
        foreach (var datum in container.RawDatums())
        {
            var alert = BrokerAlertCodec.Decode(datum.Span, container.WriterSchema);
            written.Add(alert.AlertId, alert);
            Assert.True(alert.StageTimes.ContainsKey("ingest"), $"alert {alert.AlertId} has no ingest time");
            Assert.True(alert.StageTimes.ContainsKey("sso"), $"alert {alert.AlertId} has no sso time");
            Assert.True(alert.StageTimes.ContainsKey("stamp"), $"alert {alert.AlertId} has no stamp time");
            // One stamp classification each: classified when all three stamps came, else not, with the reason.
            var stamp = Assert.Single(alert.Classifications, c => c.Classifier == "stamp");
            Assert.Equal(alert.HasAllCutouts, stamp.IsClassified);
            if (!stamp.IsClassified) Assert.Equal(Classification.NoCutouts, stamp.NotClassifiedReason);
            // Both light-curve classifications on every alert: classified, or not with the reason.
            Assert.True(alert.StageTimes.ContainsKey("lightcurve"), $"alert {alert.AlertId} has no lightcurve time");
            foreach (string classifier in (string[])["lightcurve_top", "lightcurve"])
            {
                var lc = Assert.Single(alert.Classifications, c => c.Classifier == classifier);
                Assert.True(lc.IsClassified || !string.IsNullOrEmpty(lc.NotClassifiedReason), $"alert {alert.AlertId}: {classifier} neither classified nor explained");
            }
            Assert.False(string.IsNullOrEmpty(alert.StageVersions["ingest"]));
            Assert.Equal("Broker", alert.WrittenBy?.Name);
        }
        Assert.Equal(expected.Keys.Order(), written.Keys.Order());
        foreach (var (id, alert) in expected)
        {
            var c = written[id].Cutouts;
            Assert.Equal(alert.Cutouts is null, c is null);
            for (int kind = 0; kind < 3 && alert.Cutouts is { } sent; kind++) Assert.Equal(sent[kind], c![kind]);
        }
        Assert.Equal(withoutCutouts, written.Values.Count(a => a.Cutouts is null));
    }
}
