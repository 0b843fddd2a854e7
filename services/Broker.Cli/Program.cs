using System.CommandLine;
using Broker.Cli.Commands;

var root = new RootCommand("Broker: a Kafka-based streaming alert broker for time-domain astronomy (ZTF, Rubin/LSST).");
foreach (var command in BrokerCommands.All()) root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
