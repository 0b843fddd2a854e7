using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Broker.Alerts.Avro;

/// <summary>The bytes do not hold a value of the expected schema (truncated, corrupt, or written with another schema).</summary>
public sealed class AvroDataException(string message, Exception? inner = null) : FormatException(message, inner);

/// <summary>
/// Reads Avro binary encoding (Avro 1.11 specification, "Binary Encoding") from a span, without allocating for
/// numbers. Variable-length zig-zag integers, little-endian IEEE 754 floats, length-prefixed bytes and strings.
/// </summary>
public ref struct AvroReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    /// <summary>Starts reading at the first byte of <paramref name="data"/>.</summary>
    public AvroReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    /// <summary>Bytes consumed so far.</summary>
    public readonly int Position => _pos;

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _data.Length - _pos;

    /// <summary>True when every byte has been read.</summary>
    public readonly bool End => _pos >= _data.Length;

    /// <summary>Reads a zig-zag varint of at most 32 bits.</summary>
    public int ReadInt()
    {
        long v = ReadLong();
        if (v is < int.MinValue or > int.MaxValue) throw new AvroDataException($"int out of range at byte {_pos}");
        return (int)v;
    }

    /// <summary>Reads a zig-zag varint of at most 64 bits (at most 10 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadLong()
    {
        var data = _data;
        int pos = _pos;
        if ((uint)pos < (uint)data.Length && data[pos] < 0x80)
        {
            // One-byte fast path: most lengths, counts, branch indexes and small values.
            ulong one = data[pos];
            _pos = pos + 1;
            return (long)(one >> 1) ^ -(long)(one & 1);
        }
        ulong raw = 0;
        int shift = 0;
        while (true)
        {
            if ((uint)pos >= (uint)data.Length) throw Truncated("varint");
            byte b = data[pos++];
            raw |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) break;
            shift += 7;
            if (shift > 63) throw new AvroDataException($"varint longer than 10 bytes at byte {_pos}");
        }
        _pos = pos;
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Reads one byte as a boolean (0 or 1).</summary>
    public bool ReadBoolean()
    {
        byte b = ReadRaw(1)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new AvroDataException($"boolean byte {b} is neither 0 nor 1 at byte {_pos - 1}"),
        };
    }

    /// <summary>Reads a little-endian IEEE 754 single.</summary>
    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(ReadRaw(4));

    /// <summary>Reads a little-endian IEEE 754 double.</summary>
    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(ReadRaw(8));

    /// <summary>Reads a length-prefixed byte sequence as a span into the source (no copy).</summary>
    public ReadOnlySpan<byte> ReadBytesSpan()
    {
        long len = ReadLong();
        if (len < 0) throw new AvroDataException($"negative length {len} at byte {_pos}");
        if (len > Remaining) throw Truncated($"{len}-byte value");
        return ReadRaw((int)len);
    }

    /// <summary>Reads a length-prefixed byte sequence into a new array.</summary>
    public byte[] ReadBytes() => ReadBytesSpan().ToArray();

    /// <summary>Reads a length-prefixed UTF-8 string.</summary>
    public string ReadString()
    {
        var span = ReadBytesSpan();
        try
        {
            return StrictUtf8.GetString(span);
        }
        catch (DecoderFallbackException e)
        {
            throw new AvroDataException($"string is not valid UTF-8 at byte {_pos - span.Length}", e);
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes (fixed types, framing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadRaw(int count)
    {
        if (count > _data.Length - _pos) throw Truncated($"{count} bytes");
        var s = _data.Slice(_pos, count);
        _pos += count;
        return s;
    }

    /// <summary>Skips a length-prefixed byte sequence or string.</summary>
    public void SkipBytes() => ReadBytesSpan();

    /// <summary>Skips exactly <paramref name="count"/> bytes.</summary>
    public void Skip(int count) => ReadRaw(count);

    private readonly AvroDataException Truncated(string what) =>
        new($"data ends inside a {what} at byte {_pos} of {_data.Length} (truncated, or written with another schema)");

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}

/// <summary>
/// Writes Avro binary encoding into a growable buffer that can be reset and reused, so steady-state encoding does
/// not allocate.
/// </summary>
public sealed class AvroWriter : IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _pos;

    /// <summary>Creates a writer with an initial capacity.</summary>
    public AvroWriter(int capacity = 4096) => _buffer = new byte[Math.Max(16, capacity)];

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _pos);

    /// <summary>Bytes written since the last <see cref="Reset"/>, as memory.</summary>
    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _pos);

    /// <summary>Number of bytes written.</summary>
    public int Length => _pos;

    /// <summary>Forgets what was written, keeping the buffer.</summary>
    public void Reset() => _pos = 0;

    /// <summary>A copy of what was written.</summary>
    public byte[] ToArray() => WrittenSpan.ToArray();

    /// <summary>Writes a zig-zag varint.</summary>
    public void WriteLong(long value)
    {
        Ensure(10);
        ulong n = (ulong)((value << 1) ^ (value >> 63));
        var b = _buffer;
        int p = _pos;
        while (n >= 0x80)
        {
            b[p++] = (byte)(n | 0x80);
            n >>= 7;
        }
        b[p++] = (byte)n;
        _pos = p;
    }

    /// <summary>Writes a zig-zag varint.</summary>
    public void WriteInt(int value) => WriteLong(value);

    /// <summary>Writes a boolean byte.</summary>
    public void WriteBoolean(bool value)
    {
        Ensure(1);
        _buffer[_pos++] = value ? (byte)1 : (byte)0;
    }

    /// <summary>Writes a little-endian single.</summary>
    public void WriteFloat(float value)
    {
        Ensure(4);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_pos), value);
        _pos += 4;
    }

    /// <summary>Writes a little-endian double.</summary>
    public void WriteDouble(double value)
    {
        Ensure(8);
        BinaryPrimitives.WriteDoubleLittleEndian(_buffer.AsSpan(_pos), value);
        _pos += 8;
    }

    /// <summary>Writes a length-prefixed byte sequence.</summary>
    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteLong(value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes a length-prefixed UTF-8 string.</summary>
    public void WriteString(string value)
    {
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 256)
        {
            Span<byte> tmp = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(value, tmp);
            WriteBytes(tmp[..n]);
            return;
        }
        int count = Encoding.UTF8.GetByteCount(value);
        WriteLong(count);
        Ensure(count);
        Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_pos));
        _pos += count;
    }

    /// <summary>Writes bytes as they are (fixed types, framing).</summary>
    public void WriteRaw(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_pos));
        _pos += value.Length;
    }

    /// <inheritdoc />
    public void Advance(int count) => _pos += count;

    /// <inheritdoc />
    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(Math.Max(1, sizeHint));
        return _buffer.AsMemory(_pos);
    }

    /// <inheritdoc />
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(Math.Max(1, sizeHint));
        return _buffer.AsSpan(_pos);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int count)
    {
        if (_buffer.Length - _pos < count) Grow(count);
    }

    private void Grow(int count)
    {
        int size = Math.Max(_buffer.Length * 2, _pos + count);
        Array.Resize(ref _buffer, size);
    }
}
