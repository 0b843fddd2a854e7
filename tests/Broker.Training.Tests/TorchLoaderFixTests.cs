using System.Diagnostics;
using TorchSharp;

namespace Broker.Training.Tests;

/// <summary>
/// The Debian 12 loader fix (services/Broker.Training/build/TorchSharpLoaderFix.targets): the copy of
/// libLibTorchSharp.so under bin/ has its GLIBCXX_3.4.32 requirement weak, differs from the package's file in that
/// flag only, and loads: TorchSharp makes and sums a tensor.
/// </summary>
public sealed class TorchLoaderFixTests
{
    private static string Library => Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");

    [Fact]
    public void Readelf_shows_the_glibcxx_3_4_32_requirement_weak_and_every_other_one_as_shipped()
    {
        var lines = Readelf(Library).Split('\n').Where(l => l.Contains("Name: ", StringComparison.Ordinal) && l.Contains("Flags: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        var glibcxx = Assert.Single(lines, l => l.Contains("Name: GLIBCXX_3.4.32 ", StringComparison.Ordinal));
        Assert.Contains("Flags: WEAK", glibcxx, StringComparison.Ordinal);
        var original = PackageLibrary();
        var shipped = Readelf(original).Split('\n').Where(l => l.Contains("Name: ", StringComparison.Ordinal) && l.Contains("Flags: ", StringComparison.Ordinal)).ToList();
        Assert.Contains("Flags: none", Assert.Single(shipped, l => l.Contains("Name: GLIBCXX_3.4.32 ", StringComparison.Ordinal)), StringComparison.Ordinal);
        // Every other version requirement is as shipped.
        Assert.Equal(shipped.Where(l => !l.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal)), lines.Where(l => !l.Contains("GLIBCXX_3.4.32", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_patched_library_differs_from_the_package_in_one_flag_byte()
    {
        var patched = File.ReadAllBytes(Library);
        var original = File.ReadAllBytes(PackageLibrary());
        Assert.Equal(original.Length, patched.Length);
        var differences = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        int at = Assert.Single(differences);
        // vna_flags 0 -> VER_FLG_WEAK (0x2), low byte of the little-endian u16.
        Assert.Equal((0, 2), (original[at], patched[at]));
    }

    [Fact]
    public void TorchSharp_loads_and_computes()
    {
        torch.set_num_threads(1);
        using var t = torch.arange(1, 5, dtype: torch.float32);
        using var s = (t * t).sum();
        Assert.Equal(30f, s.item<float>());
    }

    /// <summary>The file the package ships (the NuGet cache's copy, which the build never edits).</summary>
    private static string PackageLibrary()
    {
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(cache, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"{path}: the package's library is not in the NuGet cache");
        return path;
    }

    private static string Readelf(string path)
    {
        var psi = new ProcessStartInfo("readelf", ["-V", "-W", path]) { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return text;
    }
}
