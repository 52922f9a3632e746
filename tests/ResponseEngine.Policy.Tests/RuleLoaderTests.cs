using ResponseEngine.Diagnostics;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

public class RuleLoaderTests
{
    private const string Valid = """
        id: test-rule
        title: Privileged account with weak password
        owner: identity-security
        mode: enforce
        expires: 2027-06-30
        match:
          types: [weak_password]
          providers: [ad]
          min_severity: medium
        when: identity.privileged and not identity.guest
        actions:
          - action: reset_password
          - action: revoke_group
            with: { groups: [Domain Admins] }
        limits: { max_per_hour: 10, cooldown: 24h }
        approval: required
        tests:
          - name: acts
            finding: { severity: high, subject: { name: alice } }
            identity: { groups: [Domain Admins] }
            expect: [reset_password, { revoke_group: { groups: [Domain Admins] } }]
          - name: does not act
            identity: { privileged: false }
            expect: []
        """;

    [Fact]
    public void Load_ValidRule_ReadsEveryField()
    {
        var rule = RuleFiles.Valid(Valid);

        rule.Id.Should().Be("test-rule");
        rule.Mode.Should().Be(RuleMode.Enforce);
        rule.Expires.Should().Be(new DateOnly(2027, 6, 30));
        rule.Match.Types.Should().Equal("weak_password");
        rule.Match.MinSeverity.Should().Be(Findings.Severity.Medium);
        rule.When!.Text.Should().Be("identity.privileged and not identity.guest");
        rule.Actions.Select(a => a.Action.Name).Should().Equal("reset_password", "revoke_group");
        rule.Actions[1].Parameters.Strings("groups").Should().Equal("Domain Admins");
        rule.Limits.Should().Be(new RuleLimits(10, TimeSpan.FromHours(24)));
        rule.Approval.Should().Be(ApprovalMode.Required);
        rule.Tests.Should().HaveCount(2);
        rule.Source.ContentHash.Should().MatchRegex("^[0-9a-f]{64}$");
    }

    public static TheoryData<string, string, int, int> BrokenRules => new()
    {
        // yaml, code, line, column
        { "id: x\ntitle: [unclosed\n", DiagnosticCodes.YamlSyntax, 2, 8 },
        { Valid.Replace("title:", "titel:"), DiagnosticCodes.UnknownKey, 2, 1 },
        { Valid.Replace("owner: identity-security\n", ""), DiagnosticCodes.MissingField, 1, 1 },
        { Valid.Replace("title: Privileged account with weak password", "title: [a, b]"), DiagnosticCodes.WrongType, 2, 8 },
        { Valid.Replace("mode: enforce", "mode: enforced"), DiagnosticCodes.InvalidValue, 4, 7 },
        { Valid.Replace("expires: 2027-06-30", "expires: 2027-13-45"), DiagnosticCodes.InvalidDate, 5, 10 },
        { Valid.Replace("mode: enforce", "mode: enforce\nmode: observe"), DiagnosticCodes.DuplicateKey, 5, 1 },
        { Valid.Replace("owner: identity-security", "owner: &who identity-security"), DiagnosticCodes.UnsupportedYaml, 3, 8 },
        { Valid.Replace("id: test-rule", "id: Test_Rule"), DiagnosticCodes.InvalidId, 1, 5 },
        { Valid.Replace("providers: [ad]", "providers: [ad, gsuite]"), DiagnosticCodes.UnknownProvider, 8, 19 },
        { Valid.Replace("min_severity: medium", "min_severity: severe"), DiagnosticCodes.InvalidSeverity, 9, 17 },
        { Valid.Replace("cooldown: 24h", "cooldown: a day"), DiagnosticCodes.InvalidDuration, 15, 39 },
        { Valid.Replace("types: [weak_password]", "types: []"), DiagnosticCodes.EmptyList, 7, 10 },
        { Valid.Replace("action: reset_password", "action: reset_pasword"), DiagnosticCodes.UnknownAction, 12, 13 },
        { Valid.Replace("providers: [ad]", "providers: [entra]").Replace("action: reset_password", "action: deactivate_user"), DiagnosticCodes.ActionProviderUnsupported, 12, 13 },
        { Valid.Replace("with: { groups: [Domain Admins] }", "with: { groups: [Domain Admins], recursive: true }"), DiagnosticCodes.UnknownParameter, 14, 38 },
        { Valid.Replace("with: { groups: [Domain Admins] }", "with: { }"), DiagnosticCodes.MissingParameter, 14, 11 },
        { Valid.Replace("with: { groups: [Domain Admins] }", "with: { groups: Domain Admins }"), DiagnosticCodes.BadParameter, 14, 21 },
        { Valid.Replace("not identity.guest", "not (identity.guest"), DiagnosticCodes.ExpressionSyntax, 10, 35 },
        { Valid.Replace("not identity.guest", "not identity.gust"), DiagnosticCodes.UnknownVariable, 10, 35 },
        { Valid.Replace("not identity.guest", "not is_guest()"), DiagnosticCodes.UnknownFunction, 10, 35 },
        { Valid.Replace("not identity.guest", "identity.name"), DiagnosticCodes.ExpressionType, 10, 31 },
        { Valid.Replace("not identity.guest", "identity.name like 'a%'"), DiagnosticCodes.UnsupportedOperator, 10, 45 },
        { Valid.Replace("not identity.guest", new string('(', 40) + "true" + new string(')', 40)), DiagnosticCodes.ExpressionTooComplex, 10, 7 },
        { Valid.Replace("name: acts", "nam: acts"), DiagnosticCodes.UnknownKey, 18, 5 },
        { Valid.Replace("identity: { groups: [Domain Admins] }", "identity: { groups: [Domain Admins], enabled: maybe }"), DiagnosticCodes.WrongType, 20, 51 },
        { Valid.Replace("finding: { severity: high,", "finding: { severity: urgent,"), DiagnosticCodes.BadTest, 19, 14 },
        { Valid.Replace("expect: [reset_password,", "expect: [disable_user,"), DiagnosticCodes.UnknownExpectedAction, 21, 14 },
    };

    [Theory]
    [MemberData(nameof(BrokenRules))]
    public void Load_BrokenRule_ReportsCodeAtPosition(string yaml, string code, int line, int column)
    {
        var load = RuleFiles.Load(yaml);

        load.HasErrors.Should().BeTrue();
        load.RuleSet.Should().BeNull("a rule set with errors is never used");
        load.Diagnostics.Should().Contain(d => d.Code == code,
            $"expected {code}, got:\n{string.Join("\n", load.Diagnostics)}");
        var diagnostic = load.Diagnostics.First(d => d.Code == code);
        (diagnostic.Location.Line, diagnostic.Location.Column).Should().Be((line, column), diagnostic.ToString());
        diagnostic.Location.File.Should().Be("rules/test/test-rule.yaml");
    }

    [Fact]
    public void Load_DuplicateIds_ReportsEachDuplicateWithTheFirstPlace()
    {
        var load = RuleFiles.Load(("rules/a/test-rule.yaml", Valid), ("rules/b/test-rule.yaml", Valid));

        var duplicate = load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.DuplicateId).Subject;
        duplicate.Location.Should().Be(new SourceLocation("rules/b/test-rule.yaml", 1, 1));
        duplicate.Message.Should().Contain("rules/a/test-rule.yaml:1");
    }

    [Fact]
    public void Load_UnknownKey_SuggestsTheClosestKey()
    {
        var load = RuleFiles.Load(Valid.Replace("owner:", "onwer:"));

        load.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.UnknownKey && d.Hint == "did you mean 'owner'?");
    }

    [Fact]
    public void Load_ManyErrorsInOneFile_ReportsAllOfThem()
    {
        var yaml = Valid.Replace("mode: enforce", "mode: enforced")
            .Replace("action: reset_password", "action: reset_pasword")
            .Replace("not identity.guest", "not identity.gust")
            .Replace("providers: [ad]", "providers: [ad, gsuite]");

        var load = RuleFiles.Load(yaml);

        load.Diagnostics.Select(d => d.Code).Should().Contain(
        [
            DiagnosticCodes.InvalidValue, DiagnosticCodes.UnknownAction, DiagnosticCodes.UnknownVariable, DiagnosticCodes.UnknownProvider,
        ]);
    }

    [Fact]
    public void Load_RuleWithoutNegativeTest_Warns()
    {
        var yaml = Valid[..Valid.IndexOf("  - name: does not act", StringComparison.Ordinal)];

        var load = RuleFiles.Load(yaml);

        load.HasErrors.Should().BeFalse();
        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.TestsIncomplete && !d.IsError)
            .Which.Message.Should().Contain("no test that expects no action");
    }

    [Fact]
    public void Load_ExpiredRule_WarnsAndStillLoads()
    {
        var load = RuleFiles.Load(Valid.Replace("expires: 2027-06-30", "expires: 2025-01-31"));

        load.HasErrors.Should().BeFalse();
        load.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.RuleExpired);
    }

    [Fact]
    public void Load_IdDiffersFromFileName_Warns()
    {
        var load = RuleFiles.Load(Valid, "rules/ad/other-name.yaml");

        load.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.IdFileMismatch && !d.IsError);
    }

    [Fact]
    public void Load_SetRandomWithEntraProvider_IsRejected()
    {
        var yaml = RuleFiles.Rule(providers: "[ad, entra]", actions: "  - action: reset_password\n    with: { set_random: true }");

        var load = RuleFiles.Load(yaml);

        load.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.BadParameter && d.Message.Contains("applies only to ad"));
    }

    [Fact]
    public void Load_BlockScalarCondition_PositionsErrorsInsideTheBlock()
    {
        var yaml = Valid.Replace("when: identity.privileged and not identity.guest", "when: >-\n  identity.privileged\n  and not identity.gueste");

        var load = RuleFiles.Load(yaml);

        var diagnostic = load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.UnknownVariable).Subject;
        (diagnostic.Location.Line, diagnostic.Location.Column).Should().Be((12, 11));
    }

    [Fact]
    public void Load_YamlAliasBomb_IsRefusedWithoutExpanding()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n";

        var load = RuleFiles.Load(yaml);

        load.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.UnsupportedYaml);
    }

    [Fact]
    public void Load_EmptyFile_IsAnError()
    {
        var load = RuleFiles.Load("# only a comment\n");

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.MissingField && d.Message == "rule file is empty");
    }

    [Fact]
    public void Load_TwoDocuments_IsRefused()
    {
        var load = RuleFiles.Load(Valid + "\n---\n" + Valid);

        load.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.UnsupportedYaml && d.Message.Contains("more than one YAML document"));
    }

    [Fact]
    public void LoadDirectory_MissingFolder_IsAnError()
    {
        var load = Rules.RuleLoader.Default(RuleFiles.Clock()).LoadDirectory("/nonexistent/rules");

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.FileUnreadable && d.Hint!.Contains("--rules"));
    }

    [Fact]
    public void Load_HugeFile_IsRefusedUnread()
    {
        var load = RuleFiles.Load(Valid + "\n# " + new string('x', 1_100_000) + "\n");

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.FileUnreadable && d.Message.Contains("larger than 1024 KiB"));
    }

    [Fact]
    public void Load_NotUtf8_IsRefused()
    {
        var load = RuleLoader().Load([("rules/bad.yaml", new byte[] { 0x69, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a })], null);

        load.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.FileUnreadable && d.Message == "rule file is not UTF-8 text");
    }

    private static Rules.RuleLoader RuleLoader() => Rules.RuleLoader.Default(RuleFiles.Clock());
}
