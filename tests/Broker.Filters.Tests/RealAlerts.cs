using Broker.Alerts.Avro;
using Broker.Filters;
using Broker.TestSupport;

namespace Broker.Filters.Tests;

/// <summary>Every real alert in ../shared/data (ZTF and Rubin), read once per test run, keyed as the oracle keys them.</summary>
internal static class RealAlerts
{
    private static readonly Lazy<IReadOnlyList<(string Key, Alerts.Model.Alert Alert)>> All = new(() =>
    {
        var list = new List<(string, Alerts.Model.Alert)>();
        foreach (var a in BacktestAlerts.Read([SharedData.Path("ztf/alerts"), SharedData.Path("lsst/alerts")], new FolderSchemaRegistry(SharedData.Path("lsst/schema"))))
        {
            if (a.Alert is null) throw new InvalidOperationException($"{a.Source} #{a.Index}: {a.Error}");
            list.Add((KeyOf(a.Source, a.Index), a.Alert));
        }
        return list;
    });

    /// <summary>The alerts with their keys: <c>file relative to the data folder[::member]#index</c>.</summary>
    public static IReadOnlyList<(string Key, Alerts.Model.Alert Alert)> Alerts => All.Value;

    public static string KeyOf(string source, int index)
    {
        int sep = source.IndexOf("::", StringComparison.Ordinal);
        string file = sep < 0 ? source : source[..sep];
        string rel = Path.GetRelativePath(SharedData.Root, Path.GetFullPath(file));
        return rel + (sep < 0 ? "" : source[sep..]) + "#" + index;
    }
}
