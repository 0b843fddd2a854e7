using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Broker.Onnx;

/// <summary>A .npy file that Broker cannot read; the message is one line naming why.</summary>
public sealed class NpyFormatException(string message) : Exception(message);

/// <summary>
/// An n-dimensional array of float32 or float64 in C order, read from or written to NumPy's <c>.npy</c> format
/// (versions 1.0, 2.0 and 3.0 are read; 1.0 is written, as <c>numpy.save</c> does when the header fits). Only
/// little-endian <c>&lt;f4</c> and <c>&lt;f8</c> in C order are accepted; anything else is a <see cref="NpyFormatException"/>.
/// </summary>
public sealed class NpyArray
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    private NpyArray(long[] shape, float[]? single, double[]? dbl)
    {
        Shape = shape;
        Single = single;
        Double = dbl;
    }

    /// <summary>The dimensions; empty for a 0-d array.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>The values when the array is float32, else null.</summary>
    public float[]? Single { get; }

    /// <summary>The values when the array is float64, else null.</summary>
    public double[]? Double { get; }

    /// <summary>NumPy's dtype string: <c>&lt;f4</c> or <c>&lt;f8</c>.</summary>
    public string Descr => Single is not null ? "<f4" : "<f8";

    /// <summary>The number of values.</summary>
    public long Length => Single?.LongLength ?? Double!.LongLength;

    /// <summary>A float32 array of <paramref name="shape"/> over <paramref name="data"/> (not copied).</summary>
    public static NpyArray FromSingle(float[] data, params long[] shape) => new(CheckShape(shape, data.LongLength), data, null);

    /// <summary>A float64 array of <paramref name="shape"/> over <paramref name="data"/> (not copied).</summary>
    public static NpyArray FromDouble(double[] data, params long[] shape) => new(CheckShape(shape, data.LongLength), null, data);

    /// <summary>The values as float32 (a copy, rounded, when the array is float64).</summary>
    public float[] ToSingle()
    {
        if (Single is not null) return Single;
        var f = new float[Double!.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)Double[i];
        return f;
    }

    /// <summary>Reads a .npy file.</summary>
    /// <exception cref="NpyFormatException">Not a .npy file, or one of another dtype, byte order or Fortran order.</exception>
    public static NpyArray Read(string path) => Read(File.ReadAllBytes(path));

    /// <summary>Reads the bytes of a .npy file.</summary>
    /// <exception cref="NpyFormatException">Not a .npy file, or one of another dtype, byte order or Fortran order.</exception>
    public static NpyArray Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic)) throw new NpyFormatException("not a .npy file (no \\x93NUMPY magic)");
        int major = bytes[6], minor = bytes[7];
        int headerLength, start;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
            start = 10;
        }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new NpyFormatException("truncated .npy header");
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
            if (len > int.MaxValue - 12) throw new NpyFormatException($".npy header length {len} is too large");
            headerLength = (int)len;
            start = 12;
        }
        else throw new NpyFormatException($".npy format version {major}.{minor} is not supported (1.0, 2.0, 3.0 are)");
        if (minor != 0) throw new NpyFormatException($".npy format version {major}.{minor} is not supported (1.0, 2.0, 3.0 are)");
        if (bytes.Length < start + headerLength) throw new NpyFormatException("truncated .npy header");
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes.Slice(start, headerLength));
        string descr = Field(header, "descr");
        string fortran = Field(header, "fortran_order");
        string shapeText = Field(header, "shape");
        if (descr is not ("'<f4'" or "'<f8'"))
            throw new NpyFormatException($".npy dtype {descr} is not supported: only little-endian float32 ('<f4') and float64 ('<f8')");
        if (fortran != "False") throw new NpyFormatException($".npy fortran_order {fortran} is not supported: only C order");
        var shape = ParseShape(shapeText);
        long count = 1;
        foreach (long d in shape) count = checked(count * d);
        int size = descr == "'<f4'" ? 4 : 8;
        var data = bytes[(start + headerLength)..];
        if (data.Length != count * size)
            throw new NpyFormatException($".npy data is {data.Length} bytes; shape {OnnxModel.Format(shape)} of {descr} needs {count * size}");
        if (size == 4)
        {
            var f = new float[count];
            data.CopyTo(MemoryMarshal.AsBytes(f.AsSpan()));
            if (!BitConverter.IsLittleEndian) for (int i = 0; i < f.Length; i++) f[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..]);
            return new NpyArray(shape, f, null);
        }
        var d8 = new double[count];
        data.CopyTo(MemoryMarshal.AsBytes(d8.AsSpan()));
        if (!BitConverter.IsLittleEndian) for (int i = 0; i < d8.Length; i++) d8[i] = BinaryPrimitives.ReadDoubleLittleEndian(data[(i * 8)..]);
        return new NpyArray(shape, null, d8);
    }

    /// <summary>Writes the array as a version 1.0 .npy file (2.0 when the header would not fit 65,535 bytes).</summary>
    public void Write(string path)
    {
        using var fs = File.Create(path);
        Write(fs);
    }

    /// <summary>Writes the array as .npy to <paramref name="destination"/>, which stays open.</summary>
    public void Write(Stream destination)
    {
        string shape = Shape.Count == 1
            ? $"({Shape[0].ToString(CultureInfo.InvariantCulture)},)"
            : "(" + string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '{Descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // numpy/lib/format.py: the whole header, ending in '\n', is padded with spaces to a multiple of 64 bytes.
        int prefix = dict.Length + 1 + 10 > ushort.MaxValue ? 12 : 10;
        int total = (prefix + dict.Length + 1 + 63) / 64 * 64;
        var header = new byte[total];
        Magic.CopyTo(header);
        header[6] = (byte)(prefix == 10 ? 1 : 2);
        if (prefix == 10) BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(total - 10));
        else BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), (uint)(total - 12));
        Encoding.ASCII.GetBytes(dict, header.AsSpan(prefix));
        header.AsSpan(prefix + dict.Length, total - prefix - dict.Length - 1).Fill((byte)' ');
        header[^1] = (byte)'\n';
        destination.Write(header);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(".npy writing needs a little-endian machine");
        if (Single is not null) destination.Write(MemoryMarshal.AsBytes(Single.AsSpan()));
        else destination.Write(MemoryMarshal.AsBytes(Double.AsSpan()));
    }

    private static long[] CheckShape(long[] shape, long length)
    {
        long n = 1;
        foreach (long d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            n *= d;
        }
        if (n != length) throw new ArgumentException($"shape {OnnxModel.Format(shape)} needs {n} values, got {length}", nameof(shape));
        return shape;
    }

    // The header is a Python dict literal of three keys (descr, fortran_order, shape) whose values have no commas
    // outside parentheses and no nested quotes.
    private static string Field(string header, string key)
    {
        int k = header.IndexOf("'" + key + "'", StringComparison.Ordinal);
        if (k < 0) k = header.IndexOf("\"" + key + "\"", StringComparison.Ordinal);
        if (k < 0) throw new NpyFormatException($".npy header has no '{key}': {header.Trim()}");
        int colon = header.IndexOf(':', k + key.Length + 2);
        if (colon < 0) throw new NpyFormatException($".npy header is not a dict: {header.Trim()}");
        int i = colon + 1;
        while (i < header.Length && header[i] == ' ') i++;
        int end;
        if (i < header.Length && header[i] == '(')
        {
            end = header.IndexOf(')', i);
            if (end < 0) throw new NpyFormatException($".npy header shape is not closed: {header.Trim()}");
            end++;
        }
        else
        {
            end = header.IndexOfAny([',', '}'], i);
            if (end < 0) throw new NpyFormatException($".npy header is not a dict: {header.Trim()}");
        }
        return header[i..end].Trim().Replace('"', '\'');
    }

    private static long[] ParseShape(string text)
    {
        if (text.Length < 2 || text[0] != '(' || text[^1] != ')') throw new NpyFormatException($".npy shape {text} is not a tuple");
        var cells = text[1..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new long[cells.Length];
        for (int i = 0; i < cells.Length; i++)
        {
            string c = cells[i].TrimEnd('L');
            if (!long.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new NpyFormatException($".npy shape {text} is not a tuple of sizes");
        }
        return shape;
    }
}
