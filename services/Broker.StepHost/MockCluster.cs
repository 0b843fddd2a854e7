using System.Runtime.InteropServices;
using System.Text;

namespace Broker.StepHost;

/// <summary>
/// librdkafka's mock cluster: a Kafka-protocol broker inside a librdkafka handle, listening on loopback TCP ports
/// so that any client in any process can use it. For development (<c>broker dev-kafka</c>) and tests only. Limits
/// (docs/kafka.md): memory only; each partition keeps only its newest 5 MB or 100,000 messages; topics must be
/// created here (no CreateTopics request); transactions, ACLs and SASL untested. Unlike Apache Kafka's brokers, which
/// set TCP_NODELAY on every connection they accept, librdkafka's mock leaves Nagle's algorithm on; with the clients'
/// delayed acknowledgements every second pipelined response then waited 40 ms (a flush of 64 alerts took 50 ms
/// whatever their size). This wrapper therefore sets TCP_NODELAY on the mock's listening sockets, which its connections inherit
/// (<see cref="MockConnectionTuner"/>), so that latencies measured here are the client's and not the mock's.
/// </summary>
public sealed partial class MockCluster : IDisposable
{
    // The same library as the clients' (KafkaNative's resolver maps this name): a mock cluster from a second
    // librdkafka would put two copies of the library, with two sets of global state, into one process.
    private const string Lib = KafkaNative.LibraryName;
    private IntPtr _rk;
    private IntPtr _cluster;

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers.</summary>
    /// <exception cref="InvalidOperationException">librdkafka could not create it.</exception>
    /// <exception cref="StepHostConfigurationException">librdkafka.redist's library is missing or too old (<see cref="KafkaNative.Load"/>).</exception>
    public MockCluster(int brokers = 1)
    {
        KafkaNative.Load();
        var errstr = new byte[512];
        IntPtr conf = rd_kafka_conf_new();
        // Quiet: the mock cluster's own handle has nothing to say to a user.
        rd_kafka_conf_set(conf, "log_level", "0", errstr, errstr.Length);
        _rk = rd_kafka_new(0, conf, errstr, errstr.Length);
        if (_rk == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + CString(errstr));
        _cluster = rd_kafka_mock_cluster_new(_rk, brokers);
        if (_cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(_rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        Bootstrap = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(_cluster)) ?? throw new InvalidOperationException("no bootstrap address");
        // The mock names no controller until told one, and an admin client's CreateTopics waits for the controller
        // until it times out; with one, it learns at once that the mock has no CreateTopics (KafkaClients.EnsureTopic).
        rd_kafka_mock_set_controller_id(_cluster, 1);
        Ports = MockConnectionTuner.Ports(Bootstrap);
        MockConnectionTuner.TuneListeners(Ports);
    }

    /// <summary>The brokers' listening ports.</summary>
    internal IReadOnlySet<int> Ports { get; }

    /// <summary>The bootstrap address, <c>127.0.0.1:PORT[,...]</c>.</summary>
    public string Bootstrap { get; }

    /// <summary>Creates a topic.</summary>
    /// <exception cref="InvalidOperationException">librdkafka refused (the error code is in the message).</exception>
    public void CreateTopic(string topic, int partitions)
    {
        ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
        int err = rd_kafka_mock_topic_create(_cluster, topic, partitions, 1);
        if (err != 0) throw new InvalidOperationException($"creating topic {topic} failed: {Marshal.PtrToStringUTF8(rd_kafka_err2str(err))}");
    }

    /// <summary>
    /// Creates topics with the given partition count. Broker's own topology is the stage registry's
    /// (<see cref="StageRegistry.Topics"/>; Broker.Stages's <c>CreateTopology</c> creates it).
    /// </summary>
    public void CreateTopics(IEnumerable<string> topics, int partitions)
    {
        foreach (var t in topics) CreateTopic(t, partitions);
    }

    /// <summary>
    /// Makes the next <paramref name="count"/> requests of Kafka protocol request type <paramref name="apiKey"/> (8:
    /// OffsetCommit) fail with <paramref name="error"/> (a Kafka protocol error code; 27: REBALANCE_IN_PROGRESS), for
    /// tests of what a client does when the cluster refuses.
    /// </summary>
    public void PushRequestErrors(short apiKey, int error, int count)
    {
        ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
        var errors = new int[count];
        Array.Fill(errors, error);
        rd_kafka_mock_push_request_errors_array(_cluster, apiKey, count, errors);
    }

    /// <summary>Forgets the errors still queued for request type <paramref name="apiKey"/> (<see cref="PushRequestErrors"/>).</summary>
    public void ClearRequestErrors(short apiKey)
    {
        ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
        rd_kafka_mock_clear_request_errors(_cluster, apiKey);
    }

    /// <summary>Stops the cluster; clients connected to it see their connections closed.</summary>
    public void Dispose()
    {
        if (_cluster != IntPtr.Zero)
        {
            rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = IntPtr.Zero;
        }
        if (_rk != IntPtr.Zero)
        {
            rd_kafka_destroy(_rk);
            _rk = IntPtr.Zero;
        }
    }

    private static string CString(byte[] s)
    {
        int n = Array.IndexOf(s, (byte)0);
        return Encoding.UTF8.GetString(s, 0, n < 0 ? s.Length : n);
    }

    [LibraryImport(Lib)]
    private static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, nint errstrSize);

    [LibraryImport(Lib)]
    private static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, nint errstrSize);

    [LibraryImport(Lib)]
    private static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Lib)]
    private static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokers);

    [LibraryImport(Lib)]
    private static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);

    [LibraryImport(Lib)]
    private static partial void rd_kafka_mock_cluster_destroy(IntPtr cluster);

    [LibraryImport(Lib)]
    private static partial int rd_kafka_mock_set_controller_id(IntPtr cluster, int brokerId);

    [LibraryImport(Lib)]
    private static partial void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, nint count, int[] errors);

    [LibraryImport(Lib)]
    private static partial void rd_kafka_mock_clear_request_errors(IntPtr cluster, short apiKey);

    [LibraryImport(Lib)]
    private static partial IntPtr rd_kafka_err2str(int err);
}
