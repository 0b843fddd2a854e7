using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Alerts.Model;
using Broker.StepHost;
using Microsoft.Extensions.Logging;

namespace Broker.Ingest;

/// <summary>
/// Survey alert bytes to Broker alert records: decode (ZTF container or Confluent-framed Rubin alert), map to the
/// survey-neutral <see cref="Alert"/> (schema, coordinates and times checked by <see cref="SurveyAlertMapper"/>),
/// check the cutouts, and drop exact duplicates of recently seen alert ids (counted, not silent). Anything wrong
/// with the input is a dead letter with a reason.
/// </summary>
public sealed class IngestStep : IStep<byte[], Alert>
{
    private readonly IngestOptions _options;
    private readonly ISchemaRegistry? _registry;
    private readonly RecentIds _recent;
    private readonly ILogger? _log;

    /// <summary>The step's name in headers, dead letters and metrics.</summary>
    public const string StepName = "ingest";

    /// <summary>Creates the step.</summary>
    /// <param name="options">Its settings.</param>
    /// <param name="registry">Schema registry for Confluent-framed alerts; default from <paramref name="options"/>.</param>
    /// <param name="logger">Where to log.</param>
    public IngestStep(IngestOptions options, ISchemaRegistry? registry = null, ILogger<IngestStep>? logger = null)
    {
        _options = options;
        _registry = registry ?? options.CreateRegistry();
        _recent = new RecentIds(options.DuplicateWindow);
        _log = logger;
    }

    /// <inheritdoc />
    public string Name => StepName;

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<StepResult<Alert>>> ExecuteAsync(IReadOnlyList<byte[]> batch, CancellationToken cancellationToken)
    {
        var results = new StepResult<Alert>[batch.Count];
        for (int i = 0; i < results.Length; i++) results[i] = One(batch[i]);
        return ValueTask.FromResult<IReadOnlyList<StepResult<Alert>>>(results);
    }

    private StepResult<Alert> One(byte[] message)
    {
        AvroRecord record;
        try
        {
            record = SurveyMessage.Decode(message, _registry);
        }
        catch (Exception ex) when (ex is FormatException or AvroSchemaException or IOException or InvalidDataException)
        {
            return StepResult<Alert>.DeadLetter("undecodable: " + ex.Message);
        }
        catch (HttpRequestException ex)
        {
            // The registry is a dependency: a failing one is transient, not the alert's fault.
            throw new StepException(FailureKind.Transient, "schema registry unreachable: " + ex.Message, ex);
        }
        Alert alert;
        try
        {
            alert = SurveyAlertMapper.Map(record);
        }
        catch (Exception ex) when (ex is FormatException or InvalidCastException)
        {
            return StepResult<Alert>.DeadLetter("invalid: " + ex.Message);
        }
        if (CheckCutouts(alert) is { } problem) return StepResult<Alert>.DeadLetter($"alert {alert.AlertId}: {problem}");
        if (!_recent.Add(alert.AlertId))
        {
            if (_log?.IsEnabled(LogLevel.Debug) == true) _log.LogDebug("Duplicate {AlertId} dropped", alert.AlertId);
            return StepResult<Alert>.Duplicate($"alert {alert.AlertId} seen within the last {_options.DuplicateWindow} alerts");
        }
        return StepResult<Alert>.Emit(alert);
    }

    private string? CheckCutouts(Alert alert)
    {
        var c = alert.Cutouts;
        if (_options.RequireCutouts)
        {
            if (c is null) return "no cutouts";
            if (c.Science is null || c.Template is null || c.Difference is null)
                return "cutout missing: " + string.Join(", ", SurveyAlertMapper.CutoutKinds.Where((_, i) => c[i] is null));
        }
        if (c is null) return null;
        for (int i = 0; i < SurveyAlertMapper.CutoutKinds.Length; i++)
        {
            string name = SurveyAlertMapper.CutoutKinds[i];
            if (c[i] is not { } bytes) continue;
            try
            {
                // The cutouts go downstream as they came; only whether they decode is checked here.
                FitsFile.CheckFirstImage(bytes);
            }
            catch (Exception ex) when (ex is FitsFormatException or FormatException or InvalidDataException or IOException or ArgumentException or InvalidOperationException)
            {
                return $"{name} cutout is not a decodable FITS image: {ex.Message}";
            }
        }
        return null;
    }
}

/// <summary>The most recent N alert ids, for duplicate suppression (insertion order; oldest forgotten first).</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly HashSet<long> _set = new(Math.Min(capacity, 1 << 16));
    private readonly Queue<long> _order = new();

    /// <summary>Adds an id; false when it was already there.</summary>
    public bool Add(long id)
    {
        if (capacity <= 0) return true;
        lock (_set)
        {
            if (!_set.Add(id)) return false;
            _order.Enqueue(id);
            if (_order.Count > capacity) _set.Remove(_order.Dequeue());
            return true;
        }
    }
}
