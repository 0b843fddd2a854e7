using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Broker.StepHost;

/// <summary>
/// Kafka header names Broker writes. Values are UTF-8 text so that any client (kcat, a notebook) can read them.
/// </summary>
public static class BrokerHeaders
{
    /// <summary>Prefix of the per-stage time stamps: <c>broker.time.ingest</c> = Unix microseconds when ingest produced the record.</summary>
    public const string TimePrefix = "broker.time.";

    /// <summary>Dead letters: the step that refused the message.</summary>
    public const string DeadLetterStep = "dlq.step";

    /// <summary>Dead letters: why, in words.</summary>
    public const string DeadLetterReason = "dlq.reason";

    /// <summary>Dead letters: the topic the original message was read from.</summary>
    public const string DeadLetterSourceTopic = "dlq.source.topic";

    /// <summary>Dead letters: its partition.</summary>
    public const string DeadLetterSourcePartition = "dlq.source.partition";

    /// <summary>Dead letters: its offset.</summary>
    public const string DeadLetterSourceOffset = "dlq.source.offset";

    /// <summary>
    /// Prefix of the input position a stage's output came from: <c>broker.source.ingest</c> = <c>partition:offset</c>
    /// of the message in ingest's input topic. A restarted instance reads it back from the end of its output topic to
    /// tell the outputs of a batch that was in flight at a crash (delivered, offsets not committed: a replay) from an
    /// alert that arrives again as new input (a duplicate).
    /// </summary>
    public const string SourcePrefix = "broker.source.";

    /// <summary>The header for the input position of a stage's output.</summary>
    public static string SourceHeader(string stage) => SourcePrefix + stage;

    /// <summary>UTF-8 bytes of <c>partition:offset</c>.</summary>
    public static byte[] Position(int partition, long offset)
    {
        Span<byte> text = stackalloc byte[32];
        Utf8Formatter.TryFormat(partition, text, out int n);
        text[n++] = (byte)':';
        Utf8Formatter.TryFormat(offset, text[n..], out int m);
        return text[..(n + m)].ToArray();
    }

    /// <summary>Parses a <see cref="Position"/> header; null when absent or malformed.</summary>
    public static (int Partition, long Offset)? ParsePosition(byte[]? value)
    {
        if (value is null) return null;
        int colon = Array.IndexOf(value, (byte)':');
        if (colon <= 0) return null;
        if (!Utf8Parser.TryParse(value.AsSpan(0, colon), out int partition, out int a) || a != colon) return null;
        var rest = value.AsSpan(colon + 1);
        if (!Utf8Parser.TryParse(rest, out long offset, out int b) || b != rest.Length) return null;
        return (partition, offset);
    }

    /// <summary>The header for a stage's time stamp.</summary>
    public static string TimeHeader(string stage) => TimePrefix + stage;

    /// <summary>Current time as Unix microseconds.</summary>
    public static long NowMicros() => (DateTimeOffset.UtcNow.Ticks - DateTimeOffset.UnixEpoch.Ticks) / 10;

    /// <summary>UTF-8 bytes of a number (its decimal digits), formatted straight into bytes.</summary>
    public static byte[] Number(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        return digits[..n].ToArray();
    }

    /// <summary>UTF-8 bytes of text.</summary>
    public static byte[] Text(string value) => Encoding.UTF8.GetBytes(value);

    /// <summary>Parses a number header; null when absent or not a number.</summary>
    public static long? ParseNumber(byte[]? value) =>
        value is not null && long.TryParse(Encoding.UTF8.GetString(value), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null;
}
