using Broker.TestSupport;

namespace Broker.Onnx.Tests;

/// <summary>OnnxModel's metadata, batching, providers and errors, on braai d6_m7.</summary>
public sealed class OnnxModelTests
{
    [OracleFact]
    public void Inputs_and_outputs_are_exposed_and_a_batch_equals_its_alerts_one_by_one()
    {
        using var model = new OnnxModel(BraaiTests.ModelPath, new OnnxModelOptions { IntraOpThreads = 2 });
        var input = Assert.Single(model.Inputs);
        Assert.Equal(("stamps", typeof(float)), (input.Name, input.ElementType));
        Assert.Equal([-1L, 3, 63, 63], input.Shape);
        var output = Assert.Single(model.Outputs);
        Assert.Equal("drb", output.Name);
        Assert.Equal([-1L, 1], output.Shape);
        Assert.Equal(OnnxExecutionProvider.Cpu, model.ExecutionProvider);

        var rng = new Random(13);
        var batch = new float[5 * BraaiPreprocessor.Length];
        for (int i = 0; i < batch.Length; i++) batch[i] = (float)rng.NextDouble() / 8;
        var (all, shape) = model.Run(batch, [5, 3, 63, 63]);
        Assert.Equal([5L, 1], shape);
        var one = new float[1];
        for (int i = 0; i < 5; i++)
        {
            model.Run(batch.AsMemory(i * BraaiPreprocessor.Length, BraaiPreprocessor.Length), [1, 3, 63, 63], one);
            Assert.Equal(all[i], one[0], 1e-6f);
        }
        Assert.Contains("got (5, 3, 63, 62)", Assert.Throws<ArgumentException>(() => model.Run(batch, [5, 3, 63, 62])).Message);
        Assert.Contains("needs 23814 values", Assert.Throws<ArgumentException>(() => model.Run(batch, [2, 3, 63, 63])).Message);
    }

    [OracleFact]
    public void Cuda_that_cannot_start_is_one_clear_error_and_auto_falls_back_to_the_cpu_with_one_warning()
    {
        var e = Assert.Throws<OnnxModelException>(() => new OnnxModel(BraaiTests.ModelPath, new OnnxModelOptions { ExecutionProvider = OnnxExecutionProvider.Cuda }));
        Assert.StartsWith("the CUDA execution provider cannot start: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        var warnings = new List<string>();
        using var model = new OnnxModel(BraaiTests.ModelPath, new OnnxModelOptions { ExecutionProvider = OnnxExecutionProvider.Auto }, warnings.Add);
        Assert.Equal(OnnxExecutionProvider.Cpu, model.ExecutionProvider);
        Assert.StartsWith("the CUDA execution provider cannot start", Assert.Single(warnings));
        Assert.Equal([1L, 1], model.Run(new float[BraaiPreprocessor.Length], [1, 3, 63, 63]).Shape);

        Assert.Equal(OnnxExecutionProvider.Auto, OnnxModelOptions.ParseProvider("AUTO"));
        Assert.Throws<ArgumentException>(() => OnnxModelOptions.ParseProvider("gpu"));
        Assert.EndsWith("no such file", Assert.Throws<OnnxModelException>(() => new OnnxModel("/nonexistent.onnx")).Message);
    }
}
