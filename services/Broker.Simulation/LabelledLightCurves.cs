using System.Collections.Frozen;
using Broker.Alerts.Avro;
using Broker.Alerts.Model;
using Broker.Sky;

namespace Broker.Simulation;

/// <summary>
/// ALeRCE's light-curve classifier taxonomy (Sánchez-Sáez et al. 2021, AJ 161, 141, §2 and fig. 1): fifteen classes
/// under three top-level groups, with the names exactly as ALeRCE writes them, and the simulator's classes behind each.
/// </summary>
public static class AlerceTaxonomy
{
    /// <summary>The fifteen classes in ALeRCE's order: transients, stochastic, periodic.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["SNIa", "SNIbc", "SNII", "SLSN", "QSO", "AGN", "Blazar", "CV/Nova", "YSO", "LPV", "E", "DSCT", "RRL", "CEP", "Periodic-Other"];

    /// <summary>The top level, in alphabetical order (the order of the top model's outputs).</summary>
    public static IReadOnlyList<string> TopClasses { get; } = ["Periodic", "Stochastic", "Transient"];

    private static readonly FrozenDictionary<string, string> Top = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["SNIa"] = "Transient", ["SNIbc"] = "Transient", ["SNII"] = "Transient", ["SLSN"] = "Transient",
        ["QSO"] = "Stochastic", ["AGN"] = "Stochastic", ["Blazar"] = "Stochastic", ["CV/Nova"] = "Stochastic", ["YSO"] = "Stochastic",
        ["LPV"] = "Periodic", ["E"] = "Periodic", ["DSCT"] = "Periodic", ["RRL"] = "Periodic", ["CEP"] = "Periodic", ["Periodic-Other"] = "Periodic",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The top-level group of a class (Transient, Stochastic or Periodic).</summary>
    /// <exception cref="ArgumentException">Not one of <see cref="Classes"/>.</exception>
    public static string TopOf(string label) =>
        Top.TryGetValue(label, out var top) ? top : throw new ArgumentException($"'{label}' is not an ALeRCE light-curve class", nameof(label));

    /// <summary>The classes under a top-level group, in <see cref="Classes"/> order.</summary>
    public static IReadOnlyList<string> ClassesOf(string top) => [.. Classes.Where(c => Top[c] == top)];

    /// <summary>The ALeRCE class of a simulated class, or null for asteroids and artefacts (ALeRCE's light-curve classifier has none).</summary>
    public static string? Of(ObjectClass c) => c switch
    {
        ObjectClass.SNIa => "SNIa",
        ObjectClass.SNIbc => "SNIbc",
        ObjectClass.SNII => "SNII",
        ObjectClass.SLSN => "SLSN",
        ObjectClass.QSO => "QSO",
        ObjectClass.AGN => "AGN",
        ObjectClass.Blazar => "Blazar",
        ObjectClass.CV or ObjectClass.Nova => "CV/Nova",
        ObjectClass.YSO => "YSO",
        ObjectClass.LPV => "LPV",
        ObjectClass.EclipsingBinary => "E",
        ObjectClass.DeltaScuti => "DSCT",
        ObjectClass.RRLyrae => "RRL",
        ObjectClass.Cepheid => "CEP",
        ObjectClass.PeriodicOther => "Periodic-Other",
        _ => null,
    };
}

/// <summary>What <see cref="LabelledLightCurves"/> generates.</summary>
public sealed record LabelledLightCurveOptions
{
    /// <summary>The survey whose cadence, depth and alert packet are simulated.</summary>
    public SurveyKind Survey { get; init; } = SurveyKind.Ztf;

    /// <summary>Seed for every draw; equal options give equal alerts, whatever <see cref="Workers"/>.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Objects per class when <see cref="Counts"/> is null (class-balanced).</summary>
    public int PerClass { get; init; } = 100;

    /// <summary>Objects per ALeRCE class name (<see cref="AlerceTaxonomy.Classes"/>); classes left out get none. Null: <see cref="PerClass"/> each.</summary>
    public IReadOnlyDictionary<string, int>? Counts { get; init; }

    /// <summary>UTC MJD of the first night alerts are drawn from (histories reach back before it). Default 2025-01-15.</summary>
    public double StartMjd { get; init; } = 60690;

    /// <summary>Nights over which the alert visits are spread.</summary>
    public int WindowNights { get; init; } = 90;

    /// <summary>
    /// Days of history the alert carries: null for the survey's own (ZTF 30 days of <c>prv_candidates</c>; Rubin 365
    /// days of <c>prvDiaSources</c> and <c>prvDiaForcedSources</c>, LSE-163 §3.5).
    /// </summary>
    public int? HistoryDays { get; init; }

    /// <summary>
    /// Only alerts whose light curve has at least <see cref="MinDetections"/> detections in g or in r (ALeRCE's rule)
    /// are drawn; false: any detection of the object may be the alert.
    /// </summary>
    public bool RequireEligible { get; init; } = true;

    /// <summary>Detections in g or in r an alert needs when <see cref="RequireEligible"/> is set.</summary>
    public int MinDetections { get; init; } = 6;

    /// <summary>Add the Galactic coordinates as the crossmatch stage does (it runs before the light-curve stage).</summary>
    public bool GalacticContext { get; init; } = true;

    /// <summary>Worker threads.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Checks ranges.</summary>
    /// <exception cref="ArgumentException">A value is out of range or a class name is unknown.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(PerClass);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(WindowNights);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Workers);
        ArgumentOutOfRangeException.ThrowIfNegative(MinDetections);
        if (HistoryDays is <= 0 or > 730) throw new ArgumentOutOfRangeException(nameof(HistoryDays), HistoryDays, "must be in 1..730");
        if (Counts is null) return;
        foreach (var (name, n) in Counts)
        {
            _ = AlerceTaxonomy.TopOf(name);
            ArgumentOutOfRangeException.ThrowIfNegative(n, $"{nameof(Counts)}[{name}]");
        }
    }
}

/// <summary>One labelled object: the alert a classifier sees at serving time and its ALeRCE labels.</summary>
/// <param name="Label">ALeRCE class (<see cref="AlerceTaxonomy.Classes"/>).</param>
/// <param name="TopLabel">Its top-level group.</param>
/// <param name="SimulatedClass">The simulator class behind it (CV/Nova is a CV or a nova).</param>
/// <param name="Index">Index of the object within its class.</param>
/// <param name="Alert">The alert: the survey packet of one detection with its history, mapped as ingest maps it.</param>
/// <param name="Parameters">The generator's parameters, key=value;...</param>
public sealed record LabelledAlert(string Label, string TopLabel, ObjectClass SimulatedClass, int Index, Alert Alert, string Parameters);

/// <summary>
/// Labelled light curves for training and testing light-curve classifiers: for each ALeRCE class, objects drawn by the
/// simulator's own population models, observed with the survey's schedule (cadence, seasons, depth and seeing per
/// visit) and noise, and delivered as the alert a broker receives: the packet of one detection with the history the
/// survey ships (ZTF: 30 days of <c>prv_candidates</c> and <c>fp_hists</c>; Rubin: 12 months of <c>prvDiaSources</c>
/// and <c>prvDiaForcedSources</c>), encoded in the survey's Avro schema, decoded and mapped to <see cref="Alert"/>
/// exactly as ingest does. Features computed from these (LightCurve.Load(Alert)) go through the serving code path.
/// </summary>
/// <remarks>
/// Deterministic: object <c>i</c> of class <c>c</c> depends only on the seed, the survey, the window and (c, i), so
/// the output is the same for any worker count, and a set for N objects per class is a prefix, per class, of the set
/// for more. Thread-safe: the schedule is computed once at construction and only read afterwards. Objects that never
/// give an eligible alert (a supernova too faint or outside the window) are redrawn with the next key.
/// </remarks>
public sealed class LabelledLightCurves
{
    private const int MaxAttempts = 50_000;
    private static readonly AvroDatumReader ZtfReader = AvroDatumReader.For(SurveySchemas.Ztf);
    private static readonly AvroDatumReader LsstReader = AvroDatumReader.For(SurveySchemas.Lsst);

    private readonly LabelledLightCurveOptions _options;
    private readonly SimulationEngine _engine;
    private readonly ZtfPacketBuilder? _ztf;
    private readonly LsstPacketBuilder? _lsst;
    private readonly int _historyDays;
    private readonly double _tMin, _tMax;
    private readonly FieldVisits[] _fields;
    private readonly double[] _galacticWeights, _extragalacticWeights;

    private sealed record FieldVisits(SurveyField Field, Visit[] Visits, int FirstInWindow);

    /// <summary>Precomputes the survey's schedule over the history and the window (seconds for Rubin's year).</summary>
    public LabelledLightCurves(LabelledLightCurveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _historyDays = options.HistoryDays ?? (options.Survey == SurveyKind.Ztf ? SimulationEngine.HistoryDays : 365);
        var sim = new SimulationOptions
        {
            Survey = options.Survey, Seed = options.Seed, StartMjd = options.StartMjd, Nights = options.WindowNights, Cutouts = false, Workers = 1,
        };
        _engine = new SimulationEngine(sim, []);
        _ztf = options.Survey == SurveyKind.Ztf ? new ZtfPacketBuilder(_engine) : null;
        _lsst = options.Survey == SurveyKind.Lsst ? new LsstPacketBuilder(_engine) : null;
        _tMin = options.StartMjd - _historyDays - 1;
        _tMax = options.StartMjd + options.WindowNights + 1;
        var byField = new Dictionary<int, (List<Visit> Visits, int BeforeWindow)>();
        for (int night = -_historyDays - 1; night < options.WindowNights; night++)
        {
            foreach (var v in _engine.Night(night).All)
            {
                if (!byField.TryGetValue(v.Field.Id, out var entry)) byField[v.Field.Id] = entry = ([], 0);
                entry.Visits.Add(v);
                if (night < 0) byField[v.Field.Id] = (entry.Visits, entry.BeforeWindow + 1);
            }
        }
        var survey = _engine.Survey;
        // Fields with at least 10 visits in the window can give an alert with a history; in grid order.
        _fields = [.. survey.Fields
            .Where(f => byField.TryGetValue(f.Id, out var e) && e.Visits.Count - e.BeforeWindow >= 10)
            .Select(f =>
            {
                var e = byField[f.Id];
                var visits = e.Visits.OrderBy(v => v.MjdUtc).ToArray();
                return new FieldVisits(f, visits, e.BeforeWindow);
            })];
        if (_fields.Length == 0) throw new InvalidOperationException("the survey schedules no field often enough in the window");
        // Galactic classes are drawn where the stars are, extragalactic ones where the dust lets galaxies through
        // (the stream's own latitude laws, ObjectFactory.StellarDensity and ExtragalacticWeight).
        _galacticWeights = Cumulative(_fields.Select(f => ObjectFactory.StellarDensity(f.Field.GalacticLatDeg)));
        _extragalacticWeights = Cumulative(_fields.Select(f => ObjectFactory.ExtragalacticWeight(f.Field.GalacticLatDeg)));
    }

    /// <summary>The options.</summary>
    public LabelledLightCurveOptions Options => _options;

    /// <summary>Days of history each alert carries.</summary>
    public int HistoryDays => _historyDays;

    /// <summary>Fields the objects are drawn in.</summary>
    public int FieldCount => _fields.Length;

    /// <summary>Objects per class, in <see cref="AlerceTaxonomy.Classes"/> order.</summary>
    public IReadOnlyList<(string Label, int Count)> Plan =>
        [.. AlerceTaxonomy.Classes.Select(c => (c, _options.Counts is null ? _options.PerClass : _options.Counts.GetValueOrDefault(c)))];

    /// <summary>Every object of the plan, class by class (in <see cref="AlerceTaxonomy.Classes"/> order) and by index, generated in parallel.</summary>
    public IReadOnlyList<LabelledAlert> Generate(CancellationToken cancellationToken = default)
    {
        var jobs = new List<(string Label, int Index)>();
        foreach (var (label, count) in Plan)
            for (int i = 0; i < count; i++) jobs.Add((label, i));
        var result = new LabelledAlert[jobs.Count];
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.Workers, CancellationToken = cancellationToken },
            j => result[j] = Create(jobs[j].Label, jobs[j].Index));
        return result;
    }

    /// <summary>Object <paramref name="index"/> of ALeRCE class <paramref name="label"/>. Thread-safe.</summary>
    /// <exception cref="ArgumentException">Unknown class.</exception>
    /// <exception cref="InvalidOperationException">No eligible alert in <c>MaxAttempts</c> draws (a window far too short).</exception>
    public LabelledAlert Create(string label, int index)
    {
        string top = AlerceTaxonomy.TopOf(label);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        int labelIndex = IndexOf(label);
        var rng = SimRandom.For(_options.Seed, 0x1ABE11ED, (ulong)labelIndex, (ulong)index);
        var survey = _engine.Survey;
        var detections = new List<(int Visit, Measurement M)>();
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var cls = SimulatedClassOf(label, ref rng);
            bool galactic = cls.IsStellar();
            var fv = _fields[Pick(galactic ? _galacticWeights : _extragalacticWeights, rng.NextDouble())];
            // Keys: positive, unique per (class, index, attempt), apart from the stream's (field * 1e7 + slot).
            long key = 1L << 50 | (long)labelIndex << 42 | (long)index << 12 | (long)attempt;
            var o = ObjectFactory.Create(_options.Seed ^ 0x1ABE1, key, fv.Field, survey, _tMin, _tMax, cls);
            detections.Clear();
            var visits = fv.Visits;
            for (int k = 0; k < visits.Length; k++)
            {
                var m = _engine.Measure(o, visits[k]);
                if (m.Detected) detections.Add((k, m));
            }
            int chosen = ChooseAlert(visits, fv.FirstInWindow, detections, ref rng);
            if (chosen < 0) continue;
            var (vi, measurement) = detections[chosen];
            var v = visits[vi];
            var history = new List<Visit>();
            for (int k = vi - 1; k >= 0 && visits[k].MjdUtc > v.MjdUtc - _historyDays; k--) history.Add(visits[k]);
            history.Reverse();
            var spec = new AlertSpec
            {
                Visit = v, Class = cls, Index = (labelIndex * 500 + index) % 8000, RaDeg = o.RaDeg, DecDeg = o.DecDeg, Measurement = measurement,
                Object = o, ObjectKey = key, Parameters = o.ParameterText,
            };
            var alert = ToAlert(spec, history);
            return new LabelledAlert(label, top, cls, index, alert, o.ParameterText);
        }
        throw new InvalidOperationException($"no eligible alert for {label} #{index} in {MaxAttempts} draws");
    }

    private Alert ToAlert(AlertSpec spec, List<Visit> history)
    {
        AvroRecord record;
        AvroDatumReader reader;
        RecordSchema schema;
        if (_ztf is not null)
        {
            record = _ztf.Build(spec, history, out _, out _);
            (reader, schema) = (ZtfReader, SurveySchemas.Ztf);
        }
        else
        {
            record = _lsst!.Build(spec, history, out _, out _);
            (reader, schema) = (LsstReader, SurveySchemas.Lsst);
        }
        // Through the bytes, as a broker receives it: the schema's float fields lose their extra precision here.
        byte[] datum = AvroDatumWriter.For(schema).ToBytes(record);
        var alert = SurveyAlertMapper.Map((AvroRecord)reader.Read(datum)!);
        if (!_options.GalacticContext) return alert;
        // As the crossmatch stage writes it (CrossmatchStep: |b| below CrossmatchOptions.GalacticPlaneLatitudeDeg, 10°).
        var (l, b) = Coordinates.EquatorialToGalactic(alert.Ra, alert.Dec);
        return alert with { Galactic = new GalacticContext(l, b, Math.Abs(b) < 10) };
    }

    /// <summary>
    /// The detection to alert on, uniform over the detections in the window whose light curve (that detection and
    /// the detections in the history before it) meets the eligibility rule; -1 when none does.
    /// </summary>
    private int ChooseAlert(Visit[] visits, int firstInWindow, List<(int Visit, Measurement M)> detections, ref SimRandom rng)
    {
        Span<int> candidates = detections.Count <= 512 ? stackalloc int[detections.Count] : new int[detections.Count];
        int n = 0;
        int bandG = _options.Survey == SurveyKind.Ztf ? 0 : 1, bandR = bandG + 1;
        for (int d = 0; d < detections.Count; d++)
        {
            int vi = detections[d].Visit;
            if (vi < firstInWindow) continue;
            if (_options.RequireEligible)
            {
                double t = visits[vi].MjdUtc;
                int g = 0, r = 0;
                for (int e = d; e >= 0 && visits[detections[e].Visit].MjdUtc > t - _historyDays; e--)
                {
                    int band = visits[detections[e].Visit].Band;
                    if (band == bandG) g++;
                    else if (band == bandR) r++;
                }
                if (g < _options.MinDetections && r < _options.MinDetections) continue;
            }
            candidates[n++] = d;
        }
        return n == 0 ? -1 : candidates[rng.Next(n)];
    }

    /// <summary>The simulator class of a draw: CV/Nova is a dwarf nova 70% of the time, a classical nova 30%.</summary>
    private static ObjectClass SimulatedClassOf(string label, ref SimRandom rng) => label switch
    {
        "SNIa" => ObjectClass.SNIa,
        "SNIbc" => ObjectClass.SNIbc,
        "SNII" => ObjectClass.SNII,
        "SLSN" => ObjectClass.SLSN,
        "QSO" => ObjectClass.QSO,
        "AGN" => ObjectClass.AGN,
        "Blazar" => ObjectClass.Blazar,
        "CV/Nova" => rng.Chance(0.7) ? ObjectClass.CV : ObjectClass.Nova,
        "YSO" => ObjectClass.YSO,
        "LPV" => ObjectClass.LPV,
        "E" => ObjectClass.EclipsingBinary,
        "DSCT" => ObjectClass.DeltaScuti,
        "RRL" => ObjectClass.RRLyrae,
        "CEP" => ObjectClass.Cepheid,
        _ => ObjectClass.PeriodicOther,
    };

    private static int IndexOf(string label)
    {
        var classes = AlerceTaxonomy.Classes;
        for (int i = 0; i < classes.Count; i++)
            if (classes[i] == label) return i;
        return -1;
    }

    private static double[] Cumulative(IEnumerable<double> weights)
    {
        var w = weights.ToArray();
        double sum = 0;
        for (int i = 0; i < w.Length; i++) w[i] = sum += w[i];
        for (int i = 0; i < w.Length; i++) w[i] /= sum;
        return w;
    }

    private static int Pick(double[] cumulative, double u)
    {
        int i = Array.BinarySearch(cumulative, u);
        if (i < 0) i = ~i;
        return Math.Min(i, cumulative.Length - 1);
    }
}
