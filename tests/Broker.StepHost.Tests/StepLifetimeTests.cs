using Broker.Alerts.IO;
using Broker.StepHost.Tests.TestSupport;
using Broker.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Broker.StepHost.Tests;

/// <summary>A step with a start-up hook (it verifies a manifest, or fails as told) that records what the host did with it.</summary>
internal sealed class StartedStep(string? manifest = null, Exception? failure = null) : IStep<byte[], int>, IStepStartup, IAsyncDisposable
{
    private readonly ParseStep _inner = new();

    public int Starts { get; private set; }

    public int Batches { get; private set; }

    public bool Disposed { get; private set; }

    public string Name => "started";

    public ValueTask StartAsync(CancellationToken cancellationToken)
    {
        Starts++;
        if (manifest is not null) FileVerifier.VerifyManifest(manifest, "model file");
        return failure is null ? ValueTask.CompletedTask : ValueTask.FromException(failure);
    }

    public ValueTask<IReadOnlyList<StepResult<int>>> ExecuteAsync(IReadOnlyList<byte[]> batch, CancellationToken cancellationToken)
    {
        Assert.Equal(1, Starts);
        Batches++;
        return _inner.ExecuteAsync(batch, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>The start-up hook runs before anything is consumed, a failure there stops the service in one line, and steps are disposed by whoever runs them.</summary>
public sealed class StepLifetimeTests
{
    private static string MissingManifest => Path.Combine(Path.GetTempPath(), "broker-no-such-model", "manifest.json");

    [Fact]
    public async Task The_in_process_runner_starts_each_stage_once_before_reading_and_disposes_the_steps_with_itself()
    {
        var step = new StartedStep();
        await using (var pipeline = new InProcessPipeline([PipelineStage.From(step)], new InProcessOptions { BatchSize = 10 }))
        {
            var summary = await pipeline.RunAsync(NumberedMessages.Read("test", 50));
            Assert.Equal(50, summary.Read);
            Assert.Equal(1, step.Starts);
            Assert.True(step.Batches > 0);
            Assert.False(step.Disposed);
        }
        Assert.True(step.Disposed);
    }

    [Fact]
    public async Task A_stage_whose_files_do_not_verify_stops_the_in_process_run_before_anything_is_read()
    {
        var step = new StartedStep(MissingManifest);
        bool read = false;
        async IAsyncEnumerable<SourceMessage> Source()
        {
            read = true;
            await Task.Yield();
            yield return new SourceMessage("test", 0, [101]);
        }
        await using var pipeline = new InProcessPipeline([PipelineStage.From(step)]);
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => pipeline.RunAsync(Source()));
        Assert.Equal($"manifest '{MissingManifest}' does not exist", ex.Message);
        Assert.False(read);
        Assert.Equal(0, step.Batches);
    }

    [Fact]
    public async Task The_Kafka_host_runs_the_hook_before_it_reaches_for_the_cluster_and_disposes_the_step_with_itself()
    {
        var step = new StartedStep(MissingManifest);
        var host = new KafkaStepHost<byte[], int>(step, RawBytesCodec.Instance, new IntCodec(),
            new StepHostOptions { InputTopic = "in", OutputTopic = "out" }, KafkaSettings.ForBootstrap("127.0.0.1:1"), NullLogger.Instance);
        // Refused by the hook, not by "cannot reach Kafka": the unreachable cluster was never asked.
        var ex = await Assert.ThrowsAsync<StepHostConfigurationException>(() => host.RunAsync(CancellationToken.None));
        Assert.Equal($"manifest '{MissingManifest}' does not exist", ex.Message);
        Assert.Equal(1, step.Starts);
        await host.DisposeAsync();
        Assert.True(step.Disposed);
    }

    [Theory]
    [InlineData(false, ExitCodes.Configuration)]
    [InlineData(true, ExitCodes.Fatal)]
    public async Task A_service_whose_hook_fails_exits_2_for_a_missing_file_and_1_for_anything_else_and_its_step_is_disposed(bool other, int expected)
    {
        var step = other ? new StartedStep(failure: new InvalidOperationException("the GPU went away")) : new StartedStep(MissingManifest);
        var stage = new StageDefinition<byte[], int, TestStageOptions>
        {
            Name = "started",
            Description = "Verifies its model, then parses numbers.",
            Input = "in",
            Outputs = [new TopicDefinition("out", "numbers")],
            Needs = StageNeeds.Models,
            Section = "Started",
            InputCodec = RawBytesCodec.Instance,
            OutputCodec = new IntCodec(),
            Factory = (_, _) => step,
        };
        int code = await StepHostApp.RunAsync(stage, [], new Dictionary<string, string?>
        {
            ["Kafka:bootstrap.servers"] = "127.0.0.1:1",
            ["Logging:Level"] = "Fatal",
            ["StepHost:StartupTimeoutSeconds"] = "1",
        }).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(expected, code);
        Assert.Equal(1, step.Starts);
        Assert.True(step.Disposed);
    }
}
