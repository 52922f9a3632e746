using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>`respond audit list|show|export` on a trail written row by row, so every status and field is known.</summary>
[Trait("Reads", RepoPaths.ReadsShippedRules)]
public sealed class AuditCommandTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 8, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _temp = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly string _config;

    public AuditCommandTests()
    {
        _config = _temp.Write("respond.yaml", $"rules: {RepoPaths.Rules}\naudit: {{ connection: {Db} }}\n");
    }

    private string Db => Path.Combine(_temp.Path, "respond.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private (int Exit, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run([.. args, "--config", _config], output, error, _time);
        return (exit, output.ToString(), error.ToString());
    }

    private static AuditEntry Row(AuditStatus status) => new()
    {
        RunId = "run-1", Host = "node-a", EngineVersion = "0.1.0", Actor = "svc-respond", Status = status,
        RuleId = "rule-a", Provider = "okta", IdentityId = "00u1", IdentityName = "alice@corp.example", Action = "disable_user",
    };

    /// <summary>Appends the rows, one minute apart, on the test's clock; returns their sequences.</summary>
    private async Task<long[]> AppendAsync(params AuditEntry[] entries)
    {
        var sequences = new List<long>();
        await using var store = SqliteAuditStore.Open(Db, _time);
        await store.InitializeAsync(Ct);
        foreach (var entry in entries)
        {
            sequences.Add((await store.AppendAsync(entry, Ct)).Sequence);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        SqliteConnection.ClearAllPools();
        return [.. sequences];
    }

    private static long[] Sequences(string list) =>
        [.. list.Split('\n').Skip(1).Where(l => l.Trim().Length > 0).Select(l => long.Parse(l.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture))];

    [Fact]
    public async Task AuditList_EveryPrintedStatus_IsAcceptedByStatusAndSelectsThatRow()
    {
        var statuses = Enum.GetValues<AuditStatus>();
        await AppendAsync([.. statuses.Select(Row), Row(AuditStatus.Succeeded) with { IntentSequence = 1 }]);

        var (exit, list, error) = Run("audit", "list", "--limit", "100");

        exit.Should().Be(0, error);
        var lines = list.Split('\n').Skip(1).Where(l => l.Trim().Length > 0).ToList();
        lines.Should().HaveCount(statuses.Length + 1);
        foreach (var line in lines)
        {
            var columns = line.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var (sequence, printed) = (columns[0], columns[3]);
            var filtered = Run("audit", "list", "--limit", "100", "--status", printed);
            filtered.Exit.Should().Be(0, $"`{printed}` is what the list printed for #{sequence}: {filtered.Err}");
            Sequences(filtered.Out).Should().Contain(long.Parse(sequence, System.Globalization.CultureInfo.InvariantCulture), line);
            Sequences(filtered.Out).Should().OnlyContain(s => lines.Single(l => l.Trim().StartsWith(s + " ", StringComparison.Ordinal)).Contains(" " + printed + " ", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("successful", new[] { AuditStatus.Succeeded, AuditStatus.Noop })]
    [InlineData("unsuccessful", new[] { AuditStatus.Failed, AuditStatus.TimedOut })]
    [InlineData("in progress", new[] { AuditStatus.Intended })]
    [InlineData("dry run", new[] { AuditStatus.DryRun })]
    [InlineData("Breaker re-armed", new[] { AuditStatus.BreakerRearmed })]
    [InlineData("TIMED-OUT", new[] { AuditStatus.TimedOut })]
    public async Task AuditList_OldConsoleSpellings_AreAcceptedAsAliases(string alias, AuditStatus[] meant)
    {
        var statuses = Enum.GetValues<AuditStatus>();
        await AppendAsync([.. statuses.Select(Row)]);

        var (exit, list, error) = Run("audit", "list", "--status", alias);

        exit.Should().Be(0, error);
        Sequences(list).Should().BeEquivalentTo(meant.Select(s => (long)Array.IndexOf(statuses, s) + 1));
    }

    [Fact]
    public async Task AuditList_Filters_IdentityRuleGuardSinceUntil()
    {
        await AppendAsync(
            Row(AuditStatus.Skipped) with { Guard = "breaker" },
            Row(AuditStatus.Skipped) with { IdentityId = "00u2", IdentityName = "bob@corp.example", Guard = "rate_limited", RuleId = "rule-b" },
            Row(AuditStatus.Succeeded) with { IdentityId = "alice@corp.example", IdentityName = null });
        _time.Advance(TimeSpan.FromDays(2));

        Sequences(Run("audit", "list", "--identity", "alice@corp.example").Out).Should().Equal(1, 3);
        Sequences(Run("audit", "list", "--identity", "00u2").Out).Should().Equal(2);
        Sequences(Run("audit", "list", "--rule", "rule-b").Out).Should().Equal(2);
        Sequences(Run("audit", "list", "--guard", "breaker").Out).Should().Equal(1);
        Sequences(Run("audit", "list", "--since", "2026-11-20T08:01:00Z").Out).Should().Equal(2, 3);
        Sequences(Run("audit", "list", "--until", "2026-11-20T08:01:00Z").Out).Should().Equal([1L], "until is exclusive");
        Sequences(Run("audit", "list", "--since", "2026-11-20T09:01:00+01:00", "--until", "2026-11-20T08:02:00Z").Out).Should().Equal([2L], "offsets are honoured");
        Sequences(Run("audit", "list", "--since", "7d").Out).Should().Equal(1, 2, 3);
        Sequences(Run("audit", "list", "--since", "24h").Out).Should().BeEmpty("every row is two days old");
        Sequences(Run("audit", "list", "--until", "2882m").Out).Should().Equal([1L], "rows older than 48 hours and 2 minutes");
    }

    [Theory]
    [InlineData("--since", "yesterday")]
    [InlineData("--since", "2026-13-01")]
    [InlineData("--until", "5x")]
    [InlineData("--until", "-3d")]
    [InlineData("--since", "999999d")]
    [InlineData("--since", "\u001b[31m1d")]
    public async Task AuditList_BadTime_Exits2NamingTheOptionAndTheFix(string option, string value)
    {
        await AppendAsync(Row(AuditStatus.Succeeded));

        var (exit, output, error) = Run("audit", "list", option, value);

        exit.Should().Be(2, output);
        error.Should().Contain(option).And.Contain("2026-11-26T08:00:00Z").And.Contain("24h").And.NotContain("\u001b").And.NotContain("   at ");
        output.Should().BeEmpty();
    }

    [Fact]
    public async Task AuditList_UnknownStatus_Exits2ListingTheAcceptedWords()
    {
        await AppendAsync(Row(AuditStatus.Succeeded));

        var (exit, _, error) = Run("audit", "list", "--status", "done");

        exit.Should().Be(2);
        error.Should().Contain("unknown status 'done'").And.Contain("succeeded").And.Contain("timed_out").And.Contain("successful");
    }

    [Fact]
    public async Task AuditShow_JsonFieldsAndControlCharacters_ArePrettyPrintedAndEscaped()
    {
        await AppendAsync(Row(AuditStatus.Succeeded) with
        {
            Parameters = """{"groups":["Domain Admins","Ünïcode"]}""",
            Facts = """{"finding":{"title":"evil\u001b[2J \"quoted\"","severity":"high"}}""",
            PriorState = """{"enabled":true}""",
            Reason = "line one\nforged line\u202e",
        });

        var (exit, output, error) = Run("audit", "show", "1");

        exit.Should().Be(0, error);
        output.Should().NotContain("\\\"groups\\\"", "JSON inside the row is shown as JSON, not as an escaped string");
        output.Should().Contain("\"groups\": [").And.Contain("\"Domain Admins\"").And.Contain("Ünïcode").And.Contain("\"severity\": \"high\"");
        output.Should().NotContain("\u001b").And.NotContain("\u202e").And.NotContain("\nforged line");
        output.Should().Contain("line one\\nforged line\\u202e");
        output.Should().MatchRegex(@"(?m)^status\s+succeeded$").And.MatchRegex(@"(?m)^target\s+okta alice@corp\.example \(00u1\)$");
    }

    [Fact]
    public async Task AuditExportJsonl_OneEcsDocumentPerRow()
    {
        await AppendAsync(
            Row(AuditStatus.Intended) with { Parameters = """{"reason":"x"}""" },
            Row(AuditStatus.Succeeded) with { IntentSequence = 1 },
            Row(AuditStatus.Skipped) with { Guard = "breaker", Reason = "breaker open" },
            Row(AuditStatus.TimedOut) with { IntentSequence = 1, Error = "no answer" },
            new AuditEntry { RunId = "r", Host = "h", EngineVersion = "v", Actor = "op", Status = AuditStatus.BreakerOpened });

        var (exit, output, error) = Run("audit", "export", "--format", "jsonl");

        exit.Should().Be(0, error);
        var docs = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        docs.Should().HaveCount(5, "one line per row");
        string? Field(JsonElement doc, string dotted)
        {
            var node = doc;
            foreach (var part in dotted == "@timestamp" ? [dotted] : dotted.Split('.'))
            {
                if (node.ValueKind != JsonValueKind.Object || !node.TryGetProperty(part, out node)) return null;
            }

            return node.ValueKind == JsonValueKind.String ? node.GetString() : node.GetRawText();
        }

        Field(docs[0], "@timestamp").Should().Be("2026-11-20T08:00:00.0000000+00:00");
        Field(docs[1], "event.action").Should().Be("disable_user");
        Field(docs[1], "event.outcome").Should().Be("success");
        Field(docs[3], "event.outcome").Should().Be("unknown");
        Field(docs[2], "event.outcome").Should().Be("failure", "a guard refused it");
        Field(docs[0], "event.outcome").Should().Be("unknown");
        Field(docs[2], "event.reason").Should().Be("breaker open");
        Field(docs[3], "error.message").Should().Be("no answer");
        Field(docs[1], "user.name").Should().Be("alice@corp.example");
        Field(docs[1], "user.id").Should().Be("00u1");
        Field(docs[1], "rule.name").Should().Be("rule-a");
        Field(docs[1], "event.sequence").Should().Be("2");
        Field(docs[1], "respond.status").Should().Be("succeeded");
        Field(docs[2], "respond.guard").Should().Be("breaker");
        Field(docs[0], "respond.parameters.reason").Should().Be("x", "JSON fields stay JSON");
        Field(docs[4], "event.action").Should().Be("breaker_opened", "an operator event is its own action");
        Field(docs[4], "ecs.version").Should().NotBeNull();
        docs.Select(d => Field(d, "respond.hash")).Should().OnlyContain(h => h != null && h.Length == 64);
    }
}
