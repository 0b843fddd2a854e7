using Broker.Alerts.Model;
using Broker.Sky.Orbits;
using Broker.StepHost;

namespace Broker.Sso;

/// <summary>Reads the configured orbit files through Broker.Sky's readers (one per format), and the orbit a Rubin alert carries.</summary>
internal static class SsoOrbitFiles
{
    /// <summary>Every orbit of one configured file; each rejected row goes to <paramref name="onBadRow"/> as one line.</summary>
    /// <exception cref="StepHostConfigurationException">The file is missing, unreadable or not its format: one line naming the entry.</exception>
    public static IReadOnlyList<SolarSystemOrbit> Load(SsoOrbitFileOptions entry, int index, Action<string> onBadRow)
    {
        string format = entry.Format.Trim().ToLowerInvariant();
        try
        {
            IEnumerable<SolarSystemOrbit> rows = format switch
            {
                "sbdb-json" => SbdbOrbitReader.Read(entry.Path, onBadRow),
                _ => throw new StepHostConfigurationException($"invalid configuration: {entry.Describe(index)}: Format '{entry.Format}' is not readable by this build yet (sbdb-json is)"),
            };
            return [.. rows];
        }
        catch (OrbitFormatException e)
        {
            throw new StepHostConfigurationException($"invalid configuration: {entry.Describe(index)}: {e.Message}", e);
        }
    }

    /// <summary>The orbit a Rubin alert carries for its object (<c>mpc_orbits</c>), or null.</summary>
    public static SolarSystemOrbit? FromAlert(Alert alert)
    {
        _ = alert;
        return null;
    }
}
