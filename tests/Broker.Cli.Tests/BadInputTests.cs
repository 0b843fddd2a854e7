using System.Buffers.Binary;
using System.IO.Compression;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.TestSupport;

namespace Broker.Cli.Tests;

/// <summary>Bad input is named, not fatal: one clear line per problem, the rest still decodes, the exit code says so.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-bad-input").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Ztf(string name) => SharedData.Path("ztf/alerts/fink-alert-simulator_20181129_v3.2/" + name);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [OracleFact]
    public void Each_broken_file_gives_one_line_naming_it_while_the_good_files_still_decode()
    {
        byte[] good = File.ReadAllBytes(Ztf("697251920815010004.avro"));
        byte[] rubin = File.ReadAllBytes(SharedData.Path("lsst/alerts/confluent_wire_format/pittgoogle-client/lsst.v11_0.avro"));
        var goodPath = Write("a_good.avro", good);
        var truncated = Write("b_truncated.avro", good[..(good.Length / 2)]);
        var wrongMagic = Write("c_wrong_magic.avro", [(byte)'X', .. good[1..]]);
        var unknownId = rubin.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(unknownId.AsSpan(1), 4242);
        var unknownIdPath = Write("d_unknown_id.avro", unknownId);
        // A v11.0 body labelled as v9.0: the schema does not match the data.
        var mismatched = rubin.ToArray();
        BinaryPrimitives.WriteInt32BigEndian(mismatched.AsSpan(1), 900);
        var mismatchedPath = Write("e_schema_mismatch.avro", mismatched);
        var goodRubin = Write("f_good_rubin.avro", rubin);

        var result = BrokerProcess.Run("decode", "--schemas", SharedData.Path("lsst/schema"), _dir);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(2, result.OutputLines.Length);
        var errors = result.ErrorLines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, errors.Length);
        Assert.Contains(errors, l => l.Contains(truncated) && l.Contains("truncated"));
        Assert.Contains(errors, l => l.Contains(wrongMagic) && l.Contains("unrecognised format"));
        Assert.Contains(errors, l => l.Contains(unknownIdPath) && l.Contains("unknown Confluent schema id 4242"));
        Assert.Contains(errors, l => l.Contains(mismatchedPath) && l.Contains("schema id 900"));
        Assert.DoesNotContain(errors, l => l.Contains(goodPath) || l.Contains(goodRubin));
    }

    [OracleFact]
    public void A_corrupt_gzip_stamp_is_named_by_file_record_alert_and_cutout()
    {
        string path = Path.Combine(_dir, "corrupt_stamp.avro");
        DamagedCopies.WriteCorruptStamp("ztf/alerts/fink-alert-simulator_20181129_v3.2/697251920815010004.avro", path);

        var result = BrokerProcess.Run("stamps", path, "--npy", Path.Combine(_dir, "npy"));

        Assert.Equal(1, result.ExitCode);
        var error = Assert.Single(result.ErrorLines, l => l.StartsWith("error: ", StringComparison.Ordinal));
        Assert.Contains(path, error);
        Assert.Contains("alert 697251920815010004", error);
        Assert.Contains("cutout science", error);
        // The other two cutouts of the same alert are still written.
        Assert.Equal(2, Directory.GetFiles(Path.Combine(_dir, "npy")).Length);
    }

    [Fact]
    public void A_missing_path_and_an_unusable_schema_folder_each_give_one_clear_line()
    {
        var missing = BrokerProcess.Run("decode", Path.Combine(_dir, "nope.avro"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.avro: no such file or folder", missing.StandardError);

        var badFolder = BrokerProcess.Run("decode", "--schemas", Path.Combine(_dir, "no-such-folder"), _dir);
        Assert.Equal(2, badFolder.ExitCode);
        Assert.Equal("error: --schemas: folder '" + Path.Combine(_dir, "no-such-folder") + "' does not exist", badFolder.ErrorLines.Single());
    }

    [OracleFact]
    public void A_truncated_tar_gz_bundle_still_yields_its_complete_members_and_names_the_damage()
    {
        byte[] bundle = File.ReadAllBytes(SharedData.Path("ztf/alerts/ampel-ztf/ztf_public_20180819_mod1000.tar.gz"));
        using var inflated = new MemoryStream();
        using (var gz = new GZipStream(new MemoryStream(bundle), CompressionMode.Decompress)) gz.CopyTo(inflated);
        var tar = inflated.ToArray();
        var cut = Write("cut.tar", tar[..(tar.Length * 2 / 3)]);
        var items = new AlertFileReader().ReadFile(cut).ToList();
        Assert.Contains(items, i => i.Ok);
        Assert.Contains(items, i => !i.Ok && i.Source.StartsWith(cut, StringComparison.Ordinal));
    }
}
