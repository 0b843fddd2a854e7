using System.Globalization;
using System.Text;
using Broker.StepHost;
using Confluent.Kafka;

namespace Broker.Cli.Pipeline;

/// <summary>
/// <c>broker replay --wait</c> (issue 16, item 5): waits until everything in the chain's topics when it is called has
/// been through every stage, and counts what each hop added. A stage stores an input's offset only after its outputs
/// and dead letters are delivered (at-least-once; docs/kafka.md), so once a stage's consumer group has committed
/// every partition of its input up to the end, each of those messages is downstream, in a dead-letter topic, or was
/// counted as a duplicate or filtered by that stage. Stages are waited on in chain order: the end offsets a stage is
/// held to are read only after every stage before it is done, so they include everything those stages wrote.
/// </summary>
/// <remarks>
/// Completion is over whole topics: alerts that other producers sent meanwhile are waited for too, which can only make
/// the guarantee stronger. The counts are the growth of each topic (end offsets after minus before), so they include
/// such alerts as well. Consumer groups are the services' defaults (<c>broker-STAGE</c>, <see cref="StepHostOptions.EffectiveGroupId"/>).
/// </remarks>
internal sealed class ChainCompletion : IDisposable
{
    private readonly StageRegistry _registry;
    private readonly KafkaSettings _settings;
    private readonly Dictionary<string, int> _partitions;
    private readonly IConsumer<byte[], byte[]> _watermarks;
    private readonly Dictionary<string, long> _before;

    /// <summary>Reads every topic's end offsets now: what <see cref="Counts"/> measures from.</summary>
    public ChainCompletion(StageRegistry registry, KafkaSettings settings)
    {
        _registry = registry;
        _settings = settings;
        _partitions = new Dictionary<string, int>(KafkaClients.CheckCluster(settings, registry.Topics, TimeSpan.FromSeconds(10)), StringComparer.Ordinal);
        _watermarks = KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(KafkaClients.ConsumerConfig(settings, "broker-replay-wait")).SetLogHandler((_, _) => { }).Build(), "consumer");
        _before = registry.Topics.ToDictionary(t => t, EndOffset, StringComparer.Ordinal);
    }

    /// <summary>
    /// Waits for every stage in chain order; <paramref name="progress"/> is told which stage is awaited and how many
    /// of its input's messages are still unprocessed, every few seconds.
    /// </summary>
    /// <exception cref="TimeoutException">A stage has made no progress for <paramref name="stall"/>.</exception>
    public async Task WaitAsync(TimeSpan stall, Action<string> progress, CancellationToken cancellationToken)
    {
        foreach (var stage in _registry.Stages)
        {
            var ends = Partitions(stage.Input).Select(tp => (tp, End: _watermarks.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value)).ToList();
            var config = KafkaClients.ConsumerConfig(_settings, new StepHostOptions().EffectiveGroupId(stage.Name));
            // Committed offsets are read with the stage's group id, without joining the group (no subscription).
            using var group = KafkaClients.Build(() => new ConsumerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build(), "consumer");
            long lastLeft = long.MaxValue;
            var lastProgress = DateTime.UtcNow;
            var lastReport = DateTime.MinValue;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var committed = group.Committed(ends.Select(e => e.tp), TimeSpan.FromSeconds(10)).ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
                long left = 0;
                foreach (var (tp, end) in ends)
                    left += Math.Max(0, end - Math.Max(0, committed.GetValueOrDefault(tp, 0)));
                if (left == 0) break;
                if (left < lastLeft)
                {
                    lastLeft = left;
                    lastProgress = DateTime.UtcNow;
                }
                else if (DateTime.UtcNow - lastProgress > stall)
                {
                    throw new TimeoutException($"stage {stage.Name} (group {config.GroupId}) has left {left} messages of {stage.Input} unprocessed for {stall.TotalSeconds:0} s; is the service running (broker up, broker serve {stage.Name})?");
                }
                if (DateTime.UtcNow - lastReport > TimeSpan.FromSeconds(5))
                {
                    progress($"waiting for {stage.Name}: {left} messages of {stage.Input} to go");
                    lastReport = DateTime.UtcNow;
                }
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <summary>What each stage took in and gave out since this object was made: a row per stage, in chain order.</summary>
    public IReadOnlyList<HopCount> Counts()
    {
        var rows = new List<HopCount>();
        foreach (var stage in _registry.Stages)
        {
            long input = Grown(stage.Input);
            long output = stage.Outputs.Sum(o => Grown(o.Name));
            long dead = Grown(stage.DeadLetterTopic);
            rows.Add(new HopCount(stage.Name, stage.Input, input, output, dead));
        }
        return rows;
    }

    /// <summary>The counts as a table.</summary>
    public static string Render(IReadOnlyList<HopCount> rows)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"{"stage",-12} {"input",-18} {"in",8} {"out",8} {"dead",8} {"neither",8}");
        foreach (var r in rows)
            sb.AppendLine(c, $"{r.Stage,-12} {r.Input,-18} {r.In,8} {r.Out,8} {r.DeadLettered,8} {r.In - r.Out - r.DeadLettered,8}");
        sb.Append("neither: duplicates a stage recognised, alerts a filter did not pass, or more outputs than inputs where negative (fan-out).");
        return sb.ToString();
    }

    private long Grown(string topic) => _partitions.ContainsKey(topic) ? EndOffset(topic) - _before.GetValueOrDefault(topic) : 0;

    private IEnumerable<TopicPartition> Partitions(string topic) =>
        Enumerable.Range(0, _partitions.GetValueOrDefault(topic)).Select(p => new TopicPartition(topic, new Partition(p)));

    private long EndOffset(string topic) =>
        Partitions(topic).Sum(tp => _watermarks.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);

    /// <inheritdoc />
    public void Dispose() => _watermarks.Dispose();
}

/// <summary>One stage's share of a replay: messages added to its input, outputs and dead-letter topic.</summary>
internal sealed record HopCount(string Stage, string Input, long In, long Out, long DeadLettered);
