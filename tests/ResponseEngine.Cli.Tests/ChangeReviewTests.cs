using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// `respond plan --base REF` as a reviewer reads it: on a real git repository with its own rules (never the shipped
/// ones), a commit that turns an observe rule to enforce over more accounts than the breaker allows.
/// </summary>
public sealed partial class ChangeReviewTests : IDisposable
{
    private const int Threshold = 5;
    private readonly GitRepo _repo = new();
    private readonly string _findings;
    private readonly string _config;

    public ChangeReviewTests()
    {
        var snapshot = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!;
        var users = snapshot.Users.Where(u => u.Provider == Findings.Provider.Ad && u.Enabled && !u.Privileged && u.Tags.IsEmpty).Take(3 * Threshold).ToList();
        users.Should().HaveCount(3 * Threshold);
        _findings = _repo.Write("findings/weak.ndjson", string.Join('\n', users.Select((u, i) =>
            Finding($"w{i}", "id", u.Id))));
        _config = _repo.Write("respond.yaml", $"guards: {{ breaker: {{ threshold: {Threshold}, window: 1h }} }}\n");
        _repo.Write("rules/reset.yaml", Rule("observe"));
        _repo.Write("rules/other.yaml", RuleFiles.Rule(id: "other-rule", types: "[password_spray]", actions: "  - action: revoke_sessions", providers: "[entra]"));
        _repo.Commit("reset rule observes");
        _repo.Write("rules/reset.yaml", Rule("enforce"));
        _repo.Commit("reset rule enforces");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _repo.Dispose();
    }

    /// <summary>A weak_password finding as one NDJSON line; the values are written into the JSON as given (escapes included).</summary>
    private static string Finding(string id, string subjectKey, string subject) =>
        "{\"id\":\"" + id + "\",\"source\":\"scan\",\"type\":\"weak_password\",\"severity\":\"high\",\"observed_at\":\"2026-11-20T08:00:00Z\",\"subject\":{\"provider\":\"ad\",\"" + subjectKey + "\":\"" + subject + "\"}}";

    private static string Rule(string mode, string extra = "") => $"""
        id: weak-password-reset
        title: weak passwords are reset
        owner: tests
        mode: {mode}
        match: {"{"} types: [weak_password], providers: [ad] {"}"}
        actions:
          - action: reset_password
        {extra}
        """;

    private (int Exit, string Out, string Err) Plan(params string[] extra)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CliApp.Run(["plan", "--rules", _repo.Rules, "--findings", _findings, "--directory", RepoPaths.SampleDirectory, "--config", _config, .. extra],
            output, error, new FakeTimeProvider(Build.Now));
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>Executed reset_password decisions of the head rules planned alone, without a breaker: the rule's own effect, computed apart from the diff.</summary>
    private int HeadResets()
    {
        var unlimited = _repo.Write("unlimited.yaml", "guards: { breaker: { threshold: 100000 }, rate_limits: { global_per_hour: 100000 } }\n");
        var output = new StringWriter();
        CliApp.Run(["plan", "--rules", _repo.Rules, "--findings", _findings, "--directory", RepoPaths.SampleDirectory, "--config", unlimited, "--format", "json"],
            output, new StringWriter(), new FakeTimeProvider(Build.Now)).Should().Be(0);
        using var plan = JsonDocument.Parse(output.ToString());
        return plan.RootElement.GetProperty("decisions").EnumerateArray()
            .Count(d => d.GetProperty("action").GetString() == "reset_password" && d.GetProperty("verdict").GetString() == "execute");
    }

    [Fact]
    public async Task PlanBase_HtmlInHeadlessChromium_ShowsPerRuleTotalsAndTheBreakerWarning()
    {
        Chromium.Require();
        var resets = HeadResets();
        resets.Should().BeGreaterThan(Threshold, "the fixture trips the breaker");
        var page = Path.Combine(_repo.Path, "review.html");

        var (exit, output, error) = Plan("--base", "HEAD~1", "--format", "html", "--out", page);

        exit.Should().Be(0, error);
        output.Should().BeEmpty();
        var html = File.ReadAllText(page);
        html.Should().StartWith("<!DOCTYPE html>");
        ExternalReference().IsMatch(html).Should().BeFalse("the page works offline, as a CI artifact");
        var dom = await Chromium.RunAsync(Path.Combine(_repo.Path, "chrome-profile"), "--dump-dom", "file://" + page);
        dom.Should().Contain($"this change would open the breaker: {resets} destructive actions within 1h, threshold {Threshold}");
        dom.Should().MatchRegex($"""<tr class="rule-total" data-rule="weak-password-reset"><td>weak-password-reset</td><td>reset_password \+{resets}</td><td>reset_password \+{Threshold} held \+{resets - Threshold}</td></tr>""");
        dom.Should().Contain("mode: observe → enforce");
        var screenshot = Path.Combine(_repo.Path, "review.png");
        await Chromium.RunAsync(Path.Combine(_repo.Path, "chrome-profile"), "--window-size=1200,800", "--screenshot=" + screenshot, "file://" + page);
        new FileInfo(screenshot).Length.Should().BeGreaterThan(10_000, "a screenshot of the review was taken");
    }

    [Fact]
    public void PlanBase_Json_CarriesTotalsBreakerFlagsAndValidatesAgainstItsSchema()
    {
        var resets = HeadResets();

        var (exit, output, error) = Plan("--base", "HEAD~1", "--format", "json");

        exit.Should().Be(0, error);
        SchemaValidator.Validate("plan-diff", output).Should().BeEmpty();
        using var diff = JsonDocument.Parse(output);
        var root = diff.RootElement;
        root.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()).Should().Contain(w => w!.StartsWith($"this change would open the breaker: {resets} destructive", StringComparison.Ordinal));
        var breaker = root.GetProperty("with_budgets").GetProperty("breaker");
        (breaker.GetProperty("opens").GetBoolean(), breaker.GetProperty("head_destructive").GetInt32(), breaker.GetProperty("base_destructive").GetInt32()).Should().Be((true, resets, 0));
        var total = root.GetProperty("totals").EnumerateArray().Single(t => t.GetProperty("rule").GetString() == "weak-password-reset");
        (total.GetProperty("head").GetProperty("execute").GetInt32() - total.GetProperty("base").GetProperty("execute").GetInt32()).Should().Be(resets);
        var change = root.GetProperty("rule_changes").EnumerateArray().Single();
        change.GetProperty("fields").EnumerateArray().Select(f => (f.GetProperty("field").GetString(), f.GetProperty("before").GetString(), f.GetProperty("after").GetString()))
            .Should().Equal(("mode", "observe", "enforce"));
        var identities = root.GetProperty("identities").EnumerateArray().ToList();
        identities.Should().HaveCount(resets);
        identities.Should().OnlyContain(i => i.GetProperty("identity").GetProperty("privileged").GetBoolean() == false);
        var first = identities[0].GetProperty("changes")[0];
        (first.GetProperty("finding").GetProperty("type").GetString(), first.GetProperty("finding").GetProperty("severity").GetString()).Should().Be(("weak_password", "high"));
        root.GetProperty("unresolved").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public void PlanBase_Text_SaysPlainlyTheBreakerWouldOpenAndListsModeExpiryAndDisabledChanges()
    {
        _repo.Write("rules/reset.yaml", Rule("enforce", "expires: 2027-06-30"));
        _repo.Write("rules/other.yaml", RuleFiles.Rule(id: "other-rule", types: "[password_spray]", actions: "  - action: revoke_sessions", providers: "[entra]").Replace("mode: enforce", "mode: disabled", StringComparison.Ordinal));
        _repo.Write("rules/added.yaml", RuleFiles.Rule(id: "added-rule", types: "[dcsync]"));
        _repo.Commit("expiry, disabled, added");

        var (exit, output, error) = Plan("--base", "HEAD~2");

        exit.Should().Be(0, error);
        output.Should().StartWith("Against HEAD~2 (").And.Contain("3 rule files changed");
        output.Should().Contain("! this change would open the breaker: ");
        output.Should().Contain("  ~ weak-password-reset (").And.Contain("      mode: observe → enforce").And.Contain("      expires: never → 2027-06-30");
        output.Should().Contain("  ~ other-rule (").And.Contain("      mode: enforce → disabled");
        output.Should().Contain("  + added-rule (").And.Contain("      mode: enforce");
        output.Should().MatchRegex(@"(?m)^  weak-password-reset: reset_password \+\d+ \| reset_password \+5 held \+\d+$");
        output.Should().MatchRegex(@"(?m)^\S+ \(ad, not privileged\)$");
        output.Should().Contain("finding weak_password/high w0");
        error.Should().Contain("warning: this change would open the breaker");
    }

    [Fact]
    public void PlanBase_RuleLimit_SaysThisChangeWouldHitIt()
    {
        _repo.Write("rules/reset.yaml", Rule("enforce", "limits: { max_per_hour: 2 }"));
        _repo.Commit("a tight limit");

        var (exit, output, error) = Plan("--base", "HEAD~2", "--format", "json");

        exit.Should().Be(0, error);
        using var diff = JsonDocument.Parse(output);
        var limit = diff.RootElement.GetProperty("with_budgets").GetProperty("limits").EnumerateArray().Single();
        limit.GetProperty("scope").GetString().Should().Be("rule weak-password-reset");
        (limit.GetProperty("head_limit").GetInt32(), limit.GetProperty("base_skipped").GetInt32()).Should().Be((2, 0));
        limit.GetProperty("head_skipped").GetInt32().Should().Be(limit.GetProperty("head_wanted").GetInt32() - 2);
        diff.RootElement.GetProperty("warnings").EnumerateArray().Select(w => w.GetString())
            .Should().Contain(w => w!.StartsWith("this change would hit the limit of rule weak-password-reset: ", StringComparison.Ordinal) && w.Contains("max_per_hour none → 2"));
        diff.RootElement.GetProperty("with_budgets").GetProperty("breaker").GetProperty("opens").GetBoolean().Should().BeFalse("two resets stay under the threshold");
    }

    [Fact]
    public void PlanBase_UnresolvedSubjects_AreListedApartFromRealChanges()
    {
        _repo.Write("rules/added.yaml", RuleFiles.Rule(id: "added-rule"));
        _repo.Commit("a rule that also meets a subject no account matches");
        var findings = _repo.Write("findings/ghost.ndjson",
            """{"id":"g1","source":"scan","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"no-such-account"}}""");

        var output = new StringWriter();
        var exit = CliApp.Run(["plan", "--rules", _repo.Rules, "--findings", _findings, findings, "--directory", RepoPaths.SampleDirectory, "--config", _config,
            "--base", "HEAD~1", "--format", "json"], output, new StringWriter(), new FakeTimeProvider(Build.Now));

        exit.Should().Be(0);
        using var diff = JsonDocument.Parse(output.ToString());
        diff.RootElement.GetProperty("unresolved").EnumerateArray().Select(i => i.GetProperty("target").GetString()).Should().Equal("no-such-account");
        diff.RootElement.GetProperty("identities").EnumerateArray().Should().NotContain(i => i.GetProperty("target").GetString() == "no-such-account");
    }

    [Fact]
    public void PlanBase_Markdown_LeadsWithTheSummaryTableAndStaysUnderTheCommentLimit()
    {
        var snapshot = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!;
        var many = _repo.Write("findings/many.ndjson", string.Join('\n', snapshot.Users.Where(u => u.Provider == Findings.Provider.Ad)
            .SelectMany(u => Enumerable.Range(0, 30).Select(i =>
                Finding($"m{u.Id}-{i}", "id", u.Id)))));
        var output = new StringWriter();

        var exit = CliApp.Run(["plan", "--rules", _repo.Rules, "--findings", many, "--directory", RepoPaths.SampleDirectory, "--config", _config,
            "--base", "HEAD~1", "--format", "markdown"], output, new StringWriter(), new FakeTimeProvider(Build.Now));

        exit.Should().Be(0);
        var markdown = output.ToString();
        markdown.Length.Should().BeLessThan(65_536);
        markdown.Should().StartWith("<!-- respond:change-review -->\n## ResponseEngine change review");
        var workflow = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "rules-ci.yaml"));
        var marker = Regex.Match(workflow, "const marker = '([^']+)';").Groups[1].Value;
        marker.Should().NotBeEmpty("examples/rules-ci.yaml finds its sticky comment by a marker");
        markdown.Should().StartWith(marker, "the example workflow updates the comment this command writes");
        workflow.Should().Contain("--base \"origin/${{ github.base_ref }}\" --format markdown --out plan-diff.md");
        markdown.IndexOf("| | base | head | change |", StringComparison.Ordinal).Should().BeLessThan(markdown.IndexOf("<details>", StringComparison.Ordinal));
        markdown.Should().Contain("> [!WARNING]").And.Contain("**this change would open the breaker: ");
        markdown.Should().Contain("| `weak-password-reset` | reset_password +").And.Contain("- \\~ reset_password: skip [rule_mode] → execute (rule weak-password-reset, finding weak\\_password/high m");
        markdown.Should().Contain("**Truncated:**");
    }

    [Fact]
    public async Task PlanBase_HostileFindingText_IsOnlyEverText()
    {
        Chromium.Require();
        const string markup = "<b id=\\\"pwned\\\">x</b><script>document.title='pwned'</script><img src=x onerror=\\\"document.title='pwned'\\\">";
        var victim = Identities.SnapshotReader.ReadFile(RepoPaths.SampleDirectory, Identities.PrivilegedPolicy.Default).Snapshot!.Users
            .First(u => u.Provider == Findings.Provider.Ad && u.Enabled && !u.Privileged && u.Tags.IsEmpty);
        _repo.Write("rules/added.yaml", RuleFiles.Rule(id: "added-rule"));
        _repo.Commit("a rule that also meets the subjects no account matches");
        var hostile = _repo.Write("findings/hostile.ndjson", string.Join('\n',
            Finding(markup, "name", markup),
            Finding(markup + "-resolved", "id", victim.Id),
            """{"id":"esc\u001b[31m\u0007\nFORGED LINE\u202e","source":"scan","type":"weak_password","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"ctl\u001b]0;title\u0007\r\nFORGED LINE"}}"""));
        string Review(string format, string? file = null)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var exit = CliApp.Run(["plan", "--rules", _repo.Rules, "--findings", _findings, hostile, "--directory", RepoPaths.SampleDirectory, "--config", _config,
                "--base", "HEAD~2", "--format", format, .. file is null ? Array.Empty<string>() : ["--out", file]], output, error, new FakeTimeProvider(Build.Now));
            exit.Should().Be(0, error.ToString());
            error.ToString().Should().NotContainAny("\u001b", "\u0007", "\u202e");
            return file is null ? output.ToString() : File.ReadAllText(file);
        }

        var text = Review("text");
        text.Should().Contain("Unresolved subjects").And.Contain("<b id=\"pwned\">", "a terminal shows markup as it is, harmlessly");
        text.Should().NotContainAny("\u001b", "\u0007", "\r", "\u202e");
        text.Split('\n').Should().NotContain(l => l.StartsWith("FORGED", StringComparison.Ordinal), "a newline in data never starts a line");
        text.Should().Contain("\\e[31m").And.Contain("\\u202e");

        var markdown = Review("markdown");
        markdown.Should().NotContain("<b id").And.NotContain("<script").And.NotContain("<img").And.NotContainAny("\u001b", "\u0007");

        var page = Path.Combine(_repo.Path, "hostile.html");
        Review("html", page);
        var dom = await Chromium.RunAsync(Path.Combine(_repo.Path, "chrome-profile"), "--dump-dom", "file://" + page);
        dom.Should().NotContain("<b id=\"pwned\">").And.NotContain("<img").And.Contain("&lt;b id=\"pwned\"&gt;", "the markup is shown as text");
        dom.Should().Contain("<title>ResponseEngine change review</title>", "no script ran");
    }

    public static TheoryData<string, string> Formats => new()
    {
        { "text", "Against HEAD~1 (" },
        { "markdown", "<!-- respond:change-review -->\n## ResponseEngine change review" },
        { "html", "<!DOCTYPE html>" },
        { "json", "{" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public void PlanBase_EveryFormatToStdoutAndToAFile_WritesThatFormat(string format, string start)
    {
        var (exit, output, error) = Plan("--base", "HEAD~1", "--format", format);
        exit.Should().Be(0, error);
        output.Should().StartWith(start);

        var file = Path.Combine(_repo.Path, "out." + format);
        var (fileExit, fileOutput, fileError) = Plan("--base", "HEAD~1", "--format", format, "--out", file);
        fileExit.Should().Be(0, fileError);
        fileOutput.Should().BeEmpty();
        File.ReadAllText(file).Should().StartWith(start);
        fileError.Should().Contain($"plan diff written to {file}");

        var (gateExit, _, gateError) = Plan("--base", "HEAD~1", "--format", format, "--fail-on-increase", "0");
        gateExit.Should().Be(1, "the change adds destructive actions beyond 0");
        gateError.Should().Contain("destructive actions grow by");
    }

    [Theory]
    [InlineData("--fail-on-increase gates a change review and needs --base REF", "--fail-on-increase", "3")]
    [InlineData("--fail-on-increase gates a change review and needs --base REF", "--fail-on-increase", "0", "--format", "html")]
    [InlineData("--fail-on-increase -1: give the number", "--base", "HEAD~1", "--fail-on-increase", "-1")]
    [InlineData("--base needs a git ref", "--base", " ")]
    [InlineData("is a folder; name a file", "--base", "HEAD~1", "--format", "html", "--out", "{repo}")]
    [InlineData("does not exist; create it first", "--format", "html", "--out", "{repo}/no/such/folder/plan.html")]
    [InlineData("--base no-such-ref: git", "--base", "no-such-ref", "--format", "html")]
    public void Plan_UnsupportedOptionCombination_IsBadInputWithAClearMessage(string message, params string[] args)
    {
        var (exit, output, error) = Plan([.. args.Select(a => a.Replace("{repo}", _repo.Path, StringComparison.Ordinal))]);

        exit.Should().Be(2);
        error.Should().Contain(message).And.NotContain("   at ");
        output.Should().BeEmpty();
    }

    [Fact]
    public void PlanBase_WithAuditFindings_ReviewsTheChangeOnWhatServeReceived()
    {
        var config = _repo.Write("audit.yaml", $"audit: {{ connection: {Path.Combine(_repo.Path, "respond.db")} }}\nguards: {{ breaker: {{ threshold: {Threshold} }} }}\n");
        CliApp.Run(["audit", "verify", "--config", config], new StringWriter(), new StringWriter()).Should().Be(0, "creates the (empty) audit store");
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = CliApp.Run(["plan", "--rules", _repo.Rules, "--findings", "audit:30d", "--directory", RepoPaths.SampleDirectory, "--config", config,
            "--base", "HEAD~1", "--format", "json"], output, error, new FakeTimeProvider(Build.Now));

        exit.Should().Be(0, error.ToString());
        SchemaValidator.Validate("plan-diff", output.ToString()).Should().BeEmpty();
    }

    [GeneratedRegex("""(src|href)\s*=\s*["']?(https?:)?//""", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();
}
