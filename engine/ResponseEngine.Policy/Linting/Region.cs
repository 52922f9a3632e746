using System.Collections.Immutable;
using NCalc;
using ResponseEngine.Findings;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Linting;

/// <summary>
/// The values one variable may take in a conjunction: a finite set (<see cref="Allowed"/>), or everything but
/// <see cref="Excluded"/>. Strings compare ignoring case; <see cref="Null"/> stands for a missing value, which
/// matches no comparison but does satisfy a negated one.
/// </summary>
internal sealed record Constraint(ImmutableHashSet<string>? Allowed, ImmutableHashSet<string> Excluded)
{
    public const string Null = "\0null";

    public static readonly ImmutableHashSet<string> Empty = ImmutableHashSet.Create<string>(StringComparer.OrdinalIgnoreCase);

    public static Constraint Only(IEnumerable<string> values) => new(Empty.Union(values), Empty);

    public static Constraint AllBut(IEnumerable<string> values) => new(null, Empty.Union(values));

    /// <summary>Both constraints at once.</summary>
    public Constraint And(Constraint other) =>
        Allowed is null && other.Allowed is null ? new(null, Excluded.Union(other.Excluded))
        : new((Allowed ?? other.Allowed!).Intersect(other.Allowed ?? Allowed!).Except(Excluded).Except(other.Excluded), Empty);

    /// <summary>Values the variable can take, within <paramref name="domain"/> when it is finite.</summary>
    public ImmutableHashSet<string>? Values(ImmutableHashSet<string>? domain) =>
        Allowed is not null ? Allowed.Except(Excluded) : domain?.Except(Excluded);

    public bool Satisfiable(ImmutableHashSet<string>? domain) => Values(domain) is not { IsEmpty: true };

    /// <summary>Every value allowed here is allowed by <paramref name="wider"/>.</summary>
    public bool Within(Constraint wider, ImmutableHashSet<string>? domain)
    {
        var mine = Values(domain);
        var theirs = wider.Values(domain);
        if (theirs is null) return mine is null ? wider.Excluded.IsSubsetOf(Excluded) : !mine.Overlaps(wider.Excluded);
        return mine is not null && mine.IsSubsetOf(theirs);
    }
}

/// <summary>One conjunction: constraints per variable, and opaque conditions (calls, arithmetic) by their text and polarity.</summary>
internal sealed record Term(ImmutableDictionary<string, Constraint> Variables, ImmutableHashSet<(string Text, bool Holds)> Opaque)
{
    public static readonly Term True = new(ImmutableDictionary<string, Constraint>.Empty, []);

    public Term And(Term other)
    {
        var variables = Variables;
        foreach (var (name, constraint) in other.Variables)
        {
            variables = variables.SetItem(name, variables.TryGetValue(name, out var mine) ? mine.And(constraint) : constraint);
        }

        return new Term(variables, Opaque.Union(other.Opaque));
    }

    public bool Satisfiable =>
        Variables.All(v => v.Value.Satisfiable(Region.Domain(v.Key))) && !Opaque.Any(o => Opaque.Contains((o.Text, !o.Holds)));

    /// <summary>Every finding and identity this term admits, <paramref name="wider"/> admits too.</summary>
    public bool Within(Term wider) =>
        wider.Variables.All(v => (Variables.TryGetValue(v.Key, out var mine) ? mine : new Constraint(null, Constraint.Empty)).Within(v.Value, Region.Domain(v.Key)))
        && wider.Opaque.IsSubsetOf(Opaque);

    /// <summary>A short description of a finding in the term, for messages: its types and providers when they are fixed.</summary>
    public string Example()
    {
        var parts = new List<string>();
        foreach (var name in (string[])["finding.type", "finding.subject.provider", "finding.severity"])
        {
            if (Variables.TryGetValue(name, out var c) && c.Values(Region.Domain(name)) is { Count: > 0 and <= 3 } values)
                parts.Add($"{name.Split('.')[^1]} {string.Join("/", values.Order(StringComparer.Ordinal))}");
        }

        return string.Join(", ", parts);
    }
}

/// <summary>
/// What a rule decides on, as a disjunction of conjunctions over the match and the condition, when that can be worked
/// out statically (null otherwise): enough to find rules that overlap, contain one another, or never apply.
/// </summary>
internal static class Region
{
    private const int MaxTerms = 64;
    private static readonly ImmutableHashSet<string> Booleans = Constraint.Empty.Union(["true", "false"]);
    private static readonly ImmutableHashSet<string> SeverityNames = Constraint.Empty.Union(Severities.Names);
    private static readonly ImmutableHashSet<string> ProviderNames = Constraint.Empty.Union(Providers.Names);
    private static readonly ImmutableHashSet<string> Kinds = Constraint.Empty.Union(["detection", "posture"]);

    /// <summary>The finite set of values a variable can have, or null for free text.</summary>
    public static ImmutableHashSet<string>? Domain(string variable) => variable switch
    {
        "finding.severity" => SeverityNames,
        "finding.subject.provider" or "identity.provider" => ProviderNames,
        "finding.kind" => Kinds,
        _ when Vocabulary.Variables.TryGetValue(variable, out var info) && info.Type == VType.Bool => Booleans,
        _ => null,
    };

    /// <summary>The rule's match as a term: its types, providers (of the finding and the identity) and severities.</summary>
    public static Term Match(Rule rule)
    {
        var providers = Constraint.Only(rule.Match.Providers.Select(p => p.Name()));
        return new Term(ImmutableDictionary<string, Constraint>.Empty
            .Add("finding.type", Constraint.Only(rule.Match.Types))
            .Add("finding.subject.provider", providers)
            .Add("identity.provider", providers)
            .Add("finding.severity", Constraint.Only(Severities.Names.Where(n => Severities.TryParse(n, out var s) && s >= rule.Match.MinSeverity))), []);
    }

    /// <summary>The condition in disjunctive normal form, or null when it is too large to expand.</summary>
    public static ImmutableArray<Term>? Of(LogicalExpression expression, bool holds = true)
    {
        switch (expression)
        {
            case UnaryExpression { Type: UnaryExpressionType.Not } not:
                return Of(not.Expression, !holds);
            case BinaryExpression { Type: BinaryExpressionType.And or BinaryExpressionType.Or } logical:
            {
                var left = Of(logical.LeftExpression, holds);
                var right = Of(logical.RightExpression, holds);
                if (left is null || right is null) return null;

                // De Morgan: a negated 'and' is an 'or' of the negations, and the other way round.
                var conjunction = logical.Type == BinaryExpressionType.And == holds;
                if (!conjunction) return left.Value.Length + right.Value.Length > MaxTerms ? null : left.Value.AddRange(right.Value);
                if (left.Value.Length * right.Value.Length > MaxTerms) return null;
                return [.. left.Value.SelectMany(l => right.Value.Select(r => l.And(r)))];
            }

            default:
                return [Atom(expression, holds)];
        }
    }

    private static Term Atom(LogicalExpression expression, bool holds)
    {
        var constraint = expression switch
        {
            Identifier { Name: var name } when Domain(name) == Booleans => (name, Constraint.Only([holds ? "true" : "false"])),
            BinaryExpression { Type: BinaryExpressionType.Equal or BinaryExpressionType.NotEqual } b when Compared(b) is var (name, value) && name is not null =>
                (name, Equality(value!, b.Type == BinaryExpressionType.Equal == holds, negated: !holds)),
            BinaryExpression { Type: BinaryExpressionType.In or BinaryExpressionType.NotIn, LeftExpression: Identifier { Name: var name }, RightExpression: var list }
                when Vocabulary.Variables.ContainsKey(name) && Constants(list) is { } values =>
                (name, Membership(values, b: expression is BinaryExpression { Type: BinaryExpressionType.In } == holds, negated: !holds)),
            BinaryExpression { LeftExpression: Identifier { Name: "finding.severity" }, RightExpression: ValueExpression { Value: string text } } ordered
                when Severities.TryParse(text.ToLowerInvariant(), out var bound) && Ordered(ordered.Type, bound) is { } admitted =>
                ("finding.severity", Constraint.Only(holds ? admitted : SeverityNames.Except(admitted))),
            _ => ((string?)null, (Constraint?)null),
        };
        if (constraint is (string variable, Constraint c))
        {
            return new Term(ImmutableDictionary<string, Constraint>.Empty.Add(variable, c), []);
        }

        return new Term(ImmutableDictionary<string, Constraint>.Empty, [(ConditionProbes.Describe(expression), holds)]);
    }

    /// <summary>x == v: only v; x != v: neither v nor missing; not (x == v): anything but v, missing included.</summary>
    private static Constraint Equality(string value, bool equal, bool negated) =>
        equal ? Constraint.Only([value]) : Constraint.AllBut(negated ? [value] : [value, Constraint.Null]);

    private static Constraint Membership(IEnumerable<string> values, bool b, bool negated) =>
        b ? Constraint.Only(values) : Constraint.AllBut(negated ? values : values.Append(Constraint.Null));

    private static (string? Name, string? Value) Compared(BinaryExpression b) => (b.LeftExpression, b.RightExpression) switch
    {
        (Identifier { Name: var n }, ValueExpression v) when Vocabulary.Variables.ContainsKey(n) && Text(v) is { } t => (n, t),
        (ValueExpression v, Identifier { Name: var n }) when Vocabulary.Variables.ContainsKey(n) && Text(v) is { } t => (n, t),
        _ => (null, null),
    };

    private static string? Text(ValueExpression value) => value.Value switch
    {
        string s => s,
        bool flag => flag ? "true" : "false",
        _ => null,
    };

    private static List<string>? Constants(LogicalExpression list)
    {
        IEnumerable<LogicalExpression> items = list is LogicalExpressionList many ? many : [list];
        var values = new List<string>();
        foreach (var item in items)
        {
            if (item is ValueExpression v && Text(v) is { } text) values.Add(text);
            else return null;
        }

        return values;
    }

    private static ImmutableHashSet<string>? Ordered(BinaryExpressionType type, Severity bound)
    {
        Func<Severity, bool>? test = type switch
        {
            BinaryExpressionType.GreaterOrEqual => s => s >= bound,
            BinaryExpressionType.Greater => s => s > bound,
            BinaryExpressionType.LesserOrEqual => s => s <= bound,
            BinaryExpressionType.Lesser => s => s < bound,
            _ => null,
        };
        return test is null ? null : Constraint.Empty.Union(Severities.Names.Where(n => Severities.TryParse(n, out var s) && test(s)));
    }
}
