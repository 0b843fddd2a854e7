namespace Broker.Alerts.Avro;

/// <summary>
/// One growing <see cref="AvroWriter"/> per thread, for encoding a value into an array of its exact size: the value
/// is written into the thread's buffer and copied out once, instead of into a fresh writer that grows (copying, and
/// past 85 kB on the large object heap) for every alert with cutouts.
/// </summary>
/// <example>
/// <code>
/// var w = AvroScratchWriter.Rent();
/// try
/// {
///     codec.Encode(value, w);
///     return w.ToArray();
/// }
/// finally
/// {
///     AvroScratchWriter.Return(w);
/// }
/// </code>
/// </example>
public static class AvroScratchWriter
{
    // A Rubin alert with its three cutouts is about 110 kB: start there, so the buffer grows at most once or twice.
    private const int InitialCapacity = 1 << 17;

    // An outsized buffer is not kept alive on the thread after an unusually large value.
    private const int MaxKeptLength = 1 << 22;

    [ThreadStatic]
    private static AvroWriter? t_writer;

    /// <summary>
    /// The calling thread's writer, empty. Hand it back with <see cref="Return"/> on the same thread; until then a
    /// nested <see cref="Rent"/> gets a writer of its own, so encoders may nest.
    /// </summary>
    public static AvroWriter Rent()
    {
        var w = t_writer;
        if (w is null) return new AvroWriter(InitialCapacity);
        t_writer = null;
        w.Reset();
        return w;
    }

    /// <summary>Gives a writer from <see cref="Rent"/> back to the calling thread (dropped when it holds more than 4 MB).</summary>
    public static void Return(AvroWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (writer.Length <= MaxKeptLength) t_writer = writer;
    }
}
