namespace Broker.TestSupport;

/// <summary>
/// A fact skipped, with the reason, when an orbit file it reads is missing: Debian kstars-data's
/// <c>/usr/share/kstars/asteroids.dat</c> (JPL SBDB, 7,099 asteroids) or <c>cometels.json.gz</c> (MPC comets);
/// <c>./broker test</c> installs kstars-data.
/// </summary>
/// <param name="paths">The files the test reads; none means <see cref="KStarsAsteroids"/>.</param>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OrbitFilesFactAttribute(params string[] paths) : FactAttribute
{
    /// <summary>kstars-data's JPL SBDB asteroid orbits.</summary>
    public const string KStarsAsteroids = "/usr/share/kstars/asteroids.dat";

    /// <summary>kstars-data's MPC comet elements (gzipped JSON).</summary>
    public const string KStarsComets = "/usr/share/kstars/cometels.json.gz";

    /// <summary>The files the test reads.</summary>
    public IReadOnlyList<string> Paths { get; } = paths.Length == 0 ? [KStarsAsteroids] : paths;

    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? (Paths.FirstOrDefault(p => !File.Exists(p)) is { } missing
            ? $"{missing} is missing: install the Debian package kstars-data (./broker test does)" : null!);
        set => base.Skip = value;
    }
}
