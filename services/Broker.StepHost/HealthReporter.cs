using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Broker.StepHost;

/// <summary>
/// Writes the health file: a small JSON document (status, time, partitions held, counters, lag, dead-letter reasons)
/// rewritten atomically at most once a second while the host runs. A liveness probe checks that <c>updated</c> is
/// recent and <c>status</c> is <c>running</c> or <c>unassigned</c> (alive, holding no partitions).
/// </summary>
internal sealed class HealthReporter
{
    private readonly string? _path;
    private readonly StepCounters _counters;
    private readonly Func<int> _partitions;
    private readonly ILogger _log;
    private long _last;
    private bool _failing;

    private HealthReporter(string? path, StepCounters counters, Func<int> partitions, ILogger log)
    {
        _path = string.IsNullOrWhiteSpace(path) ? null : path;
        _counters = counters;
        _partitions = partitions;
        _log = log;
    }

    /// <summary>
    /// A reporter for <paramref name="path"/> (none when empty) that has written <c>starting</c> to it: a path that
    /// cannot be written is bad configuration, found at start rather than by a probe that never sees a file.
    /// </summary>
    /// <exception cref="StepHostConfigurationException">The file cannot be written (missing folder, a folder, no permission).</exception>
    public static HealthReporter Open(string? path, StepCounters counters, Func<int> partitions, ILogger log)
    {
        var reporter = new HealthReporter(path, counters, partitions, log);
        if (reporter._path is { } p && reporter.TryWrite("starting") is { } reason)
            throw new StepHostConfigurationException($"invalid configuration: StepHost:HealthFile '{p}' cannot be written: {reason}");
        return reporter;
    }

    /// <summary>Rewrites the file with <paramref name="status"/>, at most once a second unless forced.</summary>
    public void Write(string status, bool force = false)
    {
        if (_path is null) return;
        long now = Environment.TickCount64;
        if (!force && now - _last < 1000) return;
        _last = now;
        string? reason = TryWrite(status);
        // The health file is advisory: a full disk must not stop the stream, but the operator is told once.
        if (reason is not null && !_failing) _log.LogWarning("Health file {Path} cannot be written: {Reason}", _path, reason);
        else if (reason is null && _failing) _log.LogInformation("Health file {Path} written again", _path);
        _failing = reason is not null;
    }

    /// <summary>Writes the document; the reason it could not be written, or null.</summary>
    private string? TryWrite(string status)
    {
        byte[] doc = Document(status, _counters, _partitions());
        try
        {
            string tmp = _path + ".tmp";
            File.WriteAllBytes(tmp, doc);
            File.Move(tmp, _path!, overwrite: true);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    /// <summary>
    /// The health document (UTF-8 JSON): status, time, partitions held, counters, lag, dead-letter reasons and the
    /// counts per destination; the health file and the bodies of <c>/health/live</c> and <c>/health/ready</c>.
    /// </summary>
    internal static byte[] Document(string status, StepCounters counters, int partitions)
    {
        var s = counters.Snapshot();
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            status,
            updated = DateTimeOffset.UtcNow,
            step = s.Step,
            partitions,
            @in = s.In,
            @out = s.Out,
            deadLettered = s.DeadLettered,
            duplicates = s.Duplicates,
            replayed = s.Replayed,
            filtered = s.Filtered,
            lag = s.Lag,
            batches = s.Batches,
            lastBatchMs = s.LastBatchMs,
            meanBatchMs = s.MeanBatchMs,
            deadLetterReasons = counters.DeadLetterReasons,
            destinations = s.Destinations?.Select(d => new { destination = d.Destination, topic = d.Topic, @out = d.Out, duplicates = d.Duplicates, replayed = d.Replayed }),
        });
    }
}
