using System.IO.Compression;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.StampClassifier.Tests;

public sealed class StampInputTests(ITestOutputHelper output)
{
    private static readonly string[] AlerceFeatures =
    [
        "sgscore1", "distpsnr1", "sgscore2", "distpsnr2", "sgscore3", "distpsnr3", "isdiffpos", "fwhm", "magpsf", "sigmapsf",
        "ra", "dec", "diffmaglim", "classtar", "ndethist", "ncovhist", "ecl_lat", "ecl_long", "gal_lat", "gal_long",
        "non_detections", "chinr", "sharpnr",
    ];

    [Fact]
    public void Ztf_features_are_alerces_23_in_alerces_order()
    {
        Assert.Equal(AlerceFeatures, StampInput.FeatureNames(Survey.Ztf));
        Assert.Equal(17, StampInput.FeatureNames(Survey.Lsst).Count);
        Assert.Equal(StampInput.FeatureNames(Survey.Lsst).Count, StampInput.FeatureNames(Survey.Lsst).Distinct().Count());
        Assert.Throws<ArgumentException>(() => StampInput.FeatureNames(Survey.Unknown));
        foreach (var survey in new[] { Survey.Ztf, Survey.Lsst })
            foreach (var f in StampInput.FeatureDefinitions(survey))
                Assert.True(f.Min < f.Max && f.Fill >= f.Min && f.Fill <= f.Max, $"{survey} {f.Name}: [{f.Min}, {f.Max}] fill {f.Fill}");
    }

    [OracleFact]
    public void Every_real_ztf_alert_is_written_or_given_a_reason()
    {
        var images = new float[StampInput.ImageLength];
        var features = new float[StampInput.FeatureNames(Survey.Ztf).Count];
        var reasons = new Dictionary<string, int>();
        int written = 0;
        foreach (var (source, alert) in RealAlerts.Ztf)
        {
            string? why = StampInput.TryWrite(alert, images, features);
            if (why is null)
            {
                written++;
                CheckImages(images, source);
                CheckFeatures(Survey.Ztf, features, source);
                continue;
            }
            reasons[why] = reasons.GetValueOrDefault(why) + 1;
            if (!alert.HasAllCutouts) Assert.True(why is Classification.NoCutouts || why.EndsWith(": absent", StringComparison.Ordinal), $"{source}: {why}");
        }
        output.WriteLine($"written {written} of {RealAlerts.Ztf.Count}");
        foreach (var (why, n) in reasons) output.WriteLine($"  {n} x {why}");
        Assert.Equal(627, RealAlerts.Ztf.Count);
        // Shared data README: ampel-ztf's ZTF20abyfpze has null cutouts and its two ZTF18a* tarballs (7 alerts) were
        // stripped of theirs; every other alert has three stamps of at least 48 pixels a side, and none is NaN at its centre.
        Assert.Equal(RealAlerts.Ztf.Count(a => !a.Alert.HasAllCutouts), reasons.Values.Sum());
        Assert.Equal(8, reasons.Values.Sum());
        Assert.Equal(619, written);
    }

    [OracleFact]
    public void A_real_ztf_crop_is_the_central_21_pixels_min_max_normalised()
    {
        var alert = RealAlerts.CleanZtf;
        var images = new float[StampInput.ImageLength];
        var features = new float[23];
        Assert.Null(StampInput.TryWrite(alert, images, features));
        for (int c = 0; c < 3; c++)
        {
            var full = FitsFile.ReadFirstImage(alert.Cutouts![c]!);
            Assert.Equal((63, 63), (full.Width, full.Height));
            // numpy's image[21:42, 21:42], then (v - nanmin) / (nanmax - nanmin): ALeRCE's crop and normalisation.
            var crop = Enumerable.Range(21, 21).SelectMany(r => Enumerable.Range(21, 21).Select(x => (double)full.Pixels[r * 63 + x])).ToArray();
            double min = crop.Where(double.IsFinite).Min(), max = crop.Where(double.IsFinite).Max();
            for (int i = 0; i < crop.Length; i++)
            {
                double expected = double.IsFinite(crop[i]) ? (crop[i] - min) / (max - min) : 0;
                Assert.True(Math.Abs(expected - images[c * 441 + i]) <= 1e-6, $"channel {c} pixel {i}: {images[c * 441 + i]}, numpy's way {expected}");
            }
        }
        // The features a reader can check by eye against the packet.
        var names = StampInput.FeatureNames(Survey.Ztf).ToList();
        float Feature(string name) => features[names.IndexOf(name)];
        Assert.Equal(alert.Ra, Feature("ra"), 3);
        Assert.Equal(alert.Dec, Feature("dec"), 3);
        Assert.Equal(alert.Mag!.Value, Feature("magpsf"), 4);
        Assert.Equal(alert.IsPositive ? 1 : 0, Feature("isdiffpos"));
        double ncov = Convert.ToDouble(alert.SurveyFields["candidate.ncovhist"]), ndet = Convert.ToDouble(alert.SurveyFields["candidate.ndethist"]);
        Assert.Equal(Math.Clamp(ncov - ndet, 0, 2000), Feature("non_detections"));
        Assert.Equal(Math.Min(ndet, 20), Feature("ndethist"));
        var (l, b) = Broker.Sky.Coordinates.EquatorialToGalactic(alert.Ra, alert.Dec);
        Assert.Equal(l, Feature("gal_long"), 3);
        Assert.Equal(b, Feature("gal_lat"), 3);
    }

    [OracleFact]
    public void Every_rubin_alert_with_cutouts_is_written_from_its_image_plane()
    {
        var images = new float[StampInput.ImageLength];
        var features = new float[StampInput.FeatureNames(Survey.Lsst).Count];
        int written = 0, without = 0;
        foreach (var (source, alert) in RealAlerts.Lsst)
        {
            Assert.Equal(Survey.Lsst, alert.Survey);
            string? why = StampInput.TryWrite(alert, images, features);
            if (!alert.HasAllCutouts)
            {
                without++;
                Assert.NotNull(why);
                continue;
            }
            Assert.True(why is null, $"{source}: {why}");
            written++;
            CheckImages(images, source);
            CheckFeatures(Survey.Lsst, features, source);
            var fits = FitsFile.Read(alert.Cutouts!.Science!);
            output.WriteLine($"{source}: {fits.Hdus.Count} HDUs, image {fits.FirstImage.Width}x{fits.FirstImage.Height}");
        }
        output.WriteLine($"written {written}, without cutouts {without}");
        // 7 + 12 real LSSTCam alerts and boom's sample carry cutouts; the pittgoogle fakes do not.
        Assert.Equal(20, written);
    }

    [OracleFact]
    public void Cutouts_absent_are_refused_with_the_reason()
    {
        var alert = RealAlerts.CleanZtf;
        Assert.Equal("no cutouts", Try(alert with { Cutouts = null }));
        Assert.Equal("template cutout: absent", Try(alert with { Cutouts = alert.Cutouts! with { Template = null } }));
        Assert.Equal("difference cutout: empty", Try(alert with { Cutouts = alert.Cutouts! with { Difference = [] } }));
    }

    [OracleFact]
    public void Nan_only_stamps_are_refused_and_nan_edges_are_not()
    {
        var alert = RealAlerts.CleanZtf;
        var nan = new float[63 * 63];
        Array.Fill(nan, float.NaN);
        Assert.Equal("difference cutout: NaN only in the central 21x21", Try(alert with { Cutouts = alert.Cutouts! with { Difference = Stamp(63, 63, nan) } }));

        // NaN everywhere but one corner, outside the crop: still NaN only where the network looks.
        var corner = (float[])nan.Clone();
        corner[0] = 5;
        Assert.Equal("science cutout: NaN only in the central 21x21", Try(alert with { Cutouts = alert.Cutouts! with { Science = Stamp(63, 63, corner) } }));

        // NaN around a finite centre: classified, NaN to 0, the finite pixels normalised.
        var centre = (float[])nan.Clone();
        centre[31 * 63 + 31] = 7;
        centre[31 * 63 + 32] = 3;
        var images = new float[StampInput.ImageLength];
        Assert.Null(StampInput.TryWrite(alert with { Cutouts = alert.Cutouts! with { Template = Stamp(63, 63, centre) } }, images, new float[23]));
        var template = images.AsSpan(441, 441);
        Assert.Equal(1f, template[10 * 21 + 10]);
        Assert.Equal(0f, template[10 * 21 + 11]);
        Assert.Equal(440, template.Count(0f));
    }

    [OracleFact]
    public void Wrong_sized_stamps_are_refused_and_small_edge_stamps_cropped_at_their_centre()
    {
        var alert = RealAlerts.CleanZtf;
        Assert.Equal("template cutout: 40x20, needs at least 21x21", Try(alert with { Cutouts = alert.Cutouts! with { Template = Stamp(40, 20, Ramp(40 * 20)) } }));
        Assert.Equal("science cutout: 20x63, needs at least 21x21", Try(alert with { Cutouts = alert.Cutouts! with { Science = Stamp(20, 63, Ramp(20 * 63)) } }));

        // A 21x21 stamp is its own crop; a 22x22 one loses its last row and column ((22 - 21) / 2 = 0).
        var images = new float[StampInput.ImageLength];
        Assert.Null(StampInput.TryWrite(alert with { Cutouts = alert.Cutouts! with { Difference = Stamp(22, 22, Ramp(22 * 22)) } }, images, new float[23]));
        var diff = images.AsSpan(882, 441);
        Assert.Equal(0f, diff[0]);
        Assert.Equal(1f, diff[440]);
        Assert.Equal(1f / (20 * 22 + 20), diff[1], 6);
    }

    [OracleFact]
    public void Corrupt_gzip_and_non_fits_stamps_are_refused_with_the_readers_reason()
    {
        var alert = RealAlerts.CleanZtf;
        var corrupt = alert.Cutouts!.Science!.ToArray();
        corrupt.AsSpan(20, 40).Fill(0xAB);
        string? why = Try(alert with { Cutouts = alert.Cutouts with { Science = corrupt } });
        output.WriteLine(why);
        Assert.StartsWith("science cutout: corrupt: ", why);

        var truncated = alert.Cutouts.Template!.AsSpan(0, alert.Cutouts.Template!.Length / 2).ToArray();
        why = Try(alert with { Cutouts = alert.Cutouts with { Template = truncated } });
        output.WriteLine(why);
        Assert.StartsWith("template cutout: corrupt: ", why);

        why = Try(alert with { Cutouts = alert.Cutouts with { Difference = "not a FITS file at all, just text that is long enough"u8.ToArray() } });
        Assert.StartsWith("difference cutout: corrupt: not a FITS file", why);

        why = Try(alert with { Cutouts = alert.Cutouts with { Difference = DamagedCopies.GzipBomb(100L << 20) } });
        output.WriteLine(why);
        Assert.StartsWith("difference cutout: corrupt: gzipped FITS inflates to more than", why);
    }

    [OracleFact]
    public void Missing_and_ztf_sentinel_features_take_their_documented_values()
    {
        var alert = RealAlerts.CleanZtf;
        var fields = alert.SurveyFields.ToDictionary();
        fields["candidate.sgscore1"] = -999.0;
        fields["candidate.distpsnr2"] = double.NaN;
        fields["candidate.chinr"] = 1e6;
        fields.Remove("candidate.sharpnr");
        fields.Remove("candidate.fwhm");
        fields["candidate.ncovhist"] = 5000L;
        fields["candidate.ndethist"] = 3L;
        var features = new float[23];
        Assert.Null(StampInput.TryWrite(alert with { SurveyFields = fields, IsPositive = false }, new float[StampInput.ImageLength], features));
        var names = StampInput.FeatureNames(Survey.Ztf).ToList();
        float Feature(string name) => features[names.IndexOf(name)];
        Assert.Equal(-1f, Feature("sgscore1"));
        Assert.Equal(-1f, Feature("distpsnr2"));
        Assert.Equal(15f, Feature("chinr"));
        Assert.Equal(-1f, Feature("sharpnr"));
        Assert.Equal(0f, Feature("fwhm"));
        Assert.Equal(3000f, Feature("ncovhist"));
        Assert.Equal(3f, Feature("ndethist"));
        Assert.Equal(2000f, Feature("non_detections"));
        Assert.Equal(0f, Feature("isdiffpos"));
    }

    [Fact]
    public void Unknown_surveys_and_short_spans_are_refused()
    {
        var alert = new Alert { Survey = Survey.Unknown };
        Assert.Equal("survey UNKNOWN has no stamp model", StampInput.TryWrite(alert, new float[StampInput.ImageLength], new float[23]));
        Assert.Throws<ArgumentException>(() => StampInput.TryWrite(new Alert { Survey = Survey.Ztf }, new float[10], new float[23]));
        Assert.Throws<ArgumentException>(() => StampInput.TryWrite(new Alert { Survey = Survey.Ztf }, new float[StampInput.ImageLength], new float[22]));
    }

    private static string? Try(Alert alert) =>
        StampInput.TryWrite(alert, new float[StampInput.ImageLength], new float[StampInput.FeatureNames(alert.Survey).Count]);

    private static byte[] Stamp(int width, int height, float[] pixels) =>
        FitsWriter.WriteImage(new FitsImage(width, height, pixels), gzip: true, level: CompressionLevel.Fastest);

    private static float[] Ramp(int n) => [.. Enumerable.Range(0, n).Select(i => (float)i)];

    private static void CheckImages(ReadOnlySpan<float> images, string source)
    {
        for (int c = 0; c < 3; c++)
        {
            var plane = images.Slice(c * 441, 441);
            float min = float.MaxValue, max = float.MinValue;
            foreach (float v in plane)
            {
                Assert.True(float.IsFinite(v), $"{source}: channel {c} holds {v}");
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            Assert.True(min == 0 && (max == 1 || max == 0), $"{source}: channel {c} spans [{min}, {max}], not [0, 1]");
        }
    }

    private static void CheckFeatures(Survey survey, ReadOnlySpan<float> features, string source)
    {
        var definitions = StampInput.FeatureDefinitions(survey);
        for (int i = 0; i < definitions.Count; i++)
        {
            var d = definitions[i];
            Assert.True(float.IsFinite(features[i]) && features[i] >= d.Min && features[i] <= d.Max, $"{source}: {d.Name} = {features[i]} outside [{d.Min}, {d.Max}]");
        }
    }
}

public sealed class FastGunzipTests
{
    [OracleFact]
    public void Libdeflate_inflates_every_real_ztf_stamp_to_the_bytes_gzipstream_gives_and_refuses_damage()
    {
        Assert.True(FastGunzip.IsAvailable, "libdeflate.so.0 (Debian libdeflate0) is not installed");
        int stamps = 0;
        foreach (var (_, alert) in RealAlerts.Ztf)
        {
            if (alert.Cutouts is not { } c) continue;
            for (int k = 0; k < 3; k++)
            {
                if (c[k] is not { } gz) continue;
                var fast = FastGunzip.TryInflatePooled(gz, out int length);
                Assert.NotNull(fast);
                Assert.Equal(Broker.Alerts.IO.Gzip.Inflate(gz), fast.AsSpan(0, length).ToArray());
                System.Buffers.ArrayPool<byte>.Shared.Return(fast);
                stamps++;
            }
        }
        Assert.Equal(619 * 3, stamps);
        var damaged = RealAlerts.CleanZtf.Cutouts!.Science!.ToArray();
        damaged.AsSpan(20, 40).Fill(0xAB);
        Assert.Null(FastGunzip.TryInflatePooled(damaged, out _));
        var flipped = RealAlerts.CleanZtf.Cutouts!.Science!.ToArray();
        flipped[^8] ^= 1; // the CRC-32
        Assert.Null(FastGunzip.TryInflatePooled(flipped, out _));
        Assert.Null(FastGunzip.TryInflatePooled(flipped.AsSpan(0, flipped.Length / 2), out _));
    }
}
