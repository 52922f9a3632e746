using System.Globalization;
using NCalc;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Conditions;

/// <summary>How often one atomic condition of a rule was true and false while its inline tests ran.</summary>
public sealed record ConditionOutcome(string Text, int WhenTrue, int WhenFalse)
{
    /// <summary>Both outcomes seen: some test makes it true and some makes it false.</summary>
    public bool Covered => WhenTrue > 0 && WhenFalse > 0;
}

/// <summary>
/// The counters of one probed condition: each atomic condition records its outcomes as tests evaluate it, so the
/// coverage report can say which ones no test ever made true or false (a short-circuited one counts as neither).
/// </summary>
internal sealed class ConditionProbes
{
    private readonly List<Probe> _probes = [];

    public IReadOnlyList<ConditionOutcome> Outcomes => [.. _probes.Select(p => new ConditionOutcome(p.Text, p.True, p.False))];

    public Node Wrap(Node node, string text)
    {
        var probe = new Probe(text);
        _probes.Add(probe);
        return new ProbeNode(node, probe);
    }

    /// <summary>The expression in the rule language's own words (names, quoted strings, and, or, not, ==, in), to name it in the report.</summary>
    public static string Describe(LogicalExpression expression) => Render(expression, nested: false);

    private static string Render(LogicalExpression expression, bool nested) => expression switch
    {
        Identifier identifier => identifier.Name,
        ValueExpression { Type: NCalc.ValueType.String } value => "'" + (string)value.Value! + "'",
        ValueExpression { Type: NCalc.ValueType.Boolean } value => (bool)value.Value! ? "true" : "false",
        ValueExpression value => Convert.ToString(value.Value, CultureInfo.InvariantCulture) ?? "null",
        UnaryExpression { Type: UnaryExpressionType.Not } unary => "not " + Render(unary.Expression, nested: true),
        UnaryExpression { Type: UnaryExpressionType.Negate } unary => "-" + Render(unary.Expression, nested: true),
        UnaryExpression unary => Render(unary.Expression, nested),
        BinaryExpression binary => Group($"{Render(binary.LeftExpression, true)} {Operator(binary.Type)} {Render(binary.RightExpression, true)}", nested),
        Function function => $"{function.Identifier.Name}({string.Join(", ", function.Parameters.Select(p => Render(p, false)))})",
        LogicalExpressionList list => "(" + string.Join(", ", list.Select(p => Render(p, false))) + ")",
        TernaryExpression ternary => Group($"{Render(ternary.LeftExpression, true)} ? {Render(ternary.MiddleExpression, true)} : {Render(ternary.RightExpression, true)}", nested),
        _ => expression.GetType().Name,
    };

    private static string Group(string text, bool nested) => nested ? $"({text})" : text;

    private static string Operator(BinaryExpressionType type) => type switch
    {
        BinaryExpressionType.And => "and",
        BinaryExpressionType.Or => "or",
        BinaryExpressionType.Equal => "==",
        BinaryExpressionType.NotEqual => "!=",
        BinaryExpressionType.Lesser => "<",
        BinaryExpressionType.LesserOrEqual => "<=",
        BinaryExpressionType.Greater => ">",
        BinaryExpressionType.GreaterOrEqual => ">=",
        BinaryExpressionType.Plus => "+",
        BinaryExpressionType.Minus => "-",
        BinaryExpressionType.Times => "*",
        BinaryExpressionType.Div => "/",
        BinaryExpressionType.Modulo => "%",
        BinaryExpressionType.In => "in",
        BinaryExpressionType.NotIn => "not in",
        _ => type.ToString(),
    };

    private sealed class Probe(string text)
    {
        public string Text { get; } = text;

        public int True { get; set; }

        public int False { get; set; }
    }

    private sealed class ProbeNode(Node inner, Probe probe) : Node(inner.Type, inner.Anchor)
    {
        public override Value Eval(in EvaluationContext context)
        {
            var value = inner.Eval(context);
            if (value.Type == VType.Bool) Record(value.AsBool(Anchor));
            return value;
        }

        public override bool EvalBool(in EvaluationContext context) => Record(inner.EvalBool(context));

        private bool Record(bool outcome)
        {
            if (outcome) probe.True++;
            else probe.False++;
            return outcome;
        }
    }
}
