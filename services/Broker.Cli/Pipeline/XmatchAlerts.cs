using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.Cli.Commands;

namespace Broker.Cli.Pipeline;

/// <summary>
/// <c>broker xmatch --catalog FILE --radius R ALERTS...</c> (issue 11, item 3): the alert files go through ingest and
/// the crossmatch stage, in process, with that one catalogue as the stage's only entry, and each annotated alert is
/// printed as one JSON line: its identity, position and time, its Galactic context and its crossmatch entries (the
/// cutouts and light curve are left out: <c>broker run</c> writes whole records). Bad alerts are named on standard
/// error, as <c>broker run</c> names them, and make the exit code 1.
/// </summary>
internal static class XmatchAlerts
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs the alerts in <paramref name="paths"/> against <paramref name="catalogPath"/>; returns the exit code.</summary>
    /// <param name="catalogPath">The catalogue index.</param>
    /// <param name="radiusArcsec">The match radius.</param>
    /// <param name="nearest">Only the nearest counterpart per alert; otherwise every one within the radius.</param>
    /// <param name="paths">Alert files or folders (as <c>broker run</c> reads them).</param>
    /// <param name="registry">For Confluent-framed (Rubin) alerts.</param>
    /// <param name="limits">What one input may cost.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    public static async Task<int> RunAsync(string catalogPath, double radiusArcsec, bool nearest, IReadOnlyList<string> paths,
        ISchemaRegistry? registry, AlertLimits limits, CancellationToken cancellationToken)
    {
        var bad = new BadInputReport();
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [ChainCatalogs.CatalogKeyPrefix + "0:Path"] = catalogPath,
            [ChainCatalogs.CatalogKeyPrefix + "0:RadiusArcsec"] = radiusArcsec.ToString("R", CultureInfo.InvariantCulture),
            [ChainCatalogs.CatalogKeyPrefix + "0:Match"] = nearest ? "nearest" : "all",
        };
        await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16) { NewLine = "\n" };
        var summary = await BrokerChain.RunAsync(paths, new BrokerRunOptions
        {
            Registry = registry,
            Limits = limits,
            OnBadInput = bad.Report,
            Settings = settings,
            OnAlert = alert => stdout.WriteLine(JsonSerializer.Serialize(Annotation(alert), Json)),
        }, null, cancellationToken);
        await stdout.FlushAsync(CancellationToken.None);
        bad.Report(summary);
        return summary.Stopped ? 130 : bad.Count > 0 ? 1 : 0;
    }

    /// <summary>What the JSON line of an alert holds.</summary>
    internal static object Annotation(Alert alert) => new
    {
        alertId = alert.AlertId,
        objectId = alert.ObjectId,
        survey = alert.Survey.ToString().ToUpperInvariant(),
        ra = alert.Ra,
        dec = alert.Dec,
        mjdTai = alert.MjdTai,
        galactic = alert.Galactic is { } g ? new { l = g.LDeg, b = g.BDeg, inPlane = g.InPlane } : null,
        crossmatches = alert.Crossmatches.Select(m => new
        {
            catalog = m.Catalog,
            release = m.CatalogRelease,
            sourceId = m.SourceId,
            ra = m.Ra,
            dec = m.Dec,
            separationArcsec = m.DistanceArcsec,
            radiusArcsec = m.MatchRadiusArcsec,
            type = m.ObjectType,
            redshift = m.Redshift,
            physicalOffsetKpc = m.PhysicalOffsetKpc,
            properties = m.Properties,
        }),
    };
}
