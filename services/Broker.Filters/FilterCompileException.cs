using System.Globalization;

namespace Broker.Filters;

/// <summary>A place in a filter's text: 1-based line and column (columns count UTF-16 characters; a tab is one).</summary>
/// <param name="Line">The line, from 1.</param>
/// <param name="Column">The column, from 1.</param>
public readonly record struct SourcePosition(int Line, int Column)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"line {Line}, column {Column}");
}

/// <summary>
/// A filter that cannot be accepted: a lexical or syntax error, an unknown field or function, a type error, or a
/// limit exceeded. <see cref="Exception.Message"/> is <c>line L, column C: message</c>, the form the CLI prints.
/// </summary>
public sealed class FilterCompileException : Exception
{
    /// <summary>Creates the error at <paramref name="position"/>.</summary>
    public FilterCompileException(SourcePosition position, string reason)
        : base($"{position}: {reason}")
    {
        Position = position;
        Reason = reason;
    }

    /// <summary>The error at <paramref name="position"/> of the file <paramref name="file"/>: the message is <c>FILE: line L, column C: message</c>.</summary>
    public FilterCompileException(SourcePosition position, string reason, string file)
        : base($"{file}: {position}: {reason}")
    {
        Position = position;
        Reason = reason;
        File = file;
    }

    /// <summary>The file the definition came from, when known.</summary>
    public string? File { get; }

    /// <summary>Where the error is.</summary>
    public SourcePosition Position { get; }

    /// <summary>The message without the position.</summary>
    public string Reason { get; }
}
