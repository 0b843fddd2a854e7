using System.Globalization;
using System.Net;
using System.Text;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;
using Broker.LightCurves;
using Broker.StepHost;

namespace Broker.Cli.Pipeline;

/// <summary>
/// <c>broker demo</c>'s HTML report (<c>report.html</c>, docs/report.md): one self-contained page (CSS inline, every
/// image a <c>data:</c> URI, every plot inline SVG, no script and nothing fetched) with the run's stages, its latency
/// histogram, the class counts per classifier, and per section its best candidates: their three stamps as PNG
/// (<see cref="PngWriter"/>, the code <c>broker subscribe</c> writes cutouts with), their light curve per band, their
/// classifications, crossmatches and solar-system association.
/// </summary>
/// <remarks>
/// <para>
/// Sections: one per filter an alert passed (<see cref="Alert.Filters"/>); an alert that passed none is shown under
/// the top class of each classification it has (<c>stamp: SN</c>, <c>braai: real</c>), or under
/// <see cref="NotClassifiedSection"/>. Within a section the candidates are the best
/// <see cref="MaxCandidatesPerSection"/> by score (a filter's: the highest top-class probability of the alert's
/// classifications; a class's: that class's probability), ties broken by the smaller alert id, so the choice does not
/// depend on the order the alerts arrive in.
/// </para>
/// <para>
/// Bounded size, whatever the run: at most <see cref="MaxSections"/> sections (the first seen; alerts of others are
/// counted, not shown) of at most <see cref="MaxCandidatesPerSection"/> candidates, so at most 480 alerts are held
/// while the run goes; per candidate at most three stamps of at most <see cref="MaxStampPixels"/> pixels, at most
/// <see cref="MaxPlottedPoints"/> light-curve points, <see cref="MaxCrossmatchesShown"/> counterparts and
/// <see cref="MaxProbabilitiesShown"/> probabilities per classification. A ZTF stamp (63x63) is about 4-6 kB as
/// base64 PNG, so a page is a few MB at most and about 1 MB for the real samples.
/// </para>
/// <para>
/// Every text that comes from outside (alert and object ids, filter, catalogue and class names, designations,
/// reasons) is HTML-escaped (<see cref="WebUtility.HtmlEncode(string)"/>), in attributes too.
/// </para>
/// </remarks>
public sealed class DemoReport
{
    /// <summary>Candidates shown per section, the best by score.</summary>
    public const int MaxCandidatesPerSection = 12;

    /// <summary>Sections kept: the first this many distinct filters and classes seen.</summary>
    public const int MaxSections = 40;

    /// <summary>A stamp with more pixels than this (a 256x256 image) is not drawn; its place says so.</summary>
    public const int MaxStampPixels = 256 * 256;

    /// <summary>Light-curve points (detections and upper limits) plotted per candidate; the newest are kept.</summary>
    public const int MaxPlottedPoints = 2000;

    /// <summary>Crossmatch counterparts listed per candidate, the nearest first.</summary>
    public const int MaxCrossmatchesShown = 8;

    /// <summary>Class probabilities listed per classification, the most probable first.</summary>
    public const int MaxProbabilitiesShown = 8;

    /// <summary>The section of alerts that passed no filter and that no classifier classified.</summary>
    public const string NotClassifiedSection = "not classified";

    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private readonly Dictionary<string, Section> _sections = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, ClassifierCounts> _classes = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _stageVersions = new(StringComparer.Ordinal);
    // Classifiers in the order they were first seen in an alert's list (the chain's order: stamp before braai).
    private readonly Dictionary<string, int> _classifierOrder = new(StringComparer.Ordinal);
    private long _alerts, _withoutFilter, _inUnshownSections;

    /// <summary>Alerts added.</summary>
    public long Alerts => _alerts;

    /// <summary>Alerts that passed no filter.</summary>
    public long WithoutFilter => _withoutFilter;

    /// <summary>Per classifier (and model version), alerts per top class and those not classified, by reason.</summary>
    public IEnumerable<ClassifierCounts> Classifiers => _classes.Values.OrderBy(c => _classifierOrder.GetValueOrDefault(c.Classifier));

    /// <summary>Per filter, how many alerts passed it (filters seen beyond <see cref="MaxSections"/> are not listed).</summary>
    public IEnumerable<(string Filter, long Alerts)> FilterCounts =>
        _sections.Values.Where(s => s.IsFilter).OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => (s.Name, s.Matches));

    /// <summary>A build version without most of its commit hash (<c>1.0.0+72f9803</c>), for a table.</summary>
    public static string ShortVersion(string version)
    {
        int plus = version.IndexOf('+', StringComparison.Ordinal);
        return plus >= 0 && version.Length > plus + 8 ? version[..(plus + 8)] : version;
    }

    /// <summary>Per stage, the version the first alert that stage touched names (<see cref="Alert.StageVersions"/>).</summary>
    public IReadOnlyDictionary<string, string> StageVersions => _stageVersions;

    /// <summary>Counts an output alert and keeps it if it is among the best of a section.</summary>
    public void Add(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        _alerts++;
        foreach (var (stage, version) in alert.StageVersions) _stageVersions.TryAdd(stage, version);
        double best = -1;
        foreach (var c in alert.Classifications)
        {
            string key = c.Classifier + "\u0000" + c.Model + "\u0000" + c.ModelVersion;
            if (!_classes.TryGetValue(key, out var counts))
            {
                if (_classes.Count >= MaxSections) continue;
                _classes[key] = counts = new ClassifierCounts(c.Classifier, c.Model, c.ModelVersion);
            }
            counts.Count(c);
            _classifierOrder.TryAdd(c.Classifier, _classifierOrder.Count);
            if (c.IsClassified) best = Math.Max(best, Probability(c, c.TopClass));
        }
        if (alert.Filters.Count > 0)
        {
            foreach (var name in alert.Filters.Select(f => f.Name).Distinct(StringComparer.Ordinal))
                Offer(name, isFilter: true, alert, best);
            return;
        }
        _withoutFilter++;
        bool classified = false;
        foreach (var c in alert.Classifications)
        {
            if (!c.IsClassified) continue;
            classified = true;
            Offer($"{c.Classifier}: {c.TopClass}", isFilter: false, alert, Probability(c, c.TopClass), c.Classifier);
        }
        if (!classified) Offer(NotClassifiedSection, isFilter: false, alert, alert.RealBogus is { } rb && double.IsFinite(rb) ? rb : -1);
    }

    private static double Probability(Classification c, string cls) =>
        c.Probabilities.TryGetValue(cls, out double p) && double.IsFinite(p) ? p : -1;

    private void Offer(string name, bool isFilter, Alert alert, double score, string classifier = "")
    {
        string key = (isFilter ? "f\u0000" : "c\u0000") + name;
        if (!_sections.TryGetValue(key, out var section))
        {
            if (_sections.Count >= MaxSections) { _inUnshownSections++; return; }
            _sections[key] = section = new Section(name, isFilter, classifier);
        }
        section.Offer(alert, score);
    }

    /// <summary>Writes the report to <paramref name="path"/>.</summary>
    public void Write(string path, RunSummary summary, string title) => File.WriteAllText(path, Render(summary, title), new UTF8Encoding(false));

    /// <summary>The report as one HTML page.</summary>
    /// <param name="summary">The run's counts and latencies.</param>
    /// <param name="title">What was run (shown under the heading; escaped).</param>
    public string Render(RunSummary summary, string title)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var sections = _sections.Values
            .OrderBy(s => s.IsFilter ? 0 : s.Name == NotClassifiedSection ? 2 : 1)
            .ThenBy(s => _classifierOrder.GetValueOrDefault(s.Classifier))
            .ThenBy(s => s.Name, StringComparer.Ordinal).ToList();
        var h = new StringBuilder(1 << 20);
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
         .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">")
         .Append("<title>Broker demo report</title><style>").Append(Css).Append("</style></head><body>\n");
        h.Append("<h1>Broker demo report</h1>\n<p class=\"lead\">").Append(E(title)).Append("<br>")
         .Append(C, $"Read {summary.Read} messages in {summary.Elapsed.TotalSeconds:F2} s ({summary.AlertsPerSecond:F0} alerts/s); wrote {summary.Written}; in flight {summary.InFlight}; ")
         .Append(C, $"{_alerts} output alerts, {_alerts - _withoutFilter} passed a filter.</p>\n");
        h.Append("<nav><a href=\"#stages\">Stages</a> · <a href=\"#latency\">Latency</a> · <a href=\"#classes\">Classes</a> · <a href=\"#candidates\">Candidates</a><ul>");
        for (int i = 0; i < sections.Count; i++)
            h.Append(C, $"<li><a href=\"#s{i}\">").Append(E(sections[i].Title)).Append(C, $"</a> ({sections[i].Matches})</li>");
        h.Append("</ul></nav>\n");

        // The overview side by side, so that the first candidates show on a first screen.
        h.Append("<div class=\"overview\">");
        RenderStages(h, summary);
        RenderLatency(h, summary);
        RenderClasses(h);
        h.Append("</div>\n");

        h.Append("<section id=\"candidates\" data-section=\"candidates\"><h2>Candidates</h2>");
        if (_alerts - _withoutFilter == 0)
            h.Append("<p>No alert passed a filter (none is active, or nothing matched): candidates are grouped by the top class of their classifications.</p>");
        h.Append(C, $"<p>At most {MaxCandidatesPerSection} per section, the best by score (a filter's: the highest top-class probability; a class's: its probability), ties to the smaller alert id.");
        if (_inUnshownSections > 0) h.Append(C, $" {_inUnshownSections} placements in sections beyond the first {MaxSections} are not shown.");
        h.Append("</p>\n");
        for (int i = 0; i < sections.Count; i++) RenderSection(h, sections[i], i);
        h.Append("</section>\n<footer>Written by ").Append(E(BrokerBuild.Current.Name + " " + BrokerBuild.Current.Version)).Append(", <code>broker demo</code>.</footer></body></html>\n");
        return h.ToString();
    }

    private void RenderStages(StringBuilder h, RunSummary summary)
    {
        h.Append("<section id=\"stages\" data-section=\"stages\"><h2>Stages</h2><table class=\"small\"><tr><th>stage</th><th>version</th><th>in</th><th>out</th><th>dead letters</th><th>duplicates</th><th>filtered</th></tr>");
        foreach (var s in summary.Stages)
        {
            h.Append("<tr><td>").Append(E(s.Step)).Append("</td><td>").Append(E(ShortVersion(_stageVersions.GetValueOrDefault(s.Step, "")))).Append("</td>")
             .Append(C, $"<td class=\"n\">{s.In}</td><td class=\"n\">{s.Out}</td><td class=\"n\">{s.DeadLettered}</td><td class=\"n\">{s.Duplicates}</td><td class=\"n\">{s.Filtered}</td></tr>");
        }
        h.Append("</table>");
        if (summary.DeadLetters.Count > 0)
        {
            h.Append("<h3>Dead letters by reason</h3><table><tr><th>stage</th><th>reason</th><th>messages</th></tr>");
            foreach (var g in summary.DeadLetters.GroupBy(d => (d.Stage, d.Reason)).OrderByDescending(g => g.Count()).Take(20))
                h.Append("<tr><td>").Append(E(g.Key.Stage)).Append("</td><td>").Append(E(g.Key.Reason)).Append(C, $"</td><td class=\"n\">{g.Count()}</td></tr>");
            h.Append("</table>");
        }
        h.Append("</section>\n");
    }

    private static void RenderLatency(StringBuilder h, RunSummary summary)
    {
        h.Append("<section id=\"latency\" data-section=\"latency\"><h2>Latency per alert</h2>")
         .Append(C, $"<p>From reading the message to the last stage's output, in this process: p50 {summary.LatencyP50Ms:F2} ms, p90 {summary.LatencyP90Ms:F2} ms, p99 {summary.LatencyP99Ms:F2} ms, max {summary.LatencyMaxMs:F2} ms ({summary.LatenciesMs.Count} alerts).</p>");
        h.Append(LatencyHistogramSvg(summary.LatenciesMs)).Append("</section>\n");
    }

    private void RenderClasses(StringBuilder h)
    {
        h.Append("<section id=\"classes\" data-section=\"classes\"><h2>Classes per classifier</h2>");
        if (_classes.Count == 0) h.Append("<p>No classifications.</p>");
        h.Append("<div class=\"row\">");
        foreach (var c in _classes.Values.OrderBy(c => _classifierOrder.GetValueOrDefault(c.Classifier)))
        {
            h.Append("<div><h3>").Append(E(c.Classifier)).Append(" <small>").Append(E(c.Model)).Append(' ').Append(E(c.ModelVersion)).Append("</small></h3>");
            h.Append("<table><tr><th>top class</th><th>alerts</th><th></th></tr>");
            long max = Math.Max(1, c.TopClasses.Values.DefaultIfEmpty(0).Max());
            foreach (var (cls, n) in c.TopClasses)
                h.Append("<tr><td>").Append(E(cls)).Append(C, $"</td><td class=\"n\">{n}</td><td><span class=\"bar\" style=\"width:{120.0 * n / max:F0}px\"></span></td></tr>");
            foreach (var (reason, n) in c.NotClassified)
                h.Append("<tr><td><i>not classified: ").Append(E(reason)).Append(C, $"</i></td><td class=\"n\">{n}</td><td></td></tr>");
            h.Append("</table></div>");
        }
        h.Append("</div></section>\n");
    }

    private static void RenderSection(StringBuilder h, Section section, int index)
    {
        h.Append(C, $"<section class=\"cands\" id=\"s{index}\" data-section=\"").Append(E(section.Title)).Append("\"><h2>").Append(E(section.Title)).Append("</h2>")
         .Append(C, $"<p>{section.Matches} alerts; showing {section.Best.Count}.</p>");
        foreach (var (score, alert) in section.Best) RenderCandidate(h, alert, score);
        h.Append("</section>\n");
    }

    private static void RenderCandidate(StringBuilder h, Alert a, double score)
    {
        string id = a.AlertId.ToString(C);
        h.Append("<article class=\"cand\" data-alert=\"").Append(id).Append("\"><h3>").Append(E(a.Survey.ToString().ToUpperInvariant())).Append(' ').Append(id)
         .Append(" <small>object ").Append(E(a.ObjectId)).Append("</small></h3><p class=\"meta\">")
         .Append(C, $"RA {a.Ra:F5}°, Dec {a.Dec:+0.00000;-0.00000}°, MJD {a.MjdTai:F5} TAI, band ").Append(E(a.Band));
        if (a.Mag is { } m) h.Append(C, $", {m:F2}").Append(a.MagErr is { } me ? string.Create(C, $" ± {me:F2}") : "").Append(" mag");
        if (!a.IsPositive) h.Append(" (fading: science below template)");
        if (a.RealBogus is { } rb) h.Append(C, $", survey real-bogus {rb:F3}");
        if (score >= 0) h.Append(C, $"; score {score:F3}");
        h.Append("</p><div class=\"row\"><div class=\"stamps\">");
        for (int k = 0; k < SurveyAlertMapper.CutoutKinds.Length; k++)
        {
            string kind = SurveyAlertMapper.CutoutKinds[k];
            h.Append("<figure>");
            byte[]? bytes = a.Cutouts?[k];
            string? why = null;
            if (bytes is null) why = "no stamp";
            else
            {
                try
                {
                    var image = FitsFile.ReadFirstImage(bytes);
                    if ((long)image.Width * image.Height > MaxStampPixels) why = $"{image.Width}x{image.Height}: too large to show";
                    else
                    {
                        var png = PngWriter.ToBytes(image, new PngOptions { Scale = 1 });
                        h.Append(C, $"<img alt=\"{kind}\" width=\"{Math.Min(160, image.Width * 2)}\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png)).Append("\">");
                    }
                }
                catch (FitsFormatException e)
                {
                    why = "unreadable: " + e.Message;
                }
            }
            if (why is not null) h.Append("<div class=\"nostamp\">").Append(E(why)).Append("</div>");
            h.Append("<figcaption>").Append(kind).Append("</figcaption></figure>");
        }
        h.Append("</div>").Append(LightCurveSvg(a)).Append("</div>");

        if (a.Filters.Count > 0)
        {
            h.Append("<p>Filters passed: ");
            h.AppendJoin(", ", a.Filters.Select(f => E(f.Name) + (f.Version.Length > 0 ? " " + E(f.Version) : "")));
            h.Append("</p>");
        }
        h.Append("<table class=\"small\"><tr><th>classifier</th><th>model</th><th>version</th><th>top class</th><th>probabilities</th></tr>");
        foreach (var c in a.Classifications)
        {
            h.Append("<tr><td>").Append(E(c.Classifier)).Append("</td><td>").Append(E(c.Model)).Append("</td><td>").Append(E(c.ModelVersion)).Append("</td><td>");
            if (!c.IsClassified) h.Append("<i>not classified: ").Append(E(c.NotClassifiedReason!)).Append("</i></td><td></td></tr>");
            else
            {
                h.Append("<b>").Append(E(c.TopClass)).Append("</b></td><td>");
                h.AppendJoin(", ", c.Probabilities.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(MaxProbabilitiesShown)
                    .Select(p => E(p.Key) + string.Create(C, $" {p.Value:F3}")));
                h.Append("</td></tr>");
            }
        }
        if (a.Classifications.Count == 0) h.Append("<tr><td colspan=\"5\"><i>none</i></td></tr>");
        h.Append("</table>");

        if (a.Crossmatches.Count > 0)
        {
            h.Append("<table class=\"small\"><tr><th>catalogue</th><th>source</th><th>separation (\")</th><th>type</th><th>redshift</th></tr>");
            foreach (var x in a.Crossmatches.OrderBy(x => x.DistanceArcsec).Take(MaxCrossmatchesShown))
            {
                h.Append("<tr><td>").Append(E(x.Catalog)).Append(x.CatalogRelease.Length > 0 ? " " + E(x.CatalogRelease) : "").Append("</td><td>").Append(E(x.SourceId))
                 .Append(C, $"</td><td class=\"n\">{x.DistanceArcsec:F2}</td><td>").Append(E(x.ObjectType ?? "")).Append("</td><td>")
                 .Append(x.Redshift is { } z ? z.ToString("G4", C) : "").Append("</td></tr>");
            }
            if (a.Crossmatches.Count > MaxCrossmatchesShown) h.Append(C, $"<tr><td colspan=\"5\">... and {a.Crossmatches.Count - MaxCrossmatchesShown} more</td></tr>");
            h.Append("</table>");
        }
        else h.Append("<p class=\"meta\">No catalogue counterpart.</p>");

        if (a.SolarSystem is { } s)
        {
            h.Append("<p class=\"meta\">Solar system: <b>").Append(E(s.Designation)).Append("</b>")
             .Append(C, $" at {s.DistanceArcsec:F2}\" (").Append(E(s.Source)).Append(s.Agreement is { } ag ? ", " + E(ag) : "").Append(')');
            if (s.PredictedMag is { } v) h.Append(C, $", predicted V {v:F1}");
            if (s.SurveyDesignation is { } sd && sd != s.Designation) h.Append("; survey's ").Append(E(sd));
            h.Append("</p>");
        }
        if (a.NewMover is { } mover) h.Append("<p class=\"meta\">Candidate new mover: ").Append(E(mover.Reason)).Append("</p>");
        h.Append("</article>\n");
    }

    /// <summary>Band colours (the ZTF/Rubin convention: u violet, g green, r red, i orange, z grey, y black).</summary>
    private static readonly string[] BandColours = ["#2ca02c", "#d62728", "#ff7f0e", "#7b3fb5", "#7f7f7f", "#222222"];

    /// <summary>
    /// The alert's light curve as inline SVG: per band (<see cref="LightCurve.FromAlert"/>), detections as dots with
    /// their magnitude errors and upper limits as open down-pointing triangles, magnitude against days from the alert
    /// (brighter up). Forced photometry is not drawn (it is flux, often below detection).
    /// </summary>
    public static string LightCurveSvg(Alert alert)
    {
        var lc = LightCurve.FromAlert(alert);
        var points = new List<(int Band, double T, double Mag, double Err, bool Limit)>();
        for (int b = 0; b < LightCurveBands.Count; b++)
        {
            var d = lc.Detections(b);
            for (int i = 0; i < d.Count; i++) points.Add((b, d.Time[i] - alert.MjdTai, d.Mag[i], d.MagErr[i], false));
            var u = lc.UpperLimits(b);
            for (int i = 0; i < u.Count; i++) points.Add((b, u.Time[i] - alert.MjdTai, u.Mag[i], double.NaN, true));
        }
        points = points.Where(p => double.IsFinite(p.Mag) && double.IsFinite(p.T)).OrderBy(p => p.T).ToList();
        if (points.Count > MaxPlottedPoints) points = points.GetRange(points.Count - MaxPlottedPoints, MaxPlottedPoints);
        const int W = 380, H = 210, L = 44, R = 10, T = 10, B = 32;
        var s = new StringBuilder();
        s.Append(C, $"<svg class=\"lc\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"light curve\">");
        s.Append(C, $"<rect x=\"{L}\" y=\"{T}\" width=\"{W - L - R}\" height=\"{H - T - B}\" fill=\"#fff\" stroke=\"#999\"/>");
        if (points.Count == 0)
        {
            s.Append(C, $"<text x=\"{W / 2}\" y=\"{H / 2}\" text-anchor=\"middle\" class=\"ax\">no usable light-curve points</text></svg>");
            return s.ToString();
        }
        double t0 = Math.Min(0, points.Min(p => p.T)), t1 = Math.Max(0, points.Max(p => p.T));
        if (t1 - t0 < 1) { t0 -= 0.5; t1 += 0.5; }
        double pad = (t1 - t0) * 0.04;
        t0 -= pad; t1 += pad;
        double m0 = points.Min(p => p.Limit ? p.Mag : p.Mag - Math.Min(p.Err, 1)), m1 = points.Max(p => p.Limit ? p.Mag : p.Mag + Math.Min(p.Err, 1));
        if (m1 - m0 < 1) { double mid = (m0 + m1) / 2; m0 = mid - 0.5; m1 = mid + 0.5; }
        m0 -= 0.15; m1 += 0.15;
        double X(double t) => L + (t - t0) / (t1 - t0) * (W - L - R);
        double Y(double mag) => T + (mag - m0) / (m1 - m0) * (H - T - B);   // brighter (smaller) up
        foreach (double tick in Ticks(t0, t1, 5))
            s.Append(C, $"<line x1=\"{X(tick):F1}\" y1=\"{H - B}\" x2=\"{X(tick):F1}\" y2=\"{H - B + 4}\" stroke=\"#666\"/><text x=\"{X(tick):F1}\" y=\"{H - B + 15}\" text-anchor=\"middle\" class=\"ax\">{tick:G4}</text>");
        foreach (double tick in Ticks(m0, m1, 4))
            s.Append(C, $"<line x1=\"{L - 4}\" y1=\"{Y(tick):F1}\" x2=\"{L}\" y2=\"{Y(tick):F1}\" stroke=\"#666\"/><text x=\"{L - 6}\" y=\"{Y(tick) + 3:F1}\" text-anchor=\"end\" class=\"ax\">{tick:G4}</text>");
        s.Append(C, $"<text x=\"{(L + W - R) / 2}\" y=\"{H - 3}\" text-anchor=\"middle\" class=\"ax\">days from the alert</text>");
        s.Append(C, $"<text x=\"11\" y=\"{(T + H - B) / 2}\" text-anchor=\"middle\" class=\"ax\" transform=\"rotate(-90 11 {(T + H - B) / 2})\">mag</text>");
        s.Append(C, $"<line x1=\"{X(0):F1}\" y1=\"{T}\" x2=\"{X(0):F1}\" y2=\"{H - B}\" stroke=\"#bbb\" stroke-dasharray=\"3,3\"/>");
        var bands = new SortedSet<int>();
        foreach (var p in points)
        {
            bands.Add(p.Band);
            string colour = BandColours[p.Band];
            double x = X(p.T), y = Y(p.Mag);
            if (p.Limit)
                s.Append(C, $"<path d=\"M{x - 3.5:F1} {y - 3:F1}h7l-3.5 6z\" fill=\"none\" stroke=\"{colour}\" opacity=\"0.6\"/>");
            else
            {
                if (p.Err > 0 && double.IsFinite(p.Err))
                    s.Append(C, $"<line x1=\"{x:F1}\" y1=\"{Y(p.Mag - Math.Min(p.Err, 1)):F1}\" x2=\"{x:F1}\" y2=\"{Y(p.Mag + Math.Min(p.Err, 1)):F1}\" stroke=\"{colour}\"/>");
                s.Append(C, $"<circle cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"2.6\" fill=\"{colour}\"/>");
            }
        }
        int lx = L + 8;
        foreach (int b in bands)
        {
            s.Append(C, $"<circle cx=\"{lx}\" cy=\"{T + 10}\" r=\"3\" fill=\"{BandColours[b]}\"/><text x=\"{lx + 6}\" y=\"{T + 14}\" class=\"ax\">{LightCurveBands.Names[b]}</text>");
            lx += 26;
        }
        s.Append(C, $"<text x=\"{W - R - 4}\" y=\"{T + 14}\" text-anchor=\"end\" class=\"ax\">● detection ▽ upper limit</text></svg>");
        return s.ToString();
    }

    /// <summary>
    /// The run's per-alert latencies as an inline SVG histogram, logarithmic bins (five a decade), so that the
    /// milliseconds of most alerts and the seconds of a slow tail (start-up, a catalogue built on first use) share one plot.
    /// </summary>
    public static string LatencyHistogramSvg(IReadOnlyList<double> latenciesMs)
    {
        var positive = latenciesMs.Where(v => v > 0 && double.IsFinite(v)).ToList();
        const int W = 420, H = 200, L = 40, R = 24, T = 10, B = 36, PerDecade = 5;
        var s = new StringBuilder();
        s.Append(C, $"<svg class=\"hist\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"latency histogram\">");
        s.Append(C, $"<rect x=\"{L}\" y=\"{T}\" width=\"{W - L - R}\" height=\"{H - T - B}\" fill=\"#fff\" stroke=\"#999\"/>");
        if (positive.Count == 0)
        {
            s.Append(C, $"<text x=\"{W / 2}\" y=\"{H / 2}\" text-anchor=\"middle\" class=\"ax\">no latencies</text></svg>");
            return s.ToString();
        }
        int lo = (int)Math.Floor(Math.Log10(positive.Min()) * PerDecade), hi = (int)Math.Floor(Math.Log10(positive.Max()) * PerDecade) + 1;
        lo = Math.Max(lo, hi - 8 * PerDecade);   // at most eight decades; smaller values count in the first bin
        var counts = new long[hi - lo];
        foreach (double v in positive) counts[Math.Clamp((int)Math.Floor(Math.Log10(v) * PerDecade) - lo, 0, counts.Length - 1)]++;
        long max = counts.Max();
        double bw = (double)(W - L - R) / counts.Length;
        for (int i = 0; i < counts.Length; i++)
        {
            double bh = (double)counts[i] / max * (H - T - B - 8);
            double lower = Math.Pow(10, (double)(lo + i) / PerDecade), upper = Math.Pow(10, (double)(lo + i + 1) / PerDecade);
            s.Append(C, $"<rect x=\"{L + i * bw + 1:F1}\" y=\"{H - B - bh:F1}\" width=\"{bw - 2:F1}\" height=\"{bh:F1}\" fill=\"#4878a8\"><title>{Round(lower)}-{Round(upper)} ms: {counts[i]}</title></rect>");
        }
        // Every bin edge labelled when the bins span at most two decades, else the decades only.
        bool everyEdge = counts.Length <= 2 * PerDecade;
        for (int i = 0; i <= counts.Length; i++)
        {
            if (!everyEdge && (lo + i) % PerDecade != 0) continue;
            double ms = Math.Pow(10, (double)(lo + i) / PerDecade);
            string label = ms >= 1000 ? string.Create(C, $"{ms / 1000:G3} s") : string.Create(C, $"{ms:G3} ms");
            s.Append(C, $"<line x1=\"{L + i * bw:F1}\" y1=\"{H - B}\" x2=\"{L + i * bw:F1}\" y2=\"{H - B + 4}\" stroke=\"#666\"/><text x=\"{L + i * bw:F1}\" y=\"{H - B + 16}\" text-anchor=\"middle\" class=\"ax\">{label}</text>");
        }
        s.Append(C, $"<text x=\"{L - 6}\" y=\"{T + 10}\" text-anchor=\"end\" class=\"ax\">{max}</text><text x=\"{L - 6}\" y=\"{H - B}\" text-anchor=\"end\" class=\"ax\">0</text>");
        s.Append(C, $"<text x=\"{(L + W - R) / 2}\" y=\"{H - 4}\" text-anchor=\"middle\" class=\"ax\">latency per alert (log scale, five bins a decade)</text></svg>");
        return s.ToString();
    }

    /// <summary>A bin edge for a tooltip: three significant digits, whole numbers from 100 on.</summary>
    private static string Round(double v) => v >= 100 ? v.ToString("F0", C) : v.ToString("G3", C);

    /// <summary>About <paramref name="n"/> round tick values (1, 2, 5 times a power of ten) inside [a, b].</summary>
    private static IEnumerable<double> Ticks(double a, double b, int n)
    {
        double raw = (b - a) / n, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double t = Math.Ceiling(a / step) * step; t <= b; t += step) yield return Math.Abs(t) < step * 1e-9 ? 0 : t;
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Css =
        "body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#f6f6f4}" +
        "h1{margin:0 0 4px}h2{border-bottom:1px solid #ccc;margin-top:20px}.overview{display:flex;flex-wrap:wrap;gap:0 32px}.overview p{max-width:420px}h3{margin:4px 0}small{color:#666;font-weight:normal}" +
        ".lead{color:#444}nav ul{columns:3;margin:6px 0}table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}" +
        "td.n{text-align:right}table.small{font-size:12px}.bar{display:inline-block;height:10px;background:#4878a8}" +
        ".cand{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;margin:10px 0}.meta{color:#444;margin:2px 0 6px;font-size:13px}" +
        ".row{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}.stamps{display:flex;gap:6px}" +
        "figure{margin:0;text-align:center;font-size:11px;color:#555}figure img{display:block;image-rendering:pixelated;background:#000}" +
        ".nostamp{width:126px;height:126px;display:flex;align-items:center;justify-content:center;background:#eee;color:#777;font-size:11px;text-align:center}" +
        "svg .ax{font:10px system-ui,sans-serif;fill:#444}footer{margin-top:32px;color:#777;font-size:12px}";

    /// <summary>One section: its name, how many alerts it has, and the best of them.</summary>
    private sealed class Section(string name, bool isFilter, string classifier)
    {
        public string Name { get; } = name;
        public string Classifier { get; } = classifier;
        public bool IsFilter { get; } = isFilter;
        public string Title => IsFilter ? "filter " + Name : Name;
        public long Matches { get; private set; }

        private readonly List<(double Score, Alert Alert)> _best = [];

        /// <summary>The kept candidates, best first.</summary>
        public IReadOnlyList<(double Score, Alert Alert)> Best => _best;

        public void Offer(Alert alert, double score)
        {
            Matches++;
            int same = _best.FindIndex(b => b.Alert.AlertId == alert.AlertId);
            if (same >= 0)
            {
                if (Better(score, alert.AlertId, _best[same])) _best[same] = (score, alert);
                _best.Sort(Compare);
                return;
            }
            if (_best.Count < MaxCandidatesPerSection) _best.Add((score, alert));
            else if (Better(score, alert.AlertId, _best[^1])) _best[^1] = (score, alert);
            else return;
            _best.Sort(Compare);
        }

        private static bool Better(double score, long id, (double Score, Alert Alert) than) =>
            score > than.Score || (score == than.Score && id < than.Alert.AlertId);

        private static int Compare((double Score, Alert Alert) a, (double Score, Alert Alert) b) =>
            a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Alert.AlertId.CompareTo(b.Alert.AlertId);
    }
}

/// <summary>One classifier's (model version's) classes over a run: alerts per top class and those it could not classify, by reason.</summary>
/// <param name="Classifier">The classifier (<see cref="Classification.Classifier"/>).</param>
/// <param name="Model">Its model.</param>
/// <param name="ModelVersion">The model's version.</param>
public sealed record ClassifierCounts(string Classifier, string Model, string ModelVersion)
{
    /// <summary>Alerts per top class.</summary>
    public SortedDictionary<string, long> TopClasses { get; } = new(StringComparer.Ordinal);

    /// <summary>Alerts not classified, by reason.</summary>
    public SortedDictionary<string, long> NotClassified { get; } = new(StringComparer.Ordinal);

    /// <summary>Alerts counted.</summary>
    public long Alerts { get; private set; }

    /// <summary>Counts one classification.</summary>
    public void Count(Classification c)
    {
        Alerts++;
        var into = c.IsClassified ? TopClasses : NotClassified;
        // Reasons grouped as the health file groups dead-letter reasons (digits as #), so that "too few detections: 3
        // in g and 2 in r" and "... 1 in g and 4 in r" are one row.
        string key = c.IsClassified ? c.TopClass : StepCounters.ReasonKey(c.NotClassifiedReason);
        if (into.Count < DemoReport.MaxSections || into.ContainsKey(key)) into[key] = into.GetValueOrDefault(key) + 1;
    }
}
