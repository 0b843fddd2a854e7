using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Broker.StepHost;

/// <summary>
/// The one place that chooses the native librdkafka for the process: the copy that ships with librdkafka.redist,
/// matching Confluent.Kafka. Every entry point calls <see cref="Load"/> before its first Kafka call (the services
/// through <see cref="StepHostApp"/>, the CLI, the load harness, the test assemblies), and the mock cluster
/// and Kafka clients call it again on their way in, which costs nothing once loaded.
/// </summary>
/// <remarks>
/// Why not the runtime's own probing: on linux-x64 it tries the redist's <c>runtimes/linux-x64/native/librdkafka.so</c>,
/// which needs <c>libsasl2.so.3</c> (Debian 12 has only <c>libsasl2.so.2</c>), fails, and then silently falls back to
/// any system <c>librdkafka.so.1</c>, such as Debian's 2.0.2: producing works and the first consume throws
/// <see cref="EntryPointNotFoundException"/> (../shared/ENVIRONMENT.md). The redist's <c>centos8-librdkafka.so</c>
/// in the same folder needs only glibc, so on linux-x64 a <see cref="NativeLibrary.SetDllImportResolver"/> on
/// Confluent.Kafka's assembly maps <c>librdkafka</c> to that file, and the same resolver on this assembly gives
/// <see cref="MockCluster"/>'s P/Invokes the same library. <c>Library.Load(path)</c> is no alternative: it calls
/// <c>dlopen</c> through <c>libdl.so</c>, which Debian 12 has only with its development package. On other platforms
/// the resolver defers to the runtime, which finds the redist's library for that platform.
/// </remarks>
public static class KafkaNative
{
    /// <summary>The name Confluent.Kafka and <see cref="MockCluster"/> import librdkafka by.</summary>
    internal const string LibraryName = "librdkafka";

    /// <summary>The redist's glibc-only build for linux-x64, relative to its native-asset folder.</summary>
    internal const string LinuxX64File = "centos8-librdkafka.so";

    private static readonly Lock Gate = new();
    private static IntPtr _handle;
    private static string? _loaded;

    /// <summary>The file the resolver maps <c>librdkafka</c> to; null before <see cref="Load"/> or where the runtime probes.</summary>
    public static string? Path { get; private set; }

    /// <summary>
    /// Registers the resolver (once per process), loads librdkafka through Confluent.Kafka and checks that it is
    /// at least the version the client was built for. Idempotent and thread-safe.
    /// </summary>
    /// <returns>The loaded library's version string (<c>Library.VersionString</c>).</returns>
    /// <exception cref="StepHostConfigurationException">
    /// The library is missing, cannot be loaded, or is older than Confluent.Kafka needs: a deployment problem that a
    /// restart will not fix.
    /// </exception>
    public static string Load()
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            if (OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64)
            {
                string path = FindLinuxX64(AppContext.BaseDirectory)
                    ?? throw new StepHostConfigurationException(
                        $"librdkafka not found: no {LinuxX64File} under {AppContext.BaseDirectory} (it comes with the librdkafka.redist package)");
                if (!NativeLibrary.TryLoad(path, out _handle))
                    throw new StepHostConfigurationException($"librdkafka at {path} cannot be loaded (check its dependencies with ldd)");
                Path = path;
                // Only once per assembly (the runtime refuses a second resolver), which the lock and _loaded ensure.
                NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, Resolve);
                NativeLibrary.SetDllImportResolver(typeof(KafkaNative).Assembly, Resolve);
            }
            int version;
            string versionString;
            try
            {
                version = Library.Version;
                versionString = Library.VersionString;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or FileLoadException or TypeInitializationException)
            {
                throw new StepHostConfigurationException($"librdkafka cannot be loaded by Confluent.Kafka {ClientVersion.ToString(3)}: {ex.Message}", ex);
            }
            if (TooOld(version, ClientVersion) is { } problem) throw new StepHostConfigurationException(problem);
            _loaded = versionString;
            return versionString;
        }
    }

    /// <summary>The Confluent.Kafka version in the process; librdkafka.redist is released with the same number.</summary>
    public static Version ClientVersion { get; } = typeof(Library).Assembly.GetName().Version ?? new Version(0, 0, 0);

    /// <summary>
    /// Why a librdkafka version (<c>rd_kafka_version()</c>: 0xMMmmrrpp, major, minor, revision, pre-release) is
    /// too old for a client version, or null if it is recent enough. The client calls functions added up to its own
    /// release (2.x: <c>rd_kafka_topic_partition_get_leader_epoch</c>, 2.1), so the library must be that release or later.
    /// </summary>
    internal static string? TooOld(int libraryVersion, Version client)
    {
        int major = (libraryVersion >> 24) & 0xff, minor = (libraryVersion >> 16) & 0xff, revision = (libraryVersion >> 8) & 0xff;
        var library = new Version(major, minor, revision);
        var needed = new Version(client.Major, client.Minor, Math.Max(client.Build, 0));
        return library >= needed
            ? null
            : $"librdkafka {library} is older than Confluent.Kafka {needed} needs ({needed} or later); a system librdkafka was loaded instead of librdkafka.redist's";
    }

    /// <summary>
    /// Where the redist's linux-x64 library lands under an application's base directory: in
    /// <c>runtimes/linux-x64/native/</c> when the project has no RuntimeIdentifier (Broker's case), or beside the
    /// assemblies when it is built for <c>linux-x64</c>.
    /// </summary>
    internal static string? FindLinuxX64(string baseDirectory)
    {
        foreach (string candidate in new[]
                 {
                     System.IO.Path.Combine(baseDirectory, "runtimes", "linux-x64", "native", LinuxX64File),
                     System.IO.Path.Combine(baseDirectory, LinuxX64File),
                 })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    // Confluent.Kafka 2.16 imports "librdkafka" first and, if that fails to bind, "centos8-librdkafka" and
    // "alpine-librdkafka": every one of them gets the same library, so no second copy can be mapped by a fallback.
    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name.EndsWith(LibraryName, StringComparison.Ordinal) ? _handle : IntPtr.Zero;
}
