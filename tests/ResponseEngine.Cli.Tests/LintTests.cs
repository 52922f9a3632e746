using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond lint` on fixture rule sets: each finding at its place, nothing reported where nothing can be decided.</summary>
public sealed class LintTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Rule(string id, string action = "disable_user", string when = "", string mode = "enforce", string types = "[impossible_travel]",
        string severity = "medium", string extra = "") => $"""
        id: {id}
        title: lint fixture
        owner: secops
        mode: {mode}
        {extra}
        match:
          types: {types}
          providers: [ad]
          min_severity: {severity}
        {(when.Length == 0 ? "" : $"when: \"{when}\"")}
        actions:
          - action: {action}
        """;

    private (int Exit, string Out, string Err) Lint(string[] rules, params string[] extra)
    {
        var folder = Path.Combine(_temp.Path, "rules-" + Guid.NewGuid().ToString("N")[..8]);
        foreach (var yaml in rules)
        {
            var id = yaml.Split('\n')[0]["id: ".Length..].Trim();
            File.WriteAllText(Path.Combine(Directory.CreateDirectory(folder).FullName, id + ".yaml"), yaml);
        }

        var config = extra.Contains("--config") ? [] : new[] { "--config", _temp.Write("empty.yaml", "rules: rules\n") };
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(["lint", "--rules", folder, .. config, .. extra], output, error, new FakeTimeProvider(Build.Now));
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Lint_DisableAndEnableForTheSameMatch_ReportsTheContradictionAtTheActions()
    {
        var (exit, output, _) = Lint([Rule("lock-out"), Rule("let-in", action: "enable_user", severity: "high")]);

        exit.Should().Be(1, output);
        output.Should().MatchRegex(@"lock-out\.yaml:11:1: error RE1101: rules 'lock-out' \(disable_user\) and 'let-in' \(enable_user, .*let-in\.yaml:1\) can both decide for the same finding and identity \(type impossible_travel, provider ad, severity critical/high\)");
        output.Should().Contain("2 rules analysed: 1 error, 0 warnings");
    }

    [Fact]
    public void Lint_OppositeActionsOnExclusiveConditions_ReportsNothing()
    {
        var (exit, output, _) = Lint([
            Rule("lock-out", when: "identity.privileged and finding.severity >= 'high'"),
            Rule("let-in", action: "enable_user", when: "not identity.privileged"),
            Rule("other-type", action: "enable_user", types: "[weak_password]"),
        ]);

        exit.Should().Be(0, output);
        output.Should().Contain("3 rules analysed: 0 errors, 0 warnings");
    }

    [Fact]
    public void Lint_NarrowerRuleWithTheSameActions_IsShadowedByTheWiderOne()
    {
        var (exit, output, _) = Lint([
            Rule("narrow", severity: "high", when: "identity.privileged and identity.enabled", types: "[impossible_travel]"),
            Rule("wide", when: "identity.privileged", types: "[impossible_travel, mfa_fatigue]"),
        ]);

        exit.Should().Be(1, output);
        output.Should().MatchRegex(@"narrow\.yaml:6:1: warning RE1102: rule 'narrow' is shadowed by 'wide' \(.*wide\.yaml:1\)");
        output.Should().NotContain("rule 'wide' is shadowed");
    }

    [Fact]
    public void Lint_EnforceRuleInsideAnObserveRule_IsNotShadowed()
    {
        var (_, output, _) = Lint([Rule("narrow", severity: "critical"), Rule("wide-trial", mode: "observe")]);

        output.Should().NotContain("RE1102", "the observe rule acts on nothing; the enforce rule does the work");
    }

    [Fact]
    public void Lint_IdenticalRules_ReportsTheShadowOnce()
    {
        var (_, output, _) = Lint([Rule("twin-a"), Rule("twin-b")]);

        output.Split('\n').Count(l => l.Contains("RE1102", StringComparison.Ordinal)).Should().Be(1, output);
        output.Should().Contain("rule 'twin-b' is shadowed by 'twin-a'");
    }

    [Theory]
    [InlineData("finding.type == 'mfa_fatigue'", "the condition of rule 'dead' can never be true")]
    [InlineData("identity.privileged and not identity.privileged", "the condition of rule 'dead' can never be true")]
    [InlineData("finding.severity < 'medium'", "the condition of rule 'dead' can never be true")]
    [InlineData("identity.provider == 'okta'", "the condition of rule 'dead' can never be true")]
    [InlineData("identity.privileged or finding.severity == 'low'", "the branch 'finding.severity == 'low'' of rule 'dead' can never be true")]
    [InlineData("member_of('Domain Admins') and not member_of('Domain Admins')", "the condition of rule 'dead' can never be true")]
    public void Lint_ConditionNoMatchingFindingCanMeet_IsUnreachable(string condition, string message)
    {
        var (exit, output, _) = Lint([Rule("dead", when: condition)]);

        exit.Should().Be(1, output);
        output.Should().MatchRegex(@"dead\.yaml:10:1: warning RE1103: ").And.Contain(message);
    }

    [Theory]
    [InlineData("identity.privileged and finding.severity >= 'high'")]
    [InlineData("identity.name != 'a' or identity.name == 'a'")]
    [InlineData("count(identity.groups) > 3 and not has_tag('break_glass')")]
    [InlineData("not (identity.email == 'x')")]
    public void Lint_ConditionThatCanHold_IsNotReported(string condition)
    {
        var (exit, output, _) = Lint([Rule("alive", when: condition)]);

        exit.Should().Be(0, output);
    }

    [Fact]
    public void Lint_ObserveRulePastItsReviewDate_ReportsItAtExpires()
    {
        var (exit, output, _) = Lint([Rule("trial", mode: "observe", extra: "expires: 2026-01-31")], "--at", "2026-03-02T00:00:00Z");

        exit.Should().Be(1, output);
        output.Should().Contain("trial.yaml:5:1: warning RE1104: rule 'trial' still observes 30 days after its review date 2026-01-31");
    }

    [Fact]
    public void Lint_PolicyRequiringExpiryAndKnownOwners_ReportsRulesWithout()
    {
        var config = _temp.Write("respond.yaml", "lint:\n  require_expiry: [enforce]\n  owners: [identity-security]\n");

        var (exit, output, _) = Lint([Rule("no-expiry"), Rule("has-expiry", mode: "observe")], "--config", config);

        exit.Should().Be(1, output);
        output.Should().Contain("no-expiry.yaml:4:1: warning RE1105: rule 'no-expiry' in mode enforce has no expires date, which lint.require_expiry asks for");
        output.Should().Contain("no-expiry.yaml:3:1: warning RE1105: rule 'no-expiry' names owner 'secops', which is not one of lint.owners; use one of: identity-security");
        output.Should().NotContain("rule 'has-expiry' in mode");
    }

    [Fact]
    public void Lint_Sarif_ValidatesAgainstTheSarif210Schema()
    {
        var (exit, output, _) = Lint([Rule("lock-out"), Rule("let-in", action: "enable_user"), Rule("dead", when: "finding.type == 'x'")], "--format", "sarif");

        exit.Should().Be(1);
        AuthoringTests.SarifSchemaErrors(output).Should().BeEmpty(output);
        using var sarif = JsonDocument.Parse(output);
        sarif.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray().Select(r => r.GetProperty("ruleId").GetString())
            .Should().Contain([DiagnosticCodes.LintContradiction, DiagnosticCodes.LintUnreachable]);
    }

    [Fact]
    public void Lint_RulesThatDoNotLoad_ExitTwo()
    {
        var (exit, output, _) = Lint([Rule("broken", action: "disable_usr")]);

        exit.Should().Be(2);
        output.Should().Contain("error RE0020");
    }
}
