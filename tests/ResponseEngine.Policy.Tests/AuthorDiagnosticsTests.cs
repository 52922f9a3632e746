using CsCheck;
using ResponseEngine.Actions;
using ResponseEngine.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

/// <summary>What a rule author sees for one mistake: one root error at the place to fix, in words, never the errors that follow from it.</summary>
public class AuthorDiagnosticsTests
{
    private const string Rule = """
        id: test-rule
        title: t
        owner: o
        mode: enforce
        match:
          types: [weak_password]
          providers: [ad]
        when: identity.privileged
        actions:
          - action: reset_password
          - action: revoke_group
            with: { groups: [Domain Admins] }
        tests:
          - name: acts
            expect: [reset_password, { revoke_group: { groups: [Domain Admins] } }]
          - name: acts too
            expect: [reset_password, revoke_group]
          - name: does not act
            identity: { privileged: false }
            expect: []
        """;

    [Fact]
    public void Load_UnknownActionTheTestsExpect_ReportsOnlyTheUnknownAction()
    {
        var load = RuleFiles.Load(Rule.Replace("action: reset_password", "action: reset_pasword")
            .Replace("expect: [reset_password,", "expect: [reset_pasword,"));

        load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics))
            .Which.Should().Match<Diagnostic>(d => d.Code == DiagnosticCodes.UnknownAction && d.Location.Line == 10 && d.Location.Column == 13);
    }

    [Fact]
    public void Load_UnknownActionTheTestsDoNotName_ReportsOnlyTheUnknownAction()
    {
        var load = RuleFiles.Load(Rule.Replace("action: reset_password", "action: reset_pasword"));

        load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics)).Which.Code.Should().Be(DiagnosticCodes.UnknownAction,
            "the tests expecting reset_password name an action the rule meant to have; the misspelling is the one mistake");
    }

    [Fact]
    public void Load_BadParameterOfAnActionTheTestsExpect_ReportsOnlyTheParameter()
    {
        var load = RuleFiles.Load(Rule.Replace("with: { groups: [Domain Admins] }", "with: { groups: Domain Admins }"));

        load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics))
            .Which.Should().Match<Diagnostic>(d => d.Code == DiagnosticCodes.BadParameter && d.Location.Line == 12);
    }

    [Fact]
    public void Load_TestExpectingAnActionTheRuleLacks_ReportsRE0041AndNoMissingTestWarning()
    {
        var load = RuleFiles.Load(Rule.Replace("expect: [reset_password, revoke_group]", "expect: [disable_user]"));

        load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics))
            .Which.Should().Match<Diagnostic>(d => d.Code == DiagnosticCodes.UnknownExpectedAction && d.Hint!.Contains("reset_password, revoke_group"));
    }

    [Fact]
    public void Load_AnyMisspelledActionName_ReportsExactlyOneError()
    {
        var names = ActionCatalogue.Default.Names.ToHashSet(StringComparer.Ordinal);
        Gen.String[Gen.Char['a', 'z'], 3, 20].Where(n => !names.Contains(n)).Sample(name =>
        {
            var yaml = Rule.Replace("action: revoke_group", $"action: {name}").Replace("revoke_group: { groups: [Domain Admins] }", $"{name}: {{ groups: [Domain Admins] }}")
                .Replace("reset_password, revoke_group]", $"reset_password, {name}]");
            var load = RuleFiles.Load(yaml);
            load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics)).Which.Code.Should().Be(DiagnosticCodes.UnknownAction);
        }, iter: 200);
    }

    public static TheoryData<string, int, int, string> YamlMistakes => new()
    {
        // the rule with one mistake, where it is reported, and a word of the translated message
        { Rule.Replace("  - action: reset_password", "\t- action: reset_password"), 10, 1, "tab" },
        { Rule.Replace("    with: { groups: [Domain Admins] }", "\twith: { groups: [Domain Admins] }"), 12, 1, "tab" },
        { Rule.Replace("title: t", "title: \"unclosed"), 2, 8, "quoted text is not closed" },
        { Rule.Replace("title: t", "title: [unclosed"), 2, 8, "'[' is not closed" },
        { Rule.Replace("owner: o", "owner o"), 3, 1, "no ':'" },
        { Rule.Replace("  providers: [ad]", "   providers: [ad]"), 7, 4, "indented differently" },
        { Rule.Replace("title: t", "title: note: this"), 2, 12, "second key" },
        { Rule.Replace("title: t", "title: @t"), 2, 8, "'@'" },
    };

    [Theory]
    [MemberData(nameof(YamlMistakes))]
    public void Load_YamlSyntaxError_IsTranslatedWithAHintAtTheCause(string yaml, int line, int column, string words)
    {
        var load = RuleFiles.Load(yaml);

        var error = load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics)).Subject;
        error.Code.Should().Be(DiagnosticCodes.YamlSyntax);
        error.Message.Should().Contain(words).And.NotContain("While ", "the parser's own words are not the author's");
        error.Hint.Should().NotBeNullOrEmpty();
        (error.Location.Line, error.Location.Column).Should().Be((line, column), error.ToString());
    }

    [Theory]
    [InlineData("not (identity.guest", 7 + 4, "'(' is not closed")]
    [InlineData("(identity.guest or (identity.privileged)", 7, "'(' is not closed")]
    [InlineData("identity.guest or (identity.privileged and (identity.enabled)", 7 + 18, "'(' is not closed")]
    [InlineData("identity.guest)", 7 + 14, "')' closes nothing")]
    [InlineData("identity.name == '(' and (identity.guest", 7 + 25, "'(' is not closed")]
    public void Load_UnbalancedParenthesis_ReportedAtTheParenthesis(string condition, int column, string words)
    {
        var load = RuleFiles.Load(Rule.Replace("when: identity.privileged", $"when: {condition}"));

        var error = load.Diagnostics.Should().ContainSingle(string.Join("\n", load.Diagnostics)).Subject;
        error.Code.Should().Be(DiagnosticCodes.ExpressionSyntax);
        error.Message.Should().Contain(words);
        (error.Location.Line, error.Location.Column).Should().Be((8, column), error.ToString());
    }

    [Fact]
    public void Load_UnclosedParenthesisInAQuotedCondition_ReportedAtTheParenthesis()
    {
        var load = RuleFiles.Load(Rule.Replace("when: identity.privileged", "when: \"identity.privileged and (identity.guest\""));

        var error = load.Diagnostics.Should().ContainSingle().Subject;
        (error.Location.Line, error.Location.Column).Should().Be((8, 8 + 24), error.ToString());
    }

    [Theory]
    [InlineData("expect: [reset_password, revoke_group]", "expect: [reset_password, { revoke_group: { groups: [\"\"] } }]")]
    [InlineData("  - name: acts too", "  - name: \"\"")]
    [InlineData("  - name: acts too", "  - name: acts too\n    finding: { subject: { name: \"\" } }")]
    public void Load_EmptyString_ReadsAsEmpty(string from, string to)
    {
        var load = RuleFiles.Load(Rule.Replace(from, to));

        load.Diagnostics.Should().NotBeEmpty();
        load.Diagnostics.Should().OnlyContain(d => !d.Message.Contains("found a string"), string.Join("\n", load.Diagnostics));
        load.Diagnostics[0].Message.Should().Contain("empty");
    }

    [Fact]
    public void Load_RuleWithABrokenTestAndADuplicate_IsNotCountedValid()
    {
        var load = RuleFiles.Load(
            ("rules/a/test-rule.yaml", Rule),
            ("rules/b/other.yaml", Rule.Replace("id: test-rule", "id: other").Replace("expect: []", "expect: [disable_user]")),
            ("rules/c/test-rule.yaml", Rule));

        load.FileCount.Should().Be(3);
        load.ValidRuleCount.Should().Be(1, "a/test-rule is whole; b has a broken test, c a duplicate id");
        load.InvalidFileCount.Should().Be(2);
    }
}
