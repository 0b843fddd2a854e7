namespace Broker.Alerts.Model;

/// <summary>The survey that issued an alert.</summary>
public enum Survey { Ztf, Lsst, Unknown }

/// <summary>
/// One survey detection in Broker's survey-neutral form (schemas/broker/broker.alert.v1.avsc), plus what later
/// stages add. Units: degrees (ICRS) for positions, MJD TAI for times, nJy for fluxes, AB magnitudes.
/// </summary>
public sealed class Alert
{
    /// <summary>The issuing survey.</summary>
    public Survey Survey { get; set; }

    /// <summary>The survey's alert schema version (ZTF <c>schemavsn</c>; Rubin <c>lsst.vX_Y</c> as <c>X.Y</c>).</summary>
    public string SurveySchemaVersion { get; set; } = "";

    /// <summary>Unique detection id: ZTF <c>candid</c>, Rubin <c>diaSourceId</c>. The Kafka key.</summary>
    public long AlertId { get; set; }

    /// <summary>The survey's object id (ZTF <c>objectId</c>, Rubin <c>diaObjectId</c> or <c>ssObjectId</c>).</summary>
    public string ObjectId { get; set; } = "";

    /// <summary>Right ascension, degrees ICRS.</summary>
    public double Ra { get; set; }

    /// <summary>Declination, degrees ICRS.</summary>
    public double Dec { get; set; }

    /// <summary>Uncertainty of <see cref="Ra"/>, degrees, when the survey gives one.</summary>
    public double? RaErr { get; set; }

    /// <summary>Uncertainty of <see cref="Dec"/>, degrees, when the survey gives one.</summary>
    public double? DecErr { get; set; }

    /// <summary>Detection time, MJD TAI (ZTF's UTC <c>jd</c> converted with the leap-second table).</summary>
    public double MjdTai { get; set; }

    /// <summary>Band name: g, r, i (ZTF); u, g, r, i, z, y (Rubin).</summary>
    public string Band { get; set; } = "";

    /// <summary>Difference-image PSF flux, nJy; negative when fading.</summary>
    public double Flux { get; set; }

    /// <summary>Uncertainty of <see cref="Flux"/>, nJy.</summary>
    public double FluxErr { get; set; }

    /// <summary>AB magnitude of |flux|, when defined.</summary>
    public double? Mag { get; set; }

    /// <summary>Uncertainty of <see cref="Mag"/>.</summary>
    public double? MagErr { get; set; }

    /// <summary>True when the science image is brighter than the template.</summary>
    public bool IsPositive { get; set; }

    /// <summary>The survey's real-bogus score (ZTF drb or rb; Rubin reliability).</summary>
    public double? RealBogus { get; set; }

    /// <summary>Previous detections, oldest first.</summary>
    public List<Detection> Detections { get; set; } = [];

    /// <summary>Previous non-detections.</summary>
    public List<UpperLimit> UpperLimits { get; set; } = [];

    /// <summary>Forced photometry history.</summary>
    public List<ForcedPoint> ForcedPhotometry { get; set; } = [];

    /// <summary>The image stamps, when the survey sent them.</summary>
    public Cutouts? Cutouts { get; set; }

    /// <summary>The survey's own scalar fields keyed by path (<c>candidate.sgscore1</c>, <c>diaSource.snr</c>, ...).</summary>
    public Dictionary<string, object?> SurveyFields { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Catalogue counterparts (crossmatch stage).</summary>
    public List<Crossmatch> Crossmatches { get; set; } = [];

    /// <summary>Known solar-system object association (sso stage).</summary>
    public SolarSystemAssociation? SolarSystem { get; set; }

    /// <summary>Classifier outputs, each naming its model.</summary>
    public List<Classification> Classifications { get; set; } = [];

    /// <summary>Names of the user filters the alert passed.</summary>
    public List<string> Filters { get; set; } = [];

    /// <summary>Per stage, when it finished with the alert (Unix microseconds).</summary>
    public Dictionary<string, long> StageTimes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>A previous detection of the same object.</summary>
public sealed record Detection
{
    /// <summary>Its alert id, when the survey gives one.</summary>
    public long? AlertId { get; init; }

    /// <summary>MJD TAI.</summary>
    public double MjdTai { get; init; }

    /// <summary>Band name.</summary>
    public string Band { get; init; } = "";

    /// <summary>Degrees ICRS.</summary>
    public double? Ra { get; init; }

    /// <summary>Degrees ICRS.</summary>
    public double? Dec { get; init; }

    /// <summary>nJy.</summary>
    public double? Flux { get; init; }

    /// <summary>nJy.</summary>
    public double? FluxErr { get; init; }

    /// <summary>AB magnitude.</summary>
    public double? Mag { get; init; }

    /// <summary>Magnitude uncertainty.</summary>
    public double? MagErr { get; init; }

    /// <summary>Science brighter than template.</summary>
    public bool IsPositive { get; init; } = true;

    /// <summary>Real-bogus score.</summary>
    public double? RealBogus { get; init; }
}

/// <summary>A previous non-detection.</summary>
public sealed record UpperLimit(double MjdTai, string Band, double? LimitingMag);

/// <summary>A forced-photometry measurement, nJy.</summary>
public sealed record ForcedPoint(double MjdTai, string Band, double? Flux, double? FluxErr);

/// <summary>The three stamps as the survey sent them: gzipped FITS (ZTF) or plain FITS (Rubin).</summary>
public sealed record Cutouts(string Format, byte[]? Science, byte[]? Template, byte[]? Difference)
{
    /// <summary>The stamp of kind <paramref name="index"/> in <see cref="SurveyAlertMapper.CutoutKinds"/> order (science, template, difference).</summary>
    public byte[]? this[int index] => index switch
    {
        0 => Science,
        1 => Template,
        2 => Difference,
        _ => throw new ArgumentOutOfRangeException(nameof(index), index, "cutout kinds are 0..2"),
    };
}

/// <summary>A catalogue counterpart.</summary>
public sealed record Crossmatch(string Catalog, string SourceId, double Ra, double Dec, double DistanceArcsec, IReadOnlyDictionary<string, object?> Properties);

/// <summary>An association with a known solar-system object.</summary>
public sealed record SolarSystemAssociation(string Designation, double DistanceArcsec, double? PredictedMag, string Source);

/// <summary>One classifier's output.</summary>
public sealed record Classification(string Classifier, string Model, string ModelVersion, IReadOnlyDictionary<string, double> Probabilities, string TopClass);
