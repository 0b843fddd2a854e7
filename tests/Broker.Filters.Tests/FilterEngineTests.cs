using Broker.Alerts.Model;
using Broker.Filters;

namespace Broker.Filters.Tests;

/// <summary>The engine the filter step runs: fan-out to every active filter, quotas with counted drops, replacement while running.</summary>
public sealed class FilterEngineTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static FilterDefinition Def(string name, string where, int? quota = null, bool active = true) => new()
    {
        Name = name, Description = "d.", Owner = "o", Where = where, Content = FilterContent.Ids, QuotaPerHour = quota, Active = active,
    };

    private static Alert A(long id, double mag) => new() { Survey = Survey.Ztf, AlertId = id, Band = "g", Mag = mag, MjdTai = 60000, Ra = 1, Dec = 1 };

    [Fact]
    public void Every_active_filter_sees_every_alert_and_matches_fan_out()
    {
        var engine = new FilterEngine();
        Assert.Empty(engine.Replace([Def("bright", "mag < 18"), Def("all", "true"), Def("off", "true", active: false)]));
        var publish = new List<FilterDefinition>();
        Assert.Equal(2, engine.Evaluate(A(1, 17), publish));
        Assert.Equal(["bright", "all"], publish.Select(p => p.Name));
        publish.Clear();
        Assert.Equal(1, engine.Evaluate(A(2, 19), publish));
        Assert.Equal(["all"], publish.Select(p => p.Name));
        Assert.Equal([("bright", 2L, 1L), ("all", 2L, 2L)], engine.Counts().Select(c => (c.Name, c.Evaluated, c.Matched)));
    }

    [Fact]
    public void A_filter_that_matches_everything_hits_its_quota_and_its_drops_are_counted()
    {
        var clock = new ManualClock();
        var engine = new FilterEngine(clock);
        engine.Replace([Def("everything", "true", quota: 100), Def("free", "true")]);
        var publish = new List<FilterDefinition>();
        for (int i = 0; i < 1000; i++) engine.Evaluate(A(i, 18), publish);
        var c = engine.Counts();
        Assert.Equal((1000L, 100L, 900L), (c[0].Matched, c[0].Published, c[0].DroppedOverQuota));
        Assert.Equal((1000L, 1000L, 0L), (c[1].Matched, c[1].Published, c[1].DroppedOverQuota));
        // Half an hour later half the quota is back.
        clock.Advance(TimeSpan.FromMinutes(30));
        for (int i = 0; i < 1000; i++) engine.Evaluate(A(i, 18), publish);
        c = engine.Counts();
        Assert.Equal(150, c[0].Published);
        Assert.Equal(c[0].Matched, c[0].Published + c[0].DroppedOverQuota);
        Assert.Equal(150 + 2000, publish.Count);
    }

    [Fact]
    public void A_rolled_back_batch_spends_no_quota_and_counts_nothing()
    {
        var engine = new FilterEngine(new ManualClock());
        engine.Replace([Def("q", "true", quota: 5)]);
        var publish = new List<FilterDefinition>();
        engine.BeginBatch();
        for (int i = 0; i < 4; i++) engine.Evaluate(A(i, 18), publish);
        engine.RollbackBatch();
        Assert.Equal(0, engine.Counts()[0].Matched);
        engine.BeginBatch();
        for (int i = 0; i < 7; i++) engine.Evaluate(A(i, 18), publish);
        engine.CommitBatch();
        Assert.Equal((7L, 5L, 2L), (engine.Counts()[0].Matched, engine.Counts()[0].Published, engine.Counts()[0].DroppedOverQuota));
    }

    [Fact]
    public void Replacing_the_filters_keeps_unchanged_ones_and_reports_those_that_do_not_compile()
    {
        var engine = new FilterEngine();
        engine.Replace([Def("a", "mag < 18"), Def("b", "mag < 19")]);
        var publish = new List<FilterDefinition>();
        engine.Evaluate(A(1, 17), publish);
        var errors = engine.Replace([Def("a", "mag < 18"), Def("b", "mag < 17"), Def("broken", "mag <")]);
        var (definition, error) = Assert.Single(errors);
        Assert.Equal("broken", definition.Name);
        Assert.Equal(new SourcePosition(1, 6), error.Position);
        var counts = engine.Counts();
        Assert.Equal(["a", "b"], counts.Select(c => c.Name));
        Assert.Equal(1, counts[0].Evaluated);
        Assert.Equal(0, counts[1].Evaluated);
        publish.Clear();
        engine.Evaluate(A(2, 16), publish);
        Assert.Equal(["a", "b"], publish.Select(p => p.Name));
    }
}
