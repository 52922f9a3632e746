using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.TestKit;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// The product's promise, as a user meets it: `respond plan --format json`, then `respond run --once` on the same
/// directory state (a fresh working copy of the same snapshot, a fresh audit trail), both as child processes; every
/// decision (finding, rule, action, parameters) must have the same verdict and refusing guard in both.
/// </summary>
public sealed class PlanFidelityTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    [Trait("Reads", RepoPaths.ReadsShippedRules)]
    public async Task PlanThenRun_ShippedSamplesDefaultConfiguration_AgreeOnEveryDecision()
    {
        var (plan, run) = await PlanThenRunAsync("samples", RepoPaths.Rules, RepoPaths.SampleFindings, RepoPaths.SampleDirectory, guardsYaml: "");

        run.Should().NotBeEmpty();
        PlanFidelity.Mismatches(plan, run).Should().BeEmpty();
        TestContext.Current.TestOutputHelper?.WriteLine($"shipped samples: {run.Count} decisions compared, 0 mismatches");
    }

    [Fact]
    public async Task PlanThenRun_GeneratedWorkloads_AgreeOnEveryDecisionAndEveryLimitBinds()
    {
        const int workloads = 12;
        var compared = 0;
        var bound = new HashSet<string>();
        var mismatches = new List<string>();
        for (var seed = 1; seed <= workloads; seed++)
        {
            var workload = PlanWorkload.Generate(seed, TimeProvider.System.GetUtcNow());
            var folder = Path.Combine(_temp.Path, $"gen{seed}");
            var rules = Path.Combine(folder, "rules");
            foreach (var (file, yaml) in workload.Rules)
            {
                var path = Path.Combine(folder, file);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, yaml, TestContext.Current.CancellationToken);
            }

            var findings = Path.Combine(folder, "findings.ndjson");
            await File.WriteAllTextAsync(findings, workload.FindingsNdjson, TestContext.Current.CancellationToken);
            var snapshot = Path.Combine(folder, "directory.json");
            await File.WriteAllTextAsync(snapshot, workload.SnapshotJson, TestContext.Current.CancellationToken);

            var (plan, run) = await PlanThenRunAsync($"gen{seed}", rules, findings, snapshot, workload.GuardsYaml);
            compared += run.Count;
            bound.UnionWith(PlanFidelity.Bound(run));
            mismatches.AddRange(PlanFidelity.Mismatches(plan, run).Select(m => $"seed {seed}: {m}"));
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{workloads} generated workloads, {compared} decisions compared, {mismatches.Count} mismatches; bound: {string.Join(", ", bound.Order(StringComparer.Ordinal))}");
        mismatches.Should().BeEmpty();
        bound.Should().Contain(["breaker", "rate_limited:rule", "rate_limited:provider", "cooldown", "pending_remediation"],
            "every limit must bind at least once across the workloads, or the comparison proves nothing about it");
    }

    /// <summary>
    /// In a fresh workspace: plan (the directory comes from local.snapshot in respond.yaml), then run once; returns the
    /// plan's decisions and the run's, read back from its audit trail.
    /// </summary>
    private async Task<(List<PlanFidelity.Row> Plan, List<PlanFidelity.Row> Run)> PlanThenRunAsync(string name, string rules, string findings, string snapshot, string guardsYaml)
    {
        var workspace = Path.Combine(_temp.Path, name + "-ws");
        Directory.CreateDirectory(workspace);
        var database = Path.Combine(workspace, "respond.db");
        await File.WriteAllTextAsync(Path.Combine(workspace, "respond.yaml"), $$"""
            rules: {{rules}}
            findings: [{{findings}}]
            audit: { connection: {{database}} }
            local: { snapshot: {{snapshot}}, working_copy: {{Path.Combine(workspace, "state", "directory.json")}} }
            {{guardsYaml}}
            """, TestContext.Current.CancellationToken);

        var plan = await CliProcess.RunAsync(workspace, "plan", "--rules", rules, "--findings", findings, "--format", "json");
        plan.ExitCode.Should().Be(0, plan.Error);
        File.Exists(database).Should().BeFalse("a plan writes no audit trail");
        File.Exists(Path.Combine(workspace, "state", "directory.json")).Should().BeFalse("a plan writes no working copy");

        var run = await CliProcess.RunAsync(workspace, "run", "--once");
        run.ExitCode.Should().BeOneOf([0, 1], run.Error);
        run.Error.Should().NotContain("Unhandled");
        await using var store = new SqliteAuditStore(database, TimeProvider.System);
        var rows = await store.ReadAsync(new AuditQuery(), TestContext.Current.CancellationToken);
        return (PlanFidelity.FromPlanJson(plan.Output), PlanFidelity.FromAudit(rows));
    }
}
