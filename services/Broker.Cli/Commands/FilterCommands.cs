using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Filter;
using Broker.Filters;
using Broker.StepHost;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker filter check FILE</c> and <c>broker filter test (FILE | --where EXPR) --alerts PATH...</c> (issue 15):
/// validate a filter definition, and backtest a filter on alert files. A filter that does not compile is exit code
/// 2 with <c>line L, column C: message</c> on standard error (docs/filters.md). <c>broker filter publish|delete|list</c>
/// put definitions on the registry topic <c>broker.filters</c> that every filter service follows, take them off, and
/// show it (docs/filters.md, "The registry").
/// </summary>
internal static class FilterCommands
{
    public static Command Create()
    {
        var command = new Command("filter", "User filters (docs/filters.md): check a definition, backtest one on alert files, publish, delete and list the registry.");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Test());
        command.Subcommands.Add(Publish());
        command.Subcommands.Add(Delete());
        command.Subcommands.Add(List());
        return command;
    }

    private static Command Check()
    {
        var file = new Argument<string>("file") { Description = "A filter definition (.yaml)" };
        var command = new Command("check", "Validates a filter definition: YAML keys and values, then the where expression against the alert schema. Prints its name, version, topic and fields; exit 2 with 'line L, column C: message' when it is not valid.");
        command.Arguments.Add(file);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            string path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CliUsageException($"no such file: {path}");
            FilterDefinition definition;
            FilterExpression compiled;
            try
            {
                definition = FilterDefinition.Load(path);
                compiled = definition.Compile();
            }
            catch (FilterCompileException e)
            {
                Console.Error.WriteLine(e.Message);
                return CliRun.UsageExitCode;
            }
            Console.WriteLine($"{path}: ok");
            Console.WriteLine($"  name     {definition.Name}");
            Console.WriteLine($"  version  {definition.Version}");
            Console.WriteLine($"  topic    {definition.Topic}");
            Console.WriteLine($"  content  {FilterDefinition.ContentName(definition.Content)}");
            Console.WriteLine($"  quota    {(definition.QuotaPerHour is { } q ? q.ToString(CultureInfo.InvariantCulture) + " alerts per hour" : "none")}");
            Console.WriteLine($"  active   {(definition.Active ? "true" : "false")}");
            Console.WriteLine($"  fields   {string.Join(", ", compiled.Fields.Select(f => f.Field.Path).Order(StringComparer.Ordinal))}");
            return 0;
        }));
        return command;
    }

    private static Command Test()
    {
        var file = new Argument<string?>("file") { Description = "A filter definition (.yaml); or give --where", Arity = ArgumentArity.ZeroOrOne };
        var where = new Option<string?>("--where") { Description = "A where expression to test instead of a definition file" };
        var alerts = new Option<string[]>("--alerts")
        {
            Description = "Alert files, folders or .tar.gz bundles: survey alerts (ZTF, Rubin) or Broker's own records (alerts.avro from broker run)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var schemas = new Option<string?>("--schemas")
        {
            Description = "Folder of Rubin schemas for Confluent-framed alerts (default: ../shared/data/lsst/schema when it exists)",
        };
        var command = new Command("test", "Backtests a filter on alert files: prints the id of every matching alert (ZTF candid, Rubin diaSourceId) one per line on standard output and a summary on standard error.");
        command.Arguments.Add(file);
        command.Options.Add(where);
        command.Options.Add(alerts);
        command.Options.Add(schemas);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            string? path = parse.GetValue(file), text = parse.GetValue(where);
            if ((path is null) == (text is null)) throw new CliUsageException("give a filter definition FILE or --where 'EXPR', one of them");
            if (path is not null && !File.Exists(path)) throw new CliUsageException($"no such file: {path}");
            var paths = parse.GetValue(alerts) ?? [];
            foreach (var p in paths)
            {
                if (!File.Exists(p) && !Directory.Exists(p)) throw new CliUsageException($"--alerts: no such file or folder: {p}");
            }
            string? schemaFolder = parse.GetValue(schemas);
            if (schemaFolder is null && RepositoryPaths.SharedData is { } shared && Directory.Exists(Path.Combine(shared, "lsst", "schema")))
                schemaFolder = Path.Combine(shared, "lsst", "schema");
            ISchemaRegistry? registry = AlertInputOptions.Registry(schemaFolder, null);

            string label;
            FilterExpression filter;
            try
            {
                if (path is not null)
                {
                    var definition = FilterDefinition.Load(path);
                    filter = definition.Compile();
                    label = $"filter {definition.Name} (version {definition.Version})";
                }
                else
                {
                    filter = FilterExpression.Compile(text!);
                    label = "--where";
                }
            }
            catch (FilterCompileException e)
            {
                Console.Error.WriteLine(e.Message);
                return CliRun.UsageExitCode;
            }

            long read = 0, matched = 0, unknown = 0, bad = 0;
            var row = filter.CreateRow();
            var output = Console.Out;
            foreach (var item in BacktestAlerts.Read(paths, registry))
            {
                ct.ThrowIfCancellationRequested();
                if (item.Alert is null)
                {
                    bad++;
                    AlertInputOptions.ReportBadInput(item.Index == 0 ? item.Source : $"{item.Source} record {item.Index}", item.Error ?? "unreadable");
                    continue;
                }
                read++;
                filter.Load(item.Alert, row);
                byte r = filter.Evaluate(row);
                if (r == Tri.True)
                {
                    matched++;
                    output.WriteLine(item.Alert.AlertId.ToString(CultureInfo.InvariantCulture));
                }
                else if (r == Tri.Unknown)
                {
                    unknown++;
                }
            }
            output.Flush();
            Console.Error.WriteLine($"{label}: {matched} of {read} alerts matched ({read - matched - unknown} false, {unknown} unknown)" +
                (bad > 0 ? $"; {bad} inputs could not be read" : ""));
            return bad > 0 ? 1 : 0;
        }));
        return command;
    }

    private static FilterRegistryClient Client(string? bootstrap) =>
        new(KafkaSettings.ForBootstrap(KafkaCliOptions.Resolve(bootstrap)), logger: CliRun.KafkaLog);

    /// <summary>A registry operation whose refusal (<see cref="FilterRegistryException"/>) is a usage error.</summary>
    private static T Registry<T>(Func<T> operation)
    {
        try
        {
            return operation();
        }
        catch (FilterRegistryException e)
        {
            throw new CliUsageException(e.Message);
        }
    }

    private static void Registry(Action operation) => Registry(() =>
    {
        operation();
        return 0;
    });

    private static Command Publish()
    {
        var files = new Argument<string[]>("file") { Description = "Filter definitions (.yaml)", Arity = ArgumentArity.OneOrMore };
        var partitions = new Option<int?>("--partitions") { Description = "Partitions of a filter topic that has to be created (default: those of broker.classified, else 1)" };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var command = new Command("publish", "Puts filter definitions on the registry topic broker.filters, where every filter service picks them up without a restart; makes each filter's topic if missing. Every file is checked first: if any does not compile, nothing is published (exit 2).");
        command.Arguments.Add(files);
        command.Options.Add(partitions);
        command.Options.Add(bootstrap);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            var paths = parse.GetValue(files) ?? [];
            int? n = parse.GetValue(partitions);
            if (n is < 1) throw new CliUsageException("--partitions must be at least 1");
            var definitions = new List<FilterDefinition>();
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            bool bad = false;
            foreach (var path in paths)
            {
                if (!File.Exists(path)) throw new CliUsageException($"no such file: {path}");
                try
                {
                    var definition = FilterDefinition.Load(path);
                    definition.Compile();
                    if (!names.TryAdd(definition.Name, path))
                        throw new FilterCompileException(new(1, 1), $"two files name filter '{definition.Name}' (also {names[definition.Name]})");
                    definitions.Add(definition);
                }
                catch (FilterCompileException e)
                {
                    Console.Error.WriteLine($"{path}: {e.Message}");
                    bad = true;
                }
            }
            if (bad) return CliRun.UsageExitCode;
            var client = Client(parse.GetValue(bootstrap));
            foreach (var definition in definitions)
            {
                ct.ThrowIfCancellationRequested();
                var p = Registry(() => client.Publish(definition, n));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.Name}  version {p.Version}  topic {p.Topic} ({p.Partitions} partition{(p.Partitions == 1 ? "" : "s")}{(p.TopicCreated ? ", created" : "")})"));
            }
            return 0;
        }));
        return command;
    }

    private static Command Delete()
    {
        var names = new Argument<string[]>("name") { Description = "Filter names", Arity = ArgumentArity.OneOrMore };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var command = new Command("delete", "Takes filters off the registry topic broker.filters (a tombstone per filter); the filter services stop running them. Their topics are kept for their subscribers. A name the registry does not hold is exit 2 and nothing is deleted.");
        command.Arguments.Add(names);
        command.Options.Add(bootstrap);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            var given = parse.GetValue(names) ?? [];
            var client = Client(parse.GetValue(bootstrap));
            var listing = client.List();
            var missing = given.Where(g => !listing.Snapshot.Filters.Any(f => f.Name == g) && !listing.Refused.Any(r => r.Name == g)).ToList();
            if (missing.Count > 0)
                throw new CliUsageException($"no filter{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} in {client.Topic}; nothing deleted (see broker filter list)");
            foreach (var name in given.Distinct(StringComparer.Ordinal))
            {
                ct.ThrowIfCancellationRequested();
                Registry(() => client.Delete(name));
                Console.WriteLine($"{name}  deleted");
            }
            return 0;
        }));
        return command;
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private static Command List()
    {
        var json = new Option<bool>("--json") { Description = "Write the registry as JSON" };
        var bootstrap = KafkaCliOptions.Bootstrap();
        var command = new Command("list", "Shows the registry topic broker.filters as a filter service starting now would read it: each filter's name, version, active, content, quota, owner and description, and the records it refuses.");
        command.Options.Add(json);
        command.Options.Add(bootstrap);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            var listing = Client(parse.GetValue(bootstrap)).List();
            var filters = listing.Snapshot.Filters;
            if (parse.GetValue(json))
            {
                var document = new
                {
                    filters = filters.Select(f => new
                    {
                        name = f.Name, version = f.Version, active = f.Active, content = FilterDefinition.ContentName(f.Content),
                        quota = f.QuotaPerHour, owner = f.Owner, description = f.Description, topic = f.Topic, where = f.Where,
                    }),
                    refused = listing.Refused.Select(r => new { name = r.Name, error = r.Error, keptVersion = r.Version }),
                };
                Console.WriteLine(JsonSerializer.Serialize(document, IndentedJson));
                return 0;
            }
            if (filters.Count == 0) Console.WriteLine("no filters");
            else
            {
                string[] header = ["name", "version", "active", "content", "quota", "owner", "description"];
                var rows = filters.Select(f => new[]
                {
                    f.Name, f.Version, f.Active ? "true" : "false", FilterDefinition.ContentName(f.Content),
                    f.QuotaPerHour is { } q ? q.ToString(CultureInfo.InvariantCulture) : "-", f.Owner, f.Description,
                }).ToList();
                var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
                string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i])));
                Console.WriteLine(Line(header));
                foreach (var r in rows) Console.WriteLine(Line(r));
            }
            foreach (var r in listing.Refused)
                Console.WriteLine($"refused {r.Name}: {r.Error} ({(r.Version is { } v ? "keeps version " + v : "not running")})");
            return 0;
        }));
        return command;
    }
}
