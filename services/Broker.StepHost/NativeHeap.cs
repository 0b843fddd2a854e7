using System.Runtime.InteropServices;

namespace Broker.StepHost;

/// <summary>
/// Keeps the large buffers librdkafka frees in glibc malloc's arenas for reuse instead of returning them to the
/// kernel. librdkafka reads each fetch response into one buffer of the response's size (up to
/// <c>fetch.max.bytes</c>). glibc serves blocks above its mmap threshold (128 kB at first, raised up to 32 MB as such
/// blocks are freed) with fresh <c>mmap</c>s, and gives memory at the top of a heap back to the kernel beyond its trim
/// threshold (mallopt(3), "M_MMAP_THRESHOLD", "M_TRIM_THRESHOLD"). Either way the next response lands in pages the
/// kernel must fault in and zero while <c>recvmsg</c> copies into them: in the load harness that was a quarter of
/// librdkafka's CPU per alert (docs/kafka.md, "Load"). Fixed thresholds (32 MB, the most glibc allows, and 1 GB)
/// keep the buffers mapped; the price is that the process keeps its peak native heap (about the prefetch queue,
/// <c>queued.max.messages.kbytes</c>, 64 MB by default). Linux with glibc only; elsewhere nothing is done.
/// </summary>
public static partial class NativeHeap
{
    // mallopt parameters, glibc <malloc.h>.
    private const int MallocTrimThreshold = -1;
    private const int MallocMmapThreshold = -3;

    /// <summary>Largest block served from an arena: glibc refuses more than half its 64 MB heap size.</summary>
    public const int MmapThreshold = 32 * 1024 * 1024;

    /// <summary>Free memory kept at the top of a heap before any is returned to the kernel.</summary>
    public const int TrimThreshold = 1024 * 1024 * 1024;

    private static int s_applied;

    /// <summary>Applies the thresholds once per process; true when glibc accepted them.</summary>
    public static bool RetainLargeBuffers()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref s_applied, 1) == 1) return false;
        try
        {
            return mallopt(MallocMmapThreshold, MmapThreshold) == 1 && mallopt(MallocTrimThreshold, TrimThreshold) == 1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no such tuning); librdkafka still works, with fresh pages per fetch.
            return false;
        }
    }

    [LibraryImport("libc.so.6")]
    private static partial int mallopt(int param, int value);
}
