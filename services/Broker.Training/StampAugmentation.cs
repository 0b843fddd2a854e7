namespace Broker.Training;

/// <summary>
/// Training augmentation: each stamp turned by a random multiple of 90 degrees and mirrored or not (the eight
/// symmetries of the square), the same for its three channels. Stamps have no preferred orientation on the sky
/// (ALeRCE trains with rotations too); the network's cyclic pooling already averages the four turns, so what the
/// augmentation adds is mostly the mirror images.
/// </summary>
public static class StampAugmentation
{
    /// <summary>Writes <paramref name="source"/> [C, S, S] turned by <paramref name="quarterTurns"/> x 90 degrees after an optional mirror into <paramref name="destination"/>.</summary>
    public static void Apply(ReadOnlySpan<float> source, Span<float> destination, int channels, int side, int quarterTurns, bool mirror)
    {
        int plane = side * side;
        for (int i = 0; i < side; i++)
        {
            for (int j = 0; j < side; j++)
            {
                // Destination (i, j) takes the source pixel that the inverse transform sends it to.
                int si = i, sj = j;
                for (int k = 0; k < quarterTurns; k++) (si, sj) = (sj, side - 1 - si);
                if (mirror) sj = side - 1 - sj;
                for (int c = 0; c < channels; c++) destination[c * plane + i * side + j] = source[c * plane + si * side + sj];
            }
        }
    }
}
