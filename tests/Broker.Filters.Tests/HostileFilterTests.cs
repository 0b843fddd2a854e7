using System.Text;
using System.Text.RegularExpressions;
using Broker.Alerts.Model;
using Broker.Filters;

namespace Broker.Filters.Tests;

/// <summary>Filters written to hurt: refused when they compile to something unbounded, bounded when accepted.</summary>
public sealed class HostileFilterTests
{
    private static readonly Alert Sample = new() { Survey = Survey.Ztf, AlertId = 1, ObjectId = new string('a', 5000), Ra = 10, Dec = 10, MjdTai = 60000, Band = "g", Mag = 18 };

    [Fact]
    public void Deep_parentheses_are_refused_before_the_stack_is_at_risk()
    {
        string text = new string('(', 100_000) + "mag < 18" + new string(')', 100_000);
        var e = Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(text, limits: FilterLimits.Default with { MaxTextLength = 1_000_000, MaxTokens = 1_000_000 }));
        Assert.Contains("nests deeper than 32", e.Reason, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition(1, 33), e.Position);
    }

    [Fact]
    public void Deep_not_and_unary_minus_chains_are_refused()
    {
        Assert.Contains("nests deeper", Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(string.Concat(Enumerable.Repeat("not ", 40)) + "isPositive")).Reason);
        Assert.Contains("nests deeper", Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(string.Concat(Enumerable.Repeat("- ", 40)) + "mag < 0")).Reason);
        Assert.Contains("nests deeper", Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(string.Concat(Enumerable.Repeat("abs(", 40)) + "mag" + new string(')', 40) + " > 0")).Reason);
    }

    [Fact]
    public void Nesting_up_to_the_limit_compiles_and_evaluates()
    {
        var f = FilterExpression.Compile(new string('(', 31) + "mag < 19" + new string(')', 31));
        Assert.True(f.Matches(Sample));
    }

    [Fact]
    public void A_filter_of_too_many_nodes_is_refused()
    {
        string text = string.Join(" or ", Enumerable.Range(0, 600).Select(i => $"mag = {i}"));
        Assert.Contains("more than 1000 nodes", Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(text)).Reason);
    }

    [Fact]
    public void A_long_flat_filter_within_the_node_limit_compiles()
    {
        string text = string.Join(" or ", Enumerable.Range(0, 200).Select(i => $"mag = {i}"));
        Assert.True(FilterExpression.Compile(text).Matches(Sample));
    }

    [Fact]
    public void A_huge_in_list_is_refused_at_the_first_value_over_the_limit()
    {
        string text = "candid in (" + string.Join(", ", Enumerable.Range(0, 1500)) + ")";
        var e = Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(text));
        Assert.Contains("at most 1000 values", e.Reason, StringComparison.Ordinal);
        Assert.Equal(1, e.Position.Line);
        Assert.Equal(text.IndexOf(" 1000,", StringComparison.Ordinal) + 2, e.Position.Column);
    }

    [Fact]
    public void An_in_list_at_the_limit_is_one_binary_search()
    {
        string text = "alertId in (" + string.Join(", ", Enumerable.Range(0, 1000).Select(i => i * 7)) + ")";
        var f = FilterExpression.Compile(text);
        Assert.False(f.Matches(Sample with { AlertId = 8 }));
        Assert.True(f.Matches(Sample with { AlertId = 6993 }));
    }

    [Fact]
    public void A_long_like_pattern_is_refused()
    {
        string text = $"objectId like '{new string('%', 200)}'";
        var e = Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(text));
        Assert.Contains("at most 128 characters", e.Reason, StringComparison.Ordinal);
        Assert.Equal(new SourcePosition(1, 15), e.Position);
    }

    [Fact]
    public void A_pathological_like_pattern_costs_no_more_than_a_plain_one()
    {
        // '%a%a%a...%b' against 'aaaa...a': exponential for a backtracking matcher, at most text x pattern here.
        string pattern = string.Concat(Enumerable.Repeat("%a", 60)) + "%b";
        var like = new LikePattern(pattern);
        string text = new('a', 100_000);
        Assert.False(like.IsMatch(text));
        Assert.True(like.IsMatch(text + "b"));
        var f = FilterExpression.Compile($"objectId like '{pattern}'");
        Assert.False(f.Matches(Sample));
        Assert.True(FilterExpression.Compile($"objectId like '{string.Concat(Enumerable.Repeat("%a", 60))}%'").Matches(Sample));
    }

    [Fact]
    public void A_too_long_text_or_string_literal_is_refused()
    {
        Assert.Contains("characters long", Assert.Throws<FilterCompileException>(() => FilterExpression.Compile("mag < 1" + new string(' ', 30_000))).Reason);
        Assert.Contains("string literal", Assert.Throws<FilterCompileException>(() => FilterExpression.Compile($"objectId = '{new string('x', 2000)}'")).Reason);
    }

    [Fact]
    public void Nothing_in_the_language_names_a_type_a_method_or_a_file()
    {
        // Field paths are looked up in the catalogue, function names in a fixed switch: no member lookup by name.
        foreach (var text in new[] { "System.IO.File.Exists('x')", "Alert.GetType() = 1", "typeof(mag) = 1", "exec('rm')" })
            Assert.Throws<FilterCompileException>(() => FilterExpression.Compile(text));
    }

    public static TheoryData<string, string> LikeCases()
    {
        var data = new TheoryData<string, string>();
        var rng = new Random(15);
        const string alphabet = "ab%_";
        for (int i = 0; i < 400; i++)
        {
            var p = new StringBuilder();
            for (int k = rng.Next(0, 7); k > 0; k--) p.Append(alphabet[rng.Next(alphabet.Length)]);
            var t = new StringBuilder();
            for (int k = rng.Next(0, 8); k > 0; k--) t.Append("ab"[rng.Next(2)]);
            data.Add(p.ToString(), t.ToString());
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(LikeCases))]
    public void Like_agrees_with_the_equivalent_regular_expression(string pattern, string text)
    {
        var regex = new Regex("^" + string.Concat(pattern.Select(c => c == '%' ? ".*" : c == '_' ? "." : Regex.Escape(c.ToString()))) + "$", RegexOptions.Singleline | RegexOptions.CultureInvariant);
        Assert.Equal(regex.IsMatch(text), new LikePattern(pattern).IsMatch(text));
    }
}
