using System.Text;
using System.Text.Json;
using CsCheck;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// The console's streaming plan reader (#20, the latest plan reports) against the real <see cref="PlanJsonWriter"/>'s
/// output of real plans (generated workloads through the planner), and against hostile files: a file that is not a
/// complete, consistent plan is a <see cref="PlanReportException"/> with a reason, never another exception.
/// </summary>
public sealed class PlanReportReaderTests : IDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task RealPlans_SummaryAndAnyPage_AreWhatTheWriterWrote()
    {
        var checkedPages = 0;
        await Gen.Select(Gen.Int[0, 1_000_000], Gen.Bool, Gen.Int[0, 60], Gen.Int[0, 25]).SampleAsync(async t =>
        {
            var (seed, indented, offset, take) = t;
            var plan = await PlanAsync(seed);
            var bytes = Written(plan, indented);

            var page = PlanReportReader.Read(new MemoryStream(bytes), offset, take);

            var s = page.Summary;
            s.Decisions.Should().Be(plan.Decisions.Length);
            s.ByVerdict.Select(p => (p.Key, p.Value)).Should().Equal(plan.CountByVerdict().Select(c => (c.Verdict.Name(), (long)c.Count)));
            s.ByAction.Select(p => p.Value).Sum().Should().Be(plan.Decisions.Count(d => d.Verdict == Verdict.Execute));
            s.RulesCommit.Should().Be(plan.RulesGitCommit);
            s.RuleCount.Should().Be(plan.RuleCount);
            s.FindingsTotal.Should().Be(plan.FindingCount);
            s.FindingsMatched.Should().Be(plan.MatchedFindingCount);
            s.CreatedAt.Should().Be(plan.CreatedAt.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));

            using var whole = JsonDocument.Parse(bytes);
            var expected = whole.RootElement.GetProperty("decisions").EnumerateArray().Skip(offset).Take(take).ToList();
            page.Decisions.Select(d => d.Index).Should().Equal(Enumerable.Range(offset, expected.Count).Select(i => (long)i));
            page.Decisions.Zip(expected).Count(p => !JsonElement.DeepEquals(p.First.Decision, p.Second)).Should().Be(0);
            checkedPages++;
        }, iter: 25, threads: 1);

        checkedPages.Should().Be(25);
    }

    [Fact]
    public async Task ATruncatedPlan_AtAnyByte_IsUnreadable_NeverAnotherException()
    {
        var bytes = Written(await PlanAsync(7), indented: true);
        var end = Array.LastIndexOf(bytes, (byte)'}');
        Gen.Int[0, end].Sample(cut =>
        {
            var act = () => PlanReportReader.ReadSummary(new MemoryStream(bytes, 0, cut));
            act.Should().Throw<PlanReportException>();
        }, iter: 300);
        PlanReportReader.ReadSummary(new MemoryStream(bytes, 0, end + 1)).Decisions.Should().BeGreaterThan(0);
    }

    [Fact]
    public async Task ARealPlanWithAByteChanged_IsReadOrUnreadable_NeverAnotherException()
    {
        var bytes = Written(await PlanAsync(11), indented: false);
        Gen.Select(Gen.Int[0, bytes.Length - 1], Gen.Byte).Sample(t =>
        {
            var changed = (byte[])bytes.Clone();
            changed[t.Item1] = t.Item2;
            Readable(changed, 0, 50);
        }, iter: 2000);
    }

    [Fact]
    public void RandomBytes_AreUnreadable_NeverAnotherException()
    {
        Gen.Byte.Array[0, 400].Sample(bytes => Readable(bytes, 0, 10).Should().NotBeNull(), iter: 2000);
    }

    public static TheoryData<string, string> Hostile() => new()
    {
        { "", "no JSON object" },
        { "   ", "no JSON object" },
        { "[]", "not a plan: the document is an array" },
        { "\"plan\"", "not a plan" },
        { "{\"a\": 1}", "no plan_version" },
        { "{\"plan_version\": 2, \"decisions\": []}", "plan_version is 2" },
        { "{\"plan_version\": 1e400, \"decisions\": []}", "plan_version is 1e400, not a count" },
        { Plan("", "\"decisions\": 1e400"), "summary.decisions is 1e400, not a count" },
        { Plan("", "\"decisions\": -1"), "not a count" },
        { Plan("", "\"decisions\": \"1\""), "a string, not a count" },
        { Plan("{\"verdict\": \"execute\"}", "\"decisions\": 0, \"by_verdict\": {}"), "the summary says 0 decisions; the file holds 1" },
        { Plan("{\"verdict\": \"execute\"}", "\"decisions\": 1, \"by_verdict\": {\"execute\": 2}"), "with verdict execute; the file holds 1" },
        { Plan("{\"verdict\": \"execute\"}", "\"decisions\": 1, \"by_verdict\": {\"skip\": 1}"), "the summary says 0 decisions with verdict execute" },
        { Plan("5", "\"decisions\": 1, \"by_verdict\": {}"), "decision 0 is a number, not an object" },
        { "{\"plan_version\": 1, \"decisions\": []}", "no summary" },
        { "{\"plan_version\": 1, \"created_at\": 5, \"decisions\": []}", "created_at is a number, not text" },
        { "{\"plan_version\": 1, \"rules\": {\"git_commit\": true}, \"decisions\": []}", "rules.git_commit is a boolean, not text" },
        { "{\"plan_version\": 1, \"summary\": {\"decisions\": 0}}", "no decisions array" },
        { Plan("", "\"decisions\": 0") + " {}", "not valid JSON" },
        { Plan("", "\"decisions\": 0") + " x", "not valid JSON" },
        { Plan("{\"verdict\": \"exe\u0001cute\"}", "\"decisions\": 1"), "not valid JSON" },
        { Plan("{\"parameters\": " + new string('[', 5000) + new string(']', 5000) + "}", "\"decisions\": 1"), "not valid JSON" },
        { Plan("{\"note\": \"" + new string('x', PlanReportReader.MaxTokenBytes + 10) + "\"}", "\"decisions\": 1"), "a value longer than 1048576 bytes" },
        { Plan("", "\"decisions\": 0")[..^3], "truncated" },
        { Plan("", "\"decisions\": 0")[..^1], "truncated" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void AHostileFile_IsUnreadable_WithAReason(string text, string reason)
    {
        var act = () => PlanReportReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), 0, 10);
        act.Should().Throw<PlanReportException>().Which.Message.Should().Contain(reason);
    }

    [Fact]
    public void MarkupAndEscapes_InAPlan_AreReadAsText_ForThePageToEscape()
    {
        var text = Plan("{\"rule\": {\"id\": \"<script>alert(1)</script>\"}, \"verdict\": \"execute\", \"parameters\": {\"n\": 1e400, \"s\": \"a\\u0000b\\\"\"}}",
            "\"decisions\": 1, \"by_verdict\": {\"execute\": 1}");

        var page = PlanReportReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), 0, 1);

        var decision = page.Decisions.Should().ContainSingle().Subject.Decision;
        decision.GetProperty("rule").GetProperty("id").GetString().Should().Be("<script>alert(1)</script>");
        decision.GetProperty("parameters").GetProperty("n").GetRawText().Should().Be("1e400");
        decision.GetProperty("parameters").GetProperty("s").GetString().Should().Be("a\0b\"");
        page.Summary.ByVerdict.Select(p => (p.Key, p.Value)).Should().Equal([("execute", 1L)]);
    }

    [Fact]
    public void InvalidUtf8_InADecisionOfThePage_IsReadOrUnreadable_NeverAnotherException()
    {
        foreach (var bad in new byte[] { 0xC3, 0xFF, 0xED, 0x80 })
        {
            var text = Encoding.UTF8.GetBytes(Plan("{\"verdict\": \"execute\", \"note\": \"aXb\"}", "\"decisions\": 1, \"by_verdict\": {\"execute\": 1}"));
            text[Array.IndexOf(text, (byte)'X')] = bad;
            Readable(text, 0, 1).Should().NotBeNull();
        }
    }

    [Fact]
    public void ADecisionLargerThanTheBound_IsListedButNotKept()
    {
        var text = Plan("{\"verdict\": \"skip\", \"note\": \"" + new string('y', PlanReportReader.MaxDecisionBytes + 10) + "\"}", "\"decisions\": 1, \"by_verdict\": {\"skip\": 1}");

        var page = PlanReportReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), 0, 1);

        page.Decisions.Should().ContainSingle().Which.Decision.GetProperty("not_shown").GetString().Should().Contain("larger than");
    }

    /// <summary>Reads, and says whether it was a plan; any exception but <see cref="PlanReportException"/> fails the test.</summary>
    private static string Readable(byte[] bytes, long offset, int take)
    {
        try
        {
            PlanReportReader.Read(new MemoryStream(bytes), offset, take);
            return "read";
        }
        catch (PlanReportException e)
        {
            return e.Message;
        }
    }

    private static string Plan(string decisions, string summary) =>
        "{\"plan_version\": 1, \"created_at\": \"2026-12-07T10:00:00Z\", \"rules\": {\"count\": 1, \"git_commit\": null}, \"decisions\": [" + decisions + "], \"summary\": {" + summary + "}}";

    private static byte[] Written(Plan plan, bool indented)
    {
        using var stream = new MemoryStream();
        PlanJsonWriter.Write(plan, stream, indented);
        return stream.ToArray();
    }

    private async Task<Plan> PlanAsync(int seed)
    {
        var clock = RuleFiles.Clock();
        var workload = PlanWorkload.Generate(seed, clock.GetUtcNow());
        var folder = Path.Combine(_temp.Path, seed.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var configFile = Path.Combine(folder, "respond.yaml");
        await File.WriteAllTextAsync(configFile, workload.GuardsYaml, Ct);
        var options = ConfigLoader.Load(configFile).Options ?? throw new InvalidOperationException("the generated configuration does not load");
        var rules = RuleFiles.Load([.. workload.Rules]).RuleSet ?? throw new InvalidOperationException("the generated rules do not load");
        var findings = FindingReader.ReadText(workload.FindingsNdjson, "gen.ndjson").Findings;
        var snapshot = SnapshotReader.Read(Encoding.UTF8.GetBytes(workload.SnapshotJson), "directory.json", options.Privileged).Snapshot
            ?? throw new InvalidOperationException("the generated snapshot does not load");
        return await PlanRun.PlanAsync(rules, findings, snapshot, options, new PlanSettings(), clock, Ct);
    }
}
