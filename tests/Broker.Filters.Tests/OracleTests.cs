using System.Text.Json;
using Broker.Filters;
using Broker.TestSupport;

namespace Broker.Filters.Tests;

/// <summary>Runs oracle/filter_oracle.py (python3-avro and an evaluator of its own) once over every real alert.</summary>
public sealed class OracleResults
{
    public const string ExpressionsFile = "tests/Broker.Filters.Tests/oracle/expressions.txt";

    public OracleResults()
    {
        if (OracleRequirements.WhySkip(["avro"], needsSharedData: true) is not null) return;
        string output = Python.Run(SharedData.RepositoryPath("tests/Broker.Filters.Tests/oracle/filter_oracle.py"),
            SharedData.RepositoryRoot, SharedData.Root, SharedData.RepositoryPath(ExpressionsFile), SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts"));
        using var doc = JsonDocument.Parse(output);
        foreach (var r in doc.RootElement.GetProperty("records").EnumerateArray()) Records[r[0].GetString()!] = r[1].GetInt64();
        foreach (var r in doc.RootElement.GetProperty("results").EnumerateArray())
            Matches.Add(r.EnumerateArray().Select(k => k.GetString()!).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>The records the oracle read: key to alert id.</summary>
    public Dictionary<string, long> Records { get; } = new(StringComparer.Ordinal);

    /// <summary>Per expression (file order), the keys of the records it matched.</summary>
    public List<HashSet<string>> Matches { get; } = [];

    /// <summary>The expressions, in file order, without comments and blank lines.</summary>
    public static IReadOnlyList<string> Expressions { get; } = File.ReadAllLines(SharedData.RepositoryPath(ExpressionsFile))
        .Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).ToList();
}

public sealed class OracleTests(OracleResults oracle) : IClassFixture<OracleResults>
{
    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (int i = 0; i < OracleResults.Expressions.Count; i++) data.Add(i, OracleResults.Expressions[i]);
        return data;
    }

    [OracleFact("avro")]
    public void The_oracle_and_broker_read_the_same_651_alerts()
    {
        var ours = RealAlerts.Alerts.ToDictionary(a => a.Key, a => a.Alert.AlertId, StringComparer.Ordinal);
        Assert.Equal(651, ours.Count);
        Assert.Equal(oracle.Records.OrderBy(p => p.Key, StringComparer.Ordinal), ours.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [OracleFact("avro")]
    public void The_expression_suite_is_large_and_discriminating()
    {
        Assert.True(OracleResults.Expressions.Count >= 150, $"{OracleResults.Expressions.Count} expressions");
        Assert.Equal(OracleResults.Expressions.Count, oracle.Matches.Count);
        // Most expressions must split the alerts: neither none nor all of them.
        int splitting = oracle.Matches.Count(m => m.Count > 0 && m.Count < oracle.Records.Count);
        Assert.True(splitting >= 150, $"only {splitting} expressions match some but not all alerts");
    }

    [OracleTheory("avro")]
    [MemberData(nameof(Cases))]
    public void Broker_matches_the_same_alerts_as_the_oracle(int index, string expression)
    {
        var filter = FilterExpression.Compile(expression);
        var expected = oracle.Matches[index];
        var ours = RealAlerts.Alerts.Where(a => filter.Matches(a.Alert)).Select(a => a.Key).ToHashSet(StringComparer.Ordinal);
        var missing = expected.Except(ours).Take(5).ToList();
        var extra = ours.Except(expected).Take(5).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{expression}: oracle {expected.Count}, broker {ours.Count}; only the oracle: [{string.Join(", ", missing)}]; only broker: [{string.Join(", ", extra)}]");
    }
}
