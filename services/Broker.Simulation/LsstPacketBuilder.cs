using Broker.Alerts.Avro;
using Broker.Sky;

namespace Broker.Simulation;

/// <summary>
/// Builds Rubin lsst.v11_0 alert records (LSE-163, Data Products Definition: fluxes in nJy, times MJD TAI), with
/// plain-FITS cutouts of 3 HDUs (image, UNCERT, PSFIMAGE) as Rubin sends them.
/// </summary>
internal sealed class LsstPacketBuilder(SimulationEngine engine)
{
    private readonly RecordSchema _alert = SurveySchemas.Lsst;
    private readonly RecordSchema _source = Sub("diaSource");
    private readonly RecordSchema _forced = Sub("diaForcedSource");
    private readonly RecordSchema _object = Sub("diaObject");
    private readonly RecordSchema _ss = Sub("ssSource");
    private readonly RecordSchema _mpc = Sub("mpc_orbits");
    private readonly SurveyModel _survey = engine.Survey;

    // Fields set by position: diaSource's pixelFlags*, and diaObject's per-band summaries
    // (<band>_psfFluxNdata, _psfFluxMean, _psfFluxMeanErr, _psfFluxSigma, _psfFluxMin, _psfFluxMax, _psfFluxErrMean).
    private readonly int[] _pixelFlags = [.. Sub("diaSource").Fields.Where(f => f.Name.StartsWith("pixelFlags", StringComparison.Ordinal)).Select(f => f.Position)];
    private static readonly string[] BandSummaries = ["_psfFluxNdata", "_psfFluxMean", "_psfFluxMeanErr", "_psfFluxSigma", "_psfFluxMin", "_psfFluxMax", "_psfFluxErrMean"];
    private readonly int[][] _bandSummaries = [.. engine.Survey.Bands.Select(b => BandSummaries.Select(f => Sub("diaObject").Field(b + f)).ToArray())];
    private static readonly object False = false;

    private static RecordSchema Sub(string name) => SurveySchemas.NestedRecord(SurveySchemas.Lsst, name);

    // nJy per simulator flux unit (10^(-0.4 m)): the AB zero point of 31.4 mag in nJy.
    private static readonly double NJyPerFlux = Math.Pow(10, 0.4 * Broker.Alerts.Model.Photometry.NanojanskyZeroPoint);

    private static double NJy(double flux) => flux * NJyPerFlux;

    public static long DiaSourceId(Visit v, int index) => v.VisitId * 10_000 + index;

    public static long DiaObjectId(long key) => 100_000_000_000_000L + (key & 0x3FFF_FFFF_FFFF);

    /// <summary>The alert record; <paramref name="history"/> is the visit's <see cref="SimulationEngine.History"/>.</summary>
    public AvroRecord Build(AlertSpec s, List<Visit> history, out long objectId, out long diaSourceId)
    {
        var v = s.Visit;
        var rng = SimRandom.For(engine.Seed, 0x15A1E, (ulong)v.VisitId, (ulong)s.Index);
        diaSourceId = DiaSourceId(v, s.Index);
        bool sso = s.Asteroid is not null;
        long ssObjectId = sso ? 5_000_000_000L + (s.ObjectKey - 9_000_000_000_000L) : 0;
        long diaObjectId = DiaObjectId(s.ObjectKey);
        objectId = sso ? ssObjectId : diaObjectId;
        var src = Source(s, v, s.Measurement, diaSourceId, sso ? null : diaObjectId, sso ? ssObjectId : null, ref rng);
        var alert = RecordFiller.New(_alert);
        alert.Long("diaSourceId", diaSourceId);
        alert["diaSource"] = src;
        var prv = new List<object?>();
        var forced = new List<object?>();
        var all = new List<(int Band, Measurement M, double Mjd)>();
        if (s.Object is not null)
        {
            foreach (var h in history)
            {
                var m = engine.Measure(s.Object, h);
                var hr = SimRandom.For(engine.Seed, 0x15A1F, (ulong)h.VisitId, (ulong)s.ObjectKey);
                if (m.Detected)
                {
                    prv.Add(Source(s, h, m, DiaSourceId(h, 9000 + (int)(s.ObjectKey % 997)), diaObjectId, null, ref hr));
                    all.Add((h.Band, m, h.MjdUtc));
                }
                forced.Add(Forced(s, h, m, diaObjectId));
            }
            all.Add((v.Band, s.Measurement, v.MjdUtc));
            alert["diaObject"] = DiaObject(s, diaObjectId, all);
        }
        alert["prvDiaSources"] = s.Object is null ? null : prv;
        alert["prvDiaForcedSources"] = s.Object is null ? null : forced;
        if (sso)
        {
            alert["ssSource"] = SsSource(s, diaSourceId, ssObjectId);
            alert["mpc_orbits"] = Orbit(s.Asteroid!, (int)(ssObjectId % int.MaxValue));
        }
        alert.Str("observation_reason", "wfd");
        alert.Str("target_name", FormattableString.Invariant($"field_{v.Field.Id}"));
        if (engine.Options.Cutouts)
        {
            var (sci, tmpl, diff, variance, psf, place) = Cutouts(s, ref rng);
            int n = _survey.StampSize;
            var (diffFits, sciFits, tmplFits) = RubinCutoutFits.Write(n, diff, sci, tmpl, variance, PsfSize, psf, place);
            alert["cutoutDifference"] = diffFits;
            alert["cutoutScience"] = sciFits;
            alert["cutoutTemplate"] = tmplFits;
        }
        return alert;
    }

    private const int PsfSize = 41;

    // The PSF image depends only on the visit's seeing (no random draw): made once per visit and shared, read-only, by
    // its alerts' cutouts. Visits are encoded in order, so a few direct-mapped slots keyed by visit id hold the visits
    // of the current batch; an entry is immutable, so workers race only to recompute the same values.
    private sealed record PsfEntry(long VisitId, double[] Pixels);

    private const int PsfSlots = 64;
    private readonly PsfEntry?[] _psfs = new PsfEntry?[PsfSlots];

    private double[] Psf(Visit v, double seeingPx)
    {
        int slot = (int)((ulong)v.VisitId % PsfSlots);
        var entry = Volatile.Read(ref _psfs[slot]);
        if (entry is not null && entry.VisitId == v.VisitId) return entry.Pixels;
        var psf32 = CutoutRenderer.PsfImage(PsfSize, seeingPx);
        var psf = new double[psf32.Length];
        for (int i = 0; i < psf.Length; i++) psf[i] = psf32[i];
        Volatile.Write(ref _psfs[slot], new PsfEntry(v.VisitId, psf));
        return psf;
    }

    private (float[], float[], float[], float[], double[], RubinStampPlacement) Cutouts(AlertSpec s, ref SimRandom rng)
    {
        var v = s.Visit;
        int n = _survey.StampSize;
        double px = _survey.PixelScale, seeingPx = v.SeeingArcsec / px;
        double sigmaPsf = NJy(SimulationEngine.FluxOfMag(v.LimitingMag)) / 5;
        double pixNoise = sigmaPsf / Math.Sqrt(2.27 * seeingPx * seeingPx);
        double cx = (n - 1) / 2.0 + rng.Uniform(-0.5, 0.5), cy = (n - 1) / 2.0 + rng.Uniform(-0.5, 0.5);
        var m = s.Measurement;
        var o = s.Object;
        var scene = new StampScene
        {
            Size = n, SeeingPx = seeingPx, RefSeeingPx = seeingPx * rng.Uniform(0.8, 1.0), SkyLevel = 0, SciNoise = pixNoise, RefNoise = pixNoise / 3,
            Gain = double.PositiveInfinity, CenterX = cx, CenterY = cy, Class = s.Class,
            SourceSci = s.Class.IsBogus() ? 0 : NJy(m.RefFlux + m.Flux), SourceRef = s.Class.IsBogus() ? 0 : NJy(m.RefFlux),
            HostFlux = o is not null && !double.IsNaN(o.HostMag) ? NJy(SimulationEngine.FluxOfMag(o.HostMag)) : 0,
            HostX = cx - (o?.HostEastArcsec ?? 0) / px, HostY = cy + (o?.HostNorthArcsec ?? 0) / px, HostRadiusPx = (o?.HostRadiusArcsec ?? 0) / px,
            HostAxisRatio = o?.HostAxisRatio ?? 1, HostAngleDeg = o?.HostAngleDeg ?? 0, BogusFlux = NJy(Math.Abs(m.Flux)),
        };
        double area = n * px * n * px / 3600.0;
        int stars = rng.Poisson(ObjectFactory.StarsPerArcmin2(v.Field.GalacticLatDeg, v.LimitingMag) * area);
        for (int i = 0; i < stars; i++)
            scene.Stars.Add((rng.Uniform(-3, n + 2), rng.Uniform(-3, n + 2), NJy(SimulationEngine.FluxOfMag(Math.Max(14, v.LimitingMag + 1 + Math.Log10(rng.NextDouble() + 1e-9) / 0.3)))));
        var (sci, tmpl, diff) = CutoutRenderer.Render(scene, ref rng);
        // UNCERT is a variance (UTYPE 'VarianceUncertainty', nJy^2), as in real Rubin cutouts: the difference image's
        // sky variance (science plus template, 1 + 1/9), a few per cent of flat-field structure, and the source's
        // Poisson term (about 1.4 nJy per photo-electron at Rubin's zero point and pixel noise).
        double skyVar = pixNoise * pixNoise * (1 + 1 / 9.0);
        var variance = new float[n * n];
        for (int i = 0; i < variance.Length; i++)
            variance[i] = (float)(skyVar * (1 + 0.03 * rng.Gaussian()) + 1.4 * Math.Max(0, sci[i] - 2 * pixNoise));
        var psf = Psf(v, seeingPx);
        var place = new RubinStampPlacement(
            rng.Next(4000), rng.Next(4000), cx + 1, cy + 1, s.RaDeg, s.DecDeg, Math.Round(rng.Uniform(-180, 180), 10), px);
        return (sci, tmpl, diff, variance, psf, place);
    }

    private AvroRecord Source(AlertSpec s, Visit v, Measurement m, long id, long? diaObjectId, long? ssObjectId, ref SimRandom rng)
    {
        var r = RecordFiller.New(_source);
        double tai = TimeScales.MjdUtcToMjdTai(v.MjdUtc + 15.0 / 86400);
        double pos = Math.Max(0.01, v.SeeingArcsec / 2.35 / Math.Abs(m.Snr));
        var (ra, dec) = Coordinates.Offset(s.RaDeg, s.DecDeg, rng.Normal(0, pos), rng.Normal(0, pos));
        bool bogus = s.Class.IsBogus();
        r.Long("diaSourceId", id);
        r.Long("visit", v.VisitId);
        r.Long("detector", ZtfPacketBuilder.Rcid(v, s.RaDeg, s.DecDeg) * 189 / 64);
        r["diaObjectId"] = diaObjectId;
        r["ssObjectId"] = ssObjectId;
        r.Num("midpointMjdTai", tai);
        r.Num("ra", ra);
        r.Num("raErr", pos / 3600);
        r.Num("dec", dec);
        r.Num("decErr", pos / 3600);
        r.Num("ra_dec_Cov", 0);
        r.Num("x", rng.Uniform(20, 4050));
        r.Num("xErr", pos / _survey.PixelScale);
        r.Num("y", rng.Uniform(20, 4050));
        r.Num("yErr", pos / _survey.PixelScale);
        r.Bool("centroid_flag", false);
        double flux = NJy(m.Flux), err = NJy(m.Sigma);
        r.Num("apFlux", flux * rng.Uniform(0.95, 1.05));
        r.Num("apFluxErr", err * 1.1);
        r.Bool("apFlux_flag", false);
        r.Bool("apFlux_flag_apertureTruncated", false);
        r.Bool("isNegative", m.Flux < 0);
        r.Num("snr", Math.Abs(m.Snr));
        r.Num("psfFlux", flux);
        r.Num("psfFluxErr", err);
        r.Num("psfLnL", -rng.Uniform(50, 500));
        r.Num("psfChi2", bogus ? rng.Uniform(200, 3000) : rng.Uniform(300, 700));
        r.Long("psfNdata", 400 + rng.Next(300));
        r.Bool("psfFlux_flag", false);
        r.Bool("psfFlux_flag_edge", false);
        r.Bool("psfFlux_flag_noGoodPixels", false);
        r.Long("trailNdata", 0);
        r.Long("dipoleNdata", 0);
        r.Num("scienceFlux", NJy(m.SciFlux));
        r.Num("scienceFluxErr", err);
        r.Bool("forced_PsfFlux_flag", false);
        r.Bool("forced_PsfFlux_flag_edge", false);
        r.Bool("forced_PsfFlux_flag_noGoodPixels", false);
        r.Num("templateFlux", NJy(m.RefFlux));
        r.Num("templateFluxErr", err / 3);
        r.Num("extendedness", s.Class.HasHost() ? rng.Beta(2, 3) : rng.Beta(1, 8));
        r.Num("reliability", bogus ? rng.Beta(0.6, 5) : rng.Beta(8, 0.5));
        r.Str("band", _survey.Bands[v.Band]);
        r.Bool("isDipole", s.Class == ObjectClass.BogusDipole);
        r.Bool("dipoleFitAttempted", true);
        r.Num("timeProcessedMjdTai", tai + rng.Uniform(60, 120) / 86400);
        r.Long("bboxSize", _survey.StampSize);
        foreach (int f in _pixelFlags) r[f] = False;
        r.Bool("pixelFlags_cr", s.Class == ObjectClass.BogusCosmicRay);
        r.Bool("pixelFlags_crCenter", s.Class == ObjectClass.BogusCosmicRay);
        r.Bool("glint_trail", false);
        return r;
    }

    private AvroRecord Forced(AlertSpec s, Visit h, Measurement m, long diaObjectId)
    {
        var r = RecordFiller.New(_forced);
        double tai = TimeScales.MjdUtcToMjdTai(h.MjdUtc + 15.0 / 86400);
        r.Long("diaForcedSourceId", h.VisitId * 10_000 + 5000 + (s.ObjectKey & 0xFFF));
        r.Long("diaObjectId", diaObjectId);
        r.Num("ra", s.RaDeg);
        r.Num("dec", s.DecDeg);
        r.Long("visit", h.VisitId);
        r.Long("detector", ZtfPacketBuilder.Rcid(h, s.RaDeg, s.DecDeg) * 189 / 64);
        r.Num("psfFlux", NJy(m.Flux));
        r.Num("psfFluxErr", NJy(m.Sigma));
        r.Num("midpointMjdTai", tai);
        r.Num("scienceFlux", NJy(m.SciFlux));
        r.Num("scienceFluxErr", NJy(m.Sigma));
        r.Str("band", _survey.Bands[h.Band]);
        r.Num("timeProcessedMjdTai", tai + 0.001);
        return r;
    }

    private AvroRecord DiaObject(AlertSpec s, long id, List<(int Band, Measurement M, double Mjd)> sources)
    {
        var r = RecordFiller.New(_object);
        r.Long("diaObjectId", id);
        r.Num("validityStartMjdTai", TimeScales.MjdUtcToMjdTai(sources[0].Mjd));
        r.Num("ra", s.RaDeg);
        r.Num("dec", s.DecDeg);
        for (int b = 0; b < _survey.Bands.Length; b++)
        {
            var fields = _bandSummaries[b];
            int k = 0;
            double sum = 0, sum2 = 0, min = double.MaxValue, max = double.MinValue, errSum = 0;
            foreach (var (band, m, _) in sources)
            {
                if (band != b) continue;
                double f = NJy(m.Flux);
                k++;
                sum += f;
                sum2 += f * f;
                min = Math.Min(min, f);
                max = Math.Max(max, f);
                errSum += NJy(m.Sigma);
            }
            r.Long(fields[0], k);
            if (k == 0) continue;
            double mean = sum / k;
            r.Num(fields[1], mean);
            r.Num(fields[2], errSum / k / Math.Sqrt(k));
            r.Num(fields[3], k > 1 ? Math.Sqrt(Math.Max(0, sum2 / k - mean * mean)) : double.NaN);
            r.Num(fields[4], min);
            r.Num(fields[5], max);
            r.Num(fields[6], errSum / k);
        }
        r.Num("firstDiaSourceMjdTai", TimeScales.MjdUtcToMjdTai(sources[0].Mjd));
        r.Num("lastDiaSourceMjdTai", TimeScales.MjdUtcToMjdTai(sources[^1].Mjd));
        r.Long("nDiaSources", sources.Count);
        return r;
    }

    private AvroRecord SsSource(AlertSpec s, long diaSourceId, long ssObjectId)
    {
        var r = RecordFiller.New(_ss);
        var e = s.Ephemeris;
        r.Long("diaSourceId", diaSourceId);
        r.Long("ssObjectId", ssObjectId);
        r.Str("designation", s.Asteroid!.Name);
        var (ex, ey, ez) = Coordinates.ToUnitVector(e.RaDeg, e.DecDeg);
        var ecl = Coordinates.EquatorialToEcliptic(ex, ey, ez);
        var (lam, bet) = Coordinates.FromVector(ecl.X, ecl.Y, ecl.Z);
        r.Num("eclLambda", lam);
        r.Num("eclBeta", bet);
        var (l, b) = Coordinates.EquatorialToGalactic(e.RaDeg, e.DecDeg);
        r.Num("galLon", l);
        r.Num("galLat", b);
        r.Num("elongation", e.ElongationDeg);
        r.Num("phaseAngle", e.PhaseDeg);
        r.Num("topoRange", e.DeltaAu);
        r.Num("helioRange", e.RAu);
        r.Num("ephRa", e.RaDeg);
        r.Num("ephDec", e.DecDeg);
        r.Num("ephVmag", e.VMagnitude(s.Asteroid.H, s.Asteroid.G));
        r.Num("ephOffset", 0);
        return r;
    }

    private AvroRecord Orbit(Asteroid a, int id)
    {
        var r = RecordFiller.New(_mpc);
        var o = a.Orbit;
        r.Long("id", id);
        r.Str("designation", a.Name);
        r.Str("packed_primary_provisional_designation", a.Designation);
        r.Str("unpacked_primary_provisional_designation", a.Designation);
        r.Num("a", o.A);
        r.Num("q", o.A * (1 - o.E));
        r.Num("e", o.E);
        r.Num("i", o.IDeg);
        r.Num("node", o.NodeDeg);
        r.Num("argperi", o.PeriDeg);
        r.Num("mean_anomaly", o.MeanAnomalyDeg);
        r.Num("mean_motion", o.MeanMotion * Coordinates.RadToDeg);
        r.Num("period", 2 * Math.PI / o.MeanMotion);
        r.Num("epoch_mjd", o.EpochMjd);
        r.Num("h", a.H);
        r.Num("g", a.G);
        return r;
    }
}
