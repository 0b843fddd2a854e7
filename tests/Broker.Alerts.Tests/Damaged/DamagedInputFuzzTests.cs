using Broker.Alerts.Avro;
using Broker.Alerts.Fits;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Damaged;

/// <summary>
/// Damaged copies of real alerts raise only the documented bad-input exceptions, wherever the damage is: the file
/// reader reports them as items, the survey message decoder as <see cref="FormatException"/>, the FITS reader as
/// <see cref="FitsFormatException"/>; never IndexOutOfRange, Overflow, OutOfMemory, JsonException and the like.
/// </summary>
public sealed class DamagedInputFuzzTests
{
    private static readonly FolderSchemaRegistry Registry = new(SharedData.Path("lsst/schema"));

    public static TheoryData<string> Originals => new(DamagedCopies.Originals);

    [Theory]
    [MemberData(nameof(Originals))]
    public void Flipped_and_truncated_copies_of_a_real_alert_are_reported_never_thrown(string original)
    {
        int reported = 0, checkedCopies = 0;
        foreach (var copy in DamagedCopies.FlipsAndCuts(original, seeds: 6))
        {
            reported += CheckEveryReader(copy);
            checkedCopies++;
        }
        Assert.Equal(24, checkedCopies);
        // Most damage is seen; a flip inside a float or a cutout's pixels can leave a readable record.
        Assert.True(reported >= 6, $"{original}: only {reported} of {checkedCopies} damaged copies were reported");
    }

    [Fact]
    public void A_writer_schema_that_is_not_json_is_an_avro_schema_exception_naming_json()
    {
        var copy = DamagedCopies.InvalidSchemaJson(DamagedCopies.Originals[0]);
        var e = Assert.Throws<AvroSchemaException>(() => AvroContainerReader.Open(copy.Bytes));
        Assert.Contains("not valid JSON", e.Message);
        var item = Assert.Single(new AlertFileReader().ReadBytes(copy.Name, copy.Bytes));
        Assert.Contains("not valid JSON", item.Error);
        Assert.Contains("not valid JSON", Assert.ThrowsAny<FormatException>(() => SurveyMessage.Decode(copy.Bytes, null)).Message);
    }

    [Theory]
    [InlineData("{\"type\": \"record\", \"name\": \"a\", \"fields\": [1]}")]
    [InlineData("{\"type\": \"enum\", \"name\": \"e\", \"symbols\": [null]}")]
    [InlineData("{\"type\": \"record\", \"name\": \"a\", \"fields\": [{\"name\": \"x\", \"type\": \"int\", \"order\": 3}]}")]
    [InlineData("{\"type\": \"record\", \"name\": \"a\", \"fields\": [{\"name\": \"x\", \"type\": \"int\", \"aliases\": [null]}]}")]
    [InlineData("{\"type\": \"fixed\", \"name\": \"f\", \"size\": -1}")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"int\"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    [InlineData("{\"type\": \"record\", \"name\": \"a\", \"fields\": [")]
    [InlineData("")]
    public void Valid_json_that_is_not_a_schema_and_text_that_is_not_json_are_schema_exceptions(string json) =>
        Assert.Throws<AvroSchemaException>(() => AvroSchema.Parse(json));

    [Fact]
    public void A_gzip_bomb_is_refused_at_the_limit_naming_it_and_not_as_first_bytes()
    {
        byte[] bomb = DamagedCopies.GzipBomb(80L << 20);
        var message = Assert.Single(AlertFiles.Unpack("bomb.avro.gz", bomb));
        Assert.Contains("64 MiB", message.Error);
        Assert.Contains("--max-inflated-bytes", message.Error);
        var small = new AlertLimits { MaxInflatedBytes = 1 << 20 };
        Assert.Contains("1 MiB", Assert.Single(AlertFiles.Unpack("bomb.avro.gz", DamagedCopies.GzipBomb(2 << 20), small)).Error);
        var decode = Assert.ThrowsAny<FormatException>(() => SurveyMessage.Decode(bomb, null));
        Assert.Contains("64 MiB", decode.Message);
        Assert.DoesNotContain("first bytes", decode.Message);
    }

    [Fact]
    public void A_gzip_bomb_inside_a_cutout_is_a_fits_format_exception()
    {
        var e = Assert.Throws<FitsFormatException>(() => FitsFile.CheckFirstImage(DamagedCopies.GzipBomb(80L << 20)));
        Assert.Contains("64 MiB", e.Message);
    }

    [Fact]
    public void A_tar_gz_too_large_to_hold_is_streamed_member_by_member_and_a_member_over_the_limit_is_refused()
    {
        byte[] bundle = File.ReadAllBytes(SharedData.Path("ztf/alerts/ampel-ztf/ztf_public_20180819_mod1000.tar.gz"));
        // Inflated the archive is about 2.5 MB: a 1 MiB limit makes it too large to inflate whole, not its members.
        var limits = new AlertLimits { MaxInflatedBytes = 1 << 20 };
        var streamed = AlertFiles.Unpack("z", bundle, limits).ToList();
        Assert.Equal(30, streamed.Count);
        Assert.All(streamed, m => Assert.Null(m.Error));
        var tiny = new AlertLimits { MaxInflatedBytes = 20_000 };
        var refused = AlertFiles.Unpack("z", bundle, tiny).ToList();
        Assert.Equal(30, refused.Count);
        Assert.All(refused, m => Assert.Contains("more than the 20000 bytes one member may be", m.Error));
    }

    [Fact]
    public void A_file_over_2_GiB_is_refused_naming_the_limit_without_reading_it()
    {
        string dir = Directory.CreateTempSubdirectory("broker-large").FullName;
        try
        {
            string path = Path.Combine(dir, "huge.avro");
            // Sparse: 3 GiB on paper, nothing on disk.
            using (var f = File.Create(path)) f.SetLength(3L << 30);
            var item = Assert.Single(new AlertFileReader().ReadFile(path));
            Assert.Contains("3 GiB", item.Error);
            Assert.Contains("--max-message-bytes", item.Error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_tar_gz_file_over_the_message_limit_is_streamed_from_disk_with_every_member()
    {
        string file = SharedData.Path("ztf/alerts/ampel-ztf/ztf_public_20180819_mod1000.tar.gz");
        var streamed = AlertFiles.ReadFile(file, new AlertLimits { MaxMessageBytes = 100_000 }).ToList();
        Assert.Equal(30, streamed.Count);
        Assert.All(streamed, m => Assert.Null(m.Error));
        Assert.Equal(AlertFiles.ReadFile(file).Select(m => m.Source).Order(StringComparer.Ordinal), streamed.Select(m => m.Source).Order(StringComparer.Ordinal));
        // Cut short on disk: the members before the cut, then the damage naming the archive.
        string dir = Directory.CreateTempSubdirectory("broker-cut").FullName;
        try
        {
            string cut = Path.Combine(dir, "cut.tar.gz");
            File.WriteAllBytes(cut, File.ReadAllBytes(file)[..700_000]);
            var items = AlertFiles.ReadFile(cut, new AlertLimits { MaxMessageBytes = 100_000 }).ToList();
            Assert.NotNull(items[^1].Error);
            Assert.True(items.Count(m => m.Error is null) is > 5 and < 30);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs one copy through every reader; returns 1 when any of them reported damage.</summary>
    private static int CheckEveryReader(DamagedCopies.Copy copy)
    {
        bool reported = false;
        foreach (var item in Guard(copy, () => new AlertFileReader(Registry).ReadBytes(copy.Name, copy.Bytes).ToList()))
        {
            if (item.Record is null)
            {
                Assert.False(string.IsNullOrWhiteSpace(item.Error), DamagedCopies.Describe(copy));
                reported = true;
                continue;
            }
            try
            {
                SurveyAlertMapper.AlertIdOf(item.Record);
                foreach (var (_, stamp) in SurveyAlertMapper.CutoutsOf(item.Record)) FitsFile.ReadFirstImage(stamp);
            }
            catch (Exception e) when (IsBadInput(e))
            {
                reported = true;
            }
            catch (Exception e)
            {
                Assert.Fail($"{DamagedCopies.Describe(copy)}: record {item.Index}: {e.GetType().Name} is not a bad-input exception: {e}");
            }
        }
        try
        {
            SurveyMessage.Decode(copy.Bytes, Registry);
            foreach (var m in SurveyFiles.Split(copy.Name, copy.Bytes, Registry)) Assert.NotNull(m.Value);
        }
        catch (Exception e) when (IsBadInput(e))
        {
            reported = true;
        }
        catch (Exception e)
        {
            Assert.Fail($"{DamagedCopies.Describe(copy)}: SurveyMessage.Decode threw {e.GetType().Name}, not a bad-input exception: {e}");
        }
        return reported ? 1 : 0;
    }

    private static T Guard<T>(DamagedCopies.Copy copy, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e)
        {
            Assert.Fail($"{DamagedCopies.Describe(copy)}: the file reader threw {e.GetType().Name} instead of reporting it: {e}");
            throw;
        }
    }

    /// <summary>The documented bad-input exceptions: <see cref="FormatException"/> (Avro, FITS, alert validation) and <see cref="InvalidDataException"/>.</summary>
    private static bool IsBadInput(Exception e) => e is FormatException or InvalidDataException;
}
