using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Guards;

/// <summary>
/// Rate limits and the blast-radius breaker for a plan, as a run would apply them to these findings with an empty
/// audit history: every execution the plan lets through counts against the rule's, action's, provider's and global
/// hourly limits and against the breaker threshold. One instance per plan.
/// </summary>
public sealed class PlanBudgetGuard(GuardOptions options) : IGuard
{
    private readonly Dictionary<string, int> _used = [];
    private int _destructive;
    private bool _breakerOpen;

    public string Name => "rate_limited";

    public Decision Check(Decision decision, GuardContext context)
    {
        if (decision.Action is null) return decision;
        var provider = decision.Identity?.Provider ?? decision.Finding.Subject.Provider;
        var limits = options.RateLimits;
        var scopes = new List<(string Key, string Scope, int Limit)>();
        if (decision.Rule.Limits.MaxPerHour is { } perRule) scopes.Add(("rule:" + decision.Rule.Id, $"rule {decision.Rule.Id}", perRule));
        if (limits.PerActionPerHour.TryGetValue(decision.Action.Name, out var perAction)) scopes.Add(("action:" + decision.Action.Name, $"action {decision.Action.Name}", perAction));
        if (limits.PerProviderPerHour.TryGetValue(provider, out var perProvider)) scopes.Add(("provider:" + provider.Name(), $"provider {provider.Name()}", perProvider));
        if (limits.GlobalPerHour is { } global) scopes.Add(("global", "all rules", global));
        foreach (var (key, scope, limit) in scopes)
        {
            if (_used.GetValueOrDefault(key) >= limit) return decision.Refuse(Verdict.Skip, Name, $"{scope}: limit of {limit} per hour reached");
        }

        if (decision.Action.Destructive)
        {
            if (_breakerOpen || _destructive >= options.Breaker.Threshold)
            {
                _breakerOpen = true;
                return decision.Refuse(Verdict.Hold, "breaker",
                    $"breaker would open: {_destructive} destructive actions reach the threshold of {options.Breaker.Threshold}");
            }

            _destructive++;
        }

        foreach (var (key, _, _) in scopes) _used[key] = _used.GetValueOrDefault(key) + 1;
        return decision;
    }
}
