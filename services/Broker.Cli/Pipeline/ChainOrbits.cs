using Broker.Cli.Commands;
using Broker.Sky.Orbits;

namespace Broker.Cli.Pipeline;

/// <summary>
/// The orbit files of an in-process run's solar-system stage (<c>broker run</c>, <c>broker demo</c>): the ones the
/// user named with <c>--set Sso:Orbits:N:Path=FILE</c>, or else kstars-data's 7,099 JPL SBDB orbits
/// (<see cref="SbdbOrbitReader.KStarsPath"/>), the ones the simulator places its asteroids from.
/// </summary>
/// <remarks>
/// Without either the stage still runs (an empty orbit list is a warning, not an error: docs/sso.md): it reports the
/// surveys' own associations, uses the orbits Rubin alerts carry and flags candidate new movers. The run says so
/// in one line. With kstars' orbits the run also keeps the planets' positions of the N-body refinement in
/// <see cref="PlanetCacheFolder"/> (unless <c>--set Sso:PlanetCacheFolder=</c> says otherwise), as it keeps its catalogues.
/// </remarks>
internal static class ChainOrbits
{
    /// <summary>The key prefix of the solar-system stage's orbit entries.</summary>
    public const string OrbitKeyPrefix = "Sso:Orbits:";

    /// <summary>The solar-system stage's planet cache setting (<c>SsoOptions.PlanetCacheFolder</c>).</summary>
    public const string PlanetCacheKey = "Sso:PlanetCacheFolder";

    /// <summary>
    /// Where an in-process run keeps the N-body refinement's planet positions: <c>$BROKER_ROOT/.cache/planets</c>
    /// (git-ignored, beside the demo catalogues), or <c>broker-planets</c> under the system's temp folder outside a repository.
    /// </summary>
    public static string PlanetCacheFolder => RepositoryPaths.Root is { } root
        ? Path.Combine(root, ".cache", "planets")
        : Path.Combine(Path.GetTempPath(), "broker-planets");

    /// <summary>
    /// <paramref name="settings"/> with kstars-data's orbit file added when it names none and the file exists
    /// (<paramref name="kstarsPath"/>). For simulated alerts (<paramref name="simulated"/>) the stage is also told,
    /// unless the user set it, that its orbits are exact: the simulator moves kstars' asteroids by two-body motion
    /// from these very elements, so the demo refines two-body with no drift allowed for (an N-body refinement would put
    /// them hundreds of arcseconds from where the simulator did, 890 days from the elements' epoch).
    /// </summary>
    public static void AddDefault(Dictionary<string, string?> settings, Action<string>? log, bool simulated = false, string kstarsPath = SbdbOrbitReader.KStarsPath)
    {
        if (settings.Keys.Any(k => k.StartsWith(OrbitKeyPrefix, StringComparison.OrdinalIgnoreCase))) return;
        if (!File.Exists(kstarsPath))
        {
            log?.Invoke($"warning: {kstarsPath} not found and no --set Sso:Orbits:0:Path=FILE given: the solar-system stage associates only with the orbits Rubin alerts carry " +
                "and reports the surveys' own associations (install the Debian package kstars-data)");
            return;
        }
        settings[OrbitKeyPrefix + "0:Path"] = kstarsPath;
        settings[OrbitKeyPrefix + "0:Format"] = "sbdb-json";
        settings.TryAdd(PlanetCacheKey, PlanetCacheFolder);
        if (!simulated) return;
        foreach (string key in new[] { "Sso:NBody", "Sso:DistantGrowthArcsecPerDay", "Sso:NearEarthGrowthArcsecPerDay", "Sso:CometaryGrowthArcsecPerDay" })
            settings.TryAdd(key, key == "Sso:NBody" ? "false" : "0");
    }
}
