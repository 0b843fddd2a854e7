using System.IO.Compression;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;

namespace Broker.TestSupport;

/// <summary>
/// Damaged copies of real alert files, made the same way every time (fixed seeds): byte flips at 1, 10 and 100
/// random offsets, truncations, an embedded writer schema that is not JSON, a corrupt cutout, a gzip bomb, an empty
/// file and a large file of zeros. Shared by the codec's fuzz test and the CLI corpus test (issue 8).
/// </summary>
public static class DamagedCopies
{
    /// <summary>A few real files of every framing and packing: IPAC and Spark ZTF containers, schema 4.02 with forced photometry, a tar.gz, Rubin Confluent-framed and a Rubin Spark container.</summary>
    public static readonly string[] Originals =
    [
        "ztf/alerts/fink-alert-simulator_20181129_v3.2/697251920815010004.avro",
        "ztf/alerts/fink-alert-simulator_20181129_v3.2/697251921415015003.avro",
        "ztf/alerts/boom/2695378462115010012.v4_02.avro",
        "ztf/alerts/ampel-ztf/ZTF18acruwxq.tar.gz",
        "ztf/alerts/ampel-ztf/ZTF20abyfpze.avro",
        "lsst/alerts/confluent_wire_format/boom/7912941781254298.avro",
        "lsst/alerts/fink-broker_20250905_lsstcam_v9.0_spark/169298432623116306_169298432623116306.avro",
    ];

    /// <summary>One damaged copy: a name saying how it was made, and its bytes.</summary>
    public sealed record Copy(string Name, byte[] Bytes);

    /// <summary>Byte flips (1, 10 and 100 random offsets, <paramref name="seeds"/> copies each) and truncations of one file.</summary>
    public static IEnumerable<Copy> FlipsAndCuts(string original, int seeds)
    {
        byte[] bytes = File.ReadAllBytes(SharedData.Path(original));
        string stem = Path.GetFileName(original).Replace('.', '_');
        foreach (int flips in new[] { 1, 10, 100 })
        {
            for (int seed = 0; seed < seeds; seed++)
            {
                var copy = bytes.ToArray();
                // A seed from the numbers alone (HashCode is randomised per process): the same copies in every run.
                var random = new Random(flips * 7919 + seed * 104_729 + bytes.Length);
                for (int i = 0; i < flips; i++) copy[random.Next(copy.Length)] ^= (byte)random.Next(1, 256);
                yield return new Copy($"{stem}.flip{flips}.s{seed}", copy);
            }
        }
        foreach (double fraction in new[] { 0.0005, 0.01, 0.1, 0.5, 0.9, 0.999 })
        {
            int length = Math.Max(1, (int)(bytes.Length * fraction));
            yield return new Copy($"{stem}.cut{length}", bytes[..length]);
        }
    }

    /// <summary>A ZTF container whose embedded writer schema is not valid JSON (a brace of the header's schema turned into a letter).</summary>
    public static Copy InvalidSchemaJson(string original)
    {
        byte[] copy = File.ReadAllBytes(SharedData.Path(original));
        int brace = copy.AsSpan().IndexOf("\"fields\""u8);
        int at = copy.AsSpan(brace).IndexOf((byte)'[') + brace;
        copy[at] = (byte)'X';
        return new Copy(Path.GetFileNameWithoutExtension(original) + ".bad_schema_json", copy);
    }

    /// <summary>
    /// A real ZTF alert (<paramref name="original"/>) rewritten with 40 bytes of its gzipped science stamp overwritten:
    /// the container decodes, the cutout does not.
    /// </summary>
    public static void WriteCorruptStamp(string original, string path)
    {
        var item = new AlertFileReader().ReadFile(SharedData.Path(original)).Single();
        var science = (AvroRecord)item.Record!["cutoutScience"]!;
        var stamp = ((byte[])science["stampData"]!).ToArray();
        stamp.AsSpan(20, 40).Fill(0xAB);
        science["stampData"] = stamp;
        using var w = new AvroContainerWriter(File.Create(path), item.WriterSchema!);
        w.Append(item.Record);
    }

    /// <summary>Gzip of zeros that inflates to <paramref name="inflated"/> bytes, written by streaming zeros through GZipStream.</summary>
    public static byte[] GzipBomb(long inflated)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (long left = inflated; left > 0; left -= zeros.Length) gz.Write(zeros, 0, (int)Math.Min(zeros.Length, left));
        }
        return ms.ToArray();
    }

    /// <summary>A copy's name, size and first bytes, for assertion messages.</summary>
    public static string Describe(Copy copy) =>
        $"{copy.Name} ({copy.Bytes.Length} bytes, starts {Convert.ToHexString(copy.Bytes.AsSpan(0, Math.Min(4, copy.Bytes.Length)))})";
}
