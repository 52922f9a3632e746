using System.Text.Json;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// Honest provenance: a plan or run from a work tree with uncommitted rule changes says so, and the audit records the
/// commit as dirty; per-rule content hashes stay. On a real git repository in a temporary folder.
/// </summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class ProvenanceTests : IDisposable
{
    private readonly GitRepo _repo = new();

    public ProvenanceTests()
    {
        _repo.CopyIn(RepoPaths.Rules, "rules");
        _repo.Commit("rules");
    }

    public void Dispose() => _repo.Dispose();

    private (int Exit, string Out, string Err) Respond(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private string Head => File.ReadAllText(Path.Combine(_repo.Path, ".git", "HEAD")).StartsWith("ref: ", StringComparison.Ordinal)
        ? File.ReadAllText(Path.Combine(_repo.Path, ".git", File.ReadAllText(Path.Combine(_repo.Path, ".git", "HEAD"))[5..].Trim())).Trim()
        : File.ReadAllText(Path.Combine(_repo.Path, ".git", "HEAD")).Trim();

    [Fact]
    public void Plan_UncommittedRuleChanges_SaysSoInTextMarkdownAndJson()
    {
        var edited = Path.Combine(_repo.Rules, "ad", "ad-breached-password-standard-user.yaml");
        File.WriteAllText(edited, File.ReadAllText(edited).Replace("mode: observe", "mode: enforce", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_repo.Rules, "ad", "zz-new.yaml"), RuleFiles.Rule(id: "zz-new"));
        var expected = $"at commit {Head[..7]} + uncommitted changes to 2 files";

        var text = Respond("plan", "--rules", _repo.Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory);
        var markdown = Respond("plan", "--rules", _repo.Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory, "--format", "markdown");
        var json = Respond("plan", "--rules", _repo.Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory, "--format", "json");

        text.Out.Should().Contain(expected, text.Err);
        markdown.Out.Should().Contain(expected);
        using var plan = JsonDocument.Parse(json.Out);
        var rules = plan.RootElement.GetProperty("rules");
        rules.GetProperty("git_commit").GetString().Should().Be(Head);
        rules.GetProperty("provenance").GetString().Should().Be(expected);
        rules.GetProperty("uncommitted").EnumerateArray().Select(f => f.GetString()).Should().BeEquivalentTo("rules/ad/ad-breached-password-standard-user.yaml", "rules/ad/zz-new.yaml");
        var decision = plan.RootElement.GetProperty("decisions")[0].GetProperty("rule");
        decision.GetProperty("git_commit").GetString().Should().Be(Head + "+dirty");
        decision.GetProperty("content_hash").GetString().Should().MatchRegex("^[0-9a-f]{64}$", "per-rule content hashes stay");
    }

    [Fact]
    public void Plan_CleanWorkTree_NamesTheCommitOnly()
    {
        var json = Respond("plan", "--rules", _repo.Rules, "--findings", RepoPaths.SampleFindings, "--directory", RepoPaths.SampleDirectory, "--format", "json");

        using var plan = JsonDocument.Parse(json.Out);
        plan.RootElement.GetProperty("rules").GetProperty("provenance").GetString().Should().Be($"at commit {Head[..7]}");
        plan.RootElement.GetProperty("rules").GetProperty("uncommitted").GetArrayLength().Should().Be(0);
        plan.RootElement.GetProperty("decisions")[0].GetProperty("rule").GetProperty("git_commit").GetString().Should().Be(Head);
    }

    [Fact]
    public async Task Run_UncommittedRuleChange_SummarySaysSoAndTheAuditRecordsTheCommitAsDirty()
    {
        var edited = Path.Combine(_repo.Rules, "okta", "okta-session-hijack.yaml");
        File.AppendAllText(edited, "\n# reviewed\n");
        var database = Path.Combine(_repo.Path, "respond.db");
        var config = _repo.Write("respond.yaml", $"rules: {_repo.Rules}\nfindings: [{RepoPaths.SampleFindings}]\naudit: {{ connection: {database} }}\n" +
            $"local: {{ snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(_repo.Path, "state", "directory.json")} }}\n");

        var (_, output, error) = Respond("run", "--once", "--dry-run", "--config", config);

        output.Should().Contain($"rules at commit {Head[..7]} + uncommitted changes to 1 file", error);
        await using var store = new SqliteAuditStore(database, TimeProvider.System);
        var rows = await store.ReadAsync(new AuditQuery { DryRun = true }, TestContext.Current.CancellationToken);
        rows.Should().NotBeEmpty();
        rows.Where(r => r.Entry.RuleId is not null).Should().OnlyContain(r => r.Entry.RulesCommit == Head + "+dirty");
    }
}
