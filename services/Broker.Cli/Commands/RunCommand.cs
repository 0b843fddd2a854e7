using System.CommandLine;
using Broker.Cli.Pipeline;
using Broker.Ingest;
using Broker.StepHost;
using Spectre.Console;

namespace Broker.Cli.Commands;

/// <summary><c>broker run PATH... --out DIR</c>: the whole implemented chain in one process, no Kafka.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var inputs = new AlertInputOptions();
        var output = new Option<string>("--out") { Description = "Folder for alerts.avro (Broker alert records), dead-letters.jsonl, summary.json and summary.txt.", Required = true };
        var restart = new Option<bool>("--restart") { Description = "Start afresh even if --out holds a run that was stopped (by default it is resumed)." };
        var batch = new Option<int>("--batch-size") { Description = "Alerts per step batch.", DefaultValueFactory = _ => 64 };
        var set = SettingsOption.Create("Ingest:DuplicateWindow=0 or Crossmatch:Catalogs:0:Path=gaia.bcat with Crossmatch:Catalogs:0:RadiusArcsec=1 (a stage's options, as its service reads them; without catalogue entries the crossmatch uses kstars-data's star list and OpenNGC, built on first use)");
        var command = new Command("run", "Run Broker's implemented chain (ingest, crossmatch, ...) in one process over alert files, with the same step classes as the Kafka services; write the output alerts and a summary.");
        inputs.AddTo(command, readerSchema: false);
        command.Options.Add(output);
        command.Options.Add(batch);
        command.Options.Add(restart);
        command.Options.Add(set);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            if (parse.GetValue(batch) is < 1 or > 100_000) throw new CliUsageException("--batch-size must be between 1 and 100000");
            var paths = inputs.ExistingPaths(parse);
            var bad = new BadInputReport();
            var limits = inputs.Limits(parse);
            var registry = inputs.CreateRegistry(parse);
            string outputDirectory = CliRun.OutputFolder("--out", parse.GetValue(output)!);
            // Last of the checks, since it may build catalogues: without --set Crossmatch:Catalogs:..., the crossmatch
            // stage gets the catalogues this machine has (ChainCatalogs).
            var settings = ChainCatalogs.WithCatalogs(SettingsOption.Parse(parse.GetValue(set)), [], Console.Error.WriteLine, ct);
            var options = new BrokerRunOptions
            {
                Limits = limits,
                OnBadInput = bad.Report,
                Registry = registry,
                OutputDirectory = outputDirectory,
                Settings = settings,
                Runner = new InProcessOptions { BatchSize = parse.GetValue(batch) },
                Resume = !parse.GetValue(restart),
            };
            // SIGTERM, SIGINT and SIGQUIT stop reading; what was read is finished, the output closed and the checkpoint saved.
            using var signals = ShutdownSignals.Listen(ct);
            var summary = await RunWithProgressAsync(paths, options, signals.Token);
            Console.Out.Write(summary.Render());
            bad.Report(summary);
            var checkpoint = RunCheckpoint.Load(options.OutputDirectory!);
            if (checkpoint is not null)
            {
                string where = string.Join(", ", checkpoint.Files.Select(p => Path.Combine(options.OutputDirectory!, p)));
                Console.Out.WriteLine(checkpoint.Complete
                    ? $"Wrote {summary.Written} alerts{(checkpoint.Resumed ? $" (run {checkpoint.Runs}, resumed after {checkpoint.Done - summary.Read} messages done before)" : "")}; all output: {where}."
                    : $"Stopped after {checkpoint.Done} messages; run the same command again to resume (output so far: {where}).");
            }
            return summary.Stopped ? 130 : bad.Count > 0 ? 1 : 0;
        }));
        return command;
    }

    /// <summary>Runs with a progress bar when standard error is a terminal, plainly otherwise.</summary>
    public static async Task<RunSummary> RunWithProgressAsync(IReadOnlyList<string> paths, BrokerRunOptions options, CancellationToken ct)
    {
        if (Console.IsErrorRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
            return await BrokerChain.RunAsync(paths, options, null, ct);
        long total = BrokerChain.CountMessages(paths, options.Limits);
        RunSummary? summary = null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Progress().AutoClear(true).StartAsync(async context =>
        {
            var task = context.AddTask("alerts", maxValue: Math.Max(1, total));
            var progress = new Progress<long>(n => task.Value = n);
            summary = await BrokerChain.RunAsync(paths, options, progress, ct);
            task.Value = task.MaxValue;
        });
        return summary!;
    }
}

/// <summary>
/// Names every damaged input of a run on standard error, one line each: damage found while reading the files as it
/// is found (with the real cause: a corrupt gzip, a member over a limit), then each dead letter of a source not
/// already named. The summary and <c>dead-letters.jsonl</c> still hold every dead letter.
/// </summary>
internal sealed class BadInputReport
{
    private readonly HashSet<string> _named = new(StringComparer.Ordinal);

    /// <summary>How many inputs were bad: damaged files and dead letters together, each counted once.</summary>
    public int Count { get; private set; }

    /// <summary>Names damage found while reading (see <see cref="BrokerRunOptions.OnBadInput"/>).</summary>
    public void Report(Broker.Alerts.IO.RawAlertMessage damage)
    {
        AlertInputOptions.ReportBadInput(damage.Source, damage.Error!);
        _named.Add(damage.Source);
        // Damage with bytes also reaches ingest and comes back as a dead letter, counted there.
        if (damage.Bytes.IsEmpty) Count++;
    }

    /// <summary>Names the dead letters of a finished run whose source was not named while reading.</summary>
    public void Report(RunSummary summary)
    {
        foreach (var d in summary.DeadLetters)
        {
            Count++;
            if (!_named.Contains(d.Source)) AlertInputOptions.ReportBadInput(d.Source, $"record {d.Index}: {d.Reason}");
        }
    }
}
