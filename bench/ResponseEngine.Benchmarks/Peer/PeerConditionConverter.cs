using System.Globalization;
using System.Text.Json.Nodes;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Benchmarks.Peer;

/// <summary>
/// Converts a loaded rule (its match block and the text of its <c>when:</c>) into json-logic-js and json-rules-engine
/// form, for the subset of the condition language both peers can express: <c>and</c>/<c>or</c>/<c>not</c>, the boolean
/// identity variables, <c>member_of</c>/<c>has_role</c>/<c>has_tag</c> with a constant, <c>attr('k')</c> and
/// <c>finding.severity</c>/<c>finding.type</c>/<c>finding.age_hours</c> compared with a constant or tested against a
/// constant list. Anything else throws <see cref="NotSupportedException"/> and the rule is left out of the comparison
/// for every engine.
/// </summary>
/// <remarks>
/// The peers read flat facts (see <see cref="PeerExport"/>): <c>type</c>, <c>provider</c>, <c>severity</c> (1–4),
/// <c>age_hours</c>, <c>resolved</c>, <c>privileged</c>, <c>enabled</c>, <c>guest</c>, <c>groups</c> (nesting
/// included), <c>roles</c>, <c>tags</c> and <c>attr_KEY</c> for each finding attribute. Every converted rule starts with
/// the match block (type, provider, minimum severity) and <c>resolved</c>, because ResponseEngine evaluates nothing for
/// a subject it cannot resolve (fail closed).
/// </remarks>
public static class PeerConditionConverter
{
    /// <summary>The json-logic-js rule: one expression that is truthy when the rule picks the finding.</summary>
    public static JsonNode ToJsonLogic(Rule rule)
    {
        var all = new JsonArray
        {
            Op("in", Var("type"), Strings(rule.Match.Types)),
            Op("in", Var("provider"), Strings(rule.Match.Providers.Select(p => p.Name()))),
            Op(">=", Var("severity"), (int)rule.Match.MinSeverity),
            Var("resolved"),
        };
        if (rule.When is not null) all.Add(JsonLogic(Parse(rule.When.Text)));
        return new JsonObject { ["and"] = all };
    }

    /// <summary>The json-rules-engine rule: <c>conditions</c> plus an event that carries the rule's index.</summary>
    public static JsonNode ToJsonRulesEngine(Rule rule, int index)
    {
        var all = new JsonArray
        {
            Fact("type", "in", Strings(rule.Match.Types)),
            Fact("provider", "in", Strings(rule.Match.Providers.Select(p => p.Name()))),
            Fact("severity", "greaterThanInclusive", (int)rule.Match.MinSeverity),
            Fact("resolved", "equal", true),
        };
        if (rule.When is not null) all.Add(RulesEngine(Parse(rule.When.Text)));
        return new JsonObject
        {
            ["name"] = rule.Id,
            ["conditions"] = new JsonObject { ["all"] = all },
            ["event"] = new JsonObject { ["type"] = "match", ["params"] = new JsonObject { ["rule"] = index } },
        };
    }

    // ------------------------------------------------------------------ syntax tree of the supported subset

    internal abstract record Expr;

    internal sealed record AndExpr(Expr Left, Expr Right) : Expr;

    internal sealed record OrExpr(Expr Left, Expr Right) : Expr;

    internal sealed record NotExpr(Expr Operand) : Expr;

    /// <summary>A boolean fact (identity.privileged, ...).</summary>
    internal sealed record FlagExpr(string Fact) : Expr;

    /// <summary>member_of / has_role / has_tag: a list fact contains a constant.</summary>
    internal sealed record ContainsExpr(string ListFact, string Item) : Expr;

    internal sealed record CompareExpr(string Fact, string Op, JsonValue Constant) : Expr;

    internal sealed record InExpr(string Fact, JsonValue[] Constants) : Expr;

    internal static Expr Parse(string text)
    {
        var parser = new Parser(text);
        var expr = parser.Or();
        parser.End();
        return expr;
    }

    private sealed class Parser(string text)
    {
        private int _at;

        public void End()
        {
            Skip();
            if (_at != text.Length) throw Unsupported($"unexpected '{text[_at..]}'");
        }

        public Expr Or()
        {
            var left = And();
            while (Keyword("or")) left = new OrExpr(left, And());
            return left;
        }

        private Expr And()
        {
            var left = Unary();
            while (Keyword("and")) left = new AndExpr(left, Unary());
            return left;
        }

        private Expr Unary()
        {
            if (Keyword("not")) return new NotExpr(Unary());
            Skip();
            if (Symbol("("))
            {
                var inner = Or();
                Expect(")");
                return inner;
            }

            var name = Identifier();
            if (Symbol("("))
            {
                var argument = StringLiteral();
                Expect(")");
                return name switch
                {
                    "member_of" => new ContainsExpr("groups", argument),
                    "has_role" => new ContainsExpr("roles", argument),
                    "has_tag" => new ContainsExpr("tags", argument),
                    "attr" => Comparison("attr_" + argument, isSeverity: false),
                    _ => throw Unsupported($"function {name}()"),
                };
            }

            return name switch
            {
                "identity.privileged" or "identity.enabled" or "identity.guest" => new FlagExpr(name["identity.".Length..]),
                "finding.severity" => Comparison("severity", isSeverity: true),
                "finding.type" => Comparison("type", isSeverity: false),
                "finding.age_hours" => Comparison("age_hours", isSeverity: false),
                _ => throw Unsupported($"variable {name}"),
            };
        }

        private Expr Comparison(string fact, bool isSeverity)
        {
            Skip();
            if (Keyword("in"))
            {
                Expect("(");
                var items = new List<JsonValue> { Constant(isSeverity) };
                while (Symbol(",")) items.Add(Constant(isSeverity));
                Expect(")");
                return new InExpr(fact, [.. items]);
            }

            foreach (var op in (string[])[">=", "<=", "==", "!=", ">", "<"])
            {
                if (Symbol(op)) return new CompareExpr(fact, op, Constant(isSeverity));
            }

            throw Unsupported($"'{fact}' used other than in a comparison with a constant");
        }

        private JsonValue Constant(bool isSeverity)
        {
            Skip();
            if (_at < text.Length && text[_at] == '\'')
            {
                var literal = StringLiteral();
                if (!isSeverity) return JsonValue.Create(literal);
                return Severities.TryParse(literal, out var severity) ? JsonValue.Create((int)severity) : throw Unsupported($"severity '{literal}'");
            }

            var start = _at;
            while (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] is '.' or '-')) _at++;
            if (start == _at) throw Unsupported($"a constant expected at '{text[start..]}'");
            return JsonValue.Create(double.Parse(text.AsSpan(start, _at - start), CultureInfo.InvariantCulture));
        }

        private string StringLiteral()
        {
            Skip();
            Expect("'");
            var end = text.IndexOf('\'', _at);
            if (end < 0) throw Unsupported("unterminated string");
            var value = text[_at..end];
            _at = end + 1;
            return value;
        }

        private string Identifier()
        {
            Skip();
            var start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] is '_' or '.')) _at++;
            if (start == _at) throw Unsupported($"a name expected at '{text[start..]}'");
            return text[start.._at];
        }

        private bool Keyword(string word)
        {
            Skip();
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) != 0) return false;
            var after = _at + word.Length;
            if (after < text.Length && (char.IsAsciiLetterOrDigit(text[after]) || text[after] == '_')) return false;
            _at = after;
            return true;
        }

        private bool Symbol(string symbol)
        {
            Skip();
            if (string.CompareOrdinal(text, _at, symbol, 0, symbol.Length) != 0) return false;
            _at += symbol.Length;
            return true;
        }

        private void Expect(string symbol)
        {
            if (!Symbol(symbol)) throw Unsupported($"'{symbol}' expected at '{text[_at..]}'");
        }

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        private NotSupportedException Unsupported(string what) => new($"condition '{text}': {what} has no peer equivalent in this converter");
    }

    // ------------------------------------------------------------------ emitters

    private static JsonNode JsonLogic(Expr expr) => expr switch
    {
        AndExpr a => new JsonObject { ["and"] = new JsonArray(JsonLogic(a.Left), JsonLogic(a.Right)) },
        OrExpr o => new JsonObject { ["or"] = new JsonArray(JsonLogic(o.Left), JsonLogic(o.Right)) },
        NotExpr n => new JsonObject { ["!"] = new JsonArray(JsonLogic(n.Operand)) },
        FlagExpr f => Var(f.Fact),
        ContainsExpr c => Op("in", c.Item, Var(c.ListFact)),
        CompareExpr c => Op(c.Op, Var(c.Fact), c.Constant.DeepClone()),
        InExpr i => Op("in", Var(i.Fact), new JsonArray([.. i.Constants.Select(v => v.DeepClone())])),
        _ => throw new NotSupportedException(expr.ToString()),
    };

    private static JsonNode RulesEngine(Expr expr) => expr switch
    {
        AndExpr a => new JsonObject { ["all"] = new JsonArray(RulesEngine(a.Left), RulesEngine(a.Right)) },
        OrExpr o => new JsonObject { ["any"] = new JsonArray(RulesEngine(o.Left), RulesEngine(o.Right)) },
        NotExpr n => new JsonObject { ["not"] = RulesEngine(n.Operand) },
        FlagExpr f => Fact(f.Fact, "equal", true),
        ContainsExpr c => Fact(c.ListFact, "contains", c.Item),
        CompareExpr c => Fact(c.Fact, c.Op switch
        {
            ">=" => "greaterThanInclusive",
            ">" => "greaterThan",
            "<=" => "lessThanInclusive",
            "<" => "lessThan",
            "==" => "equal",
            _ => "notEqual",
        }, c.Constant.DeepClone()),
        InExpr i => Fact(i.Fact, "in", new JsonArray([.. i.Constants.Select(v => v.DeepClone())])),
        _ => throw new NotSupportedException(expr.ToString()),
    };

    private static JsonObject Var(string name) => new() { ["var"] = name };

    private static JsonObject Op(string op, JsonNode? left, JsonNode? right) => new() { [op] = new JsonArray(left, right) };

    private static JsonObject Fact(string fact, string op, JsonNode? value) =>
        new() { ["fact"] = fact, ["operator"] = op, ["value"] = value };

    private static JsonArray Strings(IEnumerable<string> items) => new([.. items.Select(i => (JsonNode?)JsonValue.Create(i))]);
}
