using System.Collections.Immutable;
using ResponseEngine.Actions;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Policy.Testing;

/// <summary>The outcome of one inline rule test.</summary>
public sealed record RuleTestResult(Rule Rule, RuleTest Test, bool Passed, ImmutableArray<string> Expected, ImmutableArray<string> Actual, string? Problem);

/// <summary>
/// Runs a rule's inline tests: the rule alone is evaluated against the test's finding and identity, each action's
/// preconditions narrow or drop it, and what remains must equal the expectation. Rule mode does not matter here:
/// a test pins what the rule decides, not whether it is switched on.
/// </summary>
public sealed class RuleTestRunner(PrivilegedPolicy policy)
{
    private readonly PreconditionGuard _preconditions = new();

    public ImmutableArray<RuleTestResult> Run(IEnumerable<Rule> rules) =>
        [.. rules.SelectMany(rule => rule.Tests.Select(test => Run(rule, test)))];

    public RuleTestResult Run(Rule rule, RuleTest test)
    {
        var decisions = new List<Decision>();
        var person = new Person(test.Identity, [.. test.Linked.Select(a => new AccountLink(a, "stated in the test"))], []);
        Planner.Evaluate(rule, test.Finding, test.Identity, test.Finding.ObservedAt, decisions, person);
        var context = new GuardContext(test.Finding.ObservedAt, policy);
        var expected = test.Expected.Select(Describe).ToImmutableArray();
        var error = decisions.FirstOrDefault(d => d.Verdict == Verdict.Error);
        if (error is not null)
        {
            return new RuleTestResult(rule, test, false, expected, [], $"condition failed at run time: {error.Reason}");
        }

        var actual = decisions.Select(d => _preconditions.Check(d, context)).Where(d => d.Verdict == Verdict.Execute).ToList();
        var unmatched = actual.ToList();
        var missing = new List<ExpectedAction>();
        foreach (var expectation in test.Expected)
        {
            var on = expectation.On ?? test.Identity.Provider;
            var hit = unmatched.FindIndex(d => d.ActionName == expectation.Action && d.Identity?.Provider == on && Satisfies(d.Parameters, expectation.Parameters));
            if (hit < 0) missing.Add(expectation);
            else unmatched.RemoveAt(hit);
        }

        var passed = missing.Count == 0 && unmatched.Count == 0;
        var actualText = actual.Select(d => Describe(d, test.Identity)).ToImmutableArray();
        return new RuleTestResult(rule, test, passed, expected, actualText, passed ? null : Explain(missing, unmatched, test.Identity));
    }

    private static string Explain(List<ExpectedAction> missing, List<Decision> extra, Identity subject)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add("missing " + string.Join(", ", missing.Select(Describe)));
        if (extra.Count > 0) parts.Add("unexpected " + string.Join(", ", extra.Select(d => Describe(d, subject))));
        return string.Join("; ", parts);
    }

    /// <summary>An action, with "on PROVIDER" when it acts on a linked account rather than the test identity.</summary>
    private static string Describe(Decision decision, Identity subject)
    {
        var text = Describe(decision.ActionName, decision.Parameters);
        return decision.Identity is { } account && account.Provider != subject.Provider ? $"{text} on {account.Provider.Name()}" : text;
    }

    /// <summary>Every parameter the test names must equal the actual one; lists compare as sets, ignoring case.</summary>
    private static bool Satisfies(ActionParameters actual, ActionParameters expected)
    {
        foreach (var (key, value) in expected.Values)
        {
            if (!actual.Values.TryGetValue(key, out var actualValue)) return false;
            var equal = (value, actualValue) switch
            {
                (ImmutableArray<string> a, ImmutableArray<string> b) =>
                    a.ToHashSet(StringComparer.OrdinalIgnoreCase).SetEquals(b),
                (string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase),
                _ => Equals(value, actualValue),
            };
            if (!equal) return false;
        }

        return true;
    }

    private static string Describe(ExpectedAction expected) =>
        Describe(expected.Action, expected.Parameters) + (expected.On is { } on ? $" on {on.Name()}" : "");

    private static string Describe(string action, ActionParameters parameters) =>
        parameters.IsEmpty ? action : $"{action} {{ {parameters.Describe()} }}";
}
