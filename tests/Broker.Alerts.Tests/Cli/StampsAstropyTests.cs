using System.Buffers.Binary;
using System.Text;
using Broker.Alerts.Tests.TestSupport;

namespace Broker.Alerts.Tests.Cli;

/// <summary>`broker stamps --npy` agrees with astropy pixel for pixel, NaN positions included, on every real cutout.</summary>
public sealed class StampsAstropyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-stamps").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [OracleFact("avro", "astropy", "numpy")]
    public void Every_cutout_npy_written_by_broker_stamps_equals_astropys_reading()
    {
        string ours = Path.Combine(_dir, "ours"), astropy = Path.Combine(_dir, "astropy");
        string[] inputs = [SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")];
        var run = BrokerProcess.Run(["stamps", "--schemas", SharedData.Path("lsst/schema"), "--npy", ours, .. inputs]);
        Assert.True(run.ExitCode == 0, run.StandardError);
        Python.Run(SharedData.RepositoryPath("tests/Broker.Alerts.Tests/oracles/fits_astropy.py"), [astropy, .. inputs]);

        var files = Directory.GetFiles(ours, "*.npy");
        Assert.True(files.Length > 1800, $"only {files.Length} cutouts written");
        int nanImages = 0;
        foreach (var file in files)
        {
            string name = Path.GetFileNameWithoutExtension(file);
            int underscore = name.IndexOf('_');
            string id = name[..underscore], kind = name[(underscore + 1)..];
            // The oracle names repeats of one candid with different bytes <id>.<n>_<kind>; ours keeps the last.
            var candidates = Directory.GetFiles(astropy, $"{id}*_{kind}.npy")
                .Where(f => Path.GetFileName(f) == $"{id}_{kind}.npy" || Path.GetFileName(f).StartsWith(id + ".", StringComparison.Ordinal))
                .ToList();
            Assert.NotEmpty(candidates);
            var (shape, pixels) = ReadNpy(file);
            bool matched = false;
            foreach (var reference in candidates)
            {
                var (refShape, refPixels) = ReadNpy(reference);
                if (!shape.SequenceEqual(refShape) || pixels.Length != refPixels.Length) continue;
                bool same = true;
                for (int i = 0; i < pixels.Length && same; i++)
                    same = float.IsNaN(pixels[i]) ? float.IsNaN(refPixels[i]) : BitConverter.SingleToInt32Bits(pixels[i]) == BitConverter.SingleToInt32Bits(refPixels[i]);
                if (same) { matched = true; break; }
            }
            Assert.True(matched, $"{name}.npy differs from astropy's reading");
            if (pixels.Any(float.IsNaN)) nanImages++;
        }
        Assert.True(nanImages > 0, "expected some real cutouts with NaN pixels");
    }

    private static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a NumPy v1/v2 .npy of little-endian float32 (what both writers produce).</summary>
    private static (int[] Shape, float[] Pixels) ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan(0, 6).SequenceEqual(NpyMagic), $"{path} is not .npy");
        int headerLength, start;
        if (bytes[6] == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); start = 10; }
        else { headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)); start = 12; }
        string header = Encoding.ASCII.GetString(bytes, start, headerLength);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        string shapeText = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        shapeText = shapeText[..shapeText.IndexOf(')')];
        int[] shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        var data = bytes.AsSpan(start + headerLength);
        var pixels = new float[data.Length / 4];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = BinaryPrimitives.ReadSingleLittleEndian(data[(4 * i)..]);
        return (shape, pixels);
    }
}
