using System.CommandLine;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Simulation;
using Spectre.Console;

namespace Broker.Cli.Commands;

/// <summary><c>broker demo</c>: the main job on sample data, with a summary.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var samples = new Option<bool>("--samples") { Description = "Use the real ZTF and Rubin sample alerts in ../shared/data." };
        var alerts = new Option<int>("--alerts") { Description = "Without paths: how many alerts to simulate per survey.", DefaultValueFactory = _ => 500 };
        var seed = new Option<ulong>("--seed") { Description = "Without paths: the simulator's seed.", DefaultValueFactory = _ => 1 };
        var command = new Command("demo", "Run Broker on alerts and print a summary. Without paths it simulates a night of ZTF and Rubin alerts (./broker simulate); --samples uses the real alerts in ../shared/data.");
        inputs.AddTo(command, pathsOptional: true);
        command.Options.Add(samples);
        command.Options.Add(alerts);
        command.Options.Add(seed);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            var paths = parse.GetValue(inputs.Paths) ?? [];
            AlertFileReader reader;
            if (paths.Length == 0 && !parse.GetValue(samples))
            {
                AnsiConsole.MarkupLine($"[grey]No paths given: simulating {parse.GetValue(alerts)} ZTF and {parse.GetValue(alerts)} Rubin alerts (seed {parse.GetValue(seed)}).[/]");
                return Summarise(Simulated(parse.GetValue(alerts), parse.GetValue(seed), ct), ct);
            }
            if (paths.Length == 0)
            {
                string data = RepositoryPaths.SharedData
                    ?? throw new CliUsageException("no alert paths given and ../shared/data is not beside the repository; give alert files or folders");
                paths = [Path.Combine(data, "ztf", "alerts"), Path.Combine(data, "lsst", "alerts")];
                reader = new AlertFileReader(new FolderSchemaRegistry(Path.Combine(data, "lsst", "schema")));
                AnsiConsole.MarkupLine($"[grey]No paths given: decoding the real sample alerts in {Markup.Escape(data)}[/]");
            }
            else
            {
                reader = inputs.CreateReader(parse);
            }
            return Summarise(reader.Read(paths), ct);
        }));
        return command;
    }

    /// <summary>Simulated alerts of both surveys as file items, decoded through the simulator's survey schemas.</summary>
    internal static IEnumerable<AlertFileItem> Simulated(int alertsPerSurvey, ulong seed, CancellationToken ct)
    {
        foreach (var survey in new[] { SurveyKind.Ztf, SurveyKind.Lsst })
        {
            var schema = survey == SurveyKind.Ztf ? SurveySchemas.Ztf : SurveySchemas.Lsst;
            var reader = AvroDatumReader.For(schema);
            var options = new SimulationOptions { Survey = survey, Nights = 1, AlertsPerNight = alertsPerSurvey, Seed = seed };
            int index = 0;
            foreach (var a in AlertSimulator.Generate(options, ct))
            {
                yield return new AlertFileItem($"simulated {survey}", index++, survey == SurveyKind.Ztf ? "container" : "confluent",
                    schema, (AvroRecord)reader.Read(a.Datum)!, a.Datum, survey == SurveyKind.Ztf ? null : SurveySchemas.LsstSchemaId, null);
            }
        }
    }

    private static int Summarise(IEnumerable<AlertFileItem> items, CancellationToken ct)
    {
        var bySurvey = new SortedDictionary<string, (int Alerts, int Cutouts, int Detections, int UpperLimits, int Forced)>(StringComparer.Ordinal);
        var errors = new List<string>();
        int alerts = 0;
        foreach (var item in items)
        {
            ct.ThrowIfCancellationRequested();
            if (item.Record is null) { errors.Add($"{item.Source}: {item.Error}"); continue; }
            Alert alert;
            try
            {
                alert = SurveyAlertMapper.Map(item.Record);
            }
            catch (AlertValidationException e)
            {
                errors.Add($"{item.Source}: record {item.Index}: {e.Message}");
                continue;
            }
            alerts++;
            string key = $"{alert.Survey.ToString().ToUpperInvariant()} {alert.SurveySchemaVersion}";
            var s = bySurvey.GetValueOrDefault(key);
            bySurvey[key] = (s.Alerts + 1, s.Cutouts + (alert.Cutouts is null ? 0 : 1), s.Detections + alert.Detections.Count,
                s.UpperLimits + alert.UpperLimits.Count, s.Forced + alert.ForcedPhotometry.Count);
        }
        var table = new Table().Title($"{alerts} alerts decoded").AddColumns("survey schema", "alerts", "with cutouts", "prior detections", "upper limits", "forced photometry");
        foreach (var (k, v) in bySurvey)
            table.AddRow(k, v.Alerts.ToString(), v.Cutouts.ToString(), v.Detections.ToString(), v.UpperLimits.ToString(), v.Forced.ToString());
        AnsiConsole.Write(table);
        foreach (var e in errors) AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e)}");
        return errors.Count > 0 ? 1 : 0;
    }
}
