using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Broker.Alerts.IO;

namespace Broker.Alerts.Tests.IO;

public sealed class GzipTests
{
    private static byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] Data(int n)
    {
        var data = new byte[n];
        new Random(n).NextBytes(data.AsSpan(0, n / 2));
        return data;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2880)]
    [InlineData(300_000)]
    public void Inflate_returns_exactly_the_original_bytes(int n)
    {
        var data = Data(n);
        Assert.Equal(data, Gzip.Inflate(Compress(data)));
    }

    [Fact]
    public void Inflate_grows_past_a_trailer_that_understates_the_size_as_with_several_members()
    {
        // Two members: ISIZE describes only the second, much shorter one.
        var first = Data(200_000);
        var second = Data(10);
        Assert.Equal([.. first, .. second], Gzip.Inflate([.. Compress(first), .. Compress(second)]));
    }

    [Fact]
    public void Empty_input_is_invalid_data() => Assert.Throws<InvalidDataException>(() => Gzip.Inflate([]));

    [Fact]
    public void Output_over_the_limit_is_refused_and_output_at_the_limit_is_not()
    {
        var gz = Compress(new byte[100_000]);
        Assert.Equal(100_000, Gzip.Inflate(gz, maxBytes: 100_000).Length);
        var e = Assert.Throws<GzipLimitException>(() => Gzip.Inflate(gz, maxBytes: 99_999));
        Assert.Equal(99_999, e.Limit);
    }

    [Fact]
    public void A_corrupt_stream_is_invalid_data()
    {
        var gz = Compress(Data(10_000));
        gz.AsSpan(20, 40).Fill(0xAB);
        Assert.Throws<InvalidDataException>(() => Gzip.Inflate(gz));
    }

    [Fact]
    public void InflatePooled_gives_the_output_at_the_start_of_a_pooled_buffer()
    {
        var data = Data(70_000);
        byte[] buffer = Gzip.InflatePooled(Compress(data), int.MaxValue, out int length);
        try
        {
            Assert.Equal(data.Length, length);
            Assert.True(buffer.AsSpan(0, length).SequenceEqual(data));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x1f, 0x8b }, true)]
    [InlineData(new byte[] { 0x1f }, false)]
    [InlineData(new byte[] { (byte)'O', (byte)'b', (byte)'j', 1 }, false)]
    public void IsGzip_looks_at_the_magic_number(byte[] bytes, bool expected) => Assert.Equal(expected, Gzip.IsGzip(bytes));
}
