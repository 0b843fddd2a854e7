using Broker.StepHost;
using Microsoft.Extensions.Configuration;

namespace Broker.Sso.Tests;

/// <summary>Configuration errors of the solar-system stage: each is one line naming the setting (and the file).</summary>
public sealed class SsoOptionsTests
{
    public static TheoryData<string, string> BadSettings => new()
    {
        { "Orbits:0:Path=", "Sso:Orbits:0 (''): Path is empty" },
        { "Orbits:0:Format=votable", "Sso:Orbits:0 ('orbits.json'): Format 'votable' is not one of auto, sbdb-json, mpcorb, mpc-comets, csv" },
        { "Observatories:ZTF=Q99", "Sso:Observatories:ZTF: 'Q99' is not an observatory code this build knows" },
        { "Observatories:HST=500", "Sso:Observatories:HST: 'HST' is not a survey (ZTF, LSST, UNKNOWN)" },
        { "RadiusArcsec:LSST=0", "Sso:RadiusArcsec:LSST 0 is not in (0, 36000]" },
        { "DistantGrowthArcsecPerDay=-1", "Sso:DistantGrowthArcsecPerDay -1 is not in [0, 1000]" },
        { "GridStepHours=0.1", "Sso:GridStepHours 0.1 is not in [0.25, 12]" },
        { "WindowAfterHours=0", "Sso:WindowAfterHours 0 is not in (0, 48]" },
        { "MoverStampScore=1.5", "Sso:MoverStampScore 1.5 is not in [0, 1]" },
        { "MaxRadiusArcsec=NaN", "Sso:MaxRadiusArcsec NaN is not in (0, 36000]" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_bad_setting_is_refused_in_one_line_naming_it(string setting, string expected)
    {
        var settings = new Dictionary<string, string?> { ["Sso:Orbits:0:Path"] = "orbits.json" };
        int eq = setting.IndexOf('=');
        settings["Sso:" + setting[..eq]] = setting[(eq + 1)..];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var e = Assert.Throws<StepHostConfigurationException>(() => { SsoStep.Stage.CheckOptions(configuration); });
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_orbit_file_is_refused_at_start_in_one_line_naming_the_entry_and_the_file()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-orbits-" + Guid.NewGuid().ToString("N") + ".json");
        var step = new SsoStep(new SsoOptions { Orbits = [new SsoOrbitFileOptions { Path = missing, Format = "sbdb-json" }] });
        var e = Assert.Throws<StepHostConfigurationException>(() => step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult());
        Assert.Contains($"Sso:Orbits:0 ('{missing}')", e.Message);
        Assert.Contains("no such file", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void No_orbit_file_is_a_warning_not_an_error()
    {
        var options = new SsoOptions();
        options.Validate();
        Assert.Contains("Sso:Orbits is empty", Assert.Single(options.Warnings()));
        Assert.Empty(new SsoOptions { Orbits = [new SsoOrbitFileOptions { Path = "x" }] }.Warnings());
    }
}
