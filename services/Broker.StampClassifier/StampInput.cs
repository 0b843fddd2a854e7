using System.Globalization;
using Broker.Alerts.Fits;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Sky;

namespace Broker.StampClassifier;

/// <summary>
/// One metadata feature of the stamp classifier: its name (as the manifest lists it), the range it is clipped to,
/// and the value it takes when the alert lacks it or it is not finite.
/// </summary>
/// <param name="Name">The name in <see cref="StampInput.FeatureNames"/> and in the manifest.</param>
/// <param name="Min">The lower clip.</param>
/// <param name="Max">The upper clip.</param>
/// <param name="Fill">The value of a missing, NaN or infinite feature (inside [Min, Max]).</param>
/// <param name="Source">Where it comes from, for docs/stamps.md.</param>
public sealed record StampFeature(string Name, double Min, double Max, double Fill, string Source)
{
    internal Func<Alert, double?> Read { get; init; } = _ => null;

    /// <summary>The feature of <paramref name="alert"/>, filled and clipped.</summary>
    public float ValueOf(Alert alert)
    {
        double? raw = Read(alert);
        double v = raw is { } r && double.IsFinite(r) ? r : Fill;
        return (float)Math.Clamp(v, Min, Max);
    }
}

/// <summary>
/// The stamp classifier's input from one alert: the three cutouts (science, template, difference) cropped to the
/// central 21 x 21 pixels and normalised, channels first [3, 21, 21], and the survey's metadata features, clipped.
/// </summary>
/// <remarks>
/// <para>
/// Images, as ALeRCE's stamp classifier prepares them (Carrasco-Davis et al. 2021, AJ 162, 231, §3.1; the
/// deployed pipeline's <c>image_crop_at_center</c>, <c>image_normalize_by_image</c>, <c>image_nan_to_num</c>, in
/// that order): each stamp is decoded (ZTF: gzipped FITS; Rubin: plain FITS whose first image HDU with data, the
/// image plane, is used, not the variance or PSF planes), the central 21 x 21 pixels are taken (rows and columns
/// from <c>(n − 21) / 2</c>, integer division: pixels 21..41 of a 63-pixel ZTF stamp, 4..24 of a 30-pixel Rubin
/// one), each image is min-max normalised over its finite pixels, <c>(v − min) / (max − min)</c>, and NaN becomes 0.
/// An image whose finite pixels are all equal becomes all 0 (ALeRCE's 0/0 is NaN, then 0). A crop with no finite
/// pixel is refused ("NaN only"), as is a stamp smaller than 21 x 21 in either axis, so edge-of-CCD ZTF stamps
/// (63 x 48 and the like) are still used, cropped at their centre, where ALeRCE drops every stamp not 63 x 63.
/// </para>
/// <para>
/// Rubin stamps are not resampled: their 0.2" pixels make the 21 x 21 crop 4.2" across (ZTF's 1.01" make 21"), which
/// still holds about six FWHM of Rubin's 0.7" seeing, and the Rubin model is a separate network trained on
/// simulated Rubin stamps (models/stamp-classifier/README), so it never sees ZTF's scale. Rubin's stamps are in
/// nJy, but min-max normalisation removes the unit.
/// </para>
/// <para>
/// Features: ALeRCE's 23 for ZTF, in its order (<c>stamp_clf.py</c> FEATURES_NAMES_LIST), clipped as its
/// FEATURES_CLIPPING_DICT does where it gives a bound (sgscore and distpsnr from −1, fwhm to 10, ndethist to 20,
/// ncovhist to 3000, chinr to [−1, 15], sharpnr to [−1, 1.5], non_detections to 2000) and to the quantity's
/// physical range elsewhere; ZTF's "missing" value −999 thus becomes the lower bound, which is also the fill of a
/// field that is absent or NaN. Two departures: <c>isdiffpos</c> is 1 for a positive subtraction ('t') and 0
/// otherwise (ALeRCE codes 'f' as 1), and <c>non_detections</c> is ALeRCE's <c>ncovhist − ndethist</c>, not the
/// count of the alert's upper limits (those span only 30 days, and Rubin sends none). Rubin: 17 features from its
/// DiaSource and DiaObject that play the same parts (<see cref="FeatureDefinitions"/>). The features are not
/// standardised here: the trained network's first layer does that with its training statistics, so the manifest
/// carries none.
/// </para>
/// <para>
/// Allocation: the outputs go into the caller's spans; the FITS reader allocates one pixel array per stamp and its
/// header cards, and inflates ZTF's gzip into a pooled buffer.
/// </para>
/// </remarks>
public static class StampInput
{
    /// <summary>The side of the crop the network takes.</summary>
    public const int Side = 21;

    /// <summary>Channels: science, template, difference.</summary>
    public const int Channels = 3;

    /// <summary>Floats of the image input per alert: 3 x 21 x 21.</summary>
    public const int ImageLength = Channels * Side * Side;

    private const int Plane = Side * Side;

    /// <summary>The features of a survey, in the order the network takes them.</summary>
    /// <exception cref="ArgumentException">A survey without a stamp model (<see cref="Survey.Unknown"/>).</exception>
    public static IReadOnlyList<StampFeature> FeatureDefinitions(Survey survey) => survey switch
    {
        Survey.Ztf => ZtfFeatures,
        Survey.Lsst => LsstFeatures,
        _ => throw new ArgumentException($"survey {survey} has no stamp-classifier features", nameof(survey)),
    };

    /// <summary>The feature names of a survey, in order: what the manifest's <c>features</c> input must list.</summary>
    /// <exception cref="ArgumentException">A survey without a stamp model (<see cref="Survey.Unknown"/>).</exception>
    public static IReadOnlyList<string> FeatureNames(Survey survey) => survey switch
    {
        Survey.Ztf => ZtfNames,
        Survey.Lsst => LsstNames,
        _ => throw new ArgumentException($"survey {survey} has no stamp-classifier features", nameof(survey)),
    };

    /// <summary>Whether a survey has a stamp model's input (ZTF and Rubin).</summary>
    public static bool Supports(Survey survey) => survey is Survey.Ztf or Survey.Lsst;

    /// <summary>
    /// Writes the input of <paramref name="alert"/>: <paramref name="images"/> gets <see cref="ImageLength"/> floats
    /// [3, 21, 21] (science, template, difference), <paramref name="features"/> the survey's
    /// <see cref="FeatureNames"/> count. Returns null on success, else why the alert cannot be classified (one
    /// line: "no cutouts", "template cutout: 40x63, needs at least 21x21", "difference cutout: NaN only in the
    /// central 21x21", "science cutout: corrupt: ..."); the spans' contents are then undefined.
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short.</exception>
    public static string? TryWrite(Alert alert, Span<float> images, Span<float> features)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!Supports(alert.Survey)) return $"survey {alert.Survey.ToString().ToUpperInvariant()} has no stamp model";
        int n = FeatureDefinitions(alert.Survey).Count;
        if (images.Length < ImageLength) throw new ArgumentException($"images holds {images.Length} floats, needs {ImageLength}", nameof(images));
        if (features.Length < n) throw new ArgumentException($"features holds {features.Length} floats, needs {n}", nameof(features));
        var decoded = new DecodedStamps();
        return decoded.Decode(alert.Cutouts) ?? WriteImages(decoded, images) ?? WriteFeatures(alert, features);
    }

    /// <summary>The features of <paramref name="alert"/> into <paramref name="features"/>; null, or why not (a survey without a model).</summary>
    /// <exception cref="ArgumentException">The span is too short.</exception>
    public static string? WriteFeatures(Alert alert, Span<float> features)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (!Supports(alert.Survey)) return $"survey {alert.Survey.ToString().ToUpperInvariant()} has no stamp model";
        var definitions = FeatureDefinitions(alert.Survey);
        if (features.Length < definitions.Count) throw new ArgumentException($"features holds {features.Length} floats, needs {definitions.Count}", nameof(features));
        for (int i = 0; i < definitions.Count; i++) features[i] = definitions[i].ValueOf(alert);
        return null;
    }

    /// <summary>The three decoded stamps cropped and normalised into <paramref name="images"/> [3, 21, 21]; null, or why not ("template cutout: 40x63, ...").</summary>
    /// <exception cref="ArgumentException">The span is too short, or a stamp was not decoded.</exception>
    public static string? WriteImages(in DecodedStamps stamps, Span<float> images)
    {
        if (images.Length < ImageLength) throw new ArgumentException($"images holds {images.Length} floats, needs {ImageLength}", nameof(images));
        for (int c = 0; c < Channels; c++)
        {
            var image = stamps[c] ?? throw new ArgumentException($"the {SurveyAlertMapper.CutoutKinds[c]} stamp is not decoded", nameof(stamps));
            string? why = WriteCrop(image.Pixels, image.Width, image.Height, images.Slice(c * Plane, Plane));
            if (why is not null) return $"{SurveyAlertMapper.CutoutKinds[c]} cutout: {why}";
        }
        return null;
    }

    /// <summary>One stamp (gzipped or plain FITS) decoded; the image, or null with why not.</summary>
    internal static FitsImage? Decode(byte[]? stamp, out string? why)
    {
        why = null;
        if (stamp is null)
        {
            why = "absent";
            return null;
        }
        if (stamp.Length == 0)
        {
            why = "empty";
            return null;
        }
        try
        {
            // The fast inflater first (FastGunzip); whatever it cannot inflate goes to the full reader, which says why.
            if (Gzip.IsGzip(stamp) && FastGunzip.TryInflatePooled(stamp, out int length) is { } fits)
            {
                try
                {
                    return FitsFile.ReadFirstImage(fits.AsSpan(0, length));
                }
                catch (FitsFormatException)
                {
                    // Fall through: the full reader's message names the gzip sizes too.
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(fits);
                }
            }
            return FitsFile.ReadFirstImage(stamp);
        }
        catch (FitsFormatException e)
        {
            why = "corrupt: " + e.Message;
            return null;
        }
    }

    /// <summary>
    /// The central 21 x 21 of <paramref name="pixels"/> (row-major, <paramref name="height"/> rows of
    /// <paramref name="width"/>), min-max normalised, NaN to 0, into <paramref name="destination"/>; null, or why not.
    /// </summary>
    public static string? WriteCrop(ReadOnlySpan<float> pixels, int width, int height, Span<float> destination)
    {
        if (width < Side || height < Side)
            return $"{width.ToString(CultureInfo.InvariantCulture)}x{height.ToString(CultureInfo.InvariantCulture)}, needs at least {Side}x{Side}";
        if (pixels.Length < width * height) throw new ArgumentException($"{width}x{height} needs {width * height} pixels, got {pixels.Length}", nameof(pixels));
        int x0 = (width - Side) / 2, y0 = (height - Side) / 2;
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int r = 0; r < Side; r++)
        {
            var src = pixels.Slice((y0 + r) * width + x0, Side);
            var dst = destination.Slice(r * Side, Side);
            for (int x = 0; x < Side; x++)
            {
                float v = src[x];
                dst[x] = v;
                // Infinities are treated as NaN: a FITS float stamp holds them only where something broke.
                if (!float.IsFinite(v)) continue;
                if (v < min) min = v;
                if (v > max) max = v;
            }
        }
        if (min > max) return $"NaN only in the central {Side}x{Side}";
        // Divided, not multiplied by a reciprocal, so that the maximum is exactly 1 as numpy's division makes it.
        float range = max - min;
        var plane = destination[..Plane];
        for (int i = 0; i < plane.Length; i++)
        {
            float v = plane[i];
            plane[i] = float.IsFinite(v) && range > 0 ? (v - min) / range : 0;
        }
        return null;
    }

    // --- Features ----------------------------------------------------------------------------------------------

    private static double? Field(Alert a, string key) => a.SurveyFields.TryGetValue(key, out var v) ? v switch
    {
        double d => d,
        long l => l,
        int i => i,
        float f => f,
        bool b => b ? 1 : 0,
        _ => null,
    } : null;

    private static double? EclipticLatitude(Alert a) => Ecliptic(a).LatDeg;

    private static double? EclipticLongitude(Alert a) => Ecliptic(a).LonDeg;

    private static (double LonDeg, double LatDeg) Ecliptic(Alert a)
    {
        // ALeRCE: ephem.Ecliptic of a J2000 equatorial position, i.e. the ecliptic and equinox of J2000.
        var (x, y, z) = Coordinates.ToUnitVector(a.Ra, a.Dec);
        var (ex, ey, ez) = Coordinates.EquatorialToEcliptic(x, y, z);
        return Coordinates.FromVector(ex, ey, ez);
    }

    private static StampFeature F(string name, double min, double max, string source, Func<Alert, double?> read, double? fill = null) =>
        new(name, min, max, fill ?? min, source) { Read = read };

    private static double? ZtfNonDetections(Alert a) =>
        Field(a, "candidate.ncovhist") is { } cov && Field(a, "candidate.ndethist") is { } det ? cov - det : null;

    private static readonly StampFeature[] ZtfFeatures =
    [
        F("sgscore1", -1, 1, "candidate.sgscore1 (PS1 star/galaxy score of the nearest source; -999 none)", a => Field(a, "candidate.sgscore1")),
        F("distpsnr1", -1, 30, "candidate.distpsnr1, arcsec (-999 none; ZTF looks 30\" out)", a => Field(a, "candidate.distpsnr1")),
        F("sgscore2", -1, 1, "candidate.sgscore2", a => Field(a, "candidate.sgscore2")),
        F("distpsnr2", -1, 30, "candidate.distpsnr2, arcsec", a => Field(a, "candidate.distpsnr2")),
        F("sgscore3", -1, 1, "candidate.sgscore3", a => Field(a, "candidate.sgscore3")),
        F("distpsnr3", -1, 30, "candidate.distpsnr3, arcsec", a => Field(a, "candidate.distpsnr3")),
        F("isdiffpos", 0, 1, "1 for a positive subtraction (candidate.isdiffpos 't' or '1'), else 0", a => a.IsPositive ? 1 : 0),
        F("fwhm", 0, 10, "candidate.fwhm, pixels (ALeRCE clips at 10)", a => Field(a, "candidate.fwhm")),
        F("magpsf", 10, 25, "candidate.magpsf, AB mag", a => a.Mag ?? Field(a, "candidate.magpsf"), fill: 25),
        F("sigmapsf", 0, 1, "candidate.sigmapsf, mag", a => a.MagErr ?? Field(a, "candidate.sigmapsf"), fill: 1),
        F("ra", 0, 360, "alert ra, degrees", a => a.Ra),
        F("dec", -90, 90, "alert dec, degrees", a => a.Dec),
        F("diffmaglim", 10, 25, "candidate.diffmaglim, AB mag (5-sigma limit of the difference image)", a => Field(a, "candidate.diffmaglim"), fill: 20),
        F("classtar", 0, 1, "candidate.classtar (SExtractor star/galaxy)", a => Field(a, "candidate.classtar")),
        F("ndethist", 0, 20, "candidate.ndethist (ALeRCE clips at 20)", a => Field(a, "candidate.ndethist")),
        F("ncovhist", 0, 3000, "candidate.ncovhist (ALeRCE clips at 3000)", a => Field(a, "candidate.ncovhist")),
        F("ecl_lat", -90, 90, "ecliptic latitude (J2000), degrees", EclipticLatitude),
        F("ecl_long", 0, 360, "ecliptic longitude (J2000), degrees", EclipticLongitude),
        F("gal_lat", -90, 90, "Galactic latitude, degrees", a => Coordinates.EquatorialToGalactic(a.Ra, a.Dec).BDeg),
        F("gal_long", 0, 360, "Galactic longitude, degrees", a => Coordinates.EquatorialToGalactic(a.Ra, a.Dec).LDeg),
        F("non_detections", 0, 2000, "candidate.ncovhist - candidate.ndethist (ALeRCE's approximation; clipped at 2000)", ZtfNonDetections),
        F("chinr", -1, 15, "candidate.chinr of the nearest reference source (-999 none; ALeRCE clips to [-1, 15])", a => Field(a, "candidate.chinr")),
        F("sharpnr", -1, 1.5, "candidate.sharpnr (-999 none; ALeRCE clips to [-1, 1.5])", a => Field(a, "candidate.sharpnr")),
    ];

    // Rubin (LSST DPDD, alert schemas 9-11): what plays the part of ALeRCE's features. extendedness stands for the
    // star/galaxy scores; snr and the PSF magnitude and its error for magpsf/sigmapsf; nDiaSources for ndethist;
    // the forced photometry of the last year (prvDiaForcedSources) for ncovhist, and those of |S/N| < 5 for the
    // non-detections Rubin does not send; trailLength and isDipole for what ZTF's fwhm, chinr and sharpnr tell of
    // shape. Rubin has no PS1 cross-match, FWHM or diffmaglim in the alert.
    private static double? RubinMag(double? flux) => flux is { } f && f != 0 && double.IsFinite(f) ? Photometry.FluxToMag(f) : null;

    private static double? RubinMagErr(Alert a) =>
        a.Flux != 0 && double.IsFinite(a.Flux) && double.IsFinite(a.FluxErr) ? Photometry.FluxErrToMagErr(a.Flux, a.FluxErr) : null;

    private static double? RubinNonDetections(Alert a)
    {
        int n = 0;
        foreach (var p in a.ForcedPhotometry)
        {
            if (p.Flux is not { } f || p.FluxErr is not { } e || !(e > 0)) continue;
            if (Math.Abs(f / e) < 5) n++;
        }
        return n;
    }

    private static readonly StampFeature[] LsstFeatures =
    [
        F("extendedness", 0, 1, "diaSource.extendedness (0 point source, 1 extended)", a => Field(a, "diaSource.extendedness"), fill: 0.5),
        F("isdiffpos", 0, 1, "1 when diaSource.psfFlux > 0, else 0", a => a.IsPositive ? 1 : 0),
        F("snr", 0, 1000, "diaSource.snr", a => Field(a, "diaSource.snr")),
        F("magpsf", 14, 30, "AB mag of |diaSource.psfFlux| (nJy, zero point 31.4)", a => RubinMag(a.Flux), fill: 30),
        F("sigmapsf", 0, 1, "1.0857 psfFluxErr / |psfFlux|, mag", RubinMagErr, fill: 1),
        F("ra", 0, 360, "diaSource.ra, degrees", a => a.Ra),
        F("dec", -90, 90, "diaSource.dec, degrees", a => a.Dec),
        F("ecl_lat", -90, 90, "ecliptic latitude (J2000), degrees", EclipticLatitude),
        F("ecl_long", 0, 360, "ecliptic longitude (J2000), degrees", EclipticLongitude),
        F("gal_lat", -90, 90, "Galactic latitude, degrees", a => Coordinates.EquatorialToGalactic(a.Ra, a.Dec).BDeg),
        F("gal_long", 0, 360, "Galactic longitude, degrees", a => Coordinates.EquatorialToGalactic(a.Ra, a.Dec).LDeg),
        F("ndiasources", 0, 100, "diaObject.nDiaSources (else 1 + the previous DiaSources)", a => Field(a, "diaObject.nDiaSources") ?? 1 + a.Detections.Count),
        F("nforced", 0, 3000, "the previous forced measurements (prvDiaForcedSources)", a => a.ForcedPhotometry.Count),
        F("non_detections", 0, 2000, "previous forced measurements of |S/N| < 5", RubinNonDetections),
        F("trail_length", 0, 100, "diaSource.trailLength, arcsec (0 when not fitted)", a => Field(a, "diaSource.trailLength")),
        F("is_dipole", 0, 1, "diaSource.isDipole", a => Field(a, "diaSource.isDipole")),
        F("template_mag", 14, 30, "AB mag of |diaSource.templateFlux| (30 when none)", a => RubinMag(Field(a, "diaSource.templateFlux")), fill: 30),
    ];

    private static readonly string[] ZtfNames = [.. ZtfFeatures.Select(f => f.Name)];
    private static readonly string[] LsstNames = [.. LsstFeatures.Select(f => f.Name)];
}

/// <summary>
/// An alert's three stamps decoded once (science, template, difference), for every network that reads them: the
/// stamp classifier's crop (<see cref="StampInput.WriteImages"/>) and braai's padded input.
/// </summary>
public struct DecodedStamps
{
    private FitsImage? _science, _template, _difference;

    /// <summary>The stamp of kind <paramref name="index"/> (0 science, 1 template, 2 difference), or null when not decoded.</summary>
    public readonly FitsImage? this[int index] => index switch
    {
        0 => _science,
        1 => _template,
        2 => _difference,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "cutout kinds are 0..2"),
    };

    /// <summary>Decodes the three stamps; null, or why not ("no cutouts", "template cutout: absent", "science cutout: corrupt: ...").</summary>
    public string? Decode(Cutouts? cutouts)
    {
        _science = _template = _difference = null;
        if (cutouts is null) return Classification.NoCutouts;
        for (int c = 0; c < StampInput.Channels; c++)
        {
            var image = StampInput.Decode(cutouts[c], out string? why);
            if (image is null) return $"{SurveyAlertMapper.CutoutKinds[c]} cutout: {why}";
            switch (c)
            {
                case 0: _science = image; break;
                case 1: _template = image; break;
                default: _difference = image; break;
            }
        }
        return null;
    }
}
