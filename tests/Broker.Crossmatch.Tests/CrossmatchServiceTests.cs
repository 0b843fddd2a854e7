using System.Globalization;
using System.Text;
using Broker.Alerts.Model;
using Broker.Sky;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using static Broker.Crossmatch.Tests.TestCatalogs;

namespace Broker.Crossmatch.Tests;

/// <summary>
/// The crossmatch service end to end on librdkafka's mock cluster, built from its registry entry as
/// <c>broker serve crossmatch</c> builds it: every input is either an output on <c>broker.xmatched</c> with the
/// entries the step gives in process, or a dead letter on <c>broker.ingested.dlq</c> with its original bytes and a
/// reason naming the alert.
/// </summary>
public sealed class CrossmatchServiceTests : IDisposable
{
    private readonly TestCatalogs _catalogs = new();

    public void Dispose() => _catalogs.Dispose();

    [Fact]
    public async Task Over_kafka_every_alert_is_crossmatched_or_dead_lettered_with_its_reason_and_the_stream_goes_on()
    {
        var good = Enumerable.Range(1, 80).Select(i =>
        {
            // A grid of 1" steps across the hand-placed rows: some alerts have counterparts, some none.
            var (ra, dec) = Coordinates.Offset(Ra, Dec, (i % 10) - 5, (i / 10) - 4);
            return AlertAt(1000 + i, ra, dec);
        }).ToList();
        var bad = new[] { AlertAt(2001, double.NaN, Dec), AlertAt(2002, Ra, 95), AlertAt(2003, 361, Dec) };
        var messages = new List<(string Key, byte[] Value)>();
        for (int i = 0; i < good.Count; i++)
        {
            messages.Add((good[i].AlertId.ToString(CultureInfo.InvariantCulture), AlertMessageCodec.Instance.Encode(good[i])));
            // Bad input scattered through the stream, not at its end.
            if (i % 30 == 10) messages.Add((bad[i / 30].AlertId.ToString(CultureInfo.InvariantCulture), AlertMessageCodec.Instance.Encode(bad[i / 30])));
        }
        var garbage = Encoding.UTF8.GetBytes("not a broker alert record");
        messages.Add(("3001", garbage));

        using var cluster = new MockCluster();
        cluster.CreateTopics([CrossmatchStep.InputTopic, StepHostOptions.DeadLetterOf(CrossmatchStep.InputTopic), CrossmatchStep.OutputTopic], 2);
        TestTopics.Produce(cluster.Bootstrap, CrossmatchStep.InputTopic,
            messages.Select(m => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(m.Key), Value = m.Value }));

        var settings = new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = cluster.Bootstrap,
            ["StepHost:GroupId"] = "crossmatch-test",
            ["StepHost:BatchSize"] = "16",
            ["StepHost:BatchWaitMs"] = "50",
            ["StepHost:MetricsIntervalSeconds"] = "0",
            ["StepHost:HttpUrl"] = "http://127.0.0.1:0",
            ["KafkaConsumer:session.timeout.ms"] = "6000",
            ["KafkaConsumer:heartbeat.interval.ms"] = "500",
            ["Crossmatch:Catalogs:0:Path"] = _catalogs.NearbyIndex,
            ["Crossmatch:Catalogs:0:RadiusArcsec"] = "2.5",
            ["Crossmatch:Catalogs:0:Match"] = "all",
            ["Crossmatch:Catalogs:0:Columns:0"] = "gmag",
            ["Crossmatch:Catalogs:0:TypeColumn"] = "kind",
            ["Crossmatch:Catalogs:0:RedshiftColumn"] = "z",
        };
        await using var host = CrossmatchStep.Stage.CreateHost(CrossmatchStep.Stage.BuildConfiguration([], settings), NullLoggerFactory.Instance);
        var counters = await HostRuns.RunUntilAsync(host, messages.Count);

        Assert.Equal(messages.Count, counters.In);
        Assert.Equal(good.Count, counters.Out);
        Assert.Equal(bad.Length + 1, counters.DeadLettered);
        Assert.Equal(counters.In, counters.Out + counters.DeadLettered);

        // What the service wrote is what the step gives in process.
        using var reference = await StartedStep(CrossmatchStep.Stage.BindOptions(CrossmatchStep.Stage.BuildConfiguration([], settings)).Catalogs.ToArray());
        var expected = (await reference.ExecuteAsync(good, CancellationToken.None)).ToDictionary(r => r.Value!.AlertId, r => r.Value!);
        var outputs = TestTopics.Read(cluster.Bootstrap, CrossmatchStep.OutputTopic, l => l.Count >= good.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(good.Select(a => a.AlertId).Order(), outputs.Select(o => long.Parse(Encoding.UTF8.GetString(o.Message.Key), CultureInfo.InvariantCulture)).Order());
        int withEntries = 0;
        foreach (var o in outputs)
        {
            var alert = AlertMessageCodec.Instance.Decode(o.Message.Value);
            var want = expected[alert.AlertId];
            Assert.Equal(want.Crossmatches.Select(Describe), alert.Crossmatches.Select(Describe));
            Assert.Equal(want.Galactic, alert.Galactic);
            Assert.Equal(CrossmatchStep.StageVersion, alert.StageVersions["crossmatch"]);
            if (alert.Crossmatches.Count > 0) withEntries++;
        }
        Assert.InRange(withEntries, 1, good.Count - 1);

        var dead = TestTopics.Read(cluster.Bootstrap, StepHostOptions.DeadLetterOf(CrossmatchStep.InputTopic), l => l.Count >= bad.Length + 1, TimeSpan.FromSeconds(60));
        var original = messages.ToDictionary(m => m.Key, m => m.Value);
        Assert.Equal(["2001", "2002", "2003", "3001"], dead.Select(d => Encoding.UTF8.GetString(d.Message.Key)).Order());
        foreach (var d in dead)
        {
            string key = Encoding.UTF8.GetString(d.Message.Key);
            Assert.Equal(original[key], d.Message.Value);
            string reason = Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterReason));
            Assert.Equal("crossmatch", Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes(BrokerHeaders.DeadLetterStep)));
            if (key == "3001") Assert.StartsWith("undecodable input", reason);
            else Assert.StartsWith($"invalid position: alert {key}: ", reason);
        }
    }

    private static string Describe(Broker.Alerts.Model.Crossmatch m) => string.Create(CultureInfo.InvariantCulture,
        $"{m.Catalog} {m.SourceId} {m.DistanceArcsec:R} {m.ObjectType} {m.Redshift:R} {m.PhysicalOffsetKpc:R} {string.Join(",", m.Properties.Select(p => $"{p.Key}={p.Value}"))}");
}
