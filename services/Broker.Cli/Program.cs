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
// `broker train ...` runs the training program as a child process with every later argument as written (its own
// parser and help), before System.CommandLine could claim an option such as --help for the `train` verb.
if (args.Length > 0 && args[0] == TrainCommand.Name) return TrainCommand.Forward(args[1..]);
var root = new RootCommand("Broker: a Kafka-based streaming alert broker for time-domain astronomy (ZTF, Rubin/LSST).");
foreach (var command in BrokerCommands.All()) root.Subcommands.Add(command);
var parse = root.Parse(args);
// Every usage error is one line and exit code 2, whether the parser finds it (an unparseable --batch-size) or a
// verb does (a --batch-size out of range); System.CommandLine's own answer is the whole help and exit code 1.
if (parse.Errors.Count > 0) return CliRun.UsageError(parse);
return await parse.InvokeAsync();
