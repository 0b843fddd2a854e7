using System.IO.Compression;
using System.Text;
using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Ingest;
using Broker.Stages;
using Broker.StepHost;
using Broker.TestSupport;

using Confluent.Kafka;

namespace Broker.IntegrationTests;

/// <summary>
/// Issue 8's defect: one poison message in a batch made the isolating re-run count the good alerts before it as
/// duplicates of themselves, so they reached neither the output nor the dead-letter topic. The input here is the
/// 200 original IPAC packets of 2018-11-29, one true duplicate, and poison messages of several kinds spread through
/// the stream so that they fall at the start, the middle and the end of batches, and next to each other.
/// </summary>
internal static class PoisonStream
{
    public const int BatchSize = 64;

    private static readonly Lazy<(IReadOnlyList<SourceMessage> Messages, IReadOnlyDictionary<string, string> Poison, IReadOnlySet<string> Real)> All = new(Build);

    /// <summary>Every message, keyed (real alerts by alert id, poison by <c>poison-N</c>).</summary>
    public static IReadOnlyList<SourceMessage> Messages => All.Value.Messages;

    /// <summary>The poison messages' keys and the words their dead-letter reason must contain.</summary>
    public static IReadOnlyDictionary<string, string> Poison => All.Value.Poison;

    /// <summary>The real alerts' keys: each must come out exactly once.</summary>
    public static IReadOnlySet<string> Real => All.Value.Real;

    /// <summary>The one repeated real alert: the only duplicate there is.</summary>
    public const int TrueDuplicates = 1;

    private static (IReadOnlyList<SourceMessage>, IReadOnlyDictionary<string, string>, IReadOnlySet<string>) Build()
    {
        var real = SurveyFiles.Read([SharedData.Path("ztf/alerts/fink-alert-simulator_20181129_v3.2")], null).ToList();
        Assert.Equal(200, real.Count);
        var sample = real[0].Value;
        var kinds = new (string Reason, byte[] Value)[]
        {
            ("json", InvalidSchemaJson(sample)),
            ("undecodable", sample[..(sample.Length * 2 / 3)]),
            ("neither an Avro container", RandomBytes(4000, seed: 8)),
            ("science cutout", WithCutoutBomb(sample)),
        };
        var poison = new Dictionary<string, string>();
        var messages = new List<SourceMessage>();
        // Poison before the first alert, after every 37th (several positions within batches of 64), and two in a row.
        int n = 0;
        void AddPoison()
        {
            var (reason, value) = kinds[n % kinds.Length];
            string key = "poison-" + n++;
            poison[key] = reason;
            messages.Add(new SourceMessage("poison", n, value, key));
        }
        AddPoison();
        for (int i = 0; i < real.Count; i++)
        {
            messages.Add(real[i]);
            if (i % 37 == 36) AddPoison();
            if (i == 120)
            {
                AddPoison();
                AddPoison();
            }
        }
        AddPoison();
        messages.Insert(150, real[10]);
        return (messages, poison, real.Select(m => m.Key!).ToHashSet());
    }

    /// <summary>A real packet whose embedded writer schema is no longer JSON (one byte of it changed, length kept).</summary>
    private static byte[] InvalidSchemaJson(byte[] container)
    {
        var copy = container.ToArray();
        int at = copy.AsSpan().IndexOf("\"fields\""u8);
        Assert.True(at > 0);
        copy[at] = (byte)'#';
        return copy;
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A real packet whose science cutout is gzip that inflates to 300 MB of zeros (about 300 kB on the wire).</summary>
    private static byte[] WithCutoutBomb(byte[] container)
    {
        using var bomb = new MemoryStream();
        using (var gz = new GZipStream(bomb, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 300; i++) gz.Write(zeros);
        }
        Assert.True(bomb.Length < 1 << 20);
        Assert.True(300 << 20 > FitsFile.MaxDecompressedBytes);
        return AlertContainers.Reencoded(container, record => ((AvroRecord)record["cutoutScience"]!)["stampData"] = bomb.ToArray());
    }
}

public class PoisonMessageTests
{
    [Fact]
    public async Task Over_Kafka_every_real_alert_comes_out_once_and_every_poison_message_is_a_dead_letter_with_its_reason()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        using var cluster = new MockCluster();
        // 8 partitions keep each far below the mock's 5 MB per partition (about 14 MB of alerts in all).
        cluster.CreateTopology(8);
        AlertStreams.Produce(cluster.Bootstrap, BrokerTopics.SurveyAlerts, PoisonStream.Messages);
        var settings = IngestServiceFixture.Settings(cluster.Bootstrap, "poison");
        settings["StepHost:BatchSize"] = PoisonStream.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var host = IngestStep.Stage.CreateHost(IngestStep.Stage.BuildConfiguration([], settings), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        await IngestServiceFixture.RunUntilAsync(host, PoisonStream.Messages.Count);

        var c = host.Counters.Snapshot();
        Assert.Equal(PoisonStream.Messages.Count, c.In);
        Assert.Equal(PoisonStream.Poison.Count, c.DeadLettered);
        Assert.Equal(PoisonStream.TrueDuplicates, c.Duplicates);
        Assert.Equal(0, c.Replayed);
        Assert.Equal(PoisonStream.Real.Count, c.Out);

        var outputs = TestTopics.Read(cluster.Bootstrap, BrokerTopics.Ingested, l => l.Count >= c.Out, TimeSpan.FromSeconds(60));
        var keys = outputs.Select(AlertStreams.Key).ToList();
        Assert.Equal(PoisonStream.Real.Order(), keys.Order());
        var dead = TestTopics.Read(cluster.Bootstrap, BrokerTopics.DeadLetter(BrokerTopics.SurveyAlerts), l => l.Count >= c.DeadLettered, TimeSpan.FromSeconds(60));
        Assert.Equal(PoisonStream.Poison.Keys.Order(), dead.Select(AlertStreams.Key).Order());
        var poisonBytes = PoisonStream.Messages.Where(m => m.Source == "poison").ToDictionary(m => m.Key!, m => m.Value);
        foreach (var m in dead)
        {
            string key = AlertStreams.Key(m);
            string reason = AlertStreams.Header(m, BrokerHeaders.DeadLetterReason)!;
            Assert.Contains(PoisonStream.Poison[key], reason, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(poisonBytes[key], m.Message.Value);
        }
    }

    [Fact]
    public async Task In_process_every_real_alert_comes_out_once_and_every_poison_message_is_a_dead_letter_with_its_reason()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        var pipeline = new InProcessPipeline([IngestStep.Stage.Stage(new IngestStep(new IngestOptions()))], new InProcessOptions { BatchSize = PoisonStream.BatchSize });
        var outputs = new List<string>();
        async IAsyncEnumerable<SourceMessage> Source()
        {
            foreach (var m in PoisonStream.Messages) yield return m;
            await Task.CompletedTask;
        }
        var summary = await pipeline.RunAsync(Source(), o => outputs.Add(AlertMessageCodec.KeyFor(((Alert)o.Value).AlertId)));

        var ingest = summary.Stages[0];
        Assert.Equal(PoisonStream.Messages.Count, ingest.In);
        Assert.Equal(PoisonStream.TrueDuplicates, ingest.Duplicates);
        Assert.Equal(PoisonStream.Real.Order(), outputs.Order());
        Assert.Equal(PoisonStream.Poison.Keys.Order(), summary.DeadLetters.Select(d => d.Key!).Order());
        foreach (var d in summary.DeadLetters) Assert.Contains(PoisonStream.Poison[d.Key!], d.Reason, StringComparison.OrdinalIgnoreCase);
    }
}
