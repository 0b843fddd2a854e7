namespace Broker.Alerts.IO;

/// <summary>
/// What one input may cost a reader of alert files or messages, so that a damaged or hostile input (a gzip bomb, a
/// multi-gigabyte file of zeros) is refused as bad input naming the limit instead of exhausting memory (issue 8).
/// Real alerts are far below the defaults: a ZTF packet is 60-100 kB, a Rubin alert with years of history and its
/// cutouts a few MB, Fink's 31-alert transfer file 1.7 MB.
/// </summary>
public sealed record AlertLimits
{
    /// <summary>The default of both limits: 64 MiB.</summary>
    public const int DefaultBytes = 64 << 20;

    /// <summary>The limits every reader uses unless told otherwise.</summary>
    public static AlertLimits Default { get; } = new();

    /// <summary>
    /// The most bytes one gzip stream (a <c>.avro.gz</c>, a gzipped FITS cutout), one tar member, or one decompressed
    /// block of an Avro container may inflate to. An archive is streamed, so this bounds each member, not the archive.
    /// </summary>
    public int MaxInflatedBytes { get; init; } = DefaultBytes;

    /// <summary>
    /// The most bytes of one message read whole: a file that is neither gzip nor tar (Avro containers are read from
    /// memory), or a Kafka message. Gzip and tar files of any size are streamed instead.
    /// </summary>
    public int MaxMessageBytes { get; init; } = DefaultBytes;

    /// <summary>Checks that both limits are positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is zero or negative.</exception>
    public AlertLimits Validated()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxInflatedBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxMessageBytes);
        return this;
    }

    /// <summary>A byte count as people read it (<c>64 MiB</c>, <c>1.5 GiB</c>, <c>900 bytes</c>), for messages naming a limit.</summary>
    public static string Describe(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GiB ({bytes} bytes)",
        >= 1 << 20 when bytes % (1 << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1 << 20 => $"{bytes / (double)(1 << 20):0.#} MiB ({bytes} bytes)",
        _ => $"{bytes} bytes",
    };
}
