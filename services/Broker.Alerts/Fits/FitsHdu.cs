namespace Broker.Alerts.Fits;

/// <summary>One header and data unit (FITS Standard 4.0 §3.3, §3.4): its header, array shape and, for a 2-D image, the pixels.</summary>
public sealed class FitsHdu
{
    internal FitsHdu(int index, FitsHeader header, int bitpix, int[] axes, string? extensionType, bool isImage, FitsImage? image)
    {
        Index = index;
        Header = header;
        Bitpix = bitpix;
        Axes = axes;
        ExtensionType = extensionType;
        IsImage = isImage;
        Image = image;
    }

    /// <summary>Position in the file: 0 for the primary HDU.</summary>
    public int Index { get; }

    /// <summary>The header cards.</summary>
    public FitsHeader Header { get; }

    /// <summary>BITPIX: 8, 16, 32, 64 (integers) or -32, -64 (IEEE floats), §4.4.1.1.</summary>
    public int Bitpix { get; }

    /// <summary>NAXIS1, NAXIS2, ... in FITS order (NAXIS1 varies fastest); empty when NAXIS = 0.</summary>
    public IReadOnlyList<int> Axes { get; }

    /// <summary>The XTENSION value (<c>IMAGE</c>, <c>BINTABLE</c>, ...) with trailing spaces removed; null for the primary HDU.</summary>
    public string? ExtensionType { get; }

    /// <summary>EXTNAME (Rubin: <c>UNCERT</c>, <c>PSFIMAGE</c>), or null.</summary>
    public string? Name => Header.GetString("EXTNAME");

    /// <summary>
    /// True for the primary HDU (unless it holds random groups, §6) and IMAGE extensions (§7.1): HDUs whose data is
    /// an array of pixels.
    /// </summary>
    public bool IsImage { get; }

    /// <summary>
    /// The pixels, scaled by BSCALE and BZERO, with BLANK as NaN; null unless this is an image HDU with exactly two
    /// non-empty axes.
    /// </summary>
    public FitsImage? Image { get; }
}
