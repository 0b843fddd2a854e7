using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.StepHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Broker.Ingest;

/// <summary>
/// Survey alert bytes to Broker alert records: decode (ZTF container or Confluent-framed Rubin alert), map to the
/// survey-neutral <see cref="Alert"/> (schema, coordinates and times checked by <see cref="SurveyAlertMapper"/>),
/// check that the cutouts present decode, and drop exact duplicates of recently seen alert ids (counted, not
/// silent). Anything wrong with the input is a dead letter with a reason; only a failing dependency (the schema
/// registry) is transient. An alert without cutouts, or without some of the three, is valid and passes with them
/// absent (docs/alerts.md lists what is refused and what passes). Each output records this stage's time and
/// version (<see cref="Alert.WithStage(string, string, DateTimeOffset)"/>).
/// The duplicate window is the step's state (<see cref="IStepState"/>): an id joins it only when the runner keeps
/// the batch's results, so a batch retried or re-run one alert at a time never counts an alert as a duplicate of
/// itself.
/// </summary>
public sealed class IngestStep : IStep<byte[], Alert>, IStepState, IDisposable
{
    private readonly IngestOptions _options;
    private readonly ISchemaRegistry? _registry;
    private readonly bool _ownsRegistry;
    private readonly RecentIds _recent;
    private readonly AlertLimits _limits;
    private readonly ILogger? _log;
    private readonly TimeProvider _clock;

    /// <summary>The step's name in headers, dead letters and metrics.</summary>
    public const string StepName = "ingest";

    /// <summary>What ingest reads: the surveys' alert stream.</summary>
    public const string InputTopic = "survey.alerts";

    /// <summary>What ingest writes: Broker alert records.</summary>
    public const string OutputTopic = "broker.ingested";

    /// <summary>Ingest's entry in the stage registry (docs/stages.md): its topics, its options section, how its step is made.</summary>
    public static StageDefinition<byte[], Alert, IngestOptions> Stage { get; } = new()
    {
        Name = StepName,
        Description = "Decodes survey alerts (ZTF containers, Confluent-framed Rubin alerts), checks coordinates, times and cutouts, drops exact duplicates and writes Broker alert records.",
        Input = InputTopic,
        Outputs = [new TopicDefinition(OutputTopic, "Broker alert record, Avro binary without framing, `schemas/broker/broker.alert.v1.3.avsc` (1.0, 1.1 and 1.2 records also read: the first field names the version; docs/alerts.md)")],
        Section = IngestOptions.Section,
        InputCodec = RawBytesCodec.Instance,
        OutputCodec = AlertMessageCodec.Instance,
        Factory = (options, context) => new IngestStep(options, context.Services.GetService<ISchemaRegistry>(), context.Loggers.CreateLogger<IngestStep>()),
    };
    /// <summary>The version the step writes into each alert's <c>stageVersions</c>: its assembly's informational version.</summary>
    public static string StageVersion { get; } = BrokerBuild.VersionOf(typeof(IngestStep).Assembly);

    /// <summary>Creates the step.</summary>
    /// <param name="options">Its settings.</param>
    /// <param name="registry">Schema registry for Confluent-framed alerts (the caller's to dispose); default from <paramref name="options"/> (the step's).</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="clock">The clock for the stage time each output records (default: the system's).</param>
    public IngestStep(IngestOptions options, ISchemaRegistry? registry = null, ILogger<IngestStep>? logger = null, TimeProvider? clock = null)
    {
        _options = options;
        _ownsRegistry = registry is null;
        _registry = registry ?? options.CreateRegistry();
        _recent = new RecentIds(options.DuplicateWindow);
        _limits = options.Limits;
        _log = logger;
        _clock = clock ?? TimeProvider.System;
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

    /// <summary>Releases the schema registry client the step made from its options (an HTTP client for <c>Ingest:SchemaRegistryUrl</c>).</summary>
    public void Dispose()
    {
        if (_ownsRegistry && _registry is IDisposable owned) owned.Dispose();
    }

    /// <inheritdoc />
    public void BeginBatch() => _recent.BeginBatch();

    /// <inheritdoc />
    public void CommitBatch() => _recent.CommitBatch();

    /// <inheritdoc />
    public void RollbackBatch() => _recent.RollbackBatch();

    private StepResult<Alert> One(byte[] message)
    {
        AvroRecord record;
        try
        {
            record = SurveyMessage.Decode(message, _registry, _limits);
        }
        catch (Exception ex) when (IsDependencyFailure(ex))
        {
            // The registry is a dependency: a failing one is transient, not the alert's fault.
            throw new StepException(FailureKind.Transient, "schema registry unreachable: " + ex.Message, ex);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not StepException)
        {
            // Whatever the bytes made the decoder throw is this message's fault, and only this message's: a dead
            // letter with the reason, never a failure of the batch (issue 8).
            return StepResult<Alert>.DeadLetter("undecodable: " + Describe(ex));
        }
        Alert alert;
        try
        {
            alert = SurveyAlertMapper.Map(record);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not StepException)
        {
            return StepResult<Alert>.DeadLetter("invalid: " + Describe(ex));
        }
        if (CheckCutouts(alert) is { } problem) return StepResult<Alert>.DeadLetter($"bad cutout: alert {alert.AlertId}: {problem}");
        if (!_recent.Add(alert.AlertId))
        {
            if (_log?.IsEnabled(LogLevel.Debug) == true) _log.LogDebug("Duplicate {AlertId} dropped", alert.AlertId);
            return StepResult<Alert>.Duplicate($"alert {alert.AlertId} seen within the last {_options.DuplicateWindow} alerts");
        }
        return StepResult<Alert>.Emit(alert.WithStage(StepName, StageVersion, _clock.GetUtcNow()));
    }

    /// <summary>An exception that says a dependency failed (the schema registry), not the message.</summary>
    private static bool IsDependencyFailure(Exception ex) => ex is SchemaRegistryUnavailableException or HttpRequestException;

    /// <summary>
    /// The reason text for an exception: the decoder's own exceptions carry messages written for people; anything
    /// else is named by its type too, so an operator can tell a codec gap from damaged bytes.
    /// </summary>
    private static string Describe(Exception ex) =>
        ex is FormatException or AvroSchemaException or InvalidDataException or FitsFormatException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";

    /// <summary>Why a stamp that is present is broken, or null: absent stamps are not a problem (an alert without cutouts is valid).</summary>
    private static string? CheckCutouts(Alert alert)
    {
        var c = alert.Cutouts;
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
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return $"{name} cutout is not a decodable FITS image: {Describe(ex)}";
            }
        }
        return null;
    }
}

/// <summary>
/// The most recent N alert ids, for duplicate suppression (insertion order; oldest forgotten first). Between
/// <see cref="BeginBatch"/> and <see cref="CommitBatch"/> new ids are pending: they count as seen within the batch
/// (a repeat inside one batch is a duplicate), join the window on commit and are forgotten on rollback.
/// </summary>
internal sealed class RecentIds(int capacity)
{
    private readonly HashSet<long> _set = new(Math.Min(capacity, 1 << 16));
    private readonly Queue<long> _order = new();
    private readonly HashSet<long> _pending = [];
    private readonly List<long> _pendingOrder = [];
    private bool _inBatch;

    /// <summary>Adds an id; false when it was already there (or already added in this batch).</summary>
    public bool Add(long id)
    {
        if (capacity <= 0) return true;
        lock (_set)
        {
            if (_set.Contains(id)) return false;
            if (!_inBatch)
            {
                Keep(id);
                return true;
            }
            if (!_pending.Add(id)) return false;
            _pendingOrder.Add(id);
            return true;
        }
    }

    /// <summary>Starts a batch: ids added from now on are pending.</summary>
    public void BeginBatch()
    {
        lock (_set)
        {
            ClearPending();
            _inBatch = true;
        }
    }

    /// <summary>The batch's ids join the window, in the order they were added.</summary>
    public void CommitBatch()
    {
        lock (_set)
        {
            foreach (long id in _pendingOrder) Keep(id);
            ClearPending();
            _inBatch = false;
        }
    }

    /// <summary>The batch's ids are forgotten.</summary>
    public void RollbackBatch()
    {
        lock (_set)
        {
            ClearPending();
            _inBatch = false;
        }
    }

    private void Keep(long id)
    {
        if (!_set.Add(id)) return;
        _order.Enqueue(id);
        if (_order.Count > capacity) _set.Remove(_order.Dequeue());
    }

    private void ClearPending()
    {
        _pending.Clear();
        _pendingOrder.Clear();
    }
}
