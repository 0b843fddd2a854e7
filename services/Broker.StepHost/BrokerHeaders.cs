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
