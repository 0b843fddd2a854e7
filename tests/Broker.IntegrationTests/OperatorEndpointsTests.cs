using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;
using Confluent.Kafka;

namespace Broker.IntegrationTests;

/// <summary>
/// Issue 9's operators' interfaces, on the ingest service as its own process: the metrics it exports during a run
/// are the counts it logs in its summary and the counts of what is really in its output and dead-letter topics.
/// </summary>
public class OperatorEndpointsTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private const int Partitions = 8;

    [Fact]
    public async Task A_scrape_during_a_run_counts_what_the_summary_and_the_topics_hold()
    {
        using var cluster = new MockCluster();
        // 8 partitions: the mock cluster keeps about 5 MB per partition, and the stream is about 10 MB.
        cluster.CreateTopology(Partitions);
        // The poison stream: 200 real alerts, one sent twice, and 8 poison messages of four kinds; each stamped by
        // "replay" so that the hop from it to ingest is measured.
        var messages = PoisonStream.Messages;
        string replayHeader = BrokerHeaders.TimeHeader("replay");
        TestTopics.Produce(cluster.Bootstrap, BrokerTopics.SurveyAlerts, messages.Select(m => new Message<byte[], byte[]>
        {
            Key = Encoding.UTF8.GetBytes(m.Key!),
            Value = m.Value,
            Headers = new Headers { { replayHeader, BrokerHeaders.Number(BrokerHeaders.NowMicros()) } },
        }));

        var settings = IngestServiceFixture.Settings(cluster.Bootstrap, "operator-endpoints");
        settings["Logging:Level"] = "Information";
        // Small batches so that the run lasts long enough to be scraped in the middle of it.
        settings["StepHost:BatchSize"] = "10";
        using var service = new ServiceProcess(settings);
        string url = await EndpointUrlAsync(service);
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };

        // Live from the start; ready once assigned and the start-up work is done.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        await UntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK, service, "/health/ready never said ready");

        // Scrape while the stream is consumed, until every message is read.
        var scrapes = new List<Dictionary<string, double>>();
        await UntilAsync(async () =>
        {
            scrapes.Add(Parse(await http.GetStringAsync("/metrics")));
            return scrapes[^1].GetValueOrDefault("broker_alerts_in_total") >= messages.Count;
        }, service, "the scrape never counted every message in");
        // At least one scrape fell in the middle of the run.
        Assert.Contains(scrapes, s => s.GetValueOrDefault("broker_alerts_in_total") is > 0 and var n && n < messages.Count);
        // The counters only grow. (A scrape in the middle of a batch need not balance: the batch's inputs are
        // counted before its outcomes, and each counter is read on its own; after every batch they balance.)
        foreach (var name in new[] { "broker_alerts_in_total", "broker_alerts_out_total", "broker_batches_total" })
        {
            for (int i = 1; i < scrapes.Count; i++) Assert.True(scrapes[i].GetValueOrDefault(name) >= scrapes[i - 1].GetValueOrDefault(name), name);
        }
        // Lag is refreshed at most once a second: the last scrape is the one that has seen it reach zero.
        Dictionary<string, double> last = [];
        await UntilAsync(async () =>
        {
            last = Parse(await http.GetStringAsync("/metrics"));
            var lag = last.Where(kv => kv.Key.StartsWith("broker_consumer_lag{", StringComparison.Ordinal)).ToList();
            return lag.Count == Partitions && lag.All(kv => kv.Value == 0);
        }, service, "the lag of every partition never reached zero");

        Assert.Equal(0, service.Terminate(Patience));
        var summary = Summary(service.Log);

        // The scrape is the summary ...
        Assert.Equal(summary["in"], last["broker_alerts_in_total"]);
        Assert.Equal(summary["out"], last["broker_alerts_out_total"]);
        Assert.Equal(summary["dead-lettered"], DeadLettered(last));
        Assert.Equal(summary["duplicates"], last["broker_alerts_duplicates_total"]);
        Assert.Equal(summary["replays"], last["broker_alerts_replayed_total"]);
        Assert.Equal(summary["filtered"], last["broker_alerts_filtered_total"]);
        // ... and the summary is the stream: every real alert out once, every poison message dead-lettered.
        Assert.Equal(messages.Count, summary["in"]);
        Assert.Equal(PoisonStream.Real.Count, summary["out"]);
        Assert.Equal(PoisonStream.Poison.Count, summary["dead-lettered"]);
        Assert.Equal(PoisonStream.TrueDuplicates, summary["duplicates"]);
        var outputs = TestTopics.Read(cluster.Bootstrap, BrokerTopics.Ingested, l => l.Count >= summary["out"], Patience);
        var dead = TestTopics.Read(cluster.Bootstrap, BrokerTopics.DeadLetter(BrokerTopics.SurveyAlerts), l => l.Count >= summary["dead-lettered"], Patience);
        Assert.Equal(summary["out"], outputs.Count);
        Assert.Equal(summary["dead-lettered"], dead.Count);
        // Dead letters by reason class, as the dead-letter topic's reasons have them.
        foreach (var group in dead.GroupBy(d => StepMetrics.ReasonClass(AlertStreams.Header(d, BrokerHeaders.DeadLetterReason)!)))
            Assert.Equal(group.Count(), last[$"broker_alerts_dead_lettered_total{{reason=\"{group.Key}\"}}"]);
        // One batch-latency observation per batch, one hop per output, from replay.
        Assert.Equal(last["broker_batches_total"], last["broker_batch_duration_seconds_count"]);
        Assert.True(last["broker_batches_total"] >= messages.Count / 10.0);
        Assert.Equal(summary["out"], last["broker_hop_latency_seconds_count{from=\"replay\"}"]);
        // At the first stage the chain so far is the one hop.
        Assert.Equal(summary["out"], last["broker_chain_latency_seconds_count{from=\"replay\"}"]);
    }

    /// <summary>The address the service logs for its endpoints (it asked for port 0).</summary>
    private static async Task<string> EndpointUrlAsync(ServiceProcess service)
    {
        var pattern = new Regex(@"operators' endpoints: (http://[0-9.]+:[0-9]+)");
        Match? match = null;
        await UntilAsync(() => Task.FromResult((match = pattern.Match(service.Log)).Success), service, "no endpoint address logged");
        return match!.Groups[1].Value;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, ServiceProcess service, string failure)
    {
        var until = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.False(service.HasExited, $"the service exited: {service.Log}");
            Assert.True(DateTime.UtcNow < until, $"{failure}: {service.Log}");
            await Task.Delay(50);
        }
    }

    private static double DeadLettered(Dictionary<string, double> scrape) =>
        scrape.Where(kv => kv.Key.StartsWith("broker_alerts_dead_lettered_total{", StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>
    /// Prometheus text as <c>name{labels}</c> → value, without the labels every series carries (<c>step</c>, the
    /// scope) so that the tests can name a series by what sets it apart.
    /// </summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int space = line.LastIndexOf(' ');
            string series = line[..space];
            int brace = series.IndexOf('{');
            string name = brace < 0 ? series : series[..brace];
            var labels = brace < 0 ? [] : Regex.Matches(series[(brace + 1)..^1], "([a-z_]+)=\"((?:[^\"\\\\]|\\\\.)*)\"")
                .Where(m => m.Groups[1].Value is not ("step" or "otel_scope_name" or "otel_scope_version"))
                .Select(m => $"{m.Groups[1].Value}=\"{m.Groups[2].Value}\"").ToList();
            string key = labels.Count == 0 ? name : $"{name}{{{string.Join(",", labels)}}}";
            result[key] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>The numbers of the service's last summary line ("Step ingest: in N, out N, dead-lettered N, ...").</summary>
    private static Dictionary<string, double> Summary(string log)
    {
        var line = log.Split('\n').Last(l => l.Contains("Step ingest: in ", StringComparison.Ordinal));
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(line, @"(in|out|dead-lettered|duplicates|replays|filtered) (-?[0-9]+)"))
            result[m.Groups[1].Value] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return result;
    }
}
