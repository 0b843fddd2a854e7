using System.CommandLine;
using Broker.Stages;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary><c>broker dev-kafka</c>: librdkafka's mock cluster with Broker's topics, until stopped.</summary>
internal static class DevKafkaCommand
{
    public static Command Create()
    {
        var partitions = new Option<int>("--partitions") { Description = "Partitions per topic.", DefaultValueFactory = _ => 4 };
        var brokers = new Option<int>("--brokers") { Description = "Brokers in the mock cluster.", DefaultValueFactory = _ => 1 };
        var topics = new Option<string[]>("--topic") { Description = "Extra topics to create (repeatable); Broker's topology is always created.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("dev-kafka",
            "Start a Kafka for development and tests (librdkafka's mock cluster: memory only, each partition keeps only its newest 5 MB or 100,000 messages), create Broker's topics, print the bootstrap address, run until Ctrl+C.");
        command.Options.Add(partitions);
        command.Options.Add(brokers);
        command.Options.Add(topics);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            int n = parse.GetValue(partitions), b = parse.GetValue(brokers);
            if (n is < 1 or > 1000) throw new CliUsageException("--partitions must be between 1 and 1000");
            if (b is < 1 or > 9) throw new CliUsageException("--brokers must be between 1 and 9");
            using var cluster = new MockCluster(b);
            cluster.CreateTopology(n);
            foreach (var t in parse.GetValue(topics) ?? []) cluster.CreateTopic(t, n);
            using var file = DevClusterFile.Publish(cluster.Bootstrap);
            using var signals = ShutdownSignals.Listen(ct, file.Remove);
            Console.Out.WriteLine(cluster.Bootstrap);
            Console.Out.Flush();
            Console.Error.WriteLine($"Mock Kafka cluster at {cluster.Bootstrap} ({b} broker{(b > 1 ? "s" : "")}); topics, {n} partitions each: {string.Join(", ", BrokerStages.All.Topics.Concat(parse.GetValue(topics) ?? []))}.");
            Console.Error.WriteLine($"Other broker verbs find it through {file.Path}; or export BROKER_KAFKA_BOOTSTRAP_SERVERS={cluster.Bootstrap}");
            Console.Error.WriteLine("Limits: memory only (gone when this process stops); each partition keeps only its newest 5 MB or 100,000 messages. Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, signals.Token);
            }
            catch (OperationCanceledException)
            {
                // Stopped by the user: the normal end.
            }
            return 0;
        }));
        return command;
    }
}
