using Broker.Alerts.Avro;
using Broker.Alerts.Model;

namespace Broker.Alerts.Tests.Model;

/// <summary>Broker alerts built by hand for the codec tests, and checks over their records.</summary>
internal static class BrokerAlertSamples
{
    /// <summary>
    /// An alert with every field of schema 1.3 set to a value other than its default, in every record type: two
    /// classifications, so that one is classified and the other says why not.
    /// </summary>
    public static Alert Full() => new()
    {
        Survey = Survey.Lsst,
        SurveySchemaVersion = "11.0",
        AlertId = 170_003_456_789_012,
        ObjectId = "3068394003128631301",
        Ra = 150.25,
        Dec = -30.5,
        RaErr = 1.5e-5,
        DecErr = 2.5e-5,
        MjdTai = 60800.123456,
        Band = "r",
        Flux = 1234.5,
        FluxErr = 12.5,
        Mag = 23.671,
        MagErr = 0.011,
        IsPositive = true,
        RealBogus = 0.93,
        Detections =
        [
            new Detection
            {
                AlertId = 11, MjdTai = 60790.1, Band = "g", Ra = 150.2501, Dec = -30.5001, Flux = -1000, FluxErr = 10,
                Mag = 23.9, MagErr = 0.012, IsPositive = false, RealBogus = 0.8,
            },
        ],
        UpperLimits = [new UpperLimit(60780.5, "r", 24.1)],
        ForcedPhotometry = [new ForcedPoint(60785.5, "i", 321.0, 4.5)],
        Cutouts = new Cutouts("fits", [1, 2, 3], [4, 5], [6]),
        SurveyFields = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["diaSource.snr"] = 42.0,
            ["diaObject.nDiaSources"] = 7L,
            ["diaSource.isDipole"] = false,
            ["diaSource.band"] = "r",
        },
        Crossmatches =
        [
            new Crossmatch
            {
                Catalog = "Gaia", CatalogRelease = "DR3", SourceId = "5853498713190525696", Ra = 150.2502, Dec = -30.5002,
                DistanceArcsec = 0.8, MatchRadiusArcsec = 2.0, ObjectType = "star", Redshift = 0.0123, PhysicalOffsetKpc = 0.2071,
                Properties = new Dictionary<string, object?>(StringComparer.Ordinal) { ["phot_g_mean_mag"] = 17.2, ["source"] = "gaia_source" },
            },
        ],
        Galactic = new GalacticContext(263.5, 21.25, false),
        SolarSystem = new SolarSystemAssociation
        {
            Designation = "2004 JQ12", DistanceArcsec = 1.2, PredictedMag = 20.5, Source = "broker",
            PredictedRa = 150.2503, PredictedDec = -30.4999, RaRateArcsecPerHour = 35.25, DecRateArcsecPerHour = -12.125,
            EphemerisSource = "mpc_orbits two-body", EphemerisEpochMjdTdb = 61000.0,
            SurveyDesignation = "2004JQ12", SurveyDistanceArcsec = 0.75, Agreement = SolarSystemAssociation.Agree,
        },
        NewMover = new NewMoverCandidate("no known orbit matches; no earlier detection; no catalogue counterpart"),
        Classifications =
        [
            new Classification
            {
                Classifier = "lightcurve", Model = "alerce-lc", ModelVersion = "2.1.0", Taxonomy = "alerce-lc-2021",
                Classes = ["SNIa", "SNII", "AGN"],
                Probabilities = new Dictionary<string, double>(StringComparer.Ordinal) { ["SNIa"] = 0.7, ["SNII"] = 0.2, ["AGN"] = 0.1 },
                TopClass = "SNIa",
            },
            Classification.NotClassified("stamp", "stamp-cnn", "1.0.0", "alerce-stamp-2020", Classification.NoCutouts),
        ],
        Filters = [new FilterMatch("bright-transients", "3")],
        StageTimes = System.Collections.Immutable.ImmutableDictionary<string, long>.Empty.Add("ingest", 1_764_633_600_000_000).Add("crossmatch", 1_764_633_600_250_000),
        StageVersions = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add("ingest", "1.0.0+abc").Add("crossmatch", "1.0.0+def"),
    };

    /// <summary>
    /// Fails unless every field of every record type reachable from <paramref name="record"/> holds a value other
    /// than null, an empty string, array or map in at least one record of that type: so a round trip of it covers
    /// every field, including any added to the schema later (the test then has to set it).
    /// </summary>
    public static void AssertEveryFieldSet(AvroRecord record)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        var types = new Dictionary<string, RecordSchema>(StringComparer.Ordinal);
        Visit(record, set, types);
        var missing = types.Values.SelectMany(t => t.Fields.Select(f => $"{t.FullName}.{f.Name}")).Where(n => !set.Contains(n)).ToList();
        Assert.True(missing.Count == 0, "not set anywhere: " + string.Join(", ", missing));
    }

    private static void Visit(object? value, HashSet<string> set, Dictionary<string, RecordSchema> types)
    {
        switch (value)
        {
            case AvroRecord r:
                types[r.Schema.FullName] = r.Schema;
                foreach (var f in r.Schema.Fields)
                {
                    if (IsSet(r[f.Position])) set.Add($"{r.Schema.FullName}.{f.Name}");
                    Visit(r[f.Position], set, types);
                }
                break;
            case List<object?> list:
                foreach (var item in list) Visit(item, set, types);
                break;
        }
    }

    private static bool IsSet(object? v) => v switch
    {
        null => false,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Dictionary<string, object?> m => m.Count > 0,
        byte[] b => b.Length > 0,
        _ => true,
    };
}
