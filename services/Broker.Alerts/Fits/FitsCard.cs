using System.Globalization;
using System.Text;

namespace Broker.Alerts.Fits;

/// <summary>
/// One 80-character header card (keyword record, FITS Standard 4.0 §4.1): keyword, value and comment.
/// </summary>
/// <remarks>
/// Reading is lenient on purpose: ZTF writes <c>SIMPLE  =  T</c> with the value in column 12 rather than the fixed
/// column 30 of §4.2.2, which astropy flags as non-standard. So a card is read in free format: keyword = columns
/// 1-8 trimmed, a value when columns 9-10 hold the value indicator <c>"= "</c>, a quoted string with <c>''</c> as
/// an escaped quote (§4.2.1.1), else a token up to the comment delimiter <c>/</c> (§4.1.2.3).
/// Writing always uses the fixed format, so any reader accepts what <see cref="FitsWriter"/> produces.
/// </remarks>
public sealed class FitsCard
{
    /// <summary>Bytes per card (§4.1.1).</summary>
    public const int Length = 80;

    private FitsCard(string keyword, string? value, bool isString, string? comment)
    {
        Keyword = keyword;
        Value = value;
        IsString = isString;
        Comment = comment;
    }

    /// <summary>The keyword, columns 1-8 without padding (for example <c>NAXIS1</c>); empty for a blank card.</summary>
    public string Keyword { get; }

    /// <summary>
    /// The value as written: the contents of a quoted string (quotes removed, <c>''</c> unescaped, trailing spaces
    /// dropped as §4.2.1.1 says they are not significant), or the token of a logical, integer or real value
    /// (<c>T</c>, <c>-32</c>, <c>1.5D3</c>). Null for commentary cards (COMMENT, HISTORY, blank) and undefined values.
    /// </summary>
    public string? Value { get; }

    /// <summary>True when the value was a quoted character string.</summary>
    public bool IsString { get; }

    /// <summary>The comment after <c>/</c>, or for commentary cards the text in columns 9-80; null when absent.</summary>
    public string? Comment { get; }

    /// <summary>A card holding a character string value.</summary>
    /// <exception cref="ArgumentException">The keyword is not a valid FITS keyword, text is not printable ASCII, or the card exceeds 80 characters.</exception>
    public static FitsCard Create(string keyword, string value, string? comment = null)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Checked(keyword, value, isString: true, comment);
    }

    /// <summary>A card holding an integer value.</summary>
    /// <exception cref="ArgumentException">The keyword is not valid, or the comment makes the card exceed 80 characters.</exception>
    public static FitsCard Create(string keyword, long value, string? comment = null) =>
        Checked(keyword, value.ToString(CultureInfo.InvariantCulture), isString: false, comment);

    /// <summary>A card holding a real value, written in the shortest form that reads back to the same double.</summary>
    /// <exception cref="ArgumentException">The value is NaN or infinite (FITS header values cannot be), or the keyword is not valid.</exception>
    public static FitsCard Create(string keyword, double value, string? comment = null)
    {
        if (!double.IsFinite(value)) throw new ArgumentException($"FITS header values must be finite; {keyword} = {value}", nameof(value));
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        // Keep a real recognisable as real (§4.2.4): "100" would read back as an integer.
        if (text.AsSpan().IndexOfAny('.', 'E') < 0) text += ".0";
        return Checked(keyword, text, isString: false, comment);
    }

    /// <summary>A card holding a logical value (<c>T</c> or <c>F</c>).</summary>
    /// <exception cref="ArgumentException">The keyword is not valid, or the comment makes the card exceed 80 characters.</exception>
    public static FitsCard Create(string keyword, bool value, string? comment = null) =>
        Checked(keyword, value ? "T" : "F", isString: false, comment);

    /// <summary>A commentary card (<c>COMMENT</c>, <c>HISTORY</c> or a blank keyword) with free text in columns 9-80 (§4.4.2.4).</summary>
    /// <exception cref="ArgumentException">The keyword is not valid or the text is longer than 72 printable ASCII characters.</exception>
    public static FitsCard Commentary(string keyword, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        ValidateKeyword(keyword, allowBlank: true);
        ValidateText(text, nameof(text));
        if (text.Length > Length - 8) throw new ArgumentException($"commentary text is {text.Length} characters; at most 72 fit in a card", nameof(text));
        return new FitsCard(keyword, null, false, text);
    }

    /// <summary>The card as its 80-character image, in FITS fixed format.</summary>
    public override string ToString()
    {
        Span<byte> card = stackalloc byte[Length];
        WriteTo(card);
        return Encoding.ASCII.GetString(card);
    }

    /// <summary>Parses one 80-byte card leniently (see the class remarks). Returns null for bytes that are not header text.</summary>
    internal static FitsCard? Parse(ReadOnlySpan<byte> card)
    {
        // §4.1.1: a header holds only printable ASCII (0x20-0x7E). Anything else means we have run into data,
        // which for the caller means the header had no END card.
        if (card.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) >= 0) return null;

        string keyword = Encoding.ASCII.GetString(card[..8]).Trim();
        if (card[8] != (byte)'=' || card[9] != (byte)' ' || keyword is "COMMENT" or "HISTORY" or "")
        {
            // Commentary keywords and anything without the value indicator (§4.1.2.2): text in columns 9-80.
            string text = Encoding.ASCII.GetString(card[8..]).TrimEnd();
            return new FitsCard(keyword, null, false, text.Length == 0 ? null : text);
        }

        ReadOnlySpan<byte> field = card[10..];
        int i = 0;
        while (i < field.Length && field[i] == (byte)' ') i++;
        if (i == field.Length) return new FitsCard(keyword, null, false, null);

        string? value;
        bool isString = false;
        if (field[i] == (byte)'\'')
        {
            // §4.2.1.1: a string is delimited by single quotes; a quote inside is written as two.
            isString = true;
            var sb = new StringBuilder(field.Length);
            i++;
            while (i < field.Length)
            {
                byte c = field[i];
                if (c == (byte)'\'')
                {
                    if (i + 1 < field.Length && field[i + 1] == (byte)'\'')
                    {
                        sb.Append('\'');
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                sb.Append((char)c);
                i++;
            }
            // An unterminated string keeps the rest of the card: lenient, and astropy does the same after a warning.
            value = sb.ToString().TrimEnd(' ');
        }
        else
        {
            int end = field[i..].IndexOf((byte)'/');
            end = end < 0 ? field.Length : i + end;
            value = Encoding.ASCII.GetString(field[i..end]).Trim();
            i = end;
            if (value.Length == 0) value = null;
        }

        string? comment = null;
        int slash = field[i..].IndexOf((byte)'/');
        if (slash >= 0)
        {
            comment = Encoding.ASCII.GetString(field[(i + slash + 1)..]).Trim();
            if (comment.Length == 0) comment = null;
        }
        return new FitsCard(keyword, value, isString, comment);
    }

    /// <summary>Writes the 80-byte fixed-format card image (§4.2): strings from column 11, other values right-justified to column 30.</summary>
    internal void WriteTo(Span<byte> card)
    {
        card[..Length].Fill((byte)' ');
        Encoding.ASCII.GetBytes(Keyword, card);
        if (Value is null)
        {
            if (Comment is not null) Encoding.ASCII.GetBytes(Comment, card[8..]);
            return;
        }
        card[8] = (byte)'=';
        int pos = 10;
        if (IsString)
        {
            card[pos++] = (byte)'\'';
            int start = pos;
            foreach (char c in Value)
            {
                card[pos++] = (byte)c;
                if (c == '\'') card[pos++] = (byte)'\'';
            }
            // §4.2.1.1: the closing quote of a fixed-format string is in column 20 or later.
            while (pos - start < 8) pos++;
            card[pos++] = (byte)'\'';
        }
        else if (Value.Length <= 20)
        {
            pos = 30 - Value.Length;
            pos += Encoding.ASCII.GetBytes(Value, card[pos..]);
        }
        else
        {
            pos += Encoding.ASCII.GetBytes(Value, card[pos..]);
        }
        if (Comment is not null)
        {
            card[pos + 1] = (byte)'/';
            Encoding.ASCII.GetBytes(Comment, card[(pos + 3)..]);
        }
    }

    private static FitsCard Checked(string keyword, string value, bool isString, string? comment)
    {
        ValidateKeyword(keyword, allowBlank: false);
        ValidateText(value, nameof(value));
        if (comment is not null) ValidateText(comment, nameof(comment));
        int valueLength = isString ? Math.Max(8, value.Length + CountQuotes(value)) + 2 : Math.Max(20, value.Length);
        int total = 10 + valueLength + (comment is null ? 0 : 3 + comment.Length);
        if (total > Length)
            throw new ArgumentException($"card {keyword} would be {total} characters; a FITS card holds {Length}", isString ? nameof(value) : nameof(comment));
        return new FitsCard(keyword, value, isString, comment);
    }

    private static int CountQuotes(string s)
    {
        int count = 0;
        foreach (char c in s) if (c == '\'') count++;
        return count;
    }

    private static void ValidateKeyword(string keyword, bool allowBlank)
    {
        ArgumentNullException.ThrowIfNull(keyword);
        if (keyword.Length == 0 && allowBlank) return;
        // §4.1.2.1: 1-8 characters from A-Z, 0-9, hyphen and underscore.
        bool ok = keyword.Length is >= 1 and <= 8;
        foreach (char c in keyword) ok &= c is (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_';
        if (!ok) throw new ArgumentException($"'{keyword}' is not a FITS keyword (1-8 of A-Z, 0-9, '-', '_')", nameof(keyword));
    }

    private static void ValidateText(string text, string parameter)
    {
        foreach (char c in text)
            if (c is < ' ' or > '~')
                throw new ArgumentException($"FITS headers hold printable ASCII only; found U+{(int)c:X4}", parameter);
    }
}
