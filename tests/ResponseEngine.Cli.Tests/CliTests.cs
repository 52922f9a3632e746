using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>The CLI in-process: exit codes and output for each command.</summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public class CliTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error, new FakeTimeProvider(Build.Now));
        return (exit, output.ToString(), error.ToString());
    }

    private static string[] Samples(params string[] extra) =>
    [
        "--rules", RepoPaths.Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory, .. extra,
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Validate_ShippedRules_ExitsZero(bool withAddedRule)
    {
        using var scratch = new TempDirectory();
        var (exit, output, _) = Run("validate", "--rules", UserRuleSets.Rules(withAddedRule, scratch));

        exit.Should().Be(0, output);
        output.Should().MatchRegex(@"\d+ files: \d+ valid rules, 0 invalid; 0 errors, 0 warnings");
    }

    [Fact]
    public void Validate_TenDifferentBrokenRules_ReportsEveryErrorWithPositionsInOneRun()
    {
        using var rules = BrokenRules.Write();

        var (exit, output, _) = Run("validate", "--rules", rules.Path);

        exit.Should().Be(2);
        foreach (var (file, line, column, code) in BrokenRules.Expected)
        {
            output.Should().Contain($"{Path.Combine(rules.Path, file)}:{line}:{column}: error {code}:", output);
        }

        output.Should().Contain($"{BrokenRules.Expected.Length} errors");
    }

    [Fact]
    public void Validate_FileWithThousandsOfProblems_PrintsTheFirstHundredAndCountsEveryOne()
    {
        using var rules = new TempDirectory();
        rules.Write("noisy.yaml", string.Concat(Enumerable.Range(0, 5000).Select(i => $"k{i}: v\n")));

        var (exit, output, _) = Run("validate", "--rules", rules.Path);

        exit.Should().Be(2, "the cap changes what is listed, not the verdict");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Count(l => l.Contains(": error RE", StringComparison.Ordinal)).Should().Be(101);
        output.Should().Contain($"{Path.Combine(rules.Path, "noisy.yaml")}:1:1: error RE0003: missing required field");
        output.Should().Contain(": error RE0016: ").And.Contain("more problems in this file not shown");
        output.Should().MatchRegex(@"1 file: 0 valid rules, 1 invalid; 500\d errors, 0 warnings", "the total counts the hidden problems too");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Test_ShippedRules_AllPass(bool withAddedRule)
    {
        using var scratch = new TempDirectory();
        var (exit, output, _) = Run("test", "--rules", UserRuleSets.Rules(withAddedRule, scratch));

        exit.Should().Be(0, output);
        output.Should().MatchRegex(@"(?m)^\d+ passed, 0 failed$");
    }

    [Fact]
    public void Test_BrokenExpectation_FailsWithExpectedAndActual()
    {
        using var temp = new TempDirectory();
        var source = File.ReadAllText(Path.Combine(RepoPaths.Rules, "ad", "ad-weak-password-privileged.yaml"));
        var broken = source.Replace("      - revoke_group: { groups: [Domain Admins] }", "      - revoke_group: { groups: [Schema Admins] }", StringComparison.Ordinal);
        broken.Should().NotBe(source, "the fixture edits one expectation");
        var path = temp.Write("ad/ad-weak-password-privileged.yaml", broken);

        var (exit, output, _) = Run("test", "--rules", temp.Path);

        exit.Should().Be(1);
        output.Should().Contain($"FAIL {path}:");
        output.Should().Contain("expected: reset_password, revoke_group { groups=[Schema Admins] }");
        output.Should().Contain("actual:   reset_password, revoke_group { groups=[Domain Admins] }");
        output.Should().Contain("missing revoke_group { groups=[Schema Admins] }; unexpected revoke_group { groups=[Domain Admins] }");
        output.Should().MatchRegex(@"(?m)^\d+ passed, 1 failed$");
    }

    [Fact]
    public void Plan_Json_ValidatesAgainstThePlanSchema()
    {
        var (exit, output, error) = Run(["plan", .. Samples("--format", "json")]);

        exit.Should().Be(0, error);
        SchemaValidator.Validate("plan", output).Should().BeEmpty();
        using var document = JsonDocument.Parse(output);
        var decisions = document.RootElement.GetProperty("decisions");
        decisions.GetArrayLength().Should().BeGreaterThan(0);
        var verdicts = decisions.EnumerateArray().Select(d => d.GetProperty("verdict").GetString()).ToHashSet();
        verdicts.Should().Contain(["execute", "skip", "hold"]);
        document.RootElement.GetProperty("summary").GetProperty("decisions").GetInt32().Should().Be(decisions.GetArrayLength());
    }

    [Fact]
    public void Plan_Samples_DecisionsComeFromTheLoadedRulesAndTheCatalogue()
    {
        var (_, output, _) = Run(["plan", .. Samples("--format", "json")]);
        using var document = JsonDocument.Parse(output);
        var decisions = document.RootElement.GetProperty("decisions").EnumerateArray().ToList();

        // Which rules the samples trigger is the rules' business (their inline tests); whatever a user adds or removes,
        // every decision names a rule of the folder and an action of the catalogue.
        var ruleIds = Directory.EnumerateFiles(RepoPaths.Rules, "*.yaml", SearchOption.AllDirectories).Select(Path.GetFileNameWithoutExtension).ToHashSet();
        decisions.Should().NotBeEmpty();
        decisions.Select(d => d.GetProperty("rule").GetProperty("id").GetString()).Distinct().Should().OnlyContain(id => ruleIds.Contains(id));
        decisions.Select(d => d.GetProperty("action").GetString()).Distinct().Should().OnlyContain(a => Actions.ActionCatalogue.Default.Names.Contains(a!));
    }

    [Fact]
    public void Plan_Text_GroupsDecisionsByIdentityWithReasons()
    {
        var (exit, output, _) = Run(["plan", .. Samples()]);

        exit.Should().Be(0);
        output.Should().StartWith("Plan (dry-run) at 2026-11-26 08:00:00Z");
        output.Should().Contain("[identity] no ");
        output.Should().Contain("[rule_mode] rule is in observe mode");
        output.Should().Contain("Would execute: ");
    }

    [Fact]
    public void Plan_Markdown_StaysUnderTheCommentLimit()
    {
        var (exit, output, _) = Run(["plan", .. Samples("--format", "markdown")]);

        exit.Should().Be(0);
        output.Should().StartWith("## ResponseEngine plan (dry-run)");
        output.Length.Should().BeLessThan(65_536);
        output.Should().Contain("<details><summary><code>ad-weak-password-privileged</code>");
    }

    [Fact]
    public void Plan_OutFile_WritesThePlanAndSummarisesOnStderr()
    {
        using var temp = new TempDirectory();
        var file = Path.Combine(temp.Path, "plan.json");

        var (exit, output, error) = Run(["plan", .. Samples("--format", "json", "--out", file)]);

        exit.Should().Be(0);
        output.Should().BeEmpty();
        error.Should().Contain($"plan written to {file}");
        SchemaValidator.Validate("plan", File.ReadAllText(file)).Should().BeEmpty();
    }

    [Fact]
    public void Plan_BadFindings_PlansTheGoodOnesAndExitsTwo()
    {
        using var temp = new TempDirectory();
        var findings = temp.Write("f.ndjson",
            """{"id":"1","source":"t","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"adm-aarcher"}}""" + "\n" +
            """{"id":"2","source":"t","type":"weak_password","severity":"catastrophic","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"adm-aarcher"}}""" + "\n");

        var (exit, output, error) = Run("plan", "--rules", RepoPaths.Rules, "--directory", RepoPaths.SampleDirectory, "--findings", findings);

        exit.Should().Be(2);
        error.Should().Contain($"{findings}:2:47: error RE0102: field 'severity' is 'catastrophic'", "the diagnostic points at the field, not the record");
        output.Should().Contain("1 findings, 1 matched");
        Run("plan", "--rules", RepoPaths.Rules, "--directory", RepoPaths.SampleDirectory, "--findings", findings, "--skip-invalid").Exit.Should().Be(0);
    }

    [Fact]
    public void Plan_MissingDirectory_ExitsTwoWithAHint()
    {
        var (exit, _, error) = Run("plan", "--rules", RepoPaths.Rules, "--directory", "/nonexistent.json", "--findings", RepoPaths.SampleFindings);

        exit.Should().Be(2);
        error.Should().Contain("/nonexistent.json: error RE0202: directory snapshot file does not exist; pass --directory");
        error.Should().NotContain("   at ", "user errors never show stack traces");
    }

    [Fact]
    public void Plan_BrokenRules_ExitsTwoWithoutAPlan()
    {
        using var rules = BrokenRules.Write();

        var (exit, output, error) = Run("plan", "--rules", rules.Path, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory);

        exit.Should().Be(2);
        output.Should().BeEmpty();
        error.Should().Contain("no plan: the rules have");
    }

    [Fact]
    public void Actions_ListsTheCatalogueWithPermissions()
    {
        var (exit, output, _) = Run("actions");

        exit.Should().Be(0);
        output.Should().Contain("revoke_group  [ad, entra, okta]  destructive");
        output.Should().Contain("needs (entra): GroupMember.ReadWrite.All");
        output.Should().Contain("needs (okta): okta.users.manage");

        var (_, json, _) = Run("actions", "--format", "json");
        JsonDocument.Parse(json).RootElement.GetArrayLength().Should().Be(10);
    }

    [Theory]
    [InlineData("finding")]
    [InlineData("rule")]
    [InlineData("directory")]
    [InlineData("plan")]
    public void Schema_PrintsTheEmbeddedSchemaWhichMatchesTheRepositoryFile(string name)
    {
        var (exit, output, _) = Run("schema", name);

        exit.Should().Be(0);
        output.Trim().Should().Be(File.ReadAllText(RepoPaths.Schema(name)).Trim());
    }

    [Fact]
    public void UnknownOption_ExitsTwo()
    {
        var (exit, _, error) = Run("plan", "--formt", "json");

        exit.Should().Be(2);
        error.Should().Contain("--formt");
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("test")]
    [InlineData("plan")]
    [InlineData("run")]
    [InlineData("audit list")]
    [InlineData("audit show")]
    [InlineData("audit export")]
    [InlineData("audit verify")]
    [InlineData("breaker status")]
    [InlineData("breaker rearm")]
    [InlineData("approve")]
    [InlineData("undo")]
    [InlineData("snapshot")]
    [InlineData("permissions")]
    [InlineData("actions")]
    [InlineData("schema")]
    [InlineData("doctor")]
    public void Help_EveryCommandHasDescriptionOptionsAndExamples(string command)
    {
        var (exit, output, _) = Run([.. command.Split(' '), "--help"]);

        exit.Should().Be(0);
        output.Should().Contain("Examples:").And.Contain($"respond {command}").And.Contain("Options:");
    }

    [Fact]
    public void Help_Root_ListsEachCommandOnOneLine()
    {
        var (_, output, _) = Run("--help");

        var commands = output[output.IndexOf("Commands:", StringComparison.Ordinal)..].Split('\n').Skip(1).Where(l => l.Trim().Length > 0).ToList();
        // Continuation lines of a wrapped summary would start with more than two spaces.
        commands.Should().Contain(l => l.TrimStart().StartsWith("doctor ", StringComparison.Ordinal)).And.Contain(l => l.TrimStart().StartsWith("inbox ", StringComparison.Ordinal))
            .And.OnlyContain(l => l.StartsWith("  ", StringComparison.Ordinal) && !l.StartsWith("   ", StringComparison.Ordinal));
    }
}

public class PlanLockoutTests
{
    [Fact]
    public void Plan_RuleThatWouldDisableEveryDomainAdmin_KeepsTheMinimumAndSaysWhy()
    {
        using var temp = new TempDirectory();
        temp.Write("rules/disable-all-admins.yaml", RuleFiles.Rule(id: "disable-all-admins", types: "[test_disable]", when: "member_of('Domain Admins')"));
        var snapshot = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!;
        var admins = snapshot.Users.Where(u => u.Provider == Findings.Provider.Ad && u.Enabled && u.IsMemberOf("Domain Admins")).ToList();
        admins.Count.Should().BeGreaterThan(3);
        var findings = temp.Write("findings.ndjson", string.Join('\n', admins.Select((u, i) =>
            "{\"id\":\"da" + i + "\",\"source\":\"t\",\"type\":\"test_disable\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"ad\",\"id\":\"" + u.Id + "\"}}")));
        var output = new StringWriter();

        var exit = CliApp.Run(["plan", "--rules", Path.Combine(temp.Path, "rules"), "--findings", findings, "--directory", RepoPaths.SampleDirectory, "--format", "json"],
            output, new StringWriter(), new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Build.Now));

        exit.Should().Be(0);
        using var document = System.Text.Json.JsonDocument.Parse(output.ToString());
        var decisions = document.RootElement.GetProperty("decisions").EnumerateArray().ToList();
        var executed = decisions.Count(d => d.GetProperty("verdict").GetString() == "execute");
        var locked = decisions.Where(d => d.GetProperty("guard").GetString() == "lockout_protection").ToList();
        var protectedAccounts = decisions.Count(d => d.GetProperty("guard").GetString() == "protected_identity");
        (admins.Count - executed).Should().BeGreaterThanOrEqualTo(2, "at least two Domain Admins stay enabled");
        locked.Should().NotBeEmpty();
        locked.Should().OnlyContain(d => d.GetProperty("reason").GetString()!.Contains(" holds ") && d.GetProperty("reason").GetString()!.Contains("minimum 2"));
        (executed + locked.Count + protectedAccounts).Should().Be(admins.Count);
    }
}

[Trait("Reads", RepoPaths.ReadsShippedRules)]
public class PermissionsAndSnapshotTests
{
    [Fact]
    public void Permissions_ListsWhatTheShippedRulesNeedPerProvider()
    {
        var output = new StringWriter();

        CliApp.Run(["permissions", "--rules", RepoPaths.Rules, "--format", "json"], output, new StringWriter()).Should().Be(0);

        using var document = System.Text.Json.JsonDocument.Parse(output.ToString());
        var entra = document.RootElement.GetProperty("entra").EnumerateArray().Select(p => p.GetProperty("permission").GetString()).ToList();
        entra.Should().Contain(["IdentityRiskyUser.ReadWrite.All", "User.RevokeSessions.All", "Policy.ReadWrite.ConditionalAccess"]);
        document.RootElement.GetProperty("okta").EnumerateArray().Select(p => p.GetProperty("permission").GetString()).Should().Contain("okta.users.manage");
    }

    [Fact]
    public void Snapshot_ExportsTheWorkingCopyAsAPlannableSnapshot()
    {
        using var temp = new TempDirectory();
        var config = temp.Write("respond.yaml", $"local: {{ snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(temp.Path, "state", "directory.json")} }}\n");
        var file = Path.Combine(temp.Path, "snapshot.json");
        var output = new StringWriter();

        CliApp.Run(["snapshot", "--config", config, "--out", file], output, new StringWriter()).Should().Be(0);

        // Counted from the sample itself: users add accounts to it.
        var users = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!.Users.Length;
        output.ToString().Should().StartWith($"{users} users and");
        SchemaValidator.Validate("directory", File.ReadAllText(file)).Should().BeEmpty();
        Identities.SnapshotReader.ReadFile(file, Identities.PrivilegedPolicy.Default).Snapshot!.Users.Should().HaveCount(users);
    }
}

[Trait("Reads", RepoPaths.ReadsShippedRules)]
public class ConnectorWiringTests
{
    [Fact]
    public void Run_OktaConnectorWithoutSettings_IsBadInputNamingWhatIsMissing()
    {
        using var temp = new TempDirectory();
        var config = temp.Write("respond.yaml", $"rules: {RepoPaths.Rules}\nfindings: [{RepoPaths.SampleFindings}]\naudit: {{ connection: {Path.Combine(temp.Path, "r.db")} }}\nconnectors:\n  okta: {{ kind: okta }}\n");
        var error = new StringWriter();

        var exit = CliApp.Run(["run", "--once", "--config", config], new StringWriter(), error);

        exit.Should().Be(2);
        error.ToString().Should().Contain("connectors.okta").And.Contain("base_url").And.NotContain("   at ");
    }

    [Fact]
    public void Run_UnavailableConnectorKind_IsBadInput()
    {
        using var temp = new TempDirectory();
        var config = temp.Write("respond.yaml", $"rules: {RepoPaths.Rules}\nfindings: [{RepoPaths.SampleFindings}]\naudit: {{ connection: {Path.Combine(temp.Path, "r.db")} }}\nconnectors:\n  ad: {{ kind: graph }}\n");
        var error = new StringWriter();

        CliApp.Run(["run", "--once", "--config", config], new StringWriter(), error).Should().Be(2);
        error.ToString().Should().Contain("connectors.ad: kind 'graph' is not available");
    }

    [Fact]
    public void Run_EntraConnectorWithBadSettings_IsBadInputNamingEachProblem_AndNeverTheSecret()
    {
        using var temp = new TempDirectory();
        var secret = temp.Write("entra-secret", "do-not-print-me");
        var config = temp.Write("respond.yaml", $"rules: {RepoPaths.Rules}\nfindings: [{RepoPaths.SampleFindings}]\naudit: {{ connection: {Path.Combine(temp.Path, "r.db")} }}\n" +
            $"connectors:\n  entra: {{ kind: entra, tenant_id: contoso, auth: client_secret, client_secret_file: {secret} }}\n");
        var error = new StringWriter();

        CliApp.Run(["run", "--once", "--config", config], new StringWriter(), error).Should().Be(2);
        error.ToString().Should().Contain("connectors.entra").And.Contain("tenant_id").And.Contain("client_id").And.NotContain("   at ");
        error.ToString().Should().NotContain("do-not-print-me");
    }
}
