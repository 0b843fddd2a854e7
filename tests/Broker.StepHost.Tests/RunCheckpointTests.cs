using Broker.StepHost;
using Broker.StepHost.Tests.TestSupport;
using Broker.TestSupport;

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

    [Theory]
    [InlineData("alerts.avro", "default", "alerts.avro")]
    [InlineData("alerts.avro", "filter.sn", "alerts.filter.sn.avro")]
    [InlineData("alerts-2.avro", "filter.sn", "alerts.filter.sn-2.avro")]
    [InlineData("part-x.txt", "d", "part-x.d.txt")]
    public void Each_destination_has_a_file_of_its_own_in_each_part(string part, string destination, string expected)
    {
        Assert.Equal(expected, RunCheckpoint.PartFor(part, destination));
    }

    [Fact]
    public async Task A_routing_chain_stopped_killed_and_resumed_writes_every_output_once_per_destination()
    {
        string folder = Directory.CreateTempSubdirectory("broker-checkpoint-").FullName;
        try
        {
            string[] inputs = [Path.Combine(folder, "alerts")];
            var stages = () => new InProcessPipeline([PipelineStage.From(new ParseStep()), PipelineStage.From(new FanOutStep())], new InProcessOptions { BatchSize = 8, ChannelCapacity = 4 });
            async Task<RunSummary> Run(int stopAt)
            {
                var pipeline = stages();
                var checkpoint = RunCheckpoint.Begin(folder, inputs, resume: true, "part.txt", n => $"part-{n}.txt", pipeline.Destinations);
                checkpoint.Save(folder);
                using var stop = new CancellationTokenSource();
                var source = NumberedMessages.Read("file", 600, stop, stopAt);
                if (checkpoint.Resumed) source = RunCheckpoint.Skip(source, checkpoint.Done);
                var files = checkpoint.FilesOf(checkpoint.InProgress!).ToDictionary(f => f.Destination, f => new List<string>());
                var summary = await pipeline.RunAsync(source, o => files[o.Destination].Add(o.Origin.Index.ToString(System.Globalization.CultureInfo.InvariantCulture)), stop: stop.Token);
                foreach (var (destination, file) in checkpoint.FilesOf(checkpoint.InProgress!)) File.WriteAllLines(Path.Combine(folder, file), files[destination]);
                Assert.Equal(0, summary.InFlight);
                checkpoint.End(summary.Read, summary.Stopped);
                checkpoint.Save(folder);
                return summary;
            }
            await Run(stopAt: 200);
            // A run killed while writing its part: the checkpoint names it in progress, with a file per destination.
            var killed = RunCheckpoint.Begin(folder, inputs, resume: true, "part.txt", n => $"part-{n}.txt", stages().Destinations);
            killed.Save(folder);
            foreach (var (_, file) in killed.FilesOf(killed.InProgress!)) File.WriteAllText(Path.Combine(folder, file), "half a part");
            await Run(stopAt: -1);

            var done = RunCheckpoint.Load(folder)!;
            Assert.True(done.Complete);
            Assert.Equal(["part.txt", "part-3.txt"], done.Parts);
            Assert.False(File.Exists(Path.Combine(folder, "part.fan.a-2.txt")));
            Assert.Equal(["part.txt", "part.fan.a.txt", "part.fan.b.txt", "part.fan.c.txt", "part-3.txt", "part.fan.a-3.txt", "part.fan.b-3.txt", "part.fan.c-3.txt"], done.Files);
            foreach (var destination in stages().Destinations.Prepend(Destination.Default))
            {
                var written = done.Parts.SelectMany(p => File.ReadAllLines(Path.Combine(folder, RunCheckpoint.PartFor(p, destination)))).Select(int.Parse).ToList();
                var expected = Enumerable.Range(0, 600).Where(i => i % 17 != 5 && FanOutStep.Routes(i % 100).Any(r => r.Destination == destination)).ToList();
                Assert.Equal(expected, written.Order());
            }

            // Starting afresh removes every destination's files of the old parts.
            RunCheckpoint.Begin(folder, inputs, resume: false, "part.txt", n => $"part-{n}.txt", stages().Destinations);
            Assert.Equal([RunCheckpoint.FileName], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
