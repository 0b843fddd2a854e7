using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Broker.Sky.Orbits;

namespace Broker.Benchmarks;

/// <summary>
/// Orbit readers of issue 12, per orbit: kstars' 7,099 JPL SBDB orbits as JSON (<see cref="SbdbOrbitReader"/>), and
/// the same orbits (less the two A/ objects) written as MPCORB.DAT lines (<see cref="MpcOrbReader"/>), both from memory, so the figure times
/// parsing and element conversion, not the disk. The whole MPC catalogue (about 1.5 million MPCORB lines) takes
/// 1.5e6 times the MPCORB figure. Needs Debian kstars-data.
/// Run: dotnet run -c Release --project benchmarks/Broker.Benchmarks -- --filter '*OrbitSources*'
/// </summary>
[ShortRunJob]
[MemoryDiagnoser]
public class OrbitSourcesBenchmarks
{
    private const int Orbits = 7099;

    /// <summary>The MPCORB copy leaves out the two A/ objects (A/2018 W3, A/2019 O2): MPCORB has no column for the A/ prefix.</summary>
    private const int MpcOrbits = 7097;
    private byte[] _sbdb = [];
    private byte[] _mpcorb = [];

    [GlobalSetup]
    public void Setup()
    {
        _sbdb = File.ReadAllBytes(SbdbOrbitReader.KStarsPath);
        var text = new StringBuilder();
        foreach (var o in SbdbOrbitReader.Read(new MemoryStream(_sbdb), "asteroids.dat"))
        {
            if (o.Designation.Contains('/')) continue;
            var c = o.Elements;
            double a = c.Q / (1 - c.E);
            double n = KeplerOrbit.GaussK / Math.Pow(a, 1.5) * 180 / Math.PI;
            double m = ((n * (c.EpochMjdTdb - c.PerihelionMjdTdb)) % 360 + 360) % 360;
            string packed = int.TryParse(o.Designation, NumberStyles.None, CultureInfo.InvariantCulture, out int number) ? Designations.PackNumber(number) : Designations.PackProvisional(o.Designation);
            string epoch = Designations.PackDate(DateOnly.FromDateTime(new DateTime(1858, 11, 17).AddDays(c.EpochMjdTdb)));
            text.Append(CultureInfo.InvariantCulture, $"{packed,-7} {(double.IsNaN(o.H) ? 99 : o.H),5:F2} {o.G,5:F2} {epoch} {m,9:F5}  {c.PeriDeg,9:F5}  {c.NodeDeg,9:F5}  {c.IDeg,9:F5}  {c.E,9:F7} {n,11:F8} {a,11:F7}")
                .Append(' ', 63).Append(CultureInfo.InvariantCulture, $"{o.Name,-28}").Append('\n');
        }
        _mpcorb = Encoding.ASCII.GetBytes(text.ToString());
        if (MpcOrbReader.Read(new MemoryStream(_mpcorb), "MPCORB.DAT").Count() != MpcOrbits) throw new InvalidOperationException("the MPCORB copy does not read back whole");
    }

    /// <summary>JPL SBDB JSON, per orbit.</summary>
    [Benchmark(OperationsPerInvoke = Orbits)]
    public int SbdbJson() => SbdbOrbitReader.Read(new MemoryStream(_sbdb), "asteroids.dat").Count();

    /// <summary>MPCORB.DAT lines, per orbit.</summary>
    [Benchmark(OperationsPerInvoke = MpcOrbits)]
    public int MpcOrbLines() => MpcOrbReader.Read(new MemoryStream(_mpcorb), "MPCORB.DAT").Count();
}
