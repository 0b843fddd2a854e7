using Broker.Catalogs;
using Xunit;

namespace Broker.TestSupport;

/// <summary>A fact skipped, with the reason, when Debian's kstars-data (OpenNGC and the Hipparcos/Tycho star list) is not installed; <c>./broker test</c> installs it.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class KStarsDataFactAttribute : FactAttribute
{
    /// <summary>The kstars-data files the catalogues are read from, in <see cref="KStarsCatalogs.DefaultFolder"/>.</summary>
    public static readonly IReadOnlyList<string> Files = ["OpenNGC.kscat", "namedstars.dat", "unnamedstars.dat"];

    private static readonly string? Missing = Files.Select(f => Path.Combine(KStarsCatalogs.DefaultFolder, f)).FirstOrDefault(f => !File.Exists(f));

    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? (Missing is null ? null! : $"{Missing} is missing: install the Debian package kstars-data (./broker test does)");
        set => base.Skip = value;
    }
}
