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
    public async Task With_CreateDestinationTopics_off_the_start_up_check_covers_every_destination_topic()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out", "fan.a" }) cluster.CreateTopic(t, 1);
        var options = new StepHostOptions { InputTopic = "in", OutputTopic = "out", StartupTimeoutSeconds = 3, CreateDestinationTopics = false, DestinationTopics = { [FanOutStep.C] = "renamed.c" } };
        var host = new KafkaStepHost<int, int>(new FanOutStep(), new IntCodec(), new IntCodec(), options, TestTopics.Kafka(cluster.Bootstrap), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Contains("topics fan.b, renamed.c not found", ex.Message);
        Assert.Equal(["out", "fan.a", "fan.b", "renamed.c"], host.OutputTopics);
    }

    [Fact]
    public void A_destination_the_step_declares_while_running_is_added_and_one_it_does_not_is_still_refused()
    {
        var step = new GrowingStep();
        var table = DestinationTable.For(step, d => "t." + d);
        var added = new List<int>();
        table.Added += added.Add;
        var routes = new List<(int, int)>();
        Assert.StartsWith("misrouted: step grow routed a result to the unknown destination 'late'", table.Resolve(StepResult<int>.Route(Destination.To("late", 1)), routes));
        step.Declared.Add("late");
        routes.Clear();
        Assert.Null(table.Resolve(StepResult<int>.Route(Destination.To("late", 1), Destination.To("early", 2)), routes));
        Assert.Equal([(2, 1), (1, 2)], routes);
        Assert.Equal([2], added);
        Assert.Equal([Destination.Default, "early", "late"], table.Names);
        Assert.Equal("t.late", table.Topics[2]);
        // A handler that cannot set the destination up refuses it, and it is tried again next time.
        step.Declared.Add("broken");
        table.Added += d => { if (table.Names[d] == "broken") throw new InvalidOperationException("no topic"); };
        routes.Clear();
        Assert.Equal("destination broken of step grow could not be added: no topic", table.Resolve(StepResult<int>.Route(Destination.To("broken", 1)), routes));
        Assert.Equal(3, table.Count);
    }

    [Fact]
    public async Task Over_kafka_a_destination_declared_while_running_gets_its_topic_made_and_its_outputs_counted()
    {
        using var cluster = new MockCluster();
        foreach (var t in new[] { "in", "in.dlq", "out" }) cluster.CreateTopic(t, 2);
        const int Inputs = 200;
        TestTopics.Produce(cluster.Bootstrap, "in", Enumerable.Range(0, Inputs).Select(i => new Confluent.Kafka.Message<byte[], byte[]>
        {
            Key = System.Text.Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Value = System.Text.Encoding.UTF8.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        }));
        // From the input 100 on, the step declares "late" and routes every input there too.
        var step = new GrowingStep { DeclareLateFrom = 100 };
        var options = new StepHostOptions { InputTopic = "in", OutputTopic = "out", BatchSize = 20, BatchWaitMs = 20, MetricsIntervalSeconds = 0, StartupTimeoutSeconds = 10 };
        await using var host = new KafkaStepHost<int, int>(step, new IntCodec(), new IntCodec(), options, TestTopics.Kafka(cluster.Bootstrap), NullLogger.Instance);
        var counters = await HostRuns.RunUntilAsync(host, Inputs);

        Assert.Equal((long)Inputs, counters.In);
        Assert.Equal(0, counters.DeadLettered);
        var late = TestTopics.Read(cluster.Bootstrap, "late", l => l.Count >= Inputs - 100, TimeSpan.FromSeconds(30));
        // Inputs are consumed in partition order, not value order: every one routed there arrives, once.
        var values = late.Select(m => int.Parse(System.Text.Encoding.UTF8.GetString(m.Message.Value), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(values.Count, values.Distinct().Count());
        Assert.Equal(step.RoutedLate.Order(), values.Order());
        Assert.NotEmpty(values);
        // Made by the host (on the mock cluster, which has no CreateTopics, with its default partition count).
        Assert.True(KafkaClients.ListTopics(TestTopics.Kafka(cluster.Bootstrap), TimeSpan.FromSeconds(5)).ContainsKey("late"));
        var perDestination = host.Counters.Destinations.ToDictionary(d => d.Topic, d => d.Out);
        Assert.Equal(values.Count, perDestination["late"]);
        Assert.Equal((long)Inputs, perDestination["out"]);
        Assert.Equal(["out", "early", "late"], host.OutputTopics);
    }
}

/// <summary>Routes every input to the default and to "early"; once <see cref="DeclareLateFrom"/> inputs are seen, declares "late" and routes there too.</summary>
internal sealed class GrowingStep : IStep<int, int>, IRoutingStep
{
    private int _seen;

    public string Name => "grow";

    public List<string> Declared { get; } = ["early"];

    public int DeclareLateFrom { get; init; } = int.MaxValue;

    public List<int> RoutedLate { get; } = [];

    public IReadOnlyCollection<string> Destinations => Declared;

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<int> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<int>[batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            if (_seen++ == DeclareLateFrom) Declared.Add("late");
            bool late = Declared.Contains("late");
            if (late) RoutedLate.Add(batch[i]);
            results[i] = late
                ? StepResult<int>.Route(Destination.To(Destination.Default, batch[i]), Destination.To("early", batch[i]), Destination.To("late", batch[i]))
                : StepResult<int>.Route(Destination.To(Destination.Default, batch[i]), Destination.To("early", batch[i]));
        }
        return ValueTask.FromResult<IReadOnlyList<StepResult<int>>>(results);
    }
}
