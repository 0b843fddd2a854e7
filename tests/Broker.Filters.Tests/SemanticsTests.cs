using System.Collections.Immutable;
using Broker.Alerts.Model;
using Broker.Filters;
using Broker.TestSupport;

namespace Broker.Filters.Tests;

/// <summary>The language's rules on constructed alerts: Broker's additions, the light-curve functions, the sky functions.</summary>
public sealed class SemanticsTests
{
    private static Alert Classified() => new Alert
    {
        Survey = Survey.Ztf, AlertId = 42, ObjectId = "ZTF24aaaaaaa", Ra = 150, Dec = 2, MjdTai = 60010, Band = "g", Mag = 18.0, Flux = 1000, IsPositive = true,
        Detections =
        [
            new Detection { AlertId = 1, MjdTai = 60000, Band = "g", Mag = 19.5 },
            new Detection { AlertId = 2, MjdTai = 60000.1, Band = "r", Mag = 19.0 },
            new Detection { AlertId = 3, MjdTai = 60005, Band = "g", Mag = 19.0 },
            new Detection { AlertId = 4, MjdTai = 60009.8, Band = "r", Mag = 18.4 },
        ],
        UpperLimits = [new UpperLimit(59990, "g", 20.5), new UpperLimit(59995, "r", 20.3)],
        Classifications =
        [
            new Classification { Classifier = "stamp", Model = "m", ModelVersion = "1", Probabilities = new Dictionary<string, double> { ["SN"] = 0.7, ["AGN"] = 0.1, ["VS"] = 0.1, ["asteroid"] = 0.05, ["bogus"] = 0.05 }, TopClass = "SN" },
            Classification.NotClassified("braai", "braai", "d6_m7", "real-bogus", Classification.NoCutouts),
        ],
        Crossmatches =
        [
            new Crossmatch { Catalog = "Gaia", SourceId = "g1", DistanceArcsec = 3.5 },
            new Crossmatch { Catalog = "NED", SourceId = "n1", DistanceArcsec = 1.2, Redshift = 0.05, PhysicalOffsetKpc = 1.2, ObjectType = "galaxy" },
        ],
        Galactic = new GalacticContext(236.0, 41.0, false),
        SolarSystem = new SolarSystemAssociation { Designation = "4826", DistanceArcsec = 0.8, Source = "broker", PredictedMag = 18.9, Agreement = SolarSystemAssociation.Agree },
        NewMover = new NewMoverCandidate("no known orbit"),
    };

    [Theory]
    [InlineData("class.stamp.SN > 0.5", true)]
    [InlineData("class.stamp.SN = 0.7 and class.stamp.topClass = 'SN'", true)]
    [InlineData("class.stamp.bogus < 0.1", true)]
    [InlineData("class.braai.real > 0.5", false)]
    [InlineData("class.braai.real is null and class.braai.notClassifiedReason = 'no cutouts'", true)]
    [InlineData("class.braai.topClass is null", true)]
    [InlineData("xmatch.count = 2", true)]
    [InlineData("xmatch.nearest.catalog = 'NED' and xmatch.nearest.distanceArcsec = 1.2", true)]
    [InlineData("xmatch.nearest.redshift between 0.01 and 0.1 and xmatch.nearest.physicalOffsetKpc < 2", true)]
    [InlineData("xmatch.nearest.objectType = 'galaxy'", true)]
    [InlineData("xmatch_count('Gaia') = 1 and xmatch_distance('Gaia') = 3.5", true)]
    [InlineData("xmatch_distance('PS1') is null and xmatch_count('PS1') = 0", true)]
    [InlineData("galactic.b > 30 and not galactic.inPlane and galactic.l = 236", true)]
    [InlineData("sso.designation = '4826' and sso.distanceArcsec < 1 and sso.agreement = 'agree'", true)]
    [InlineData("sso.predictedMag - mag < 1", true)]
    [InlineData("newMover.reason like '%orbit%'", true)]
    [InlineData("ndet() = 5 and ndet('g') = 3 and ndet('r') = 2 and ndet('i') = 0", true)]
    [InlineData("nnondet() = 2 and nnondet('g') = 1", true)]
    [InlineData("first_mjd() = 60000 and first_mjd('r') = 60000.1 and days_since_first() = 10", true)]
    [InlineData("days_since_first('r') between 9.89 and 9.91", true)]
    [InlineData("first_mjd('i') is null and days_since_first('i') is null", true)]
    [InlineData("peak_mag() = 18 and peak_mag('r') = 18.4", true)]
    [InlineData("last_mag('g') = 18 and last_mag('r') = 18.4 and last_mag('i') is null", true)]
    // g: 19.0 at 60005 then 18.0 at 60010: 0.2 mag/day brightening; r: 19.0 at 60000.1, 18.4 at 60009.8.
    [InlineData("round(rise_rate('g'), 6) = 0.2", true)]
    [InlineData("rise_rate('r') > 0.06 and rise_rate('r') < 0.062", true)]
    [InlineData("rise_rate('i') is null", true)]
    // colour: latest g (18.0 at 60010) minus latest r (18.4 at 60009.8), 0.2 d apart.
    [InlineData("round(colour('g', 'r'), 6) = -0.4", true)]
    [InlineData("colour('g', 'r', 0.1) is null", true)]
    [InlineData("colour('g', 'i') is null", true)]
    [InlineData("ndet(null) is null and rise_rate(null) is null", true)]
    public void Broker_fields_and_light_curve_functions_read_the_alert(string text, bool expected)
    {
        Assert.Equal(expected, FilterExpression.Compile(text).Matches(Classified()));
    }

    [Theory]
    [InlineData("class.stamp.SN is null")]
    [InlineData("xmatch.count = 0")]
    [InlineData("xmatch.nearest.sourceId is null")]
    [InlineData("galactic.inPlane is null")]
    [InlineData("sso.designation is null")]
    [InlineData("newMover.reason is null")]
    [InlineData("ndet() = 1 and nnondet() = 0 and days_since_first() = 0 and rise_rate('g') is null")]
    public void Before_the_stages_Broker_fields_are_null_or_empty(string text)
    {
        var bare = new Alert { Survey = Survey.Lsst, AlertId = 7, Ra = 1, Dec = 1, MjdTai = 60000, Band = "g", Mag = 20 };
        Assert.True(FilterExpression.Compile(text).Matches(bare));
    }

    [Theory]
    // The Galactic centre and the poles (Hipparcos ICRS -> Galactic), and the equinoxes on the ecliptic.
    [InlineData(266.40499, -28.93617, 0.0, 1e-3)]
    [InlineData(192.85948, 27.12825, 90.0, 1e-4)]
    [InlineData(12.85948, -27.12825, -90.0, 1e-4)]
    public void Galactic_latitude_of_known_points(double ra, double dec, double b, double tolerance)
    {
        var f = FilterExpression.Compile($"abs(galactic_lat({ra}, {dec}) - {b}) < {tolerance}");
        Assert.True(f.Matches(new Alert()));
    }

    [Theory]
    [InlineData(0, 0, 0.0)]
    [InlineData(270, 66.5607089, 90.0)]
    [InlineData(90, 23.4392911, 0.0)]
    [InlineData(90, 0, -23.4392911)]
    public void Ecliptic_latitude_of_known_points(double ra, double dec, double beta)
    {
        Assert.True(FilterExpression.Compile($"abs(ecliptic_lat({ra}, {dec}) - ({beta})) < 1e-6").Matches(new Alert()));
    }

    [OracleFact]
    public void Ecliptic_and_galactic_latitudes_agree_with_rubins_own_on_its_solar_system_alerts()
    {
        var eclipticOk = FilterExpression.Compile("abs(ecliptic_lat(ra, dec) - ssSource.eclBeta) < 0.01");
        var galacticOk = FilterExpression.Compile("abs(galactic_lat(ra, dec) - ssSource.galLat) < 0.01");
        var rubinSso = RealAlerts.Alerts.Where(a => FilterExpression.Compile("ssSource.eclBeta is not null").Matches(a.Alert)).ToList();
        Assert.NotEmpty(rubinSso);
        Assert.All(rubinSso, a => Assert.True(eclipticOk.Matches(a.Alert) && galacticOk.Matches(a.Alert), a.Key));
    }

    [Theory]
    [InlineData("angdist(10, 20, 10, 20) = 0")]
    [InlineData("abs(angdist(0, 0, 0, 1) - 3600) < 1e-6")]
    [InlineData("abs(angdist(359.9, 0, 0.1, 0) - 720) < 1e-6")]
    [InlineData("abs(angdist(0, 90, 180, 89) - 3600) < 1e-6")]
    [InlineData("abs(angdist(0, 0, 180, 0) - 648000) < 1e-6")]
    [InlineData("abs(angdist(0, 0, 0, 1e-9) - 3.6e-6) < 1e-12")]
    public void Angular_distance_in_arcseconds_at_the_poles_the_wrap_and_tiny_separations(string text)
    {
        Assert.True(FilterExpression.Compile(text).Matches(new Alert()));
    }

    [Fact]
    public void A_field_absent_from_an_older_schema_reads_null()
    {
        // A ZTF 3.x record has no candidate.tooflag; a Rubin v9 diaSource no diaSource.band (it had filterName).
        var old = new Alert { Survey = Survey.Ztf, SurveyFields = new Dictionary<string, object?> { ["candidate.magpsf"] = 18.5 } };
        Assert.True(FilterExpression.Compile("candidate.tooflag is null and candidate.magpsf = 18.5 and diaSource.band is null").Matches(old));
        Assert.False(FilterExpression.Compile("candidate.tooflag = 0 or not (candidate.tooflag = 0)").Matches(old));
    }

    [Fact]
    public void A_survey_NaN_reads_as_null()
    {
        var a = new Alert { Flux = double.NaN, SurveyFields = new Dictionary<string, object?> { ["diaSource.psfFlux"] = double.NaN } };
        Assert.True(FilterExpression.Compile("flux is null and diaSource.psfFlux is null").Matches(a));
    }

    [Fact]
    public void Unknown_is_not_a_match_and_its_negation_is_unknown_too()
    {
        var f = FilterExpression.Compile("candidate.drb > 0.5");
        var g = FilterExpression.Compile("not (candidate.drb > 0.5)");
        var a = new Alert();
        Assert.Equal(Tri.Unknown, f.Evaluate(a));
        Assert.Equal(Tri.Unknown, g.Evaluate(a));
        Assert.False(f.Matches(a) || g.Matches(a));
    }

    [Fact]
    public void A_set_loads_each_field_once_and_agrees_with_each_filter_alone()
    {
        var layout = new FieldLayout();
        string[] texts = ["mag < 19", "mag < 18.5 and band = 'g'", "class.stamp.SN > 0.5", "ndet() > 4", "sso.designation is null"];
        var set = new FilterSet(layout, [.. texts.Select(t => FilterExpression.Compile(t, layout: layout))]);
        // mag, band, class.stamp.SN, sso.designation and the derived ndet(): each loaded once for the five filters.
        Assert.Equal(5, set.FieldCount);
        var row = set.CreateRow();
        var results = new byte[texts.Length];
        int n = set.Evaluate(Classified(), row, results);
        Assert.Equal([Tri.True, Tri.True, Tri.True, Tri.True, Tri.False], results);
        Assert.Equal(4, n);
        // A filter added later grows the layout; the earlier filters keep their slots.
        var bigger = set.With(FilterExpression.Compile("galactic.b > 10 and realBogus is null", layout: layout));
        var row2 = bigger.CreateRow();
        var results2 = new byte[6];
        Assert.Equal(5, bigger.Evaluate(Classified(), row2, results2));
        Assert.Throws<ArgumentException>(() => bigger.Evaluate(Classified(), row, results2));
        Assert.Throws<ArgumentException>(() => new FilterSet(new FieldLayout(), set.Filters));
    }

    [Fact]
    public void Keywords_and_functions_are_case_insensitive_and_fields_are_not()
    {
        Assert.True(FilterExpression.Compile("MAG_ < 1 OR TRUE".Replace("MAG_ < 1 OR ", "NOT FALSE AND Abs(-1) = 1 AND ")).Matches(new Alert()));
        Assert.Throws<FilterCompileException>(() => FilterExpression.Compile("Band = 'g'"));
    }

    [Fact]
    public void Integers_stay_exact_beyond_two_to_the_53()
    {
        var a = new Alert { AlertId = 9007199254740993 };
        Assert.True(FilterExpression.Compile("alertId = 9007199254740993 and alertId != 9007199254740992").Matches(a));
        // Mixed with a decimal, both are promoted to double, as the issue says.
        Assert.True(FilterExpression.Compile("alertId = 9007199254740992.0").Matches(a));
    }
}
