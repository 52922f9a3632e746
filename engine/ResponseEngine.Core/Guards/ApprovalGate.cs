using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Guards;

/// <summary>Holds actions of rules that require approval until `respond approve` has recorded one for the same decision.</summary>
public sealed class ApprovalGate : IExecutionGuard
{
    public string Name => "approval";

    public async Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken)
    {
        if (decision.Rule.Approval != ApprovalMode.Required) return decision;
        var key = IdempotencyKey.For(decision);
        var approved = await run.Store.CountAsync(new AuditQuery { IdempotencyKey = key, Statuses = [AuditStatus.Approved], DryRun = false }, cancellationToken);
        return approved > 0 ? decision : decision.Refuse(Verdict.Hold, Name, "rule requires approval: `respond approve ID`");
    }
}
