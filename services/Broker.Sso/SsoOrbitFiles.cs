using Broker.Alerts.Model;
using Broker.Sky.Orbits;
using Broker.StepHost;

namespace Broker.Sso;

/// <summary>Reads the configured orbit files through Broker.Sky's readers (<see cref="OrbitSources"/>), and the orbit a Rubin alert carries (<see cref="RubinOrbitReader"/>).</summary>
internal static class SsoOrbitFiles
{
    /// <summary>The format a setting names (<see cref="SsoOptions.Formats"/>), or null.</summary>
    public static OrbitFormat? FormatOf(string? setting) => setting?.Trim().ToLowerInvariant() switch
    {
        "auto" or "" => OrbitFormat.Auto,
        "sbdb-json" => OrbitFormat.Sbdb,
        "mpcorb" => OrbitFormat.MpcOrb,
        "mpc-comets" => OrbitFormat.MpcComets,
        "csv" => OrbitFormat.Csv,
        _ => null,
    };

    /// <summary>Every orbit of one configured file; each rejected row goes to <paramref name="onBadRow"/> as one line.</summary>
    /// <exception cref="StepHostConfigurationException">The file is missing, unreadable or not its format: one line naming the entry.</exception>
    public static IReadOnlyList<SolarSystemOrbit> Load(SsoOrbitFileOptions entry, int index, Action<string> onBadRow)
    {
        try
        {
            return [.. OrbitSources.Read(entry.Path, FormatOf(entry.Format) ?? OrbitFormat.Auto, onBadRow)];
        }
        catch (OrbitFormatException e)
        {
            throw new StepHostConfigurationException($"invalid configuration: {entry.Describe(index)}: {e.Message}", e);
        }
    }

    /// <summary>The orbit a Rubin alert carries for its object (<c>mpc_orbits</c>, schema 10 on), or null (none, or one that does not read).</summary>
    public static SolarSystemOrbit? FromAlert(Alert alert) =>
        alert.Survey == Survey.Lsst ? RubinOrbitReader.FromFields(alert.SurveyFields) : null;
}
