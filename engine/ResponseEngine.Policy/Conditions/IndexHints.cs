using System.Collections.Frozen;
using System.Collections.Immutable;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Conditions;

/// <summary>
/// What a condition requires of every finding it is true for, read from its top-level <c>and</c> conjuncts: exact
/// equalities and <c>in</c> lists on <c>finding.type</c> and <c>finding.subject.provider</c>, and lower bounds on
/// <c>finding.severity</c> (<c>&gt;=</c>, <c>&gt;</c>, <c>==</c>, <c>in</c>). A conjunct under <c>or</c>, <c>not</c>,
/// a ternary or a <c>not in</c> says nothing here. When such a conjunct is false the whole condition is false (or an
/// earlier conjunct fails first), so filing the rule under the narrowed match changes which rules a finding meets, never
/// which rules apply to it.
/// </summary>
internal sealed class IndexHints
{
    private static readonly IndexHints None = new([], [], null);

    private readonly ImmutableArray<FrozenSet<string>> _types;
    private readonly ImmutableArray<FrozenSet<string>> _providers;
    private readonly Severity? _minimum;

    private IndexHints(ImmutableArray<FrozenSet<string>> types, ImmutableArray<FrozenSet<string>> providers, Severity? minimum)
    {
        _types = types;
        _providers = providers;
        _minimum = minimum;
    }

    public bool IsEmpty => _types.IsEmpty && _providers.IsEmpty && _minimum is null;

    public static IndexHints Of(Node root)
    {
        var types = ImmutableArray.CreateBuilder<FrozenSet<string>>();
        var providers = ImmutableArray.CreateBuilder<FrozenSet<string>>();
        Severity? minimum = null;
        var pending = new Stack<Node>();
        pending.Push(root);
        while (pending.TryPop(out var node))
        {
            switch (node)
            {
                case AndNode and:
                    pending.Push(and.Right);
                    pending.Push(and.Left);
                    break;
                case CompareNode compare:
                    Compare(compare, types, providers, ref minimum);
                    break;
                case InSetNode { Negate: false, Item: VariableNode variable } inSet:
                    switch (variable.Name)
                    {
                        case "finding.type": types.Add(inSet.Strings); break;
                        case "finding.subject.provider": providers.Add(inSet.Strings); break;
                        case "finding.severity":
                            var lowest = inSet.Strings.Select(s => Severities.TryParse(s, out var level) ? level : (Severity?)null).Min();
                            if (lowest is { } least && inSet.Strings.All(s => Severities.TryParse(s, out _))) Raise(ref minimum, least);
                            break;
                    }

                    break;
            }
        }

        return types.Count == 0 && providers.Count == 0 && minimum is null ? None : new(types.ToImmutable(), providers.ToImmutable(), minimum);
    }

    /// <summary><paramref name="declared"/> with the types and providers every hint allows (ignoring case, as the condition compares) and the higher minimum severity.</summary>
    public RuleMatch Narrow(RuleMatch declared)
    {
        ArgumentNullException.ThrowIfNull(declared);
        if (IsEmpty) return declared;
        var types = _types.IsEmpty ? declared.Types : declared.Types.Where(t => _types.All(set => set.Contains(t))).ToImmutableArray();
        var providers = _providers.IsEmpty ? declared.Providers : declared.Providers.Where(p => _providers.All(set => set.Contains(p.Name()))).ToImmutableArray();
        var minimum = _minimum is { } hinted && hinted > declared.MinSeverity ? hinted : declared.MinSeverity;
        return new RuleMatch(types, providers, minimum);
    }

    private static void Compare(CompareNode compare, ImmutableArray<FrozenSet<string>>.Builder types, ImmutableArray<FrozenSet<string>>.Builder providers, ref Severity? minimum)
    {
        // The variable on either side; a bound written constant-first reads the other way round.
        var (variable, constant, op) = (compare.Left, compare.Right) switch
        {
            (VariableNode v, ConstNode c) => (v, c, compare.Op),
            (ConstNode c, VariableNode v) => (v, c, Mirror(compare.Op)),
            _ => (null, null, compare.Op),
        };
        if (variable is null || constant is null) return;
        switch (variable.Name)
        {
            case "finding.type" when op == CompareOp.Equal && constant.Value.Type == VType.String:
                types.Add(FrozenSet.Create(StringComparer.OrdinalIgnoreCase, constant.Value.Text));
                break;
            case "finding.subject.provider" when op == CompareOp.Equal && constant.Value.Type == VType.String:
                providers.Add(FrozenSet.Create(StringComparer.OrdinalIgnoreCase, constant.Value.Text));
                break;
            case "finding.severity" when constant.Value.Type == VType.Severity:
                var level = (Severity)(int)constant.Value.Number;
                if (op is CompareOp.Equal or CompareOp.GreaterOrEqual) Raise(ref minimum, level);
                else if (op == CompareOp.Greater && level < Severity.Critical) Raise(ref minimum, level + 1);
                break;
        }
    }

    private static CompareOp Mirror(CompareOp op) => op switch
    {
        CompareOp.Less => CompareOp.Greater,
        CompareOp.LessOrEqual => CompareOp.GreaterOrEqual,
        CompareOp.Greater => CompareOp.Less,
        CompareOp.GreaterOrEqual => CompareOp.LessOrEqual,
        _ => op,
    };

    private static void Raise(ref Severity? minimum, Severity level)
    {
        if (minimum is null || level > minimum) minimum = level;
    }
}
