using System.Collections.Immutable;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>Runs guards in their fixed order; the first refusal wins and names itself.</summary>
public sealed class GuardPipeline
{
    public GuardPipeline(IEnumerable<IGuard> guards)
    {
        Guards = [.. guards];
    }

    /// <summary>The guards that need no live state: what a dry-run plan from a snapshot can decide.</summary>
    public static GuardPipeline Static { get; } = ForPlan(new Configuration.ProtectedIdentityOptions());

    /// <summary>No guards: the executor applies its own, in order, after planning.</summary>
    public static GuardPipeline None { get; } = new([]);

    public static GuardPipeline ForPlan(Configuration.ProtectedIdentityOptions protectedIdentities) =>
        new([new RuleModeGuard(), new ProtectedIdentityGuard(protectedIdentities), new PreconditionGuard(), new ApprovalGuard()]);

    /// <summary>
    /// The guards of a plan from a snapshot, in the executor's order, as a run of these findings with an empty audit
    /// history would apply them: lockout counted on the snapshot, rate limits and the breaker counted within the plan.
    /// Dedupe and cooldown need the audit history and are left to the run.
    /// </summary>
    /// <param name="budget">
    /// False for comparing two rule sets: rate limits and the breaker depend on the order and volume of everything else,
    /// so one rule's change would shift other identities' verdicts across the threshold and hide the rule's own effect.
    /// </param>
    public static GuardPipeline ForPlan(Configuration.EngineOptions options, Identities.DirectorySnapshot snapshot, bool budget = true) =>
        new([new RuleModeGuard(), new ProtectedIdentityGuard(options.Guards.Protected), new PreconditionGuard(),
            new SnapshotLockoutGuard(snapshot, options.Guards.Lockout, options.Privileged),
            .. budget ? new IGuard[] { new PlanBudgetGuard(options.Guards) } : [], new ApprovalGuard()]);

    public ImmutableArray<IGuard> Guards { get; }

    public Decision Check(Decision decision, GuardContext context)
    {
        foreach (var guard in Guards)
        {
            if (decision.Verdict != Verdict.Execute) break;
            decision = guard.Check(decision, context);
        }

        return decision;
    }
}
