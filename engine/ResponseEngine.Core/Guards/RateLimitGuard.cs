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
        // In this order, the first reached refuses: the rule's, the action's, the provider's, the global limit.
        if (decision.Rule.Limits.MaxPerHour is { } perRule
            && await ReachedAsync(run, perRule, new AuditQuery { RuleId = decision.Rule.Id }, since, () => run.NotInStoreCount(ruleId: decision.Rule.Id), cancellationToken))
        {
            return Refuse(decision, $"rule {decision.Rule.Id}", perRule);
        }

        if (limits.PerActionPerHour.TryGetValue(decision.Action.Name, out var perAction)
            && await ReachedAsync(run, perAction, new AuditQuery { Action = decision.Action.Name }, since, () => run.NotInStoreCount(action: decision.ActionName), cancellationToken))
        {
            return Refuse(decision, $"action {decision.Action.Name}", perAction);
        }

        if (Providers.TryParse(provider, out var p) && limits.PerProviderPerHour.TryGetValue(p, out var perProvider)
            && await ReachedAsync(run, perProvider, new AuditQuery { Provider = provider }, since, () => run.NotInStoreCount(provider: p), cancellationToken))
        {
            return Refuse(decision, $"provider {provider}", perProvider);
        }

        if (limits.GlobalPerHour is { } global
            && await ReachedAsync(run, global, new AuditQuery(), since, () => run.NotInStoreCount(), cancellationToken))
        {
            return Refuse(decision, "all rules", global);
        }

        return decision;
    }

    private Decision Refuse(Decision decision, string scope, int limit) => decision.Refuse(Verdict.Skip, Name, $"{scope}: limit of {limit} per hour reached");

    /// <summary>Whether the intents of the last hour in the scope of <paramref name="query"/>, with this run's not yet written, reach <paramref name="limit"/>.</summary>
    private static async ValueTask<bool> ReachedAsync(RunContext run, int limit, AuditQuery query, DateTimeOffset since, Func<int> inRun, CancellationToken cancellationToken)
    {
        var used = run.View is { } view
            ? await view.CountIntentsAsync(query.RuleId, query.Action, query.Provider, null, since, cancellationToken)
            : await run.Store.CountAsync(query with { Since = since, Statuses = [AuditStatus.Intended], DryRun = false }, cancellationToken);
        used += inRun(); // this run's intents not written yet (all of them in a dry run)
        return used >= limit;
    }
}
