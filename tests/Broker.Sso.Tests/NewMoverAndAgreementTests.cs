using Broker.Alerts.Model;
using Broker.Sky.Orbits;

namespace Broker.Sso.Tests;

/// <summary>The candidate new mover rules and how Broker's association is compared with the survey's.</summary>
public sealed class NewMoverAndAgreementTests
{
    private static readonly SsoStep Step = Started();

    private static SsoStep Started()
    {
        var step = new SsoStep(new SsoOptions(), SolarSystemCatalog.Empty);
        step.StartAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return step;
    }

    private static Alert Lone(params (string Key, object? Value)[] fields) => new()
    {
        Survey = Survey.Ztf, AlertId = 7, Ra = 40.5, Dec = 12.25, MjdTai = 60300.3, IsPositive = true, RealBogus = 0.9,
        SurveyFields = fields.ToDictionary(f => f.Key, f => f.Value),
    };

    private static Classification Stamp(double asteroid) => new()
    {
        Classifier = "stamp", Model = "stamp-cnn", ModelVersion = "1", TopClass = "asteroid",
        Probabilities = new Dictionary<string, double> { ["asteroid"] = asteroid, ["SN"] = 1 - asteroid },
    };

    [Fact]
    public void A_lone_positive_detection_nobody_associated_is_a_candidate_new_mover_and_anything_fixed_is_not()
    {
        var mover = Assert.Single(RealAlerts.Run(Step, [Lone(("candidate.ndethist", 1L))]));
        Assert.Null(mover.SolarSystem);
        Assert.Equal("no known orbit matches; no earlier detection; no catalogue counterpart", mover.NewMover!.Reason);
        var withStamp = Assert.Single(RealAlerts.Run(Step, [Lone() with { Classifications = [Stamp(0.9)] }]));
        Assert.EndsWith("; stamp asteroid score 0.90", withStamp.NewMover!.Reason);

        var earlier = new Detection { AlertId = 6, MjdTai = 60290, Band = "r", Ra = 40.5, Dec = 12.2501 };
        Alert[] fixedSources =
        [
            Lone() with { IsPositive = false },
            Lone() with { RealBogus = 0.2 },
            Lone(("candidate.ndethist", 4L)),
            Lone() with { Detections = [earlier] },
            Lone() with { Crossmatches = [new Crossmatch { Catalog = "stars", SourceId = "1", Ra = 40.5, Dec = 12.25, DistanceArcsec = 0.2 }] },
            Lone() with { Classifications = [Stamp(0.1)] },
        ];
        Assert.All(RealAlerts.Run(Step, fixedSources), a => Assert.Null(a.NewMover));
        // A history elsewhere (another object's, far away) does not count.
        var far = Assert.Single(RealAlerts.Run(Step, [Lone() with { Detections = [earlier with { Dec = 13.25 }] }]));
        Assert.Contains("no earlier detection within 2\"", far.NewMover!.Reason);
    }

    [Fact]
    public void The_survey_association_is_kept_beside_brokers_and_their_agreement_named()
    {
        var orbit = new SolarSystemOrbit("217301", "217301 (2004 JQ12)", new CometaryElements(2, 0.1, 5, 0, 0, 61000, 61000), 16, 0.15, "test");
        var broker = new SolarSystemAssociation { Designation = "217301", DistanceArcsec = 0.03, Source = SsoStep.BrokerSource };
        var same = new SurveyAssociation("2004 JQ12", 0.01, null, null);
        var other = new SurveyAssociation("2020 SJ88", 0.5, null, null);
        Assert.Equal(SolarSystemAssociation.Agree, SsoStep.Combine(broker, orbit, same)!.Agreement);
        var disagree = SsoStep.Combine(broker, orbit, other)!;
        Assert.Equal((SolarSystemAssociation.Disagree, "217301", "2020 SJ88", 0.5), (disagree.Agreement, disagree.Designation, disagree.SurveyDesignation, disagree.SurveyDistanceArcsec));
        Assert.Equal(SolarSystemAssociation.BrokerOnly, SsoStep.Combine(broker, orbit, null)!.Agreement);
        var surveyOnly = SsoStep.Combine(null, null, other)!;
        Assert.Equal((SolarSystemAssociation.SurveyOnly, SsoStep.SurveySource, "2020 SJ88", 0.5), (surveyOnly.Agreement, surveyOnly.Source, surveyOnly.Designation, surveyOnly.DistanceArcsec));
        Assert.Null(SsoStep.Combine(null, null, null));

        // ZTF writes "null" and -999 for no association.
        Assert.Null(SurveyAssociation.Of(Lone(("candidate.ssnamenr", "null"), ("candidate.ssdistnr", -999.0))));
        Assert.Equal(new SurveyAssociation("2012QR64", 1.5, null, null), SurveyAssociation.Of(Lone(("candidate.ssnamenr", "2012QR64"), ("candidate.ssdistnr", 1.5))));
    }
}
