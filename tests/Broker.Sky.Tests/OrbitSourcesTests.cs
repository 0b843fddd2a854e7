using System.Text;
using System.Text.Json;
using Broker.Sky.Orbits;
using Broker.TestSupport;

namespace Broker.Sky.Tests;

/// <summary>The orbit readers: JPL SBDB JSON, MPCORB.DAT, MPC comet JSON, the elements CSV, and the format sniffing.</summary>
public sealed class OrbitSourcesTests
{
    [OrbitFilesFact]
    public void Every_kstars_sbdb_orbit_loads()
    {
        var bad = new List<string>();
        var orbits = SbdbOrbitReader.Read(OrbitFilesFactAttribute.KStarsAsteroids, bad.Add).ToList();
        Assert.True(bad.Count == 0, string.Join("\n", bad.Take(5)));
        // The count of data rows, read independently of the reader.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(OrbitFilesFactAttribute.KStarsAsteroids));
        var rows = doc.RootElement.GetProperty("data");
        Assert.Equal(7099, rows.GetArrayLength());
        Assert.Equal(rows.GetArrayLength(), orbits.Count);
        Assert.All(orbits, o => Assert.Equal(SbdbOrbitReader.SourceName, o.Source));
        Assert.Equal(orbits.Count, orbits.Select(o => o.Designation).Distinct().Count());
        foreach (var o in orbits)
        {
            // SBDB full names: "NUMBER NAME (PROVISIONAL)" or "(PROVISIONAL)"; the designation is the number, else the
            // provisional designation, and every survey form of it keys back to it.
            var m = System.Text.RegularExpressions.Regex.Match(o.Name, @"^(?:(\d+) .*|\((.+)\))$");
            Assert.True(m.Success, o.Name);
            Assert.Equal(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, o.Designation);
            Assert.Equal(o.Designation, Designations.Key(o.Designation));
            Assert.Equal(o.Designation, Designations.Key(Designations.ZtfForm(o.Designation)));
            if (o.Designation.All(char.IsAsciiDigit)) Assert.Equal(o.Designation, Designations.Key(Designations.PackNumber(int.Parse(o.Designation, System.Globalization.CultureInfo.InvariantCulture))));
            else if (!o.Designation.Contains('/')) Assert.Equal(o.Designation, Designations.Key(Designations.PackProvisional(o.Designation)));
        }
    }

    [OrbitFilesFact]
    public void Kstars_orbits_agree_with_the_perihelion_distance_the_file_also_gives()
    {
        // The file carries q besides a and e; the reader computes q = a (1 - e) from a and e only, so q checks it.
        using var doc = JsonDocument.Parse(File.ReadAllBytes(OrbitFilesFactAttribute.KStarsAsteroids));
        var fields = doc.RootElement.GetProperty("fields").EnumerateArray().Select(f => f.GetString()).ToList();
        int q = fields.IndexOf("q"), name = fields.IndexOf("full_name"), epoch = fields.IndexOf("epoch_mjd"), i = fields.IndexOf("i");
        var byName = doc.RootElement.GetProperty("data").EnumerateArray().ToDictionary(r => r[name].GetString()!.Trim());
        foreach (var orbit in SbdbOrbitReader.Read(OrbitFilesFactAttribute.KStarsAsteroids))
        {
            var row = byName[orbit.Name];
            // q is written with 9 or more significant digits.
            double fileQ = double.Parse(row[q].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Math.Abs(fileQ - orbit.Elements.Q) <= 1e-8 * fileQ, $"{orbit.Name}: q {orbit.Elements.Q} vs the file's {fileQ}");
            Assert.Equal(double.Parse(row[epoch].GetString()!, System.Globalization.CultureInfo.InvariantCulture), orbit.Elements.EpochMjdTdb);
            Assert.Equal(double.Parse(row[i].GetString()!, System.Globalization.CultureInfo.InvariantCulture), orbit.Elements.IDeg);
        }
    }

    [OrbitFilesFact]
    public void Ceres_reads_from_kstars_with_its_number_name_and_photometry()
    {
        var ceres = SbdbOrbitReader.Read(OrbitFilesFactAttribute.KStarsAsteroids).First();
        Assert.Equal("1", ceres.Designation);
        Assert.Equal("1 Ceres (A801 AA)", ceres.Name);
        Assert.Equal(3.33, ceres.H);
        Assert.Equal(0.12, ceres.G);
        Assert.True(Designations.SameObject(ceres, "1"));
        // A main-belt orbit: the state at the epoch lies between perihelion and aphelion.
        double a = ceres.Elements.Q / (1 - ceres.Elements.E);
        double r = ceres.Elements.StateAtEpoch().R;
        Assert.InRange(r, ceres.Elements.Q, a * (1 + ceres.Elements.E));
    }

    [Fact]
    public void A_bad_sbdb_row_gives_one_line_and_the_good_rows_load()
    {
        string json = """
            {"signature":{"source":"NASA/JPL SBDB (Small-Body DataBase) Query API","version":"1.0"},
             "fields":["full_name","H","G","epoch_mjd","e","a","q","i","om","w","ma"],
             "data":[
              ["     1 Ceres (A801 AA)","3.33","0.12","59800",".0786","2.7666","2.549","10.587","80.266","73.532","334.327"],
              ["       (2004 XY)","18.1",null,"59800","1.2","2.5","0.5","3","10","20","30"],
              ["       (2005 AB)","18.1",null,"59800","NaN","2.5","0.5","3","10","20","30"],
              ["       (2006 CD)","abc",null,"59800","0.1","2.5","0.5","3","10","20","30"],
              ["       (2007 EF)",null,null,"59800","0.1","2.5","2.25","3","10","20","30"]
             ]}
            """;
        var bad = new List<string>();
        var orbits = SbdbOrbitReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "asteroids.dat", bad.Add).ToList();
        Assert.Equal(["1", "2007 EF"], orbits.Select(o => o.Designation));
        Assert.Equal(3, bad.Count);
        Assert.StartsWith("asteroids.dat: row 2 (2004 XY): a = 2.5 au must be negative for a hyperbolic orbit", bad[0]);
        Assert.Equal("asteroids.dat: row 3 (2005 AB): e = NaN is not finite", bad[1]);
        Assert.Equal("asteroids.dat: row 4 (2006 CD): H = 'abc' is not a number", bad[2]);
        Assert.True(double.IsNaN(orbits[1].H));
        Assert.Equal(0.15, orbits[1].G);
        Assert.Equal(2.5 * 0.9, orbits[1].Elements.Q, 12);
    }

    [Fact]
    public void Sbdb_rows_are_read_across_stream_reads_of_any_size()
    {
        // A stream that returns one byte per read: every token boundary falls between reads.
        var sb = new StringBuilder("""{"fields":["full_name","epoch_mjd","e","a","i","om","w","ma"],"data":[""");
        for (int k = 0; k < 300; k++)
            sb.Append(k == 0 ? "" : ",").Append($"[\"({2000 + k % 20} AB{k})\",\"59800\",\"0.1\",\"{2 + k * 0.001:R}\",\"5\",\"10\",\"20\",\"{k}\"]");
        sb.Append("]}");
        var orbits = SbdbOrbitReader.Read(new TrickleStream(Encoding.UTF8.GetBytes(sb.ToString())), "trickle.json").ToList();
        Assert.Equal(300, orbits.Count);
        Assert.Equal("2019 AB299", orbits[^1].Designation);
    }

    [Fact]
    public void Broken_sbdb_json_is_one_clear_error()
    {
        var e = Assert.Throws<OrbitFormatException>(() => SbdbOrbitReader.Read(new MemoryStream("{\"fields\":[\"full_name\"],\"data\":[[\"x\""u8.ToArray()), "cut.json").ToList());
        Assert.StartsWith("cut.json: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        var noFields = Assert.Throws<OrbitFormatException>(() => SbdbOrbitReader.Read(new MemoryStream("{\"data\":[]}"u8.ToArray()), "x.json").ToList());
        Assert.Contains("\"data\" comes before \"fields\"", noFields.Message);
    }

    /// <summary>A stream that gives at most one byte per read.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }
}
