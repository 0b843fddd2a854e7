using System.CommandLine;

namespace Broker.Cli.Commands;

/// <summary><c>--set Section:Key=value</c> (repeatable): any configuration value of a stage, as its service reads it.</summary>
internal static class SettingsOption
{
    /// <summary>The option, with examples for its verb.</summary>
    public static Option<string[]> Create(string examples) => new("--set")
    {
        Description = $"Any configuration value as Section:Key=value (repeatable), e.g. {examples}.",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>The values given, as configuration keys.</summary>
    /// <exception cref="CliUsageException">A value is not <c>Section:Key=value</c>.</exception>
    /// <param name="values">The option's values.</param>
    /// <param name="settings">Where to put them (over what it holds); a new dictionary when null.</param>
    public static Dictionary<string, string?> Parse(IEnumerable<string>? values, Dictionary<string, string?>? settings = null)
    {
        settings ??= new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var s in values ?? [])
        {
            int eq = s.IndexOf('=');
            if (eq <= 0) throw new CliUsageException($"--set '{s}': expected Section:Key=value");
            settings[s[..eq]] = s[(eq + 1)..];
        }
        return settings;
    }
}
