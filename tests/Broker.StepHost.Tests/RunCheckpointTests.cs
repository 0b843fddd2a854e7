using Broker.StepHost;
using Broker.StepHost.Tests.TestSupport;

namespace Broker.StepHost.Tests;

public class RunCheckpointTests
{
    private static async Task<(RunSummary Summary, RunCheckpoint Checkpoint, List<string> Keys)> Run(string folder, string[] inputs, int count, int stopAt)
    {
        var checkpoint = RunCheckpoint.Begin(folder, inputs, resume: true, "part-1", n => $"part-{n}");
        checkpoint.Save(folder);
        using var stop = new CancellationTokenSource();
        var source = NumberedMessages.Read("file", count, stop, stopAt);
        if (checkpoint.Resumed) source = RunCheckpoint.Skip(source, checkpoint.Done);
        var keys = new List<string>();
        var pipeline = new InProcessPipeline([PipelineStage.From(new ParseStep())], new InProcessOptions { BatchSize = 8, ChannelCapacity = 4 });
        var summary = await pipeline.RunAsync(source, o => keys.Add(o.Key!), stop: stop.Token);
        File.WriteAllLines(Path.Combine(folder, checkpoint.InProgress!), keys);
        checkpoint.End(summary.Read, summary.Stopped);
        checkpoint.Save(folder);
        return (summary, checkpoint, keys);
    }

    [Fact]
    public async Task A_run_stopped_twice_and_resumed_outputs_every_alert_once_across_its_parts()
    {
        string folder = Directory.CreateTempSubdirectory("broker-checkpoint-").FullName;
        try
        {
            string[] inputs = [Path.Combine(folder, "alerts")];
            var first = await Run(folder, inputs, 500, stopAt: 150);
            Assert.True(first.Summary.Stopped);
            Assert.Equal(0, first.Summary.InFlight);
            Assert.False(RunCheckpoint.Load(folder)!.Complete);

            var second = await Run(folder, inputs, 500, stopAt: 320);
            Assert.True(second.Checkpoint.Resumed);
            Assert.True(second.Summary.Stopped);

            var third = await Run(folder, inputs, 500, stopAt: -1);
            Assert.False(third.Summary.Stopped);
            var done = RunCheckpoint.Load(folder)!;
            Assert.True(done.Complete);
            Assert.Equal(500, done.Done);
            Assert.Equal(["part-1", "part-2", "part-3"], done.Parts);

            var all = done.Parts.SelectMany(p => File.ReadAllLines(Path.Combine(folder, p))).ToList();
            var expected = Enumerable.Range(0, 500).Where(i => i % 17 != 5).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(all.Count, all.Distinct().Count());
            Assert.Equal(expected.Order(), all.Order());
            Assert.Equal(500, first.Summary.Read + second.Summary.Read + third.Summary.Read);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void A_part_left_by_a_killed_run_is_discarded_and_its_messages_done_again()
    {
        string folder = Directory.CreateTempSubdirectory("broker-checkpoint-").FullName;
        try
        {
            string[] inputs = [Path.Combine(folder, "alerts")];
            var stopped = RunCheckpoint.Begin(folder, inputs, resume: true, "part-1", n => $"part-{n}");
            stopped.End(40, stopped: true);
            stopped.Save(folder);
            // The next run is killed while writing part-2: the checkpoint still names it in progress.
            var killed = RunCheckpoint.Begin(folder, inputs, resume: true, "part-1", n => $"part-{n}");
            killed.Save(folder);
            File.WriteAllText(Path.Combine(folder, "part-2"), "half a container");

            var resumed = RunCheckpoint.Begin(folder, inputs, resume: true, "part-1", n => $"part-{n}");
            Assert.False(File.Exists(Path.Combine(folder, "part-2")));
            Assert.Equal(40, resumed.Done);
            Assert.Equal(["part-1"], resumed.Parts);
            Assert.Equal("part-3", resumed.InProgress);

            var other = RunCheckpoint.Begin(folder, [Path.Combine(folder, "other")], resume: true, "part-1", n => $"part-{n}");
            Assert.False(other.Resumed);
            Assert.Equal(0, other.Done);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
