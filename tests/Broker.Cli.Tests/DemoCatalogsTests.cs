using Broker.TestSupport;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Cli.Pipeline;
using Broker.Simulation;
using Microsoft.Extensions.Configuration;

namespace Broker.Cli.Tests;

/// <summary>The demo's catalogue set: built once, reused, rebuilt when a source changes, safe when two commands start together (issue 11).</summary>
public sealed class DemoCatalogsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("broker-democat-").FullName;
    private static readonly IReadOnlyList<SimulationOptions> Small = DemoCatalogs.DemoSimulations(100, 5);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Cache => Path.Combine(_root, "cache");

    /// <summary>A copy of kstars-data's three files, so the test can change one.</summary>
    private string KStarsCopy()
    {
        string folder = Path.Combine(_root, "kstars");
        Directory.CreateDirectory(folder);
        foreach (var f in KStarsDataFactAttribute.Files) File.Copy(Path.Combine(KStarsCatalogs.DefaultFolder, f), Path.Combine(folder, f));
        return folder;
    }

    private static Dictionary<string, bool> Built(DemoCatalogSet set) => set.Catalogs.ToDictionary(c => c.Name, c => c.Built);

    [KStarsDataFact]
    public void The_set_is_built_once_reused_on_the_next_call_and_rebuilt_where_a_source_changed()
    {
        string kstars = KStarsCopy();
        var first = DemoCatalogs.Ensure(Small, Cache, kstars);
        string[] names = [DemoCatalogs.KStarsStars, DemoCatalogs.OpenNgc, DemoCatalogs.SimulatedStars, DemoCatalogs.SimulatedGalaxies];
        Assert.Equal(names, first.Catalogs.Select(c => c.Name));
        Assert.All(first.Catalogs, c => Assert.True(c.Built));
        Assert.Empty(first.Warnings);
        var written = first.Catalogs.ToDictionary(c => c.Name, c => File.GetLastWriteTimeUtc(c.Path));

        // The settings name each file, in order, with the radius and match rule chosen for it.
        for (int n = 0; n < names.Length; n++)
        {
            string path = first.Settings[$"Crossmatch:Catalogs:{n}:Path"]!;
            Assert.Equal(first.Catalogs[n].Path, path);
            Assert.Equal(names[n], first.Settings[$"Crossmatch:Catalogs:{n}:Name"]);
            using var index = CatalogIndex.Open(path);
            Assert.Equal(first.Catalogs[n].Rows, index.Header.Rows);
            Assert.True(index.Rows > 0);
        }
        Assert.Equal(42_864, first.Catalogs[0].Rows);
        Assert.Equal(13_960, first.Catalogs[1].Rows);
        Assert.Equal("1.5", first.Settings["Crossmatch:Catalogs:0:RadiusArcsec"]);
        Assert.Equal("star", first.Settings["Crossmatch:Catalogs:0:Type"]);
        Assert.Equal("all", first.Settings["Crossmatch:Catalogs:1:Match"]);
        Assert.Equal("60", first.Settings["Crossmatch:Catalogs:1:RadiusArcsec"]);
        Assert.Equal("type_name", first.Settings["Crossmatch:Catalogs:1:TypeColumn"]);
        Assert.Equal("30", first.Settings["Crossmatch:Catalogs:3:RadiusArcsec"]);
        Assert.Equal("redshift", first.Settings["Crossmatch:Catalogs:3:RedshiftColumn"]);
        Assert.False(first.Settings.ContainsKey("Crossmatch:Catalogs:4:Path"));
        // The star list keeps its epoch and proper motions.
        using (var stars = CatalogIndex.Open(first.Catalogs[0].Path))
        {
            Assert.All(stars.Float64Column("epoch").ToArray(), e => Assert.Equal(KStarsCatalogs.HipparcosEpoch, e));
            Assert.Equal(42_864, stars.Float64Column("pmra").Length);
        }

        var second = DemoCatalogs.Ensure(Small, Cache, kstars);
        Assert.All(second.Catalogs, c => Assert.False(c.Built));
        Assert.Equal(first.Settings, second.Settings);
        Assert.All(second.Catalogs, c => Assert.Equal(written[c.Name], File.GetLastWriteTimeUtc(c.Path)));

        // A changed source file (a new kstars-data, here a new modification time) rebuilds its catalogue only.
        File.SetLastWriteTimeUtc(Path.Combine(kstars, "namedstars.dat"), new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc));
        var touched = DemoCatalogs.Ensure(Small, Cache, kstars);
        Assert.Equal(new Dictionary<string, bool> { [names[0]] = true, [names[1]] = false, [names[2]] = false, [names[3]] = false }, Built(touched));

        // Other simulation settings (the demo's --seed) rebuild the simulated catalogues only.
        var reseeded = DemoCatalogs.Ensure(DemoCatalogs.DemoSimulations(100, 6), Cache, kstars);
        Assert.Equal(new Dictionary<string, bool> { [names[0]] = false, [names[1]] = false, [names[2]] = true, [names[3]] = true }, Built(reseeded));

        // A damaged file is rebuilt, not trusted.
        File.WriteAllText(first.Catalogs[1].Path, "not an index");
        Assert.True(Built(DemoCatalogs.Ensure(DemoCatalogs.DemoSimulations(100, 6), Cache, kstars))[names[1]]);
        Assert.Empty(Directory.GetFiles(Cache, "*.tmp*").Concat(Directory.GetFiles(Cache, "*.partial")));
    }

    [Fact]
    public void Without_kstars_data_the_star_list_and_openngc_are_left_out_with_a_warning()
    {
        string empty = Path.Combine(_root, "no-kstars");
        Directory.CreateDirectory(empty);
        var logged = new List<string>();
        var set = DemoCatalogs.Ensure(Small, Cache, empty, logged.Add);
        Assert.Equal([DemoCatalogs.SimulatedStars, DemoCatalogs.SimulatedGalaxies], set.Catalogs.Select(c => c.Name));
        Assert.Equal(2, set.Warnings.Count);
        Assert.All(set.Warnings, w => Assert.Contains("kstars-data", w));
        Assert.Contains(set.Warnings, w => w.Contains("namedstars.dat", StringComparison.Ordinal));
        Assert.Contains(set.Warnings, w => w.Contains("OpenNGC.kscat", StringComparison.Ordinal));
        Assert.Equal(2, logged.Count(l => l.StartsWith("warning: ", StringComparison.Ordinal)));
        // The indices stay contiguous from 0.
        Assert.Equal(DemoCatalogs.SimulatedStars, set.Settings["Crossmatch:Catalogs:0:Name"]);
        Assert.Equal(DemoCatalogs.SimulatedGalaxies, set.Settings["Crossmatch:Catalogs:1:Name"]);
        Assert.False(set.Settings.ContainsKey("Crossmatch:Catalogs:2:Name"));
    }

    [Fact]
    public async Task Two_commands_starting_together_build_each_catalogue_once()
    {
        string empty = Path.Combine(_root, "no-kstars");
        Directory.CreateDirectory(empty);
        using var start = new Barrier(2);
        var runs = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            start.SignalAndWait();
            return DemoCatalogs.Ensure(Small, Cache, empty);
        })).ToArray();
        var sets = await Task.WhenAll(runs);
        foreach (string name in new[] { DemoCatalogs.SimulatedStars, DemoCatalogs.SimulatedGalaxies })
            Assert.Equal(1, sets.Count(s => s.Catalogs.Single(c => c.Name == name).Built));
        Assert.Equal(sets[0].Settings, sets[1].Settings);
        Assert.Equal(sets[0].Catalogs.Select(c => c.Rows), sets[1].Catalogs.Select(c => c.Rows));
    }

    [Fact]
    public void A_setting_refused_beside_the_sets_entries_is_refused_before_anything_is_built()
    {
        string empty = Path.Combine(_root, "no-kstars");
        Directory.CreateDirectory(empty);
        var logged = new List<string>();
        IReadOnlyDictionary<string, string?>? checkedSettings = null;
        var refused = Assert.Throws<StepHost.StepHostConfigurationException>(() => DemoCatalogs.Ensure(Small, Cache, empty, logged.Add, check: settings =>
        {
            checkedSettings = settings;
            Stages.BrokerStages.All.CheckSettings(new ConfigurationBuilder()
                .AddInMemoryCollection(settings.Append(new("Ingest:DuplicateWindow", "-5"))).Build());
        }));
        Assert.Equal("invalid configuration: Ingest:DuplicateWindow -5 is not in 0..10000000", refused.Message);
        // The check saw the entries the set would have had, at the paths it would have built.
        Assert.Equal(Path.Combine(Path.GetFullPath(Cache), DemoCatalogs.SimulatedStars + DemoCatalogs.Extension), checkedSettings!["Crossmatch:Catalogs:0:Path"]);
        Assert.Empty(Directory.EnumerateFiles(Cache, "*" + DemoCatalogs.Extension));
        Assert.DoesNotContain(logged, l => l.StartsWith("building", StringComparison.Ordinal));
    }
}
