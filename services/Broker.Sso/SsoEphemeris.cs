using Broker.Sky.Orbits;

namespace Broker.Sso;

/// <summary>The observatories the stage predicts from: MPC codes looked up in Broker.Sky's sourced table (<see cref="Observatory.Find"/>).</summary>
internal static class SsoObservatories
{
    /// <summary>The codes known.</summary>
    public static IEnumerable<string> Codes => Observatory.All.Select(o => o.Code);

    /// <summary>The observatory of a code, or null when the table lacks it.</summary>
    public static Observatory? Find(string code)
    {
        foreach (var o in Observatory.All)
            if (string.Equals(o.Code, code.Trim(), StringComparison.OrdinalIgnoreCase)) return o;
        return null;
    }
}
