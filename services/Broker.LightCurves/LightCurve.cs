using Broker.Alerts.Model;

namespace Broker.LightCurves;

/// <summary>
/// The bands a light curve keeps, in feature order, and the numeric suffix each band's features carry. ZTF's
/// <c>fid</c> numbering (g=1, r=2, i=3) is kept so the ZTF columns are ALeRCE's names exactly (<c>Amplitude_1</c>
/// is g, <c>Amplitude_2</c> is r); Rubin's other bands continue it: u=4, z=5, y=6 (Rubin g, r, i share ZTF's numbers:
/// the features of a band are survey-neutral, the models that read them are not).
/// </summary>
public static class LightCurveBands
{
    /// <summary>Number of bands a light curve holds.</summary>
    public const int Count = 6;

    /// <summary>Band g (ZTF fid 1).</summary>
    public const int G = 0;

    /// <summary>Band r (ZTF fid 2).</summary>
    public const int R = 1;

    /// <summary>Band names by index.</summary>
    public static IReadOnlyList<string> Names { get; } = ["g", "r", "i", "u", "z", "y"];

    /// <summary>The band's index (0..5), or -1 for a band this library does not know.</summary>
    public static int IndexOf(string band) => band switch
    {
        "g" or "zg" => 0,
        "r" or "zr" => 1,
        "i" or "zi" => 2,
        "u" => 3,
        "z" => 4,
        "y" => 5,
        _ => -1,
    };

    /// <summary>The feature-name suffix of band <paramref name="index"/>: its ZTF-style number, 1..6.</summary>
    public static string Suffix(int index) => (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>
/// One band's points of one kind (detections, upper limits or forced photometry) as parallel arrays sorted by time.
/// The arrays are pooled: <see cref="Clear"/> keeps them, so reloading a light curve of the same size allocates nothing.
/// Columns a kind does not have hold NaN (an upper limit has only <see cref="Time"/> and <see cref="Mag"/>, the limiting magnitude).
/// </summary>
public sealed class PointSeries
{
    private double[] _time = new double[16], _mag = new double[16], _magErr = new double[16], _flux = new double[16], _fluxErr = new double[16];
    private bool[] _positive = new bool[16];

    /// <summary>Number of points.</summary>
    public int Count { get; private set; }

    /// <summary>Times, MJD TAI, ascending.</summary>
    public ReadOnlySpan<double> Time => _time.AsSpan(0, Count);

    /// <summary>AB magnitudes (difference-image magnitude of |flux| for detections, limiting magnitude for upper limits).</summary>
    public ReadOnlySpan<double> Mag => _mag.AsSpan(0, Count);

    /// <summary>Magnitude uncertainties.</summary>
    public ReadOnlySpan<double> MagErr => _magErr.AsSpan(0, Count);

    /// <summary>Difference fluxes, nJy, negative when the science image is fainter than the template.</summary>
    public ReadOnlySpan<double> Flux => _flux.AsSpan(0, Count);

    /// <summary>Flux uncertainties, nJy.</summary>
    public ReadOnlySpan<double> FluxErr => _fluxErr.AsSpan(0, Count);

    /// <summary>True where the science image is brighter than the template (detections).</summary>
    public ReadOnlySpan<bool> IsPositive => _positive.AsSpan(0, Count);

    /// <summary>Forgets the points, keeping the arrays.</summary>
    public void Clear() => Count = 0;

    internal void Add(double time, double mag, double magErr, double flux, double fluxErr, bool positive)
    {
        if (Count == _time.Length) Grow();
        _time[Count] = time; _mag[Count] = mag; _magErr[Count] = magErr; _flux[Count] = flux; _fluxErr[Count] = fluxErr; _positive[Count] = positive;
        Count++;
    }

    /// <summary>
    /// Sorts by time (insertion sort: the histories surveys send are nearly always in order already, where it is
    /// linear and allocation-free) and drops points at the same time as an earlier one (the alert's own detection
    /// repeated in its history); returns how many were dropped.
    /// </summary>
    internal int SortAndDeduplicate()
    {
        for (int i = 1; i < Count; i++)
        {
            double t = _time[i];
            if (_time[i - 1] <= t) continue;
            double m = _mag[i], me = _magErr[i], f = _flux[i], fe = _fluxErr[i];
            bool p = _positive[i];
            int j = i - 1;
            while (j >= 0 && _time[j] > t)
            {
                _time[j + 1] = _time[j]; _mag[j + 1] = _mag[j]; _magErr[j + 1] = _magErr[j]; _flux[j + 1] = _flux[j]; _fluxErr[j + 1] = _fluxErr[j]; _positive[j + 1] = _positive[j];
                j--;
            }
            _time[j + 1] = t; _mag[j + 1] = m; _magErr[j + 1] = me; _flux[j + 1] = f; _fluxErr[j + 1] = fe; _positive[j + 1] = p;
        }
        // Same time to within ~0.1 s: the same exposure.
        const double SameExposureDays = 1e-6;
        int kept = Count == 0 ? 0 : 1;
        for (int i = 1; i < Count; i++)
        {
            if (_time[i] - _time[kept - 1] < SameExposureDays) continue;
            _time[kept] = _time[i]; _mag[kept] = _mag[i]; _magErr[kept] = _magErr[i]; _flux[kept] = _flux[i]; _fluxErr[kept] = _fluxErr[i]; _positive[kept] = _positive[i];
            kept++;
        }
        int dropped = Count - kept;
        Count = kept;
        return dropped;
    }

    private void Grow()
    {
        int n = _time.Length * 2;
        Array.Resize(ref _time, n); Array.Resize(ref _mag, n); Array.Resize(ref _magErr, n);
        Array.Resize(ref _flux, n); Array.Resize(ref _fluxErr, n); Array.Resize(ref _positive, n);
    }
}

/// <summary>
/// An alert's light curve: per band, its detections (the alert itself and its previous detections), its upper
/// limits (previous non-detections) and its forced photometry, each as time-sorted parallel arrays
/// (<see cref="PointSeries"/>), plus the context scalars the features read (star/galaxy score, PS1 distance,
/// crossmatch). Reusable: <see cref="Load"/> resets and refills pooled arrays, so a worker that keeps one light
/// curve allocates nothing per alert once the arrays have grown to its largest history.
/// </summary>
/// <remarks>
/// Points that cannot be used (non-finite time; a detection with neither a finite magnitude and positive error nor a
/// finite flux and positive error; an upper limit without a finite limit; forced photometry without finite flux and
/// positive error; a band not in <see cref="LightCurveBands"/>) are dropped and counted in <see cref="DroppedPoints"/>;
/// repeats of an exposure (same band, same time) in <see cref="DuplicatePoints"/>. A detection that has a magnitude but
/// no flux gets its flux from the AB zero point (31.4 for nJy, signed by <see cref="Detection.IsPositive"/>), and the
/// reverse; errors convert with 2.5/ln 10.
/// </remarks>
public sealed class LightCurve
{
    /// <summary>AB magnitude of 1 nJy: -2.5 log10(1e-9 / 3631).</summary>
    public const double NanojanskyZeroPoint = 31.4;

    /// <summary>2.5 / ln 10: d(mag) = this × d(flux) / flux.</summary>
    public const double MagPerFractionalFlux = 1.0857362047581294;

    private readonly PointSeries[] _detections = new PointSeries[LightCurveBands.Count];
    private readonly PointSeries[] _upperLimits = new PointSeries[LightCurveBands.Count];
    private readonly PointSeries[] _forced = new PointSeries[LightCurveBands.Count];

    /// <summary>An empty light curve.</summary>
    public LightCurve()
    {
        for (int b = 0; b < LightCurveBands.Count; b++)
        {
            _detections[b] = new PointSeries();
            _upperLimits[b] = new PointSeries();
            _forced[b] = new PointSeries();
        }
        Reset();
    }

    /// <summary>A new light curve loaded from <paramref name="alert"/> (allocates; on the hot path keep one and call <see cref="Load"/>).</summary>
    public static LightCurve FromAlert(Alert alert)
    {
        var lc = new LightCurve();
        lc.Load(alert);
        return lc;
    }

    /// <summary>Detections in band <paramref name="band"/> (a <see cref="LightCurveBands"/> index).</summary>
    public PointSeries Detections(int band) => _detections[band];

    /// <summary>Upper limits (non-detections) in band <paramref name="band"/>; <see cref="PointSeries.Mag"/> is the limiting magnitude.</summary>
    public PointSeries UpperLimits(int band) => _upperLimits[band];

    /// <summary>Forced photometry in band <paramref name="band"/>.</summary>
    public PointSeries Forced(int band) => _forced[band];

    /// <summary>Points dropped as unusable (NaN, missing, unknown band).</summary>
    public int DroppedPoints { get; private set; }

    /// <summary>Points dropped as repeats of an exposure already held.</summary>
    public int DuplicatePoints { get; private set; }

    /// <summary>Total detections over all bands.</summary>
    public int DetectionCount
    {
        get
        {
            int n = 0;
            foreach (var s in _detections) n += s.Count;
            return n;
        }
    }

    /// <summary>The alert's own time, MJD TAI (the reference for ages), or NaN for a light curve built point by point.</summary>
    public double AlertMjd { get; set; }

    /// <summary>ZTF <c>candidate.sgscore1</c> (PS1 star/galaxy score, 1 = star), or NaN.</summary>
    public double StarGalaxyScore { get; set; }

    /// <summary>ZTF <c>candidate.distpsnr1</c>, arcseconds to the nearest PS1 source, or NaN.</summary>
    public double DistancePs1Arcsec { get; set; }

    /// <summary>Rubin <c>diaSource.extendedness</c> (0 point-like, 1 extended), or NaN.</summary>
    public double Extendedness { get; set; }

    /// <summary>The alert's real-bogus score, or NaN.</summary>
    public double RealBogus { get; set; }

    /// <summary>Galactic longitude and latitude, degrees (crossmatch stage), or NaN.</summary>
    public double GalacticL { get; set; }

    /// <summary>Galactic latitude, degrees, or NaN.</summary>
    public double GalacticB { get; set; }

    /// <summary>Distance to the nearest crossmatch counterpart, arcseconds, or NaN when there is none.</summary>
    public double NearestCrossmatchArcsec { get; set; }

    /// <summary>The nearest counterpart's type as a code (<see cref="CrossmatchTypeCode"/>), or NaN.</summary>
    public double NearestCrossmatchType { get; set; }

    /// <summary>Forgets every point and context value, keeping the arrays.</summary>
    public void Reset()
    {
        for (int b = 0; b < LightCurveBands.Count; b++)
        {
            _detections[b].Clear();
            _upperLimits[b].Clear();
            _forced[b].Clear();
        }
        DroppedPoints = 0;
        DuplicatePoints = 0;
        AlertMjd = StarGalaxyScore = DistancePs1Arcsec = Extendedness = RealBogus = double.NaN;
        GalacticL = GalacticB = NearestCrossmatchArcsec = NearestCrossmatchType = double.NaN;
    }

    /// <summary>
    /// Resets and loads <paramref name="alert"/>: its own detection, <see cref="Alert.Detections"/>,
    /// <see cref="Alert.UpperLimits"/>, <see cref="Alert.ForcedPhotometry"/>, and the context fields; then sorts.
    /// </summary>
    public void Load(Alert alert)
    {
        Reset();
        AddDetection(alert.Band, alert.MjdTai, alert.Mag, alert.MagErr, alert.Flux, alert.FluxErr, alert.IsPositive);
        var detections = alert.Detections;
        for (int i = 0; i < detections.Count; i++)
        {
            var d = detections[i];
            AddDetection(d.Band, d.MjdTai, d.Mag, d.MagErr, d.Flux, d.FluxErr, d.IsPositive);
        }
        var limits = alert.UpperLimits;
        for (int i = 0; i < limits.Count; i++)
        {
            var u = limits[i];
            AddUpperLimit(LightCurveBands.IndexOf(u.Band), u.MjdTai, u.LimitingMag ?? double.NaN);
        }
        var forced = alert.ForcedPhotometry;
        for (int i = 0; i < forced.Count; i++)
        {
            var f = forced[i];
            AddForced(LightCurveBands.IndexOf(f.Band), f.MjdTai, f.Flux ?? double.NaN, f.FluxErr ?? double.NaN);
        }

        AlertMjd = alert.MjdTai;
        var fields = alert.SurveyFields;
        StarGalaxyScore = Field(fields, "candidate.sgscore1");
        DistancePs1Arcsec = Field(fields, "candidate.distpsnr1");
        Extendedness = Field(fields, "diaSource.extendedness");
        // ZTF marks "no PS1 source" with -999 in both fields.
        if (StarGalaxyScore < -900) StarGalaxyScore = double.NaN;
        if (DistancePs1Arcsec < -900) DistancePs1Arcsec = double.NaN;
        RealBogus = alert.RealBogus ?? double.NaN;
        if (alert.Galactic is { } gal)
        {
            GalacticL = gal.LDeg;
            GalacticB = gal.BDeg;
        }
        var matches = alert.Crossmatches;
        for (int i = 0; i < matches.Count; i++)
        {
            var m = matches[i];
            if (!(m.DistanceArcsec >= NearestCrossmatchArcsec) && double.IsFinite(m.DistanceArcsec))
            {
                NearestCrossmatchArcsec = m.DistanceArcsec;
                NearestCrossmatchType = CrossmatchTypeCode(m.ObjectType);
            }
        }
        Complete();
    }

    /// <summary>
    /// A counterpart type as a number a tree model can split on: 1 star, 2 galaxy, 3 QSO/AGN, 4 other or unknown type.
    /// </summary>
    public static double CrossmatchTypeCode(string? objectType)
    {
        if (string.IsNullOrEmpty(objectType)) return 4;
        if (objectType.Contains("star", StringComparison.OrdinalIgnoreCase)) return 1;
        if (objectType.Contains("gal", StringComparison.OrdinalIgnoreCase)) return 2;
        if (objectType.Contains("qso", StringComparison.OrdinalIgnoreCase) || objectType.Contains("agn", StringComparison.OrdinalIgnoreCase)) return 3;
        return 4;
    }

    /// <summary>Adds a detection (band by name); magnitudes and fluxes may be null and are derived from each other; unusable points are counted and dropped. Call <see cref="Complete"/> after the last point.</summary>
    public void AddDetection(string band, double mjd, double? mag, double? magErr, double? flux, double? fluxErr, bool positive) =>
        AddDetection(LightCurveBands.IndexOf(band), mjd, mag ?? double.NaN, magErr ?? double.NaN, flux ?? double.NaN, fluxErr ?? double.NaN, positive);

    /// <summary>Adds a detection (band by index; NaN for a missing value).</summary>
    public void AddDetection(int band, double mjd, double mag, double magErr, double flux, double fluxErr, bool positive)
    {
        if (band < 0 || !double.IsFinite(mjd)) { DroppedPoints++; return; }
        bool magOk = double.IsFinite(mag) && magErr > 0 && double.IsFinite(magErr);
        bool fluxOk = double.IsFinite(flux) && flux != 0 && fluxErr > 0 && double.IsFinite(fluxErr);
        if (!magOk && !fluxOk) { DroppedPoints++; return; }
        if (!fluxOk)
        {
            double f = Math.Pow(10, (NanojanskyZeroPoint - mag) / 2.5);
            flux = positive ? f : -f;
            fluxErr = f * magErr / MagPerFractionalFlux;
        }
        else if (!magOk)
        {
            double f = Math.Abs(flux);
            mag = NanojanskyZeroPoint - 2.5 * Math.Log10(f);
            magErr = MagPerFractionalFlux * fluxErr / f;
        }
        _detections[band].Add(mjd, mag, magErr, flux, fluxErr, positive);
    }

    /// <summary>Adds an upper limit (non-detection) with its limiting magnitude.</summary>
    public void AddUpperLimit(int band, double mjd, double limitingMag)
    {
        if (band < 0 || !double.IsFinite(mjd) || !double.IsFinite(limitingMag)) { DroppedPoints++; return; }
        _upperLimits[band].Add(mjd, limitingMag, double.NaN, double.NaN, double.NaN, false);
    }

    /// <summary>Adds a forced-photometry point, nJy.</summary>
    public void AddForced(int band, double mjd, double flux, double fluxErr)
    {
        if (band < 0 || !double.IsFinite(mjd) || !double.IsFinite(flux) || !(fluxErr > 0) || !double.IsFinite(fluxErr)) { DroppedPoints++; return; }
        _forced[band].Add(mjd, double.NaN, double.NaN, flux, fluxErr, flux > 0);
    }

    /// <summary>Sorts every series by time and drops repeated exposures (<see cref="Load"/> calls it).</summary>
    public void Complete()
    {
        for (int b = 0; b < LightCurveBands.Count; b++)
        {
            DuplicatePoints += _detections[b].SortAndDeduplicate();
            DuplicatePoints += _upperLimits[b].SortAndDeduplicate();
            DuplicatePoints += _forced[b].SortAndDeduplicate();
        }
    }

    private static double Field(IReadOnlyDictionary<string, object?> fields, string key)
    {
        if (!fields.TryGetValue(key, out object? value)) return double.NaN;
        return value switch
        {
            double d => d,
            float f => f,
            int i => i,
            long l => l,
            _ => double.NaN,
        };
    }
}
