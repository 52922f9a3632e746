using ResponseEngine.Diagnostics;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Policy.Conditions;
using ResponseEngine.Rules;
using ResponseEngine.TestKit;

namespace ResponseEngine.Policy.Tests;

public class ConditionTests
{
    private static readonly Identity Admin = Build.Identity("alice", Provider.Ad, groups: ["Tier0 Operators", "Domain Users"]) with { Privileged = true };

    private static ICondition Compile(string text)
    {
        var bag = new DiagnosticBag();
        var condition = ConditionCompiler.Compile(text, offset => new SourceLocation("t.yaml", 1, offset + 1), bag);
        bag.Items.Should().BeEmpty();
        return condition!;
    }

    private static IReadOnlyList<Diagnostic> Errors(string text)
    {
        var bag = new DiagnosticBag();
        ConditionCompiler.Compile(text, offset => new SourceLocation("t.yaml", 1, offset + 1), bag).Should().BeNull();
        return bag.Items;
    }

    private static bool Eval(string text, Finding? finding = null, Identity? identity = null) =>
        Compile(text).Evaluate(new EvaluationContext(finding ?? Build.Finding(), identity ?? Admin, Build.Now));

    [Theory]
    [InlineData("identity.privileged and finding.severity >= 'high'", true)]
    [InlineData("identity.privileged && finding.severity > 'high'", false)]
    [InlineData("finding.severity >= 'HIGH'", true)]
    [InlineData("finding.severity < 'critical' and finding.severity != 'low'", true)]
    [InlineData("finding.severity in ('high', 'critical')", true)]
    [InlineData("finding.type in ('password_spray', 'brute_force')", false)]
    [InlineData("finding.type not in ('password_spray', 'brute_force')", true)]
    [InlineData("finding.type in ('weak_password')", true)]
    [InlineData("not identity.guest", true)]
    [InlineData("!identity.guest || identity.enabled", true)]
    [InlineData("identity.name == 'ALICE'", true)]
    [InlineData("identity.upn == 'alice@corp.example.com'", true)]
    [InlineData("finding.subject.provider == 'ad' and identity.provider == 'ad'", true)]
    [InlineData("'Tier0 Operators' in identity.groups", true)]
    [InlineData("'Domain Admins' in identity.groups", false)]
    [InlineData("member_of('tier0 operators')", true)]
    [InlineData("has_role('Global Administrator')", false)]
    [InlineData("has_tag('break_glass')", false)]
    [InlineData("count(identity.groups) == 2", true)]
    [InlineData("contains(identity.groups, 'domain users')", true)]
    [InlineData("starts_with(identity.upn, 'ALI') and ends_with(identity.upn, '.com')", true)]
    [InlineData("contains(lower(identity.display_name), 'ali')", true)]
    [InlineData("matches(identity.name, '^a[a-z]+$')", true)]
    [InlineData("finding.age_hours >= 1 and finding.age_hours < 2", true)]
    [InlineData("(1 + 2) * 3 == 9 and 10 % 4 == 2 and -1 < 0", true)]
    [InlineData("identity.privileged ? finding.severity >= 'high' : false", true)]
    [InlineData("finding.kind == 'detection'", true)]
    public void Evaluate_Expressions_FollowTheRuleLanguage(string text, bool expected)
    {
        Eval(text).Should().Be(expected);
    }

    [Theory]
    [InlineData("attr('reason') == 'breached'", true)]
    [InlineData("attr('count') > 5", true)]
    [InlineData("attr('count') > 50", false)]
    [InlineData("attr('confirmed')", true)]
    [InlineData("attr('missing') == 'x'", false)]
    [InlineData("attr('missing') != 'x'", true)]
    [InlineData("attr('missing') > 5", false)]
    [InlineData("attr('missing', 7) > 5", true)]
    [InlineData("has_attr('reason') and not has_attr('missing')", true)]
    [InlineData("'mfa' in attr('tags')", true)]
    [InlineData("attr('outcome') in ('success', 'partial')", true)]
    public void Evaluate_Attributes_AreTypedAtRunTime(string text, bool expected)
    {
        var finding = Build.Finding(attributes: new { reason = "breached", count = 12, confirmed = true, tags = new[] { "mfa", "push" }, outcome = "success" });

        Eval(text, finding).Should().Be(expected);
    }

    [Theory]
    [InlineData("attr('reason') > 5")]
    [InlineData("attr('reason')")]
    [InlineData("attr('nested') == 'x'")]
    [InlineData("attr('count') / 0 > 1")]
    public void Evaluate_AttributeOfTheWrongShape_ThrowsConditionException(string text)
    {
        var finding = Build.Finding(attributes: new { reason = "breached", count = 3, nested = new { a = 1 } });

        var act = () => Eval(text, finding);

        act.Should().Throw<ConditionException>();
    }

    [Theory]
    [InlineData("identity.privilged", DiagnosticCodes.UnknownVariable, 1, "did you mean 'identity.privileged'?")]
    [InlineData("privileged", DiagnosticCodes.UnknownVariable, 1, "did you mean 'identity.privileged'?")]
    [InlineData("identity.privileged and membr_of('x')", DiagnosticCodes.UnknownFunction, 25, "did you mean 'member_of'?")]
    [InlineData("member_of('a', 'b')", DiagnosticCodes.UnknownFunction, 1, "call it as member_of(group)")]
    [InlineData("finding.severity >= 'hgh'", DiagnosticCodes.ExpressionType, 21, "did you mean 'high'?")]
    [InlineData("finding.severity in ('high', 'severe')", DiagnosticCodes.ExpressionType, 30, null)]
    [InlineData("identity.name and identity.privileged", DiagnosticCodes.ExpressionType, 1, "compare it, e.g. identity.name == '...'")]
    [InlineData("identity.groups == 'Domain Admins'", DiagnosticCodes.ExpressionType, 1, "test list membership with 'x' in identity.groups or member_of('x')")]
    [InlineData("identity.privileged > true", DiagnosticCodes.ExpressionType, 1, "use == or !=")]
    [InlineData("identity.name + 1 > 2", DiagnosticCodes.ExpressionType, 1, null)]
    [InlineData("identity.groups in ('a')", DiagnosticCodes.ExpressionType, 1, null)]
    [InlineData("identity.name", DiagnosticCodes.ExpressionType, 1, "compare it, e.g. identity.name == 'alice'")]
    [InlineData("matches(identity.name, '[unclosed')", DiagnosticCodes.UnknownFunction, 1, null)]
    [InlineData("attr(identity.name) == 'x'", DiagnosticCodes.UnknownFunction, 1, null)]
    [InlineData("identity.name like 'a%'", DiagnosticCodes.UnsupportedOperator, 15, "use starts_with(), ends_with(), contains() or matches()")]
    [InlineData("identity.privileged and", DiagnosticCodes.ExpressionSyntax, 21, null)]
    public void Compile_BadCondition_ReportsCodePositionAndHint(string text, string code, int column, string? hint)
    {
        var errors = Errors(text);

        var error = errors.Should().Contain(d => d.Code == code, string.Join("\n", errors)).Which;
        error.Location.Column.Should().Be(column, error.ToString());
        if (hint is not null) error.Hint.Should().Be(hint);
    }

    [Fact]
    public void Compile_DeepNesting_IsRefusedBeforeParsing()
    {
        var text = new string('(', 5000) + "true" + new string(')', 5000);

        Errors(text).Should().ContainSingle(d => d.Code == DiagnosticCodes.ExpressionTooComplex);
    }

    [Fact]
    public void Compile_TooLong_IsRefused()
    {
        var text = string.Join(" or ", Enumerable.Repeat("identity.privileged", 400));

        Errors(text).Should().ContainSingle(d => d.Code == DiagnosticCodes.ExpressionTooComplex);
    }

    [Fact]
    public void BracketDottedNames_LeavesStringsAndCallsAlone()
    {
        var (text, _) = ConditionCompiler.BracketDottedNames("identity.privileged and attr('a.b') == 'x.y' and lower(identity.name) == \"q.r\"");

        text.Should().Be("[identity.privileged] and attr('a.b') == 'x.y' and lower([identity.name]) == \"q.r\"");
    }

    [Fact]
    public void Vocabulary_IsDocumented()
    {
        var docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "rules.md"));

        foreach (var (name, _, _) in Vocabulary.DescribeVariables()) docs.Should().Contain($"`{name}`");
        foreach (var (signature, _) in Vocabulary.DescribeFunctions()) docs.Should().Contain(signature.Split('(')[0] + "(");
    }
}
