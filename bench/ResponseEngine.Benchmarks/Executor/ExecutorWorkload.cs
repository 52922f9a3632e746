using System.Globalization;
using System.Text;
using System.Text.Json;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Benchmarks.Executor;

/// <summary>
/// The executor workload: a generated local-directory snapshot of AD users (none privileged, none protected), one
/// enforce rule that disables the subject of a <c>bench_compromise</c> finding, and one finding per distinct user, so
/// every decision is a <c>disable_user</c> that really changes the directory. Options open the breaker and the rate
/// limits wide, so every decision executes.
/// </summary>
public sealed class ExecutorWorkload
{
    public const string FindingType = "bench_compromise";

    private const string RuleYaml =
        """
        id: bench-disable-compromised
        title: Benchmark - disable the subject of a compromise finding
        owner: bench
        mode: enforce
        match:
          types: [bench_compromise]
          providers: [ad]
          min_severity: low
        actions:
          - action: disable_user
        """;

    private ExecutorWorkload(byte[] snapshotJson, DirectorySnapshot snapshot, RuleSet rules, Finding[] findings, Decision[] decisions)
    {
        SnapshotJson = snapshotJson;
        Snapshot = snapshot;
        Rules = rules;
        Findings = findings;
        Decisions = decisions;
    }

    /// <summary>The snapshot file the local connector starts from (schemas/directory.schema.json).</summary>
    public byte[] SnapshotJson { get; }

    public DirectorySnapshot Snapshot { get; }

    public RuleSet Rules { get; }

    public Finding[] Findings { get; }

    /// <summary>The plan's decisions: one <c>disable_user</c> per finding, all <see cref="Verdict.Execute"/>.</summary>
    public Decision[] Decisions { get; }

    /// <summary>Guards as shipped, but with the rate limits off and the breaker out of reach.</summary>
    public static EngineOptions Options { get; } = new()
    {
        Guards = new GuardOptions
        {
            RateLimits = new RateLimitOptions { GlobalPerHour = null },
            Breaker = new BreakerOptions { Threshold = int.MaxValue },
        },
    };

    public static ExecutorWorkload Create(int userCount, int decisionCount)
    {
        if (decisionCount > userCount) throw new ArgumentOutOfRangeException(nameof(decisionCount), "one decision per distinct user");
        var json = SnapshotBytes(userCount);
        var load = SnapshotReader.Read(json, "bench-directory.json", PrivilegedPolicy.Default);
        var snapshot = load.Snapshot ?? throw new InvalidOperationException("generated snapshot does not validate: " + string.Join("; ", load.Diagnostics));
        var rules = Workload.LoadRules([("rules/bench/bench-disable-compromised.yaml", Encoding.UTF8.GetBytes(RuleYaml))]);

        // Users in random order (distinct), so the store and the directory see no convenient locality.
        var random = new Random(42);
        var order = Enumerable.Range(1, userCount).OrderBy(_ => random.Next()).Take(decisionCount).ToArray();
        var findings = order.Select((u, i) => new Finding(
            string.Create(CultureInfo.InvariantCulture, $"bench-{i:D6}"), "bench", FindingKind.Detection, FindingType, Severity.High,
            WorkloadGenerator.Now - TimeSpan.FromMinutes(5), new Subject(Provider.Ad, UserId(u), null), "bench compromise",
            System.Collections.Immutable.ImmutableDictionary<string, JsonElement>.Empty)).ToArray();
        var plan = new Planner(rules, snapshot, Workload.Time).Plan(findings);
        var decisions = plan.Decisions.ToArray();
        if (decisions.Length != decisionCount || decisions.Any(d => d.Verdict != Verdict.Execute || d.ActionName != "disable_user"))
        {
            throw new InvalidOperationException($"expected {decisionCount} disable_user decisions to execute, the plan has {decisions.Length}: "
                + string.Join("; ", decisions.Where(d => d.Verdict != Verdict.Execute).Take(3).Select(d => $"{d.Guard}: {d.Reason}")));
        }

        return new ExecutorWorkload(json, snapshot, rules, findings, decisions);
    }

    public static string UserId(int n) => string.Create(CultureInfo.InvariantCulture, $"u-{n:D6}");

    /// <summary>Like samples/directory.json: AD groups and users with a few groups each; about 280 bytes per user.</summary>
    public static byte[] SnapshotBytes(int userCount)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteString("generated_at", "2026-02-28T12:00:00Z");
            writer.WriteStartArray("groups");
            foreach (var group in new[] { "Staff", "VPN Users", "Finance", "Engineering" })
            {
                writer.WriteStartObject();
                writer.WriteString("provider", "ad");
                writer.WriteString("id", "g-" + group.Replace(' ', '-').ToLowerInvariant());
                writer.WriteString("name", group);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("users");
            for (var u = 1; u <= userCount; u++)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"user{u:D6}");
                writer.WriteStartObject();
                writer.WriteString("provider", "ad");
                writer.WriteString("id", UserId(u));
                writer.WriteString("name", name);
                writer.WriteString("upn", name + "@corp.example.com");
                writer.WriteString("display_name", string.Create(CultureInfo.InvariantCulture, $"Bench User {u}"));
                writer.WriteStartArray("groups");
                writer.WriteStringValue("Staff");
                writer.WriteStringValue(u % 3 == 0 ? "Finance" : "Engineering");
                if (u % 2 == 0) writer.WriteStringValue("VPN Users");
                writer.WriteEndArray();
                writer.WriteString("last_sign_in_at", "2026-02-27T08:00:00Z");
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return stream.ToArray();
    }
}
