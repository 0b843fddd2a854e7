namespace Broker.Filters;

/// <summary>The operators of the language.</summary>
internal enum Op { Or, And, Not, Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Mod, Neg }

/// <summary>A node of a parsed filter; <see cref="Pos"/> is where errors about it are reported.</summary>
internal abstract record Node(SourcePosition Pos);

internal sealed record LiteralNode(SourcePosition Pos, FilterType Type, object? Value) : Node(Pos);

internal sealed record FieldNode(SourcePosition Pos, string Path) : Node(Pos);

internal sealed record UnaryNode(SourcePosition Pos, Op Op, Node Operand) : Node(Pos);

internal sealed record BinaryNode(SourcePosition Pos, Op Op, Node Left, Node Right) : Node(Pos);

internal sealed record BetweenNode(SourcePosition Pos, Node Value, Node Low, Node High, bool Negated) : Node(Pos);

internal sealed record InNode(SourcePosition Pos, Node Value, IReadOnlyList<LiteralNode> Items, bool Negated) : Node(Pos);

internal sealed record IsNullNode(SourcePosition Pos, Node Value, bool Negated) : Node(Pos);

internal sealed record LikeNode(SourcePosition Pos, Node Value, LiteralNode Pattern, bool Negated) : Node(Pos);

internal sealed record CallNode(SourcePosition Pos, string Name, IReadOnlyList<Node> Args) : Node(Pos);
