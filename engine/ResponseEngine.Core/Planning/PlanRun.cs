using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Rules;

namespace ResponseEngine.Planning;

/// <summary>How a plan is made beyond its inputs.</summary>
public sealed record PlanSettings
{
    /// <summary>
    /// Rate limits and the breaker apply (as in a run). False for comparing two rule sets: those limits depend on the
    /// order and volume of everything else, so one rule's change would shift other identities' verdicts across a
    /// threshold and hide the rule's own effect.
    /// </summary>
    public bool Budgets { get; init; } = true;

    /// <summary>
    /// A trail to count with, read only: its rows (dry-run rows aside) are copied into the plan's scratch store, so
    /// dedupe, cooldown, in-flight intents, rate-limit windows, the breaker and approvals are those of that trail. Null
    /// (the default): an empty history, which the plan states.
    /// </summary>
    public IAuditStore? History { get; init; }

    /// <summary>How to name <see cref="History"/> in the plan (e.g. "sqlite respond.db").</summary>
    public string? HistorySource { get; init; }

    /// <summary>Where the snapshot came from (e.g. "samples/directory.json (local.snapshot in respond.yaml)"), stated in the plan.</summary>
    public string? DirectorySource { get; init; }

    /// <summary>The run id of the plan's dry run; a fixed one makes plans reproducible.</summary>
    public string RunId { get; init; } = "plan";
}

/// <summary>
/// The one way to make a plan: the run itself, in dry-run, over the snapshot. Findings are resolved and proposed as a
/// run does (<see cref="ResponseRun"/>), then the <see cref="Executor"/> guards them in its order (provider-fair, in
/// batches) with its guards, over connectors that read the snapshot and never act (<see cref="SnapshotConnector"/>)
/// and a scratch audit store that is empty or a copy of the real trail. Nothing is written anywhere else. What a run
/// counts live and the plan counted on the snapshot is named on each decision (<see cref="Decision.CountedOnSnapshot"/>).
/// </summary>
public static class PlanRun
{
    /// <summary>Plans <paramref name="findings"/>; <paramref name="progress"/> hears how many findings' worth of decisions are decided.</summary>
    public static async Task<Plan> PlanAsync(RuleSet rules, IReadOnlyList<Finding> findings, DirectorySnapshot snapshot, EngineOptions options,
        PlanSettings settings, TimeProvider time, CancellationToken cancellationToken, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);

        await using var scratch = new MemoryAuditStore(time);
        var history = PlanHistory.Empty;
        if (settings.History is { } trail)
        {
            // Only rows a guard reads count (guards never read dry-run rows); the real store is only read.
            var rows = await trail.ReadAsync(new AuditQuery { DryRun = false }, cancellationToken);
            scratch.Seed(rows);
            history = new PlanHistory(settings.HistorySource ?? "the configured audit store", rows.Count, rows.Count == 0 ? null : rows.Max(r => r.Sequence));
        }

        var reads = new SnapshotReads();
        var run = new RunContext(settings.RunId, options, scratch, SnapshotConnector.For(snapshot, reads), time, dryRun: true,
            actor: "plan", host: "plan", engineVersion: "plan");
        var basis = new PlanBasis(settings.DirectorySource, snapshot.GeneratedAt, history, settings.Budgets, []);

        var resolver = await ResponseRun.ResolveAsync(findings, run, cancellationToken);
        var proposed = new Planner(rules, resolver, time, new IdentityLinker(snapshot.Users, options.Linking)).Plan(findings);
        var guards = Executor.DefaultGuards(options, settings.Budgets);
        using var executor = new Executor(run, guards)
        {
            AfterGuards = decision => reads.Take() is { Count: > 0 } sets
                ? decision with { CountedOnSnapshot = $"{Names(sets)} counted on {basis.SnapshotText}; a run counts them live" }
                : decision,
        };
        var decided = progress is null ? null : new Scaled(progress, findings.Count, proposed.Decisions.Length);
        var summary = await executor.ExecuteAsync(proposed.Decisions, decided, cancellationToken);
        if (summary.Results.Length != proposed.Decisions.Length)
        {
            throw new InvalidOperationException($"the plan's dry run decided {summary.Results.Length} of {proposed.Decisions.Length} proposals");
        }

        return proposed with
        {
            Decisions = [.. summary.Results.Select(r => r.Decision)],
            Basis = basis with { Guards = [.. guards.Select(g => g.Name)] },
        };
    }

    /// <summary>Reports decisions decided as the share of findings done, so a bar sized by findings fills up.</summary>
    private sealed class Scaled(IProgress<int> progress, int findings, int decisions) : IProgress<int>
    {
        public void Report(int value) => progress.Report(decisions == 0 ? findings : (int)((long)value * findings / decisions));
    }

    private static string Names(IReadOnlyList<string> sets) =>
        "the enabled holders of " + string.Join(", ", sets.Select(s => $"'{s}'"));
}
