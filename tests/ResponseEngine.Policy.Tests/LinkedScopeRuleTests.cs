using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>Issue #21: an action's <c>on:</c> (self, linked, a provider list) — validated where it is written, and testable inline with linked accounts.</summary>
public class LinkedScopeRuleTests
{
    private const string Compromised = """
          - action: disable_user
          - action: revoke_sessions
            on: [entra, okta]
        """;

    [Fact]
    public void On_ParsesSelfLinkedAndProviderLists()
    {
        var rule = RuleFiles.Valid(RuleFiles.Rule(actions: """
              - action: disable_user
                on: self
              - action: revoke_sessions
                on: linked
              - action: disable_user
                on: [ad, entra]
              - action: reset_password
                on: okta
            """));

        rule.Actions.Select(a => a.Scope.Text).Should().Equal("self", "linked", "[ad, entra]", "[okta]");
    }

    [Theory]
    [InlineData("    on: linkd", 11, 9, "RE0005", "'on' is 'linkd', not self, linked or a list of providers", "did you mean 'linked'?")]
    [InlineData("    on: [entra, gsuite]", 11, 17, "RE0012", "unknown provider 'gsuite' in 'on'", "the providers are ad, entra and okta")]
    [InlineData("    on: []", 11, 9, "RE0015", "'on' lists no provider", "write on: self")]
    [InlineData("    on: [entra, entra]", 11, 17, "RE0005", "provider 'entra' is listed twice in 'on'", "list each provider once")]
    [InlineData("    on: { provider: entra }", 11, 9, "RE0004", "'on' must be self, linked or a list of providers, found a mapping", "write on: self")]
    public void On_BadValues_ArePositionedErrorsWithAFix(string on, int line, int column, string code, string message, string hint)
    {
        var load = RuleFiles.Load(RuleFiles.Rule(actions: "  - action: revoke_sessions\n" + on, providers: "[entra]"));

        var error = load.Diagnostics.Should().ContainSingle(d => d.IsError).Which;
        (error.Code, error.Message, error.Location.Line, error.Location.Column).Should().Be((code, message, line, column));
        error.Hint.Should().Contain(hint);
    }

    [Fact]
    public void On_AnActionMustSupportEveryProviderItCanLandIn()
    {
        // revoke_sessions acts in Entra and Okta: for a rule on AD and Entra findings, 'linked' can land in AD (an Entra subject's AD account).
        var load = RuleFiles.Load(RuleFiles.Rule(actions: "  - action: revoke_sessions\n    on: linked", providers: "[ad, entra]"));

        var error = load.Diagnostics.Should().ContainSingle(d => d.IsError).Which;
        error.Code.Should().Be(DiagnosticCodes.ActionProviderUnsupported);
        (error.Location.Line, error.Location.Column).Should().Be((11, 9), "the error is at the 'on' that takes the action there");
        error.Message.Should().Be("action 'revoke_sessions' can land in 'ad' through 'on', which it does not support (it supports entra, okta)");
        error.Hint.Should().Be("write on: [entra, okta] to act only where it can, or split the action");

        // From AD findings alone, 'linked' lands only in Entra and Okta: valid. And a self action still follows match.providers.
        RuleFiles.Load(RuleFiles.Rule(actions: "  - action: revoke_sessions\n    on: linked")).HasErrors.Should().BeFalse();
        RuleFiles.Load(RuleFiles.Rule(actions: "  - action: reset_password\n    on: [entra]\n    with: { set_random: true }")).Diagnostics
            .Should().Contain(d => d.IsError && d.Code == DiagnosticCodes.BadParameter, "set_random is AD only and the action lands in Entra");
    }

    [Fact]
    public void InlineTests_StateLinkedAccountsAndExpectActionsPerProvider()
    {
        var rule = RuleFiles.Valid(RuleFiles.Rule(actions: Compromised, extra: """
            tests:
              - name: the person's accounts
                identity: { name: alice, upn: alice@corp.example.com }
                linked:
                  - { provider: entra, name: alice@corp.example.com }
                  - { provider: okta, name: alice@corp.example.com }
                expect:
                  - disable_user
                  - revoke_sessions: { on: entra }
                  - revoke_sessions: { on: okta }
              - name: no linked account, only the AD action
                expect: [disable_user]
              - name: wrong provider fails
                linked: [{ provider: entra, name: alice@corp.example.com }]
                expect:
                  - disable_user
                  - revoke_sessions: { on: okta }
            """));

        var results = new RuleTestRunner(PrivilegedPolicy.Default).Run([rule]);

        results.Select(r => r.Passed).Should().Equal(true, true, false);
        results[0].Actual.Should().BeEquivalentTo(["disable_user", "revoke_sessions on entra", "revoke_sessions on okta"]);
        results[2].Problem.Should().Be("missing revoke_sessions on okta; unexpected revoke_sessions on entra");
    }

    [Fact]
    public void InlineTests_LinkedAccounts_AreChecked()
    {
        var load = RuleFiles.Load(RuleFiles.Rule(actions: Compromised, extra: """
            tests:
              - name: two entra accounts
                linked:
                  - { provider: entra, name: a }
                  - { provider: entra, name: b }
                expect: [disable_user]
              - name: no provider
                linked: [{ name: a }]
                expect: [disable_user]
              - name: bad on
                expect:
                  - revoke_sessions: { on: gsuite }
            """));

        load.Diagnostics.Where(d => d.IsError).Select(d => (d.Location.Line, d.Message)).Should().BeEquivalentTo(new[]
        {
            (17, "a person has one entra account here: the test already states one"),
            (20, "a linked account needs its provider"),
            (24, "'on' in an expectation names the provider of the account the action is expected on"),
        });
    }

    [Fact]
    public void Planner_LinkedActions_AreOneDecisionPerAccount_RefusedLinksOnRecord()
    {
        var rule = RuleFiles.Valid(RuleFiles.Rule(actions: Compromised));
        var ad = new Identity(Provider.Ad, "a-1", "alice");
        var entra = new Identity(Provider.Entra, "e-1", "alice@corp.example.com");
        var person = new Person(ad, [new AccountLink(entra, "objectSid S-1-5-21-1-2-3-1104 = onPremisesSecurityIdentifier")],
            [new LinkRefusal(Provider.Okta, "2 okta accounts match alice; refusing to guess")]);
        var decisions = new List<Planning.Decision>();

        Planning.Planner.Evaluate(rule, Build.Finding(name: "alice"), ad, Build.Now, decisions, person);

        decisions.Select(d => (d.ActionName, d.Identity?.Id, d.Verdict, d.Guard)).Should().Equal(
            ("disable_user", "a-1", Planning.Verdict.Execute, null),
            ("revoke_sessions", "e-1", Planning.Verdict.Execute, null),
            ("revoke_sessions", null, Planning.Verdict.Skip, "link"));
        decisions[1].Link!.Evidence.Should().StartWith("objectSid");
        decisions[2].Reason.Should().Be("no okta account of alice is acted on: 2 okta accounts match alice; refusing to guess");
    }
}
