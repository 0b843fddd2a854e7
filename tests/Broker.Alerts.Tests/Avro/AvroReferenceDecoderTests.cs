using System.Text.Json;
using Broker.Alerts.Avro;
using Broker.Alerts.IO;
using Broker.TestSupport;

namespace Broker.Alerts.Tests.Avro;

/// <summary>Runs the python3-avro oracle once over every real alert in shared/data.</summary>
public sealed class ReferenceDecodings
{
    public ReferenceDecodings()
    {
        if (OracleRequirements.WhySkip(["avro"], needsSharedData: true) is not null) return;
        string script = SharedData.RepositoryPath("tests/Broker.Alerts.Tests/oracles/avro_decode.py");
        string output = Python.Run(script, SharedData.Path("lsst/schema"), SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts"));
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            ByKey[(root.GetProperty("source").GetString()!, root.GetProperty("index").GetInt32())] = root.GetProperty("record");
        }
    }

    /// <summary>python3-avro's reading of each record, by (source, index).</summary>
    public Dictionary<(string Source, int Index), JsonElement> ByKey { get; } = new();
}

public sealed class AvroReferenceDecoderTests(ReferenceDecodings reference) : IClassFixture<ReferenceDecodings>
{
    private static readonly Lazy<IReadOnlyList<AlertFileItem>> Samples = new(() =>
        new AlertFileReader(new FolderSchemaRegistry(SharedData.Path("lsst/schema")))
            .Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")]).ToList());

    /// <summary>
    /// Every real alert under shared/data, read by Broker's own reader once per test run and shared by the tests
    /// here and in <see cref="AvroRoundTripTests"/>, which only read the records.
    /// </summary>
    internal static IReadOnlyList<AlertFileItem> ReadAllSamples() => Samples.Value;

    [OracleFact("avro")]
    public void Every_sample_alert_decodes_to_the_same_json_as_python_avro()
    {
        var items = ReadAllSamples();
        Assert.All(items, i => Assert.True(i.Ok, $"{i.Source}: {i.Error}"));
        Assert.Equal(651, items.Count);
        Assert.Equal(reference.ByKey.Count, items.Count);
        var differences = new List<string>();
        foreach (var item in items)
        {
            Assert.True(reference.ByKey.TryGetValue((item.Source, item.Index), out var expected), $"python-avro did not read {item.Source} #{item.Index}");
            using var ours = JsonDocument.Parse(AvroJson.ToJson(item.Record, item.Record!.Schema));
            var d = JsonTree.FirstDifference(ours.RootElement, expected, 1e-6);
            if (d is not null) differences.Add($"{item.Source} #{item.Index}: {d}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences.Take(20)));
    }

    [OracleFact("avro")]
    public void Every_sample_alert_written_by_broker_reads_back_in_python_avro_unchanged()
    {
        // Proves the encoder and container writer against the reference reader: rewrite each sample file with
        // Broker's writer (deflate codec), read it with python-avro, compare to python-avro's reading of the original.
        var items = ReadAllSamples().Where(i => i.Framing == "container").ToList();
        string dir = Directory.CreateTempSubdirectory("broker-avro-rewrite").FullName;
        try
        {
            var expected = new Dictionary<(string, int), JsonElement>();
            foreach (var group in items.GroupBy(i => i.Source))
            {
                string file = Path.Combine(dir, $"{expected.Count:D5}.avro");
                using (var w = new AvroContainerWriter(File.Create(file), group.First().WriterSchema!, codec: "deflate", blockBytes: 4096))
                {
                    foreach (var item in group) w.Append(item.Record);
                }
                foreach (var item in group) expected[(file, item.Index)] = reference.ByKey[(item.Source, item.Index)];
            }
            string script = SharedData.RepositoryPath("tests/Broker.Alerts.Tests/oracles/avro_decode.py");
            var lines = Python.Run(script, SharedData.Path("lsst/schema"), dir).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected.Count, lines.Length);
            foreach (var line in lines)
            {
                using var doc = JsonDocument.Parse(line);
                var key = (doc.RootElement.GetProperty("source").GetString()!, doc.RootElement.GetProperty("index").GetInt32());
                var d = JsonTree.FirstDifference(doc.RootElement.GetProperty("record"), expected[key], 0);
                Assert.True(d is null, $"{key}: {d}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
