using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.Alerts.Model;
using Broker.StepHost;
using Broker.TestSupport;
using Xunit.Abstractions;

namespace Broker.Cli.Tests;

/// <summary>
/// Every verb that reads alert files, run as the real <c>broker</c> process over a corpus of damaged copies of real
/// alerts mixed with untouched ones (issue 8): no stack trace, every damaged file named on standard error, exit code
/// 1, every untouched alert still out, and the child's peak memory bounded although the corpus holds a gzip bomb
/// and a file of zeros larger than the message limit.
/// </summary>
public sealed class DamagedCorpusTests : IDisposable
{
    /// <summary>A generous bound: the largest input is refused at 64 MiB, and a run over real alerts peaks near 150 MB.</summary>
    private const long PeakRssBound = 1L << 30;

    private static readonly string Schemas = SharedData.Path("lsst/schema");
    private readonly string _dir = Directory.CreateTempSubdirectory("broker-damaged-corpus").FullName;
    private readonly string _corpus;
    private readonly ITestOutputHelper _output;

    /// <summary>Untouched real alerts with their three cutouts (so that every verb passes them): file and alert ids.</summary>
    private readonly List<(string Path, long[] Ids)> _good = [];

    /// <summary>Damaged files every verb must name: what the reader itself reports, and the crafted cases.</summary>
    private readonly List<string> _damaged = [];

    /// <summary>A file whose only damage is a cutout: named by the verbs that read cutouts (stamps, run, demo).</summary>
    private readonly string _corruptStamp;

    public DamagedCorpusTests(ITestOutputHelper output)
    {
        _output = output;
        _corpus = Directory.CreateDirectory(Path.Combine(_dir, "corpus")).FullName;
        var registry = new FolderSchemaRegistry(Schemas);
        var reader = new AlertFileReader(registry);
        // Good files sort first ("a_"), so that a damaged copy that still decodes is the duplicate, not the original.
        foreach (int i in new[] { 0, 1, 2, 5, 6 })
        {
            string original = SharedData.Path(DamagedCopies.Originals[i]);
            string path = Path.Combine(_corpus, "a_good_" + Path.GetFileName(original));
            File.Copy(original, path);
            _good.Add((path, reader.ReadFile(path).Select(item => SurveyAlertMapper.AlertIdOf(item.Record!)).ToArray()));
        }
        foreach (int i in new[] { 0, 2, 3, 5 })
        {
            foreach (var copy in DamagedCopies.FlipsAndCuts(DamagedCopies.Originals[i], seeds: 1))
            {
                string path = Write("d_" + copy.Name + ".avro", copy.Bytes);
                if (reader.ReadBytes(path, copy.Bytes).Any(item => !item.Ok)) _damaged.Add(path);
            }
        }
        var bad = DamagedCopies.InvalidSchemaJson(DamagedCopies.Originals[1]);
        _damaged.Add(Write("e_" + bad.Name + ".avro", bad.Bytes));
        _damaged.Add(Write("f_bomb.avro.gz", DamagedCopies.GzipBomb(80L << 20)));
        _damaged.Add(Write("g_empty.avro", []));
        string zeros = Path.Combine(_corpus, "h_zeros.avro");
        using (var f = File.Create(zeros)) f.SetLength((64L << 20) + 512);
        _damaged.Add(zeros);
        _corruptStamp = Path.Combine(_corpus, "i_corrupt_stamp.avro");
        DamagedCopies.WriteCorruptStamp(DamagedCopies.Originals[1], _corruptStamp);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_corpus, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private int GoodAlerts => _good.Sum(g => g.Ids.Length);

    /// <summary>What every verb must show: one line per damage naming the file, no stack trace, exit 1, bounded memory.</summary>
    private void AssertReported(string verb, BrokerProcess.Result result, bool readsCutouts)
    {
        _output.WriteLine($"{verb}: exit {result.ExitCode}, peak RSS {result.PeakRssBytes / (1 << 20)} MiB, {result.ErrorLines.Length} stderr lines, corpus of {_good.Count} good and {_damaged.Count + 1} damaged files");
        string all = result.StandardOutput + result.StandardError;
        Assert.DoesNotContain("Unhandled exception", all);
        Assert.DoesNotContain("   at ", all);
        Assert.Equal(1, result.ExitCode);
        var errors = result.ErrorLines.Where(l => l.StartsWith("error: ", StringComparison.Ordinal)).ToArray();
        foreach (var file in _damaged) Assert.True(errors.Any(l => l.Contains(file, StringComparison.Ordinal)), $"{verb}: {file} is not named:\n{result.StandardError}");
        if (readsCutouts) Assert.Contains(errors, l => l.Contains(_corruptStamp, StringComparison.Ordinal) && l.Contains("science", StringComparison.Ordinal));
        foreach (var (path, _) in _good) Assert.DoesNotContain(errors, l => l.Contains(path, StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("f_bomb", StringComparison.Ordinal) && l.Contains("64 MiB", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("h_zeros", StringComparison.Ordinal) && l.Contains("64 MiB", StringComparison.Ordinal));
        Assert.Contains(errors, l => l.Contains("bad_schema_json", StringComparison.Ordinal) && l.Contains("not valid JSON", StringComparison.Ordinal));
        Assert.True(result.PeakRssBytes is > 0 and < PeakRssBound, $"{verb}: peak RSS {result.PeakRssBytes} bytes");
    }

    [OracleFact]
    public void Decode_names_every_damaged_file_and_prints_every_untouched_alert()
    {
        var result = BrokerProcess.Run("decode", "--schemas", Schemas, _corpus);
        AssertReported("decode", result, readsCutouts: false);
        foreach (var (path, ids) in _good)
            foreach (long id in ids) Assert.True(result.StandardOutput.Contains(id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), $"alert {id} of {path} not printed");
        Assert.True(result.OutputLines.Length >= GoodAlerts);
    }

    [OracleFact]
    public void Stamps_names_every_damaged_file_and_writes_every_untouched_alerts_cutouts()
    {
        string npy = Path.Combine(_dir, "npy");
        var result = BrokerProcess.Run("stamps", "--schemas", Schemas, _corpus, "--npy", npy);
        AssertReported("stamps", result, readsCutouts: true);
        foreach (var (_, ids) in _good)
            foreach (long id in ids)
                foreach (var kind in SurveyAlertMapper.CutoutKinds) Assert.True(File.Exists(Path.Combine(npy, $"{id}_{kind}.npy")), $"{id}_{kind}.npy");
    }

    [OracleFact]
    public void Run_names_every_damaged_file_writes_its_summary_and_every_untouched_alert()
    {
        string output = Path.Combine(_dir, "run");
        var result = BrokerProcess.Run("run", "--schemas", Schemas, _corpus, "--out", output);
        AssertReported("run", result, readsCutouts: true);
        AssertChainOutput(output);
    }

    [OracleFact]
    public void Demo_over_paths_names_every_damaged_file_and_writes_every_untouched_alert()
    {
        string output = Path.Combine(_dir, "demo");
        var result = BrokerProcess.Run("demo", "--schemas", Schemas, _corpus, "--out", output);
        AssertReported("demo", result, readsCutouts: true);
        AssertChainOutput(Path.Combine(output, "run"));
    }

    private void AssertChainOutput(string output)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json")));
        var ids = new HashSet<long>();
        var container = AvroContainerReader.Open(File.ReadAllBytes(Path.Combine(output, "alerts.avro")));
        foreach (var datum in container.RawDatums()) ids.Add(BrokerAlertCodec.Decode(datum.Span, container.WriterSchema).AlertId);
        foreach (var (path, alertIds) in _good)
            foreach (long id in alertIds) Assert.True(ids.Contains(id), $"alert {id} of {path} not in alerts.avro");
        Assert.Equal(ids.Count, summary.RootElement.GetProperty("written").GetInt64());
        string deadLetters = File.ReadAllText(Path.Combine(output, "dead-letters.jsonl"));
        foreach (var (path, _) in _good) Assert.DoesNotContain(path, deadLetters);
    }

    [OracleFact]
    public void Replay_names_every_damaged_file_and_delivers_every_message_it_queued()
    {
        using var cluster = new MockCluster();
        cluster.CreateTopic("corpus", 1);
        var result = BrokerProcess.Run("replay", "--schemas", Schemas, _corpus, "--topic", "corpus", "--bootstrap", cluster.Bootstrap);
        AssertReported("replay", result, readsCutouts: false);
        var line = Assert.Single(result.ErrorLines, l => l.StartsWith("replayed ", StringComparison.Ordinal));
        long sent = long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        // Everything queued was delivered, the damaged messages with bytes too (ingest dead-letters them): a
        // consumer from the beginning sees exactly as many (as survey messages, none is a Broker alert it can write).
        var read = BrokerProcess.Run("subscribe", "corpus", "--bootstrap", cluster.Bootstrap, "--from", "beginning", "--idle-exit", "5", "--no-png", "--out", Path.Combine(_dir, "subscribed"));
        var counted = Assert.Single(read.ErrorLines, l => l.Contains(" alerts from corpus", StringComparison.Ordinal));
        Assert.Equal(sent, long.Parse(counted.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(sent >= GoodAlerts + _damaged.Count - 1, $"sent {sent}");
        Assert.DoesNotContain("still in queue", result.StandardError);
    }
}
