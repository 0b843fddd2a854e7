using System.Globalization;
using Broker.Simulation;
using Broker.Training;

// broker-train: the training program behind `broker train` (the CLI runs it as a child process, so that no
// service and not the CLI itself loads libtorch).
//   broker-train stamps [--seed S] [--out DIR] [--version V] [--train-alerts N] [--validation-alerts N]
//                       [--test-alerts N] [--epochs E] [--surveys ztf,lsst] [--shared-data DIR]
//   broker-train stamps-eval [--model DIR] [--shared-data DIR]
//   broker-train periodic [--seed S] [--out DIR] [--version V] [--train-per-class N] [--validation-per-class N]
//                         [--test-per-class N] [--epochs E] [--history-days D]
//   broker-train periodic-compare [--model DIR] [--forest DIR] [--test-per-class N] [--markdown FILE]
return StampCommands.Execute(args, Console.Out, Console.Error);

/// <summary>The verbs of broker-train.</summary>
public static class StampCommands
{
    /// <summary>Exit code of a usage error (as the broker CLI's).</summary>
    public const int UsageExitCode = 2;

    /// <summary>Runs a verb.</summary>
    public static int Execute(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            output.WriteLine(Usage);
            return args.Length == 0 ? UsageExitCode : 0;
        }
        try
        {
            var opts = Options.Parse(args.AsSpan(1));
            if (opts.Has("help"))
            {
                output.WriteLine(Usage);
                return 0;
            }
            return args[0] switch
            {
                "stamps" => Train(opts, args, output),
                "stamps-eval" => Evaluate(opts, output),
                "periodic" => TrainPeriodic(opts, args, output),
                "periodic-compare" => ComparePeriodic(opts, output),
                _ => throw new UsageException($"unknown verb '{args[0]}'"),
            };
        }
        catch (UsageException e)
        {
            error.WriteLine("error: " + e.Message);
            return UsageExitCode;
        }
    }

    private const string Usage = """
        broker train stamps [--seed S] [--out models/stamp-classifier/<version>] [--version V] [--train-alerts N]
                            [--validation-alerts N] [--test-alerts N] [--epochs E] [--surveys ztf,lsst] [--shared-data DIR]
            Simulates labelled ZTF and Rubin alerts (train seed S, validation S+1000, test S+2000), trains Broker's
            five-class stamp classifier per survey with TorchSharp, writes <survey>.onnx, manifest.json and
            evaluation.md to --out and prints the confusion matrices. Same arguments give byte-identical ONNX files.
        broker train stamps-eval [--model DIR] [--shared-data DIR]
            Re-simulates the test sets of a model directory's manifest and scores its ONNX files; with the shared data,
            also the held-out real ZTF alerts (asteroid recall on known ssnamenr; agreement with braai on bogus).
        broker train periodic [--seed S] [--out models/periodic-cnn/<version>] [--version V] [--train-per-class N]
                              [--validation-per-class N] [--test-per-class N] [--epochs E] [--history-days D]
            Simulates labelled ZTF alerts of the six periodic classes (LPV, E, DSCT, RRL, CEP, Periodic-Other; train
            seed S, validation S+1000, test S+2000), folds each at its multiband period into g and r images, trains
            the periodic-variable CNN with TorchSharp, writes periodic-cnn.onnx, manifest.json and evaluation.md to
            --out, checks ONNX Runtime against TorchSharp and prints the confusion matrix. Same arguments give
            byte-identical files. --history-days D gives every alert D days of history instead of the survey's own
            (ZTF 30): an experiment, not what the light-curve step sees.
        broker train periodic-compare [--model models/periodic-cnn/1.0] [--forest models/lc-classifier/1.0]
                                      [--test-per-class N] [--markdown FILE]
            Re-simulates the CNN's test seed (its manifest's seed + 2000) and scores the CNN and the light-curve forest
            on the same periodic alerts: recall and precision per class, which is higher, both confusion matrices.
        """;

    private static int Train(Options o, string[] args, TextWriter output)
    {
        o.Only("seed", "out", "version", "train-alerts", "validation-alerts", "test-alerts", "epochs", "surveys", "shared-data");
        var defaults = new StampRunOptions();
        string version = o.Get("version") ?? "1.0";
        var surveys = (o.Get("surveys") ?? "ztf,lsst").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => s switch { "ztf" => SurveyKind.Ztf, "lsst" or "rubin" => SurveyKind.Lsst, _ => throw new UsageException($"--surveys: '{s}' is not ztf or lsst") })
            .ToList();
        var run = new StampRunOptions
        {
            Seed = o.ULong("seed", defaults.Seed),
            Version = version,
            Out = o.Get("out") ?? DefaultModelDirectory(version),
            TrainAlerts = o.Int("train-alerts", defaults.TrainAlerts),
            ValidationAlerts = o.Int("validation-alerts", defaults.ValidationAlerts),
            TestAlerts = o.Int("test-alerts", defaults.TestAlerts),
            Training = defaults.Training with { MaxEpochs = o.Int("epochs", defaults.Training.MaxEpochs) },
            Surveys = surveys,
            SharedData = o.Get("shared-data") ?? DefaultSharedData(),
            Command = "./broker train " + string.Join(' ', args.Where(a => !a.StartsWith("--out=", StringComparison.Ordinal)).Select(Quote)),
        };
        StampTrainingRun.Run(run, output);
        return 0;
    }

    private static int TrainPeriodic(Options o, string[] args, TextWriter output)
    {
        o.Only("seed", "out", "version", "train-per-class", "validation-per-class", "test-per-class", "epochs", "history-days");
        var defaults = new PeriodicRunOptions();
        string version = o.Get("version") ?? "1.0";
        var run = new PeriodicRunOptions
        {
            Seed = o.ULong("seed", defaults.Seed),
            Version = version,
            Out = o.Get("out") ?? DefaultModelDirectory(version, "periodic-cnn"),
            TrainPerClass = o.Int("train-per-class", defaults.TrainPerClass),
            ValidationPerClass = o.Int("validation-per-class", defaults.ValidationPerClass),
            TestPerClass = o.Int("test-per-class", defaults.TestPerClass),
            HistoryDays = o.Has("history-days") ? o.Int("history-days", 30) : null,
            Training = defaults.Training with { MaxEpochs = o.Int("epochs", defaults.Training.MaxEpochs) },
            Command = "./broker train " + string.Join(' ', args.Where(a => !a.StartsWith("--out=", StringComparison.Ordinal)).Select(Quote)),
        };
        PeriodicTrainingRun.Run(run, output);
        return 0;
    }

    private static int ComparePeriodic(Options o, TextWriter output)
    {
        o.Only("model", "forest", "test-per-class", "markdown");
        PeriodicEvaluation.Compare(
            o.Get("model") ?? DefaultModelDirectory("1.0", "periodic-cnn"),
            o.Get("forest") ?? DefaultModelDirectory("1.0", "lc-classifier"),
            o.Int("test-per-class", new PeriodicRunOptions().TestPerClass),
            o.Get("markdown"),
            output);
        return 0;
    }

    private static int Evaluate(Options o, TextWriter output)
    {
        o.Only("model", "shared-data");
        string dir = o.Get("model") ?? DefaultModelDirectory("1.0");
        var report = StampEvaluation.Run(dir, o.Get("shared-data") ?? DefaultSharedData(), output);
        return report ? 0 : 1;
    }

    /// <summary>models/&lt;model&gt;/&lt;version&gt; (stamp-classifier by default) of the repository ($BROKER_ROOT, set by ./broker), else of the current directory.</summary>
    public static string DefaultModelDirectory(string version, string model = "stamp-classifier")
    {
        var root = Environment.GetEnvironmentVariable("BROKER_ROOT");
        return Path.Combine(string.IsNullOrEmpty(root) ? "." : root, "models", model, version);
    }

    /// <summary>../shared/data beside the repository ($BROKER_SHARED_DATA first), when present.</summary>
    public static string? DefaultSharedData()
    {
        var env = Environment.GetEnvironmentVariable("BROKER_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        foreach (var start in new[] { Environment.GetEnvironmentVariable("BROKER_ROOT"), Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            if (string.IsNullOrEmpty(start)) continue;
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                if (!File.Exists(Path.Combine(d.FullName, "Broker.sln"))) continue;
                var shared = Path.GetFullPath(Path.Combine(d.FullName, "..", "shared", "data"));
                return Directory.Exists(shared) ? shared : null;
            }
        }
        return null;
    }

    private static string Quote(string a) => a.Length > 0 && a.All(c => char.IsAsciiLetterOrDigit(c) || "-_./,=:".Contains(c)) ? a : "'" + a + "'";

    private sealed class UsageException(string message) : Exception(message);

    private sealed class Options
    {
        private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

        public static Options Parse(ReadOnlySpan<string> args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{a}'");
                string key = a[2..];
                string? value = null;
                int eq = key.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    value = key[(eq + 1)..];
                    key = key[..eq];
                }
                else if (key != "help")
                {
                    if (i + 1 >= args.Length) throw new UsageException($"--{key} needs a value");
                    value = args[++i];
                }
                o._values[key] = value;
            }
            return o;
        }

        public void Only(params string[] known)
        {
            foreach (var key in _values.Keys)
                if (!known.Contains(key, StringComparer.Ordinal)) throw new UsageException($"unknown option --{key} (known: {string.Join(", ", known.Select(k => "--" + k))})");
        }

        public bool Has(string key) => _values.ContainsKey(key);

        public string? Get(string key) => _values.GetValueOrDefault(key);

        public int Int(string key, int fallback) => Get(key) is { } v
            ? int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new UsageException($"--{key}: '{v}' is not a positive integer")
            : fallback;

        public ulong ULong(string key, ulong fallback) => Get(key) is { } v
            ? ulong.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out ulong n) ? n : throw new UsageException($"--{key}: '{v}' is not a non-negative integer")
            : fallback;
    }
}
