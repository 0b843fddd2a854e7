namespace Broker.Filters;

/// <summary>
/// Recursive-descent parser of a <c>where</c> expression. Precedence, lowest first: <c>or</c>; <c>and</c>;
/// <c>not</c>; comparisons, <c>between</c>, <c>in</c>, <c>is null</c>, <c>like</c> (one per operand: they do not
/// chain); <c>+ -</c>; <c>* / %</c>; unary <c>-</c>. Nesting depth and node count are bounded
/// (<see cref="FilterLimits"/>) while parsing, so a hostile text is refused before it can exhaust the stack.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private readonly FilterLimits _limits;
    private int _at;
    private int _depth;
    private int _nodes;

    private Parser(List<Token> tokens, FilterLimits limits)
    {
        _tokens = tokens;
        _limits = limits;
    }

    public static Node Parse(string text, FilterLimits limits)
    {
        var parser = new Parser(Lexer.Tokenize(text, limits), limits);
        if (parser.Peek.Kind == TokenKind.End) throw new FilterCompileException(parser.Peek.Position, "the filter is empty");
        var node = parser.Or();
        if (parser.Peek.Kind != TokenKind.End)
            throw new FilterCompileException(parser.Peek.Position, $"unexpected {Describe(parser.Peek)} after the end of the expression");
        return node;
    }

    private Token Peek => _tokens[_at];

    private Token Next() => _tokens[_at++];

    private T Count<T>(T node) where T : Node
    {
        if (++_nodes > _limits.MaxNodes)
            throw new FilterCompileException(node.Pos, $"the filter has more than {_limits.MaxNodes} nodes");
        return node;
    }

    private void Enter(SourcePosition pos)
    {
        if (++_depth > _limits.MaxDepth)
            throw new FilterCompileException(pos, $"the filter nests deeper than {_limits.MaxDepth} levels");
    }

    private void Leave() => _depth--;

    private Token Expect(TokenKind kind, string what)
    {
        if (Peek.Kind != kind) throw new FilterCompileException(Peek.Position, $"expected {what}, found {Describe(Peek)}");
        return Next();
    }

    private Node Or()
    {
        var left = And();
        while (Peek.Kind == TokenKind.Or)
        {
            var op = Next();
            left = Count(new BinaryNode(op.Position, Op.Or, left, And()));
        }
        return left;
    }

    private Node And()
    {
        var left = Not();
        while (Peek.Kind == TokenKind.And)
        {
            var op = Next();
            left = Count(new BinaryNode(op.Position, Op.And, left, Not()));
        }
        return left;
    }

    private Node Not()
    {
        if (Peek.Kind != TokenKind.Not) return Predicate();
        var op = Next();
        Enter(op.Position);
        var operand = Not();
        Leave();
        return Count(new UnaryNode(op.Position, Op.Not, operand));
    }

    private Node Predicate()
    {
        var left = Additive();
        var t = Peek;
        Node result;
        switch (t.Kind)
        {
            case TokenKind.Eq or TokenKind.Ne or TokenKind.Lt or TokenKind.Le or TokenKind.Gt or TokenKind.Ge:
                Next();
                result = Count(new BinaryNode(t.Position, t.Kind switch
                {
                    TokenKind.Eq => Op.Eq, TokenKind.Ne => Op.Ne, TokenKind.Lt => Op.Lt,
                    TokenKind.Le => Op.Le, TokenKind.Gt => Op.Gt, _ => Op.Ge,
                }, left, Additive()));
                break;
            case TokenKind.Is:
                Next();
                bool isNot = false;
                if (Peek.Kind == TokenKind.Not) { Next(); isNot = true; }
                Expect(TokenKind.Null, "'null' after 'is'" + (isNot ? " not" : ""));
                result = Count(new IsNullNode(t.Position, left, isNot));
                break;
            case TokenKind.Not:
                Next();
                result = Negatable(t, left, negated: true);
                break;
            case TokenKind.Between or TokenKind.In or TokenKind.Like:
                result = Negatable(t, left, negated: false);
                break;
            default:
                return left;
        }
        var after = Peek;
        if (after.Kind is TokenKind.Eq or TokenKind.Ne or TokenKind.Lt or TokenKind.Le or TokenKind.Gt or TokenKind.Ge
            or TokenKind.Is or TokenKind.Between or TokenKind.In or TokenKind.Like)
            throw new FilterCompileException(after.Position, $"comparisons do not chain: put parentheses around one side, or combine with 'and'");
        return result;
    }

    private Node Negatable(Token start, Node left, bool negated)
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Between:
            {
                var low = Additive();
                Expect(TokenKind.And, "'and' in 'between ... and ...'");
                var high = Additive();
                return Count(new BetweenNode(start.Position, left, low, high, negated));
            }
            case TokenKind.In:
            {
                Expect(TokenKind.LParen, "'(' after 'in'");
                var items = new List<LiteralNode>();
                if (Peek.Kind == TokenKind.RParen) throw new FilterCompileException(Peek.Position, "an 'in' list needs at least one value");
                while (true)
                {
                    if (items.Count >= _limits.MaxInListItems)
                        throw new FilterCompileException(Peek.Position, $"an 'in' list may hold at most {_limits.MaxInListItems} values");
                    items.Add(ListLiteral());
                    if (Peek.Kind == TokenKind.Comma) { Next(); continue; }
                    Expect(TokenKind.RParen, "',' or ')' in the 'in' list");
                    break;
                }
                // The list's values are one node in the count: their cost is one hash or binary search.
                return Count(new InNode(start.Position, left, items, negated));
            }
            case TokenKind.Like:
            {
                var p = Peek;
                if (p.Kind != TokenKind.String) throw new FilterCompileException(p.Position, $"'like' needs a pattern in quotes, found {Describe(p)}");
                Next();
                if (p.Text.Length > _limits.MaxLikePatternLength)
                    throw new FilterCompileException(p.Position, $"a 'like' pattern may be at most {_limits.MaxLikePatternLength} characters; this one has {p.Text.Length}");
                return Count(new LikeNode(start.Position, left, new LiteralNode(p.Position, FilterType.String, p.Text), negated));
            }
            default:
                throw new FilterCompileException(t.Position, $"expected 'between', 'in' or 'like' after 'not', found {Describe(t)}");
        }
    }

    private LiteralNode ListLiteral()
    {
        var t = Peek;
        bool minus = false;
        if (t.Kind == TokenKind.Minus) { Next(); minus = true; }
        var v = Next();
        switch (v.Kind)
        {
            case TokenKind.Integer:
                if (!minus && v.IntValue == long.MinValue) throw new FilterCompileException(v.Position, $"the integer {v.Text} does not fit in 64 bits");
                return new LiteralNode(t.Position, FilterType.Int, minus ? unchecked(-v.IntValue) : v.IntValue);
            case TokenKind.Decimal:
                return new LiteralNode(t.Position, FilterType.Real, minus ? -v.DecimalValue : v.DecimalValue);
            case TokenKind.String when !minus:
                return new LiteralNode(t.Position, FilterType.String, v.Text);
            case TokenKind.Null when !minus:
                return new LiteralNode(t.Position, FilterType.Null, null);
            default:
                throw new FilterCompileException(v.Position, $"an 'in' list holds only number, string and null literals, found {Describe(v)}");
        }
    }

    private Node Additive()
    {
        var left = Multiplicative();
        while (Peek.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var op = Next();
            left = Count(new BinaryNode(op.Position, op.Kind == TokenKind.Plus ? Op.Add : Op.Sub, left, Multiplicative()));
        }
        return left;
    }

    private Node Multiplicative()
    {
        var left = Unary();
        while (Peek.Kind is TokenKind.Star or TokenKind.Slash or TokenKind.Percent)
        {
            var op = Next();
            left = Count(new BinaryNode(op.Position, op.Kind switch { TokenKind.Star => Op.Mul, TokenKind.Slash => Op.Div, _ => Op.Mod }, left, Unary()));
        }
        return left;
    }

    private Node Unary()
    {
        if (Peek.Kind == TokenKind.Plus)
            throw new FilterCompileException(Peek.Position, "there is no unary '+'; write the number alone");
        if (Peek.Kind != TokenKind.Minus) return Primary();
        var op = Next();
        // -9223372036854775808 is the one literal that needs the minus to fit.
        if (Peek.Kind == TokenKind.Integer && Peek.IntValue == long.MinValue)
        {
            Next();
            return Count(new LiteralNode(op.Position, FilterType.Int, long.MinValue));
        }
        Enter(op.Position);
        var operand = Unary();
        Leave();
        return Count(new UnaryNode(op.Position, Op.Neg, operand));
    }

    private Node Primary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Integer:
                if (t.IntValue == long.MinValue) throw new FilterCompileException(t.Position, $"the integer {t.Text} does not fit in 64 bits");
                return Count(new LiteralNode(t.Position, FilterType.Int, t.IntValue));
            case TokenKind.Decimal:
                return Count(new LiteralNode(t.Position, FilterType.Real, t.DecimalValue));
            case TokenKind.String:
                return Count(new LiteralNode(t.Position, FilterType.String, t.Text));
            case TokenKind.True:
                return Count(new LiteralNode(t.Position, FilterType.Bool, true));
            case TokenKind.False:
                return Count(new LiteralNode(t.Position, FilterType.Bool, false));
            case TokenKind.Null:
                return Count(new LiteralNode(t.Position, FilterType.Null, null));
            case TokenKind.LParen:
            {
                Enter(t.Position);
                if (Peek.Kind == TokenKind.RParen) throw new FilterCompileException(Peek.Position, "empty parentheses");
                var inner = Or();
                Expect(TokenKind.RParen, "')'");
                Leave();
                return inner;
            }
            case TokenKind.Identifier:
            {
                if (Peek.Kind != TokenKind.LParen) return Count(new FieldNode(t.Position, t.Text));
                Next();
                Enter(t.Position);
                var args = new List<Node>();
                if (Peek.Kind != TokenKind.RParen)
                {
                    while (true)
                    {
                        if (args.Count >= _limits.MaxFunctionArguments)
                            throw new FilterCompileException(Peek.Position, $"a function takes at most {_limits.MaxFunctionArguments} arguments");
                        args.Add(Or());
                        if (Peek.Kind == TokenKind.Comma) { Next(); continue; }
                        Expect(TokenKind.RParen, "',' or ')' in the argument list");
                        break;
                    }
                }
                else
                {
                    Next();
                }
                Leave();
                return Count(new CallNode(t.Position, t.Text, args));
            }
            case TokenKind.End:
                throw new FilterCompileException(t.Position, "the expression ends too early: an operand is missing");
            default:
                throw new FilterCompileException(t.Position, $"expected a value, a field or '(', found {Describe(t)}");
        }
    }

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the filter",
        TokenKind.Identifier => $"'{t.Text}'",
        TokenKind.String => $"the string '{t.Text}'",
        TokenKind.Integer or TokenKind.Decimal => $"the number {t.Text}",
        _ => $"'{t.Text}'",
    };
}
