using System.Linq.Expressions;
using System.Reflection;
using Broker.Alerts.Model;

namespace Broker.Filters;

/// <summary>
/// Type-checks a parsed filter against a <see cref="FieldCatalog"/> and compiles it to one
/// <c>Func&lt;AlertRow, byte&gt;</c> through System.Linq.Expressions, compiled once. Every field becomes an array read
/// at a slot of the <see cref="FieldLayout"/> fixed here; every operator and function a call to
/// <see cref="FilterOps"/> (static methods the JIT inlines), so a compiled filter allocates nothing and can reach
/// nothing but the row it is given.
/// </summary>
internal sealed class Compiler
{
    private readonly FieldCatalog _catalog;
    private readonly FieldLayout _layout;
    private readonly ParameterExpression _row = Expression.Parameter(typeof(AlertRow), "row");
    private readonly Dictionary<string, (FieldDefinition Field, int Slot)> _used = new(StringComparer.Ordinal);

    private Compiler(FieldCatalog catalog, FieldLayout layout)
    {
        _catalog = catalog;
        _layout = layout;
    }

    private readonly record struct Typed(Expression Expr, FilterType Type, SourcePosition Pos);

    public static (Func<AlertRow, byte> Evaluate, IReadOnlyList<(FieldDefinition Field, int Slot)> Fields) Compile(
        string text, FieldCatalog catalog, FieldLayout layout, FilterLimits limits)
    {
        var node = Parser.Parse(text, limits);
        var c = new Compiler(catalog, layout);
        var t = c.Visit(node);
        if (t.Type != FilterType.Bool)
            throw new FilterCompileException(node.Pos, $"a filter must be a condition (true, false or unknown), but this expression is {Article(t.Type)}");
        var lambda = Expression.Lambda<Func<AlertRow, byte>>(t.Expr, c._row);
        return (lambda.Compile(), [.. c._used.Values]);
    }

    private static string Article(FilterType t) => t == FilterType.Int ? "an integer" : t == FilterType.Null ? "null" : "a " + t.Name();

    private Typed Visit(Node node) => node switch
    {
        LiteralNode l => Literal(l),
        FieldNode f => Field(f),
        UnaryNode u => Unary(u),
        BinaryNode b => Binary(b),
        BetweenNode b => Between(b),
        InNode i => In(i),
        IsNullNode n => IsNull(n),
        LikeNode l => Like(l),
        CallNode c => Call(c),
        _ => throw new FilterCompileException(node.Pos, "unsupported expression"),
    };

    // ---- leaves ----

    private static Typed Literal(LiteralNode l) => l.Type switch
    {
        FilterType.Int => new(Expression.Constant((long?)(long)l.Value!, typeof(long?)), FilterType.Int, l.Pos),
        FilterType.Real => new(Expression.Constant((double)l.Value!), FilterType.Real, l.Pos),
        FilterType.String => new(Expression.Constant((string)l.Value!, typeof(string)), FilterType.String, l.Pos),
        FilterType.Bool => new(Expression.Constant(Tri.Of((bool)l.Value!)), FilterType.Bool, l.Pos),
        _ => new(Expression.Constant(null), FilterType.Null, l.Pos),
    };

    private Typed Field(FieldNode f)
    {
        var def = _catalog.Find(f.Path) ?? throw new FilterCompileException(f.Pos, UnknownField(f.Path));
        int slot = _layout.SlotOf(def);
        _used.TryAdd(def.Path, (def, slot));
        string array = def.Type switch
        {
            FilterType.Real => nameof(AlertRow.Reals),
            FilterType.Int => nameof(AlertRow.Ints),
            FilterType.String => nameof(AlertRow.Strings),
            _ => nameof(AlertRow.Bools),
        };
        return new(Expression.ArrayIndex(Expression.Field(_row, array), Expression.Constant(slot)), def.Type, f.Pos);
    }

    private string UnknownField(string path)
    {
        // A hint for the commonest slip: the right name with other case, or a ZTF/Rubin name without its record.
        foreach (var d in _catalog.Fields)
        {
            if (string.Equals(d.Path, path, StringComparison.OrdinalIgnoreCase)) return $"unknown field '{path}' (field names are case-sensitive: did you mean '{d.Path}'?)";
        }
        foreach (var prefix in new[] { "candidate.", "diaSource.", "diaObject.", "ssSource." })
        {
            if (_catalog.Find(prefix + path) is { } d) return $"unknown field '{path}' (did you mean '{d.Path}'?)";
        }
        return $"unknown field '{path}'";
    }

    // ---- coercions ----

    /// <summary>The expression as <paramref name="target"/>: null takes any type, an integer widens to a decimal.</summary>
    private static Expression As(Typed t, FilterType target)
    {
        if (t.Type == target) return t.Expr;
        if (t.Type == FilterType.Null)
        {
            return target switch
            {
                FilterType.Int => Expression.Constant(null, typeof(long?)),
                FilterType.Real => Expression.Constant(double.NaN),
                FilterType.String => Expression.Constant(null, typeof(string)),
                _ => Expression.Constant(Tri.Unknown),
            };
        }
        if (t.Type == FilterType.Int && target == FilterType.Real) return Call(nameof(FilterOps.ToReal), t.Expr);
        throw new InvalidOperationException($"no conversion from {t.Type} to {target}");
    }

    private static readonly Dictionary<string, MethodInfo> Methods = typeof(FilterOps)
        .GetMethods(BindingFlags.Public | BindingFlags.Static).ToDictionary(m => m.Name, StringComparer.Ordinal);

    private static MethodCallExpression Call(string method, params Expression[] args) => Expression.Call(Methods[method], args);

    private static Typed NullOf(FilterType type, SourcePosition pos) => new(As(new Typed(Expression.Constant(null), FilterType.Null, pos), type), type, pos);

    // ---- operators ----

    private Typed Unary(UnaryNode u)
    {
        var x = Visit(u.Operand);
        if (u.Op == Op.Not)
        {
            Condition(x, "'not'");
            return new(Call(nameof(FilterOps.Not), As(x, FilterType.Bool)), FilterType.Bool, u.Pos);
        }
        return x.Type switch
        {
            FilterType.Int => new(Call(nameof(FilterOps.NegInt), x.Expr), FilterType.Int, u.Pos),
            FilterType.Real => new(Expression.Negate(x.Expr), FilterType.Real, u.Pos),
            FilterType.Null => x with { Pos = u.Pos },
            _ => throw new FilterCompileException(u.Pos, $"unary '-' needs a number, not {Article(x.Type)}"),
        };
    }

    private static void Condition(Typed t, string what)
    {
        if (t.Type is not (FilterType.Bool or FilterType.Null))
            throw new FilterCompileException(t.Pos, $"{what} needs a condition, not {Article(t.Type)}");
    }

    private static string Symbol(Op op) => op switch
    {
        Op.Or => "or", Op.And => "and", Op.Eq => "=", Op.Ne => "!=", Op.Lt => "<", Op.Le => "<=", Op.Gt => ">", Op.Ge => ">=",
        Op.Add => "+", Op.Sub => "-", Op.Mul => "*", Op.Div => "/", Op.Mod => "%", _ => op.ToString(),
    };

    private Typed Binary(BinaryNode b)
    {
        var l = Visit(b.Left);
        var r = Visit(b.Right);
        switch (b.Op)
        {
            case Op.And or Op.Or:
            {
                Condition(l, $"'{Symbol(b.Op)}'");
                Condition(r, $"'{Symbol(b.Op)}'");
                // Short-circuit: false and x is false, true or x is true; otherwise min (and) or max (or).
                var left = Expression.Variable(typeof(byte), "l");
                byte decisive = b.Op == Op.And ? Tri.False : Tri.True;
                var body = Expression.Block([left],
                    Expression.Assign(left, As(l, FilterType.Bool)),
                    Expression.Condition(Expression.Equal(left, Expression.Constant(decisive)), Expression.Constant(decisive),
                        Call(b.Op == Op.And ? nameof(FilterOps.And) : nameof(FilterOps.Or), left, As(r, FilterType.Bool))));
                return new(body, FilterType.Bool, b.Pos);
            }
            case Op.Add or Op.Sub or Op.Mul or Op.Mod or Op.Div:
                return Arithmetic(b, l, r);
            default:
                return Compare(b.Op, l, r, b.Pos);
        }
    }

    private static void Number(Typed t, string what)
    {
        if (!t.Type.IsNumeric() && t.Type != FilterType.Null)
            throw new FilterCompileException(t.Pos, $"{what} needs numbers, not {Article(t.Type)}");
    }

    private static Typed Arithmetic(BinaryNode b, Typed l, Typed r)
    {
        string what = $"'{Symbol(b.Op)}'";
        Number(l, what);
        Number(r, what);
        if (b.Op == Op.Div)
            return new(Call(nameof(FilterOps.Div), As(l, FilterType.Real), As(r, FilterType.Real)), FilterType.Real, b.Pos);
        if (l.Type == FilterType.Null && r.Type == FilterType.Null) return new(Expression.Constant(null), FilterType.Null, b.Pos);
        bool integer = l.Type != FilterType.Real && r.Type != FilterType.Real;
        if (integer)
        {
            string m = b.Op switch { Op.Add => nameof(FilterOps.AddInt), Op.Sub => nameof(FilterOps.SubInt), Op.Mul => nameof(FilterOps.MulInt), _ => nameof(FilterOps.ModInt) };
            return new(Call(m, As(l, FilterType.Int), As(r, FilterType.Int)), FilterType.Int, b.Pos);
        }
        Expression x = As(l, FilterType.Real), y = As(r, FilterType.Real);
        Expression e = b.Op switch
        {
            Op.Add => Expression.Add(x, y),
            Op.Sub => Expression.Subtract(x, y),
            Op.Mul => Expression.Multiply(x, y),
            _ => Call(nameof(FilterOps.ModReal), x, y),
        };
        return new(e, FilterType.Real, b.Pos);
    }

    /// <summary>The common type two operands compare in, or an error.</summary>
    private static FilterType CommonType(Typed l, Typed r, SourcePosition pos, string what)
    {
        if (l.Type == FilterType.Null) return r.Type;
        if (r.Type == FilterType.Null || l.Type == r.Type) return l.Type;
        if (l.Type.IsNumeric() && r.Type.IsNumeric()) return FilterType.Real;
        throw new FilterCompileException(pos, $"{what} cannot compare {Article(l.Type)} with {Article(r.Type)}");
    }

    private static Typed Compare(Op op, Typed l, Typed r, SourcePosition pos)
    {
        var type = CommonType(l, r, pos, $"'{Symbol(op)}'");
        if (type == FilterType.Bool && op is not (Op.Eq or Op.Ne))
            throw new FilterCompileException(pos, $"'{Symbol(op)}' cannot order conditions; only = and != compare them");
        // A comparison with null is unknown, whatever the other side.
        if (l.Type == FilterType.Null || r.Type == FilterType.Null) return new(Expression.Constant(Tri.Unknown), FilterType.Bool, pos);
        string suffix = type switch { FilterType.Int => "Int", FilterType.Real => "Real", FilterType.String => "Str", _ => "Bool" };
        string name = op switch { Op.Eq => "Eq", Op.Ne => "Ne", Op.Lt => "Lt", Op.Le => "Le", Op.Gt => "Gt", _ => "Ge" } + suffix;
        return new(Call(name, As(l, type), As(r, type)), FilterType.Bool, pos);
    }

    private Typed Between(BetweenNode b)
    {
        var x = Visit(b.Value);
        var lo = Visit(b.Low);
        var hi = Visit(b.High);
        var type = CommonType(x, lo, b.Pos, "'between'");
        type = CommonType(new Typed(x.Expr, type, x.Pos), hi, b.Pos, "'between'");
        if (type == FilterType.Bool) throw new FilterCompileException(b.Pos, "'between' needs numbers or strings, not conditions");
        if (type == FilterType.Null) return new(Expression.Constant(Tri.Unknown), FilterType.Bool, b.Pos);
        // x is evaluated once: x >= lo and x <= hi, with SQL's logic.
        var value = As(x, type);
        var local = Expression.Variable(value.Type, "x");
        var typedLocal = new Typed(local, type, x.Pos);
        Expression both = Call(nameof(FilterOps.And), Compare(Op.Ge, typedLocal, lo, b.Pos).Expr, Compare(Op.Le, typedLocal, hi, b.Pos).Expr);
        if (b.Negated) both = Call(nameof(FilterOps.Not), both);
        return new(Expression.Block([local], Expression.Assign(local, value), both), FilterType.Bool, b.Pos);
    }

    private Typed In(InNode i)
    {
        var x = Visit(i.Value);
        bool hasNull = false;
        FilterType itemType = FilterType.Null;
        foreach (var item in i.Items)
        {
            if (item.Type == FilterType.Null) { hasNull = true; continue; }
            var t = new Typed(Expression.Constant(null), item.Type, item.Pos);
            itemType = CommonType(new Typed(Expression.Constant(null), itemType, item.Pos), t, item.Pos, "an 'in' list");
        }
        var type = CommonType(x, new Typed(Expression.Constant(null), itemType, i.Pos), i.Pos, "'in'");
        if (type is FilterType.Bool) throw new FilterCompileException(i.Pos, "'in' needs numbers or strings, not conditions");
        if (type is FilterType.Null || x.Type == FilterType.Null) return new(Expression.Constant(Tri.Unknown), FilterType.Bool, i.Pos);
        Expression test;
        var values = i.Items.Where(it => it.Type != FilterType.Null).ToList();
        switch (type)
        {
            case FilterType.Int:
                test = Call(nameof(FilterOps.InInt), x.Expr, Expression.Constant(values.Select(v => (long)v.Value!).Distinct().Order().ToArray()), Expression.Constant(hasNull));
                break;
            case FilterType.Real:
                test = Call(nameof(FilterOps.InReal), As(x, FilterType.Real),
                    Expression.Constant(values.Select(v => v.Value is long l ? l : (double)v.Value!).Distinct().Order().ToArray()), Expression.Constant(hasNull));
                break;
            default:
                test = Call(nameof(FilterOps.InStr), x.Expr,
                    Expression.Constant(values.Select(v => (string)v.Value!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray()), Expression.Constant(hasNull));
                break;
        }
        if (i.Negated) test = Call(nameof(FilterOps.Not), test);
        return new(test, FilterType.Bool, i.Pos);
    }

    private Typed IsNull(IsNullNode n)
    {
        var x = Visit(n.Value);
        Expression test = x.Type switch
        {
            FilterType.Null => Expression.Constant(Tri.True),
            FilterType.Real => Call(nameof(FilterOps.IsNullReal), x.Expr),
            FilterType.Int => Call(nameof(FilterOps.IsNullInt), x.Expr),
            FilterType.String => Call(nameof(FilterOps.IsNullStr), x.Expr),
            _ => Call(nameof(FilterOps.IsNullBool), x.Expr),
        };
        if (n.Negated) test = Call(nameof(FilterOps.Not), test);
        return new(test, FilterType.Bool, n.Pos);
    }

    private Typed Like(LikeNode l)
    {
        var x = Visit(l.Value);
        if (x.Type is not (FilterType.String or FilterType.Null))
            throw new FilterCompileException(l.Pos, $"'like' needs a string, not {Article(x.Type)}");
        if (x.Type == FilterType.Null) return new(Expression.Constant(Tri.Unknown), FilterType.Bool, l.Pos);
        Expression test = Call(nameof(FilterOps.Like), x.Expr, Expression.Constant(new LikePattern((string)l.Pattern.Value!)));
        if (l.Negated) test = Call(nameof(FilterOps.Not), test);
        return new(test, FilterType.Bool, l.Pos);
    }

    // ---- functions ----

    private Expression AlertOf => Expression.Property(_row, nameof(AlertRow.Alert));

    private Expression LightCurveOf => Expression.Property(_row, nameof(AlertRow.LightCurve));

    private Typed Call(CallNode c)
    {
        string name = c.Name.ToLowerInvariant();
        var args = c.Args.Select(Visit).ToArray();
        var typed = CallUncached(c, name, args);
        return Memoized(c, name, typed) ?? typed;
    }

    private static readonly HashSet<string> PerAlertFunctions = new(StringComparer.Ordinal)
    {
        "ndet", "nnondet", "first_mjd", "days_since_first", "peak_mag", "last_mag", "rise_rate", "colour", "color",
        "xmatch_count", "xmatch_distance", "galactic_lat", "ecliptic_lat", "angdist",
    };

    /// <summary>
    /// A call whose value depends on the alert alone (a light-curve or sky function whose arguments are literals or
    /// the fields <c>ra</c> and <c>dec</c>) becomes a derived field: computed once per alert when the set loads its
    /// fields, and shared by every filter that makes the same call, rather than run again in each filter.
    /// </summary>
    private Typed? Memoized(CallNode c, string name, Typed typed)
    {
        if (!PerAlertFunctions.Contains(name) || typed.Type is not (FilterType.Real or FilterType.Int)) return null;
        var parts = new List<string>(c.Args.Count);
        foreach (var arg in c.Args)
        {
            switch (arg)
            {
                case LiteralNode { Type: FilterType.String } l: parts.Add("'" + ((string)l.Value!).Replace("'", "''", StringComparison.Ordinal) + "'"); break;
                case LiteralNode { Type: FilterType.Int } l: parts.Add(((long)l.Value!).ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
                case LiteralNode { Type: FilterType.Real } l: parts.Add(((double)l.Value!).ToString("R", System.Globalization.CultureInfo.InvariantCulture) + "d"); break;
                case LiteralNode { Type: FilterType.Null }: parts.Add("null"); break;
                case FieldNode { Path: "ra" or "dec" } f: parts.Add(f.Path); break;
                default: return null;
            }
        }
        string path = name + "(" + string.Join(",", parts) + ")";
        // The call's expression over the row: a derived field is loaded after the fields it reads (ra, dec), which
        // the call's arguments registered first.
        FieldReader reader;
        if (typed.Type == FilterType.Real)
        {
            var f = Expression.Lambda<Func<AlertRow, double>>(typed.Expr, _row).Compile();
            reader = FieldReader.FromRow(f);
        }
        else
        {
            var f = Expression.Lambda<Func<AlertRow, long?>>(typed.Expr, _row).Compile();
            reader = FieldReader.FromRow(f);
        }
        var def = new FieldDefinition(path, typed.Type, FieldSource.Broker, "derived: " + path, reader);
        int slot = _layout.SlotOf(def);
        _used.TryAdd(path, (def, slot));
        string array = typed.Type == FilterType.Real ? nameof(AlertRow.Reals) : nameof(AlertRow.Ints);
        return new(Expression.ArrayIndex(Expression.Field(_row, array), Expression.Constant(slot)), typed.Type, c.Pos);
    }

    private Typed CallUncached(CallNode c, string name, Typed[] args)
    {
        void Arity(int min, int max)
        {
            if (args.Length < min || args.Length > max)
            {
                string want = min == max ? $"{min}" : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
                throw new FilterCompileException(c.Pos, $"{name}() takes {want} argument{(min == 1 && max == 1 ? "" : "s")}, not {args.Length}");
            }
        }
        Expression Num(int k)
        {
            Number(args[k], $"{name}()");
            return As(args[k], FilterType.Real);
        }
        Expression Str(int k)
        {
            if (args[k].Type is not (FilterType.String or FilterType.Null))
                throw new FilterCompileException(args[k].Pos, $"{name}() needs a string here, not {Article(args[k].Type)}");
            return As(args[k], FilterType.String);
        }
        Typed Real(Expression e) => new(e, FilterType.Real, c.Pos);
        Typed Int(Expression e) => new(e, FilterType.Int, c.Pos);
        switch (name)
        {
            case "abs":
                Arity(1, 1);
                Number(args[0], "abs()");
                return args[0].Type == FilterType.Int ? Int(Call(nameof(FilterOps.AbsInt), args[0].Expr)) : Real(Call(nameof(FilterOps.AbsReal), As(args[0], FilterType.Real)));
            case "sqrt": Arity(1, 1); return Real(Call(nameof(FilterOps.Sqrt), Num(0)));
            case "log10": Arity(1, 1); return Real(Call(nameof(FilterOps.Log10), Num(0)));
            case "ln": Arity(1, 1); return Real(Call(nameof(FilterOps.Ln), Num(0)));
            case "exp": Arity(1, 1); return Real(Call(nameof(FilterOps.Exp), Num(0)));
            case "pow": Arity(2, 2); return Real(Call(nameof(FilterOps.Pow), Num(0), Num(1)));
            case "floor" or "ceil":
                Arity(1, 1);
                Number(args[0], $"{name}()");
                if (args[0].Type == FilterType.Int) return args[0] with { Pos = c.Pos };
                return Real(Call(name == "floor" ? nameof(FilterOps.Floor) : nameof(FilterOps.Ceil), As(args[0], FilterType.Real)));
            case "round":
                Arity(1, 2);
                Number(args[0], "round()");
                if (args.Length == 2)
                {
                    if (args[1].Type is not (FilterType.Int or FilterType.Null))
                        throw new FilterCompileException(args[1].Pos, $"round()'s digits must be an integer, not {Article(args[1].Type)}");
                    return Real(Call(nameof(FilterOps.RoundTo), As(args[0], FilterType.Real), As(args[1], FilterType.Int)));
                }
                if (args[0].Type == FilterType.Int) return args[0] with { Pos = c.Pos };
                return Real(Call(nameof(FilterOps.Round), As(args[0], FilterType.Real)));
            case "min" or "max":
            {
                Arity(2, int.MaxValue);
                foreach (var a in args) Number(a, $"{name}()");
                bool integer = args.All(a => a.Type != FilterType.Real);
                var type = integer ? FilterType.Int : FilterType.Real;
                string m = (name == "min" ? "Min2" : "Max2") + (integer ? "Int" : "");
                var acc = As(args[0], type);
                for (int k = 1; k < args.Length; k++) acc = Call(m, acc, As(args[k], type));
                return new(acc, type, c.Pos);
            }
            case "coalesce":
            {
                Arity(2, int.MaxValue);
                var type = FilterType.Null;
                foreach (var a in args) type = CommonType(new Typed(Expression.Constant(null), type, a.Pos), a, a.Pos, "coalesce()");
                if (type == FilterType.Null) return new(Expression.Constant(null), FilterType.Null, c.Pos);
                var acc = As(args[^1], type);
                for (int k = args.Length - 2; k >= 0; k--) acc = CoalesceOf(As(args[k], type), acc, type);
                return new(acc, type, c.Pos);
            }
            case "lower": Arity(1, 1); return new(Call(nameof(FilterOps.Lower), Str(0)), FilterType.String, c.Pos);
            case "upper": Arity(1, 1); return new(Call(nameof(FilterOps.Upper), Str(0)), FilterType.String, c.Pos);
            case "length": Arity(1, 1); return Int(Call(nameof(FilterOps.Length), Str(0)));
            case "angdist": Arity(4, 4); return Real(Call(nameof(FilterOps.AngDist), Num(0), Num(1), Num(2), Num(3)));
            case "galactic_lat": Arity(2, 2); return Real(Call(nameof(FilterOps.GalacticLat), Num(0), Num(1)));
            case "ecliptic_lat": Arity(2, 2); return Real(Call(nameof(FilterOps.EclipticLat), Num(0), Num(1)));
            case "ndet" or "nnondet" or "first_mjd" or "days_since_first" or "peak_mag":
            {
                Arity(0, 1);
                Expression band = args.Length == 1 ? Str(0) : Expression.Constant(null, typeof(string));
                var any = Expression.Constant(args.Length == 0);
                return name switch
                {
                    "ndet" => Int(Call(nameof(FilterOps.NDet), LightCurveOf, band, any)),
                    "nnondet" => Int(Call(nameof(FilterOps.NNonDet), LightCurveOf, band, any)),
                    "first_mjd" => Real(Call(nameof(FilterOps.FirstMjd), LightCurveOf, band, any)),
                    "days_since_first" => Real(Call(nameof(FilterOps.DaysSinceFirst), LightCurveOf, band, any)),
                    _ => Real(Call(nameof(FilterOps.PeakMag), LightCurveOf, band, any)),
                };
            }
            case "last_mag": Arity(1, 1); return Real(Call(nameof(FilterOps.LastMag), LightCurveOf, Str(0)));
            case "rise_rate": Arity(1, 1); return Real(Call(nameof(FilterOps.RiseRate), LightCurveOf, Str(0)));
            case "colour" or "color":
                Arity(2, 3);
                return Real(Call(nameof(FilterOps.Colour), LightCurveOf, Str(0), Str(1), args.Length == 3 ? Num(2) : Expression.Constant(1.0)));
            case "xmatch_count": Arity(1, 1); return Int(Call(nameof(FilterOps.XmatchCount), AlertOf, Str(0)));
            case "xmatch_distance": Arity(1, 1); return Real(Call(nameof(FilterOps.XmatchDistance), AlertOf, Str(0)));
            default:
                throw new FilterCompileException(c.Pos, $"unknown function '{c.Name}'");
        }
    }

    private static Expression CoalesceOf(Expression first, Expression rest, FilterType type)
    {
        switch (type)
        {
            case FilterType.Int or FilterType.String:
                return Expression.Coalesce(first, rest);
            case FilterType.Real:
            {
                var v = Expression.Variable(typeof(double), "c");
                return Expression.Block([v], Expression.Assign(v, first),
                    Expression.Condition(Expression.Call(typeof(double).GetMethod(nameof(double.IsNaN), [typeof(double)])!, v), rest, v));
            }
            default:
            {
                var v = Expression.Variable(typeof(byte), "c");
                return Expression.Block([v], Expression.Assign(v, first),
                    Expression.Condition(Expression.Equal(v, Expression.Constant(Tri.Unknown)), rest, v));
            }
        }
    }
}
