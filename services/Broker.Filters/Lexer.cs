using System.Globalization;
using System.Text;

namespace Broker.Filters;

/// <summary>The kinds of token in the filter language.</summary>
internal enum TokenKind
{
    End, Identifier, Integer, Decimal, String,
    LParen, RParen, Comma,
    Plus, Minus, Star, Slash, Percent,
    Eq, Ne, Lt, Le, Gt, Ge,
    // Keywords (case-insensitive).
    And, Or, Not, Is, Null, True, False, In, Between, Like,
}

/// <summary>One token: its kind, text (identifiers, string contents), value (numbers) and position.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, SourcePosition Position, long IntValue = 0, double DecimalValue = 0);

/// <summary>
/// Splits a filter into tokens. Identifiers are letters, digits, <c>_</c> and <c>.</c> (a field path is one
/// identifier: <c>candidate.magpsf</c>); keywords are identifiers compared case-insensitively; strings are in single
/// quotes with <c>''</c> for a quote; integers are decimal digits (64-bit, an overflow is an error); decimals have a
/// point or an exponent (<c>1.5</c>, <c>.5</c>, <c>2e-3</c>). <c>--</c> starts a comment to the end of the line.
/// </summary>
internal static class Lexer
{
    private static readonly Dictionary<string, TokenKind> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["and"] = TokenKind.And, ["or"] = TokenKind.Or, ["not"] = TokenKind.Not, ["is"] = TokenKind.Is,
        ["null"] = TokenKind.Null, ["true"] = TokenKind.True, ["false"] = TokenKind.False, ["in"] = TokenKind.In,
        ["between"] = TokenKind.Between, ["like"] = TokenKind.Like,
    };

    public static List<Token> Tokenize(string text, FilterLimits limits)
    {
        if (text.Length > limits.MaxTextLength)
            throw new FilterCompileException(new(1, 1), $"the filter is {text.Length} characters long; at most {limits.MaxTextLength} are allowed");
        var tokens = new List<Token>();
        int i = 0, line = 1, lineStart = 0;
        SourcePosition Here(int at) => new(line, at - lineStart + 1);
        while (true)
        {
            // Whitespace and comments.
            while (i < text.Length)
            {
                char w = text[i];
                if (w == '\n') { i++; line++; lineStart = i; }
                else if (w is ' ' or '\t' or '\r') i++;
                else if (w == '-' && i + 1 < text.Length && text[i + 1] == '-')
                {
                    while (i < text.Length && text[i] != '\n') i++;
                }
                else break;
            }
            if (i >= text.Length)
            {
                tokens.Add(new Token(TokenKind.End, "", Here(i)));
                return tokens;
            }
            if (tokens.Count >= limits.MaxTokens)
                throw new FilterCompileException(Here(i), $"the filter has more than {limits.MaxTokens} tokens");
            char c = text[i];
            var at = Here(i);
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '.')) i++;
                string word = text[start..i];
                if (word.EndsWith('.')) throw new FilterCompileException(Here(i - 1), $"a field path cannot end with '.': '{word}'");
                if (word.Contains("..", StringComparison.Ordinal)) throw new FilterCompileException(at, $"a field path cannot have an empty part: '{word}'");
                tokens.Add(Keywords.TryGetValue(word, out var kw) ? new Token(kw, word, at) : new Token(TokenKind.Identifier, word, at));
                continue;
            }
            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                tokens.Add(Number(text, ref i, at));
                continue;
            }
            if (c == '\'')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new FilterCompileException(at, "unterminated string: a closing ' is missing");
                    char s = text[i];
                    if (s == '\'')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '\'') { sb.Append('\''); i += 2; continue; }
                        i++;
                        break;
                    }
                    if (s == '\n') { line++; lineStart = i + 1; }
                    sb.Append(s);
                    i++;
                }
                if (sb.Length > limits.MaxStringLength)
                    throw new FilterCompileException(at, $"a string literal of {sb.Length} characters; at most {limits.MaxStringLength} are allowed");
                tokens.Add(new Token(TokenKind.String, sb.ToString(), at));
                continue;
            }
            TokenKind kind;
            int len = 1;
            char next = i + 1 < text.Length ? text[i + 1] : '\0';
            switch (c)
            {
                case '(': kind = TokenKind.LParen; break;
                case ')': kind = TokenKind.RParen; break;
                case ',': kind = TokenKind.Comma; break;
                case '+': kind = TokenKind.Plus; break;
                case '-': kind = TokenKind.Minus; break;
                case '*': kind = TokenKind.Star; break;
                case '/': kind = TokenKind.Slash; break;
                case '%': kind = TokenKind.Percent; break;
                case '=': kind = TokenKind.Eq; if (next == '=') throw new FilterCompileException(at, "'==' is not an operator; equality is '='"); break;
                case '!':
                    if (next != '=') throw new FilterCompileException(at, "unexpected character '!' (did you mean '!='?)");
                    kind = TokenKind.Ne; len = 2; break;
                case '<':
                    if (next == '=') { kind = TokenKind.Le; len = 2; }
                    else if (next == '>') { kind = TokenKind.Ne; len = 2; }
                    else kind = TokenKind.Lt;
                    break;
                case '>':
                    if (next == '=') { kind = TokenKind.Ge; len = 2; } else kind = TokenKind.Gt;
                    break;
                case '"':
                    throw new FilterCompileException(at, "strings are in single quotes ('...'), not double quotes");
                default:
                    throw new FilterCompileException(at, $"unexpected character '{Printable(c)}'");
            }
            tokens.Add(new Token(kind, text.Substring(i, len), at));
            i += len;
        }
    }

    private static Token Number(string text, ref int i, SourcePosition at)
    {
        int start = i;
        bool isDecimal = false;
        while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        if (i < text.Length && text[i] == '.')
        {
            isDecimal = true;
            i++;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
        }
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            int e = i;
            i++;
            if (i < text.Length && text[i] is '+' or '-') i++;
            if (i >= text.Length || !char.IsAsciiDigit(text[i]))
                throw new FilterCompileException(new(at.Line, at.Column + (e - start)), "an exponent needs digits (1e5, 2.5e-3)");
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            isDecimal = true;
        }
        if (i < text.Length && (char.IsAsciiLetter(text[i]) || text[i] == '_'))
            throw new FilterCompileException(new(at.Line, at.Column + (i - start)), $"a number cannot run into a name: '{text[start..(i + 1)]}'");
        string s = text[start..i];
        if (isDecimal)
        {
            double d = double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!double.IsFinite(d)) throw new FilterCompileException(at, $"the decimal {s} is too large");
            return new Token(TokenKind.Decimal, s, at, DecimalValue: d);
        }
        // Digits only: exact 64-bit. 9223372036854775808 is accepted only as the operand of unary minus (the parser checks).
        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong u) || u > 9223372036854775808UL)
            throw new FilterCompileException(at, $"the integer {s} does not fit in 64 bits");
        return new Token(TokenKind.Integer, s, at, IntValue: unchecked((long)u));
    }

    private static string Printable(char c) => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString();
}
