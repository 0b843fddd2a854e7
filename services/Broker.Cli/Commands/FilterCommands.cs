using System.CommandLine;
using System.Globalization;
using Broker.Alerts.Avro;
using Broker.Filters;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker filter check FILE</c> and <c>broker filter test (FILE | --where EXPR) --alerts PATH...</c> (issue 15):
/// validate a filter definition, and backtest a filter on alert files. A filter that does not compile is exit code
/// 2 with <c>line L, column C: message</c> on standard error (docs/filters.md).
/// </summary>
internal static class FilterCommands
{
    public static Command Create()
    {
        var command = new Command("filter", "User filters (docs/filters.md): check a definition, backtest one on alert files.");
        command.Subcommands.Add(Check());
        command.Subcommands.Add(Test());
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
}
