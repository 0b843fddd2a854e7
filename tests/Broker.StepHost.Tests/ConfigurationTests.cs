using System.Reflection;
using Broker.StepHost;
using Microsoft.Extensions.Configuration;

namespace Broker.StepHost.Tests;

public class ConfigurationTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.ToDictionary(v => v.Key, v => (string?)v.Value)).Build();

    [Fact]
    public void Options_bind_from_their_section_and_librdkafka_settings_pass_through_by_name()
    {
        var config = Config(("StepHost:InputTopic", "a"), ("StepHost:OutputTopic", "b"), ("StepHost:BatchSize", "42"),
            ("Kafka:bootstrap.servers", "h:1"), ("KafkaProducer:linger.ms", "7"), ("KafkaConsumer:fetch.max.bytes", "1000"));
        var options = StepHostApp.Options<StepHostOptions>(config, StepHostOptions.Section);
        options.Validate();
        Assert.Equal(42, options.BatchSize);
        Assert.Equal("a.dlq", options.EffectiveDeadLetterTopic);
        Assert.Equal("broker-x", options.EffectiveGroupId("x"));
        var kafka = StepHostApp.KafkaSettings(config);
        Assert.Equal("h:1", kafka.Bootstrap);
        Assert.Equal("7", KafkaClients.ProducerConfig(kafka).Get("linger.ms"));
        var consumer = KafkaClients.ConsumerConfig(kafka, "g");
        Assert.Equal("1000", consumer.Get("fetch.max.bytes"));
        Assert.False(consumer.EnableAutoOffsetStore);
        Assert.Equal(Confluent.Kafka.PartitionAssignmentStrategy.CooperativeSticky, consumer.PartitionAssignmentStrategy);
    }

    [Fact]
    public void A_value_of_the_wrong_type_fails_with_a_message_naming_the_setting()
    {
        var ex = Assert.Throws<StepHostConfigurationException>(() =>
            StepHostApp.Options<StepHostOptions>(Config(("StepHost:BatchSize", "lots")), StepHostOptions.Section));
        Assert.Contains("BatchSize", ex.Message);
    }

    [Fact]
    public void A_misspelt_setting_is_refused_rather_than_ignored()
    {
        var ex = Assert.Throws<StepHostConfigurationException>(() =>
            StepHostApp.Options<StepHostOptions>(Config(("StepHost:BatchSzie", "10")), StepHostOptions.Section));
        Assert.Contains("BatchSzie", ex.Message);
    }

    [Theory]
    [InlineData("BatchSize", "0", "BatchSize 0")]
    [InlineData("AutoOffsetReset", "middle", "AutoOffsetReset 'middle'")]
    [InlineData("BatchWaitMs", "-1", "BatchWaitMs -1")]
    [InlineData("CommitRetrySeconds", "0", "CommitRetrySeconds 0")]
    [InlineData("DestinationTopics:filter.sn", " ", "DestinationTopics:filter.sn is empty")]
    public void Out_of_range_values_fail_validation_with_one_message(string key, string value, string expected)
    {
        var options = StepHostApp.Options<StepHostOptions>(Config(("StepHost:InputTopic", "a"), ("StepHost:OutputTopic", "b"), ("StepHost:" + key, value)), StepHostOptions.Section);
        var ex = Assert.Throws<StepHostConfigurationException>(options.Validate);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void A_destination_goes_to_the_topic_of_its_name_unless_DestinationTopics_names_another()
    {
        var options = StepHostApp.Options<StepHostOptions>(Config(("StepHost:InputTopic", "a"), ("StepHost:OutputTopic", "b"),
            ("StepHost:DestinationTopics:filter.sn", "prod.filter.sn"), ("StepHost:CommitRetrySeconds", "12")), StepHostOptions.Section);
        options.Validate();
        Assert.Equal(12, options.CommitRetrySeconds);
        Assert.Equal("b", options.TopicOf(Destination.Default));
        Assert.Equal("prod.filter.sn", options.TopicOf("filter.sn"));
        Assert.Equal("slim", options.TopicOf("slim"));
        Assert.Equal(30, new StepHostOptions().CommitRetrySeconds);
    }

    [Fact]
    public void Kafka_settings_come_from_BROKER_KAFKA_environment_variables()
    {
        Environment.SetEnvironmentVariable("BROKER_KAFKA_SOCKET_TIMEOUT_MS", "1234");
        try
        {
            var config = StepHostApp.BuildConfiguration(Assembly.GetExecutingAssembly(), []);
            Assert.Equal("1234", StepHostApp.KafkaSettings(config).Common["socket.timeout.ms"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("BROKER_KAFKA_SOCKET_TIMEOUT_MS", null);
        }
    }

    [Fact]
    public void A_bad_librdkafka_value_fails_when_the_client_is_built_with_one_clear_message()
    {
        var kafka = KafkaSettings.ForBootstrap("127.0.0.1:1");
        kafka.Producer["batch.num.messages"] = "many";
        var ex = Assert.Throws<StepHostConfigurationException>(() => KafkaClients.Producer(kafka));
        Assert.Contains("\"batch.num.messages\"", ex.Message);
    }

    [Fact]
    public void Reasons_are_grouped_by_their_first_line()
    {
        Assert.Equal("bad thing", StepCounters.ReasonKey("bad thing\nstack"));
        Assert.Equal("(no reason)", StepCounters.ReasonKey(null));
        var c = new StepCounters("s");
        c.AddIn(3);
        c.Count(StepOutcome.DeadLettered, "x\n1");
        c.Count(StepOutcome.DeadLettered, "x\n2");
        c.Count(StepOutcome.Emitted);
        Assert.Equal(2, c.DeadLetterReasons["x"]);
        Assert.Equal(1, c.Out);
    }

    [Fact]
    public void Ids_do_not_split_reasons_and_the_groups_are_bounded()
    {
        Assert.Equal("alert #: cutout science missing", StepCounters.ReasonKey("alert 1154308030015010004: cutout science missing"));
        var c = new StepCounters("s");
        for (int i = 0; i < StepCounters.MaxReasons + 10; i++) c.Count(StepOutcome.DeadLettered, $"reason {(char)('a' + i % 26)}{(char)('a' + i / 26)} at offset {i}");
        Assert.Equal(StepCounters.MaxReasons + 1, c.DeadLetterReasons.Count);
        Assert.Equal(StepCounters.MaxReasons + 10, c.DeadLetterReasons.Values.Sum());
    }
}
