using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Broker.StepHost;

/// <summary>
/// Sets TCP_NODELAY on the sockets of librdkafka's mock cluster, as Apache Kafka's brokers do on the connections they
/// accept (see <see cref="MockCluster"/> for why). librdkafka offers no hook on the mock's sockets, so this finds its
/// listening sockets among this process's file descriptors (<c>/proc/self/fd</c>, Linux) by their local port, once,
/// when the cluster starts: Linux copies TCP_NODELAY from a listening socket to each connection it accepts. Elsewhere
/// it does nothing.
/// </summary>
internal static partial class MockConnectionTuner
{
    private const int IpProtoTcp = 6;
    private const int TcpNoDelay = 1;
    private const int SolSocket = 1;
    private const int SoAcceptConn = 30;
    private const int AfInet = 2;
    private const int AfInet6 = 10;

    /// <summary>Sets TCP_NODELAY on the listening sockets of the given ports; returns how many were set.</summary>
    public static int TuneListeners(IReadOnlySet<int> ports) =>
        Sockets(ports, listening: true).Count(fd => SetNoDelay(fd));

    /// <summary>This process's file descriptors of the connections accepted on the given ports.</summary>
    public static List<int> AcceptedSockets(IReadOnlySet<int> ports) => Sockets(ports, listening: false);

    /// <summary>Whether TCP_NODELAY is set on a socket.</summary>
    public static bool HasNoDelay(int fd)
    {
        int value = 0, length = sizeof(int);
        return getsockopt(fd, IpProtoTcp, TcpNoDelay, ref value, ref length) == 0 && value != 0;
    }

    /// <summary>The ports of a bootstrap list, <c>HOST:PORT[,...]</c>.</summary>
    public static HashSet<int> Ports(string bootstrap) =>
        bootstrap.Split(',').Select(b => int.Parse(b[(b.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture)).ToHashSet();

    private static bool SetNoDelay(int fd)
    {
        int on = 1;
        return setsockopt(fd, IpProtoTcp, TcpNoDelay, ref on, sizeof(int)) == 0;
    }

    /// <summary>TCP sockets of this process bound to one of <paramref name="ports"/>, listening or connected.</summary>
    private static List<int> Sockets(IReadOnlySet<int> ports, bool listening)
    {
        var result = new List<int>();
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/fd")) return result;
        Span<byte> address = stackalloc byte[128];
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
            if (target is null || !target.StartsWith("socket:", StringComparison.Ordinal)) continue;
            int fd = int.Parse(Path.GetFileName(link), CultureInfo.InvariantCulture);
            int length = address.Length;
            if (getsockname(fd, ref MemoryMarshal.GetReference(address), ref length) != 0 || length < 4) continue;
            // sockaddr_in and sockaddr_in6 alike: family (host order), then the port (network order).
            int family = BitConverter.ToUInt16(address);
            if (family is not (AfInet or AfInet6) || !ports.Contains(BinaryPrimitives.ReadUInt16BigEndian(address[2..]))) continue;
            int accepting = 0, size = sizeof(int);
            if (getsockopt(fd, SolSocket, SoAcceptConn, ref accepting, ref size) != 0) continue;
            if ((accepting != 0) == listening) result.Add(fd);
        }
        return result;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockname(int fd, ref byte address, ref int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, ref int value, ref int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, ref int value, int length);
}
