using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.StepHost.Tests;

/// <summary>
/// The process runs on librdkafka.redist's library and no other, whether or not Debian's librdkafka1/librdkafka-dev
/// is installed (the redist's default build needs libsasl2.so.3 and would fall back to a system copy; KafkaNative).
/// </summary>
public class KafkaNativeTests
{
    [Fact]
    public void The_loaded_librdkafka_is_the_redists_2_16_0_and_the_only_one_mapped_after_producing_and_consuming()
    {
        if (!OperatingSystem.IsLinux()) return;
        Assert.Equal("2.16.0", KafkaNative.Load());
        Assert.Equal("2.16.0", Library.VersionString);
        Assert.Equal(0x021000, Library.Version >> 8);
        Assert.NotNull(KafkaNative.Path);
        Assert.Equal(KafkaNative.LinuxX64File, Path.GetFileName(KafkaNative.Path));

        // Exercise every way the process binds librdkafka (mock cluster P/Invoke, producer, consumer, admin) so that
        // a fallback to a system library would have been mapped by now; consuming is what 2.0.2 could not do.
        using var cluster = new MockCluster();
        cluster.CreateTopic("native", 1);
        var settings = KafkaSettings.ForBootstrap(cluster.Bootstrap);
        using (var producer = KafkaClients.Producer(settings))
        {
            producer.Produce("native", new Message<byte[], byte[]> { Key = [1], Value = [2, 3] });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(1, KafkaClients.CheckCluster(settings, ["native"], TimeSpan.FromSeconds(10))["native"]);
        var config = KafkaClients.ConsumerConfig(settings, "native-test");
        using (var consumer = KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(config).Build(), "consumer"))
        {
            consumer.Assign(new TopicPartitionOffset("native", 0, Offset.Beginning));
            var result = consumer.Consume(TimeSpan.FromSeconds(10));
            Assert.NotNull(result);
            Assert.Equal(new byte[] { 2, 3 }, result.Message.Value);
            consumer.Close();
        }

        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length == 6 && fields[5].Contains("rdkafka", StringComparison.Ordinal))
            .Select(fields => fields[5].Trim())
            .Distinct()
            .ToList();
        Assert.Equal([Path.GetFullPath(KafkaNative.Path!)], mapped);
    }

    [Fact]
    public void Loading_again_returns_the_same_library_without_registering_a_second_resolver()
    {
        string first = KafkaNative.Load();
        string? path = KafkaNative.Path;
        Assert.Equal(first, KafkaNative.Load());
        Assert.Equal(path, KafkaNative.Path);
    }

    [Theory]
    [InlineData(0x020002ff, "2.16.0", "librdkafka 2.0.2 is older than Confluent.Kafka 2.16.0 needs")] // Debian 12's librdkafka1
    [InlineData(0x020f09ff, "2.16.0", "librdkafka 2.15.9 is older")]
    [InlineData(0x010903ff, "2.16.0", "librdkafka 1.9.3 is older")]
    [InlineData(0x021000ff, "2.16.0", null)]
    [InlineData(0x021001ff, "2.16.0", null)]
    [InlineData(0x030000ff, "2.16.0", null)]
    [InlineData(0x020002ff, "2.0.2.0", null)]
    public void A_library_older_than_the_client_is_refused_with_one_line_naming_both_versions(int library, string client, string? expected)
    {
        string? problem = KafkaNative.TooOld(library, Version.Parse(client));
        if (expected is null)
        {
            Assert.Null(problem);
            return;
        }
        Assert.NotNull(problem);
        Assert.StartsWith(expected, problem);
        Assert.DoesNotContain('\n', problem);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("runtimes/linux-x64/native")] // no RuntimeIdentifier: the redist's folders are kept
    [InlineData("")] // built for linux-x64: native assets beside the assemblies
    public void The_redists_linux_x64_library_is_found_in_either_output_layout(string? folder)
    {
        string root = Directory.CreateTempSubdirectory("kafka-native").FullName;
        try
        {
            // The default build sits beside it in the redist and must never be chosen.
            Directory.CreateDirectory(Path.Combine(root, "runtimes", "linux-x64", "native"));
            File.WriteAllBytes(Path.Combine(root, "runtimes", "linux-x64", "native", "librdkafka.so"), []);
            string? expected = null;
            if (folder is not null)
            {
                expected = Path.Combine(root, folder, KafkaNative.LinuxX64File);
                File.WriteAllBytes(expected, []);
            }
            Assert.Equal(expected is null ? null : Path.GetFullPath(expected), KafkaNative.FindLinuxX64(root) is { } found ? Path.GetFullPath(found) : null);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
