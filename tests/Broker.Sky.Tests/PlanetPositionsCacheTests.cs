using Broker.Sky.Orbits;
using Xunit;

namespace Broker.Sky.Tests;

/// <summary>The planet positions' block files (<see cref="PlanetPositions"/> with a cache folder): the same doubles as computed.</summary>
public sealed class PlanetPositionsCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "broker-planet-cache-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static double[] Positions(PlanetPositions planets, IEnumerable<double> times)
    {
        var all = new List<double>();
        Span<double> p = stackalloc double[27];
        foreach (double t in times)
        {
            planets.AtWithMoon(t, p);
            all.AddRange(p.ToArray());
        }
        return [.. all];
    }

    private static readonly double[] Times = [60200.0, 60200.37, 60263.9, 60264.01, 59799.5, -3.25];

    [EphemerisFact(NeedsSharedData = false)]
    public void Positions_written_to_and_read_back_from_the_folder_equal_the_computed_ones_bit_for_bit()
    {
        var computed = Positions(new PlanetPositions(Vsop87.Default), Times);
        var writing = Positions(new PlanetPositions(Vsop87.Default, _folder), Times);
        var files = Directory.GetFiles(_folder, "*.bin");
        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.Equal(64 * 27 * sizeof(double), new FileInfo(f).Length));
        var reading = Positions(new PlanetPositions(Vsop87.Default, _folder), Times);
        Assert.Equal(computed.Select(BitConverter.DoubleToInt64Bits), writing.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(computed.Select(BitConverter.DoubleToInt64Bits), reading.Select(BitConverter.DoubleToInt64Bits));
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void A_block_file_read_instead_of_computed_is_what_a_new_instance_returns()
    {
        // A new instance with an empty memory takes the block from its file: a file changed on disk shows in its positions.
        Positions(new PlanetPositions(Vsop87.Default, _folder), [60200.5]);
        string file = Assert.Single(Directory.GetFiles(_folder, "*.bin"));
        var bytes = File.ReadAllBytes(file);
        var values = new double[bytes.Length / sizeof(double)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        for (int i = 0; i < values.Length; i++) values[i] += 1;
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        File.WriteAllBytes(file, bytes);
        var computed = Positions(new PlanetPositions(Vsop87.Default), [60200.5]);
        var read = Positions(new PlanetPositions(Vsop87.Default, _folder), [60200.5]);
        for (int i = 0; i < computed.Length; i++) Assert.Equal(computed[i] + 1, read[i], 1e-9);
    }

    [EphemerisFact(NeedsSharedData = false)]
    public void A_truncated_block_file_is_computed_again_and_rewritten()
    {
        var computed = Positions(new PlanetPositions(Vsop87.Default), [60200.5]);
        Positions(new PlanetPositions(Vsop87.Default, _folder), [60200.5]);
        string file = Assert.Single(Directory.GetFiles(_folder, "*.bin"));
        File.WriteAllBytes(file, new byte[100]);
        var again = Positions(new PlanetPositions(Vsop87.Default, _folder), [60200.5]);
        Assert.Equal(computed.Select(BitConverter.DoubleToInt64Bits), again.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(64 * 27 * sizeof(double), new FileInfo(file).Length);
    }
}
