using Broker.Alerts.Model;
using Broker.Filters;
using Broker.StepHost;

namespace Broker.Filter;

/// <summary>
/// One message the filter step emits: an alert, and the filter it is published for. <see cref="Filter"/> null is the
/// step's default output (<c>broker.filtered</c>): the alert with every filter it passed in <c>filterMatches</c>.
/// Otherwise the match to the filter's topic as its content says (<see cref="FilterOutput"/>): the alert naming
/// this filter and its version, without cutouts for <c>lite</c>, or the <c>ids</c> record.
/// </summary>
/// <param name="Alert">The alert as published (<see cref="FilterOutput.AlertFor"/> for a match).</param>
/// <param name="Filter">The filter matched; null for the default output.</param>
public sealed record FilterPublication(Alert Alert, FilterDefinition? Filter)
{
    /// <summary>Whether this is an <c>ids</c> match (a <c>broker.filter.ids.v1</c> record rather than an alert record).</summary>
    public bool IsIds => Filter?.Content == FilterContent.Ids;
}

/// <summary>
/// Encodes the filter step's messages: the Broker alert record (full, lite and the default output) or the <c>ids</c>
/// record, keyed by the alert id. Decoding is not needed (nothing in Broker reads the filter topics back as a stage).
/// </summary>
public sealed class FilterPublicationCodec : IMessageCodec<FilterPublication>
{
    /// <summary>The shared instance.</summary>
    public static readonly FilterPublicationCodec Instance = new();

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Always: the filter topics are read by subscribers, not by a stage.</exception>
    public FilterPublication Decode(byte[] value) => throw new NotSupportedException("the filter step's outputs are read by subscribers (broker subscribe), not decoded by a stage");

    /// <inheritdoc />
    public byte[] Encode(FilterPublication value) => value.Filter is { Content: FilterContent.Ids } ids
        ? FilterOutput.EncodeIds(ids, value.Alert)
        : BrokerAlertCodec.Encode(value.Alert);

    /// <inheritdoc />
    public string? KeyOf(FilterPublication value) => BrokerAlertCodec.KeyFor(value.Alert.AlertId);

    /// <inheritdoc />
    public byte[]? KeyBytesOf(FilterPublication value) => BrokerAlertCodec.KeyBytesFor(value.Alert.AlertId);
}
