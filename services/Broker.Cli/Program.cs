using System.CommandLine;
using Broker.Cli.Commands;
using Broker.StepHost;

try
{
    // librdkafka.redist's library for every verb, before any Kafka call (KafkaNative says why).
    KafkaNative.Load();
}
catch (StepHostConfigurationException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Configuration;
}
var root = new RootCommand("Broker: a Kafka-based streaming alert broker for time-domain astronomy (ZTF, Rubin/LSST).");
foreach (var command in BrokerCommands.All()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
