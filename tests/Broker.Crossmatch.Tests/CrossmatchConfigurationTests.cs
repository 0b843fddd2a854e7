using Broker.Alerts.IO;
using Broker.StepHost;
using Microsoft.Extensions.Configuration;
using static Broker.Crossmatch.Tests.TestCatalogs;

namespace Broker.Crossmatch.Tests;

/// <summary>
/// Bad crossmatch configuration is refused before anything is consumed, in one line naming the entry and its file:
/// what needs no file when the options are bound, what needs the file when the step starts.
/// </summary>
public sealed class CrossmatchConfigurationTests : IDisposable
{
    private readonly TestCatalogs _catalogs = new();

    public void Dispose() => _catalogs.Dispose();

    private static IConfiguration Settings(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    /// <summary>Binds and validates the options as the service does, then starts the step: the message of what refused it.</summary>
    private static async Task<string> Refusal(params (string Key, string Value)[] values)
    {
        var e = await Assert.ThrowsAsync<StepHostConfigurationException>(async () =>
        {
            var options = CrossmatchStep.Stage.BindOptions(Settings(values));
            using var step = new CrossmatchStep(options);
            await step.StartAsync(CancellationToken.None);
        });
        Assert.DoesNotContain('\n', e.Message);
        return e.Message;
    }

    [Fact]
    public async Task Settings_bind_by_their_names_with_the_defaults_the_options_class_gives()
    {
        var options = CrossmatchStep.Stage.BindOptions(Settings(
            ("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "2.5"),
            ("Crossmatch:Catalogs:0:Match", "k-nearest"), ("Crossmatch:Catalogs:0:K", "3"),
            ("Crossmatch:Catalogs:0:Columns:0", "gmag"), ("Crossmatch:Catalogs:0:Columns:1", "label"),
            ("Crossmatch:Catalogs:0:TypeColumn", "kind"), ("Crossmatch:Catalogs:0:RedshiftColumn", "z"),
            ("Crossmatch:Catalogs:1:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:1:Name", "again"),
            ("Crossmatch:Catalogs:1:RadiusArcsec", "1"), ("Crossmatch:Catalogs:1:Type", "star")));
        Assert.Equal(10.0, options.GalacticPlaneLatitudeDeg);
        var (first, second) = (options.Catalogs[0], options.Catalogs[1]);
        Assert.Equal((2.5, CrossmatchMode.KNearest, 3, "kind", "z"), (first.RadiusArcsec, first.Mode, first.Limit, first.TypeColumn, first.RedshiftColumn));
        Assert.Equal(["gmag", "label"], first.Columns);
        Assert.Equal((CrossmatchMode.Nearest, 1, "star", "again"), (second.Mode, second.Limit, second.Type, second.Name));
        using var step = new CrossmatchStep(options);
        await step.StartAsync(CancellationToken.None);
        Assert.Equal(["nearby", "again"], step.CatalogNames);
    }

    [Fact]
    public async Task No_catalogue_is_refused()
    {
        Assert.StartsWith("invalid configuration: Crossmatch:Catalogs is empty", await Refusal());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("3600.5")]
    [InlineData("NaN")]
    public async Task A_radius_out_of_range_is_refused_naming_the_entry_and_its_file(string radius)
    {
        string message = await Refusal(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", radius));
        Assert.Equal($"invalid configuration: Crossmatch:Catalogs:0 ('{_catalogs.NearbyIndex}'): RadiusArcsec {radius} is not in (0, 3600]", message);
    }

    [Fact]
    public async Task A_radius_left_unset_is_refused()
    {
        Assert.Contains("RadiusArcsec 0 is not in (0, 3600]", await Refusal(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex)));
    }

    [Theory]
    [InlineData("closest", null, "Match 'closest' is not one of nearest, k-nearest, all")]
    [InlineData("k-nearest", null, "Match k-nearest needs K in 1..1000; K is not set")]
    [InlineData("k-nearest", "0", "Match k-nearest needs K in 1..1000; K is 0")]
    [InlineData("k-nearest", "1001", "Match k-nearest needs K in 1..1000; K is 1001")]
    [InlineData("all", "3", "K is set but Match is all: K is only for k-nearest")]
    public async Task A_match_mode_that_is_not_one_or_a_k_that_does_not_fit_it_is_refused(string match, string? k, string problem)
    {
        var settings = new List<(string, string)> { ("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "2"), ("Crossmatch:Catalogs:0:Match", match) };
        if (k is not null) settings.Add(("Crossmatch:Catalogs:0:K", k));
        Assert.Equal($"invalid configuration: Crossmatch:Catalogs:0 ('{_catalogs.NearbyIndex}'): {problem}", await Refusal([.. settings]));
    }

    [Fact]
    public async Task A_missing_file_a_folder_and_a_file_that_is_not_an_index_are_refused_at_start_up_naming_the_entry_and_the_file()
    {
        string missing = Path.Combine(_catalogs.Folder, "absent.bci");
        string garbage = Path.Combine(_catalogs.Folder, "garbage.bci");
        File.WriteAllText(garbage, "id,ra,dec\n1,150,2\n" + new string('x', 100));
        string empty = Path.Combine(_catalogs.Folder, "empty.bci");
        File.WriteAllBytes(empty, []);
        (string Path, string Problem)[] cases =
        [
            (missing, "the catalogue index file does not exist"),
            (_catalogs.Folder, "is a folder, not a catalogue index file"),
            (garbage, "not a usable catalogue index file: not a catalogue index file (no BRKCATIX magic)"),
            (empty, "not a usable catalogue index file: not a catalogue index file: 0 bytes"),
        ];
        foreach (var (path, problem) in cases)
        {
            string message = await Refusal(
                ("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"),
                ("Crossmatch:Catalogs:1:Path", path), ("Crossmatch:Catalogs:1:RadiusArcsec", "1"));
            Assert.StartsWith($"invalid configuration: Crossmatch:Catalogs:1 ('{path}'): {problem}", message);
        }
    }

    [Theory]
    [InlineData("Columns:0", "parallax", "Columns names column 'parallax', which the index does not carry (its extra columns: gmag, flags, label, kind, z)")]
    [InlineData("TypeColumn", "class", "TypeColumn names column 'class', which the index does not carry")]
    [InlineData("RedshiftColumn", "zspec", "RedshiftColumn names column 'zspec', which the index does not carry")]
    [InlineData("TypeColumn", "gmag", "TypeColumn 'gmag' is a floating-point column; a type column holds text")]
    [InlineData("RedshiftColumn", "label", "RedshiftColumn 'label' is a text column; a redshift is a number")]
    public async Task A_column_the_index_lacks_or_of_the_wrong_kind_is_refused_at_start_up(string setting, string column, string problem)
    {
        string message = await Refusal(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"), ("Crossmatch:Catalogs:0:" + setting, column));
        Assert.StartsWith($"invalid configuration: Crossmatch:Catalogs:0 ('{_catalogs.NearbyIndex}'): {problem}", message);
    }

    [Fact]
    public async Task A_fixed_type_and_a_type_column_together_are_refused()
    {
        string message = await Refusal(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"),
            ("Crossmatch:Catalogs:0:Type", "star"), ("Crossmatch:Catalogs:0:TypeColumn", "kind"));
        Assert.Contains("both Type 'star' and TypeColumn 'kind' are set", message);
    }

    [Fact]
    public async Task Two_entries_with_one_name_are_refused_whether_configured_or_from_the_header()
    {
        string configured = await Refusal(
            ("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"), ("Crossmatch:Catalogs:0:Name", "A"),
            ("Crossmatch:Catalogs:1:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:1:RadiusArcsec", "1"), ("Crossmatch:Catalogs:1:Name", "A"));
        Assert.Contains("Crossmatch:Catalogs:1", configured);
        Assert.Contains("Name 'A' is another entry's", configured);
        string header = await Refusal(
            ("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"),
            ("Crossmatch:Catalogs:1:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:1:RadiusArcsec", "1"));
        Assert.Contains("its name 'nearby' is Crossmatch:Catalogs:0", header);
    }

    [Fact]
    public async Task A_galactic_plane_latitude_out_of_range_and_an_unknown_setting_are_refused()
    {
        string latitude = await Refusal(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"), ("Crossmatch:GalacticPlaneLatitudeDeg", "91"));
        Assert.Equal("invalid configuration: Crossmatch:GalacticPlaneLatitudeDeg 91 is not in 0..90", latitude);
        string unknown = await Refusal(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:Radius", "1"));
        Assert.Contains("'Radius'", unknown);
        Assert.StartsWith("invalid configuration in section Crossmatch", unknown);
    }

    [Fact]
    public async Task The_in_process_runner_refuses_a_bad_entry_at_start_up_before_reading_its_input()
    {
        var settings = Settings(("Crossmatch:Catalogs:0:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:0:RadiusArcsec", "1"),
            ("Crossmatch:Catalogs:1:Path", _catalogs.NearbyIndex), ("Crossmatch:Catalogs:1:RadiusArcsec", "1"), ("Crossmatch:Catalogs:1:Columns:0", "nope"));
        await using var pipeline = new InProcessPipeline([CrossmatchStep.Stage.CreateStage(settings)]);
        bool read = false;
        async IAsyncEnumerable<SourceMessage> Source()
        {
            read = true;
            await Task.CompletedTask;
            yield break;
        }
        var e = await Assert.ThrowsAsync<StepHostConfigurationException>(() => pipeline.RunAsync(Source()));
        Assert.Contains("Crossmatch:Catalogs:1", e.Message);
        Assert.Contains("'nope'", e.Message);
        Assert.False(read);
    }
}
