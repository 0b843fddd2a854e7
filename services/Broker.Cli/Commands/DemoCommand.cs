using System.CommandLine;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Spectre.Console;

namespace Broker.Cli.Commands;

/// <summary><c>broker demo</c>: the main job on sample data, with a summary.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var command = new Command("demo", "Run Broker on sample alerts and print a summary. Without paths it uses ../shared/data (real ZTF and Rubin alerts).");
        inputs.AddTo(command, pathsOptional: true);
        command.SetAction((parse, ct) => CliRun.Guard(() =>
        {
            var paths = parse.GetValue(inputs.Paths) ?? [];
            AlertFileReader reader;
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
