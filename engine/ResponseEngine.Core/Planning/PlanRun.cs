using System.Collections.Immutable;
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

/// <summary>Where a streamed plan goes: its header first, then its decisions window by window, in plan order.</summary>
public interface IPlanSink
{
    /// <summary>The plan before any decision: when, on what rules and basis (its counts are not known yet).</summary>
    void Begin(Plan header);

    /// <summary>The decided decisions of one window of findings.</summary>
    void Write(IReadOnlyList<Decision> decisions);
}

/// <summary>
/// The one way to make a plan: the run itself, in dry-run, over the snapshot. Findings are resolved and proposed as a
/// run does, window by window (<see cref="ResponseRun.DecideAsync"/>), and the <see cref="Executor"/> guards them in its
/// order (provider-fair, in batches) with its guards, over connectors that read the snapshot and never act
/// (<see cref="SnapshotConnector"/>) and a scratch audit store that is empty or a copy of the real trail (it keeps no
/// row of the plan's own: no guard reads a dry-run row). Nothing is written anywhere else. What a run counts live and
/// the plan counted on the snapshot is named on each decision (<see cref="Decision.CountedOnSnapshot"/>). Streamed
/// (<see cref="StreamAsync"/>), a plan holds one window of findings and decisions at a time.
/// </summary>
public static class PlanRun
{
    /// <summary>Plans <paramref name="findings"/> into one <see cref="Plan"/>; <paramref name="progress"/> hears how many findings are decided.</summary>
    public static async Task<Plan> PlanAsync(RuleSet rules, IReadOnlyList<Finding> findings, DirectorySnapshot snapshot, EngineOptions options,
        PlanSettings settings, TimeProvider time, CancellationToken cancellationToken, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(findings);
        var sink = new Collect();
        var plan = await StreamAsync(rules, findings, snapshot, options, settings, time, sink, cancellationToken, progress);
        progress?.Report(findings.Count);
        return plan with { Decisions = sink.Decisions.ToImmutable() };
    }

    /// <summary>
    /// Plans <paramref name="findings"/>, read lazily, into <paramref name="sink"/> window by window; returns the plan's
    /// header with its counts and no decisions. <paramref name="progress"/> hears how many findings are decided.
    /// </summary>
    public static async Task<Plan> StreamAsync(RuleSet rules, IEnumerable<Finding> findings, DirectorySnapshot snapshot, EngineOptions options,
        PlanSettings settings, TimeProvider time, IPlanSink sink, CancellationToken cancellationToken, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(findings);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(sink);

        await using var scratch = new MemoryAuditStore(time) { KeepDryRunRows = false };
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
        var guards = Executor.DefaultGuards(options, settings.Budgets);
        var basis = new PlanBasis(settings.DirectorySource, snapshot.GeneratedAt, history, settings.Budgets, [.. guards.Select(g => g.Name)]);
        using var executor = new Executor(run, guards)
        {
            // The scratch store keeps no dry-run row (KeepDryRunRows = false) and no guard reads one.
            RowsUnread = true,
            AfterGuards = decision => reads.Take() is { Count: > 0 } sets
                ? decision with { CountedOnSnapshot = $"{Names(sets)} counted on {basis.SnapshotText}; a run counts them live" }
                : decision,
        };

        var linker = new IdentityLinker(snapshot.Users, options.Linking);
        var header = new Plan(time.GetUtcNow(), [], 0, 0, rules.Rules.Length, rules.GitCommit) { RulesUncommitted = rules.UncommittedFiles, Basis = basis };
        var begun = false;
        var findingsDone = 0;
        var (createdAt, total, matched) = await ResponseRun.DecideAsync(rules, findings, run, executor, (proposed, summary) =>
        {
            if (!begun)
            {
                sink.Begin(header with { CreatedAt = proposed.CreatedAt });
                begun = true;
            }

            sink.Write([.. summary.Results.Select(r => r.Decision)]);
            findingsDone += proposed.FindingCount;
            progress?.Report(findingsDone);
            return ValueTask.CompletedTask;
        }, null, cancellationToken, (_, _) => Task.FromResult<IAccountLinker?>(linker));
        header = header with { CreatedAt = createdAt, FindingCount = total, MatchedFindingCount = matched };
        if (!begun) sink.Begin(header);
        return header;
    }

    private sealed class Collect : IPlanSink
    {
        public ImmutableArray<Decision>.Builder Decisions { get; } = ImmutableArray.CreateBuilder<Decision>();

        public void Begin(Plan header)
        {
        }

        public void Write(IReadOnlyList<Decision> decisions) => Decisions.AddRange(decisions);
    }

    private static string Names(IReadOnlyList<string> sets) =>
        "the enabled holders of " + string.Join(", ", sets.Select(s => $"'{s}'"));
}
