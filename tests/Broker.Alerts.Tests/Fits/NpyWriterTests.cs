using System.Buffers.Binary;
using System.Text;
using Broker.Alerts.Fits;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Fits;

public sealed class NpyWriterTests
{
    [Theory]
    [InlineData(63, 63)]
    [InlineData(63, 48)]
    [InlineData(1, 1)]
    [InlineData(12345, 2)]
    public void The_header_is_version_1_with_a_padded_dictionary_ending_in_newline_at_a_multiple_of_64(int rows, int columns)
    {
        var bytes = NpyWriter.ToBytes(new FitsImage(columns, rows, new float[rows * columns]));
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string dict = Encoding.ASCII.GetString(bytes, 10, headerLength);

        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.StartsWith($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {columns}), }}", dict);
        Assert.EndsWith("\n", dict);
        Assert.Equal(dict.TrimEnd('\n').TrimEnd(' ').Length, dict.IndexOf('}') + 1);
        Assert.Equal(10 + headerLength + rows * columns * 4, bytes.Length);
    }

    [Fact]
    public void Data_is_little_endian_float32_row_major_with_nan_kept()
    {
        float[] pixels = [1.5f, float.NaN, -0f, float.PositiveInfinity, 3e-40f, -7];
        var bytes = NpyWriter.ToBytes(new FitsImage(3, 2, pixels));
        var (rows, columns, data) = NpyTestFile.Read(bytes);
        Assert.Equal((2, 3), (rows, columns));
        Assert.Equal(pixels.Select(BitConverter.SingleToInt32Bits), data.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Writing_to_a_stream_gives_the_same_bytes_and_leaves_it_open()
    {
        var image = new FitsImage(2, 2, [1, 2, 3, 4]);
        using var stream = new MemoryStream();
        stream.WriteByte(42);
        NpyWriter.Write(stream, image);
        Assert.True(stream.CanWrite);
        Assert.Equal([42, .. NpyWriter.ToBytes(image)], stream.ToArray());
    }
}
