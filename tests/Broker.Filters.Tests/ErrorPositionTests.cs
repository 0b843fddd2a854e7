using Broker.Filters;

namespace Broker.Filters.Tests;

/// <summary>Malformed filters: each is refused with the line and column of the fault and a message saying what is wrong.</summary>
public sealed class ErrorPositionTests
{
    public static TheoryData<string, int, int, string> Malformed() => new()
    {
        // lexical
        { "mag < 18 @", 1, 10, "unexpected character '@'" },
        { "objectId = 'ZTF18", 1, 12, "unterminated string" },
        { "objectId = \"ZTF\"", 1, 12, "single quotes" },
        { "mag == 18", 1, 5, "'==' is not an operator" },
        { "mag ! 18", 1, 5, "'!'" },
        { "mag < 1e", 1, 8, "exponent needs digits" },
        { "mag < 18abc", 1, 9, "cannot run into a name" },
        { "candid = 99999999999999999999", 1, 10, "does not fit in 64 bits" },
        { "candid = 9223372036854775808", 1, 10, "does not fit in 64 bits" },
        { "candidate. = 1", 1, 10, "cannot end with '.'" },
        { "candidate..magpsf < 1", 1, 1, "empty part" },
        // syntax
        { "", 1, 1, "empty" },
        { "   \n  ", 2, 3, "empty" },
        { "mag <", 1, 6, "ends too early" },
        { "mag < 18 and", 1, 13, "ends too early" },
        { "(mag < 18", 1, 10, "expected ')'" },
        { "mag < 18)", 1, 9, "unexpected ')'" },
        { "mag 18", 1, 5, "unexpected the number 18" },
        { "mag < 18 band = 'g'", 1, 10, "unexpected 'band'" },
        { "1 < mag < 20", 1, 9, "do not chain" },
        { "mag between 18", 1, 15, "'and' in 'between" },
        { "band in 'g'", 1, 9, "'(' after 'in'" },
        { "band in ()", 1, 10, "at least one value" },
        { "band in ('g' 'r')", 1, 14, "',' or ')'" },
        { "band in ('g', mag)", 1, 15, "only number, string and null literals" },
        { "band like 'g' || 'r'", 1, 15, "'|'" },
        { "objectId like 12", 1, 15, "pattern in quotes" },
        { "mag is 18", 1, 8, "'null' after 'is'" },
        { "mag not 18", 1, 9, "'between', 'in' or 'like' after 'not'" },
        { "abs(mag", 1, 8, "',' or ')'" },
        { "abs(mag,)", 1, 9, "expected a value" },
        { "()", 1, 2, "empty parentheses" },
        { "+mag > 1", 1, 1, "no unary '+'" },
        { "mag < 18\nand\nband = = 'g'", 3, 8, "expected a value" },
        // names
        { "magpsf < 18", 1, 1, "unknown field 'magpsf' (did you mean 'candidate.magpsf'?)" },
        { "Mag < 18", 1, 1, "case-sensitive: did you mean 'mag'" },
        { "candidate.nosuch > 1", 1, 1, "unknown field 'candidate.nosuch'" },
        { "mag < 18 and\n  class.stamp.Nova > 0.5", 2, 3, "unknown field 'class.stamp.Nova'" },
        { "sin(mag) > 0", 1, 1, "unknown function 'sin'" },
        { "sqrt() > 0", 1, 1, "sqrt() takes 1 argument, not 0" },
        { "pow(mag) > 0", 1, 1, "pow() takes 2 arguments, not 1" },
        { "min(mag) > 0", 1, 1, "at least 2" },
        { "colour('g') > 0", 1, 1, "2 to 3" },
        // types
        { "mag", 1, 1, "must be a condition" },
        { "mag + 1", 1, 5, "must be a condition" },
        { "objectId", 1, 1, "must be a condition" },
        { "mag < 'bright'", 1, 5, "cannot compare a decimal with a string" },
        { "band = 1", 1, 6, "cannot compare a string with an integer" },
        { "isPositive < true", 1, 12, "cannot order conditions" },
        { "band + 1 = 2", 1, 1, "needs numbers, not a string" },
        { "mag * isPositive > 1", 1, 7, "needs numbers, not a boolean" },
        { "not mag", 1, 5, "'not' needs a condition, not a decimal" },
        { "mag < 18 and 5", 1, 14, "'and' needs a condition, not an integer" },
        { "isPositive or 'x'", 1, 15, "'or' needs a condition, not a string" },
        { "-band = 'g'", 1, 1, "unary '-' needs a number" },
        { "mag like '1%'", 1, 5, "'like' needs a string" },
        { "band in (1, 2)", 1, 6, "cannot compare a string with an integer" },
        { "band in ('g', 2)", 1, 15, "cannot compare a string with an integer" },
        { "isPositive in (1)", 1, 12, "cannot compare a boolean with an integer" },
        { "band between 1 and 2", 1, 6, "cannot compare a string with an integer" },
        { "sqrt(band) > 1", 1, 6, "needs numbers, not a string" },
        { "lower(mag) = 'x'", 1, 7, "needs a string here, not a decimal" },
        { "round(mag, 1.5) > 1", 1, 12, "digits must be an integer" },
        { "coalesce(mag, band) > 1", 1, 15, "cannot compare a decimal with a string" },
        { "ndet(1) > 1", 1, 6, "needs a string here" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_malformed_filter_is_refused_at_its_line_and_column(string text, int line, int column, string says)
    {
        var e = Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(text));
        Assert.Equal(new SourcePosition(line, column), e.Position);
        Assert.Contains(says, e.Reason, StringComparison.Ordinal);
        Assert.StartsWith($"line {line}, column {column}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void There_are_at_least_forty_malformed_cases()
    {
        Assert.True(Malformed().Count >= 40);
    }
}
