namespace Broker.Filters;

/// <summary>
/// What one filter may cost, checked when it is compiled: together they bound the work per alert (every node is a
/// constant-time operation except <c>like</c>, linear in the text for a bounded pattern, <c>in</c>, a binary search,
/// and the light-curve functions, linear in the alert's history).
/// </summary>
public sealed record FilterLimits
{
    /// <summary>The defaults.</summary>
    public static FilterLimits Default { get; } = new();

    /// <summary>Characters of filter text.</summary>
    public int MaxTextLength { get; init; } = 20_000;

    /// <summary>Tokens.</summary>
    public int MaxTokens { get; init; } = 10_000;

    /// <summary>Nodes of the parsed expression (an <c>in</c> list counts as one).</summary>
    public int MaxNodes { get; init; } = 1_000;

    /// <summary>Nesting of parentheses, <c>not</c>, unary minus and function calls.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>Values in one <c>in</c> list.</summary>
    public int MaxInListItems { get; init; } = 1_000;

    /// <summary>Characters of one <c>like</c> pattern.</summary>
    public int MaxLikePatternLength { get; init; } = 128;

    /// <summary>Characters of one string literal.</summary>
    public int MaxStringLength { get; init; } = 1_024;

    /// <summary>Arguments of one function call (<c>min</c>, <c>max</c>, <c>coalesce</c>).</summary>
    public int MaxFunctionArguments { get; init; } = 16;
}
