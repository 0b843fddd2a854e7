using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Broker.Sky.Orbits;
using Broker.TestSupport;

namespace Broker.Sky.Tests;

/// <summary>MPCORB.DAT lines, MPC comet JSON, the elements CSV, and telling the formats apart.</summary>
public sealed class OrbitFileFormatsTests
{
    // Real MPCORB.DAT lines (epoch K243V = 2024 March 31), with the header's last lines, in the MPC Export Format
    // for Minor-Planet Orbits (minorplanetcenter.net/iau/info/MPOrbitFormat.html).
    private const string Header = """
        MINOR PLANET CENTER ORBIT DATABASE (MPCORB)
        Des'n     H     G   Epoch     M        Peri.      Node       Incl.       e            n           a        Reference #Obs #Opp    Arc    rms  Perts   Computer

        ----------------------------------------------------------------------------------------------------------------------------------------------------------------
        """;

    private const string Ceres = "00001    3.34  0.15 K243V 102.95074   73.36090   80.25352   10.58760  0.0790273  0.21412733   2.7670775  0 E2024-C06  7335 124 1801-2023 0.65 M-v 30k MPCLINUX   0000      (1) Ceres              20230618";
    private const string Pallas = "00002    4.12  0.15 K243V  83.32723  310.88725  172.91472   34.92284  0.2303399  0.21373952   2.7704235  0 E2024-DC2  8902 123 1804-2024 0.59 M-c 28k MPCLINUX   0000      (2) Pallas             20240223";
    private const string Juno = "00003    5.17  0.15 K243V  82.18651  247.77596  169.84069   12.98975  0.2561868  0.22595087   2.6696851  0 E2024-D99  7520 117 1804-2024 0.63 M-v 3Ek MPCLINUX   0000      (3) Juno               20240221";
    private const string Vesta = "00004    3.25  0.15 K243V 223.65556  151.69316  103.70488    7.14391  0.0898971  0.27168892   2.3609571  0 E2024-DA5  7607 111 1821-2024 0.63 M-p 18k MPCLINUX   0000      (4) Vesta              20240221";

    /// <summary>An MPCORB line written column by column from the specification.</summary>
    private static string MpcLine(string packed, double h, double g, string epoch, double m, double peri, double node, double i, double e, double n, double a, string readable)
    {
        var line = new StringBuilder(new string(' ', 202));
        void Put(int first, string text) { for (int k = 0; k < text.Length; k++) line[first - 1 + k] = text[k]; }
        Put(1, packed.PadRight(7));
        Put(9, h.ToString("F2", CultureInfo.InvariantCulture).PadLeft(5));
        Put(15, g.ToString("F2", CultureInfo.InvariantCulture).PadLeft(5));
        Put(21, epoch);
        Put(27, m.ToString("F5", CultureInfo.InvariantCulture).PadLeft(9));
        Put(38, peri.ToString("F5", CultureInfo.InvariantCulture).PadLeft(9));
        Put(49, node.ToString("F5", CultureInfo.InvariantCulture).PadLeft(9));
        Put(60, i.ToString("F5", CultureInfo.InvariantCulture).PadLeft(9));
        Put(71, e.ToString("F7", CultureInfo.InvariantCulture).PadLeft(9));
        Put(81, n.ToString("F8", CultureInfo.InvariantCulture).PadLeft(11));
        Put(93, a.ToString("F7", CultureInfo.InvariantCulture).PadLeft(11));
        Put(167, readable.PadRight(28));
        return line.ToString().TrimEnd();
    }

    private static List<SolarSystemOrbit> ReadMpc(string text, List<string>? bad = null) =>
        MpcOrbReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "MPCORB.DAT", bad is null ? null : bad.Add).ToList();

    private static double Mjd(int year, int month, int day) =>
        (new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc) - new DateTime(1858, 11, 17, 0, 0, 0, DateTimeKind.Utc)).TotalDays;

    [Fact]
    public void Ceres_mpcorb_line_reads_field_by_field()
    {
        var bad = new List<string>();
        var orbits = ReadMpc(Header + "\n" + Ceres + "\n" + Pallas + "\n\n" + Juno + "\n" + Vesta + "\n", bad);
        Assert.Empty(bad);
        Assert.Equal(["1", "2", "3", "4"], orbits.Select(o => o.Designation));
        var ceres = orbits[0];
        Assert.Equal("(1) Ceres", ceres.Name);
        Assert.Equal(MpcOrbReader.SourceName, ceres.Source);
        Assert.Equal(3.34, ceres.H);
        Assert.Equal(0.15, ceres.G);
        var c = ceres.Elements;
        Assert.Equal(Mjd(2024, 3, 31), c.EpochMjdTdb);
        Assert.Equal(0.0790273, c.E);
        Assert.Equal(10.58760, c.IDeg);
        Assert.Equal(80.25352, c.NodeDeg);
        Assert.Equal(73.36090, c.PeriDeg);
        double a = c.Q / (1 - c.E);
        Assert.Equal(2.7670775, a, 9);
        // The mean anomaly back from the perihelion time: M = n (epoch - T), n = k / a^1.5 (Gauss's constant).
        double nDeg = KeplerOrbit.GaussK / Math.Pow(a, 1.5) * 180 / Math.PI;
        Assert.Equal(102.95074, nDeg * (c.EpochMjdTdb - c.PerihelionMjdTdb), 9);
        // Columns 81-91 (n) are not read; MPC's n agrees with a to the printed digits, so a came from columns 93-103.
        Assert.Equal(0.21412733, nDeg, 7);
        Assert.True(Designations.SameObject(ceres, "1"));
    }

    [Fact]
    public void Every_real_line_gives_the_mean_motion_its_columns_print()
    {
        foreach (string line in new[] { Ceres, Pallas, Juno, Vesta })
        {
            var o = Assert.Single(ReadMpc(line));
            double a = o.Elements.Q / (1 - o.Elements.E);
            double printed = double.Parse(line[80..91], CultureInfo.InvariantCulture);
            Assert.Equal(printed, KeplerOrbit.GaussK / Math.Pow(a, 1.5) * 180 / Math.PI, 7);
        }
    }

    [Fact]
    public void A_provisional_designation_line_formatted_from_the_spec_reads_back()
    {
        // 2020 SJ88's MPC elements as Rubin's mpc_orbits gives them (epoch MJD 61000 = 2025 November 21 = K25BL).
        string line = MpcLine("K20S88J", 18.698, 0.15, "K25BL", 21.5303049, 211.8691078, 250.9547229, 5.0003224, 0.0737149, 0.25618678, 2.4552642, "2020 SJ88");
        var o = Assert.Single(ReadMpc(line));
        Assert.Equal("2020 SJ88", o.Designation);
        Assert.Equal("2020 SJ88", o.Name);
        Assert.Equal(61000, o.Elements.EpochMjdTdb);
        Assert.Equal(2.4552642 * (1 - 0.0737149), o.Elements.Q, 12);
        Assert.Equal(18.70, o.H);
        Assert.True(Designations.SameObject(o, "2020SJ88"));
    }

    [Fact]
    public void Bad_mpcorb_lines_give_one_line_each_and_the_good_lines_load()
    {
        string hyperbolic = MpcLine("K04X00Y", 15, 0.15, "K243V", 10, 20, 30, 5, 1.2, 0.1, 2.5, "2004 XY");
        string nanBase = MpcLine("K05A00B", 15, 0.15, "K243V", 10, 20, 30, 5, 0.1, 0.1, 2.5, "2005 AB");
        string nan = nanBase[..26] + "      NaN" + nanBase[35..];
        string garbled = Ceres[..26] + "1O2.95074" + Ceres[35..];
        string shortLine = Ceres[..90];
        string badEpoch = Ceres[..20] + "K24D5" + Ceres[25..];
        var bad = new List<string>();
        var orbits = ReadMpc(Header + "\n" + Ceres + "\n" + hyperbolic + "\n" + nan + "\n" + garbled + "\n" + shortLine + "\n" + badEpoch + "\n" + Vesta + "\n", bad);
        Assert.Equal(["1", "4"], orbits.Select(o => o.Designation));
        Assert.Equal(5, bad.Count);
        Assert.Equal("MPCORB.DAT: row 6 (2004 XY): e = 1.2 >= 1 for an elliptic format", bad[0]);
        Assert.Equal("MPCORB.DAT: row 7 (2005 AB): M = NaN is not finite", bad[1]);
        Assert.Equal("MPCORB.DAT: row 8 (1): M (columns 27-35) = '1O2.95074' is not a number", bad[2]);
        Assert.Equal("MPCORB.DAT: row 9 (1): the line has 90 characters; the elements end at column 103", bad[3]);
        Assert.Equal("MPCORB.DAT: row 10 (1): epoch (columns 21-25) 'K24D5' is not a packed date", bad[4]);
        Assert.All(bad, b => Assert.DoesNotContain('\n', b));
    }

    [OrbitFilesFact(OrbitFilesFactAttribute.KStarsAsteroids)]
    public void Kstars_orbits_written_as_mpcorb_lines_read_back_to_the_same_positions()
    {
        // Every 50th kstars asteroid, formatted to MPCORB's columns (5 decimals in the angles), read back: the
        // position at the epoch agrees with the SBDB reader's to the rounding of the format (1e-5 deg ~ 1e-6 au at 3 au).
        var sbdb = SbdbOrbitReader.Read(OrbitFilesFactAttribute.KStarsAsteroids).Where((_, k) => k % 50 == 0).Where(o => o.Elements.E < 1 && o.Designation.All(char.IsAsciiDigit) && int.Parse(o.Designation, CultureInfo.InvariantCulture) < 620000).ToList();
        var lines = new StringBuilder();
        foreach (var o in sbdb)
        {
            var c = o.Elements;
            double a = c.Q / (1 - c.E);
            double n = KeplerOrbit.GaussK / Math.Pow(a, 1.5) * 180 / Math.PI;
            double m = ((n * (c.EpochMjdTdb - c.PerihelionMjdTdb)) % 360 + 360) % 360;
            var date = DateOnly.FromDateTime(new DateTime(1858, 11, 17).AddDays(c.EpochMjdTdb));
            lines.AppendLine(MpcLine(Designations.PackNumber(int.Parse(o.Designation, CultureInfo.InvariantCulture)), double.IsNaN(o.H) ? 99 : o.H, o.G, Designations.PackDate(date), m, c.PeriDeg, c.NodeDeg, c.IDeg, c.E, n, a, o.Name));
        }
        var bad = new List<string>();
        var back = ReadMpc(lines.ToString(), bad);
        Assert.Empty(bad);
        Assert.Equal(sbdb.Count, back.Count);
        for (int k = 0; k < sbdb.Count; k++)
        {
            Assert.Equal(sbdb[k].Designation, back[k].Designation);
            var s1 = sbdb[k].Elements.StateAtEpoch();
            var s2 = back[k].Elements.StateAtEpoch();
            double d = Math.Sqrt(Math.Pow(s1.X - s2.X, 2) + Math.Pow(s1.Y - s2.Y, 2) + Math.Pow(s1.Z - s2.Z, 2));
            Assert.True(d < 2e-6 * s1.R, $"{sbdb[k].Name}: {d} au apart");
        }
    }

    [OrbitFilesFact(OrbitFilesFactAttribute.KStarsComets)]
    public void Every_kstars_comet_loads_including_parabolic_and_hyperbolic_ones()
    {
        var bad = new List<string>();
        var comets = MpcCometReader.Read(OrbitFilesFactAttribute.KStarsComets, bad.Add).ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad.Take(5)));
        using var gz = new GZipStream(File.OpenRead(OrbitFilesFactAttribute.KStarsComets), CompressionMode.Decompress);
        using var doc = JsonDocument.Parse(gz);
        var all = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(all.Count, comets.Count);
        Assert.Equal(all.Count(x => x.GetProperty("e").GetDouble() >= 1), comets.Count(c => c.Elements.E >= 1));
        Assert.Contains(comets, c => c.Elements.E >= 1);
        Assert.Equal(comets.Count, comets.Select(c => c.Designation).Distinct().Count());
        Assert.All(comets, c => Assert.Equal(MpcCometReader.SourceName, c.Source));
        // Every orbit gives a state at its epoch at or beyond perihelion. The near-parabolic ones (|1 - e| < 1e-3;
        // 7 of them, e.g. C/2021 A1 Leonard, e = 0.999975) are left out: UniversalKepler.Propagate does not converge
        // for them yet (its elliptic first guess for χ is far off when a is ~10⁵ au), which is outside the readers.
        foreach (var c in comets.Where(c => Math.Abs(1 - c.Elements.E) >= 1e-3))
        {
            double r = c.Elements.StateAtEpoch().R;
            Assert.True(r >= c.Elements.Q * (1 - 1e-9), $"{c.Name}: r {r} < q {c.Elements.Q}");
        }
    }

    [OrbitFilesFact(OrbitFilesFactAttribute.KStarsComets)]
    public void Hale_bopp_and_halley_read_field_by_field()
    {
        var comets = MpcCometReader.Read(OrbitFilesFactAttribute.KStarsComets).ToDictionary(c => c.Designation);
        var hb = comets["C/1995 O1"];
        Assert.Equal("C/1995 O1 (Hale-Bopp)", hb.Name);
        Assert.Equal(0.890662, hb.Elements.Q);
        Assert.Equal(0.994972, hb.Elements.E);
        Assert.Equal(89.2742, hb.Elements.IDeg);
        Assert.Equal(282.7613, hb.Elements.NodeDeg);
        Assert.Equal(130.4139, hb.Elements.PeriDeg);
        Assert.Equal(Mjd(1997, 3, 29) + 0.6466, hb.Elements.PerihelionMjdTdb, 9);
        Assert.Equal(Mjd(2022, 8, 24), hb.Elements.EpochMjdTdb);
        Assert.Equal(-2.0, hb.H);
        Assert.Equal(4.0, hb.G);
        var halley = comets["1P"];
        Assert.Equal("1P/Halley", halley.Name);
        Assert.Equal(162.1946, halley.Elements.IDeg);
        Assert.True(Designations.SameObject(halley, "1P/Halley"));
        Assert.Contains("73P-BU", comets.Keys);
        Assert.Contains("2I", comets.Keys);
    }

    [Fact]
    public void A_comet_without_an_epoch_osculates_at_perihelion_and_bad_ones_give_one_line()
    {
        string json = """
            [
             {"Orbit_type":"C","Provisional_packed_desig":"K18F030","Year_of_perihelion":2019,"Month_of_perihelion":1,"Day_of_perihelion":5.5,
              "Perihelion_dist":3.2,"e":1.0,"Peri":10,"Node":20,"i":30,"H":10,"G":4,"Designation_and_name":"C/2018 F3 (Johnson)"},
             {"Orbit_type":"C","Provisional_packed_desig":"K18F040","Year_of_perihelion":2019,"Month_of_perihelion":2,"Day_of_perihelion":30.5,
              "Perihelion_dist":3.2,"e":0.5,"Peri":10,"Node":20,"i":30,"H":10,"G":4,"Designation_and_name":"C/2018 F4 (Test)"},
             {"Orbit_type":"C","Provisional_packed_desig":"K18F050","Year_of_perihelion":2019,"Month_of_perihelion":2,"Day_of_perihelion":3,
              "e":0.5,"Peri":10,"Node":20,"i":30,"H":10,"G":4,"Designation_and_name":"C/2018 F5 (Test)"},
             {"Orbit_type":"P","Comet_num":7,"Year_of_perihelion":2019,"Month_of_perihelion":2,"Day_of_perihelion":3,
              "Perihelion_dist":1.2,"e":0.6,"Peri":10,"Node":20,"i":30,"Epoch_year":2019,"Epoch_month":3,"Epoch_day":1}
            ]
            """;
        var bad = new List<string>();
        var comets = MpcCometReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "CometEls.json", bad.Add).ToList();
        Assert.Equal(["C/2018 F3", "7P"], comets.Select(c => c.Designation));
        Assert.Equal(comets[0].Elements.PerihelionMjdTdb, comets[0].Elements.EpochMjdTdb);
        Assert.Equal(1.0, comets[0].Elements.E);
        Assert.True(double.IsNaN(comets[1].H));
        Assert.Equal(["CometEls.json: row 2 (C/2018 F4 (Test)): perihelion date 2019-2-30.5 is not a date",
            "CometEls.json: row 3 (C/2018 F5 (Test)): Perihelion_dist is missing"], bad);
    }

    [Fact]
    public void The_csv_reads_ellipses_and_negative_a_hyperbolas_and_reports_bad_rows()
    {
        string csv = """
            designation,epoch_mjd_tdb,a_au,e,i_deg,node_deg,argperi_deg,mean_anomaly_deg,H,G
            2012QR64,60200,2.5,0.1,5,10,20,30,17.5,
            "1I/'Oumuamua",58066,-1.27234,1.19951,122.74,24.60,241.81,36.43,22.1,0.15
            2004 XY,60200,2.5,1.2,5,10,20,30,17.5,0.15
            2005 AB,60200,2.5,NaN,5,10,20,30,17.5,0.15
            2006 CD,60200,2.5,0.1,5,10,20,thirty,17.5,0.15
            2007 EF,60200,2.5,0.1,200,10,20,30,,0.15
            2008 GH,60200,2.5,0.1,5,10,20,30,,0.3
            """;
        var bad = new List<string>();
        var orbits = OrbitCsvReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "orbits.csv", bad.Add).ToList();
        Assert.Equal(["2012 QR64", "1I", "2008 GH"], orbits.Select(o => o.Designation));
        Assert.Equal("1I/'Oumuamua", orbits[1].Name);
        Assert.Equal(-1.27234 * (1 - 1.19951), orbits[1].Elements.Q, 12);
        Assert.Equal(0.15, orbits[0].G);
        Assert.True(double.IsNaN(orbits[2].H));
        Assert.Equal(0.3, orbits[2].G);
        Assert.Equal([
            "orbits.csv: row 4 (2004 XY): a = 2.5 au must be negative for a hyperbolic orbit (e = 1.2)",
            "orbits.csv: row 5 (2005 AB): e = NaN is not finite",
            "orbits.csv: row 6 (2006 CD): mean_anomaly_deg = 'thirty' is not a number",
            "orbits.csv: row 7 (2007 EF): i = 200 deg is not in [0, 180]"], bad);
    }

    [OrbitFilesFact(OrbitFilesFactAttribute.KStarsAsteroids)]
    public void Kstars_orbits_written_as_csv_read_back_to_the_same_elements()
    {
        var sbdb = SbdbOrbitReader.Read(OrbitFilesFactAttribute.KStarsAsteroids).Take(200).ToList();
        var csv = new StringBuilder(string.Join(",", OrbitCsvReader.Columns)).AppendLine();
        foreach (var o in sbdb)
        {
            var c = o.Elements;
            double a = c.Q / (1 - c.E);
            double m = KeplerOrbit.GaussK / Math.Pow(a, 1.5) * 180 / Math.PI * (c.EpochMjdTdb - c.PerihelionMjdTdb);
            csv.AppendLine(FormattableString.Invariant($"\"{o.Name}\",{c.EpochMjdTdb:R},{a:R},{c.E:R},{c.IDeg:R},{c.NodeDeg:R},{c.PeriDeg:R},{m:R},{o.H:R},{o.G:R}"));
        }
        var back = OrbitCsvReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), "kstars.csv").ToList();
        Assert.Equal(sbdb.Select(o => o.Designation), back.Select(o => o.Designation));
        for (int k = 0; k < sbdb.Count; k++)
        {
            Assert.Equal(sbdb[k].Elements.Q, back[k].Elements.Q, 12);
            Assert.Equal(sbdb[k].Elements.PerihelionMjdTdb, back[k].Elements.PerihelionMjdTdb, 6);
        }
    }

    [Fact]
    public void A_csv_header_without_a_column_is_one_clear_error()
    {
        var e = Assert.Throws<OrbitFormatException>(() => OrbitCsvReader.Read(new MemoryStream("designation,epoch_mjd_tdb,a_au,e\n"u8.ToArray()), "x.csv").ToList());
        Assert.StartsWith("x.csv: row 1: the header lacks i_deg, node_deg", e.Message);
    }

    [Fact]
    public void Orbit_sources_tell_every_format_and_gzip_from_the_content()
    {
        string dir = Directory.CreateTempSubdirectory("broker-orbits").FullName;
        try
        {
            string Write(string name, string text, bool gzip = false)
            {
                string path = Path.Combine(dir, name);
                byte[] bytes = Encoding.UTF8.GetBytes(text);
                if (gzip)
                {
                    using var f = File.Create(path);
                    using var z = new GZipStream(f, CompressionLevel.Fastest);
                    z.Write(bytes);
                }
                else File.WriteAllBytes(path, bytes);
                return path;
            }
            string mpc = Write("MPCORB.DAT", Header + "\n" + Ceres + "\n" + Pallas + "\n");
            string mpcGz = Write("orbits.bin", Ceres + "\n", gzip: true);
            string sbdb = Write("a.json", """{"signature":{"version":"1.0"},"fields":["full_name","epoch_mjd","e","a","i","om","w","ma"],"data":[["(2012 QR64)","59800","0.1","2.5","5","10","20","30"]]}""");
            string comets = Write("c.json.gz", """[{"Orbit_type":"P","Comet_num":1,"Year_of_perihelion":1986,"Month_of_perihelion":2,"Day_of_perihelion":9.4,"Perihelion_dist":0.587,"e":0.967,"Peri":111.8,"Node":58.4,"i":162.2,"Designation_and_name":"1P/Halley"}]""", gzip: true);
            string csv = Write("o.csv", string.Join(",", OrbitCsvReader.Columns) + "\n2012 QR64,59800,2.5,0.1,5,10,20,30,17,0.15\n");
            string unknown = Write("notes.txt", "hello\nworld\n");
            Assert.Equal(OrbitFormat.MpcOrb, OrbitSources.Sniff(mpc));
            Assert.Equal(OrbitFormat.MpcOrb, OrbitSources.Sniff(mpcGz));
            Assert.Equal(OrbitFormat.Sbdb, OrbitSources.Sniff(sbdb));
            Assert.Equal(OrbitFormat.MpcComets, OrbitSources.Sniff(comets));
            Assert.Equal(OrbitFormat.Csv, OrbitSources.Sniff(csv));
            Assert.Equal(["1", "2"], OrbitSources.Read(mpc).Select(o => o.Designation));
            Assert.Equal(["1"], OrbitSources.Read(mpcGz).Select(o => o.Designation));
            Assert.Equal(["2012 QR64"], OrbitSources.Read(sbdb).Select(o => o.Designation));
            Assert.Equal(["1P"], OrbitSources.Read(comets).Select(o => o.Designation));
            Assert.Equal(["2012 QR64"], OrbitSources.Read(csv, OrbitFormat.Csv).Select(o => o.Designation));
            var e = Assert.Throws<OrbitFormatException>(() => OrbitSources.Read(unknown));
            Assert.StartsWith($"{unknown}: unknown orbit format", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            var missing = Assert.Throws<OrbitFormatException>(() => OrbitSources.Read(Path.Combine(dir, "nope.dat")));
            Assert.Equal($"{Path.Combine(dir, "nope.dat")}: no such file", missing.Message);
            Assert.Throws<OrbitFormatException>(() => OrbitSources.Read(Path.Combine(dir, "nope.dat"), OrbitFormat.Sbdb));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [OrbitFilesFact(OrbitFilesFactAttribute.KStarsAsteroids, OrbitFilesFactAttribute.KStarsComets)]
    public void Orbit_sources_read_the_kstars_files_by_their_content()
    {
        Assert.Equal(OrbitFormat.Sbdb, OrbitSources.Sniff(OrbitFilesFactAttribute.KStarsAsteroids));
        Assert.Equal(OrbitFormat.MpcComets, OrbitSources.Sniff(OrbitFilesFactAttribute.KStarsComets));
        Assert.Equal(7099, OrbitSources.Read(OrbitFilesFactAttribute.KStarsAsteroids).Count());
    }
}
