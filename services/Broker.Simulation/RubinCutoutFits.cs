using System.Buffers.Binary;
using System.Runtime.InteropServices;
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
    /// <summary>
    /// The three cutout files of one alert, each with the same variance (nJy²), PSF (sums to 1) and placement. They
    /// differ only in the primary image's pixels, so the file is serialised once, with the difference image, and the
    /// science and template files are copies of it with their pixels written over the primary data.
    /// </summary>
    public static (byte[] Difference, byte[] Science, byte[] Template) Write(
        int n, float[] difference, float[] science, float[] template, float[] variance, int psfSize, double[] psf, in RubinStampPlacement p)
    {
        byte[] diff = File(n, difference, variance, psfSize, psf, p);
        int offset = PrimaryDataOffset(diff);
        return (diff, WithPrimaryPixels(diff, offset, science), WithPrimaryPixels(diff, offset, template));
    }

    private static byte[] File(int n, float[] image, float[] variance, int psfSize, double[] psf, in RubinStampPlacement p)
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
            .AddImage(new FitsImage(n, n, image), cards: primary)
            .AddImage(new FitsImage(n, n, variance), "UNCERT", [FitsCard.Create("UTYPE", "VarianceUncertainty")])
            .AddImage64(psfSize, psfSize, psf, "PSFIMAGE")
            .ToBytes();
    }

    // The primary header ends with its END card and is padded to a whole 2880-byte block, where the data starts
    // (FITS Standard 4.0 §3.3.1, §4.4.1).
    private static int PrimaryDataOffset(byte[] file)
    {
        for (int card = 0; card + FitsCard.Length <= file.Length; card += FitsCard.Length)
        {
            if (file.AsSpan(card, 8).SequenceEqual("END     "u8))
                return (card + FitsCard.Length + FitsFile.BlockSize - 1) / FitsFile.BlockSize * FitsFile.BlockSize;
        }
        throw new InvalidOperationException("the FITS header has no END card");
    }

    // A copy of the file with other BITPIX -32 pixels in the primary HDU: big-endian IEEE singles (§5.3), as
    // FitsWriter writes them; the padding after them is the same zeros.
    private static byte[] WithPrimaryPixels(byte[] file, int offset, float[] pixels)
    {
        var copy = (byte[])file.Clone();
        var data = copy.AsSpan(offset, pixels.Length * sizeof(float));
        MemoryMarshal.AsBytes(pixels.AsSpan()).CopyTo(data);
        if (BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<byte, int>(data);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        return copy;
    }
}
