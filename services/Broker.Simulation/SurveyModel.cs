using Broker.Sky;

namespace Broker.Simulation;

/// <summary>One exposure of one field.</summary>
/// <param name="VisitId">Unique id (ZTF: the exposure part of pid; Rubin: dayObs*100000 + sequence).</param>
/// <param name="Night">Night index relative to the first simulated night (negative: before it, for histories).</param>
/// <param name="Sequence">Exposure number within the night.</param>
/// <param name="MjdUtc">Start of exposure, UTC MJD.</param>
/// <param name="Field">The pointing.</param>
/// <param name="Band">Filter index into <see cref="SurveyModel.Bands"/>.</param>
/// <param name="SeeingArcsec">Delivered PSF FWHM, arcsec.</param>
/// <param name="LimitingMag">5-sigma point-source depth of the difference image, AB mag.</param>
/// <param name="SkyDn">Sky level per pixel in the science image (ZTF DN; Rubin nJy per pixel).</param>
/// <param name="Airmass">Airmass of the field centre.</param>
internal sealed record Visit(long VisitId, int Night, int Sequence, double MjdUtc, SurveyField Field, int Band, double SeeingArcsec, double LimitingMag, double SkyDn, double Airmass)
{
    public double Jd => MjdUtc + TimeScales.MjdOffset;
}

/// <summary>A field of the survey's fixed grid: a square of side 2 × <see cref="HalfWidthDeg"/> on the sky around its centre (ICRS degrees).</summary>
internal sealed record SurveyField(int Id, double RaDeg, double DecDeg, double HalfWidthDeg, double GalacticLatDeg, double GalacticLonDeg)
{
    private readonly double _cosDec = Math.Cos(DecDeg * Coordinates.DegToRad);

    /// <summary>How far east of the centre a right ascension lies along the sky, degrees: the RA difference wrapped to ±180°, times cos Dec of the centre.</summary>
    public double EastOffsetDeg(double raDeg) => (Coordinates.Wrap360(raDeg - RaDeg + 180) - 180) * _cosDec;

    /// <summary>
    /// Whether a position (ICRS degrees) lies in the field's square widened by <paramref name="marginDeg"/> on each
    /// side. NaN coordinates count as inside (they are not outside any edge); callers then find them undetectable.
    /// </summary>
    public bool Contains(double raDeg, double decDeg, double marginDeg = 0)
    {
        double limit = HalfWidthDeg + marginDeg;
        return !(Math.Abs(decDeg - DecDeg) > limit || Math.Abs(EastOffsetDeg(raDeg)) > limit);
    }
}

/// <summary>
/// Survey constants and cadence. ZTF: Bellm et al. 2019 (PASP 131, 018002; 47 deg² field, 1.01"/pixel, 30 s, median
/// depth g 20.8 / r 20.6, median seeing 2.0", fields revisited in g and r within a night and every ~3 nights in the
/// public survey). Rubin: Ivezić et al. 2019 (ApJ 873, 111, table 2: single-visit depths u 23.9 g 25.0 r 24.7 i 24.0
/// z 23.3 y 22.1 at 0.7" seeing; 9.6 deg², 0.2"/pixel), Bianco et al. 2022 (ApJS 258, 1) for visit pairs 33 min apart.
/// </summary>
internal sealed class SurveyModel
{
    public required SurveyKind Kind { get; init; }
    public required ObservatorySite Site { get; init; }
    public required string[] Bands { get; init; }
    public required double[] MedianDepth { get; init; }
    public required double[] Extinction { get; init; }
    public required double MedianSeeing { get; init; }
    public required double PixelScale { get; init; }
    public required double FieldSpacingDeg { get; init; }
    public required double MinDecDeg { get; init; }
    public required double MaxDecDeg { get; init; }
    public required double VisitSeconds { get; init; }
    public required double BlockMinutes { get; init; }
    public required int CadenceNights { get; init; }
    public required int StampSize { get; init; }
    public required double ZeroPoint { get; init; }
    public required double SkyLevel { get; init; }
    public required double Gain { get; init; }

    /// <summary>Sun altitude below which the survey observes (nautical twilight).</summary>
    public double TwilightDeg => -12;

    /// <summary>Lowest field altitude scheduled (airmass 2).</summary>
    public double MinAltitudeDeg => 30;

    public static SurveyModel Ztf { get; } = new()
    {
        Kind = SurveyKind.Ztf, Site = ObservatorySite.Palomar, Bands = ["g", "r"], MedianDepth = [20.8, 20.6], Extinction = [0.20, 0.12],
        MedianSeeing = 2.0, PixelScale = 1.012, FieldSpacingDeg = 6.9, MinDecDeg = -30, MaxDecDeg = 88, VisitSeconds = 39, BlockMinutes = 30,
        CadenceNights = 3, StampSize = 63, ZeroPoint = 26.3, SkyLevel = 120, Gain = 6.2,
    };

    public static SurveyModel Lsst { get; } = new()
    {
        Kind = SurveyKind.Lsst, Site = ObservatorySite.CerroPachon, Bands = ["u", "g", "r", "i", "z", "y"],
        MedianDepth = [23.7, 24.8, 24.4, 23.9, 23.3, 22.4], Extinction = [0.47, 0.21, 0.13, 0.10, 0.07, 0.17],
        MedianSeeing = 0.8, PixelScale = 0.2, FieldSpacingDeg = 3.1, MinDecDeg = -88, MaxDecDeg = 30, VisitSeconds = 34, BlockMinutes = 33,
        CadenceNights = 3, StampSize = 30, ZeroPoint = 31.4, SkyLevel = 0, Gain = 1,
    };

    public static SurveyModel For(SurveyKind kind) => kind == SurveyKind.Ztf ? Ztf : Lsst;

    private SurveyField[]? _fields;

    /// <summary>The field grid: equal-area rings of Dec, fields spaced by <see cref="FieldSpacingDeg"/>.</summary>
    public SurveyField[] Fields => _fields ??= BuildGrid();

    private SurveyField[] BuildGrid()
    {
        var list = new List<SurveyField>();
        double s = FieldSpacingDeg;
        for (double dec = -90 + s / 2; dec < 90; dec += s)
        {
            if (dec < MinDecDeg || dec > MaxDecDeg) continue;
            int n = Math.Max(1, (int)Math.Round(360 * Math.Cos(dec * Coordinates.DegToRad) / s));
            for (int k = 0; k < n; k++)
            {
                double ra = (k + 0.5) * 360.0 / n;
                var (l, b) = Coordinates.EquatorialToGalactic(ra, dec);
                list.Add(new SurveyField(list.Count + 1, ra, dec, s / 2, b, l));
            }
        }
        return list.ToArray();
    }

    /// <summary>The dark window of a night: UTC MJDs when the Sun is below <see cref="TwilightDeg"/>, found on a 2-minute grid.</summary>
    public (double Dusk, double Dawn) DarkWindow(double eveningDateMjd)
    {
        // Local midnight in UTC: the date's 24:00 local mean time.
        double midnight = Math.Floor(eveningDateMjd) + 1 - Site.LongitudeDeg / 360.0;
        double step = 2.0 / 1440;
        double dusk = midnight, dawn = midnight;
        while (dusk > midnight - 0.5 && SolarPosition.AltitudeDeg(dusk - step + TimeScales.MjdOffset, Site) < TwilightDeg) dusk -= step;
        while (dawn < midnight + 0.5 && SolarPosition.AltitudeDeg(dawn + step + TimeScales.MjdOffset, Site) < TwilightDeg) dawn += step;
        return (dusk, dawn);
    }

    /// <summary>
    /// The visits of a night, deterministic for (seed, night). Blocks of <see cref="BlockMinutes"/>: in each, the
    /// fields of tonight's cadence group nearest the meridian and above <see cref="MinAltitudeDeg"/> are observed twice,
    /// in two bands, so every field gets an intra-night pair and comes back every <see cref="CadenceNights"/> nights.
    /// </summary>
    public List<Visit> ScheduleNight(ulong seed, int night, double startMjd)
    {
        var rng = SimRandom.For(seed, 0x5C4ED, (ulong)(night + 1000));
        var (dusk, dawn) = DarkWindow(startMjd + night);
        var visits = new List<Visit>();
        var fields = Fields;
        var used = new HashSet<int>();
        double visitDays = VisitSeconds / 86400.0;
        int perBlock = Math.Max(2, (int)(BlockMinutes * 60 / VisitSeconds) / 2);
        double nightSeeing = rng.LogNormal(MedianSeeing, 0.15);
        double t = dusk;
        int seq = 0;
        int dayObs = (int)Math.Floor(startMjd + night);
        var candidates = new List<(double Score, SurveyField Field)>();
        while (t + 2 * perBlock * visitDays <= dawn + 1e-9)
        {
            double mid = t + perBlock * visitDays;
            double lst = Coordinates.LocalSiderealTimeDeg(mid + TimeScales.MjdOffset, Site.LongitudeDeg);
            candidates.Clear();
            foreach (var f in fields)
            {
                if (used.Contains(f.Id)) continue;
                double ha = Coordinates.Wrap360(lst - f.RaDeg + 180) - 180;
                if (Math.Abs(ha) > 40) continue;
                var (alt, _) = Coordinates.EquatorialToHorizontal(f.RaDeg, f.DecDeg, mid + TimeScales.MjdOffset, Site);
                if (alt < MinAltitudeDeg + 5) continue;
                bool inGroup = PositiveMod(f.Id, CadenceNights) == PositiveMod(night, CadenceNights);
                // ZTF's public survey observes each field in g and r every CadenceNights nights; the rest of the night
                // goes to partnership and Caltech programmes whose exposures never reach the public stream or its
                // histories (Bellm et al. 2019, PASP 131, 068003), so a real alert has ~15-20 earlier epochs in 30
                // days, not one a night.
                if (!inGroup && Kind == SurveyKind.Ztf) continue;
                candidates.Add(((inGroup ? 0 : 1000) + Math.Abs(ha) + rng.NextDouble() * 3, f));
            }
            candidates.Sort((a, b) => a.Score.CompareTo(b.Score));
            int take = Math.Min(perBlock, candidates.Count);
            var (b1, b2) = BandPair(ref rng);
            for (int pass = 0; pass < 2; pass++)
            {
                int band = pass == 0 ? b1 : b2;
                for (int k = 0; k < take; k++)
                {
                    var f = candidates[k].Field;
                    double mjd = t + (pass * perBlock + k) * visitDays;
                    var (alt, _) = Coordinates.EquatorialToHorizontal(f.RaDeg, f.DecDeg, mjd + TimeScales.MjdOffset, Site);
                    double airmass = 1 / Math.Sin(Math.Max(alt, 5) * Coordinates.DegToRad);
                    // Seeing grows as airmass^0.6 (Roddier 1981); depth loses 2.5 log10 of the seeing ratio (background-limited
                    // point source) and the extinction k (X - 1).
                    double seeing = Math.Max(0.4, nightSeeing * Math.Pow(airmass, 0.6) * rng.LogNormal(1, 0.08));
                    // Sky brightness varies with the Moon, twilight and airmass: log-normal with the spread of the real ZTF
                    // stamps' medians (p10/p50/p90 ≈ 77/117/280 DN: a skewed log-normal, bright tail from moonlight); a brighter sky costs 1.25 log10 of its ratio in depth
                    // (background-limited point source), so the pixel noise follows it.
                    double z = rng.Gaussian(), skyFactor = Kind == SurveyKind.Ztf ? Math.Exp(z < 0 ? 0.33 * z : 0.7 * z) : Math.Exp(0.35 * z);
                    double depth = MedianDepth[band] - 2.5 * Math.Log10(seeing / MedianSeeing) - Extinction[band] * (airmass - 1.2) + rng.Normal(0, 0.15)
                        - 1.25 * Math.Log10(skyFactor);
                    double sky = SkyLevel * skyFactor;
                    long id = Kind == SurveyKind.Ztf
                        ? (long)(dayObs - 57754 + 0) * 1_000_000 + (long)Math.Round((mjd - Math.Floor(mjd)) * 1_000_000) % 1_000_000
                        : (long)DayObsNumber(dayObs) * 100_000 + seq;
                    if (used.Add(f.Id) || pass == 1) visits.Add(new Visit(id, night, seq++, mjd, f, band, seeing, depth, sky, airmass));
                }
            }
            t += 2 * perBlock * visitDays;
        }
        return visits;
    }

    private (int, int) BandPair(ref SimRandom rng)
    {
        if (Kind == SurveyKind.Ztf) return (0, 1);
        // Rubin pairs adjacent filters (Bianco et al. 2022); u and y are rarer.
        double u = rng.NextDouble();
        return u < 0.08 ? (0, 1) : u < 0.33 ? (1, 2) : u < 0.63 ? (2, 3) : u < 0.85 ? (3, 4) : (4, 5);
    }

    private static int PositiveMod(int a, int m) => ((a % m) + m) % m;

    /// <summary>YYYYMMDD of a UTC MJD date.</summary>
    public static int DayObsNumber(int mjd)
    {
        var d = TimeScales.FromMjdUtc(mjd);
        return d.Year * 10000 + d.Month * 100 + d.Day;
    }
}
