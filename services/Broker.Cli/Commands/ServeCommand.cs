using System.CommandLine;
using Broker.Ingest;

namespace Broker.Cli.Commands;

/// <summary><c>broker serve STEP</c>: one service against a Kafka cluster, as its own process would run it.</summary>
internal static class ServeCommand
{
    /// <summary>The services <c>serve</c> can run, by step name.</summary>
    private static readonly Dictionary<string, Func<string[], IDictionary<string, string?>, CancellationToken, Task<int>>> Services = new(StringComparer.Ordinal)
    {
        ["ingest"] = IngestService.RunAsync,
    };

    public static Command Create()
    {
        var step = new Argument<string>("step") { Description = $"The service: {string.Join(", ", Services.Keys)}." };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var set = new Option<string[]>("--set")
        {
            Description = "Any configuration value as Section:Key=value (repeatable), e.g. StepHost:BatchSize=200, Kafka:linger.ms=10, Ingest:SchemaFolder=DIR.",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("serve", "Run one Broker service (consume, step, produce, commit) against Kafka until SIGTERM or Ctrl+C. Exit 0 on a clean stop, 1 on a fatal error, 2 on bad configuration.");
        command.Arguments.Add(step);
        command.Options.Add(bootstrap);
        command.Options.Add(set);
        command.SetAction((parse, ct) => KafkaCliOptions.GuardAsync(async () =>
        {
            string name = parse.GetValue(step)!;
            if (!Services.TryGetValue(name, out var run)) throw new CliUsageException($"unknown step '{name}'; known: {string.Join(", ", Services.Keys)}");
            var overrides = new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["Kafka:bootstrap.servers"] = KafkaCliOptions.Resolve(parse.GetValue(bootstrap)),
            };
            foreach (var s in parse.GetValue(set) ?? [])
            {
                int eq = s.IndexOf('=');
                if (eq <= 0) throw new CliUsageException($"--set '{s}': expected Section:Key=value");
                overrides[s[..eq]] = s[(eq + 1)..];
            }
            return await run([], overrides, ct);
        }));
        return command;
    }
}
