using System.Text.Json;
using System.Text.RegularExpressions;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Cli.Pipeline;
using Broker.StepHost;
using Broker.TestSupport;
using Microsoft.Playwright;

namespace Broker.Cli.Tests;

/// <summary>
/// Issue 16, item 6: <c>broker demo</c>'s report (<see cref="DemoReport"/>, docs/report.md). Its sections and choice
/// of candidates are checked on real alerts given filter matches here (the filter stage is not in the chain yet); the
/// page is opened in Debian's headless Chromium through Playwright, which must find every section and every image loaded.
/// Set <c>BROKER_UPDATE_DOCS=1</c> to rewrite docs/demo-report.png from the real samples' report.
/// </summary>
public sealed partial class DemoReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-demo-report").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Real ZTF alerts that carry all three stamps (the 2018 schema samples and Fink's), decoded as ingest does.</summary>
    private static List<Alert> RealZtfAlertsWithStamps(int count)
    {
        var alerts = new List<Alert>();
        foreach (var item in new AlertFileReader().Read([SharedData.Path("ztf/alerts")]))
        {
            if (!item.Ok) continue;
            var alert = SurveyAlertMapper.Map(item.Record!);
            if (alert.HasAllCutouts && alerts.All(a => a.AlertId != alert.AlertId)) alerts.Add(alert);
            if (alerts.Count == count) break;
        }
        Assert.Equal(count, alerts.Count);
        return alerts;
    }

    private static Classification Stamp(double sn) => new()
    {
        Classifier = "stamp",
        Model = "test-model",
        ModelVersion = "1",
        Classes = ["SN", "AGN"],
        Probabilities = new Dictionary<string, double> { ["SN"] = sn, ["AGN"] = 1 - sn },
        TopClass = sn >= 0.5 ? "SN" : "AGN",
    };

    private static RunSummary Summary(int alerts) =>
        new(alerts, alerts, [new StepCountersSnapshot("ingest", alerts, alerts, 0, 0, 0, 1, 0, 1, 1, 1)], [], TimeSpan.FromSeconds(1),
            [.. Enumerable.Range(1, alerts).Select(i => i * 1.5)], stopped: false);

    /// <summary>
    /// 14 real alerts passing filter <c>sn-like</c>, with SN probabilities 0.500, 0.535, ... 0.955; one object id and the
    /// other filter's name are hostile HTML.
    /// </summary>
    private static List<Alert> FilteredAlerts()
    {
        var alerts = RealZtfAlertsWithStamps(14);
        for (int i = 0; i < alerts.Count; i++)
        {
            var a = alerts[i].WithClassification(Stamp(0.5 + 0.035 * i)).WithFilter(new FilterMatch("sn-like", "2"));
            if (i == 13) a = (a with { ObjectId = "ZTF<script>alert(1)</script>&\"" }).WithFilter(new FilterMatch("<img src=x onerror=alert(2)>", ""));
            alerts[i] = a;
        }
        return alerts;
    }

    [GeneratedRegex("<section class=\"cands\" id=\"s\\d+\" data-section=\"([^\"]*)\">(.*?)</section>", RegexOptions.Singleline)]
    private static partial Regex SectionPattern();

    [GeneratedRegex("data-alert=\"(\\d+)\"")]
    private static partial Regex CandidatePattern();

    /// <summary>Candidate alert ids per section title (as escaped in the page), in page order.</summary>
    private static Dictionary<string, List<long>> Sections(string html) =>
        SectionPattern().Matches(html).ToDictionary(m => m.Groups[1].Value,
            m => CandidatePattern().Matches(m.Groups[2].Value).Select(c => long.Parse(c.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList());

    [OracleFact]
    public void Each_filter_gets_a_section_of_its_best_candidates_whatever_order_the_alerts_arrive_in_and_outside_text_is_escaped()
    {
        var alerts = FilteredAlerts();
        var forward = new DemoReport();
        foreach (var a in alerts) forward.Add(a);
        var backward = new DemoReport();
        foreach (var a in Enumerable.Reverse(alerts)) backward.Add(a);
        string html = forward.Render(Summary(alerts.Count), "constructed");
        Assert.Equal(html, backward.Render(Summary(alerts.Count), "constructed"));

        var sections = Sections(html);
        // Alerts that passed a filter are shown under their filters only, not under their classes.
        Assert.Equal(["filter &lt;img src=x onerror=alert(2)&gt;", "filter sn-like"], sections.Keys.Order(StringComparer.Ordinal));
        // The best 12 of 14 by SN probability (a filter's score: the top class's), best first: 0.500 and 0.535 are left out.
        Assert.Equal(alerts.AsEnumerable().Reverse().Take(DemoReport.MaxCandidatesPerSection).Select(a => a.AlertId), sections["filter sn-like"]);
        Assert.Equal([alerts[13].AlertId], sections["filter &lt;img src=x onerror=alert(2)&gt;"]);
        Assert.Contains("<p>14 alerts; showing 12.</p>", html);
        Assert.Contains("ZTF&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img src=x", html);
        Assert.Equal(new[] { ("<img src=x onerror=alert(2)>", 1L), ("sn-like", 14L) }, forward.FilterCounts);
        Assert.Equal(0, forward.WithoutFilter);
        // Class counts per classifier cover every alert, filtered or not.
        var stamp = Assert.Single(forward.Classifiers);
        Assert.Equal(new SortedDictionary<string, long>(StringComparer.Ordinal) { ["SN"] = 14 }, stamp.TopClasses);
        // Three stamps per shown candidate (13: 12 + the one in the other filter's section), each a PNG data URI.
        Assert.Equal(3 * 13, Regex.Matches(html, "src=\"data:image/png;base64,").Count);
    }

    [OracleFact]
    public void Alerts_that_passed_no_filter_are_grouped_by_the_top_class_of_each_classification()
    {
        var alerts = RealZtfAlertsWithStamps(5);
        var report = new DemoReport();
        report.Add(alerts[0].WithClassification(Stamp(0.9)));
        report.Add(alerts[1].WithClassification(Stamp(0.2)));
        report.Add(alerts[2].WithClassification(Stamp(0.7)).WithFilter(new FilterMatch("sn-like", "1")));
        report.Add(alerts[3].WithClassification(Classification.NotClassified("stamp", "test-model", "1", "", Classification.NoCutouts)));
        report.Add(alerts[4]);
        var sections = Sections(report.Render(Summary(5), "constructed"));
        Assert.Equal(new Dictionary<string, List<long>>
        {
            ["filter sn-like"] = [alerts[2].AlertId],
            ["stamp: SN"] = [alerts[0].AlertId],
            ["stamp: AGN"] = [alerts[1].AlertId],
            // Without a class the score is the survey's real-bogus score.
            [DemoReport.NotClassifiedSection] = [.. alerts.Skip(3).OrderByDescending(a => a.RealBogus).ThenBy(a => a.AlertId).Select(a => a.AlertId)],
        }, sections);
        Assert.Equal(4, report.WithoutFilter);
        var stamp = Assert.Single(report.Classifiers);
        Assert.Equal(new SortedDictionary<string, long>(StringComparer.Ordinal) { [Classification.NoCutouts] = 1 }, stamp.NotClassified);
    }

    [Fact]
    public void The_latency_histogram_counts_every_alert_once_in_logarithmic_bins()
    {
        double[] latencies = [0.8, 0.9, 1.2, 3.0, 40, 41, 900, 1500, 0, double.NaN];
        string svg = DemoReport.LatencyHistogramSvg(latencies);
        var bins = Regex.Matches(svg, "<title>([^ ]+) ms: (\\d+)</title>").Select(m => (Range: m.Groups[1].Value, Count: int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();
        // 0.8 ms to 1.5 s: bins of a fifth of a decade from 10^(-1/5) ms (0.631) to 10^(16/5) ms (1585); zero and NaN are not latencies.
        Assert.Equal(17, bins.Count);
        Assert.Equal(8, bins.Sum(b => b.Count));
        Assert.Equal(("0.631-1", 2), bins[0]);
        Assert.Equal(("1-1.58", 1), bins[1]);
        Assert.Equal(("2.51-3.98", 1), bins[3]);
        Assert.Equal(("1000-1585", 1), bins[^1]);
        Assert.Contains("no latencies", DemoReport.LatencyHistogramSvg([]));
    }

    [Fact]
    public void The_light_curve_plots_each_detection_and_upper_limit_of_a_known_band_once()
    {
        var alert = new Alert
        {
            AlertId = 1, Band = "r", MjdTai = 60000, Mag = 19.0, MagErr = 0.1, Flux = 1, FluxErr = 0.1, IsPositive = true,
            Detections = [new Detection { MjdTai = 59990, Band = "g", Mag = 19.5, MagErr = 0.2 }, new Detection { MjdTai = 59995, Band = "zz", Mag = 19.5, MagErr = 0.2 }],
            UpperLimits = [new UpperLimit(59980, "g", 20.5), new UpperLimit(59985, "r", 20.1), new UpperLimit(59986, "r", null)],
        };
        string svg = DemoReport.LightCurveSvg(alert);
        // Two detections (the alert's r, the earlier g; band zz is unknown) plus two legend dots; two limits (one has no magnitude).
        Assert.Equal(2 + 2, Regex.Matches(svg, "<circle ").Count);
        Assert.Equal(2, Regex.Matches(svg, "<path d=\"M").Count);
        Assert.Contains(">g</text>", svg);
        Assert.Contains(">r</text>", svg);
        Assert.Contains("no usable light-curve points", DemoReport.LightCurveSvg(new Alert { MjdTai = 60000, Flux = double.NaN }));
    }

    [ChromiumFact]
    public async Task The_report_of_filtered_alerts_renders_in_headless_chromium_with_every_stamp()
    {
        var alerts = FilteredAlerts();
        var report = new DemoReport();
        foreach (var a in alerts) report.Add(a);
        string path = Path.Combine(_dir, "report.html");
        report.Write(path, Summary(alerts.Count), "constructed");
        var page = await OpenAsync(path, screenshot: null);
        Assert.Equal(3 * 13, page.Images.Count);
        Assert.All(page.Images, i => Assert.True(i.Loaded, $"image {i.Alt} did not load"));
        Assert.Equal(["stages", "latency", "classes", "candidates", "filter <img src=x onerror=alert(2)>", "filter sn-like"], page.Sections);
        Assert.Equal(13, page.Candidates);
        Assert.Equal(13 + 1, page.Svgs);   // a light curve per candidate and the latency histogram
        Assert.Empty(page.Requests);
        // The hostile object id is text on the page, not markup.
        Assert.Contains("ZTF<script>alert(1)</script>&\"", page.Text);
    }

    [ChromiumFact]
    public async Task The_demo_on_the_real_samples_prints_its_tables_and_writes_a_report_that_renders_with_every_image()
    {
        string output = Path.Combine(_dir, "demo");
        var result = BrokerProcess.Run("demo", "--samples", "--out", output);
        Assert.True(result.ExitCode == 0, result.StandardError);
        foreach (string table in new[] { "Stages", "Classes per classifier", "Filters", "Report:" })
            Assert.Contains(table, result.StandardOutput);
        string path = Path.Combine(output, "report.html");
        Assert.True(new FileInfo(path).Length < 8 << 20, "report.html is over its bound");

        string? docs = Environment.GetEnvironmentVariable("BROKER_UPDATE_DOCS") == "1" ? SharedData.RepositoryPath("docs/demo-report.png") : null;
        var page = await OpenAsync(path, docs ?? Path.Combine(_dir, "demo-report.png"));
        Assert.Empty(page.Requests);
        Assert.Equal(["stages", "latency", "classes", "candidates"], page.Sections.Take(4));
        // The samples' classes: the stamp classifier's and braai's, each a section (not classified: the alerts without stamps).
        foreach (string section in new[] { "stamp: SN", "stamp: AGN", "stamp: VS", "stamp: asteroid", "stamp: bogus", "braai: real", "braai: bogus", DemoReport.NotClassifiedSection })
            Assert.Contains(section, page.Sections);
        Assert.True(page.Candidates >= 8 * 3, $"{page.Candidates} candidates");
        // Every candidate shows its three stamps, each an image or the reason it has none ("no stamp" for the archive
        // copies without cutouts, which the light-curve sections show too); every image on the page has loaded.
        Assert.Equal(3 * page.Candidates, page.Images.Count + page.Stampless);
        Assert.True(page.Images.Count >= 3 * 8 * 3, $"{page.Images.Count} images for {page.Candidates} candidates");
        Assert.All(page.Images, i => Assert.True(i.Loaded, $"image {i.Alt} did not load"));
        Assert.Equal(page.Candidates + 1, page.Svgs);
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "run", "summary.json"))))
            Assert.Contains($"Read {summary.RootElement.GetProperty("read").GetInt64()} messages", page.Text);
        long shot = new FileInfo(docs ?? Path.Combine(_dir, "demo-report.png")).Length;
        Assert.True(shot is > 10_000 and < 400_000, $"screenshot is {shot} bytes");
    }

    private sealed record PageImage(string Alt, bool Loaded);

    private sealed record OpenedPage(IReadOnlyList<string> Sections, IReadOnlyList<PageImage> Images, int Candidates, int Stampless, int Svgs, string Text, IReadOnlyList<string> Requests);

    /// <summary>
    /// Opens <paramref name="path"/> in Debian's Chromium, headless, with a fresh profile (../shared/ENVIRONMENT.md,
    /// "Browsers"); Playwright never downloads a browser here: it is given the executable. Optionally writes a
    /// screenshot of the page's top (1100x1800 CSS pixels).
    /// </summary>
    private async Task<OpenedPage> OpenAsync(string path, string? screenshot)
    {
        using var playwright = await Playwright.CreateAsync();
        string profile = Directory.CreateTempSubdirectory("broker-chromium-profile").FullName;
        try
        {
            await using var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ChromiumFactAttribute.Executable,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
                ViewportSize = new ViewportSize { Width = 1100, Height = 1800 },
            });
            var page = await context.NewPageAsync();
            var requests = new List<string>();
            // Anything but the file itself and its data: URIs would be an external resource.
            page.Request += (_, r) => { if (r.Url != new Uri(path).AbsoluteUri && !r.Url.StartsWith("data:", StringComparison.Ordinal)) requests.Add(r.Url); };
            var response = await page.GotoAsync(new Uri(path).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
            Assert.NotNull(response);
            string json = await page.EvaluateAsync<string>("""
                () => JSON.stringify({
                  sections: Array.from(document.querySelectorAll('section[data-section]')).map(s => s.dataset.section),
                  images: Array.from(document.images).map(i => ({ alt: i.alt, loaded: i.complete && i.naturalWidth > 0 })),
                  candidates: document.querySelectorAll('article.cand').length,
                  stampless: document.querySelectorAll('article.cand .nostamp').length,
                  svgs: document.querySelectorAll('svg').length,
                  text: document.body.innerText })
                """);
            if (screenshot is not null)
                await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, Clip = new Clip { X = 0, Y = 0, Width = 1100, Height = 1800 } });
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            return new OpenedPage(
                [.. root.GetProperty("sections").EnumerateArray().Select(s => s.GetString()!)],
                [.. root.GetProperty("images").EnumerateArray().Select(i => new PageImage(i.GetProperty("alt").GetString()!, i.GetProperty("loaded").GetBoolean()))],
                root.GetProperty("candidates").GetInt32(), root.GetProperty("stampless").GetInt32(), root.GetProperty("svgs").GetInt32(), root.GetProperty("text").GetString()!, requests);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}

/// <summary>A fact that needs Debian's Chromium (<c>/usr/bin/chromium</c>, package <c>chromium</c>) and the shared data; skipped with the reason otherwise.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>The browser the tests drive.</summary>
    public const string Executable = "/usr/bin/chromium";

    /// <inheritdoc/>
    public override string Skip
    {
        get => base.Skip ?? (!File.Exists(Executable) ? $"{Executable} is missing: install the Debian package chromium (./broker test does)"
            : OracleRequirements.WhySkip([], needsSharedData: true)!);
        set => base.Skip = value;
    }
}
