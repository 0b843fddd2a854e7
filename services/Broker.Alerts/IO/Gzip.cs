using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Broker.Alerts.IO;

/// <summary>
/// Gzip (RFC 1952) inflation from bytes in memory, for everything Broker unpacks: gzipped FITS cutouts, gzipped
/// alert files and <c>.tar.gz</c> bundles. The output buffer is sized from the gzip trailer, so one allocation
/// usually suffices, and output beyond a caller's limit is refused (a gzip bomb).
/// </summary>
public static class Gzip
{
    // Deflate's best case is about 1032:1 (RFC 1951: a 258-byte match in as little as 2 bits, plus block overhead),
    // so an ISIZE above this many times the input cannot be true and is not used to size the first buffer.
    private const long MaxDeflateRatio = 1032;

    /// <summary>True when the bytes start with the gzip magic number 1f 8b (RFC 1952 §2.3.1).</summary>
    public static bool IsGzip(ReadOnlySpan<byte> bytes) => bytes.Length >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;

    /// <summary>Inflates gzip (one or more members) into a new array of exactly the inflated length.</summary>
    /// <param name="gz">The gzip bytes.</param>
    /// <param name="maxBytes">Output longer than this is refused.</param>
    /// <exception cref="GzipLimitException">The output would be longer than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="InvalidDataException">The bytes are not a valid gzip stream.</exception>
    /// <remarks>A stream cut short is not detected (.NET's inflater ends quietly at the end of its input): the output is what was there.</remarks>
    public static byte[] Inflate(ReadOnlySpan<byte> gz, int maxBytes = int.MaxValue)
    {
        byte[] buffer = Inflate(gz, maxBytes, pooled: false, out int length);
        // Only when the trailer's ISIZE was wrong (several members, 4 GiB or more, or a lie) is the buffer not exact.
        return length == buffer.Length ? buffer : buffer.AsSpan(0, length).ToArray();
    }

    /// <summary>
    /// Inflates gzip into a buffer rented from <see cref="ArrayPool{T}.Shared"/>: the first <paramref name="length"/>
    /// bytes are the output. The caller returns the buffer to the pool.
    /// </summary>
    /// <inheritdoc cref="Inflate(ReadOnlySpan{byte}, int)"/>
    public static byte[] InflatePooled(ReadOnlySpan<byte> gz, int maxBytes, out int length) => Inflate(gz, maxBytes, pooled: true, out length);

    private static unsafe byte[] Inflate(ReadOnlySpan<byte> gz, int maxBytes, bool pooled, out int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (gz.IsEmpty) throw new InvalidDataException("empty input: no gzip header");
        maxBytes = Math.Min(maxBytes, Array.MaxLength);
        // RFC 1952 §2.3.1: ISIZE, the last 4 bytes, is the input size modulo 2^32 of the last member. Only a hint:
        // it can lie, wrap, or describe one member of several, so the loop below grows the buffer as needed.
        uint isize = gz.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(gz[^4..]) : 0;
        int capacity = (int)Math.Min(Math.Min(isize, gz.Length * MaxDeflateRatio), maxBytes);
        byte[] buffer = Allocate(capacity, pooled);
        int total = 0;
        try
        {
            fixed (byte* p = gz)
            {
                using var input = new UnmanagedMemoryStream(p, gz.Length);
                using var inflater = new GZipStream(input, CompressionMode.Decompress);
                while (true)
                {
                    int room = Math.Min(buffer.Length, maxBytes) - total;
                    if (room == 0)
                    {
                        // Full: one more byte tells whether the output is longer than the buffer (or the limit).
                        int next = inflater.ReadByte();
                        if (next < 0) break;
                        if (total >= maxBytes) throw new GzipLimitException(maxBytes);
                        byte[] larger = Allocate((int)Math.Min(Math.Max(2L * total, 1 << 16), maxBytes), pooled);
                        buffer.AsSpan(0, total).CopyTo(larger);
                        Release(buffer, pooled);
                        buffer = larger;
                        buffer[total++] = (byte)next;
                        continue;
                    }
                    int n = inflater.Read(buffer, total, room);
                    if (n == 0) break;
                    total += n;
                }
            }
        }
        catch
        {
            Release(buffer, pooled);
            throw;
        }
        length = total;
        return buffer;
    }

    private static byte[] Allocate(int length, bool pooled) => pooled ? ArrayPool<byte>.Shared.Rent(length) : new byte[length];

    private static void Release(byte[] buffer, bool pooled)
    {
        if (pooled && buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }
}

/// <summary>
/// Gzip input that inflates to more than the caller allows (a gzip bomb, or not what was expected). An
/// <see cref="IOException"/>, since <see cref="InvalidDataException"/> (a corrupt stream) is sealed.
/// </summary>
/// <param name="limit">The most output bytes allowed.</param>
public sealed class GzipLimitException(int limit) : IOException($"gzip stream inflates to more than {limit} bytes; refusing it")
{
    /// <summary>The most output bytes allowed.</summary>
    public int Limit { get; } = limit;
}
