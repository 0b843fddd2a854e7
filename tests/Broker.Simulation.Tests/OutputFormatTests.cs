using System.Text;
using Broker.Alerts.Avro;
using Broker.Alerts.Fits;

namespace Broker.Simulation.Tests;

public sealed class OutputFormatTests
{
    private static string TempDir()
    {
        string d = Path.Combine(Path.GetTempPath(), "broker-sim-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public async Task The_same_seed_gives_byte_identical_alert_files_whatever_the_worker_count()
    {
        var options = new SimulationOptions { Survey = SurveyKind.Ztf, Nights = 1, AlertsPerNight = 120, Seed = 11 };
        string a = TempDir(), b = TempDir();
        await AlertSimulator.WriteAsync(options with { Workers = 1 }, a);
        await AlertSimulator.WriteAsync(options with { Workers = 3 }, b);
        var files = Directory.GetFiles(Path.Combine(a, "alerts")).Select(Path.GetFileName).Order().ToList();
        Assert.NotEmpty(files);
        Assert.Equal(files, Directory.GetFiles(Path.Combine(b, "alerts")).Select(Path.GetFileName).Order().ToList());
        foreach (var f in files) Assert.Equal(File.ReadAllBytes(Path.Combine(a, "alerts", f!)), File.ReadAllBytes(Path.Combine(b, "alerts", f!)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "truth.csv")), File.ReadAllBytes(Path.Combine(b, "truth.csv")));
    }

    [Fact]
    public void Rubin_cutouts_carry_a_variance_plane_and_a_double_precision_psf_as_real_rubin_cutouts_do()
    {
        var alert = AlertSimulator.Generate(new SimulationOptions { Survey = SurveyKind.Lsst, Nights = 1, AlertsPerNight = 60, Seed = 5 }).First();
        var record = (AvroRecord)AvroDatumReader.For(SurveySchemas.Lsst).Read(alert.Datum)!;
        foreach (var name in new[] { "cutoutScience", "cutoutTemplate", "cutoutDifference" })
        {
            var bytes = (byte[])record[name]!;
            var fits = FitsFile.Read(bytes);
            Assert.Equal(3, fits.Hdus.Count);
            string text = Encoding.ASCII.GetString(bytes);
            Assert.Contains("BUNIT   = 'nJy     '", text, StringComparison.Ordinal);
            Assert.Contains("UTYPE   = 'VarianceUncertainty'", text, StringComparison.Ordinal);
            Assert.Contains("EXTNAME = 'UNCERT  '", text, StringComparison.Ordinal);
            Assert.Contains("EXTNAME = 'PSFIMAGE'", text, StringComparison.Ordinal);
            int psf = text.IndexOf("EXTNAME = 'PSFIMAGE'", StringComparison.Ordinal);
            int header = text.LastIndexOf("XTENSION=", psf, StringComparison.Ordinal);
            Assert.Contains("BITPIX  =                  -64", text[header..psf], StringComparison.Ordinal);
            // The UNCERT plane is a variance: about the square of the difference image's pixel scatter, not the scatter itself.
            var image = fits.FirstImage.Pixels;
            var sorted = image.Where(float.IsFinite).Order().ToArray();
            double scatter = (sorted[(int)(0.75 * sorted.Length)] - sorted[(int)(0.25 * sorted.Length)]) / 1.349;
            if (name == "cutoutDifference")
            {
                int uncert = text.IndexOf("EXTNAME = 'UNCERT  '", StringComparison.Ordinal);
                int dataStart = (uncert / 2880 + 1) * 2880;
                double v = System.Buffers.Binary.BinaryPrimitives.ReadSingleBigEndian(bytes.AsSpan(dataStart, 4));
                Assert.InRange(v / (scatter * scatter), 0.3, 3.0);
            }
        }
    }

    [Theory]
    [InlineData(100.0, 0, 0, 0.0)]
    [InlineData(100.0, 0, 1, 0.01)]
    [InlineData(100.0, 0, 250, 2.5)]
    [InlineData(250.0, 10000, 9999, 0.0)]
    [InlineData(250.0, 10000, 10000, 40.0)]
    [InlineData(250.0, 10000, 25000, 80.0)]
    [InlineData(0.0, 10000, 25000, 0.0)]
    public void Pacing_spreads_alerts_evenly_or_sends_them_in_visit_sized_bursts(double rate, int burst, long index, double due)
    {
        Assert.Equal(due, new StreamPacing(rate, burst).DueSeconds(index), 9);
    }

    [Fact]
    public void Pacing_refuses_negative_rates_and_bursts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPacing(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPacing(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StreamPacing(10, -1));
    }
}
