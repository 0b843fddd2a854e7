using System.Buffers.Binary;
using System.Text;
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
    private const int Block = FitsFile.BlockSize;

    /// <summary>The cutout file: image (nJy), variance (nJy²) and PSF (sums to 1).</summary>
    public static byte[] Write(int n, ReadOnlySpan<float> image, ReadOnlySpan<float> variance, int psfSize, ReadOnlySpan<double> psf, in RubinStampPlacement p)
    {
        double s = p.PixelScaleArcsec / 3600, t = p.RotPaDeg * Math.PI / 180, c = Math.Cos(t), sn = Math.Sin(t);
        FitsCard[] primary =
        [
            FitsCard.Create("SIMPLE", true, "conforms to FITS standard"),
            FitsCard.Create("BITPIX", -32L, "array data type"),
            FitsCard.Create("NAXIS", 2L, "number of array dimensions"),
            FitsCard.Create("NAXIS1", (long)n),
            FitsCard.Create("NAXIS2", (long)n),
            FitsCard.Create("EXTEND", true),
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
        FitsCard[] uncert =
        [
            FitsCard.Create("XTENSION", "IMAGE", "Image extension"),
            FitsCard.Create("BITPIX", -32L, "array data type"),
            FitsCard.Create("NAXIS", 2L, "number of array dimensions"),
            FitsCard.Create("NAXIS1", (long)n),
            FitsCard.Create("NAXIS2", (long)n),
            FitsCard.Create("PCOUNT", 0L, "number of parameters"),
            FitsCard.Create("GCOUNT", 1L, "number of groups"),
            FitsCard.Create("UTYPE", "VarianceUncertainty"),
            FitsCard.Create("EXTNAME", "UNCERT", "extension name"),
        ];
        FitsCard[] psfCards =
        [
            FitsCard.Create("XTENSION", "IMAGE", "Image extension"),
            FitsCard.Create("BITPIX", -64L, "array data type"),
            FitsCard.Create("NAXIS", 2L, "number of array dimensions"),
            FitsCard.Create("NAXIS1", (long)psfSize),
            FitsCard.Create("NAXIS2", (long)psfSize),
            FitsCard.Create("PCOUNT", 0L, "number of parameters"),
            FitsCard.Create("GCOUNT", 1L, "number of groups"),
            FitsCard.Create("EXTNAME", "PSFIMAGE", "extension name"),
        ];
        int imageBytes = Padded(n * n * 4), psfBytes = Padded(psfSize * psfSize * 8);
        var bytes = new byte[HeaderBytes(primary) + imageBytes + HeaderBytes(uncert) + imageBytes + HeaderBytes(psfCards) + psfBytes];
        var span = bytes.AsSpan();
        int pos = Header(span, primary);
        pos += Floats(span[pos..], image, imageBytes);
        pos += Header(span[pos..], uncert);
        pos += Floats(span[pos..], variance, imageBytes);
        pos += Header(span[pos..], psfCards);
        // §5.3: big-endian IEEE doubles; the zero padding is already there.
        for (int i = 0; i < psf.Length; i++) BinaryPrimitives.WriteDoubleBigEndian(span.Slice(pos + 8 * i, 8), psf[i]);
        return bytes;
    }

    private static int Padded(int bytes) => (bytes + Block - 1) / Block * Block;

    private static int HeaderBytes(FitsCard[] cards) => Padded((cards.Length + 1) * FitsCard.Length);

    private static int Header(Span<byte> target, FitsCard[] cards)
    {
        int length = HeaderBytes(cards);
        // §4.4.1: the header ends with END and is padded to the block with spaces.
        target[..length].Fill((byte)' ');
        for (int i = 0; i < cards.Length; i++) Encoding.ASCII.GetBytes(cards[i].ToString(), target.Slice(i * FitsCard.Length, FitsCard.Length));
        "END"u8.CopyTo(target[(cards.Length * FitsCard.Length)..]);
        return length;
    }

    private static int Floats(Span<byte> target, ReadOnlySpan<float> pixels, int padded)
    {
        for (int i = 0; i < pixels.Length; i++) BinaryPrimitives.WriteSingleBigEndian(target.Slice(4 * i, 4), pixels[i]);
        return padded;
    }
}
