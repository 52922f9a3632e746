using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

public class PlannerTests
{
    private static readonly DirectorySnapshot Directory = Build.Directory(
        Build.User("alice", groups: ["Domain Admins"]),
        Build.User("dana", groups: ["Domain Admins"]),
        Build.User("frank", groups: ["Domain Admins"]),
        Build.User("bob"),
        Build.User("erin", Provider.Entra, roles: ["Global Administrator"]),
        Build.User("guest1", Provider.Entra, guest: true));

    /// <summary>A plan as `respond plan` makes it: the run in dry-run over the snapshot, with the executor's order and guards.</summary>
    private static Task<Plan> Plan(IEnumerable<string> rules, params Finding[] findings)
    {
        var load = RuleFiles.Load([.. rules.Select((yaml, i) => ($"rules/r{i}.yaml", yaml))]);
        load.HasErrors.Should().BeFalse(string.Join("\n", load.Diagnostics));
        return PlanRun.PlanAsync(load.RuleSet!, findings, Directory, new EngineOptions(), new PlanSettings(), RuleFiles.Clock(), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Plan_MatchingRule_ProposesItsActionsWithProvenance()
    {
        var plan = await Plan([RuleFiles.Rule(when: "identity.privileged", actions: "  - action: reset_password\n  - action: revoke_group\n    with: { groups: [Domain Admins, Schema Admins] }")],
            Build.Finding(name: "alice", id: "f1"), Build.Finding(name: "bob", id: "f2"));

        plan.FindingCount.Should().Be(2);
        plan.MatchedFindingCount.Should().Be(1);
        plan.Decisions.Select(d => (d.ActionName, d.Verdict, d.TargetDisplay)).Should().Equal(
            ("reset_password", Verdict.Execute, "alice@corp.example.com"),
            ("revoke_group", Verdict.Execute, "alice@corp.example.com"));
        plan.Decisions[1].Parameters.Strings("groups").Should().Equal("Domain Admins");
        plan.Decisions[1].Note.Should().Be("not a direct member of Schema Admins");
        plan.Decisions[0].Rule.Source.File.Should().Be("rules/r0.yaml");
    }

    [Fact]
    public async Task Plan_LockoutCountedOnSnapshot_IsNamedOnTheDecisionAndTheBasisIsStated()
    {
        var options = new EngineOptions { Guards = new GuardOptions { Lockout = new LockoutOptions { Minimum = 3 } } };
        var load = RuleFiles.Load(("rules/r0.yaml", RuleFiles.Rule(actions: "  - action: disable_user")));

        var plan = await PlanRun.PlanAsync(load.RuleSet!, [Build.Finding(name: "alice", id: "f1"), Build.Finding(name: "bob", id: "f2")], Directory, options,
            new PlanSettings { DirectorySource = "test.json (--directory)" }, RuleFiles.Clock(), TestContext.Current.CancellationToken);

        var alice = plan.Decisions.Single(d => d.Finding.Id == "f1");
        alice.Verdict.Should().Be(Verdict.Skip);
        alice.Guard.Should().Be("lockout_protection");
        alice.CountedOnSnapshot.Should().StartWith("the enabled holders of 'Domain Admins' counted on the snapshot");
        plan.Decisions.Single(d => d.Finding.Id == "f2").CountedOnSnapshot.Should().StartWith(
            "the enabled holders of 'Domain Admins', 'Enterprise Admins', 'Administrators' counted on the snapshot",
            "a destructive action is checked against every critical set's graph, whether or not the account looks like a holder");
        plan.Basis!.Text.Should().Contain("test.json (--directory)").And.Contain("guards counted with an empty audit history");
        plan.Basis.Guards.Should().Equal(Execution.Executor.DefaultGuards(options).Select(g => g.Name));
    }

    [Fact]
    public async Task Plan_UnresolvedIdentity_IsSkippedNeverActed()
    {
        var plan = await Plan([RuleFiles.Rule()], Build.Finding(name: "mallory"));

        var decision = plan.Decisions.Should().ContainSingle().Subject;
        decision.Verdict.Should().Be(Verdict.Skip);
        decision.Guard.Should().Be("identity");
        decision.Reason.Should().Be("no ad account matches name 'mallory'");
        decision.Identity.Should().BeNull();
    }

    [Fact]
    public async Task Plan_RuntimeConditionError_IsRecordedOnThatDecisionAndOthersContinue()
    {
        var broken = RuleFiles.Rule(id: "a-broken", when: "attr('count') > 5");
        var healthy = RuleFiles.Rule(id: "b-healthy", actions: "  - action: reset_password");

        var plan = await Plan([broken, healthy],
            Build.Finding(name: "bob", id: "f1", attributes: new { count = "many" }),
            Build.Finding(name: "alice", id: "f2", attributes: new { count = 9 }));

        plan.Decisions.Select(d => (d.Finding.Id, d.Rule.Id, d.Verdict)).Should().Equal(
            ("f1", "a-broken", Verdict.Error),
            ("f1", "b-healthy", Verdict.Execute),
            ("f2", "a-broken", Verdict.Execute),
            ("f2", "b-healthy", Verdict.Execute));
        plan.Decisions[0].Reason.Should().Contain("the string 'many'");
    }

    [Fact]
    public async Task Plan_ObserveModeAndExpiredRules_OnlyPlan()
    {
        var observe = RuleFiles.Rule(id: "observe-rule").Replace("mode: enforce", "mode: observe");
        var expired = RuleFiles.Rule(id: "expired-rule", extra: "expires: 2026-01-31");
        var disabled = RuleFiles.Rule(id: "disabled-rule").Replace("mode: enforce", "mode: disabled");

        var plan = await Plan([observe, expired, disabled], Build.Finding(name: "bob"));

        plan.Decisions.Select(d => (d.Rule.Id, d.Verdict, d.Guard)).Should().Equal(
            ("expired-rule", Verdict.Skip, "rule_mode"),
            ("observe-rule", Verdict.Skip, "rule_mode"));
        plan.Decisions[0].Reason.Should().Be("rule expired on 2026-01-31 and only observes");
    }

    [Fact]
    public async Task Plan_ApprovalRequired_Holds()
    {
        var plan = await Plan([RuleFiles.Rule(extra: "approval: required")], Build.Finding(name: "bob"));

        plan.Decisions.Should().ContainSingle(d => d.Verdict == Verdict.Hold && d.Guard == "approval");
    }

    [Fact]
    public async Task Plan_Preconditions_SkipGuestsAndNonAdmins()
    {
        var rule = RuleFiles.Rule(providers: "[entra]", types: "[risky_user]",
            actions: "  - action: revoke_sessions\n  - action: enforce_phishing_resistant_mfa");

        var plan = await Plan([rule], Build.Finding("risky_user", provider: Provider.Entra, name: "guest1"),
            Build.Finding("risky_user", provider: Provider.Entra, name: "erin"));

        plan.Decisions.Select(d => (d.TargetDisplay, d.ActionName, d.Verdict, d.Guard)).Should().Equal(
            ("guest1@corp.example.com", "revoke_sessions", Verdict.Skip, "precondition"),
            ("guest1@corp.example.com", "enforce_phishing_resistant_mfa", Verdict.Skip, "precondition"),
            ("erin@corp.example.com", "revoke_sessions", Verdict.Execute, null),
            ("erin@corp.example.com", "enforce_phishing_resistant_mfa", Verdict.Execute, null));
    }

    [Fact]
    public async Task Plan_SeverityBelowMinimumOrOtherType_DoesNotMatch()
    {
        var rule = RuleFiles.Rule().Replace("providers: [ad]", "providers: [ad]\n  min_severity: high");

        var plan = await Plan([rule], Build.Finding(severity: Severity.Medium, name: "bob"), Build.Finding("password_spray", name: "bob"));

        plan.Decisions.Should().BeEmpty();
        plan.MatchedFindingCount.Should().Be(0);
    }

    [Fact]
    public void RuleSet_IndexesByTypeAndProvider()
    {
        var load = RuleFiles.Load(("rules/a.yaml", RuleFiles.Rule(id: "a", types: "[weak_password, password_spray]", providers: "[ad, okta]")),
            ("rules/b.yaml", RuleFiles.Rule(id: "b", types: "[password_spray]", providers: "[okta]")));

        load.RuleSet!.Candidates("password_spray", Provider.Okta).ToArray().Select(r => r.Id).Should().Equal("a", "b");
        load.RuleSet.Candidates("weak_password", Provider.Entra).IsEmpty.Should().BeTrue();
    }
}
