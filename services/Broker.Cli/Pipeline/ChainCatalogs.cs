using Broker.Simulation;
using Broker.Stages;
using Microsoft.Extensions.Configuration;

namespace Broker.Cli.Pipeline;

/// <summary>
/// The crossmatch catalogues of an in-process run (<c>broker run</c>, <c>broker demo</c>): the ones the user named
/// with <c>--set Crossmatch:Catalogs:N:...</c>, or else the demo set (<see cref="DemoCatalogs"/>), built on first use.
/// </summary>
/// <remarks>
/// The crossmatch service refuses to start without a catalogue (an operator who forgot one would otherwise run a
/// stage that annotates nothing). A run on a laptop should still work out of the box, so when the user names none
/// the run takes what this machine has: kstars-data's star list and OpenNGC, and the simulator's sky for the
/// simulations the run is made of. Where that is nothing at all (no kstars-data, real alerts), it falls back to the
/// simulator's sky for the demo's defaults, saying so: real alerts then find only chance counterparts, but the chain runs and every
/// alert still gets its Galactic context.
/// </remarks>
internal static class ChainCatalogs
{
    /// <summary>The key prefix of the crossmatch stage's catalogue entries.</summary>
    public const string CatalogKeyPrefix = "Crossmatch:Catalogs:";

    /// <summary>
    /// <paramref name="settings"/> with catalogue entries added when it has none: the demo set for
    /// <paramref name="simulations"/> (none: only kstars-data's), or the default demo simulation's when that is empty.
    /// </summary>
    /// <param name="settings">The user's <c>--set</c> values.</param>
    /// <param name="simulations">The simulations whose alerts the run reads (their skies are catalogued), or none for real alerts.</param>
    /// <param name="log">Told what is built and any warning.</param>
    /// <param name="cancellationToken">Stops a build.</param>
    public static Dictionary<string, string?> WithCatalogs(IReadOnlyDictionary<string, string?> settings, IReadOnlyList<SimulationOptions> simulations,
        Action<string>? log, CancellationToken cancellationToken = default)
    {
        var merged = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
        // The solar-system stage's orbits the same way: the user's, else kstars-data's (ChainOrbits).
        ChainOrbits.AddDefault(merged, log, simulated: simulations.Count > 0);
        if (merged.Keys.Any(k => k.StartsWith(CatalogKeyPrefix, StringComparison.OrdinalIgnoreCase))) return merged;
        // The user's other settings are checked with the entries the set will have before anything is built: a bad
        // value is refused at once, not after the catalogues' build.
        void Check(IReadOnlyDictionary<string, string?> catalogs)
        {
            if (catalogs.Count == 0) return;
            var all = new Dictionary<string, string?>(merged, StringComparer.OrdinalIgnoreCase);
            foreach (var (key, value) in catalogs) all[key] = value;
            BrokerStages.All.CheckSettings(new ConfigurationBuilder().AddInMemoryCollection(all).Build());
        }
        var set = DemoCatalogs.Ensure(simulations, log: log, check: Check, cancellationToken: cancellationToken);
        if (set.Catalogs.Count == 0)
        {
            log?.Invoke("warning: no crossmatch catalogue on this machine (no kstars-data) and none given with --set Crossmatch:Catalogs:0:Path=FILE: " +
                "crossmatching against the simulator's default sky, in which real alerts find only chance counterparts");
            set = DemoCatalogs.Ensure(DemoCatalogs.DemoSimulations(Commands.DemoCommand.DefaultAlerts, Commands.DemoCommand.DefaultSeed), log: log, check: Check, cancellationToken: cancellationToken);
        }
        foreach (var (key, value) in set.Settings) merged[key] = value;
        return merged;
    }
}
