using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Catalogs;
using Broker.Catalogs.Index;
using Broker.Sky;
using Broker.StepHost;
using Broker.TestSupport;
using static Broker.Crossmatch.Tests.TestCatalogs;

namespace Broker.Crossmatch.Tests;

/// <summary>
/// The crossmatch step over small index files with rows at known offsets: the three match modes, the entry's fields,
/// columns and types, alerts without counterparts, bad positions, and the record round-tripping through the codec.
/// </summary>
public sealed class CrossmatchStepTests : IDisposable
{
    private readonly TestCatalogs _catalogs = new();

    public void Dispose() => _catalogs.Dispose();

    private CrossmatchCatalogOptions Nearby(string match = "nearest", int? k = null, double radius = 5) =>
        new() { Path = _catalogs.NearbyIndex, RadiusArcsec = radius, Match = match, K = k };

    [Fact]
    public async Task Nearest_gives_the_nearest_row_within_the_radius_with_the_catalogues_name_release_id_position_and_distance()
    {
        using var step = await StartedStep(Nearby());
        var alert = await One(step, AlertAt(7, Ra, Dec));

        var m = Assert.Single(alert.Crossmatches);
        var row = TestCatalogs.Nearby().First();
        Assert.Equal("nearby", m.Catalog);
        Assert.Equal("DR1", m.CatalogRelease);
        Assert.Equal("1", m.SourceId);
        Assert.Equal(row.Ra, m.Ra, 1e-12);
        Assert.Equal(row.Dec, m.Dec, 1e-12);
        Assert.Equal(SeparationArcsec(1, Ra, Dec), m.DistanceArcsec, 1e-9);
        Assert.Equal(1.0, m.DistanceArcsec, 1e-6);
        Assert.Equal(5.0, m.MatchRadiusArcsec);
        Assert.Null(m.ObjectType);
        Assert.Empty(m.Properties);
        Assert.Equal(CrossmatchStep.StageVersion, alert.StageVersions["crossmatch"]);
        Assert.True(alert.StageTimes.ContainsKey("crossmatch"));
    }

    [Fact]
    public async Task A_star_with_proper_motion_is_matched_where_it_is_at_the_alerts_epoch_and_its_entry_gives_that_position()
    {
        // 10"/yr north from J2000: at the alert's epoch (MJD 60400.25, about J2024.27) it is some 243" from where the
        // catalogue stores it. With the motion columns it is matched there; the same row without them is not.
        double epoch = CrossmatchStep.JulianEpochOf(AlertAt(1, Ra, Dec).MjdTai)!.Value;
        var moved = Coordinates.Offset(Ra, Dec, 0, 10.0 * (epoch - 2000.0));
        string withMotion = Path.Combine(_catalogs.Folder, "moving.bci"), without = Path.Combine(_catalogs.Folder, "still.bci");
        CatalogIndexBuilder.Build([new CatalogRow(new CatalogId(42, null), Ra, Dec, 2000.0, 0.0, 10_000.0, [])],
            new CatalogColumns("id", "ra", "dec") { Epoch = "epoch", Pmra = "pmra", Pmdec = "pmdec" }, "moving.csv", withMotion, new CatalogIndexBuildOptions { Name = "moving" });
        CatalogIndexBuilder.Build([new CatalogRow(new CatalogId(42, null), Ra, Dec, null, null, null, [])],
            new CatalogColumns("id", "ra", "dec"), "still.csv", without, new CatalogIndexBuildOptions { Name = "still" });
        using var step = await StartedStep(new CrossmatchCatalogOptions { Path = withMotion, RadiusArcsec = 2 }, new CrossmatchCatalogOptions { Path = without, RadiusArcsec = 2 });

        var alert = await One(step, AlertAt(9, moved.RaDeg, moved.DecDeg));
        var m = Assert.Single(alert.Crossmatches);
        Assert.Equal(("moving", "42"), (m.Catalog, m.SourceId));
        Assert.True(m.DistanceArcsec < 0.01, $"{m.DistanceArcsec}\"");
        Assert.Equal(moved.DecDeg, m.Dec, 1e-6);
        Assert.Equal(moved.RaDeg, m.Ra, 1e-6);
        // At the stored position only the catalogue without motions matches.
        var there = await One(step, AlertAt(10, Ra, Dec));
        Assert.Equal("still", Assert.Single(there.Crossmatches).Catalog);
    }

    [Fact]
    public async Task K_nearest_gives_the_k_nearest_rows_by_separation()
    {
        using var step = await StartedStep(Nearby("k-nearest", k: 3));
        var alert = await One(step, AlertAt(7, Ra, Dec));
        Assert.Equal(["1", "2", "3"], alert.Crossmatches.Select(m => m.SourceId));
        Assert.Equal([1.0, 2.0, 3.0], alert.Crossmatches.Select(m => Math.Round(m.DistanceArcsec, 6)));
    }

    [Fact]
    public async Task All_gives_every_row_within_the_radius_by_separation_with_ties_in_row_order()
    {
        using var step = await StartedStep(Nearby("all", radius: 11));
        var alert = await One(step, AlertAt(7, Ra, Dec));
        // Rows 3 and 4 sit at one position: the tie goes to the earlier row of the file (input order, same key).
        Assert.Equal(["1", "2", "3", "4", "5"], alert.Crossmatches.Select(m => m.SourceId));
        Assert.Equal(alert.Crossmatches[2].DistanceArcsec, alert.Crossmatches[3].DistanceArcsec);
        Assert.All(alert.Crossmatches, m => Assert.Equal(11.0, m.MatchRadiusArcsec));
    }

    [Fact]
    public async Task A_row_just_outside_the_radius_is_not_a_counterpart()
    {
        using var step = await StartedStep(Nearby("all", radius: 2.9));
        var alert = await One(step, AlertAt(7, Ra, Dec));
        Assert.Equal(["1", "2"], alert.Crossmatches.Select(m => m.SourceId));
    }

    [Fact]
    public async Task An_alert_with_no_counterpart_gets_no_entry_but_is_stamped_by_the_stage()
    {
        using var step = await StartedStep(Nearby("all", radius: 60));
        var far = Coordinates.Offset(Ra, Dec, 0, 600);
        var alert = await One(step, AlertAt(8, far.RaDeg, far.DecDeg));
        Assert.Empty(alert.Crossmatches);
        Assert.Equal(CrossmatchStep.StageVersion, alert.StageVersions["crossmatch"]);
    }

    [Fact]
    public async Task Chosen_columns_are_copied_as_doubles_and_strings_with_null_for_a_null_value()
    {
        var options = Nearby("all", radius: 11);
        options.Columns = ["gmag", "FLAGS", "label"];
        using var step = await StartedStep(options);
        var alert = await One(step, AlertAt(7, Ra, Dec));
        var bySource = alert.Crossmatches.ToDictionary(m => m.SourceId);

        // Keyed by the index's own column names, whatever case the configuration used.
        Assert.Equal(new HashSet<string> { "gmag", "flags", "label" }, bySource["1"].Properties.Keys.ToHashSet());
        Assert.Equal(17.5, bySource["1"].Properties["gmag"]);
        Assert.Equal(3.0, bySource["1"].Properties["flags"]);
        Assert.IsType<double>(bySource["1"].Properties["flags"]);
        Assert.Equal("a", bySource["1"].Properties["label"]);
        Assert.Null(bySource["2"].Properties["gmag"]);
        Assert.Null(bySource["3"].Properties["flags"]);
        Assert.Null(bySource["4"].Properties["label"]);
        Assert.Equal(0.0, bySource["2"].Properties["flags"]);
    }

    [Fact]
    public async Task A_type_column_is_normalised_to_lower_case_with_one_name_per_common_class_and_an_empty_type_is_none()
    {
        var options = Nearby("all", radius: 11);
        options.TypeColumn = "kind";
        using var step = await StartedStep(options);
        var alert = await One(step, AlertAt(7, Ra, Dec));
        Assert.Equal(["galaxy", "qso", "star", "planetary nebula", null], alert.Crossmatches.Select(m => m.ObjectType));
    }

    [Fact]
    public async Task A_fixed_type_is_given_to_every_entry_and_a_configured_name_replaces_the_headers()
    {
        var options = Nearby("k-nearest", k: 2);
        options.Type = "QSO";
        options.Name = "Milliquas";
        using var step = await StartedStep(options);
        var alert = await One(step, AlertAt(7, Ra, Dec));
        Assert.Equal(["qso", "qso"], alert.Crossmatches.Select(m => m.ObjectType));
        Assert.Equal(["Milliquas", "Milliquas"], alert.Crossmatches.Select(m => m.Catalog));
        Assert.Equal(["Milliquas"], step.CatalogNames);
    }

    [Fact]
    public async Task A_redshift_gives_the_physical_offset_theta_times_the_planck_2018_angular_diameter_distance()
    {
        string hosts = _catalogs.Build("hosts", [
            TestCatalogs.Row(1, 2, 0, [0.5]),
            TestCatalogs.Row(2, 0, 3, [0.05]),
            TestCatalogs.Row(3, -4, 0, [0.0]),
            TestCatalogs.Row(4, 0, -5, [-0.001]),
            TestCatalogs.Row(5, 6, 0, [null]),
        ], ["z"]);
        using var step = await StartedStep(new CrossmatchCatalogOptions { Path = hosts, RadiusArcsec = 10, Match = "all", RedshiftColumn = "z" });
        var alert = await One(step, AlertAt(7, Ra, Dec));
        Assert.Equal([0.5, 0.05, 0.0, -0.001, null], alert.Crossmatches.Select(m => m.Redshift));
        foreach (var m in alert.Crossmatches.Take(2))
        {
            double theta = m.DistanceArcsec / 3600 * Math.PI / 180;
            Assert.Equal(theta * Cosmology.Planck18.AngularDiameterDistanceMpc(m.Redshift!.Value) * 1000, m.PhysicalOffsetKpc!.Value, 1e-9);
        }
        // About 6.2 kpc per arcsecond at z = 0.5 and 1.0 at z = 0.05 in Planck 2018: a unit slip (Mpc, degrees) would show.
        Assert.InRange(alert.Crossmatches[0].PhysicalOffsetKpc!.Value / alert.Crossmatches[0].DistanceArcsec, 6.0, 6.4);
        Assert.InRange(alert.Crossmatches[1].PhysicalOffsetKpc!.Value / alert.Crossmatches[1].DistanceArcsec, 0.95, 1.05);
        // No distance without a redshift above 0.
        Assert.All(alert.Crossmatches.Skip(2), m => Assert.Null(m.PhysicalOffsetKpc));
    }

    [Theory]
    [InlineData(266.416817, -29.007825, 359.9442, -0.0462, true)] // Sgr A*, beside the Galactic centre (SIMBAD)
    [InlineData(192.85948, 27.12825, 0, 90.0, false)]            // the north Galactic pole
    [InlineData(83.63308, 22.01450, 184.557, -5.784, true)]      // the Crab nebula, 5.8 degrees below the plane
    [InlineData(10.68471, 41.26875, 121.174, -21.573, false)]    // M31
    public async Task Every_alert_gets_its_galactic_longitude_and_latitude_and_whether_it_lies_within_10_degrees_of_the_plane(
        double ra, double dec, double l, double b, bool inPlane)
    {
        using var step = await StartedStep(Nearby());
        var alert = await One(step, AlertAt(1, ra, dec));
        var galactic = alert.Galactic!;
        Assert.Equal(b, galactic.BDeg, 0.002);
        if (Math.Abs(b) < 89) Assert.Equal(l, galactic.LDeg, 0.002);
        Assert.Equal(inPlane, galactic.InPlane);
    }

    [Fact]
    public async Task The_galactic_plane_latitude_is_a_setting_and_0_flags_nothing()
    {
        var wide = new CrossmatchOptions { Catalogs = [Nearby()], GalacticPlaneLatitudeDeg = 30 };
        var none = new CrossmatchOptions { Catalogs = [Nearby()], GalacticPlaneLatitudeDeg = 0 };
        using var wideStep = new CrossmatchStep(wide);
        using var noneStep = new CrossmatchStep(none);
        await wideStep.StartAsync(CancellationToken.None);
        await noneStep.StartAsync(CancellationToken.None);
        var m31 = AlertAt(1, 10.68471, 41.26875);
        var centre = AlertAt(2, 266.416817, -29.007825);
        Assert.True((await One(wideStep, m31)).Galactic!.InPlane);
        Assert.False((await One(noneStep, centre)).Galactic!.InPlane);
    }

    [Fact]
    public async Task Each_catalogue_adds_its_entries_in_configuration_order_and_string_identifiers_are_kept()
    {
        string words = _catalogs.Build("words", [
            new Catalogs.CatalogRow(new Catalogs.CatalogId(0, "NGC0001"), Ra, Dec, null, null, null, []),
        ], release: "v2");
        using var step = await StartedStep(
            new CrossmatchCatalogOptions { Path = words, RadiusArcsec = 1 },
            Nearby("k-nearest", k: 2));
        var alert = await One(step, AlertAt(7, Ra, Dec));
        Assert.Equal([("words", "v2", "NGC0001"), ("nearby", "DR1", "1"), ("nearby", "DR1", "2")],
            alert.Crossmatches.Select(m => (m.Catalog, m.CatalogRelease, m.SourceId)));
        Assert.Equal(0.0, alert.Crossmatches[0].DistanceArcsec, 1e-9);
    }

    [Fact]
    public async Task Crossmatching_an_alert_again_keeps_one_set_of_entries_per_catalogue()
    {
        using var step = await StartedStep(Nearby("k-nearest", k: 2));
        var once = await One(step, AlertAt(7, Ra, Dec));
        var other = new Broker.Alerts.Model.Crossmatch { Catalog = "elsewhere", SourceId = "x" };
        var twice = await One(step, once with { Crossmatches = [other, .. once.Crossmatches] });
        Assert.Equal(["elsewhere", "nearby", "nearby"], twice.Crossmatches.Select(m => m.Catalog));
        Assert.Equal(once.Crossmatches.Select(m => (m.SourceId, m.DistanceArcsec)), twice.Crossmatches.Skip(1).Select(m => (m.SourceId, m.DistanceArcsec)));
    }

    [Theory]
    [InlineData(double.NaN, 2.0, "ra NaN")]
    [InlineData(150.0, double.NaN, "dec NaN")]
    [InlineData(-0.5, 2.0, "ra -0.5")]
    [InlineData(360.5, 2.0, "ra 360.5")]
    [InlineData(150.0, 90.5, "dec 90.5")]
    [InlineData(150.0, -91.0, "dec -91")]
    [InlineData(double.PositiveInfinity, 2.0, "ra ∞")]
    public async Task An_alert_whose_position_is_not_a_position_is_a_dead_letter_naming_it_and_the_batch_goes_on(double ra, double dec, string named)
    {
        using var step = await StartedStep(Nearby());
        var results = await Run(step, AlertAt(1, Ra, Dec), AlertAt(99, ra, dec), AlertAt(3, Ra, Dec));
        Assert.Equal([StepOutcome.Emitted, StepOutcome.DeadLettered, StepOutcome.Emitted], results.Select(r => r.Outcome));
        Assert.StartsWith("invalid position: alert 99: ", results[1].Reason);
        Assert.Contains(named.Replace("∞", double.PositiveInfinity.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), results[1].Reason);
        Assert.Single(results[2].Value!.Crossmatches);
    }

    [Theory]
    [InlineData(0.0, 90.0)]
    [InlineData(360.0, -90.0)]
    [InlineData(0.0, 0.0)]
    public async Task Positions_on_the_edges_of_the_range_are_matched_not_refused(double ra, double dec)
    {
        string edges = _catalogs.Build("edges", [new Catalogs.CatalogRow(new Catalogs.CatalogId(1, null), ra == 360 ? 0 : ra, dec, null, null, null, [])]);
        using var step = await StartedStep(new CrossmatchCatalogOptions { Path = edges, RadiusArcsec = 1 });
        var alert = await One(step, AlertAt(1, ra, dec));
        Assert.Equal(0.0, Assert.Single(alert.Crossmatches).DistanceArcsec, 1e-9);
    }

    [Fact]
    public async Task The_input_alert_is_left_as_it_was()
    {
        using var step = await StartedStep(Nearby("all", radius: 11));
        var input = AlertAt(7, Ra, Dec);
        await One(step, input);
        Assert.Empty(input.Crossmatches);
        Assert.Empty(input.StageVersions);
    }

    [Fact]
    public async Task A_real_ztf_alert_with_its_entries_round_trips_through_the_broker_alert_codec()
    {
        Assert.True(SharedData.Exists, "shared data (../shared/data) is required");
        byte[] message = SurveyFiles.Read([SharedData.Path("ztf/alerts/fink-alert-simulator_20181129_v3.2/697251920815010004.avro")], null).Single().Value;
        var real = SurveyAlertMapper.Map(SurveyMessage.Decode(message, null));
        // A catalogue with rows 0.5" and 1.5" from the real alert, with every kind of column.
        var (ra1, dec1) = Coordinates.Offset(real.Ra, real.Dec, 0.5, 0);
        var (ra2, dec2) = Coordinates.Offset(real.Ra, real.Dec, 0, -1.5);
        string path = _catalogs.Build("real", [
            new Catalogs.CatalogRow(new Catalogs.CatalogId(0, "host-1"), ra1, dec1, null, null, null, [18.25, 4L, "Galaxy", 0.08]),
            new Catalogs.CatalogRow(new Catalogs.CatalogId(0, "host-2"), ra2, dec2, null, null, null, [null, null, "star", null]),
        ], ["mag", "n", "cls", "z"], release: "R7");
        var options = new CrossmatchCatalogOptions { Path = path, RadiusArcsec = 2, Match = "all", Columns = ["mag", "n", "cls"], TypeColumn = "cls", RedshiftColumn = "z" };
        using var step = await StartedStep(options);
        var matched = await One(step, real);
        Assert.Equal(2, matched.Crossmatches.Count);
        Assert.NotNull(matched.Crossmatches[0].PhysicalOffsetKpc);
        Assert.NotNull(matched.Galactic);

        var decoded = AlertMessageCodec.Instance.Decode(AlertMessageCodec.Instance.Encode(matched));
        Assert.Equal(matched.Crossmatches.Count, decoded.Crossmatches.Count);
        for (int i = 0; i < matched.Crossmatches.Count; i++)
        {
            var (a, b) = (matched.Crossmatches[i], decoded.Crossmatches[i]);
            Assert.Equal(a with { Properties = b.Properties }, b);
            Assert.Equal(a.Properties.OrderBy(p => p.Key, StringComparer.Ordinal), b.Properties.OrderBy(p => p.Key, StringComparer.Ordinal));
        }
        Assert.Equal(matched.Galactic, decoded.Galactic);
        Assert.Equal(matched.StageVersions, decoded.StageVersions);
        Assert.Equal(matched.StageTimes, decoded.StageTimes);
        Assert.Equal(real.AlertId, decoded.AlertId);
    }

    [Fact]
    public void The_alerts_epoch_is_the_julian_year_of_its_time_in_tt()
    {
        // J2000.0 is JD 2451545.0 TT, MJD 51544.5 TT: 32.184 s earlier in TAI.
        Assert.Equal(2000.0, CrossmatchStep.JulianEpochOf(51_544.5 - 32.184 / 86_400)!.Value, 1e-12);
        Assert.Equal(2001.0, CrossmatchStep.JulianEpochOf(51_544.5 + 365.25 - 32.184 / 86_400)!.Value, 1e-12);
        Assert.Null(CrossmatchStep.JulianEpochOf(double.NaN));
    }

    [Fact]
    public async Task A_step_not_started_or_disposed_fails_fatally_rather_than_dead_lettering_its_input()
    {
        var options = new CrossmatchOptions { Catalogs = [Nearby()] };
        var unstarted = new CrossmatchStep(options);
        var e = await Assert.ThrowsAsync<StepException>(async () => await unstarted.ExecuteAsync([AlertAt(1, Ra, Dec)], CancellationToken.None));
        Assert.Equal(FailureKind.Fatal, e.Kind);

        var step = await StartedStep(Nearby());
        step.Dispose();
        var disposed = await Assert.ThrowsAsync<StepException>(async () => await step.ExecuteAsync([AlertAt(1, Ra, Dec)], CancellationToken.None));
        Assert.Equal(FailureKind.Fatal, disposed.Kind);
    }

    [Fact]
    public async Task Overlapping_batches_get_the_same_answers_as_batches_one_after_another()
    {
        using var step = await StartedStep(Nearby("all", radius: 11));
        var alerts = Enumerable.Range(0, 200).Select(i =>
        {
            var (ra, dec) = Coordinates.Offset(Ra, Dec, (i % 20) - 10, (i / 20) - 5);
            return AlertAt(i, ra, dec);
        }).ToArray();
        var sequential = (await step.ExecuteAsync(alerts, CancellationToken.None)).Select(r => r.Value!.Crossmatches.Select(m => m.SourceId).ToList()).ToList();
        var overlapping = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () => await step.ExecuteAsync(alerts, CancellationToken.None))));
        foreach (var run in overlapping)
            Assert.Equal(sequential, run.Select(r => r.Value!.Crossmatches.Select(m => m.SourceId).ToList()).ToList());
        Assert.Contains(sequential, s => s.Count > 1);
    }
}
