namespace Broker.Alerts.Checksums;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as used by PNG chunks, gzip members and Avro's snappy
/// codec. Table-driven, one byte at a time; System.IO.Hashing is not available in this environment.
/// </summary>
public static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    /// <summary>Continues a CRC over more bytes; start with <c>0</c> and pass the previous result.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data) c = Table[(c ^ b) & 0xff] ^ (c >> 8);
        return ~c;
    }

    /// <summary>The CRC-32 of the bytes.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);
}
