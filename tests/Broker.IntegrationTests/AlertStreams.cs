using System.Text;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Ingest;
using Broker.StepHost;
using Broker.TestSupport;

using Confluent.Kafka;

namespace Broker.IntegrationTests;

/// <summary>The test input: every real alert in ../shared/data plus deliberately broken messages, and helpers to move them through Kafka.</summary>
internal static class AlertStreams
{
    /// <summary>Partitions per topic: keeps each partition far below the mock cluster's 5 MB limit (~45 MB of alerts in all).</summary>
    public const int Partitions = 24;

    public static ISchemaRegistry Registry => new FolderSchemaRegistry(SharedData.Path("lsst/schema"));

    private static readonly Lazy<IReadOnlyList<SourceMessage>> All = new(Build);

    /// <summary>Real alerts (ZTF and Rubin, some without cutouts), broken ones and one without its template stamp; every message has a key.</summary>
    public static IReadOnlyList<SourceMessage> Messages => All.Value;

    /// <summary>Keys of the deliberately broken messages and the reason fragment ingest must give.</summary>
    public static IReadOnlyDictionary<string, string> BrokenReasons { get; } = new Dictionary<string, string>
    {
        ["broken-garbage"] = "neither an Avro container",
        ["broken-empty"] = "empty message",
        ["broken-truncated"] = "undecodable",
        ["broken-schema-id"] = "unknown schema id 4242",
        ["1"] = "ra NaN is not in [0, 360)",
        ["2"] = "science cutout is not a decodable FITS image",
    };

    /// <summary>The key of a valid alert that lacks one stamp (its template): it must pass, not be dead-lettered (issue 10).</summary>
    public const string WithoutTemplate = "3";

    private static IReadOnlyList<SourceMessage> Build()
    {
        var registry = Registry;
        var real = SurveyFiles.Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")], registry).ToList();
        Assert.All(real, m => Assert.NotNull(m.Key));
        var ztf = real.First(m => m.Source.Contains("fink-alert-simulator", StringComparison.Ordinal));
        var broken = new List<SourceMessage>
        {
            new("broken", 0, "this is not an alert"u8.ToArray(), "broken-garbage"),
            new("broken", 1, [], "broken-empty"),
            new("broken", 2, ztf.Value[..(ztf.Value.Length / 2)], "broken-truncated"),
            new("broken", 3, [0, 0, 0, 0x10, 0x92, 1, 2, 3], "broken-schema-id"),
            new("broken", 4, Modified(ztf.Value, 1, r => ((AvroRecord)r["candidate"]!)["ra"] = double.NaN), "1"),
            new("broken", 5, Modified(ztf.Value, 2, r => ((AvroRecord)r["cutoutScience"]!)["stampData"] = "not a FITS file"u8.ToArray()), "2"),
            new("broken", 6, Modified(ztf.Value, 3, r => r["cutoutTemplate"] = null), WithoutTemplate),
        };
        return [.. real, .. broken];
    }

    /// <summary>A ZTF alert re-encoded with a new candid and one change.</summary>
    private static byte[] Modified(byte[] container, long candid, Action<AvroRecord> change) => AlertContainers.Reencoded(container, record =>
    {
        record["candid"] = candid;
        ((AvroRecord)record["candidate"]!)["candid"] = candid;
        change(record);
    });

    /// <summary>Produces <paramref name="messages"/> with their keys and checks that every one was delivered.</summary>
    public static void Produce(string bootstrap, string topic, IEnumerable<SourceMessage> messages) =>
        TestTopics.Produce(bootstrap, topic, messages.Select(m => new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(m.Key!), Value = m.Value }));

    /// <summary>A record's bytes but for the time ingest finished the alert, which differs between runs and replays.</summary>
    public static byte[] Timeless(Alert a) => BrokerAlertCodec.Encode(a with { StageTimes = a.StageTimes.SetItem("ingest", 0) });

    public static string Key(ConsumeResult<byte[], byte[]> m) => Encoding.UTF8.GetString(m.Message.Key);

    public static string? Header(ConsumeResult<byte[], byte[]> m, string name) =>
        m.Message.Headers.TryGetLastBytes(name, out var v) ? Encoding.UTF8.GetString(v) : null;

    /// <summary>A watcher that keeps consuming the output and dead-letter topics and tracks which keys arrived.</summary>
    public sealed class Watcher : IDisposable
    {
        private readonly IConsumer<byte[], byte[]> _consumer;
        private readonly Thread _thread;
        private volatile bool _stop;
        private readonly string _output;

        public Watcher(string bootstrap, string output, string deadLetters)
        {
            _output = output;
            var config = KafkaClients.ConsumerConfig(KafkaSettings.ForBootstrap(bootstrap), "test-watcher-" + Guid.NewGuid().ToString("N"));
            config.EnableAutoCommit = false;
            _consumer = new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
            _consumer.Subscribe([output, deadLetters]);
            _thread = new Thread(Loop) { IsBackground = true };
            _thread.Start();
        }

        public List<ConsumeResult<byte[], byte[]>> Outputs { get; } = [];

        public List<ConsumeResult<byte[], byte[]>> DeadLetters { get; } = [];

        public int OutputCount { get { lock (Outputs) return Outputs.Count; } }

        /// <summary>Outputs and dead letters seen (with any replayed copies).</summary>
        public int SeenCount { get { lock (Outputs) return Outputs.Count + DeadLetters.Count; } }

        public HashSet<string> SeenKeys()
        {
            lock (Outputs) return [.. Outputs.Select(Key), .. DeadLetters.Select(Key)];
        }

        /// <summary>Waits (polling, no timing assertion) until <paramref name="condition"/> holds or patience runs out.</summary>
        public bool WaitFor(Func<bool> condition, TimeSpan patience)
        {
            var until = DateTime.UtcNow + patience;
            while (!condition())
            {
                if (DateTime.UtcNow > until) return false;
                Thread.Sleep(100);
            }
            return true;
        }

        private void Loop()
        {
            while (!_stop)
            {
                var r = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r is null || r.IsPartitionEOF) continue;
                lock (Outputs) (r.Topic == _output ? Outputs : DeadLetters).Add(r);
            }
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
