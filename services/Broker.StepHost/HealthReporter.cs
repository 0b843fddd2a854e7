using System.Text.Json;

namespace Broker.StepHost;

/// <summary>
/// Writes the health file: a small JSON document (status, time, counters, lag, dead-letter reasons) rewritten atomically at most once a
/// second while the host runs. A liveness probe checks that <c>updated</c> is recent and <c>status</c> is
/// <c>running</c>.
/// </summary>
internal sealed class HealthReporter(string? path, StepCounters counters)
{
    private long _last;

    public void Write(string status, bool force = false)
    {
        if (string.IsNullOrWhiteSpace(path)) return;
        long now = Environment.TickCount64;
        if (!force && now - _last < 1000) return;
        _last = now;
        var s = counters.Snapshot();
        var doc = new
        {
            status,
            updated = DateTimeOffset.UtcNow,
            step = s.Step,
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
        };
        try
        {
            string tmp = path + ".tmp";
            File.WriteAllText(tmp, JsonSerializer.Serialize(doc));
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException)
        {
            // The health file is advisory; a full disk must not stop the stream.
        }
    }
}
