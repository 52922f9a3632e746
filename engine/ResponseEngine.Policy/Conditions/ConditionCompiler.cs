using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using NCalc;
using NCalc.Exceptions;
using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Conditions;

/// <summary>A condition parsed by NCalc once at load and compiled to a tree of typed nodes.</summary>
internal sealed class CompiledCondition(string text, Node root) : ICondition, IIndexedCondition
{
    private readonly IndexHints _hints = IndexHints.Of(root);

    public string Text { get; } = text;

    public bool Evaluate(in EvaluationContext context) => root.EvalBool(context);

    public RuleMatch Narrow(RuleMatch declared) => _hints.Narrow(declared);
}

/// <summary>
/// Compiles rule conditions. NCalc parses; this class checks every name against the fixed vocabulary and every
/// operator against the types it combines, and reports problems at their position in the YAML file.
/// </summary>
public static partial class ConditionCompiler
{
    public const int MaxLength = 4000;
    public const int MaxNesting = 32;
    public const int MaxNodes = 1000;

    private static readonly LogicalExpressionParserOptions ParserOptions = new();

    /// <summary>Compiles <paramref name="text"/>; <paramref name="locate"/> maps a character offset in it to a file position.</summary>
    public static ICondition? Compile(string text, Func<int, SourceLocation> locate, DiagnosticBag bag) => Compile(text, locate, bag, probes: null);

    /// <summary>
    /// Compiles a condition that loaded before with every atomic condition (a comparison, a call, a true/false variable)
    /// counting how often it was true and false, for `respond test --coverage`; null when it does not compile.
    /// </summary>
    internal static ICondition? CompileProbed(string text, ConditionProbes probes) =>
        Compile(text, _ => default, new DiagnosticBag(), probes);

    private static ICondition? Compile(string text, Func<int, SourceLocation> locate, DiagnosticBag bag, ConditionProbes? probes)
    {
        var errors = bag.Items.Count;
        if (string.IsNullOrWhiteSpace(text))
        {
            bag.Error(DiagnosticCodes.ExpressionSyntax, locate(0), "condition is empty", "remove 'when:' or write a condition");
            return null;
        }

        if (text.Length > MaxLength)
        {
            bag.Error(DiagnosticCodes.ExpressionTooComplex, locate(0), $"condition is {text.Length} characters long; the limit is {MaxLength}", "split the rule");
            return null;
        }

        var (depth, paren) = Parentheses(text);
        if (depth > MaxNesting)
        {
            bag.Error(DiagnosticCodes.ExpressionTooComplex, locate(0), $"condition nests parentheses {depth} deep; the limit is {MaxNesting}", "simplify it");
            return null;
        }

        if (paren is { } unbalanced)
        {
            // NCalc reports an unclosed '(' at the end of the text; the author needs the parenthesis itself.
            bag.Error(DiagnosticCodes.ExpressionSyntax, locate(unbalanced.Offset), unbalanced.Open ? "this '(' is not closed" : "this ')' closes nothing",
                unbalanced.Open ? "add the matching ')'" : "remove it or add the matching '('");
            return null;
        }

        var (rewritten, insertions) = BracketDottedNames(text);
        LogicalExpression expression;
        try
        {
            expression = LogicalExpressionParser.Parse(new LogicalExpressionParseContext(rewritten, ParserOptions, CancellationToken.None), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is NCalcParserException or NCalcException or FormatException or OverflowException or InvalidOperationException)
        {
            var offset = ParserOffset(e.Message, rewritten);
            var original = Math.Clamp(offset - insertions.Count(i => i < offset), 0, text.Length);
            bag.Error(DiagnosticCodes.ExpressionSyntax, locate(original), $"condition does not parse: {ParserMessage(e.Message)}",
                "conditions look like: identity.privileged and finding.severity >= 'high'");
            return null;
        }

        var compiler = new Compiler(text, locate, bag) { Probes = probes };
        var root = compiler.Compile(expression, 0);
        if (bag.Items.Count == errors && root is not null)
        {
            if (root.Type is not (VType.Bool or VType.Any or VType.Null))
            {
                bag.Error(DiagnosticCodes.ExpressionType, locate(0), $"condition is {Value.TypeName(root.Type)}, not true or false",
                    "compare it, e.g. identity.name == 'alice'");
                return null;
            }

            return new CompiledCondition(text, root);
        }

        return null;
    }

    /// <summary>The parsed expression of a condition that compiled, for static analysis (`respond lint`); null when it does not parse.</summary>
    internal static LogicalExpression? Parse(string text)
    {
        try
        {
            return LogicalExpressionParser.Parse(new LogicalExpressionParseContext(BracketDottedNames(text).Text, ParserOptions, CancellationToken.None), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is NCalcParserException or NCalcException or FormatException or OverflowException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// How deep parentheses nest outside quoted text, and the first ')' with nothing to close or else the innermost '('
    /// left open (null when they pair up).
    /// </summary>
    private static (int MaxDepth, (int Offset, bool Open)? Unbalanced) Parentheses(string text)
    {
        var open = new Stack<int>();
        var max = 0;
        var quote = '\0';
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
                continue;
            }

            if (c is '\'' or '"') quote = c;
            else if (c == '(')
            {
                open.Push(i);
                max = Math.Max(max, open.Count);
            }
            else if (c == ')' && !open.TryPop(out _)) return (max, (i, false));
        }

        return (max, open.Count > 0 ? (open.Peek(), true) : null);
    }

    /// <summary>NCalc 7 does not accept <c>identity.privileged</c> bare; rule authors write it anyway, so we bracket it.</summary>
    internal static (string Text, List<int> Insertions) BracketDottedNames(string text)
    {
        var builder = new StringBuilder(text.Length + 16);
        var insertions = new List<int>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c is '\'' or '"')
            {
                var end = text.IndexOf(c, i + 1);
                end = end < 0 ? text.Length : end + 1;
                builder.Append(text, i, end - i);
                i = end;
                continue;
            }

            if (c == '[')
            {
                var end = text.IndexOf(']', i + 1);
                end = end < 0 ? text.Length : end + 1;
                builder.Append(text, i, end - i);
                i = end;
                continue;
            }

            if (IsIdentifierStart(c) && (i == 0 || !IsIdentifierPart(text[i - 1])))
            {
                var end = i;
                var dotted = false;
                while (end < text.Length && (IsIdentifierPart(text[end]) || (text[end] == '.' && end + 1 < text.Length && IsIdentifierStart(text[end + 1]))))
                {
                    if (text[end] == '.') dotted = true;
                    end++;
                }

                var next = end;
                while (next < text.Length && char.IsWhiteSpace(text[next])) next++;
                var isCall = next < text.Length && text[next] == '(';
                if (dotted && !isCall)
                {
                    insertions.Add(builder.Length);
                    builder.Append('[').Append(text, i, end - i).Append(']');
                    insertions.Add(builder.Length - 1);
                }
                else
                {
                    builder.Append(text, i, end - i);
                }

                i = end;
                continue;
            }

            builder.Append(c);
            i++;
        }

        return (builder.ToString(), insertions);
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static int ParserOffset(string message, string text)
    {
        var match = PositionPattern().Match(message);
        if (!match.Success) return 0;
        var line = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var column = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        var offset = 0;
        for (var l = 1; l < line && offset < text.Length; l++)
        {
            var next = text.IndexOf('\n', offset);
            if (next < 0) break;
            offset = next + 1;
        }

        return Math.Min(text.Length, offset + Math.Max(0, column - 1));
    }

    private static string ParserMessage(string message)
    {
        var text = PositionPattern().Replace(message, "").Trim().TrimEnd('.');
        return text.Replace("Invalid token in expression", "unexpected text", StringComparison.Ordinal)
                   .Replace("at position", "", StringComparison.Ordinal).Trim();
    }

    [GeneratedRegex(@"\(?at position\)? ?\((\d+):(\d+)\)|\((\d+):(\d+)\)")]
    private static partial Regex PositionPattern();

    private sealed class Compiler(string text, Func<int, SourceLocation> locate, DiagnosticBag bag)
    {
        private int _nodes;

        public ConditionProbes? Probes { get; init; }

        public Node? Compile(LogicalExpression expression, int depth)
        {
            var node = CompileNode(expression, depth);
            var atomic = expression is not (BinaryExpression { Type: BinaryExpressionType.And or BinaryExpressionType.Or } or UnaryExpression { Type: UnaryExpressionType.Not });
            return Probes is not null && atomic && node is { Type: VType.Bool or VType.Any } and not ConstNode ? Probes.Wrap(node, ConditionProbes.Describe(expression)) : node;
        }

        private Node? CompileNode(LogicalExpression expression, int depth)
        {
            if (++_nodes > MaxNodes || depth > MaxNesting * 2)
            {
                if (_nodes == MaxNodes + 1 || depth == (MaxNesting * 2) + 1)
                    bag.Error(DiagnosticCodes.ExpressionTooComplex, locate(0), "condition is too large or too deeply nested", "split the rule");
                return null;
            }

            return expression switch
            {
                Identifier identifier => Variable(identifier.Name),
                ValueExpression value => Literal(value),
                UnaryExpression unary => Unary(unary, depth),
                BinaryExpression binary => Binary(binary, depth),
                TernaryExpression ternary => Ternary(ternary, depth),
                Function function => Call(function, depth),
                LogicalExpressionList list => Error(DiagnosticCodes.ExpressionSyntax, "(", "a list is only allowed after 'in'",
                    list.Count > 0 ? null : "write finding.type in ('a', 'b')"),
                _ => Error(DiagnosticCodes.UnsupportedOperator, "", $"unsupported expression {expression.GetType().Name}"),
            };
        }

        private Node? Variable(string name)
        {
            if (Vocabulary.Variables.TryGetValue(name, out var variable)) return new VariableNode(variable);
            if (name is "null") return new ConstNode(Value.Null, "null");
            var bySuffix = Vocabulary.Variables.Keys.FirstOrDefault(k => k.EndsWith("." + name, StringComparison.Ordinal));
            var suggestion = bySuffix ?? Suggest.Closest(name, Vocabulary.Variables.Keys);
            var hint = suggestion is not null ? $"did you mean '{suggestion}'?" : "see the variables in docs/rules.md";
            if (Vocabulary.Functions.TryGetValue(name, out var function)) hint = $"'{name}' is a function: call it as {function.Signature}";
            return Error(DiagnosticCodes.UnknownVariable, name, $"unknown variable '{name}'", hint);
        }

        private Node? Literal(ValueExpression value) => value.Type switch
        {
            NCalc.ValueType.String => new ConstNode(Value.Of((string)value.Value!), Quote((string)value.Value!)),
            NCalc.ValueType.Boolean => new ConstNode(Value.Of((bool)value.Value!), (bool)value.Value! ? "true" : "false"),
            NCalc.ValueType.Integer or NCalc.ValueType.Float =>
                new ConstNode(Value.Of(Convert.ToDouble(value.Value, CultureInfo.InvariantCulture)), Convert.ToString(value.Value, CultureInfo.InvariantCulture)!),
            _ => Error(DiagnosticCodes.ExpressionType, "", $"{value.Type.ToString().ToLowerInvariant()} literals are not supported", "use strings, numbers, true or false"),
        };

        private Node? Unary(UnaryExpression unary, int depth)
        {
            var operand = Compile(unary.Expression, depth + 1);
            if (operand is null) return null;
            switch (unary.Type)
            {
                case UnaryExpressionType.Not:
                    return RequireBool(operand, "not") ? new NotNode(operand, "not") : null;
                case UnaryExpressionType.Negate:
                    return RequireType(operand, VType.Number, "-") ? new NegateNode(operand, operand.Anchor) : null;
                case UnaryExpressionType.Positive:
                    return RequireType(operand, VType.Number, "+") ? operand : null;
                default:
                    return Error(DiagnosticCodes.UnsupportedOperator, operand.Anchor, $"operator {unary.Type} is not part of the rule language");
            }
        }

        private Node? Binary(BinaryExpression binary, int depth)
        {
            if (binary.Type is BinaryExpressionType.In or BinaryExpressionType.NotIn)
            {
                return In(binary, depth);
            }

            var left = Compile(binary.LeftExpression, depth + 1);
            var right = Compile(binary.RightExpression, depth + 1);
            if (left is null || right is null) return null;
            switch (binary.Type)
            {
                case BinaryExpressionType.And:
                    return RequireBool(left, "and") & RequireBool(right, "and") ? new AndNode(left, right) : null;
                case BinaryExpressionType.Or:
                    return RequireBool(left, "or") & RequireBool(right, "or") ? new OrNode(left, right) : null;
                case BinaryExpressionType.Equal: return Comparison(CompareOp.Equal, left, right);
                case BinaryExpressionType.NotEqual: return Comparison(CompareOp.NotEqual, left, right);
                case BinaryExpressionType.Lesser: return Comparison(CompareOp.Less, left, right);
                case BinaryExpressionType.LesserOrEqual: return Comparison(CompareOp.LessOrEqual, left, right);
                case BinaryExpressionType.Greater: return Comparison(CompareOp.Greater, left, right);
                case BinaryExpressionType.GreaterOrEqual: return Comparison(CompareOp.GreaterOrEqual, left, right);
                case BinaryExpressionType.Plus: return Arithmetic(ArithmeticOp.Plus, left, right, "+");
                case BinaryExpressionType.Minus: return Arithmetic(ArithmeticOp.Minus, left, right, "-");
                case BinaryExpressionType.Times: return Arithmetic(ArithmeticOp.Times, left, right, "*");
                case BinaryExpressionType.Div: return Arithmetic(ArithmeticOp.Divide, left, right, "/");
                case BinaryExpressionType.Modulo: return Arithmetic(ArithmeticOp.Modulo, left, right, "%");
                case BinaryExpressionType.Like or BinaryExpressionType.NotLike:
                    return Error(DiagnosticCodes.UnsupportedOperator, "like", "operator 'like' is not part of the rule language",
                        "use starts_with(), ends_with(), contains() or matches()");
                default:
                    return Error(DiagnosticCodes.UnsupportedOperator, left.Anchor, $"operator {binary.Type} is not part of the rule language",
                        "use and, or, not, ==, !=, <, <=, >, >=, in, not in, + - * / %");
            }
        }

        private Node? Comparison(CompareOp op, Node? left, Node? right)
        {
            if (left is null || right is null) return null;

            // A severity compared with a constant string: check the string now, so 'hgh' is a load error.
            if (left.Type == VType.Severity && right is ConstNode { Type: VType.String } constant) right = SeverityConstant(constant);
            else if (right.Type == VType.Severity && left is ConstNode { Type: VType.String } leftConstant) left = SeverityConstant(leftConstant);
            if (left is null || right is null) return null;

            var (a, b) = (left.Type, right.Type);
            var compatible = a == b || a is VType.Any or VType.Null || b is VType.Any or VType.Null
                || (a == VType.Severity && b == VType.String) || (a == VType.String && b == VType.Severity);
            if (!compatible)
            {
                return Error(DiagnosticCodes.ExpressionType, left.Anchor,
                    $"cannot compare {Value.TypeName(a)} ('{left.Anchor}') with {Value.TypeName(b)} ('{right.Anchor}')",
                    a == VType.List || b == VType.List ? "test list membership with 'x' in identity.groups or member_of('x')" : "compare values of the same type");
            }

            if (op is not (CompareOp.Equal or CompareOp.NotEqual) && (a is VType.Bool or VType.List || b is VType.Bool or VType.List))
            {
                return Error(DiagnosticCodes.ExpressionType, left.Anchor, $"{Value.TypeName(a == VType.Any ? b : a)} has no order", "use == or !=");
            }

            return new CompareNode(op, left, right);
        }

        private ConstNode? SeverityConstant(ConstNode constant)
        {
            var name = constant.Value.Text.ToLowerInvariant();
            if (Severities.TryParse(name, out var severity)) return new ConstNode(Value.Of(severity), constant.Anchor);
            Error(DiagnosticCodes.ExpressionType, constant.Anchor, $"{constant.Anchor} is not a severity", Suggest.DidYouMean(constant.Value.Text, [.. Severities.Names]));
            return null;
        }

        private Node? Arithmetic(ArithmeticOp op, Node left, Node right, string symbol) =>
            RequireType(left, VType.Number, symbol) & RequireType(right, VType.Number, symbol) ? new ArithmeticNode(op, left, right) : null;

        private Node? In(BinaryExpression binary, int depth)
        {
            var negate = binary.Type == BinaryExpressionType.NotIn;
            var item = Compile(binary.LeftExpression, depth + 1);
            IEnumerable<LogicalExpression> memberExpressions = binary.RightExpression is LogicalExpressionList list ? list : [binary.RightExpression];
            var members = new List<Node>();
            foreach (var memberExpression in memberExpressions)
            {
                var member = Compile(memberExpression, depth + 1);
                if (member is not null) members.Add(member);
            }

            if (item is null || members.Count != memberExpressions.Count()) return null;
            if (item.Type is VType.List or VType.Bool)
            {
                return Error(DiagnosticCodes.ExpressionType, item.Anchor, $"'{item.Anchor}' is {Value.TypeName(item.Type)} and cannot be looked up with 'in'",
                    item.Type == VType.List ? "reverse it: 'Domain Admins' in identity.groups, or use member_of()" : null);
            }

            if (members.All(m => m is ConstNode { Type: VType.String or VType.Number }))
            {
                var constants = members.Cast<ConstNode>().ToList();
                if (item.Type == VType.Severity)
                {
                    foreach (var constant in constants.Where(c => c.Type == VType.String && !Severities.TryParse(c.Value.Text.ToLowerInvariant(), out _)))
                    {
                        Error(DiagnosticCodes.ExpressionType, constant.Anchor, $"{constant.Anchor} is not a severity", Suggest.DidYouMean(constant.Value.Text, [.. Severities.Names]));
                    }
                }

                if (item.Type is VType.String or VType.Number or VType.Severity && constants.Any(c => c.Type != (item.Type == VType.Severity ? VType.String : item.Type)))
                {
                    return Error(DiagnosticCodes.ExpressionType, item.Anchor, $"the list after 'in' mixes types with {Value.TypeName(item.Type)} '{item.Anchor}'");
                }

                var strings = constants.Where(c => c.Type == VType.String).Select(c => c.Value.Text.ToLowerInvariant() is var s && item.Type == VType.Severity ? s : c.Value.Text)
                    .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
                var numbers = constants.Where(c => c.Type == VType.Number).Select(c => c.Value.Number).ToFrozenSet();
                return new InSetNode(item, strings, numbers, negate);
            }

            return new InListNode(item, [.. members], negate);
        }

        private Node? Ternary(TernaryExpression ternary, int depth)
        {
            var condition = Compile(ternary.LeftExpression, depth + 1);
            var whenTrue = Compile(ternary.MiddleExpression, depth + 1);
            var whenFalse = Compile(ternary.RightExpression, depth + 1);
            if (condition is null || whenTrue is null || whenFalse is null) return null;
            return RequireBool(condition, "?") ? new TernaryNode(condition, whenTrue, whenFalse) : null;
        }

        private Node? Call(Function function, int depth)
        {
            var name = function.Identifier.Name;
            if (!Vocabulary.Functions.TryGetValue(name, out var info))
            {
                return Error(DiagnosticCodes.UnknownFunction, name, $"unknown function '{name}'", Suggest.DidYouMean(name, [.. Vocabulary.Functions.Keys]));
            }

            var args = new List<Node>();
            foreach (var parameter in function.Parameters)
            {
                var arg = Compile(parameter, depth + 1);
                if (arg is null) return null;
                args.Add(arg);
            }

            bool Arity(int min, int max)
            {
                if (args.Count >= min && args.Count <= max) return true;
                Error(DiagnosticCodes.UnknownFunction, name, $"'{name}' takes {(min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min} or {max}")} argument{(max == 1 ? "" : "s")}, got {args.Count}",
                    $"call it as {info.Signature}");
                return false;
            }

            switch (name)
            {
                case "member_of":
                    return Arity(1, 1) && RequireType(args[0], VType.String, name) ? IdentityTest(static (c, g) => c.Identity.IsMemberOf(g), args[0], name) : null;
                case "has_role":
                    return Arity(1, 1) && RequireType(args[0], VType.String, name) ? IdentityTest(static (c, r) => c.Identity.HasRole(r), args[0], name) : null;
                case "has_tag":
                    return Arity(1, 1) && RequireType(args[0], VType.String, name)
                        ? IdentityTest(static (c, t) => c.Identity.Tags.Contains(t, StringComparer.OrdinalIgnoreCase), args[0], name)
                        : null;
                case "attr":
                    if (!Arity(1, 2)) return null;
                    return ConstantString(args[0], name) is { } key ? new AttrNode(key, args.Count == 2 ? args[1] : null, name) : null;
                case "has_attr":
                    return Arity(1, 1) && ConstantString(args[0], name) is { } present ? new HasAttrNode(present, name) : null;
                case "contains":
                    return Arity(2, 2) && RequireType(args[1], VType.String, name) ? new TextTestNode(TextOp.Contains, args[0], args[1], name) : null;
                case "starts_with":
                    return Arity(2, 2) && RequireType(args[0], VType.String, name) & RequireType(args[1], VType.String, name) ? new TextTestNode(TextOp.StartsWith, args[0], args[1], name) : null;
                case "ends_with":
                    return Arity(2, 2) && RequireType(args[0], VType.String, name) & RequireType(args[1], VType.String, name) ? new TextTestNode(TextOp.EndsWith, args[0], args[1], name) : null;
                case "matches":
                    if (!Arity(2, 2) || !RequireType(args[0], VType.String, name)) return null;
                    if (ConstantString(args[1], name) is not { } pattern) return null;
                    try
                    {
                        return new MatchesNode(args[0], new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)), name);
                    }
                    catch (ArgumentException e)
                    {
                        return Error(DiagnosticCodes.UnknownFunction, name, $"invalid regular expression for 'matches': {e.Message}");
                    }

                case "lower":
                    return Arity(1, 1) && RequireType(args[0], VType.String, name) ? new LowerNode(args[0], name) : null;
                case "count":
                    return Arity(1, 1) && RequireType(args[0], VType.List, name) ? new CountNode(args[0], name) : null;
                default:
                    return Error(DiagnosticCodes.UnknownFunction, name, $"function '{name}' is not implemented");
            }
        }

        private static Node IdentityTest(Func<EvaluationContext, string, bool> test, Node argument, string name) =>
            argument is ConstNode { Type: VType.String } constant
                ? new IdentityTestNode(test, constant.Value.Text, name)
                : new IdentityDynamicTestNode(test, argument, name);

        private string? ConstantString(Node node, string function)
        {
            if (node is ConstNode { Type: VType.String } constant) return constant.Value.Text;
            Error(DiagnosticCodes.UnknownFunction, function, $"'{function}' needs a quoted constant here, e.g. {function}('reason')");
            return null;
        }

        private bool RequireBool(Node node, string context)
        {
            if (node.Type is VType.Bool or VType.Any or VType.Null) return true;
            Error(DiagnosticCodes.ExpressionType, node.Anchor, $"'{node.Anchor}' is {Value.TypeName(node.Type)}, but '{context}' needs true or false",
                node.Type == VType.String ? $"compare it, e.g. {node.Anchor} == '...'" : null);
            return false;
        }

        private bool RequireType(Node node, VType type, string context)
        {
            if (node.Type == type || node.Type is VType.Any or VType.Null) return true;
            Error(DiagnosticCodes.ExpressionType, node.Anchor, $"'{node.Anchor}' is {Value.TypeName(node.Type)}, but '{context}' needs {Value.TypeName(type)}");
            return false;
        }

        private Node? Error(string code, string anchor, string message, string? hint = null)
        {
            bag.Error(code, locate(FindAnchor(anchor)), message, hint);
            return null;
        }

        private int FindAnchor(string anchor)
        {
            if (anchor.Length == 0) return 0;
            var candidates = anchor.StartsWith('\'') ? new[] { anchor, "\"" + anchor[1..^1] + "\"" } : [anchor];
            foreach (var candidate in candidates)
            {
                var start = 0;
                while (true)
                {
                    var index = text.IndexOf(candidate, start, StringComparison.Ordinal);
                    if (index < 0) break;
                    var before = index == 0 || !IsIdentifierPart(text[index - 1]) && text[index - 1] != '.';
                    var afterIndex = index + candidate.Length;
                    var after = afterIndex >= text.Length || !IsIdentifierPart(text[afterIndex]);
                    if (before && after || !IsIdentifierPart(candidate[0])) return index;
                    start = index + 1;
                }
            }

            return 0;
        }

        private static string Quote(string value) => "'" + value + "'";
    }
}
