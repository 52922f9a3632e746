using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond run` and the operator commands end to end on the embedded default, in a scratch folder.</summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class RunCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(Build.Now);
    private readonly string _config;

    public RunCommandTests()
    {
        _config = Config();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private string Db => Path.Combine(_temp.Path, "respond.db");

    private string Config(string extra = "", string? findings = null, string? rules = null) => _temp.Write($"respond-{Guid.NewGuid():N}.yaml", $"""
        rules: {rules ?? RepoPaths.Rules}
        findings: [{findings ?? RepoPaths.SampleFindings}]
        audit: {"{"} connection: {Db} {"}"}
        local: {"{"} snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(_temp.Path, "state", "directory.json")} {"}"}
        {extra}
        """);

    private bool WorkingCopyUnchanged()
    {
        var workingCopy = Path.Combine(_temp.Path, "state", "directory.json");
        if (!File.Exists(workingCopy)) return true;
        var before = ResponseEngine.Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, ResponseEngine.Identities.PrivilegedPolicy.Default).Snapshot!;
        var after = ResponseEngine.Identities.SnapshotReader.ReadFile(workingCopy, ResponseEngine.Identities.PrivilegedPolicy.Default).Snapshot!;
        return before.Users.Select(u => (u.Id, u.Enabled, u.Groups.Length, u.Roles.Length)).SequenceEqual(after.Users.Select(u => (u.Id, u.Enabled, u.Groups.Length, u.Roles.Length)));
    }

    private (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(args, output, error, _time);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Run_EmbeddedDefault_AppliesAuditsAndPrintsASummaryByStatus()
    {
        var (exit, output, error) = Run("run", "--once", "--config", _config);

        exit.Should().Be(0, error);
        output.Should().MatchRegex(@"run \S+: 663 findings, \d+ decisions");
        output.Should().MatchRegex(@"(?m)^succeeded\s+\d+$").And.MatchRegex(@"(?m)^skipped\s+\d+$");
        output.Should().Contain("not executed, by guard:").And.Contain("identity").And.Contain("rate_limited").And.Contain("breaker");
        File.Exists(Db).Should().BeTrue();
        File.ReadAllText(RepoPaths.SampleDirectory).Should().NotContain("password_must_change\": true", "the sample itself is never changed");
    }

    /// <summary>
    /// An unreadable local directory is bad input, said once with its position, and nothing is decided: it used to be read
    /// per lookup, so the run recorded one `identity` skip per decision ("directory lookup failed") and exited 0.
    /// </summary>
    [Theory]
    [InlineData("not json", "{\"users\": [ {\"id\": \u00ff")]
    [InlineData("wrong shape", "{\"users\": 42}")]
    public void Run_LocalSnapshotUnreadable_SaysWhereAndExits2WithoutDecidingAnything(string what, string content)
    {
        var snapshot = _temp.Write($"broken-{what.Replace(' ', '-')}.json", content);
        var config = _temp.Write($"broken-{what.Replace(' ', '-')}.yaml", $"""
            rules: {RepoPaths.Rules}
            findings: [{RepoPaths.SampleFindings}]
            audit: {"{"} connection: {Db} {"}"}
            local: {"{"} snapshot: {snapshot}, working_copy: {Path.Combine(_temp.Path, "state", "directory.json")} {"}"}
            """);

        var (exit, output, error) = Run("run", "--once", "--config", config);

        exit.Should().Be(2, output + error);
        error.Should().Contain("respond: nothing done: the local directory").And.MatchRegex(@"directory\.json:\d+:\d+: error RE02\d\d")
            .And.Contain(snapshot, "the snapshot the working copy came from is named, the file a user edits");
        output.Should().NotContain("decisions");
        Run("audit", "list", "--config", config).Out.Should().NotContain("identity", "nothing was decided, so nothing is recorded");
    }

    [Fact]
    public void Run_AuditStoreCannotBeOpened_DoesNothingAndExits1()
    {
        var blocker = _temp.Write("not-a-folder", "a file where the audit database's folder should be");
        var config = _temp.Write("unopenable.yaml", $"""
            rules: {RepoPaths.Rules}
            findings: [{RepoPaths.SampleFindings}]
            audit: {"{"} connection: {Path.Combine(blocker, "respond.db")} {"}"}
            local: {"{"} snapshot: {RepoPaths.SampleDirectory}, working_copy: {Path.Combine(_temp.Path, "state", "directory.json")} {"}"}
            """);

        var (exit, output, error) = Run("run", "--once", "--config", config);

        exit.Should().Be(1, output + error);
        error.Should().Contain("respond: nothing done: the audit store cannot be opened");
        output.Should().NotContain("succeeded");
        WorkingCopyUnchanged().Should().BeTrue("no action runs without an audit trail");
    }

    [Fact]
    public void Run_Twice_ExecutesNothingNew()
    {
        var first = Run("run", "--once", "--config", _config);
        first.Exit.Should().Be(0, first.Out + first.Err);

        var (exit, output, _) = Run("run", "--once", "--config", _config);

        exit.Should().Be(0);
        output.Should().NotMatchRegex(@"(?m)^succeeded\s");
        output.Should().NotMatchRegex(@"(?m)^failed\s");
        output.Should().Contain("dedupe");
    }

    [Fact]
    public void Run_DryRun_WritesDryRunRowsAndChangesNothing()
    {
        var (exit, output, _) = Run("run", "--once", "--dry-run", "--config", _config);

        exit.Should().Be(0);
        output.Should().Contain("(dry-run)").And.MatchRegex(@"(?m)^dry_run\s+\d+$");
        WorkingCopyUnchanged().Should().BeTrue("a dry run touches nothing");
        var (_, list, _) = Run("audit", "list", "--status", "intended", "--config", _config);
        list.Split('\n').Should().HaveCount(2, "only the header: no intents in a dry run");
    }

    [Fact]
    public void Run_ReadOnlyAuditDatabase_ExecutesNothingAndExitsOne()
    {
        Run("audit", "verify", "--config", _config).Exit.Should().Be(0, "creates the database");
        SqliteConnection.ClearAllPools();

        // CI runs as root, which ignores file modes: a read-only connection stands in for a read-only file.
        var readOnly = Config().Replace($"connection: {Db}", $"connection: \"Data Source={Db};Mode=ReadOnly\"", StringComparison.Ordinal);
        File.WriteAllText(readOnly, File.ReadAllText(readOnly).Replace($"connection: {Db}", $"connection: \"Data Source={Db};Mode=ReadOnly\"", StringComparison.Ordinal));
        var (exit, output, error) = Run("run", "--once", "--config", readOnly);

        exit.Should().Be(1, output + error);
        error.Should().Contain("audit").And.NotContain("   at ");
        WorkingCopyUnchanged().Should().BeTrue("no action may run without its audit intent");
    }

    [Fact]
    public void AuditVerify_DetectsARowAlteredByHand()
    {
        Run("run", "--once", "--config", _config).Exit.Should().Be(0);
        Run("audit", "verify", "--config", _config).Exit.Should().Be(0);

        using (var connection = new SqliteConnection($"Data Source={Db}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'trigger'";
            var triggers = new List<string>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read()) triggers.Add(reader.GetString(0));
            }

            foreach (var trigger in triggers)
            {
                command.CommandText = $"DROP TRIGGER \"{trigger}\"";
                command.ExecuteNonQuery();
            }

            command.CommandText = "UPDATE audit_log SET reason = 'nothing to see here' WHERE sequence = 5";
            command.ExecuteNonQuery().Should().Be(1);
        }

        SqliteConnection.ClearAllPools();
        var (exit, output, _) = Run("audit", "verify", "--config", _config);

        exit.Should().Be(1);
        output.Should().Contain("BROKEN at row #5");
    }

    [Fact]
    public void BreakerRearm_IsAuditedAndClosesTheBreaker()
    {
        var config = Config("guards: { breaker: { threshold: 3, window: 1h } }");
        Run("run", "--once", "--config", config);

        var (statusExit, status, _) = Run("breaker", "status", "--config", config);
        statusExit.Should().Be(1);
        status.Should().StartWith("breaker OPEN since");

        Run("breaker", "rearm", "--reason", "reviewed", "--config", config).Out.Should().StartWith("breaker re-armed (audit #");
        Run("breaker", "status", "--config", config).Exit.Should().Be(0);
        Run("audit", "list", "--status", "breaker_rearmed", "--config", config).Out.Should().Contain("breaker_rearmed");
    }

    /// <summary>A rule that requires approval, one finding for it, one run: the audit number of the held decision, and the config.</summary>
    private (string Id, string Config) HeldForApproval(string extra = "")
    {
        // Its own rule and finding: what the shipped rules do to the samples (limits, breaker) must not decide this test.
        var snapshot = ResponseEngine.Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, ResponseEngine.Identities.PrivilegedPolicy.Default).Snapshot!;
        var user = snapshot.Users.First(u => u.Provider == Findings.Provider.Okta && u.Enabled && !u.Privileged && u.Tags.IsEmpty);
        _temp.Write("approval-rules/approve-deactivate.yaml", RuleFiles.Rule(id: "approve-deactivate", types: "[account_takeover]", providers: "[okta]",
            actions: "  - action: deactivate_user", extra: "approval: required"));
        var findings = _temp.Write("approval-findings.json",
            "{\"id\":\"ato-1\",\"source\":\"t\",\"type\":\"account_takeover\",\"severity\":\"critical\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"id\":\"" + user.Id + "\"}}");
        var config = Config(extra, findings: findings, rules: Path.Combine(_temp.Path, "approval-rules"));
        Run("run", "--once", "--config", config);
        var held = Run("audit", "list", "--status", "held", "--limit", "500", "--config", config).Out
            .Split('\n').First(l => l.Contains("[approval]", StringComparison.Ordinal));
        return (held.Trim().Split(' ')[0], config);
    }

    [Fact]
    public void ApproveThenRun_ExecutesTheHeldDecision()
    {
        var (id, config) = HeldForApproval();

        Run("approve", id, "--reason", "confirmed with the user's manager", "--config", config).Out.Should().Contain($"approved deactivate_user");
        var (_, output, _) = Run("run", "--once", "--config", config);

        Run("audit", "list", "--status", "succeeded", "--limit", "500", "--config", config).Out.Should().Contain("deactivate_user");
        output.Should().NotContain("failed");
    }

    [Theory]
    [InlineData("breaker", "rearm")]
    [InlineData("approve", "1")]
    [InlineData("reject", "1")]
    [InlineData("undo", "1")]
    public void OperatorCommand_BlankReason_IsRefusedBeforeAnythingIsWritten(string command, string argument)
    {
        foreach (var blank in new[] { "", "   ", "\t" })
        {
            var (exit, _, error) = Run(command, argument, "--reason", blank, "--config", _config);

            exit.Should().Be(2, error);
            error.Should().Contain("--reason must say why").And.Contain("blank");
        }

        File.Exists(Db).Should().BeFalse("a refused command opens no audit store");
    }

    [Fact]
    public void Reject_RecordsTheReasonAndTheDecisionNeverRuns()
    {
        var (id, config) = HeldForApproval();

        var (exit, output, error) = Run("reject", id, "--reason", "false positive: new phone", "--config", config);

        exit.Should().Be(0, error);
        output.Should().StartWith("rejected deactivate_user");
        var approve = Run("approve", id, "--reason", "changed my mind", "--config", config);
        approve.Exit.Should().Be(2);
        approve.Err.Should().Contain("was rejected by").And.Contain("false positive: new phone");
        Run("run", "--once", "--config", config);
        Run("audit", "list", "--status", "succeeded", "--limit", "500", "--config", config).Out.Should().NotContain("deactivate_user");
        Run("audit", "list", "--status", "skipped", "--limit", "500", "--config", config).Out.Should().Contain("rejected by");
        var row = Run("audit", "list", "--status", "rejected", "--config", config).Out;
        row.Should().Contain("rejected");
    }

    [Fact]
    public void ApprovalsList_ShowsWhatWaitsUntilItIsAnswered()
    {
        var (id, config) = HeldForApproval();

        var waiting = Run("approvals", "list", "--config", config);

        waiting.Exit.Should().Be(0, waiting.Err);
        waiting.Out.Should().Contain("approve-deactivate").And.Contain("deactivate_user").And.Contain("1 decision waiting");
        waiting.Out.Split('\n').Should().Contain(l => l.StartsWith(id + " ", StringComparison.Ordinal));
        Run("approve", id, "--reason", "confirmed", "--config", config).Exit.Should().Be(0);
        Run("approvals", "list", "--config", config).Out.Should().Contain("nothing waits for approval");
    }

    [Fact]
    public void Approval_OlderThanItsExpiry_HoldsAgain()
    {
        var (id, config) = HeldForApproval("guards: { approval: { expires: 1h } }");
        Run("approve", id, "--reason", "confirmed", "--config", config).Exit.Should().Be(0);

        _time.Advance(TimeSpan.FromHours(2));
        Run("run", "--once", "--config", config);

        Run("audit", "list", "--status", "succeeded", "--limit", "500", "--config", config).Out.Should().NotContain("deactivate_user");
        Run("audit", "list", "--status", "held", "--limit", "500", "--config", config).Out.Should().Contain("expired");
        var late = Run("approve", id, "--reason", "late", "--config", config);
        late.Exit.Should().Be(2, "the held request itself is older than guards.approval.expires");
        late.Err.Should().Contain("has expired");
    }

    [Fact]
    public void AuditExportCsv_CellsFromFindingsThatLookLikeFormulas_AreNeutralised()
    {
        _temp.Write("csv-rules/csv-disable.yaml", RuleFiles.Rule(id: "csv-disable", types: "[account_takeover]", providers: "[okta]", actions: "  - action: disable_user"));
        var findings = _temp.Write("csv-findings.json",
            "[{\"id\":\"=HYPERLINK(\\\"http://evil.example\\\",\\\"x\\\")\",\"source\":\"+cmd\",\"type\":\"account_takeover\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"name\":\"@SUM(1+1)\"}},"
            + "{\"id\":\"-2+3\",\"source\":\"t\",\"type\":\"account_takeover\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"okta\",\"name\":\"nobody\"}}]");
        var config = Config(findings: findings, rules: Path.Combine(_temp.Path, "csv-rules"));
        Run("run", "--once", "--config", config).Exit.Should().Be(0);

        var (exit, csv, error) = Run("audit", "export", "--format", "csv", "--config", config);

        exit.Should().Be(0, error);
        csv.Should().Contain("'=HYPERLINK").And.Contain("'+cmd").And.Contain("'@SUM(1+1)").And.Contain("'-2+3");
        foreach (var cell in csv.Split('\n').SelectMany(l => l.Split(',')).Select(c => c.TrimStart('"')))
        {
            cell.Should().NotMatchRegex(@"^[=+\-@]", "no cell may start a formula");
        }
    }

    [Fact]
    public void Undo_RestoresThePriorStateAndIsAudited()
    {
        Run("run", "--once", "--config", _config);
        var line = Run("audit", "list", "--status", "succeeded", "--limit", "500", "--config", _config).Out
            .Split('\n').First(l => l.Contains("disable_user", StringComparison.Ordinal));
        var id = line.Trim().Split(' ')[0];

        var (exit, output, error) = Run("undo", id, "--reason", "false positive", "--config", _config);

        exit.Should().Be(0, error);
        output.Should().StartWith("undone: disable_user");
        Run("undo", id, "--reason", "again", "--config", _config).Exit.Should().Be(2, "an action is undone once");
        var undoRows = Run("audit", "list", "--limit", "3", "--config", _config).Out.Split('\n').Where(l => l.Contains($"undo of audit #{id}", StringComparison.Ordinal)).ToList();
        undoRows.Should().HaveCount(2, "the undo's intent and outcome");
        undoRows.Should().OnlyContain(l => l.Contains(" undo:disable_user ", StringComparison.Ordinal), "an undo row is named for what it did, not for the action it reversed");
        var undoId = undoRows[^1].Trim().Split(' ')[0];
        var again = Run("undo", undoId, "--reason", "undo the undo", "--config", _config);
        again.Exit.Should().Be(2);
        again.Err.Should().Contain("is an undo");
    }

    [Fact]
    public void Run_InvalidFindings_DoesNothingAndExitsTwo()
    {
        var findings = _temp.Write("bad.ndjson", "{\"id\": \"x\"}\n");

        var (exit, _, error) = Run("run", "--once", "--config", Config(findings: findings));

        exit.Should().Be(2);
        error.Should().Contain("nothing done");
        File.Exists(Db).Should().BeFalse();
    }

    [Fact]
    public void Run_InvalidConfig_ExitsTwoWithPositions()
    {
        var config = _temp.Write("bad.yaml", "guards:\n  lockout: { minimun: 3 }\n");

        var (exit, _, error) = Run("run", "--once", "--config", config);

        exit.Should().Be(2);
        error.Should().Contain($"{config}:2:14: error RE0002: unknown key 'minimun' in 'guards.lockout'; did you mean 'minimum'?");
    }

    [Fact]
    public void Run_RateLimitOfFivePerHour_HoldsAcrossProcessRestarts()
    {
        var rules = Path.Combine(_temp.Path, "limited-rules");
        _temp.Write("limited-rules/limited.yaml", RuleFiles.Rule(id: "limited", types: "[test_disable]", extra: "limits: { max_per_hour: 5 }"));
        var snapshot = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!;
        var users = snapshot.Users.Where(u => u.Provider == Findings.Provider.Ad && u.Enabled && !u.Privileged && u.Tags.IsEmpty).Take(20).ToList();
        users.Should().HaveCount(20);
        var findings = _temp.Write("limited.ndjson", string.Join('\n', users.Select((u, i) =>
            "{\"id\":\"l" + i + "\",\"source\":\"t\",\"type\":\"test_disable\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"ad\",\"id\":\"" + u.Id + "\"}}")));
        var config = Config(findings: findings).Replace($"rules: {RepoPaths.Rules}", $"rules: {rules}", StringComparison.Ordinal);
        File.WriteAllText(config, File.ReadAllText(config).Replace($"rules: {RepoPaths.Rules}", $"rules: {rules}", StringComparison.Ordinal));

        var first = Run("run", "--once", "--config", config);
        first.Out.Should().MatchRegex(@"(?m)^succeeded\s+5$").And.MatchRegex(@"(?m)^skipped\s+15$").And.Contain("rate_limited 15");

        _time.Advance(TimeSpan.FromMinutes(20));
        var restarted = Run("run", "--once", "--config", config);
        restarted.Out.Should().NotMatchRegex(@"(?m)^succeeded\s").And.Contain("rate_limited 15", "a new process reads the window from the audit store");

        _time.Advance(TimeSpan.FromMinutes(45));
        Run("run", "--once", "--config", config).Out.Should().MatchRegex(@"(?m)^succeeded\s+5$", "the first five have left the sliding hour");
    }

    [Fact]
    public async Task Undo_ThatWouldDisableTheLastAdmins_IsRefusedByLockoutProtection()
    {
        var snapshot = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!;
        var admin = snapshot.Users.First(u => u.Provider == Findings.Provider.Ad && u.Enabled && u.IsMemberOf("Domain Admins"));
        await using (var store = new ResponseEngine.Audit.Sqlite.SqliteAuditStore(Db, _time))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.AppendAsync(new Audit.AuditEntry
            {
                RunId = "r", Host = "h", EngineVersion = "t", Actor = "a", Status = Audit.AuditStatus.Succeeded, IdempotencyKey = "k",
                Action = "enable_user", Provider = "ad", IdentityId = admin.Id, IdentityName = admin.Name, PriorState = "{}", Parameters = "{}",
            }, CancellationToken.None);
        }

        SqliteConnection.ClearAllPools();
        var (exit, _, error) = Run("undo", "1", "--reason", "test", "--config", Config("guards: { lockout: { minimum: 100 } }"));

        exit.Should().Be(2);
        error.Should().Contain($"undo refused by lockout_protection: '{admin.Name}' holds Domain Admins").And.Contain("minimum 100");
        Run("audit", "list", "--config", _config).Out.Should().NotContain("undo of audit #1", "nothing was written or done");
    }
}
