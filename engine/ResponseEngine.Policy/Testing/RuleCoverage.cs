using System.Collections.Immutable;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Testing;

/// <summary>Whether the inline tests exercised one listed part of a rule (a finding type of its match, one of its actions).</summary>
public sealed record CoveredItem(string Name, bool Tested);

/// <summary>What one rule's inline tests exercised: each atomic condition's outcomes, the match's types, the actions, and whether a test expects no action.</summary>
public sealed record RuleCoverage(Rule Rule, int Tests, int Positive, int Negative, ImmutableArray<ConditionOutcome> Conditions,
    ImmutableArray<CoveredItem> Types, ImmutableArray<CoveredItem> Actions)
{
    public bool HasNegativeTest => Negative > 0;

    /// <summary>Condition outcomes (true, false) some test produced, of all there are.</summary>
    public int OutcomesCovered => Conditions.Sum(c => (c.WhenTrue > 0 ? 1 : 0) + (c.WhenFalse > 0 ? 1 : 0));

    public int OutcomesTotal => Conditions.Length * 2;
}

/// <summary>
/// Runs each rule's inline tests with its condition probed, so an author sees which branches the tests never take:
/// a condition no test makes false is one the rule might not need, or one a bug could hide behind.
/// </summary>
public sealed class RuleCoverageMeter(PrivilegedPolicy policy)
{
    public ImmutableArray<RuleCoverage> Measure(IEnumerable<Rule> rules) => [.. rules.Select(Measure)];

    public RuleCoverage Measure(Rule rule)
    {
        var probes = new ConditionProbes();
        var probed = rule.When is null ? rule : rule with { When = ConditionCompiler.CompileProbed(rule.When.Text, probes) ?? rule.When };
        var runner = new RuleTestRunner(policy);
        foreach (var test in rule.Tests) runner.Run(probed, test);
        var types = rule.Match.Types.Select(t => new CoveredItem(t, rule.Tests.Any(test => string.Equals(test.Finding.Type, t, StringComparison.Ordinal))));
        var actions = rule.Actions.Select(a => a.Action.Name).Distinct(StringComparer.Ordinal)
            .Select(name => new CoveredItem(name, rule.Tests.Any(test => test.Expected.Any(e => e.Action == name))));
        return new RuleCoverage(rule, rule.Tests.Length, rule.Tests.Count(t => !t.Expected.IsEmpty), rule.Tests.Count(t => t.Expected.IsEmpty),
            [.. probes.Outcomes], [.. types], [.. actions]);
    }
}
