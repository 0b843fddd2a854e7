using Broker.Alerts.Avro;
using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// What a filter publishes for one match, by its <see cref="FilterContent"/>. Every message names the filter and its
/// version: <c>full</c> and <c>lite</c> are the Broker alert record with this filter appended to <c>filterMatches</c>
/// (and, for <c>lite</c>, <c>cutouts</c> null); <c>ids</c> is a <c>broker.filter.ids.v1.match</c> record.
/// </summary>
public static class FilterOutput
{
    private static readonly Lazy<RecordSchema> IdsSchemaValue = new(() =>
    {
        using var stream = typeof(BrokerAlertCodec).Assembly.GetManifestResourceStream("schemas.broker.broker.filter.ids.v1.avsc")
            ?? throw new InvalidOperationException("schemas/broker/broker.filter.ids.v1.avsc is not embedded in Broker.Alerts");
        using var reader = new StreamReader(stream);
        return (RecordSchema)AvroSchema.Parse(reader.ReadToEnd());
    });

    /// <summary>The schema of <c>ids</c> content (<c>schemas/broker/broker.filter.ids.v1.avsc</c>).</summary>
    public static RecordSchema IdsSchema => IdsSchemaValue.Value;

    /// <summary>The alert a <c>full</c> or <c>lite</c> match publishes.</summary>
    public static Alert AlertFor(FilterDefinition filter, Alert alert)
    {
        var marked = alert.WithFilter(new FilterMatch(filter.Name, filter.Version));
        return filter.Content == FilterContent.Lite ? marked with { Cutouts = null } : marked;
    }

    /// <summary>The <c>ids</c> record of a match.</summary>
    public static AvroRecord IdsRecord(FilterDefinition filter, Alert alert)
    {
        var r = new AvroRecord(IdsSchema);
        r["schemaVersion"] = "1.0";
        r["filter"] = filter.Name;
        r["filterVersion"] = filter.Version;
        r["survey"] = alert.Survey switch { Survey.Ztf => "ztf", Survey.Lsst => "lsst", _ => "unknown" };
        r["alertId"] = alert.AlertId;
        r["objectId"] = alert.ObjectId;
        r["ra"] = alert.Ra;
        r["dec"] = alert.Dec;
        r["mjdTai"] = alert.MjdTai;
        r["band"] = alert.Band;
        r["mag"] = alert.Mag;
        return r;
    }

    /// <summary>The message value a match publishes (Avro binary, no framing, as on every Broker topic).</summary>
    public static byte[] Encode(FilterDefinition filter, Alert alert) => filter.Content == FilterContent.Ids
        ? EncodeIds(filter, alert)
        : BrokerAlertCodec.Encode(AlertFor(filter, alert));

    /// <summary>The <c>ids</c> record of a match, encoded.</summary>
    public static byte[] EncodeIds(FilterDefinition filter, Alert alert) => AvroDatumWriter.For(IdsSchema).ToBytes(IdsRecord(filter, alert));
}
