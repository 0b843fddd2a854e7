using System.CommandLine;
using System.Globalization;
using Broker.Simulation;

namespace Broker.Cli.Commands;

/// <summary>
/// The options that shape the simulated populations, shared by <c>broker simulate</c> and <c>broker catalog build
/// --simulated</c> (defaults from <see cref="SimulationOptions"/>), so a catalogue built with the same values holds
/// the true counterparts of that run's alerts.
/// </summary>
internal sealed class SimulationSkyOptions
{
    private static readonly SimulationOptions Defaults = new();

    private readonly Option<string> _survey;
    private readonly Option<ulong> _seed;
    private readonly Option<int> _nights;
    private readonly Option<int> _perNight;
    private readonly Option<double> _start;
    private readonly Option<double> _bogus;

    /// <param name="descriptionPrefix">Put before each option's description (<c>With --simulated: </c> for <c>catalog build</c>; none for <c>simulate</c>).</param>
    public SimulationSkyOptions(string descriptionPrefix = "With --simulated: ")
    {
        _survey = new("--survey") { Description = descriptionPrefix + "ztf or lsst", DefaultValueFactory = _ => "ztf" };
        _seed = new("--seed") { Description = descriptionPrefix + "the simulator's seed (same seed, same bytes)", DefaultValueFactory = _ => Defaults.Seed };
        _nights = new("--nights") { Description = descriptionPrefix + "nights simulated", DefaultValueFactory = _ => Defaults.Nights };
        _perNight = new("--alerts-per-night") { Description = descriptionPrefix + "target alerts per night", DefaultValueFactory = _ => Defaults.AlertsPerNight };
        _start = new("--start-mjd") { Description = descriptionPrefix + "UTC MJD of the first night's evening date", DefaultValueFactory = _ => Defaults.StartMjd };
        _bogus = new("--bogus-fraction") { Description = descriptionPrefix + "fraction of artefacts", DefaultValueFactory = _ => Defaults.BogusFraction };
    }

    private Option[] All => [_survey, _seed, _nights, _perNight, _start, _bogus];

    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    /// <summary>The first of these options given on the command line, or null.</summary>
    public string? Given(ParseResult parse) => All.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false })?.Name;

    /// <exception cref="CliUsageException">A value is out of range.</exception>
    public SimulationOptions Options(ParseResult parse)
    {
        string s = parse.GetValue(_survey) ?? "ztf";
        if (s is not ("ztf" or "lsst")) throw new CliUsageException($"--survey must be ztf or lsst, not '{s}'");
        var options = new SimulationOptions
        {
            Survey = s == "ztf" ? SurveyKind.Ztf : SurveyKind.Lsst,
            Seed = parse.GetValue(_seed),
            Nights = parse.GetValue(_nights),
            AlertsPerNight = parse.GetValue(_perNight),
            StartMjd = parse.GetValue(_start),
            BogusFraction = parse.GetValue(_bogus),
        };
        try { options.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new CliUsageException(e.Message); }
        return options;
    }

    /// <summary>The options that shape the simulated sky, as text: the catalogue's recorded source.</summary>
    public static string Describe(SimulationOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"simulated {(o.Survey == SurveyKind.Ztf ? "ztf" : "lsst")} seed={o.Seed} nights={o.Nights} alerts-per-night={o.AlertsPerNight} start-mjd={o.StartMjd:R} bogus-fraction={o.BogusFraction:R}");
}
