namespace Broker.Alerts.Fits;

/// <summary>
/// A two-dimensional image as 32-bit floats, row-major in storage order: the first row in the file comes first,
/// as in astropy's <c>hdu.data</c> of numpy shape (NAXIS2, NAXIS1). FITS puts pixel (1, 1) at the first stored
/// position (FITS Standard 4.0 §3.3.2, NAXIS1 varying fastest), which viewers draw at the bottom left.
/// Undefined pixels are NaN.
/// </summary>
public sealed class FitsImage
{
    /// <summary>An image over <paramref name="pixels"/>, which it takes without copying.</summary>
    /// <exception cref="ArgumentException">The sizes are not positive or do not match the pixel count.</exception>
    public FitsImage(int width, int height, float[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if ((long)width * height != pixels.Length)
            throw new ArgumentException($"{width}x{height} image needs {(long)width * height} pixels, got {pixels.Length}", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>Columns: NAXIS1, the axis that varies fastest in the file.</summary>
    public int Width { get; }

    /// <summary>Rows: NAXIS2.</summary>
    public int Height { get; }

    /// <summary>Width × Height pixels, row-major, first stored row first.</summary>
    public float[] Pixels { get; }

    /// <summary>The pixels of row <paramref name="row"/> (0 = first stored row).</summary>
    public Span<float> Row(int row)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)Height, nameof(row));
        return Pixels.AsSpan(row * Width, Width);
    }
}
