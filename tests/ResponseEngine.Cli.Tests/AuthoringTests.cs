using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using NJsonSchema;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Diagnostics;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`validate` and `test` as a rule author and a CI job use them: edge cases, machine-readable formats. Fixture rules only.</summary>
public sealed class AuthoringTests : IDisposable
{
    private const string Good = """
        id: good-rule
        title: a rule that loads
        owner: tests
        mode: enforce
        match:
          types: [weak_password]
          providers: [ad]
        when: identity.privileged
        actions:
          - action: disable_user
        tests:
          - name: privileged is disabled
            identity: { privileged: true }
            expect: [disable_user]
          - name: others are left alone
            identity: { privileged: false }
            expect: []
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error, new FakeTimeProvider(Build.Now));
        return (exit, output.ToString(), error.ToString());
    }

    private string Rules(params (string File, string Yaml)[] files)
    {
        foreach (var (file, yaml) in files) _temp.Write(Path.Combine("rules", file), yaml);
        return Path.Combine(_temp.Path, "rules");
    }

    private static string Named(string id) => Good.Replace("id: good-rule", $"id: {id}", StringComparison.Ordinal);

    [Fact]
    public void Validate_RulesNamesOneFile_ValidatesThatFile()
    {
        var folder = Rules(("good-rule.yaml", Good), ("broken.yaml", "id: [x"));

        var (exit, output, _) = Run("validate", "--rules", Path.Combine(folder, "good-rule.yaml"));

        exit.Should().Be(0, output);
        output.Should().Contain("1 file: 1 valid rule, 0 invalid; 0 errors, 0 warnings");
    }

    [Fact]
    public void Validate_RulesNamesAFileThatIsNotYaml_SaysToPassTheRuleFileOrFolder()
    {
        var file = _temp.Write("notes.txt", "not rules");

        var (exit, output, _) = Run("validate", "--rules", file);

        exit.Should().Be(2);
        output.Should().Contain($"{file}: error RE0010: --rules names a file that is not a rule file (*.yaml or *.yml); pass the rule file itself or the folder");
        output.Should().NotContain("does not exist");
    }

    [Fact]
    public void Test_RuleFilterMatchesNothing_IsAnErrorExitingTwo()
    {
        var folder = Rules(("good-rule.yaml", Good));

        var (exit, output, error) = Run("test", "--rules", folder, "--rule", "no-such-rule");

        exit.Should().Be(2);
        error.Should().Contain("--rule 'no-such-rule' matches none of the 1 rule");
        output.Should().NotContain("0 passed, 0 failed");
    }

    [Fact]
    public void Validate_RulesWithBrokenTestsAndDuplicates_CountsValidAndInvalidRules()
    {
        var folder = Rules(
            ("good-rule.yaml", Good),
            ("bad-test.yaml", Named("bad-test").Replace("expect: []", "expect: [enable_user]", StringComparison.Ordinal)),
            ("copy/good-rule.yaml", Good));

        var (exit, output, _) = Run("validate", "--rules", folder);

        exit.Should().Be(2);
        output.Should().Contain("3 files: 1 valid rule, 2 invalid; 2 errors, 0 warnings");
    }

    [Fact]
    public void Validate_SarifForErrorsAndWarnings_ValidatesAgainstTheSarif210Schema()
    {
        var folder = Rules(
            ("unknown-action.yaml", Named("unknown-action").Replace("action: disable_user", "action: disable_usr", StringComparison.Ordinal)),
            ("mismatch.yaml", Named("other-name")),
            ("bad-yaml.yaml", "id: [unclosed\n"),
            ("tab.yaml", Good.Replace("  - action: disable_user", "\t- action: disable_user", StringComparison.Ordinal)));

        var (exit, output, _) = Run("validate", "--rules", folder, "--format", "sarif");

        exit.Should().Be(2);
        SarifSchemaErrors(output).Should().BeEmpty(output);
        using var sarif = JsonDocument.Parse(output);
        var results = sarif.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray().ToList();
        results.Select(r => r.GetProperty("ruleId").GetString()).Should().BeEquivalentTo(
            [DiagnosticCodes.UnknownAction, DiagnosticCodes.IdFileMismatch, DiagnosticCodes.YamlSyntax, DiagnosticCodes.YamlSyntax]);
        var unknown = results.Single(r => r.GetProperty("ruleId").GetString() == DiagnosticCodes.UnknownAction);
        var location = unknown.GetProperty("locations")[0].GetProperty("physicalLocation");
        location.GetProperty("artifactLocation").GetProperty("uri").GetString().Should().EndWith("/rules/unknown-action.yaml");
        location.GetProperty("region").GetProperty("startLine").GetInt32().Should().Be(10);
        location.GetProperty("region").GetProperty("startColumn").GetInt32().Should().Be(13);
        results.Single(r => r.GetProperty("ruleId").GetString() == DiagnosticCodes.IdFileMismatch).GetProperty("level").GetString().Should().Be("warning");
    }

    [Fact]
    public void Test_SarifWithAFailingTest_ValidatesAndPointsAtTheTest()
    {
        var folder = Rules(("good-rule.yaml", Good.Replace("expect: []", "expect: [disable_user]", StringComparison.Ordinal)));

        var (exit, output, _) = Run("test", "--rules", folder, "--format", "sarif");

        exit.Should().Be(1);
        SarifSchemaErrors(output).Should().BeEmpty(output);
        using var sarif = JsonDocument.Parse(output);
        var result = sarif.RootElement.GetProperty("runs")[0].GetProperty("results").EnumerateArray()
            .Single(r => r.GetProperty("ruleId").GetString() == DiagnosticCodes.TestFailed);
        result.GetProperty("message").GetProperty("text").GetString().Should().Contain("test 'others are left alone' of rule 'good-rule' fails");
        result.GetProperty("locations")[0].GetProperty("physicalLocation").GetProperty("region").GetProperty("startLine").GetInt32().Should().Be(15, "the failing test starts there");
    }

    [Fact]
    public void Test_Json_ListsEveryResult()
    {
        var folder = Rules(("good-rule.yaml", Good));

        var (exit, output, _) = Run("test", "--rules", folder, "--format", "json");

        exit.Should().Be(0, output);
        using var json = JsonDocument.Parse(output);
        json.RootElement.GetProperty("summary").GetProperty("passed").GetInt32().Should().Be(2);
        json.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("test").GetString())
            .Should().Equal("privileged is disabled", "others are left alone");
    }

    [Fact]
    public void Validate_GitHub_WritesOneWorkflowCommandPerProblemWithTheDocumentedEscapes()
    {
        // A key with a percent sign and a newline in it, in a file whose name has a comma and a colon.
        var folder = Rules(("a,b:c.yaml", Named("a-b-c").Replace("owner: tests", "owner: tests\n\"own%er\\nx\": 1", StringComparison.Ordinal)));

        var (exit, output, _) = Run("validate", "--rules", folder, "--format", "github");

        exit.Should().Be(2);
        var file = Path.Combine(folder, "a,b:c.yaml").Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);
        output.Should().Contain($"::error file={file},line=4,col=1,title=RE0002::unknown key 'own%25er%0Ax' in the rule;");
        output.Should().Contain($"::warning file={file},line=1,col=5,title=RE1002::rule id 'a-b-c' differs from its file name");
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(l => l.StartsWith("::", StringComparison.Ordinal) || l.StartsWith("1 file:", StringComparison.Ordinal));
    }

    private const string Branching = """
        id: branching
        title: two branches, one never taken
        owner: tests
        mode: enforce
        match:
          types: [weak_password, breached_password]
          providers: [ad]
        when: identity.privileged and (finding.severity >= 'high' or has_tag('vip'))
        actions:
          - action: reset_password
          - action: disable_user
        tests:
          - name: privileged with a high finding
            finding: { severity: high }
            identity: { privileged: true }
            expect: [reset_password, disable_user]
          - name: not privileged
            identity: { privileged: false }
            expect: []
        """;

    [Fact]
    public void TestCoverage_Json_CountsEachConditionOutcomeAndListsRulesWithoutANegativeTest()
    {
        var folder = Rules(("branching.yaml", Branching), ("good-rule.yaml", Good.Replace("""
              - name: others are left alone
                identity: { privileged: false }
                expect: []
            """, "", StringComparison.Ordinal)));

        var (exit, output, _) = Run("test", "--rules", folder, "--coverage", "--format", "json");

        exit.Should().Be(0, output);
        using var json = JsonDocument.Parse(output);
        var coverage = json.RootElement.GetProperty("coverage");
        coverage.GetProperty("rules_without_negative_test").EnumerateArray().Select(r => r.GetString()).Should().Equal("good-rule");
        var branching = coverage.GetProperty("rules").EnumerateArray().Single(r => r.GetProperty("rule").GetString() == "branching");
        branching.GetProperty("conditions").EnumerateArray().Select(c => (c.GetProperty("text").GetString(), c.GetProperty("true").GetInt32(), c.GetProperty("false").GetInt32()))
            .Should().Equal(("identity.privileged", 1, 1), ("finding.severity >= 'high'", 1, 0), ("has_tag('vip')", 0, 0));
        branching.GetProperty("types").EnumerateArray().Select(t => (t.GetProperty("name").GetString(), t.GetProperty("tested").GetBoolean()))
            .Should().Equal(("weak_password", true), ("breached_password", false));
        coverage.GetProperty("outcomes_covered").GetInt32().Should().Be(3 + 1, "branching: privileged both ways, severity true; good-rule: privileged true only");
        coverage.GetProperty("outcomes_total").GetInt32().Should().Be(6 + 2);
    }

    [Fact]
    public void TestCoverage_Text_NamesWhatNoTestReaches()
    {
        var folder = Rules(("branching.yaml", Branching));

        var (exit, output, _) = Run("test", "--rules", folder, "--coverage");

        exit.Should().Be(0, output);
        output.Should().Contain("condition outcomes: 3 of 6");
        output.Should().MatchRegex(@"finding\.severity >= 'high' +true 1, false 0  ← no test makes it false");
        output.Should().MatchRegex(@"has_tag\('vip'\) +true 0, false 0  ← no test reaches it");
        output.Should().Contain("types:   weak_password, breached_password (untested)");
        output.Should().Contain("every rule has a negative test");
        output.Should().EndWith("2 passed, 0 failed" + Environment.NewLine);
    }

    [Fact]
    public void ExampleWorkflow_ValidatesAndTestsWithGitHubAnnotations()
    {
        var workflow = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "rules-ci.yaml"));

        workflow.Should().Contain("respond validate --rules rules --format github").And.Contain("respond test --rules rules --format github");
    }

    [Theory]
    [InlineData("100% done", "100%25 done", "100%25 done")]
    [InlineData("a\r\nb", "a%0D%0Ab", "a%0D%0Ab")]
    [InlineData("key: a, b", "key: a, b", "key%3A a%2C b")]
    [InlineData("bell\u0007esc\u001b[31m", "bell\\x07esc\\e[31m", "bell\\x07esc\\e[31m")]
    public void GitHub_Escaping_FollowsTheActionsToolkit(string raw, string data, string property)
    {
        DiagnosticFormats.Data(raw).Should().Be(data);
        DiagnosticFormats.Property(raw).Should().Be(property);
    }

    internal static List<string> SarifSchemaErrors(string json)
    {
        var schema = JsonSchema.FromFileAsync(Path.Combine(RepoPaths.Root, "tests", "ResponseEngine.Cli.Tests", "Sarif", "sarif-schema-2.1.0.json")).GetAwaiter().GetResult();
        return [.. schema.Validate(json).Select(e => $"{e.Path}: {e.Kind} {e.Property}")];
    }
}
