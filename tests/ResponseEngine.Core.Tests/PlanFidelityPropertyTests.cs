using CsCheck;
using ResponseEngine.Audit;
using ResponseEngine.Connectors.Local;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;
using ResponseEngine.Policy.Configuration;
using ResponseEngine.TestKit;

namespace ResponseEngine.Core.Tests;

/// <summary>
/// Plan equals run, over random workloads: a plan (<see cref="PlanRun"/>: the executor in dry-run over the snapshot) and a
/// real run of the executor on the local directory (a working copy of the same snapshot, an empty trail) decide every
/// decision the same, verdict and refusing guard. CsCheck prints the seed of a failing workload.
/// </summary>
public sealed class PlanFidelityPropertyTests : IDisposable
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task PlanAndRun_RandomWorkloads_DecideEveryDecisionTheSame()
    {
        var compared = 0;
        var bound = new HashSet<string>();
        await Gen.Int[0, 1_000_000].SampleAsync(async seed =>
        {
            var (plan, run) = await PlanAndRunAsync(seed);
            compared += run.Count;
            bound.UnionWith(PlanFidelity.Bound(run));
            var mismatches = PlanFidelity.Mismatches(plan, run);
            if (mismatches.Count > 0) throw new InvalidOperationException($"workload {seed}: {mismatches.Count} mismatches\n" + string.Join("\n", mismatches.Take(10)));
        }, iter: 40, threads: 1);

        TestContext.Current.TestOutputHelper?.WriteLine($"40 workloads, {compared} decisions compared, 0 mismatches; bound: {string.Join(", ", bound.Order(StringComparer.Ordinal))}");
        compared.Should().BeGreaterThan(0);
    }

    private async Task<(List<PlanFidelity.Row> Plan, List<PlanFidelity.Row> Run)> PlanAndRunAsync(int seed)
    {
        var clock = RuleFiles.Clock();
        var workload = PlanWorkload.Generate(seed, clock.GetUtcNow());
        var folder = Path.Combine(_temp.Path, seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        var snapshotFile = Path.Combine(folder, "directory.json");
        await File.WriteAllTextAsync(snapshotFile, workload.SnapshotJson, Ct);
        var configFile = Path.Combine(folder, "respond.yaml");
        await File.WriteAllTextAsync(configFile, workload.GuardsYaml, Ct);
        var options = ConfigLoader.Load(configFile).Options ?? throw new InvalidOperationException("the generated configuration does not load");
        var rules = RuleFiles.Load([.. workload.Rules]).RuleSet ?? throw new InvalidOperationException("the generated rules do not load");
        var findings = FindingReader.ReadText(workload.FindingsNdjson, "gen.ndjson").Findings;
        var snapshot = SnapshotReader.ReadFile(snapshotFile, options.Privileged).Snapshot ?? throw new InvalidOperationException("the generated snapshot does not load");

        var plan = await PlanRun.PlanAsync(rules, findings, snapshot, options, new PlanSettings(), clock, Ct);

        using var directory = LocalDirectory.Open(snapshotFile, Path.Combine(folder, "state", "directory.json"), clock, options.Privileged);
        await using var store = new MemoryAuditStore(clock);
        var run = new RunContext("run", options, store, directory.Connectors(), clock, dryRun: false, "tests", "host", "test");
        await ResponseRun.RunAsync(rules, findings, run, null, Ct);

        return (PlanFidelity.FromDecisions(plan.Decisions), PlanFidelity.FromAudit(store.Rows));
    }
}
