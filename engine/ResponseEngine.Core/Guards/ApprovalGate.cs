using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Guards;

/// <summary>
/// Holds actions of rules that require approval until `respond approve` has recorded one for the same decision, within
/// guards.approval.expires of it; a decision `respond reject` rejected is refused for good.
/// </summary>
public sealed class ApprovalGate : IExecutionGuard
{
    public string Name => "approval";

    public async Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken)
    {
        if (decision.Rule.Approval != ApprovalMode.Required) return decision;
        var key = IdempotencyKey.For(decision);
        var answers = await run.Store.ReadAsync(new AuditQuery { IdempotencyKey = key, Statuses = [AuditStatus.Approved, AuditStatus.Rejected], DryRun = false }, cancellationToken);
        if (answers.LastOrDefault(r => r.Entry.Status == AuditStatus.Rejected) is { } rejected)
        {
            return decision.Refuse(Verdict.Skip, Name, $"rejected by {rejected.Entry.Actor} (audit #{rejected.Sequence}): {rejected.Entry.Reason}");
        }

        var expires = run.Options.Guards.Approval.Expires;
        if (answers.Count > 0 && answers[^1] is var approved)
        {
            if (run.Now - approved.RecordedAt <= expires) return decision;
            return decision.Refuse(Verdict.Hold, Name,
                $"the approval (audit #{approved.Sequence}) expired after {DurationText.Format(expires)}; approve it again: `respond approve ID --reason …`");
        }

        return decision.Refuse(Verdict.Hold, Name, "rule requires approval: `respond approve ID --reason …`");
    }
}
