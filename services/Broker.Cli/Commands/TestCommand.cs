using System.CommandLine;
using System.Diagnostics;

namespace Broker.Cli.Commands;

/// <summary>
/// <c>broker test</c>: installs what the tests need (Debian packages), starts what they need, and runs every test.
/// Idempotent: packages already installed are not installed again.
/// </summary>
internal static partial class TestCommand
{
    /// <summary>Debian packages the test suite uses, and why.</summary>
    internal static readonly (string Package, string Why)[] DebianPackages =
    [
        ("python3-avro", "reference Avro implementation: the oracle for decoding every sample alert"),
        ("python3-yaml", "PyYAML: the filter oracle reads the example filter definitions (issue 15)"),
        ("avro-bin", "avro-c's avrocat, a second reference decoder and the speed yardstick"),
        ("python3-astropy", "reference FITS reader: the oracle for every cutout"),
        ("python3-numpy", "reads and writes .npy arrays for the cutout comparison"),
        ("python3-pil", "Pillow: reads the PNG cutouts back for the PNG oracle test"),
        ("python3-healpy", "reference HEALPix (healpy): the oracle for ang2pix, pix2ang, neighbours and the disc query"),
        ("kstars-data", "7,099 real asteroid orbits from JPL for the simulator's moving objects; OpenNGC and the Hipparcos/Tycho stars for the catalogue readers (issue 11)"),
        ("liberfa1", "IAU SOFA routines (ERFA): the Earth's position for ephemerides"),
        ("libdeflate0", "libdeflate: the stamp stage's fast gunzip of ZTF cutouts (docs/stamps.md); without it the stage falls back to GZipStream"),
        ("postgresql-15", "PostgreSQL server binaries: a private cluster per test hosts the Q3C crossmatch oracle (issue 11)"),
        ("postgresql-15-q3c", "Q3C, whose q3c_join pairs the crossmatch must reproduce and beat (issue 11)"),
        ("chromium", "headless Chromium (/usr/bin/chromium), driven by Playwright: broker demo's report.html must render with every image (issue 16)"),
    ];

    public static Command Create()
    {
        var noInstall = new Option<bool>("--no-install") { Description = "Do not install Debian packages (tests that need a missing tool are skipped with a message)." };
        var filter = new Option<string?>("--filter") { Description = "Run only the tests matching this dotnet test filter expression." };
        var command = new Command("test", "Install what the tests need (Debian packages via apt-get, with sudo when not root), then build and run every test.");
        command.Options.Add(noInstall);
        command.Options.Add(filter);
        command.SetAction((parse, ct) => CliRun.GuardAsync(async () =>
        {
            string root = RepositoryPaths.Root ?? throw new CliUsageException("cannot find the repository (no Broker.sln above the current folder)");
            if (!parse.GetValue(noInstall))
            {
                int rc = await InstallDebianPackagesAsync(ct);
                if (rc != 0) return rc;
            }
            if (RepositoryPaths.SharedData is null)
                Console.Error.WriteLine("note: ../shared/data is not beside the repository; tests on real alerts will be skipped");
            var args = new List<string> { "test", Path.Combine(root, "Broker.sln"), "-c", "Release", "--nologo", "-v", "q", "--logger", "console;verbosity=normal" };
            if (parse.GetValue(filter) is { } f) { args.Add("--filter"); args.Add(f); }
            Console.WriteLine($"running: dotnet {string.Join(' ', args)}");
            var totals = new TestTotals();
            int exit = await RunAsync("dotnet", args, root, ct, onLine: totals.Observe);
            // One closing line over every test assembly, in the plain form CI reads.
            Console.WriteLine($"tests: {totals.Passed} passed, {totals.Failed} failed, {totals.Skipped} skipped");
            return exit != 0 ? exit : totals.Failed > 0 ? 1 : 0;
        }));
        return command;
    }

    private static async Task<int> InstallDebianPackagesAsync(CancellationToken ct)
    {
        var missing = new List<string>();
        foreach (var (package, _) in DebianPackages)
        {
            if (await RunQuietAsync("dpkg-query", ["-W", "-f=${Status}", package], ct) is not { } status || !status.Contains("install ok installed", StringComparison.Ordinal))
                missing.Add(package);
        }
        if (missing.Count == 0)
        {
            Console.WriteLine($"Debian packages: all {DebianPackages.Length} already installed ({string.Join(", ", DebianPackages.Select(p => p.Package))}).");
            return 0;
        }
        Console.WriteLine("Installing Debian packages the tests need:");
        foreach (var (package, why) in DebianPackages.Where(p => missing.Contains(p.Package))) Console.WriteLine($"  {package,-16} {why}");
        bool root = Environment.UserName == "root" || (await RunQuietAsync("id", ["-u"], ct))?.Trim() == "0";
        string exe = root ? "apt-get" : "sudo";
        var prefix = root ? new List<string>() : ["apt-get"];
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        int rc = await RunAsync(exe, [.. prefix, "update", "-qq"], null, ct, env);
        if (rc != 0) { Console.Error.WriteLine("error: apt-get update failed"); return rc; }
        rc = await RunAsync(exe, [.. prefix, "install", "-y", "-qq", "--no-install-recommends", .. missing], null, ct, env);
        if (rc != 0) Console.Error.WriteLine($"error: apt-get install {string.Join(' ', missing)} failed");
        return rc;
    }

    private static async Task<string?> RunQuietAsync(string exe, IEnumerable<string> args, CancellationToken ct)
    {
        try
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string output = await p.StandardOutput.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct);
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    internal static async Task<int> RunAsync(string exe, IEnumerable<string> args, string? workingDirectory, CancellationToken ct,
        IDictionary<string, string>? env = null, Action<string>? onLine = null)
    {
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory, RedirectStandardOutput = onLine is not null };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
        {
            foreach (var (k, v) in env) psi.Environment[k] = v;
        }
        try
        {
            using var p = Process.Start(psi)!;
            if (onLine is not null)
            {
                while (await p.StandardOutput.ReadLineAsync(ct) is { } line)
                {
                    Console.WriteLine(line);
                    onLine(line);
                }
            }
            await p.WaitForExitAsync(ct);
            return p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"error: cannot run {exe}: {e.Message}");
            return 127;
        }
    }

    /// <summary>
    /// Adds up the per-assembly totals <c>dotnet test</c> prints, in either form: "Passed!  - Failed: 0, Passed: 9,
    /// Skipped: 0, ..." (minimal) or the "Total tests:" block with "Passed: N", "Failed: N", "Skipped: N" lines.
    /// </summary>
    private sealed partial class TestTotals
    {
        public int Passed { get; private set; }
        public int Failed { get; private set; }
        public int Skipped { get; private set; }

        [System.Text.RegularExpressions.GeneratedRegex(@"^\s*(Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+),\s+Skipped:\s+(\d+)")]
        private static partial System.Text.RegularExpressions.Regex Minimal();

        [System.Text.RegularExpressions.GeneratedRegex(@"^\s+(Passed|Failed|Skipped):\s+(\d+)\s*$")]
        private static partial System.Text.RegularExpressions.Regex Block();

        public void Observe(string line)
        {
            var m = Minimal().Match(line);
            if (m.Success)
            {
                Failed += Int(m.Groups[2].Value);
                Passed += Int(m.Groups[3].Value);
                Skipped += Int(m.Groups[4].Value);
                return;
            }
            m = Block().Match(line);
            if (!m.Success) return;
            int n = Int(m.Groups[2].Value);
            switch (m.Groups[1].Value)
            {
                case "Passed": Passed += n; break;
                case "Failed": Failed += n; break;
                default: Skipped += n; break;
            }
        }

        private static int Int(string s) => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
    }
}
