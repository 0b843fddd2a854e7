using System.CommandLine;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Cli.Pipeline;
using Broker.Ingest;
using Broker.Simulation;
using Broker.StepHost;
using Spectre.Console;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker demo</c>: the main job end to end. Alerts (simulated by default, or real ones) go through every
/// implemented stage in one process, the output is written as Broker alert records and summarised by survey.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The default of <c>--alerts</c>: about how many alerts to simulate per survey.</summary>
    public const int DefaultAlerts = 500;

    /// <summary>The default of <c>--seed</c>.</summary>
    public const ulong DefaultSeed = 1;

    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var samples = new Option<bool>("--samples") { Description = "Use the real ZTF and Rubin sample alerts in ../shared/data." };
        var alerts = new Option<int>("--alerts") { Description = "Without paths: about how many alerts to simulate per survey (one night each). A target, not a count: " +
            "the simulated populations are sized from it and then observed, so the number made differs (often by a quarter or more); the demo reports what was made.",
            DefaultValueFactory = _ => DefaultAlerts };
        var seed = new Option<ulong>("--seed") { Description = "Without paths: the simulator's seed.", DefaultValueFactory = _ => DefaultSeed };
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
            string title;
            // The simulations the run reads, whose skies the crossmatch catalogues (none for real alerts).
            IReadOnlyList<SimulationOptions> simulations = [];
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
                simulations = DemoCatalogs.DemoSimulations(perSurvey, parse.GetValue(seed));
                foreach (var options in simulations)
                {
                    var simulatedSurvey = await AlertSimulator.WriteAsync(options, Path.Combine(simulated, options.Survey.ToString().ToLowerInvariant()), cancellationToken: ct);
                    made.Add($"{simulatedSurvey.Alerts} {(options.Survey == SurveyKind.Ztf ? "ZTF" : "Rubin")}");
                }
                AnsiConsole.MarkupLine($"[grey]Simulated {string.Join(" and ", made)} alerts (asked for about {perSurvey} each)[/]");
                paths = [simulated];
                title = $"Simulated {string.Join(" and ", made)} alerts (seed {parse.GetValue(seed)})";
                registry = null;
            }
            else if (paths.Length == 0)
            {
                string data = RepositoryPaths.SharedData
                    ?? throw new CliUsageException("--samples: ../shared/data is not beside the repository");
                paths = [Path.Combine(data, "ztf", "alerts"), Path.Combine(data, "lsst", "alerts")];
                registry = new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema"));
                AnsiConsole.MarkupLine($"[grey]Running on the real sample alerts in {Markup.Escape(data)}[/]");
                title = $"The real ZTF and Rubin sample alerts in {data}";
            }
            else
            {
                registry = inputs.CreateRegistry(parse);
                inputs.ExistingPaths(parse);
                title = "Alerts from " + string.Join(", ", paths);
            }
            var bySurvey = new SurveyTable();
            var report = new DemoReport();
            var bad = new BadInputReport();
            var runOptions = new BrokerRunOptions
            {
                Limits = inputs.Limits(parse),
                OnBadInput = bad.Report,
                Registry = registry,
                OutputDirectory = Path.Combine(outDir, "run"),
                Settings = ChainCatalogs.WithCatalogs(new Dictionary<string, string?>(), simulations, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), ct),
                OnAlert = alert =>
                {
                    bySurvey.Add(alert);
                    report.Add(alert);
                },
            };
            var summary = await RunCommand.RunWithProgressAsync(paths, runOptions, ct);
            Console.Out.Write(summary.Render());
            // Real files may be damaged; simulated alerts are expected to be dead-lettered sometimes (bogus
            // detections), so only given paths are named one by one.
            bool given = parse.GetValue(inputs.Paths) is { Length: > 0 };
            if (given) bad.Report(summary);
            AnsiConsole.Write(bySurvey.Render(Path.Combine(runOptions.OutputDirectory, "alerts.avro")));
            AnsiConsole.Write(bySurvey.RenderCatalogs());
            AnsiConsole.Write(bySurvey.RenderSolarSystem());
            AnsiConsole.Write(bySurvey.RenderStamps());
            AnsiConsole.Write(RenderStages(summary, report));
            AnsiConsole.Write(RenderClasses(report));
            AnsiConsole.Write(RenderFilters(report));
            string reportPath = Path.Combine(outDir, "report.html");
            report.Write(reportPath, summary, title);
            AnsiConsole.MarkupLine($"Report: [bold]{Markup.Escape(reportPath)}[/] ({new FileInfo(reportPath).Length / 1024} kB; docs/report.md)");
            return summary.InFlight == 0 && !(given && bad.Count > 0) ? 0 : 1;
        }));
        return command;
    }

    /// <summary>The run's stages (counts from the summary, versions from the alerts).</summary>
    private static Table RenderStages(RunSummary summary, DemoReport report)
    {
        var table = new Table().Title("Stages").AddColumns("stage", "version", "in", "out", "dead", "dups", "filtered");
        foreach (var s in summary.Stages)
            table.AddRow(Markup.Escape(s.Step), Markup.Escape(DemoReport.ShortVersion(report.StageVersions.GetValueOrDefault(s.Step, ""))), s.In.ToString(), s.Out.ToString(),
                s.DeadLettered.ToString(), s.Duplicates.ToString(), s.Filtered.ToString());
        return table;
    }

    /// <summary>Every classifier's top classes over the output alerts, and the alerts it could not classify with the reason.</summary>
    private static Table RenderClasses(DemoReport report)
    {
        var table = new Table().Title("Classes per classifier").AddColumns("classifier", "model", "class", "alerts");
        foreach (var c in report.Classifiers)
        {
            string model = Markup.Escape($"{c.Model} {c.ModelVersion}");
            foreach (var (cls, n) in c.TopClasses) table.AddRow(Markup.Escape(c.Classifier), model, Markup.Escape(cls), n.ToString());
            foreach (var (reason, n) in c.NotClassified) table.AddRow(Markup.Escape(c.Classifier), model, Markup.Escape($"not classified: {reason}"), n.ToString());
        }
        return table;
    }

    /// <summary>Alerts per filter passed, and those that passed none.</summary>
    private static Table RenderFilters(DemoReport report)
    {
        var table = new Table().Title("Filters").AddColumns("filter", "alerts");
        foreach (var (filter, n) in report.FilterCounts) table.AddRow(Markup.Escape(filter), n.ToString());
        table.AddRow("[grey](passed no filter)[/]", report.WithoutFilter.ToString());
        return table;
    }

    /// <summary>The output alerts tabulated by survey and schema version, and their counterparts by catalogue, counted as they are written.</summary>
    private sealed class SurveyTable
    {
        private readonly SortedDictionary<string, (int Alerts, int Cutouts, int Detections, int UpperLimits, int Forced, int Matched, int InPlane)> _bySurvey = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, (int Alerts, int Entries, double SumArcsec)> _byCatalog = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, (int Alerts, int Agree, int Disagree, int BrokerOnly, int SurveyOnly, int Movers, double SumArcsec)> _bySurveySso = new(StringComparer.Ordinal);
        private readonly SortedDictionary<string, (int Alerts, int NotClassified, SortedDictionary<string, int> Top, int Real, int Bogus)> _bySurveyStamp = new(StringComparer.Ordinal);
        private int _alerts;

        public void Add(Alert alert)
        {
            _alerts++;
            AddStamp(alert);
            string key = $"{alert.Survey.ToString().ToUpperInvariant()} {alert.SurveySchemaVersion}";
            var s = _bySurvey.GetValueOrDefault(key);
            _bySurvey[key] = (s.Alerts + 1, s.Cutouts + (alert.Cutouts is null ? 0 : 1), s.Detections + alert.Detections.Count,
                s.UpperLimits + alert.UpperLimits.Count, s.Forced + alert.ForcedPhotometry.Count,
                s.Matched + (alert.Crossmatches.Count > 0 ? 1 : 0), s.InPlane + (alert.Galactic?.InPlane == true ? 1 : 0));
            string survey = alert.Survey.ToString().ToUpperInvariant();
            var o = _bySurveySso.GetValueOrDefault(survey);
            var sso = alert.SolarSystem;
            bool broker = sso?.Source == "broker";
            _bySurveySso[survey] = (o.Alerts + 1, o.Agree + (sso?.Agreement == SolarSystemAssociation.Agree ? 1 : 0), o.Disagree + (sso?.Agreement == SolarSystemAssociation.Disagree ? 1 : 0),
                o.BrokerOnly + (sso?.Agreement == SolarSystemAssociation.BrokerOnly ? 1 : 0), o.SurveyOnly + (sso?.Agreement == SolarSystemAssociation.SurveyOnly ? 1 : 0),
                o.Movers + (alert.NewMover is null ? 0 : 1), o.SumArcsec + (broker ? sso!.DistanceArcsec : 0));
            foreach (var catalog in alert.Crossmatches.Select(m => m.Catalog).Distinct())
            {
                var c = _byCatalog.GetValueOrDefault(catalog);
                var entries = alert.Crossmatches.Where(m => m.Catalog == catalog).ToList();
                _byCatalog[catalog] = (c.Alerts + 1, c.Entries + entries.Count, c.SumArcsec + entries[0].DistanceArcsec);
            }
        }

        public Table Render(string file)
        {
            var table = new Table().Title($"{_alerts} Broker alerts in {Markup.Escape(file)}")
                .AddColumns("survey schema", "alerts", "with cutouts", "prior detections", "upper limits", "forced photometry", "with counterparts", "in Galactic plane");
            foreach (var (k, v) in _bySurvey)
                table.AddRow(Markup.Escape(k), v.Alerts.ToString(), v.Cutouts.ToString(), v.Detections.ToString(), v.UpperLimits.ToString(), v.Forced.ToString(),
                    v.Matched.ToString(), v.InPlane.ToString());
            return table;
        }

        public Table RenderCatalogs()
        {
            var table = new Table().Title("Crossmatch counterparts by catalogue").AddColumns("catalogue", "alerts matched", "entries", "mean separation of the first (\")");
            foreach (var (k, v) in _byCatalog)
                table.AddRow(Markup.Escape(k), v.Alerts.ToString(), v.Entries.ToString(), (v.SumArcsec / v.Alerts).ToString("F2", System.Globalization.CultureInfo.InvariantCulture));
            return table;
        }

        /// <summary>Counts the stamp stage's classifications of an alert (docs/stamps.md): its top class or that it was not classified, and braai's verdict.</summary>
        private void AddStamp(Alert alert)
        {
            string survey = alert.Survey.ToString().ToUpperInvariant();
            var t = _bySurveyStamp.GetValueOrDefault(survey);
            t.Top ??= new SortedDictionary<string, int>(StringComparer.Ordinal);
            var stamp = alert.Classifications.FirstOrDefault(c => c.Classifier == "stamp");
            var braai = alert.Classifications.FirstOrDefault(c => c.Classifier == "braai");
            if (stamp is { IsClassified: true }) t.Top[stamp.TopClass] = t.Top.GetValueOrDefault(stamp.TopClass) + 1;
            _bySurveyStamp[survey] = (t.Alerts + 1, t.NotClassified + (stamp is { IsClassified: false } ? 1 : 0), t.Top,
                t.Real + (braai is { IsClassified: true, TopClass: "real" } ? 1 : 0), t.Bogus + (braai is { IsClassified: true, TopClass: "bogus" } ? 1 : 0));
        }

        /// <summary>The stamp stage's classes by survey: alerts per top class, those not classified, and braai's real and bogus (ZTF).</summary>
        public Table RenderStamps()
        {
            string[] classes = ["AGN", "SN", "VS", "asteroid", "bogus"];
            var table = new Table().Title("Stamp classifier, top class (docs/stamps.md)")
                .AddColumns(["survey", "alerts", .. classes, "not classified", "braai real", "braai bogus"]);
            foreach (var (k, v) in _bySurveyStamp)
                table.AddRow([Markup.Escape(k), v.Alerts.ToString(), .. classes.Select(c => v.Top.GetValueOrDefault(c).ToString()), v.NotClassified.ToString(), v.Real.ToString(), v.Bogus.ToString()]);
            return table;
        }

        /// <summary>The sso stage's associations by survey: Broker's agreeing with the survey's, disagreeing, alone, the survey's alone, candidate new movers.</summary>
        public Table RenderSolarSystem()
        {
            var table = new Table().Title("Solar-system associations (docs/sso.md)")
                .AddColumns("survey", "alerts", "agree", "disagree", "broker only", "survey only", "mean separation, Broker's (\")", "candidate new movers");
            foreach (var (k, v) in _bySurveySso)
            {
                int broker = v.Agree + v.Disagree + v.BrokerOnly;
                table.AddRow(Markup.Escape(k), v.Alerts.ToString(), v.Agree.ToString(), v.Disagree.ToString(), v.BrokerOnly.ToString(), v.SurveyOnly.ToString(),
                    broker == 0 ? "" : (v.SumArcsec / broker).ToString("F2", System.Globalization.CultureInfo.InvariantCulture), v.Movers.ToString());
            }
            return table;
        }
    }
}
