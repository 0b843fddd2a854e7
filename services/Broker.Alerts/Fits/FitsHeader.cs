using System.Collections;
using System.Globalization;

namespace Broker.Alerts.Fits;

/// <summary>
/// The cards of one header, in file order, without the END card. Lookups are by keyword, case-insensitive, and
/// return the first card with that keyword (as astropy does); headers are a few dozen cards, so a linear scan is
/// cheaper than building an index.
/// </summary>
public sealed class FitsHeader : IReadOnlyList<FitsCard>
{
    private readonly FitsCard[] _cards;

    /// <summary>A header holding <paramref name="cards"/> in order.</summary>
    public FitsHeader(IEnumerable<FitsCard> cards)
    {
        ArgumentNullException.ThrowIfNull(cards);
        _cards = cards.ToArray();
    }

    /// <inheritdoc/>
    public int Count => _cards.Length;

    /// <inheritdoc/>
    public FitsCard this[int index] => _cards[index];

    /// <summary>True when a card has this keyword.</summary>
    public bool Contains(string keyword) => Find(keyword) is not null;

    /// <summary>The first card with this keyword, or null.</summary>
    public FitsCard? Find(string keyword)
    {
        foreach (var card in _cards)
            if (string.Equals(card.Keyword, keyword, StringComparison.OrdinalIgnoreCase))
                return card;
        return null;
    }

    /// <summary>The value of the keyword as written (string contents, or the value token); null when absent or undefined.</summary>
    public string? GetString(string keyword) => Find(keyword)?.Value;

    /// <summary>The keyword's integer value (§4.2.3); null when absent or undefined.</summary>
    /// <exception cref="FitsFormatException">The value is not an integer that fits in 64 bits.</exception>
    public long? GetLong(string keyword)
    {
        var card = Find(keyword);
        if (card?.Value is null) return null;
        if (card.IsString || !long.TryParse(card.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw new FitsFormatException($"header keyword {card.Keyword} = {Quote(card)} is not an integer");
        return v;
    }

    /// <summary>The keyword's integer value; null when absent or undefined.</summary>
    /// <exception cref="FitsFormatException">The value is not an integer in the range of <see cref="int"/>.</exception>
    public int? GetInt(string keyword)
    {
        long? v = GetLong(keyword);
        if (v is null) return null;
        if (v is < int.MinValue or > int.MaxValue)
            throw new FitsFormatException($"header keyword {keyword} = {v} is out of range");
        return (int)v.Value;
    }

    /// <summary>
    /// The keyword's numeric value (§4.2.3 or §4.2.4; a <c>D</c> exponent is read as <c>E</c>); null when absent or
    /// undefined.
    /// </summary>
    /// <exception cref="FitsFormatException">The value is not a number.</exception>
    public double? GetDouble(string keyword)
    {
        var card = Find(keyword);
        if (card?.Value is null) return null;
        string text = card.Value;
        if (text.AsSpan().IndexOfAny('D', 'd') >= 0) text = text.Replace('D', 'E').Replace('d', 'E');
        if (card.IsString || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw new FitsFormatException($"header keyword {card.Keyword} = {Quote(card)} is not a number");
        return v;
    }

    /// <summary>The keyword's logical value (§4.2.2: <c>T</c> or <c>F</c>); null when absent or undefined.</summary>
    /// <exception cref="FitsFormatException">The value is neither T nor F.</exception>
    public bool? GetBool(string keyword)
    {
        var card = Find(keyword);
        if (card?.Value is null) return null;
        return card is { IsString: false, Value: "T" } ? true
            : card is { IsString: false, Value: "F" } ? false
            : throw new FitsFormatException($"header keyword {card.Keyword} = {Quote(card)} is not a logical (T or F)");
    }

    /// <inheritdoc/>
    public IEnumerator<FitsCard> GetEnumerator() => ((IEnumerable<FitsCard>)_cards).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _cards.GetEnumerator();

    private static string Quote(FitsCard card) => card.IsString ? $"'{card.Value}'" : card.Value ?? "";
}
