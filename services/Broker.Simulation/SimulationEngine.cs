using Broker.Sky;
using Broker.Sky.Orbits;

namespace Broker.Simulation;

/// <summary>A difference-image measurement of one object at one visit. Fluxes in 10^(-0.4 m) units.</summary>
internal readonly record struct Measurement(double Flux, double Sigma, bool Detected, double SciFlux, double RefFlux)
{
    public double Snr => Flux / Sigma;
    public double Mag => -2.5 * Math.Log10(Math.Abs(Flux));
    public double MagErr => 1.0857 * Sigma / Math.Abs(Flux);
}

/// <summary>One alert to encode: what triggered it and where.</summary>
internal sealed class AlertSpec
{
    public required Visit Visit { get; init; }
    public required ObjectClass Class { get; init; }
    public required int Index { get; init; }
    public required double RaDeg { get; init; }
    public required double DecDeg { get; init; }
    public required Measurement Measurement { get; init; }
    public SkyObject? Object { get; init; }
    public Asteroid? Asteroid { get; init; }
    public Ephemeris Ephemeris { get; init; }
    public long ObjectKey { get; init; }
    public string Parameters { get; init; } = "";
}

/// <summary>
/// Survey, schedule, populations and measurements, all deterministic functions of the seed: a visit's alerts, and
/// any object's history, are recomputed from keys rather than stored, so memory stays constant however many
/// nights are simulated.
/// </summary>
internal sealed class SimulationEngine
{
    public const int HistoryDays = 30;

    private readonly Dictionary<int, (List<Visit> All, Dictionary<int, List<Visit>> ByField)> _nights = [];
    private readonly Dictionary<int, int[]> _population = [];
    private readonly Asteroid[] _asteroids;
    private int _cachedAsteroidNight = int.MinValue;
    private List<(Asteroid A, int Index, int Field)> _asteroidsTonight = [];

    public SimulationEngine(SimulationOptions options, Asteroid[]? asteroids = null)
    {
        options.Validate();
        Options = options;
        Survey = SurveyModel.For(options.Survey);
        _asteroids = asteroids ?? AsteroidCatalog.Installed;
        VisitsPerNight = Math.Max(1, Night(0).All.Count);
    }

    public SimulationOptions Options { get; }
    public SurveyModel Survey { get; }
    public int VisitsPerNight { get; }
    public ulong Seed => Options.Seed;
    public double TMin => Options.StartMjd - HistoryDays;
    public double TMax => Options.StartMjd + Options.Nights + 1;

    /// <summary>Which ephemeris placed the asteroids, for truth.csv.</summary>
    public static string EphemerisName => "two-body Kepler from kstars asteroids.dat (JPL SBDB, epoch MJD 59800); Earth: " + EarthEphemeris.ModelName;

    public (List<Visit> All, Dictionary<int, List<Visit>> ByField) Night(int night)
    {
        if (_nights.TryGetValue(night, out var cached)) return cached;
        var all = Survey.ScheduleNight(Seed, night, Options.StartMjd);
        var byField = new Dictionary<int, List<Visit>>();
        foreach (var v in all)
        {
            if (!byField.TryGetValue(v.Field.Id, out var list)) byField[v.Field.Id] = list = [];
            list.Add(v);
        }
        foreach (int old in _nights.Keys.Where(k => k < night - HistoryDays - 2).ToList()) _nights.Remove(old);
        return _nights[night] = (all, byField);
    }

    /// <summary>Earlier visits of the visit's field within <see cref="HistoryDays"/>, oldest first.</summary>
    public List<Visit> History(Visit visit)
    {
        var list = new List<Visit>();
        for (int n = visit.Night - HistoryDays; n <= visit.Night; n++)
        {
            if (!Night(n).ByField.TryGetValue(visit.Field.Id, out var vs)) continue;
            foreach (var v in vs)
                if (v.MjdUtc < visit.MjdUtc - 1e-6 && v.MjdUtc > visit.MjdUtc - HistoryDays) list.Add(v);
        }
        return list;
    }

    /// <summary>The flux of an AB magnitude in the simulator's units, 10^(-0.4 m) (see <see cref="SkyObject"/>).</summary>
    public static double FluxOfMag(double m) => Math.Pow(10, -0.4 * m);

    /// <summary>
    /// The difference flux measured at a visit: true flux minus template flux plus noise whose 5σ level is the visit's
    /// depth, growing with the source's own Poisson noise, with a 1% calibration floor.
    /// </summary>
    public Measurement Measure(SkyObject o, Visit v)
    {
        var rng = SimRandom.For(Seed, 0xAEA5, (ulong)o.Key, (ulong)v.VisitId);
        double f = o.Flux(v.MjdUtc, v.Band), r = o.TemplateFlux(v.Band);
        return Noisy(f, r, v, ref rng);
    }

    public static Measurement Noisy(double f, double r, Visit v, ref SimRandom rng)
    {
        double f5 = FluxOfMag(v.LimitingMag), s0 = f5 / 5;
        double sigma = Math.Sqrt(s0 * s0 * (1 + Math.Max(0, f) / (2 * f5)) + 1e-4 * (f - r) * (f - r));
        double measured = f - r + sigma * rng.Gaussian();
        return new Measurement(measured, sigma, Math.Abs(measured) >= 5 * sigma, f, r);
    }

    /// <summary>
    /// The mix of astrophysical alerts (asteroids and artefacts apart) at |b| = 30°: what fraction of alerts each class
    /// makes, not of objects. The real public ZTF stream is dominated by variable stars (eclipsing binaries and pulsators,
    /// Chen et al. 2020, ApJS 249, 18; ALeRCE's light-curve classifier census, Sánchez-Sáez et al. 2021, AJ 161, 141),
    /// then AGN and quasars; supernovae are a few per cent of alerts (Förster et al. 2021, AJ 161, 242). Galactic
    /// classes scale with <see cref="ObjectFactory.StellarDensity"/>, extragalactic ones with
    /// <see cref="ObjectFactory.ExtragalacticWeight"/>.
    /// </summary>
    internal static readonly (ObjectClass Class, double Weight, bool Galactic)[] AlertMix =
    [
        (ObjectClass.EclipsingBinary, 0.28, true), (ObjectClass.RRLyrae, 0.10, true), (ObjectClass.DeltaScuti, 0.05, true),
        (ObjectClass.Cepheid, 0.015, true), (ObjectClass.LPV, 0.04, true), (ObjectClass.CV, 0.05, true), (ObjectClass.Nova, 0.003, true),
        (ObjectClass.YSO, 0.06, true), (ObjectClass.AGN, 0.09, false), (ObjectClass.QSO, 0.06, false), (ObjectClass.SNIa, 0.035, false),
        (ObjectClass.SNII, 0.015, false), (ObjectClass.SNIbc, 0.005, false), (ObjectClass.SLSN, 0.0015, false),
    ];

    /// <summary>Share of the alert budget kept for known asteroids.</summary>
    public const double AsteroidShare = 0.1;

    private double[]? _detectP;

    /// <summary>
    /// Probability that an object of each <see cref="AlertMix"/> class alerts at a median visit, from 400 draws each:
    /// the population of a class is its alert share divided by this, so the alert mix follows the table whatever the
    /// classes' light curves and magnitude distributions.
    /// </summary>
    private double[] DetectionProbabilities()
    {
        if (_detectP is not null) return _detectP;
        var p = new double[AlertMix.Length];
        var field = Survey.Fields[Survey.Fields.Length / 3];
        int band = Survey.Bands.Length > 2 ? 2 : 1;
        var probe = new Visit(0, 0, 0, Options.StartMjd + Options.Nights / 2.0, field, band, Survey.MedianSeeing, Survey.MedianDepth[band], 0, 1.2);
        const int trials = 400;
        for (int c = 0; c < AlertMix.Length; c++)
        {
            int detected = 0;
            for (int i = 0; i < trials; i++)
            {
                var o = ObjectFactory.Create(Seed ^ 0xCA11B, (long)c * 1_000_000 + i, field, Survey, TMin, TMax, AlertMix[c].Class, describe: false);
                var rng = SimRandom.For(Seed, 0xCA11C, (ulong)c, (ulong)i);
                if (Noisy(o.Flux(probe.MjdUtc, band), o.TemplateFlux(band), probe, ref rng).Detected) detected++;
            }
            p[c] = Math.Max(1.0, detected) / trials;
        }
        return _detectP = p;
    }

    /// <summary>
    /// The object in slot <paramref name="slot"/> of a field, of <see cref="AlertMix"/> class <paramref name="classIndex"/>
    /// (slots are grouped by class: <see cref="ClassOf"/> of the field's <see cref="SlotBounds"/>).
    /// </summary>
    private SkyObject Object(SurveyField field, int slot, int classIndex, bool describe) =>
        ObjectFactory.Create(Seed, (long)field.Id * 10_000_000 + slot, field, Survey, TMin, TMax, AlertMix[classIndex].Class, describe);

    /// <summary>
    /// The <see cref="AlertMix"/> class of a slot: the first whose cumulative bound exceeds it (the last for any slot
    /// beyond). Advancing from <paramref name="from"/>, a class at or below the answer, so a scan in slot order moves forward only.
    /// </summary>
    private static int ClassOf(int[] bounds, int slot, int from = 0)
    {
        int c = from;
        while (c < bounds.Length - 1 && slot >= bounds[c]) c++;
        return c;
    }

    /// <summary>
    /// Cumulative slot counts per <see cref="AlertMix"/> class for a field; the last is the population's size, the sum
    /// over classes of (alerts wanted per visit) / (probability of alerting).
    /// </summary>
    private int[] SlotBounds(SurveyField field)
    {
        lock (_population)
        {
            if (_population.TryGetValue(field.Id, out var cached)) return cached;
            var p = DetectionProbabilities();
            double perVisit = Options.AlertsPerNight * Math.Max(0, 1 - Options.BogusFraction - AsteroidShare) / VisitsPerNight;
            double gal = ObjectFactory.StellarDensity(field.GalacticLatDeg) / ObjectFactory.StellarDensity(30), ext = ObjectFactory.ExtragalacticWeight(field.GalacticLatDeg) / ObjectFactory.ExtragalacticWeight(30);
            double total = 0;
            foreach (var (_, w, g) in AlertMix) total += w * (g ? gal : ext);
            var bounds = new int[AlertMix.Length];
            int sum = 0;
            for (int c = 0; c < AlertMix.Length; c++)
            {
                double share = AlertMix[c].Weight * (AlertMix[c].Galactic ? gal : ext) / total;
                double slots = perVisit * share / p[c];
                // Stochastic rounding keyed by field, so rare classes still appear in proportion over many fields.
                double u = SimRandom.ToUnit(SimRandom.Hash(Seed, 0x5107, (ulong)field.Id, (ulong)c));
                sum += Math.Min(900_000, (int)Math.Floor(slots + u));
                bounds[c] = sum;
            }
            _population[field.Id] = bounds;
            return bounds;
        }
    }

    /// <summary>
    /// A field's whole population, slot by slot: the objects <see cref="AlertsAt"/> scans for any visit of the field,
    /// drawn from the same keys (without parameter text), so every object that alerts is among them.
    /// </summary>
    public IEnumerable<SkyObject> Population(SurveyField field)
    {
        var bounds = SlotBounds(field);
        for (int s = 0, c = 0; s < bounds[^1]; s++)
        {
            c = ClassOf(bounds, s, c);
            yield return Object(field, s, c, describe: false);
        }
    }

    private const int ScanChunk = 2048;

    /// <summary>Everything that alerts at a visit, in a fixed order: objects by slot, then asteroids, then artefacts.</summary>
    public List<AlertSpec> AlertsAt(Visit v)
    {
        var specs = new List<AlertSpec>();
        var bounds = SlotBounds(v.Field);
        int slots = bounds[^1];
        // The population scan is the costly part at LSST rates (tens of thousands of slots per visit): split it into
        // chunks scanned in parallel, then concatenate in slot order, so the result does not depend on the workers.
        int chunks = (slots + ScanChunk - 1) / ScanChunk;
        var found = new List<(SkyObject O, Measurement M)>?[chunks];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Options.Workers }, k =>
        {
            List<(SkyObject, Measurement)>? list = null;
            int end = Math.Min(slots, (k + 1) * ScanChunk), c = 0;
            for (int s = k * ScanChunk; s < end; s++)
            {
                c = ClassOf(bounds, s, c);
                var o = Object(v.Field, s, c, describe: false);
                var m = Measure(o, v);
                if (!m.Detected) continue;
                (list ??= []).Add((Object(v.Field, s, c, describe: true), m));
            }
            found[k] = list;
        });
        foreach (var list in found)
        {
            if (list is null) continue;
            foreach (var (o, m) in list)
                specs.Add(new AlertSpec { Visit = v, Class = o.Class, Index = specs.Count, RaDeg = o.RaDeg, DecDeg = o.DecDeg, Measurement = m, Object = o, ObjectKey = o.Key, Parameters = o.ParameterText });
        }
        foreach (var a in AsteroidsAt(v)) specs.Add(a.WithIndex(specs.Count));
        var rng = SimRandom.For(Seed, 0xB0605, (ulong)v.VisitId, (ulong)v.Field.Id);
        int bogus = rng.Poisson(Options.AlertsPerNight * Options.BogusFraction / VisitsPerNight);
        for (int i = 0; i < bogus; i++)
        {
            var cls = (ObjectClass)((int)ObjectClass.BogusCosmicRay + rng.Next(5));
            double mag = v.LimitingMag - rng.Uniform(0, 3.5);
            double sigma = FluxOfMag(v.LimitingMag) / 5, f = FluxOfMag(mag);
            bool negative = cls is ObjectClass.BogusDipole or ObjectClass.BogusBadSubtraction && rng.Chance(0.4);
            var (ra, dec) = Coordinates.Offset(v.Field.RaDeg, v.Field.DecDeg, rng.Uniform(-1, 1) * v.Field.HalfWidthDeg * 3600, rng.Uniform(-1, 1) * v.Field.HalfWidthDeg * 3600);
            long key = -(v.VisitId * 1000 + i) - 1;
            specs.Add(new AlertSpec
            {
                Visit = v, Class = cls, Index = specs.Count, RaDeg = ra, DecDeg = dec, ObjectKey = key,
                Measurement = new Measurement(negative ? -f : f, sigma, true, f, 0), Parameters = FormattableString.Invariant($"artefact_mag={mag:F2}"),
            });
        }
        return specs;
    }

    private IEnumerable<AlertSpec> AsteroidsAt(Visit v)
    {
        if (_asteroids.Length == 0) yield break;
        if (_cachedAsteroidNight != v.Night) PropagateAsteroids(v.Night);
        double tdb = TimeScales.MjdTaiToMjdTt(TimeScales.MjdUtcToMjdTai(v.MjdUtc));
        (double X, double Y, double Z)? observer = null;
        foreach (var (a, index, field) in _asteroidsTonight)
        {
            if (field != v.Field.Id) continue;
            // The observer (Earth plus site) once per visit, not once per asteroid.
            observer ??= TwoBodyEphemeris.ObserverPosition(tdb, Survey.Site);
            var e = TwoBodyEphemeris.Observe(a.Orbit, tdb, observer.Value);
            if (!v.Field.Contains(e.RaDeg, e.DecDeg)) continue;
            double vmag = e.VMagnitude(a.H, a.G);
            // Asteroid colours (mean S/C mix, Ivezić et al. 2001): g - V ≈ +0.3, r - V ≈ -0.2; redder bands similar.
            double bandMag = vmag + BandOffsetFromV(v.Band);
            // Keyed by catalogue index: string.GetHashCode is randomised per process, which made runs differ.
            var rng = SimRandom.For(Seed, 0xA57E, (ulong)index, (ulong)v.VisitId);
            var m = Noisy(FluxOfMag(bandMag), 0, v, ref rng);
            if (!m.Detected || m.Flux <= 0) continue;
            yield return new AlertSpec
            {
                Visit = v, Class = ObjectClass.Asteroid, Index = 0, RaDeg = e.RaDeg, DecDeg = e.DecDeg, Measurement = m, Asteroid = a, Ephemeris = e,
                ObjectKey = 9_000_000_000_000L + index,
                Parameters = FormattableString.Invariant($"V={vmag:F2};H={a.H:F2};r_au={e.RAu:F4};delta_au={e.DeltaAu:F4};phase_deg={e.PhaseDeg:F2}"),
            };
        }
    }

    private double BandOffsetFromV(int band) => Survey.Kind == SurveyKind.Ztf
        ? (band == 0 ? 0.3 : -0.2)
        : band switch { 0 => 1.6, 1 => 0.3, 2 => -0.2, 3 => -0.35, 4 => -0.4, _ => -0.45 };

    private double NightMid(int night)
    {
        var all = Night(night).All;
        return all.Count == 0 ? Options.StartMjd + night + 0.3 : (all[0].MjdUtc + all[^1].MjdUtc) / 2;
    }

    /// <summary>
    /// Once per night, every catalogue asteroid is placed at the night's midpoint and assigned the field whose square
    /// it falls in (with a 0.5° margin for its motion); visits then recompute exact positions only for those.
    /// </summary>
    private void PropagateAsteroids(int night)
    {
        _cachedAsteroidNight = night;
        var list = new List<(Asteroid, int, int)>();
        double mid = NightMid(night);
        double tdb = TimeScales.MjdTaiToMjdTt(TimeScales.MjdUtcToMjdTai(mid));
        // Tonight's scheduled fields, in grid order (the order asteroids are listed in).
        var byField = Night(night).ByField;
        var scheduled = new List<SurveyField>(byField.Count);
        foreach (var f in Survey.Fields)
            if (byField.ContainsKey(f.Id)) scheduled.Add(f);
        var geocentre = TwoBodyEphemeris.ObserverPosition(tdb, null);
        for (int ai = 0; ai < _asteroids.Length; ai++)
        {
            var a = _asteroids[ai];
            var e = TwoBodyEphemeris.Observe(a.Orbit, tdb, geocentre);
            foreach (var f in scheduled)
                if (f.Contains(e.RaDeg, e.DecDeg, 0.5)) list.Add((a, ai, f.Id));
        }
        // Keep asteroid alerts to about AsteroidShare of the requested rate: a fixed subset of tonight's in-field
        // asteroids (chosen by catalogue index, so each kept asteroid shows in every visit of its field).
        double keep = Math.Min(1.0, AsteroidShare * Options.AlertsPerNight / Math.Max(1.0, 2.0 * list.Count));
        list.RemoveAll(x => SimRandom.ToUnit(SimRandom.Hash(Seed, 0xA5, (ulong)x.Item2)) >= keep);
        _asteroidsTonight = list;
    }
}

internal static class AlertSpecExtensions
{
    public static AlertSpec WithIndex(this AlertSpec s, int index) => new()
    {
        Visit = s.Visit, Class = s.Class, Index = index, RaDeg = s.RaDeg, DecDeg = s.DecDeg, Measurement = s.Measurement, Object = s.Object,
        Asteroid = s.Asteroid, Ephemeris = s.Ephemeris, ObjectKey = s.ObjectKey, Parameters = s.Parameters,
    };
}
