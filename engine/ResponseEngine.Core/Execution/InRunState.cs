using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Execution;

/// <summary>
/// The accounts as the decisions already passed in one run (or plan) will leave them: each passed decision's expected
/// effect (disabled, suspended or deactivated, removed from groups or roles, password expired) is applied to the
/// identity that later decisions on the same account are checked against, so that a precondition refuses, with a
/// reason, an action the directory would reject after an earlier one (an Okta reset_password of a user suspended by
/// another rule) instead of the run failing on it. One instance per run; not shared between runs.
/// </summary>
public sealed class InRunState
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(Provider, string), (Identity Identity, string Cause)> _accounts = [];

    /// <summary>The decision with its identity as the passed decisions before it leave it (unchanged when none touched it).</summary>
    public Decision See(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Identity is not { } identity) return decision;
        lock (_gate)
        {
            return _accounts.TryGetValue(Key(identity), out var state) ? decision with { Identity = state.Identity } : decision;
        }
    }

    /// <summary>What the passed decisions of this run did to the account before, in words; null when nothing.</summary>
    public string? Cause(Identity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        lock (_gate) return _accounts.TryGetValue(Key(identity), out var state) ? state.Cause : null;
    }

    /// <summary>Records a decision the guards passed: its expected effect is what later decisions on the account see.</summary>
    public void Pass(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Identity is not { } identity || decision.Action is not { } action) return;
        var after = action.Expected(identity, decision.Parameters);
        if (after == identity) return;
        var cause = $"{action.Name} (rule {decision.Rule.Id}) earlier in this run";
        lock (_gate)
        {
            _accounts[Key(identity)] = _accounts.TryGetValue(Key(identity), out var before)
                ? (after, before.Cause + "; " + cause)
                : (after, cause);
        }
    }

    /// <summary>A precondition refusal on an account this run already changed says so, so the reader knows why the state differs from the directory's.</summary>
    public Decision Explain(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Verdict == Verdict.Execute || decision.Guard != "precondition" || decision.Identity is null) return decision;
        return Cause(decision.Identity) is { } cause ? decision with { Reason = $"{decision.Reason} (after {cause})" } : decision;
    }

    private static (Provider, string) Key(Identity identity) => (identity.Provider, identity.Id.ToUpperInvariant());
}
