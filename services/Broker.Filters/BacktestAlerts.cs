using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>One alert read for a backtest, or why a record could not be read (<see cref="Error"/> set, <see cref="Alert"/> null).</summary>
/// <param name="Source">The file, with <c>::member</c> for an archive member.</param>
/// <param name="Index">The record's position in its source.</param>
/// <param name="Alert">The alert.</param>
/// <param name="Error">Why it could not be read.</param>
public sealed record BacktestAlert(string Source, int Index, Alert? Alert, string? Error);

/// <summary>
/// Reads alerts for a backtest (<c>broker filter test</c>, the filter tests): survey alerts (ZTF, Rubin) as
/// ingest maps them, and Broker's own records (<c>alerts.avro</c> from <c>broker run</c>, a subscriber's files)
/// with everything the stages added, so filters on classifications and cross-matches can be tried on them.
/// </summary>
public static class BacktestAlerts
{
    /// <summary>Every record of every path, in <see cref="AlertFiles"/>' order; damage is an item with an error, never an exception.</summary>
    public static IEnumerable<BacktestAlert> Read(IEnumerable<string> paths, ISchemaRegistry? registry, AlertLimits? limits = null)
    {
        var reader = new AlertFileReader(registry, null, limits);
        foreach (var item in reader.Read(paths))
        {
            if (!item.Ok || item.Record is null)
            {
                yield return new BacktestAlert(item.Source, item.Index, null, item.Error ?? "no record");
                continue;
            }
            Alert? alert = null;
            string? error = null;
            try
            {
                alert = item.Record.Schema.FullName == BrokerAlertCodec.Schema.FullName
                    ? BrokerAlertCodec.FromRecord(item.Record)
                    : SurveyAlertMapper.Map(item.Record);
            }
            catch (FormatException e)
            {
                error = e.Message;
            }
            yield return new BacktestAlert(item.Source, item.Index, alert, error);
        }
    }
}
