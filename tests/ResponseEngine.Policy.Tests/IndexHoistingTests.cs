using System.Collections.Immutable;
using CsCheck;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>
/// Type, provider and severity tests among a condition's top-level conjuncts file the rule in the index as if it had
/// declared them (#23). The index may only take away rules a finding could never have applied to.
/// </summary>
public class IndexHoistingTests
{
    private static readonly string[] Types = ["weak_password", "password_spray", "dcsync"];

    private static readonly string[] SubjectNames = ["alice", "bob", "ghost"];

    private static readonly DirectorySnapshot Directory = Build.Directory(
        [.. Providers.All.SelectMany(p => new[] { Build.User("alice", p), Build.User("bob", p, groups: ["Domain Admins"]) })], []);

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    /// <summary>A constant as a rule author might spell it: the condition compares strings ignoring case.</summary>
    private static Gen<string> Spelled(Gen<string> names) =>
        Gen.Select(names, Gen.Int[0, 3], (name, style) => style == 0 ? name.ToUpperInvariant() : style == 1 ? char.ToUpperInvariant(name[0]) + name[1..] : name);

    private static readonly Gen<string> TypeName = Spelled(Pick([.. Types, "other_type"]));

    private static readonly Gen<string> ProviderName = Spelled(Pick("ad", "entra", "okta"));

    private static readonly Gen<string> SeverityName = Spelled(Pick([.. Severities.Names]));

    private static Gen<string> List(Gen<string> item) => item.Array[1, 3].Select(items => "(" + string.Join(", ", items.Select(i => $"'{i}'")) + ")");

    /// <summary>Tests the index can take (when they stand at the top level) and tests it must leave alone.</summary>
    private static readonly Gen<string> Atom = Gen.OneOf(
        TypeName.Select(t => $"finding.type == '{t}'"),
        TypeName.Select(t => $"'{t}' == finding.type"),
        List(TypeName).Select(l => $"finding.type in {l}"),
        List(TypeName).Select(l => $"finding.type not in {l}"),
        TypeName.Select(t => $"finding.type != '{t}'"),
        ProviderName.Select(p => $"finding.subject.provider == '{p}'"),
        List(ProviderName).Select(l => $"finding.subject.provider in {l}"),
        ProviderName.Select(p => $"identity.provider == '{p}'"),
        Gen.Select(Pick("==", ">=", ">", "<", "<=", "!="), SeverityName, (op, s) => $"finding.severity {op} '{s}'"),
        Gen.Select(Pick("==", ">=", ">", "<", "<="), SeverityName, (op, s) => $"'{s}' {op} finding.severity"),
        List(SeverityName).Select(l => $"finding.severity in {l}"),
        Gen.Const("identity.privileged"),
        Gen.Const("member_of('Domain Admins')"),
        Gen.Const("has_attr('count')"),

        // attr('count') is a string on some findings: comparing it with a number fails at run time (an error decision).
        Gen.Int[0, 4].Select(n => $"attr('count') > {n}"));

    private static readonly Gen<string> Condition = Gen.Recursive<string>((depth, self) => depth >= 3 ? Atom : Gen.Frequency(
        (4, Atom),
        (3, Gen.Select(self, self, (a, b) => $"{a} and {b}")),
        (1, Gen.Select(self, self, (a, b) => $"({a} or {b})")),
        (1, self.Select(a => $"not ({a})"))));

    private static readonly Gen<string> RuleYaml = Gen.Select(
        Gen.OneOf(Gen.Const((string?)null), Condition.Select(c => (string?)c)),
        Pick(Types).Array[1, 3].Select(t => "[" + string.Join(", ", t.Distinct()) + "]"),
        Pick("ad", "entra", "okta").Array[1, 3].Select(p => "[" + string.Join(", ", p.Distinct()) + "]"),
        Gen.OneOf(Gen.Const(""), Pick([.. Severities.Names]).Select(s => $"\n  min_severity: {s}")),
        (when, types, providers, minimum) => (when, types, providers + minimum))
        .Select(r => RuleFiles.Rule(id: "placeholder", when: r.when, types: r.types, providers: r.Item3));

    private static readonly Gen<Finding> FindingGen = Gen.Select(
        Pick([.. Types, "other_type"]), Gen.Enum<Severity>(), Pick([.. Providers.All]), Pick(SubjectNames),
        Gen.OneOf(Gen.Const((object?)null), Gen.Int[0, 6].Select(n => (object?)new { count = n }), Gen.Const((object?)new { count = "many" })),
        (type, severity, provider, name, attributes) => Build.Finding(type, severity, provider, name, attributes: attributes));

    [Fact]
    public void Index_WithHoistedConditionTests_PicksTheSameRulesAsTheDeclaredIndex()
    {
        Gen.Select(RuleYaml.Array[1, 8], FindingGen.Array[1, 30]).Sample((yamls, findings) =>
        {
            var load = RuleFiles.Load([.. yamls.Select((y, i) => ($"rules/r{i}.yaml", y.Replace("id: placeholder", $"id: r{i}", StringComparison.Ordinal)))]);
            load.HasErrors.Should().BeFalse(string.Join("\n", load.Diagnostics));
            var hoisted = load.RuleSet!;
            var declared = new RuleSet(hoisted.Rules.Select(r => r with { When = r.When is null ? null : new Opaque(r.When) }));

            var withIndex = Decide(hoisted, findings);
            var without = Decide(declared, findings);

            // Every rule that applies (an action proposed) is the same, in the same order.
            withIndex.Where(d => !Refused(d)).Should().Equal(without.Where(d => !Refused(d)));

            // The index may drop an error or an unresolved-identity skip only for a finding a hoisted test excludes.
            withIndex.Where(Refused).Should().BeSubsetOf(without.Where(Refused));
            foreach (var dropped in without.Where(Refused).Except(withIndex.Where(Refused)))
            {
                var rule = hoisted.Rules.Single(r => r.Id == dropped.Rule);
                var finding = findings.Single(f => f.Id == dropped.Finding);
                rule.IndexMatch.Should().Match<RuleMatch>(m => !Admits(m, finding), $"{rule.Id} ({rule.When?.Text}) was dropped for {finding.Type}/{finding.Severity}/{finding.Subject.Provider}");
            }
        }, iter: 300);
    }

    [Theory]
    [InlineData("finding.type == 'password_spray' and identity.privileged", "password_spray", "ad,entra,okta", Severity.Informational)]
    [InlineData("finding.type in ('Password_Spray', 'dcsync') and finding.subject.provider == 'OKTA'", "password_spray,dcsync", "okta", Severity.Informational)]
    [InlineData("identity.privileged and finding.severity >= 'high'", "weak_password,password_spray,dcsync", "ad,entra,okta", Severity.High)]
    [InlineData("'medium' < finding.severity", "weak_password,password_spray,dcsync", "ad,entra,okta", Severity.High)]
    [InlineData("finding.severity in ('critical', 'medium')", "weak_password,password_spray,dcsync", "ad,entra,okta", Severity.Medium)]
    [InlineData("finding.type == 'dcsync' or identity.privileged", "weak_password,password_spray,dcsync", "ad,entra,okta", Severity.Informational)]
    [InlineData("not (finding.type == 'dcsync')", "weak_password,password_spray,dcsync", "ad,entra,okta", Severity.Informational)]
    [InlineData("finding.type != 'dcsync' and finding.severity < 'high'", "weak_password,password_spray,dcsync", "ad,entra,okta", Severity.Informational)]
    [InlineData("identity.provider == 'ad' and finding.type == 'other_type'", "", "ad,entra,okta", Severity.Informational)]
    public void IndexMatch_TopLevelConjuncts_NarrowTheDeclaredMatch(string when, string types, string providers, Severity minimum)
    {
        var rule = RuleFiles.Valid(RuleFiles.Rule(when: when, types: "[weak_password, password_spray, dcsync]", providers: "[ad, entra, okta]"));

        rule.IndexMatch.Types.Should().Equal(types.Split(',', StringSplitOptions.RemoveEmptyEntries));
        rule.IndexMatch.Providers.Select(p => p.Name()).Should().Equal(providers.Split(','));
        rule.IndexMatch.MinSeverity.Should().Be(minimum);
        rule.Match.Types.Should().HaveCount(3, "the declared match is what the rule says, for plans and reviews");
    }

    private static bool Admits(RuleMatch match, Finding finding) =>
        match.Types.Contains(finding.Type) && match.Providers.Contains(finding.Subject.Provider) && finding.Severity >= match.MinSeverity;

    private static bool Refused(Outcome outcome) => outcome.Verdict == Verdict.Error || outcome.Guard == "identity";

    private static ImmutableArray<Outcome> Decide(RuleSet rules, Finding[] findings) =>
        [.. new Planner(rules, Directory, RuleFiles.Clock()).Plan(findings, Build.Now).Decisions
            .Select(d => new Outcome(d.Finding.Id, d.Rule.Id, d.ActionName, d.Verdict, d.Guard, d.Reason))];

    private sealed record Outcome(string Finding, string Rule, string? Action, Verdict Verdict, string? Guard, string? Reason);

    /// <summary>The same condition without its index hints: the rule is filed under its declared match only.</summary>
    private sealed class Opaque(ICondition inner) : ICondition
    {
        public string Text => inner.Text;

        public bool Evaluate(in EvaluationContext context) => inner.Evaluate(context);
    }
}
