using System.Globalization;
using System.Text;
using System.Text.Json;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// `respond plan` at scale and in parallel, as real child processes (#23): the plan is a stream (memory bounded by the
/// directory and the rules, not by the number of findings), and `--out` is written atomically.
/// </summary>
public sealed partial class PlanStreamingTests : IDisposable
{
    private const string At = "2026-03-01T12:00:00Z";
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Two plans written to one path at once: both exit 0, and the file is one of the two complete plans (never a mix, never
    /// half of one). Repeated, since a collision needs the two writes to overlap.
    /// </summary>
    [Fact]
    public async Task Plan_TwoConcurrentOutToOnePath_BothSucceedAndTheFileIsOneWholePlan()
    {
        var (rules, snapshot, findings) = WriteWorkload(_temp.Path, users: 200, findingCount: 3_000);
        var target = Path.Combine(_temp.Path, "plan.out");
        string[] Args(string format, string output) =>
            ["plan", "--rules", rules, "--directory", snapshot, "--findings", findings, "--format", format, "--at", At, "--out", output];

        // The two complete plans, each written alone.
        var json = Path.Combine(_temp.Path, "alone.json");
        var markdown = Path.Combine(_temp.Path, "alone.md");
        (await CliProcess.RunAsync(_temp.Path, Args("json", json))).ExitCode.Should().Be(0);
        (await CliProcess.RunAsync(_temp.Path, Args("markdown", markdown))).ExitCode.Should().Be(0);
        var whole = new[] { await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken), await File.ReadAllTextAsync(markdown, TestContext.Current.CancellationToken) };

        for (var round = 0; round < 3; round++)
        {
            var both = await Task.WhenAll(CliProcess.RunAsync(_temp.Path, Args("json", target)), CliProcess.RunAsync(_temp.Path, Args("markdown", target)));

            both.Should().AllSatisfy(r => r.ExitCode.Should().Be(0, r.Error));
            (await File.ReadAllTextAsync(target, TestContext.Current.CancellationToken)).Should().BeOneOf(whole);
            Directory.GetFiles(_temp.Path, "*.tmp*").Should().BeEmpty("no temporary file is left behind");
        }
    }

    /// <summary>
    /// Rules for every finding type used, a directory of <paramref name="users"/> AD users (some privileged, some
    /// disabled) and <paramref name="findingCount"/> NDJSON findings on them (a few on nobody); only every
    /// <paramref name="matchedEvery"/>th finding is of a type a rule matches.
    /// </summary>
    private static (string Rules, string Snapshot, string Findings) WriteWorkload(string root, int users, int findingCount, int matchedEvery = 1)
    {
        var rules = Path.Combine(root, "rules");
        Directory.CreateDirectory(rules);
        File.WriteAllText(Path.Combine(rules, "reset.yaml"), RuleFiles.Rule("stream-reset", actions: "  - action: reset_password", types: "[compromised]", extra: "limits: { cooldown: 1h }"));
        // Observed (planned, skipped by the rule_mode guard): a million decisions without a million lockout counts.
        File.WriteAllText(Path.Combine(rules, "disable.yaml"), RuleFiles.Rule("stream-disable", when: "finding.severity == 'critical'", actions: "  - action: disable_user", types: "[compromised]")
            .Replace("mode: enforce", "mode: observe", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(rules, "weak.yaml"), RuleFiles.Rule("stream-weak", actions: "  - action: reset_password", types: "[weak_password]")
            .Replace("mode: enforce", "mode: observe", StringComparison.Ordinal));

        var directory = new
        {
            version = 1,
            generated_at = "2026-03-01T10:00:00Z",
            groups = new[] { new { provider = "ad", name = "Domain Admins" }, new { provider = "ad", name = "Domain Users" } },
            users = Enumerable.Range(0, users).Select(i => new
            {
                provider = "ad",
                id = $"ad-{i:D6}",
                name = $"user{i:D6}",
                upn = $"user{i:D6}@corp.example.com",
                groups = i % 50 == 0 ? new[] { "Domain Admins" } : ["Domain Users"],
                enabled = i % 17 != 0,
            }).ToArray(),
        };
        var snapshot = Path.Combine(root, "directory.json");
        File.WriteAllText(snapshot, JsonSerializer.Serialize(directory));

        var findings = Path.Combine(root, "findings.ndjson");
        using (var writer = new StreamWriter(findings, append: false, new UTF8Encoding(false), bufferSize: 1 << 16))
        {
            string[] severities = ["low", "medium", "high", "critical"];
            for (var i = 0; i < findingCount; i++)
            {
                var user = i % 97 == 0 ? $"nobody{i}" : $"user{i * 7919 % users:D6}";
                var type = i % matchedEvery != 0 ? "stale_account" : i % 3 == 0 ? "weak_password" : "compromised";
                writer.Write(string.Create(CultureInfo.InvariantCulture,
                    $$$"""{"id":"f{{{i}}}","source":"gen","type":"{{{type}}}","severity":"{{{severities[i % 4]}}}","observed_at":"2026-03-01T11:{{{i % 60:D2}}}:00Z","subject":{"provider":"ad","name":"{{{user}}}"}}"""));
                writer.Write('\n');
            }
        }

        return (rules, snapshot, findings);
    }
}
