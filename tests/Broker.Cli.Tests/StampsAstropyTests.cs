using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>`broker stamps --npy` agrees with astropy pixel for pixel, NaN positions included, on every real cutout.</summary>
[Collection(AstropyStampOracleCollection.Name)]
public sealed class StampsAstropyTests(AstropyStampOracle oracle) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-stamps").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [OracleFact("avro", "astropy", "numpy")]
    public void Every_cutout_npy_written_by_broker_stamps_equals_astropys_reading()
    {
        string ours = Path.Combine(_dir, "ours");
        string[] inputs = [SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")];
        oracle.Start(); // astropy reads the same inputs while broker stamps runs
        var run = BrokerProcess.Run(["stamps", "--schemas", SharedData.Path("lsst/schema"), "--npy", ours, .. inputs]);
        Assert.True(run.ExitCode == 0, run.StandardError);
        // The oracle's one run over the same inputs, shared with the FITS reader's tests.
        string astropy = oracle.OutputDirectory;

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
            var (rows, columns, pixels) = NpyTestFile.Read(File.ReadAllBytes(file));
            bool matched = false;
            foreach (var reference in candidates)
            {
                var (refRows, refColumns, refPixels) = NpyTestFile.Read(File.ReadAllBytes(reference));
                if (rows != refRows || columns != refColumns) continue;
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
}
