using Broker.StepHost;
using Broker.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.StepHost.Tests;

public class RoutingTests
{
    private static readonly DestinationTable Table = new("fan", ["a", "b"], d => d);

    private static (string? Reason, List<(int Destination, int Value)> Routes) Resolve(StepResult<int> result)
    {
        var routes = new List<(int, int)>();
        return (Table.Resolve(result, routes), routes);
    }

    [Fact]
    public void Emit_goes_to_the_default_destination_and_Route_to_each_destination_named_with_its_own_value()
    {
        var (emitted, to) = Resolve(StepResult<int>.Emit(7));
        Assert.Null(emitted);
        Assert.Equal([(0, 7)], to);
        var (reason, routes) = Resolve(StepResult<int>.Route(Destination.To("b", 2), Destination.To(Destination.Default, 0), Destination.To("a", 1)));
        Assert.Null(reason);
        Assert.Equal([(2, 2), (0, 0), (1, 1)], routes);
        Assert.Equal([Destination.Default, "a", "b"], Table.Names);
    }

    [Fact]
    public void A_result_routed_nowhere_is_filtered()
    {
        var r = StepResult<int>.Route();
        Assert.Equal(StepOutcome.Filtered, r.Outcome);
        Assert.Equal(StepResult<int>.NoDestination, r.Reason);
    }

    [Theory]
    [InlineData("z", "misrouted: step fan routed a result to the unknown destination 'z' (its destinations: a, b)")]
    [InlineData("a", "misrouted: step fan routed a result twice to the destination 'a'")]
    public void An_unknown_destination_or_one_named_twice_is_a_step_bug_with_a_reason_for_the_dead_letter(string second, string expected)
    {
        var (reason, _) = Resolve(StepResult<int>.Route(Destination.To("a", 1), Destination.To(second, 2)));
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void Two_destinations_on_one_topic_are_refused()
    {
        var ex = Assert.Throws<StepHostConfigurationException>(() => new DestinationTable("fan", ["a", "b"], d => d == "b" ? "a" : d));
        Assert.Contains("destinations a and b of step fan both go to topic a", ex.Message);
    }

    [Fact]
    public async Task DestinationTopics_naming_no_destination_of_the_step_is_refused_before_connecting()
    {
        var options = new StepHostOptions { InputTopic = "in", OutputTopic = "out", DestinationTopics = { ["fan.q"] = "q" } };
        var host = new KafkaStepHost<int, int>(new FanOutStep(), new IntCodec(), new IntCodec(), options, KafkaSettings.ForBootstrap("127.0.0.1:1"), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("StepHost:DestinationTopics names fan.q, not destinations of step fan (its destinations: fan.a, fan.b, fan.c)", ex.Message);
    }

    [Fact]
    public async Task The_start_up_check_covers_every_destination_topic()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out", "fan.a" }) cluster.CreateTopic(t, 1);
        var options = new StepHostOptions { InputTopic = "in", OutputTopic = "out", StartupTimeoutSeconds = 3, DestinationTopics = { [FanOutStep.C] = "renamed.c" } };
        var host = new KafkaStepHost<int, int>(new FanOutStep(), new IntCodec(), new IntCodec(), options, TestTopics.Kafka(cluster.Bootstrap), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("topics fan.b, renamed.c not found", ex.Message);
        Assert.Equal(["out", "fan.a", "fan.b", "renamed.c"], host.OutputTopics);
    }
}
