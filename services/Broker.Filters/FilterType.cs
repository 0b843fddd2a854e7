namespace Broker.Filters;

/// <summary>
/// The types of the filter language. Every type has null. At run time an integer is a 64-bit <c>long?</c>, a decimal
/// a <c>double</c> with NaN for null (the language has no NaN: a survey NaN reads as null), a string a
/// <c>string?</c>, and a condition the three-valued <see cref="Tri"/>.
/// </summary>
public enum FilterType
{
    /// <summary>The type of the literal <c>null</c> alone; it takes the type of what it meets.</summary>
    Null,

    /// <summary>A condition: true, false or unknown (null).</summary>
    Bool,

    /// <summary>A 64-bit integer, exact.</summary>
    Int,

    /// <summary>A decimal (IEEE double).</summary>
    Real,

    /// <summary>A string (compared by ordinal, case-sensitive).</summary>
    String,
}

/// <summary>
/// SQL's three-valued logic in one byte, ordered so that <c>and</c> is the minimum, <c>or</c> the maximum and
/// <c>not</c> is <c>2 - x</c> (Kleene's strong logic, as SQL:2016 §6.39 tabulates it).
/// </summary>
public static class Tri
{
    /// <summary>False.</summary>
    public const byte False = 0;

    /// <summary>Unknown: a condition on null.</summary>
    public const byte Unknown = 1;

    /// <summary>True.</summary>
    public const byte True = 2;

    /// <summary>From a nullable boolean.</summary>
    public static byte Of(bool? b) => b is { } v ? (v ? True : False) : Unknown;

    /// <summary>From a boolean.</summary>
    public static byte Of(bool b) => b ? True : False;
}

/// <summary>Names of the types as the error messages and documentation write them.</summary>
internal static class FilterTypeNames
{
    public static string Name(this FilterType t) => t switch
    {
        FilterType.Null => "null",
        FilterType.Bool => "boolean",
        FilterType.Int => "integer",
        FilterType.Real => "decimal",
        FilterType.String => "string",
        _ => t.ToString(),
    };

    public static bool IsNumeric(this FilterType t) => t is FilterType.Int or FilterType.Real;
}
