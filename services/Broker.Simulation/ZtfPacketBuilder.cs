using System.IO.Compression;
using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Sky;

namespace Broker.Simulation;

/// <summary>Builds ZTF 4.02 alert records the way IPAC fills them (Masci et al. 2019, PASP 131, 018003; the schema's field notes).</summary>
internal sealed class ZtfPacketBuilder(SimulationEngine engine)
{
    private readonly RecordSchema _alert = SurveySchemas.Ztf;
    private readonly RecordSchema _candidate = Sub("candidate");
    private readonly RecordSchema _prv = Sub("prv_candidate");
    private readonly RecordSchema _fp = Sub("fp_hist");
    private readonly RecordSchema _cutout = Sub("cutout");
    private readonly SurveyModel _survey = engine.Survey;

    // DN per simulator flux unit (10^(-0.4 m)) at the survey's zero point.
    private readonly double _dnPerFlux = Math.Pow(10, 0.4 * engine.Survey.ZeroPoint);

    // Fields set by position: the PS1 neighbours' objectidpsK, sgmagK, srmagK, simagK, szmagK, sgscoreK and distpsnrK
    // for K = 1..3, and rbversion where the record has it (candidate does, prv_candidate may not).
    private static readonly string[] Ps1Fields = ["objectidps", "sgmag", "srmag", "simag", "szmag", "sgscore", "distpsnr"];
    private readonly int[][] _ps1 = [.. Enumerable.Range(1, 3).Select(k => Ps1Fields.Select(f => Sub("candidate").Field(f + k)).ToArray())];
    private readonly int _candidateRbVersion = Sub("candidate").IndexOf("rbversion");
    private readonly int _prvRbVersion = Sub("prv_candidate").IndexOf("rbversion");

    private static RecordSchema Sub(string name) => SurveySchemas.NestedRecord(SurveySchemas.Ztf, name);

    public static long Pid(Visit v, int rcid) => v.VisitId * 1000 + rcid;

    public static int Rcid(Visit v, double ra, double dec)
    {
        // 16 CCDs x 4 quadrants tile the field: rcid from the position within the 4x4 CCD mosaic and 2x2 quadrants.
        double ex = Math.Clamp(v.Field.EastOffsetDeg(ra) / (2 * v.Field.HalfWidthDeg) + 0.5, 0, 0.9999);
        double ny = Math.Clamp((dec - v.Field.DecDeg) / (2 * v.Field.HalfWidthDeg) + 0.5, 0, 0.9999);
        int cx = (int)(ex * 8), cy = (int)(ny * 8);
        int ccd = cy / 2 * 4 + cx / 2;
        return ccd * 4 + (cy % 2) * 2 + cx % 2;
    }

    public static long Candid(Visit v, int rcid, int index) => Pid(v, rcid) * 1_000_000 + 10_000 + index;

    /// <summary>ZTF object names: "ZTF", two-digit year, seven lowercase letters.</summary>
    public static string ObjectId(long key, double mjd)
    {
        var rng = SimRandom.For(0x2F7, (ulong)key);
        Span<char> c = stackalloc char[12];
        int year = TimeScales.FromMjdUtc(mjd).Year % 100;
        c[0] = 'Z'; c[1] = 'T'; c[2] = 'F';
        c[3] = (char)('0' + year / 10); c[4] = (char)('0' + year % 10);
        for (int i = 5; i < 12; i++) c[i] = (char)('a' + rng.Next(26));
        return new string(c);
    }

    public string ObjectIdOf(AlertSpec s) => ObjectId(s.ObjectKey, s.Class is ObjectClass.Asteroid || s.Class.IsBogus() ? s.Visit.MjdUtc : engine.Options.StartMjd);

    /// <summary>The alert record; <paramref name="history"/> is the visit's <see cref="SimulationEngine.History"/>.</summary>
    public AvroRecord Build(AlertSpec s, List<Visit> history, out string objectId, out long candid)
    {
        var v = s.Visit;
        var rng = SimRandom.For(engine.Seed, 0x2A1E, (ulong)v.VisitId, (ulong)s.Index);
        int rcid = Rcid(v, s.RaDeg, s.DecDeg);
        candid = Candid(v, rcid, s.Index);
        objectId = ObjectIdOf(s);
        var prv = new List<object?>();
        var fps = new List<object?>();
        int ndet = 1;
        double jdStart = v.Jd;
        foreach (var h in history)
        {
            if (s.Object is not null)
            {
                var m = engine.Measure(s.Object, h);
                var hr = SimRandom.For(engine.Seed, 0x2A1F, (ulong)h.VisitId, (ulong)s.ObjectKey);
                prv.Add(m.Detected ? Candidate(_prv, s, h, m, Rcid(h, s.RaDeg, s.DecDeg), Candid(h, Rcid(h, s.RaDeg, s.DecDeg), 900 + (int)(s.ObjectKey % 97)), ref hr) : UpperLimit(h, s));
                if (m.Detected)
                {
                    ndet++;
                    jdStart = Math.Min(jdStart, h.Jd);
                }
                fps.Add(ForcedPhot(h, s, m));
            }
            else
            {
                prv.Add(UpperLimit(h, s));
            }
        }
        var cand = Candidate(_candidate, s, v, s.Measurement, rcid, candid, ref rng);
        FillCandidateOnly(cand, s, ref rng, ndet, jdStart, history.Count);
        // About 1% of real stamps are cut by the CCD edge (6 of 619 in ../shared/data: 63x48, 51x63, ...): the source
        // lies within half a stamp of the edge, the stamp keeps only the pixels on the chip, off centre.
        var edge = SimRandom.For(engine.Seed, 0xED6E, (ulong)candid);
        int n = _survey.StampSize, cutKeep = n, cutAxis = 0;
        bool cutLow = false;
        if (edge.Chance(0.01))
        {
            cutAxis = edge.Chance(0.5) ? 1 : 2;
            cutKeep = 45 + edge.Next(n - 45);
            cutLow = edge.Chance(0.5);
            cand.Num("mindtoedge", cutKeep - n / 2 - 0.5 + edge.Uniform(0, 1));
        }
        var alert = RecordFiller.New(_alert);
        alert.Str("schemavsn", SurveySchemas.ZtfVersion);
        alert.Str("publisher", "Broker simulator");
        alert.Str("objectId", objectId);
        alert.Long("candid", candid);
        alert["candidate"] = cand;
        alert["prv_candidates"] = prv.Count == 0 ? null : prv;
        alert["fp_hists"] = fps.Count == 0 ? null : fps;
        if (engine.Options.Cutouts)
        {
            var scene = Scene(s, ref rng);
            AddDefects(scene, ref edge);
            var (sci, tmpl, diff) = CutoutRenderer.Render(scene, ref rng);
            long pid = Pid(v, rcid);
            alert["cutoutScience"] = Cutout($"candid{candid}_pid{pid}_targ_sci.fits.gz", sci, cutAxis, cutKeep, cutLow);
            alert["cutoutTemplate"] = Cutout($"candid{candid}_ref.fits.gz", tmpl, cutAxis, cutKeep, cutLow);
            alert["cutoutDifference"] = Cutout($"candid{candid}_pid{pid}_targ_scimref.fits.gz", diff, cutAxis, cutKeep, cutLow);
        }
        return alert;
    }

    /// <summary>
    /// Masked pixels as IPAC leaves them, NaN (69 of 627 real alerts have some, 7 to ~1,300 pixels): the saturated core
    /// of a bright star in the stamp (science, difference, and the template's own core), or a run of bad columns.
    /// </summary>
    private static void AddDefects(StampScene scene, ref SimRandom edge)
    {
        if (!edge.Chance(0.11)) return;
        int n = scene.Size;
        if (edge.Chance(0.55))
        {
            double x = edge.Uniform(0, n - 1), y = edge.Uniform(0, n - 1), radius = edge.LogUniform(1.5, 9);
            // Bright enough for a saturated core of that radius and visible wings.
            scene.Stars.Add((x, y, scene.SciNoise * scene.SeeingPx * scene.SeeingPx * 400 * radius * radius));
            scene.Saturated = (x, y, radius);
        }
        else
        {
            int width = 1 + (int)Math.Min(19, edge.LogUniform(1, 25) - 1);
            scene.BadColumns = (edge.Next(n - width + 1), width, edge.Chance(0.9));
        }
    }

    private AvroRecord Cutout(string name, float[] pixels, int cutAxis, int keep, bool low)
    {
        int n = _survey.StampSize, w = n, h = n;
        if (cutAxis != 0)
        {
            // Keep the columns (axis 1) or rows (axis 2) that are on the chip.
            if (cutAxis == 1) w = keep;
            else h = keep;
            var cut = new float[w * h];
            int x0 = cutAxis == 1 && !low ? n - keep : 0, y0 = cutAxis == 2 && !low ? n - keep : 0;
            for (int y = 0; y < h; y++) pixels.AsSpan((y + y0) * n + x0, w).CopyTo(cut.AsSpan(y * w, w));
            pixels = cut;
        }
        // FITS stores the first row at the bottom: our arrays are already in storage order.
        var r = RecordFiller.New(_cutout);
        r.Str("fileName", name);
        r["stampData"] = FitsWriter.WriteImage(new FitsImage(w, h, pixels), [FitsCard.Create("BUNIT", "DN")], gzip: true, CompressionLevel.Fastest);
        return r;
    }

    private StampScene Scene(AlertSpec s, ref SimRandom rng)
    {
        var v = s.Visit;
        int n = _survey.StampSize;
        double zp = _dnPerFlux, px = _survey.PixelScale;
        double seeingPx = v.SeeingArcsec / px, refSeeing = rng.Uniform(1.7, 2.3) / px;
        // Per-pixel noise from the depth: σ_psf = f5/5 over a noise-equivalent area of 2.27 FWHM² pixels (Gaussian PSF).
        double sigmaPsf = SimulationEngine.FluxOfMag(v.LimitingMag) / 5 * zp;
        // 0.5: tuned so the stamps' robust pixel scatter matches real ZTF stamps (docs/simulator-distributions.png).
        double sciNoise = sigmaPsf / Math.Sqrt(2.27 * seeingPx * seeingPx) * 0.5;
        double cx = (n - 1) / 2.0 + rng.Uniform(-0.5, 0.5), cy = (n - 1) / 2.0 + rng.Uniform(-0.5, 0.5);
        var m = s.Measurement;
        var o = s.Object;
        double hostFlux = 0, hx = cx, hy = cy, hr = 0, q = 1, pa = 0;
        if (o is not null && !double.IsNaN(o.HostMag))
        {
            hostFlux = SimulationEngine.FluxOfMag(o.HostMag) * zp;
            hx = cx - o.HostEastArcsec / px;
            hy = cy + o.HostNorthArcsec / px;
            hr = o.HostRadiusArcsec / px;
            q = o.HostAxisRatio;
            pa = o.HostAngleDeg;
        }
        var scene = new StampScene
        {
            Size = n, SeeingPx = seeingPx, RefSeeingPx = refSeeing, SkyLevel = v.SkyDn, SciNoise = sciNoise, RefNoise = sciNoise / 4, Gain = _survey.Gain,
            CenterX = cx, CenterY = cy, Class = s.Class,
            SourceSci = s.Class.IsBogus() ? 0 : (m.RefFlux + m.Flux) * zp, SourceRef = s.Class.IsBogus() ? 0 : m.RefFlux * zp,
            HostFlux = hostFlux, HostX = hx, HostY = hy, HostRadiusPx = hr, HostAxisRatio = q, HostAngleDeg = pa,
            BogusFlux = Math.Abs(m.Flux) * zp,
        };
        double area = n * px * n * px / 3600.0;
        int stars = rng.Poisson(ObjectFactory.StarsPerArcmin2(v.Field.GalacticLatDeg, v.LimitingMag) * area);
        for (int i = 0; i < stars; i++)
        {
            double mag = v.LimitingMag + 1 + Math.Log10(rng.NextDouble() + 1e-9) / 0.3;
            scene.Stars.Add((rng.Uniform(-3, n + 2), rng.Uniform(-3, n + 2), SimulationEngine.FluxOfMag(Math.Max(12, mag)) * zp));
        }
        return scene;
    }

    private AvroRecord UpperLimit(Visit h, AlertSpec s)
    {
        var r = RecordFiller.New(_prv);
        int rcid = Rcid(h, s.RaDeg, s.DecDeg);
        VisitFields(r, h, rcid);
        r.Str("isdiffpos", "t");
        r.Str("rbversion", "t17_f5_c3");
        r.Num("magzpsci", _survey.ZeroPoint);
        return r;
    }

    // The exposure's own fields, the same in a candidate and in a history entry (detection or upper limit).
    private static void VisitFields(AvroRecord r, Visit v, int rcid)
    {
        r.Num("jd", v.Jd);
        r.Long("fid", v.Band + 1);
        r.Long("pid", Pid(v, rcid));
        r.Num("diffmaglim", v.LimitingMag);
        r.Str("pdiffimfilename", DiffName(v, rcid));
        r.Str("programpi", "Kulkarni");
        r.Long("programid", 1);
        r.Long("nid", NightId(v));
        r.Long("rcid", rcid);
        r.Long("field", v.Field.Id);
    }

    private static long NightId(Visit v) => (long)Math.Floor(v.MjdUtc - 57754);

    private static string DiffName(Visit v, int rcid)
    {
        var t = TimeScales.FromMjdUtc(v.MjdUtc);
        long frac = (long)Math.Round((v.MjdUtc - Math.Floor(v.MjdUtc)) * 1_000_000);
        return FormattableString.Invariant($"ztf_{t:yyyyMMdd}{frac:D6}_{v.Field.Id:D6}_z{(v.Band == 0 ? "g" : "r")}_c{rcid / 4 + 1:D2}_o_q{rcid % 4 + 1}_scimrefdiffimg.fits");
    }

    private AvroRecord ForcedPhot(Visit h, AlertSpec s, Measurement m)
    {
        var r = RecordFiller.New(_fp);
        int rcid = Rcid(h, s.RaDeg, s.DecDeg);
        double zp = _dnPerFlux;
        r.Long("field", h.Field.Id);
        r.Long("rcid", rcid);
        r.Long("fid", h.Band + 1);
        r.Long("pid", Pid(h, rcid));
        r.Long("rfid", h.Field.Id * 1000L + h.Band * 100 + rcid);
        r.Num("sciinpseeing", h.SeeingArcsec);
        r.Num("scibckgnd", h.SkyDn);
        r.Num("scisigpix", Math.Sqrt(h.SkyDn / _survey.Gain));
        r.Num("magzpsci", _survey.ZeroPoint);
        r.Num("magzpsciunc", 2e-5);
        r.Num("magzpscirms", 0.03);
        r.Num("clrcoeff", h.Band == 0 ? -0.05 : 0.1);
        r.Num("clrcounc", 4e-5);
        r.Num("exptime", 30);
        r.Num("diffmaglim", h.LimitingMag);
        r.Long("programid", 1);
        r.Num("jd", h.Jd);
        r.Num("forcediffimflux", m.Flux * zp);
        r.Num("forcediffimfluxunc", m.Sigma * zp);
        r.Str("procstatus", "0");
        return r;
    }

    /// <summary>The fields candidate and prv_candidate share.</summary>
    private AvroRecord Candidate(RecordSchema schema, AlertSpec s, Visit v, Measurement m, int rcid, long candid, ref SimRandom rng)
    {
        var r = RecordFiller.New(schema);
        var o = s.Object;
        bool bogus = s.Class.IsBogus();
        double seeingPx = v.SeeingArcsec / _survey.PixelScale;
        VisitFields(r, v, rcid);
        r.Long("candid", candid);
        r.Str("isdiffpos", m.Flux >= 0 ? "t" : "f");
        r.Long("tblid", candid % 1000);
        r.Num("xpos", rng.Uniform(10, 3070));
        r.Num("ypos", rng.Uniform(10, 3070));
        // Astrometric scatter ~ FWHM / (2.35 S/N), floored at 0.06" (Masci et al. 2019).
        double pos = Math.Max(0.06, v.SeeingArcsec / 2.35 / Math.Abs(m.Snr));
        var (ra, dec) = Coordinates.Offset(s.RaDeg, s.DecDeg, rng.Normal(0, pos), rng.Normal(0, pos));
        r.Num("ra", ra);
        r.Num("dec", dec);
        r.Num("magpsf", m.Mag);
        r.Num("sigmapsf", m.MagErr);
        r.Num("chipsf", bogus ? rng.Uniform(5, 80) : rng.LogNormal(1.2, 0.5));
        double magap = m.Mag + rng.Normal(0, 0.03) + (bogus ? rng.Uniform(-0.8, 0.3) : 0);
        r.Num("magap", magap);
        r.Num("sigmagap", m.MagErr * 0.9);
        bool nearRef = o is not null && (o.TemplateFlux(v.Band) > 0 || !double.IsNaN(o.HostMag));
        double distnr = nearRef ? (!double.IsNaN(o!.HostMag) && o.TemplateFlux(v.Band) == 0 ? o.HostOffsetArcsec : Math.Abs(rng.Normal(0, 0.12))) : rng.Uniform(1, 15);
        double magnr = nearRef ? (o!.TemplateFlux(v.Band) > 0 ? -2.5 * Math.Log10(o.TemplateFlux(v.Band)) : o.HostMag + 0.7) : rng.Uniform(17, 21.5);
        r.Num("distnr", distnr);
        r.Num("magnr", magnr);
        r.Num("sigmagnr", 0.01 + 0.02 * Math.Pow(10, 0.4 * (magnr - 19)));
        r.Num("chinr", rng.LogNormal(1, 0.5));
        r.Num("sharpnr", rng.Normal(0, 0.05));
        r.Num("sky", rng.Normal(0, 0.5));
        r.Num("magdiff", magap - m.Mag);
        double fwhm = bogus && s.Class is ObjectClass.BogusCosmicRay or ObjectClass.BogusHotPixel ? rng.Uniform(0.6, 1.4) : seeingPx * rng.LogNormal(1, 0.1);
        r.Num("fwhm", fwhm);
        r.Num("classtar", bogus ? rng.Uniform(0, 1) : rng.Beta(8, 1.5));
        r.Num("mindtoedge", rng.Uniform(20, 1500));
        r.Num("magfromlim", v.LimitingMag - m.Mag);
        r.Num("seeratio", rng.LogNormal(1.0, 0.12));
        double a = fwhm / 2.35 * rng.Uniform(0.9, 1.2), b = a / (bogus ? rng.Uniform(1, 2.5) : rng.Uniform(1, 1.2));
        r.Num("aimage", a * _survey.PixelScale);
        r.Num("bimage", b * _survey.PixelScale);
        r.Num("aimagerat", a / fwhm);
        r.Num("bimagerat", b / fwhm);
        r.Num("elong", a / b);
        r.Long("nneg", bogus ? rng.Next(15) : rng.Next(4));
        r.Long("nbad", bogus && rng.Chance(0.3) ? rng.Next(4) : 0);
        // The public stream only carries candidates above IPAC's real-bogus cut (no real alert in ../shared/data has
        // rb < 0.4): artefacts that reach it sit just above the cut, real sources spread up to 1.
        r.Num("rb", bogus ? rng.Uniform(0.4, 0.7) : 0.4 + 0.6 * rng.Beta(4, 1.9));
        if (s.Asteroid is { } ast)
        {
            r.Num("ssdistnr", Coordinates.SeparationDeg(ra, dec, s.Ephemeris.RaDeg, s.Ephemeris.DecDeg) * 3600);
            r.Num("ssmagnr", s.Ephemeris.VMagnitude(ast.H, ast.G));
            r.Str("ssnamenr", ast.Designation);
        }
        else
        {
            r.Num("ssdistnr", -999);
            r.Num("ssmagnr", -999);
            r.Str("ssnamenr", "null");
        }
        r.Num("sumrat", bogus ? rng.Uniform(0.3, 1) : rng.Uniform(0.9, 1));
        r.Num("magapbig", magap + rng.Normal(0, 0.02));
        r.Num("sigmagapbig", m.MagErr);
        var (rnr, dnr) = Coordinates.Offset(s.RaDeg, s.DecDeg, distnr * 0.6, distnr * 0.8);
        r.Num("ranr", rnr);
        r.Num("decnr", dnr);
        r.Num("scorr", Math.Abs(m.Snr) * rng.Uniform(0.9, 1.1));
        int rbVersion = ReferenceEquals(schema, _candidate) ? _candidateRbVersion : _prvRbVersion;
        if (rbVersion >= 0) r[rbVersion] = "t17_f5_c3";
        r.Num("magzpsci", _survey.ZeroPoint + rng.Normal(0, 0.1));
        r.Num("magzpsciunc", 2e-5 * rng.Uniform(0.5, 3));
        r.Num("magzpscirms", rng.Uniform(0.02, 0.08));
        r.Num("clrcoeff", v.Band == 0 ? rng.Normal(-0.05, 0.05) : rng.Normal(0.1, 0.03));
        r.Num("clrcounc", 4e-5 * rng.Uniform(0.5, 3));
        return r;
    }

    private static double RandomDistance(ref SimRandom rng, double density) => Math.Sqrt(-Math.Log(rng.NextDouble() + 1e-12) / (Math.PI * density));

    /// <summary>Fields only the triggering candidate has: PS1 neighbours, history summary, reference image, drb.</summary>
    private void FillCandidateOnly(AvroRecord r, AlertSpec s, ref SimRandom rng, int ndet, double jdStart, int nHistory)
    {
        var o = s.Object;
        var v = s.Visit;
        double starDensity = ObjectFactory.StarsPerArcmin2(v.Field.GalacticLatDeg, 21.5) / 3600; // per arcsec²
        // Pan-STARRS1 3π to r ≈ 22 also holds ~6 galaxies per arcmin² off the plane (Tachibana and Miller 2018, PASP
        // 130, 128001), so a source with no counterpart of its own is ~11" from the nearest PS1 source.
        double galaxyDensity = 6.0 / 3600 * ObjectFactory.ExtragalacticWeight(v.Field.GalacticLatDeg);
        double ps1Density = starDensity * 3 + galaxyDensity;
        // Nearest PS1 source: the star itself for Galactic classes, the host for hosted transients, else a field source.
        double d1, sg1, m1;
        if (o is not null && o.Class.IsStellar())
        {
            d1 = Math.Abs(rng.Normal(0, 0.15));
            sg1 = rng.Beta(25, 1.2);
            m1 = o.Parameters[0];
        }
        else if (o is not null && o.Class is ObjectClass.QSO or ObjectClass.Blazar)
        {
            d1 = Math.Abs(rng.Normal(0, 0.15));
            sg1 = rng.Beta(3, 1.5);
            m1 = o.Parameters[0];
        }
        else if (o is not null && !double.IsNaN(o.HostMag))
        {
            d1 = Math.Max(0.05, o.HostOffsetArcsec + rng.Normal(0, 0.1));
            sg1 = rng.Beta(1, 8);
            m1 = o.HostMag;
        }
        else
        {
            d1 = RandomDistance(ref rng, ps1Density);
            sg1 = rng.Chance(starDensity * 3 / ps1Density) ? rng.Beta(15, 1.5) : rng.Beta(1, 8);
            m1 = Math.Max(14, 22.3 + Math.Log10(rng.NextDouble() + 1e-9) / 0.3);
        }
        // PS1 sources too faint or too sparsely measured for the star/galaxy model get 0.5 exactly (the spike in the
        // real sgscore1 histogram).
        if (m1 > 21 && rng.Chance(0.5)) sg1 = 0.5;
        double d2 = d1 + RandomDistance(ref rng, ps1Density), d3 = d2 + RandomDistance(ref rng, ps1Density);
        void Ps1(int k, double d, double sg, double mag)
        {
            var f = _ps1[k - 1];
            if (d > 30)
            {
                // No PS1 source within ZTF's 30" search radius: IPAC writes -999 throughout.
                r.Long(f[0], -999);
                for (int i = 1; i < f.Length; i++) r.Num(f[i], -999);
                return;
            }
            r.Long(f[0], 100_000_000_000_000_000 + (long)(SimRandom.Hash(engine.Seed, (ulong)s.ObjectKey, (ulong)k) % 90_000_000_000_000_000));
            r.Num(f[1], mag + 0.4);
            r.Num(f[2], mag);
            r.Num(f[3], mag - 0.2);
            r.Num(f[4], mag - 0.3);
            r.Num(f[5], sg);
            r.Num(f[6], d);
        }
        Ps1(1, d1, sg1, m1);
        Ps1(2, d2, rng.Beta(2, 1), rng.Uniform(15, 22));
        Ps1(3, d3, rng.Beta(2, 1), rng.Uniform(15, 22));
        // ndethist and jdstarthist cover the whole survey, not the 30-day window: a persistent variable was usually
        // found long before (ZTF started public alerts on JD 2458194.5); extrapolate its window detection rate back to
        // then at the public cadence (2 epochs every 3 nights). Transients, asteroids and artefacts start in the window.
        long ndetAll = ndet, ncov = nHistory + 1;
        bool persistent = o is not null && o.Class is not (ObjectClass.SNIa or ObjectClass.SNIbc or ObjectClass.SNII or ObjectClass.SLSN or ObjectClass.Nova);
        if (persistent && rng.Chance(0.85))
        {
            double windowStart = v.Jd - SimulationEngine.HistoryDays, surveyStart = 2458194.5;
            double found = surveyStart + rng.NextDouble() * Math.Max(0, windowStart - surveyStart);
            double epochs = (windowStart - found) * 2 / 3.0;
            ndetAll += (long)Math.Round(epochs * ndet / (nHistory + 1.0));
            ncov += (long)Math.Round(epochs);
            if (ndetAll > ndet) jdStart = found;
        }
        r.Long("ndethist", ndetAll);
        r.Long("ncovhist", ncov);
        r.Num("jdstarthist", jdStart);
        r.Num("jdendhist", v.Jd);
        r.Long("tooflag", 0);
        r.Long("nmtchps", 1 + rng.Poisson(starDensity * 3600 * Math.PI * 900 / 60));
        r.Long("rfid", v.Field.Id * 1000L + v.Band * 100 + r["rcid"] switch { int i => i, _ => 0 });
        r.Num("jdstartref", 2458150.5 + rng.Uniform(0, 200));
        r.Num("jdendref", 2458400.5 + rng.Uniform(0, 100));
        r.Long("nframesref", 15 + rng.Next(25));
        r.Num("dsnrms", rng.Uniform(5, 150));
        r.Num("ssnrms", rng.Uniform(10, 300));
        r.Num("dsdiff", rng.Uniform(-150, 10));
        r.Long("nmatches", 300 + rng.Next(2500));
        r.Num("zpclrcov", -4e-5);
        r.Num("zpmed", _survey.ZeroPoint - 0.1);
        r.Num("clrmed", 0.6 + 0.4 * v.Band);
        r.Num("clrrms", 0.25);
        r.Num("neargaia", s.Class.IsStellar() ? Math.Abs(rng.Normal(0, 0.1)) : RandomDistance(ref rng, starDensity) * 2);
        r.Num("neargaiabright", -999);
        r.Num("maggaia", s.Class.IsStellar() && o is not null ? o.Parameters[0] - 0.2 : rng.Uniform(15, 20.5));
        r.Num("maggaiabright", -999);
        r.Num("exptime", 30);
        // Deep real-bogus (braai, Duev et al. 2019, MNRAS 489, 3582) is near 1 for real sources and near 0 for
        // artefacts; Beta draws reproduce that bimodality.
        // Among real alerts drb's median is 0.9999 and its 25th percentile 0.994: 1 - drb is log-normal for real sources.
        // Only ~8% of real alerts have drb < 0.8, so most artefacts that pass the rb cut fool drb too.
        bool caught = s.Class.IsBogus() && rng.Chance(0.4);
        r.Num("drb", caught ? rng.Beta(1.0, 1.3) : 1 - Math.Min(1, Math.Pow(10, rng.Normal(s.Class.IsBogus() ? -2.5 : -3.8, 1.3))));
        r.Str("drbversion", "d6_m7");
    }
}
