using System.CommandLine;
using System.Diagnostics;
using Broker.Simulation;

namespace Broker.Cli.Commands;

/// <summary><c>broker simulate</c>: writes a simulated ZTF or Rubin alert stream with ground truth (issue 4).</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var survey = new Option<string>("--survey") { Description = "ztf or lsst", DefaultValueFactory = _ => "ztf" };
        var nights = new Option<int>("--nights") { Description = "Nights to simulate", DefaultValueFactory = _ => 1 };
        var perNight = new Option<int>("--alerts-per-night") { Description = "Target alerts per night", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed, same bytes)", DefaultValueFactory = _ => 1UL };
        var start = new Option<double>("--start-mjd") { Description = "UTC MJD of the first night's evening date", DefaultValueFactory = _ => 60690.0 };
        var outDir = new Option<string>("--out") { Description = "Output folder: alerts/ and truth.csv", DefaultValueFactory = _ => "simulated" };
        var layout = new Option<string>("--layout") { Description = "visit: one Avro container file per exposure; alert: one file per alert as the survey sends it", DefaultValueFactory = _ => "visit" };
        var noCutouts = new Option<bool>("--no-cutouts") { Description = "Leave cutouts null (faster load tests)" };
        var bogus = new Option<double>("--bogus-fraction") { Description = "Fraction of artefacts", DefaultValueFactory = _ => 0.2 };
        var workers = new Option<int>("--workers") { Description = "Encoding threads (output does not depend on it)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("simulate", "Simulate a ZTF or Rubin alert stream with cutouts and ground truth (truth.csv)");
        foreach (var o in new Option[] { survey, nights, perNight, seed, start, outDir, layout, noCutouts, bogus, workers }) command.Options.Add(o);
        command.SetAction(async (parseResult, ct) =>
        {
            string s = parseResult.GetValue(survey) ?? "ztf";
            if (s is not ("ztf" or "lsst"))
            {
                await Console.Error.WriteLineAsync($"--survey must be ztf or lsst, not '{s}'");
                return 2;
            }
            var options = new SimulationOptions
            {
                Survey = s == "ztf" ? SurveyKind.Ztf : SurveyKind.Lsst,
                Nights = parseResult.GetValue(nights),
                AlertsPerNight = parseResult.GetValue(perNight),
                Seed = parseResult.GetValue(seed),
                StartMjd = parseResult.GetValue(start),
                Cutouts = !parseResult.GetValue(noCutouts),
                BogusFraction = parseResult.GetValue(bogus),
                Workers = parseResult.GetValue(workers),
            };
            var lay = parseResult.GetValue(layout) == "alert" ? OutputLayout.PerAlert : OutputLayout.PerVisit;
            string dir = parseResult.GetValue(outDir) ?? "simulated";
            var clock = Stopwatch.StartNew();
            var summary = await AlertSimulator.WriteAsync(options, dir, lay, ct);
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(FormattableString.Invariant(
                $"{summary.Alerts} alerts from {summary.Visits} visits in {summary.Files} files under {Path.Combine(dir, "alerts")}; truth in {Path.Combine(dir, "truth.csv")}; {seconds:F1} s, {summary.Alerts / Math.Max(seconds, 1e-9):F0} alerts/s on {options.Workers} workers"));
            return 0;
        });
        return command;
    }
}
