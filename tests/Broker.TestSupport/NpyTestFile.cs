using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Broker.TestSupport;

/// <summary>Reads NumPy .npy version 1.0 files of little-endian float32, independently of NpyWriter.</summary>
public static class NpyTestFile
{
    public static (int Rows, int Columns, float[] Data) Read(byte[] bytes)
    {
        Assert.True(bytes.AsSpan(0, 6).SequenceEqual(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }), "npy magic");
        Assert.Equal(1, bytes[6]);
        Assert.Equal(0, bytes[7]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        int open = header.IndexOf("'shape': (", StringComparison.Ordinal) + "'shape': (".Length;
        int close = header.IndexOf(')', open);
        var dims = header[open..close].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => int.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(2, dims.Length);
        int start = 10 + headerLength;
        var data = new float[dims[0] * dims[1]];
        Assert.Equal(start + data.Length * 4, bytes.Length);
        for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(start + i * 4));
        return (dims[0], dims[1], data);
    }
}
