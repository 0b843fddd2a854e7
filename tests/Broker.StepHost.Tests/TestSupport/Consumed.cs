using System.Text;
using Confluent.Kafka;

namespace Broker.StepHost.Tests.TestSupport;

/// <summary>Consumed messages made by hand, for the host's parts tested without Kafka.</summary>
internal static class Consumed
{
    public static ConsumeResult<byte[], byte[]> Message(string topic, int partition, long offset, string? key = null, string value = "v", Headers? headers = null) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[], byte[]> { Key = key is null ? null! : Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes(value), Headers = headers ?? [] },
    };

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
