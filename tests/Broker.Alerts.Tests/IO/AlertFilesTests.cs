using System.Formats.Tar;
using System.IO.Compression;
using Broker.Alerts.IO;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.IO;

/// <summary>Every reader of alert files finds the same messages, in the same order: one walk, one skip list, one unpacker.</summary>
public sealed class AlertFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-alert-files").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Tar(params (string Name, byte[] Data)[] members)
    {
        using var ms = new MemoryStream();
        using (var writer = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
        {
            foreach (var (name, data) in members)
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
        return ms.ToArray();
    }

    private static byte[] Gz(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.ASCII.GetBytes(text);

    private static string Text(RawAlertMessage m) => System.Text.Encoding.ASCII.GetString(m.Bytes.Span);

    [Fact]
    public void Tar_members_come_in_name_order_without_skipped_extensions_whatever_the_archive_order()
    {
        var tar = Tar(("c.avro", Bytes("C")), ("a.avro", Bytes("A")), ("notes.json", Bytes("{}")), ("b.avro", Bytes("B")));
        var messages = AlertFiles.Unpack("x.tar", tar).ToList();
        Assert.Equal(["x.tar::a.avro", "x.tar::b.avro", "x.tar::c.avro"], messages.Select(m => m.Source));
        Assert.Equal(["A", "B", "C"], messages.Select(Text));
        Assert.All(messages, m => Assert.Null(m.Error));
    }

    [Fact]
    public void Gzip_and_tar_are_recognised_by_their_bytes_not_their_names()
    {
        var tarGz = Gz(Tar(("b.avro", Bytes("B")), ("a.avro", Gz(Bytes("A")))));
        var messages = AlertFiles.Unpack("bundle.bin", tarGz).ToList();
        Assert.Equal(["bundle.bin::a.avro", "bundle.bin::b.avro"], messages.Select(m => m.Source));
        Assert.Equal(["A", "B"], messages.Select(Text));
        Assert.Equal("plain", Text(Assert.Single(AlertFiles.Unpack("plain.tar.gz", Bytes("plain")))));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(512)]
    public void An_archive_that_stops_inside_or_before_its_closing_zero_blocks_is_whole(int zeros)
    {
        var tar = Tar(("a.avro", Bytes("A")), ("b.avro", new byte[700]));
        // Two 512-byte headers, data padded to 512 and 1024 bytes: the members end at 2560.
        var cut = tar[..(2560 + zeros)];
        var messages = AlertFiles.Unpack("x.tar", cut).ToList();
        Assert.Equal(2, messages.Count);
        Assert.All(messages, m => Assert.Null(m.Error));
    }

    [Fact]
    public void An_archive_cut_inside_a_member_gives_the_members_before_it_then_the_damage_with_the_bytes_there()
    {
        var tar = Tar(("a.avro", Bytes("A")), ("b.avro", new byte[700]), ("c.avro", Bytes("C")));
        var cut = tar[..(1536 + 300)];
        var messages = AlertFiles.Unpack("x.tar", cut).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Equal(("x.tar::a.avro", null), (messages[0].Source, messages[0].Error));
        Assert.Equal("x.tar::b.avro", messages[1].Source);
        Assert.Contains("truncated tar archive", messages[1].Error);
        Assert.Equal(300, messages[1].Bytes.Length);
    }

    [Fact]
    public void An_archive_cut_inside_a_skipped_member_is_damaged_too()
    {
        var tar = Tar(("a.avro", Bytes("A")), ("b.json", new byte[700]));
        var messages = AlertFiles.Unpack("x.tar", tar[..(1536 + 300)]).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Contains("truncated tar archive", messages[1].Error);
    }

    [Fact]
    public void Garbage_after_the_last_member_is_damage_naming_the_archive_and_carrying_the_garbage()
    {
        var tar = Tar(("a.avro", Bytes("A")));
        var messages = AlertFiles.Unpack("x.tar", (byte[])[.. tar[..1024], .. Enumerable.Repeat((byte)'Z', 600)]).ToList();
        Assert.Equal(2, messages.Count);
        Assert.Equal("x.tar", messages[1].Source);
        Assert.Equal(1, messages[1].Index);
        Assert.StartsWith("corrupt tar archive after 1 members", messages[1].Error);
        Assert.Equal(600, messages[1].Bytes.Length);
    }

    [Fact]
    public void A_corrupt_gzip_file_is_damage_carrying_the_file_as_it_is()
    {
        var gz = Gz(Bytes(new string('x', 10_000)));
        gz.AsSpan(12, 8).Fill(0xAB);
        var message = Assert.Single(AlertFiles.Unpack("x.avro.gz", gz));
        Assert.StartsWith("corrupt gzip", message.Error);
        Assert.True(message.Bytes.Span.SequenceEqual(gz));
    }

    [Fact]
    public void A_truncated_real_ztf_tarball_is_damaged_and_a_whole_one_is_not()
    {
        byte[] bundle = File.ReadAllBytes(SharedData.Path("ztf/alerts/ampel-ztf/ztf_public_20180819_mod1000.tar.gz"));
        var whole = AlertFiles.Unpack("z", bundle).ToList();
        Assert.Equal(30, whole.Count);
        Assert.All(whole, m => Assert.Null(m.Error));
        Assert.Equal(whole.Select(m => m.Source).Order(StringComparer.Ordinal), whole.Select(m => m.Source));

        var tar = Gzip.Inflate(bundle);
        var cut = AlertFiles.Unpack("z", tar[..(tar.Length * 2 / 3)]).ToList();
        Assert.Single(cut, m => m.Error is not null);
        Assert.NotNull(cut[^1].Error);
        Assert.True(cut.Count > 1);
    }

    [Fact]
    public void Decode_and_run_see_the_same_files_as_alerts()
    {
        byte[] alert = File.ReadAllBytes(SharedData.Path("ztf/alerts/fink-alert-simulator_20181129_v3.2/697251920815010004.avro"));
        File.WriteAllBytes(Path.Combine(_dir, "a.avro"), alert);
        File.WriteAllBytes(Path.Combine(_dir, "b.avro.gz"), Gz(alert));
        File.WriteAllBytes(Path.Combine(_dir, "c.tar.gz"), Gz(Tar(("z.avro", alert), ("y.avro", alert))));
        foreach (var skipped in new[] { "d.png", "e.npy", "f.tsv", "g.py", "h.json", "i.parquet" })
            File.WriteAllBytes(Path.Combine(_dir, skipped), Bytes("not an alert"));

        var decoded = new AlertFileReader().Read([_dir]).ToList();
        var messages = SurveyFiles.Read([_dir], registry: null).ToList();

        Assert.All(decoded, i => Assert.True(i.Ok, i.Error));
        string[] expected = ["a.avro", "b.avro.gz", "c.tar.gz::y.avro", "c.tar.gz::z.avro"];
        Assert.Equal(expected, decoded.Select(i => Path.GetRelativePath(_dir, i.Source)));
        Assert.Equal(expected, messages.Select(m => Path.GetRelativePath(_dir, m.Source)));
        Assert.All(messages, m => Assert.Equal("697251920815010004", m.Key));
    }

    [Fact]
    public void Count_gives_as_many_messages_as_Read_without_splitting_on_the_real_samples()
    {
        string[] paths = [SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")];
        long read = SurveyFiles.Read(paths, registry: null, withKeys: false).LongCount();
        Assert.Equal(read, SurveyFiles.Count(paths));
        // Fink's data-transfer files hold many alerts each, so the count is more than the number of files.
        Assert.True(read > AlertFiles.Read(paths).Count());
    }
}
