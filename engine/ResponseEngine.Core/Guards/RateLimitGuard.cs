using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// Sliding one-hour windows per rule, action, provider and overall, counted from the audit store's intents, so the
/// limits hold across restarts and across processes that share the store.
/// </summary>
public sealed class RateLimitGuard : IExecutionGuard
{
    public string Name => "rate_limited";

    public async Task<Decision> CheckAsync(Decision decision, RunContext run, CancellationToken cancellationToken)
    {
        if (decision.Action is null) return decision;
        var provider = (decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name();
        var since = run.Now - TimeSpan.FromHours(1);
        var limits = run.Options.Guards.RateLimits;
        var checks = new List<(string Scope, int Limit, AuditQuery Query, Func<int> InRun)>();
        if (decision.Rule.Limits.MaxPerHour is { } perRule)
            checks.Add(($"rule {decision.Rule.Id}", perRule, new AuditQuery { RuleId = decision.Rule.Id }, () => run.NotInStoreCount(ruleId: decision.Rule.Id)));
        if (limits.PerActionPerHour.TryGetValue(decision.Action.Name, out var perAction))
            checks.Add(($"action {decision.Action.Name}", perAction, new AuditQuery { Action = decision.Action.Name }, () => run.NotInStoreCount(action: decision.ActionName)));
        if (Providers.TryParse(provider, out var p) && limits.PerProviderPerHour.TryGetValue(p, out var perProvider))
            checks.Add(($"provider {provider}", perProvider, new AuditQuery { Provider = provider }, () => run.NotInStoreCount(provider: p)));
        if (limits.GlobalPerHour is { } global)
            checks.Add(("all rules", global, new AuditQuery(), () => run.NotInStoreCount()));

        foreach (var (scope, limit, query, inRun) in checks)
        {
            var used = run.View is { } view
                ? await view.CountIntentsAsync(query.RuleId, query.Action, query.Provider, null, since, cancellationToken)
                : await run.Store.CountAsync(query with { Since = since, Statuses = [AuditStatus.Intended], DryRun = false }, cancellationToken);
            used += inRun(); // this run's intents not written yet (all of them in a dry run)
            if (used >= limit)
            {
                return decision.Refuse(Verdict.Skip, Name, $"{scope}: limit of {limit} per hour reached");
            }
        }

        return decision;
    }
}
