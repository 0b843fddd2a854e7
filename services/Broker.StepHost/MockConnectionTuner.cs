using System.Globalization;
using System.Runtime.InteropServices;

namespace Broker.StepHost;

/// <summary>
/// Sets TCP_NODELAY on the connections librdkafka's mock cluster accepts, as Apache Kafka's brokers do for theirs
/// (see <see cref="MockCluster"/> for why). librdkafka offers no hook on the mock's sockets, so every 100 ms this
/// finds them from Linux's /proc: the TCP sockets of this process (<c>/proc/self/fd</c>) whose local port is one of
/// the mock's listening ports (<c>/proc/self/net/tcp</c>, <c>tcp6</c>). Elsewhere it does nothing.
/// </summary>
internal sealed partial class MockConnectionTuner : IDisposable
{
    private const int IpProtoTcp = 6;
    private const int TcpNoDelay = 1;
    private const int EstablishedState = 1;

    private readonly HashSet<int> _ports;
    private readonly HashSet<long> _tuned = [];
    private readonly Timer? _timer;
    private readonly object _gate = new();

    public MockConnectionTuner(string bootstrap)
    {
        _ports = bootstrap.Split(',').Select(b => int.Parse(b[(b.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture)).ToHashSet();
        if (OperatingSystem.IsLinux() && Directory.Exists("/proc/self/fd")) _timer = new Timer(_ => Tune(), null, 0, 100);
    }

    /// <summary>Sets TCP_NODELAY on accepted connections not seen before; returns how many were set.</summary>
    public int Tune()
    {
        if (!Monitor.TryEnter(_gate)) return 0;
        try
        {
            var accepted = AcceptedSockets();
            int set = 0;
            foreach (var (fd, inode) in accepted)
            {
                if (!_tuned.Add(inode)) continue;
                int on = 1;
                if (setsockopt(fd, IpProtoTcp, TcpNoDelay, ref on, sizeof(int)) == 0) set++;
            }
            // Forget sockets that are gone, so that the set does not grow with every reconnect.
            _tuned.IntersectWith(accepted.Select(a => a.Inode));
            return set;
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>This process's file descriptors (and socket inodes) of the connections the mock has accepted.</summary>
    public List<(int Fd, long Inode)> AcceptedSockets()
    {
        var result = new List<(int, long)>();
        if (!Directory.Exists("/proc/self/fd")) return result;
        var accepted = AcceptedSocketInodes();
        if (accepted.Count == 0) return result;
        foreach (var link in Directory.EnumerateFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(link).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }
            // "socket:[INODE]"
            if (target is null || !target.StartsWith("socket:[", StringComparison.Ordinal)) continue;
            long inode = long.Parse(target.AsSpan(8, target.Length - 9), CultureInfo.InvariantCulture);
            if (accepted.Contains(inode)) result.Add((int.Parse(Path.GetFileName(link), CultureInfo.InvariantCulture), inode));
        }
        return result;
    }

    /// <summary>Whether TCP_NODELAY is set on a socket.</summary>
    public static bool HasNoDelay(int fd)
    {
        int value = 0, length = sizeof(int);
        return getsockopt(fd, IpProtoTcp, TcpNoDelay, ref value, ref length) == 0 && value != 0;
    }

    /// <summary>Inodes of established TCP sockets whose local port is one of the mock's (proc(5), /proc/net/tcp).</summary>
    private HashSet<long> AcceptedSocketInodes()
    {
        var inodes = new HashSet<long>();
        foreach (var table in (string[])["/proc/self/net/tcp", "/proc/self/net/tcp6"])
        {
            if (!File.Exists(table)) continue;
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10) continue;
                string local = fields[1];
                int port = int.Parse(local.AsSpan(local.LastIndexOf(':') + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (!_ports.Contains(port) || int.Parse(fields[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture) != EstablishedState) continue;
                inodes.Add(long.Parse(fields[9], CultureInfo.InvariantCulture));
            }
        }
        return inodes;
    }

    public void Dispose() => _timer?.Dispose();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, ref int value, ref int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, ref int value, int length);
}
