using Broker.Alerts.Fits;

namespace Broker.Simulation;

/// <summary>Where a Rubin cutout sits: its corner on the detector, its centre and its orientation on the sky.</summary>
/// <param name="CutMinX">CUTMINX: detector column of the stamp's first pixel.</param>
/// <param name="CutMinY">CUTMINY: detector row of the stamp's first pixel.</param>
/// <param name="CrPix1">CRPIX1, 1-based pixel of the alert position.</param>
/// <param name="CrPix2">CRPIX2.</param>
/// <param name="RaDeg">CRVAL1, ICRS degrees.</param>
/// <param name="DecDeg">CRVAL2, ICRS degrees.</param>
/// <param name="RotPaDeg">ROTPA: position angle of the focal plane's +Y axis east of north, degrees.</param>
/// <param name="PixelScaleArcsec">Arcseconds per pixel.</param>
internal readonly record struct RubinStampPlacement(int CutMinX, int CutMinY, double CrPix1, double CrPix2, double RaDeg, double DecDeg, double RotPaDeg, double PixelScaleArcsec);

/// <summary>
/// Plain-FITS cutouts laid out as Rubin sends them (checked against the lsstcam alerts in ../shared/data, schema 9 and
/// 10): a BITPIX -32 primary image in nJy with CUTMINX/CUTMINY, ROTPA and a linear WCS (PCi_j, no CTYPE, as Rubin
/// writes it); an <c>UNCERT</c> extension with <c>UTYPE = 'VarianceUncertainty'</c> holding the per-pixel variance
/// (nJy², so no BUNIT); and a <c>PSFIMAGE</c> extension of the normalised PSF as BITPIX -64.
/// </summary>
internal static class RubinCutoutFits
{
    /// <summary>The cutout file: image (nJy), variance (nJy²) and PSF (sums to 1).</summary>
    public static byte[] Write(int n, ReadOnlySpan<float> image, ReadOnlySpan<float> variance, int psfSize, ReadOnlySpan<double> psf, in RubinStampPlacement p)
    {
        double s = p.PixelScaleArcsec / 3600, t = p.RotPaDeg * Math.PI / 180, c = Math.Cos(t), sn = Math.Sin(t);
        FitsCard[] primary =
        [
            FitsCard.Create("CUTMINX", (long)p.CutMinX),
            FitsCard.Create("CUTMINY", (long)p.CutMinY),
            FitsCard.Create("ROTPA", p.RotPaDeg, "Pos angle in deg of focal plane +Y wrt North"),
            FitsCard.Create("BUNIT", "nJy"),
            FitsCard.Create("WCSAXES", 2L, "Number of coordinate axes"),
            FitsCard.Create("CRPIX1", p.CrPix1, "Pixel coordinate of reference point"),
            FitsCard.Create("CRPIX2", p.CrPix2, "Pixel coordinate of reference point"),
            FitsCard.Create("PC1_1", -s * c, "Coordinate transformation matrix element"),
            FitsCard.Create("PC1_2", s * sn, "Coordinate transformation matrix element"),
            FitsCard.Create("PC2_1", s * sn, "Coordinate transformation matrix element"),
            FitsCard.Create("PC2_2", s * c, "Coordinate transformation matrix element"),
            FitsCard.Create("CDELT1", 1.0, "Coordinate increment at reference point"),
            FitsCard.Create("CDELT2", 1.0, "Coordinate increment at reference point"),
            FitsCard.Create("CRVAL1", p.RaDeg, "Coordinate value at reference point"),
            FitsCard.Create("CRVAL2", p.DecDeg, "Coordinate value at reference point"),
            FitsCard.Create("LATPOLE", 90.0, "[deg] Native latitude of celestial pole"),
            FitsCard.Create("MJDREF", 0.0, "[d] MJD of fiducial time"),
        ];
        return new FitsWriter()
            .AddImage(new FitsImage(n, n, image.ToArray()), cards: primary)
            .AddImage(new FitsImage(n, n, variance.ToArray()), "UNCERT", [FitsCard.Create("UTYPE", "VarianceUncertainty")])
            .AddImage64(psfSize, psfSize, psf.ToArray(), "PSFIMAGE")
            .ToBytes();
    }
}
