using System.CommandLine;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Cli.Pipeline;
using Broker.Ingest;
using Broker.Simulation;
using Spectre.Console;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker demo</c>: the main job end to end. Alerts (simulated by default, or real ones) go through every
/// implemented stage in one process, the output is written as Broker alert records and summarised by survey.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var samples = new Option<bool>("--samples") { Description = "Use the real ZTF and Rubin sample alerts in ../shared/data." };
        var alerts = new Option<int>("--alerts") { Description = "Without paths: about how many alerts to simulate per survey (one night each). A target, not a count: " +
            "the simulated populations are sized from it and then observed, so the number made differs (often by a quarter or more); the demo reports what was made.",
            DefaultValueFactory = _ => 500 };
        var seed = new Option<ulong>("--seed") { Description = "Without paths: the simulator's seed.", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Where to keep the run's output (alerts.avro, dead letters, summary). Default: a folder under the system's temp folder." };
        var command = new Command("demo", "Run Broker end to end and print a summary. Without paths it simulates a night of ZTF and Rubin alerts " +
            "(as ./broker simulate does; --alerts is a target per survey, the count made is printed); --samples uses the real alerts in ../shared/data; otherwise the given files or folders.");
        inputs.AddTo(command, pathsOptional: true, readerSchema: false);
        command.Options.Add(samples);
        command.Options.Add(alerts);
        command.Options.Add(seed);
        command.Options.Add(output);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            string outDir = CliRun.OutputFolder("--out", parse.GetValue(output) ?? Path.Combine(Path.GetTempPath(), "broker-demo"));
            var paths = parse.GetValue(inputs.Paths) ?? [];
            ISchemaRegistry? registry;
            if (paths.Length == 0 && !parse.GetValue(samples))
            {
                int perSurvey = parse.GetValue(alerts);
                if (perSurvey is < 1 or > 1_000_000) throw new CliUsageException("--alerts must be between 1 and 1000000");
                string simulated = Path.Combine(outDir, "simulated");
                if (Directory.Exists(simulated)) Directory.Delete(simulated, recursive: true);
                // --alerts sizes the simulated populations from one median visit; most asteroids are then too faint to
                // detect, so the number made is not the number asked for: say "about", then count what was made.
                AnsiConsole.MarkupLine($"[grey]No paths given: simulating about {perSurvey} ZTF and about {perSurvey} Rubin alerts (seed {parse.GetValue(seed)}) into {Markup.Escape(simulated)}[/]");
                var made = new List<string>();
                foreach (var survey in new[] { SurveyKind.Ztf, SurveyKind.Lsst })
                {
                    var options = new SimulationOptions { Survey = survey, Nights = 1, AlertsPerNight = perSurvey, Seed = parse.GetValue(seed) };
                    var simulatedSurvey = await AlertSimulator.WriteAsync(options, Path.Combine(simulated, survey.ToString().ToLowerInvariant()), cancellationToken: ct);
                    made.Add($"{simulatedSurvey.Alerts} {(survey == SurveyKind.Ztf ? "ZTF" : "Rubin")}");
                }
                AnsiConsole.MarkupLine($"[grey]Simulated {string.Join(" and ", made)} alerts (asked for about {perSurvey} each)[/]");
                paths = [simulated];
                registry = null;
            }
            else if (paths.Length == 0)
            {
                string data = RepositoryPaths.SharedData
                    ?? throw new CliUsageException("--samples: ../shared/data is not beside the repository");
                paths = [Path.Combine(data, "ztf", "alerts"), Path.Combine(data, "lsst", "alerts")];
                registry = new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema"));
                AnsiConsole.MarkupLine($"[grey]Running on the real sample alerts in {Markup.Escape(data)}[/]");
            }
            else
            {
                registry = inputs.CreateRegistry(parse);
                inputs.ExistingPaths(parse);
            }
            var bySurvey = new SurveyTable();
            var bad = new BadInputReport();
            var runOptions = new BrokerRunOptions
            {
                Limits = inputs.Limits(parse),
                OnBadInput = bad.Report,
                Registry = registry,
                OutputDirectory = Path.Combine(outDir, "run"),
                Settings = new Dictionary<string, string?>(),
                OnAlert = bySurvey.Add,
            };
            var summary = await RunCommand.RunWithProgressAsync(paths, runOptions, ct);
            Console.Out.Write(summary.Render());
            // Real files may be damaged; simulated alerts are expected to be dead-lettered sometimes (bogus
            // detections), so only given paths are named one by one.
            bool given = parse.GetValue(inputs.Paths) is { Length: > 0 };
            if (given) bad.Report(summary);
            AnsiConsole.Write(bySurvey.Render(Path.Combine(runOptions.OutputDirectory, "alerts.avro")));
            return summary.InFlight == 0 && !(given && bad.Count > 0) ? 0 : 1;
        }));
        return command;
    }

    /// <summary>The output alerts tabulated by survey and schema version, counted as they are written.</summary>
    private sealed class SurveyTable
    {
        private readonly SortedDictionary<string, (int Alerts, int Cutouts, int Detections, int UpperLimits, int Forced)> _bySurvey = new(StringComparer.Ordinal);
        private int _alerts;

        public void Add(Alert alert)
        {
            _alerts++;
            string key = $"{alert.Survey.ToString().ToUpperInvariant()} {alert.SurveySchemaVersion}";
            var s = _bySurvey.GetValueOrDefault(key);
            _bySurvey[key] = (s.Alerts + 1, s.Cutouts + (alert.Cutouts is null ? 0 : 1), s.Detections + alert.Detections.Count,
                s.UpperLimits + alert.UpperLimits.Count, s.Forced + alert.ForcedPhotometry.Count);
        }

        public Table Render(string file)
        {
            var table = new Table().Title($"{_alerts} Broker alerts in {Markup.Escape(file)}")
                .AddColumns("survey schema", "alerts", "with cutouts", "prior detections", "upper limits", "forced photometry");
            foreach (var (k, v) in _bySurvey)
                table.AddRow(Markup.Escape(k), v.Alerts.ToString(), v.Cutouts.ToString(), v.Detections.ToString(), v.UpperLimits.ToString(), v.Forced.ToString());
            return table;
        }
    }
}
