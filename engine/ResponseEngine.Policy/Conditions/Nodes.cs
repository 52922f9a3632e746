using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Conditions;

/// <summary>A compiled expression node: type-checked at load, evaluated without allocation.</summary>
internal abstract class Node
{
    protected Node(VType type, string anchor)
    {
        Type = type;
        Anchor = anchor;
    }

    public VType Type { get; }

    /// <summary>Source text of the node's first token, used to position diagnostics.</summary>
    public string Anchor { get; }

    public abstract Value Eval(in EvaluationContext context);

    public virtual bool EvalBool(in EvaluationContext context) => Eval(context).AsBool(Anchor);
}

internal sealed class ConstNode(Value value, string anchor) : Node(value.Type, anchor)
{
    public Value Value { get; } = value;

    public override Value Eval(in EvaluationContext context) => Value;
}

internal sealed class VariableNode(VariableInfo variable) : Node(variable.Type, variable.Name)
{
    public string Name => variable.Name;

    public override Value Eval(in EvaluationContext context) => variable.Get(context);
}

internal sealed class AndNode(Node left, Node right) : Node(VType.Bool, left.Anchor)
{
    public Node Left => left;

    public Node Right => right;

    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context) => left.EvalBool(context) && right.EvalBool(context);
}

internal sealed class OrNode(Node left, Node right) : Node(VType.Bool, left.Anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context) => left.EvalBool(context) || right.EvalBool(context);
}

internal sealed class NotNode(Node operand, string anchor) : Node(VType.Bool, anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context) => !operand.EvalBool(context);
}

internal enum CompareOp
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>Comparison with the rule language's semantics: strings ignore case, severities are ordered, missing values never match.</summary>
internal sealed class CompareNode(CompareOp op, Node left, Node right) : Node(VType.Bool, left.Anchor)
{
    public CompareOp Op => op;

    public Node Left => left;

    public Node Right => right;

    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context) => Compare(op, left.Eval(context), right.Eval(context), Anchor);

    public static bool Compare(CompareOp op, Value a, Value b, string anchor)
    {
        if (a.Type == VType.Null || b.Type == VType.Null)
        {
            var bothNull = a.Type == b.Type;
            return op switch
            {
                CompareOp.Equal => bothNull,
                CompareOp.NotEqual => !bothNull,
                _ => false,
            };
        }

        int order;
        if (a.Type == VType.Severity && b.Type == VType.String) b = SeverityOf(b, anchor);
        else if (b.Type == VType.Severity && a.Type == VType.String) a = SeverityOf(a, anchor);

        if (a.Type != b.Type)
        {
            throw new ConditionException($"cannot compare {a.Describe()} with {b.Describe()} (near '{anchor}')");
        }

        switch (a.Type)
        {
            case VType.String:
                order = string.Compare(a.Text, b.Text, StringComparison.OrdinalIgnoreCase);
                break;
            case VType.Number:
            case VType.Severity:
            case VType.Bool:
                order = a.Number.CompareTo(b.Number);
                break;
            default:
                throw new ConditionException($"cannot compare {a.Describe()} (near '{anchor}')");
        }

        return op switch
        {
            CompareOp.Equal => order == 0,
            CompareOp.NotEqual => order != 0,
            CompareOp.Less => order < 0,
            CompareOp.LessOrEqual => order <= 0,
            CompareOp.Greater => order > 0,
            _ => order >= 0,
        };
    }

    private static Value SeverityOf(Value text, string anchor) =>
        Findings.Severities.TryParse(text.Text.ToLowerInvariant(), out var severity)
            ? Value.Of(severity)
            : throw new ConditionException($"'{text.Text}' is not a severity (near '{anchor}')");
}

/// <summary><c>x in ('a', 'b')</c> against constants, precomputed into a set.</summary>
internal sealed class InSetNode(Node item, FrozenSet<string> strings, FrozenSet<double> numbers, bool negate) : Node(VType.Bool, item.Anchor)
{
    public Node Item => item;

    /// <summary>The constant strings, compared ignoring case (severity names in lower case).</summary>
    public FrozenSet<string> Strings => strings;

    public bool Negate => negate;

    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context)
    {
        var value = item.Eval(context);
        var found = value.Type switch
        {
            VType.String => strings.Contains(value.Text),
            VType.Severity => strings.Contains((string)value.Reference!),
            VType.Number => numbers.Contains(value.Number),
            VType.Null => false,
            _ => throw new ConditionException($"'{Anchor}' is {value.Describe()}, which cannot be looked up in a list"),
        };
        return found != negate;
    }
}

/// <summary><c>x in (a, b)</c> with computed members, or <c>'Domain Admins' in identity.groups</c>.</summary>
internal sealed class InListNode(Node item, Node[] members, bool negate) : Node(VType.Bool, item.Anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context)
    {
        var value = item.Eval(context);
        foreach (var member in members)
        {
            var candidate = member.Eval(context);
            if (candidate.Type == VType.List)
            {
                if (value.Type == VType.String && ListContains(candidate, value.Text)) return !negate;
                continue;
            }

            if (CompareNode.Compare(CompareOp.Equal, value, candidate, Anchor)) return !negate;
        }

        return negate;
    }

    public static bool ListContains(Value list, string text)
    {
        if (list.Reference is FrozenSet<string> set && set.Comparer.Equals(StringComparer.OrdinalIgnoreCase)) return set.Contains(text);
        foreach (var item in list.Items)
        {
            if (string.Equals(item, text, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }
}

internal enum ArithmeticOp
{
    Plus,
    Minus,
    Times,
    Divide,
    Modulo,
}

internal sealed class ArithmeticNode(ArithmeticOp op, Node left, Node right) : Node(VType.Number, left.Anchor)
{
    public override Value Eval(in EvaluationContext context)
    {
        var a = Number(left.Eval(context));
        var b = Number(right.Eval(context));
        return Value.Of(op switch
        {
            ArithmeticOp.Plus => a + b,
            ArithmeticOp.Minus => a - b,
            ArithmeticOp.Times => a * b,
            ArithmeticOp.Divide => b == 0 ? throw new ConditionException($"division by zero (near '{Anchor}')") : a / b,
            _ => b == 0 ? throw new ConditionException($"division by zero (near '{Anchor}')") : a % b,
        });
    }

    private double Number(Value value) => value.Type == VType.Number
        ? value.Number
        : throw new ConditionException($"arithmetic on {value.Describe()} (near '{Anchor}')");
}

internal sealed class NegateNode(Node operand, string anchor) : Node(VType.Number, anchor)
{
    public override Value Eval(in EvaluationContext context)
    {
        var value = operand.Eval(context);
        return value.Type == VType.Number ? Value.Of(-value.Number) : throw new ConditionException($"cannot negate {value.Describe()} (near '{Anchor}')");
    }
}

internal sealed class TernaryNode(Node condition, Node whenTrue, Node whenFalse) : Node(whenTrue.Type == whenFalse.Type ? whenTrue.Type : VType.Any, condition.Anchor)
{
    public override Value Eval(in EvaluationContext context) => condition.EvalBool(context) ? whenTrue.Eval(context) : whenFalse.Eval(context);
}

/// <summary>A function over the identity with a constant name argument: member_of, has_role, has_tag.</summary>
internal sealed class IdentityTestNode(Func<EvaluationContext, string, bool> test, string argument, string anchor) : Node(VType.Bool, anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context) => test(context, argument);
}

/// <summary>A function over the identity whose argument is computed.</summary>
internal sealed class IdentityDynamicTestNode(Func<EvaluationContext, string, bool> test, Node argument, string anchor) : Node(VType.Bool, anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context)
    {
        var value = argument.Eval(context);
        return value.Type switch
        {
            VType.String => test(context, value.Text),
            VType.Null => false,
            _ => throw new ConditionException($"'{Anchor}' needs a string, got {value.Describe()}"),
        };
    }
}

internal sealed class AttrNode(string key, Node? fallback, string anchor) : Node(fallback?.Type ?? VType.Any, anchor)
{
    public override Value Eval(in EvaluationContext context)
    {
        if (context.Finding.Attributes.TryGetValue(key, out var element) && element.ValueKind != JsonValueKind.Null)
        {
            return Value.FromJson(element);
        }

        return fallback?.Eval(context) ?? Value.Null;
    }
}

internal sealed class HasAttrNode(string key, string anchor) : Node(VType.Bool, anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context) => context.Finding.Attributes.ContainsKey(key);
}

internal enum TextOp
{
    Contains,
    StartsWith,
    EndsWith,
}

internal sealed class TextTestNode(TextOp op, Node subject, Node argument, string anchor) : Node(VType.Bool, anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context)
    {
        var text = subject.Eval(context);
        var part = argument.Eval(context);
        if (text.Type == VType.Null || part.Type == VType.Null) return false;
        if (part.Type != VType.String) throw new ConditionException($"'{Anchor}' needs a string to look for, got {part.Describe()}");
        if (op == TextOp.Contains && text.Type == VType.List) return InListNode.ListContains(text, part.Text);
        if (text.Type != VType.String) throw new ConditionException($"'{Anchor}' needs a string or list, got {text.Describe()}");
        return op switch
        {
            TextOp.Contains => text.Text.Contains(part.Text, StringComparison.OrdinalIgnoreCase),
            TextOp.StartsWith => text.Text.StartsWith(part.Text, StringComparison.OrdinalIgnoreCase),
            _ => text.Text.EndsWith(part.Text, StringComparison.OrdinalIgnoreCase),
        };
    }
}

internal sealed class MatchesNode(Node subject, Regex regex, string anchor) : Node(VType.Bool, anchor)
{
    public override Value Eval(in EvaluationContext context) => Value.Of(EvalBool(context));

    public override bool EvalBool(in EvaluationContext context)
    {
        var text = subject.Eval(context);
        if (text.Type == VType.Null) return false;
        if (text.Type != VType.String) throw new ConditionException($"'{Anchor}' needs a string, got {text.Describe()}");
        try
        {
            return regex.IsMatch(text.Text);
        }
        catch (RegexMatchTimeoutException)
        {
            throw new ConditionException($"regular expression in '{Anchor}' took longer than {regex.MatchTimeout.TotalMilliseconds} ms");
        }
    }
}

internal sealed class LowerNode(Node subject, string anchor) : Node(VType.String, anchor)
{
    public override Value Eval(in EvaluationContext context)
    {
        var text = subject.Eval(context);
        return text.Type switch
        {
            VType.String => Value.Of(text.Text.ToLowerInvariant()),
            VType.Null => Value.Null,
            _ => throw new ConditionException($"'{Anchor}' needs a string, got {text.Describe()}"),
        };
    }
}

internal sealed class CountNode(Node subject, string anchor) : Node(VType.Number, anchor)
{
    public override Value Eval(in EvaluationContext context)
    {
        var list = subject.Eval(context);
        return list.Type switch
        {
            VType.List => Value.Of(list.Reference is IReadOnlyCollection<string> c ? c.Count : list.Items.Count()),
            VType.Null => Value.Of(0d),
            _ => throw new ConditionException($"'{Anchor}' needs a list, got {list.Describe()}"),
        };
    }
}
