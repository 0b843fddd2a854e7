using System.CommandLine;
using Broker.Stages;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary><c>broker serve STEP</c>: one service against a Kafka cluster, as its own process would run it; the services are the stage registry's.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        string known = string.Join(", ", BrokerStages.All.Names);
        var step = new Argument<string>("step") { Description = $"The service: {known}." };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var set = SettingsOption.Create("StepHost:BatchSize=200, Kafka:linger.ms=10, Ingest:SchemaFolder=DIR");
        var command = new Command("serve", "Run one Broker service (consume, step, produce, commit) against Kafka until SIGTERM or Ctrl+C. Exit 0 on a clean stop, 1 on a fatal error, 2 on bad configuration.");
        command.Arguments.Add(step);
        command.Options.Add(bootstrap);
        command.Options.Add(set);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            string name = parse.GetValue(step)!;
            var stage = BrokerStages.All.Find(name) ?? throw new CliUsageException($"unknown step '{name}'; known: {known}");
            var overrides = SettingsOption.Parse(parse.GetValue(set), new(StringComparer.OrdinalIgnoreCase)
            {
                ["Kafka:bootstrap.servers"] = KafkaCliOptions.Resolve(parse.GetValue(bootstrap)),
            });
            return await StepHostApp.RunAsync(stage, [], overrides, ct);
        }));
        return command;
    }
}
