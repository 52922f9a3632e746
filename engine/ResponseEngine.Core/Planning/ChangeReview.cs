using System.Collections.Immutable;
using System.Globalization;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Rules;

namespace ResponseEngine.Planning;

public enum RuleChangeKind
{
    Added,
    Removed,
    Modified,
}

/// <summary>One setting of a rule before and after a change; null on the side where the rule, or the setting, is absent.</summary>
public sealed record RuleFieldChange(string Field, string? Before, string? After);

/// <summary>
/// A rule added, removed or modified, with the settings that changed (mode and expiry first: observe → enforce is the
/// line a reviewer must not miss).
/// </summary>
public sealed record RuleChange(string RuleId, string File, RuleChangeKind Kind, ImmutableArray<RuleFieldChange> Fields)
{
    /// <summary>Compares two rule sets by rule id, field by field; rules whose content hash is unchanged are left out.</summary>
    public static ImmutableArray<RuleChange> Between(IEnumerable<Rule> before, IEnumerable<Rule> after, DateTimeOffset now)
    {
        var old = before.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var @new = after.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var changes = new List<RuleChange>();
        foreach (var id in old.Keys.Union(@new.Keys).Order(StringComparer.Ordinal))
        {
            var a = old.GetValueOrDefault(id);
            var b = @new.GetValueOrDefault(id);
            if (a is not null && b is not null && a.Source.ContentHash == b.Source.ContentHash) continue;
            var fields = Settings(a, now).Zip(Settings(b, now), (x, y) => new RuleFieldChange(x.Field, x.Value, y.Value))
                .Where(f => f.Before != f.After).ToList();
            if (a is not null && b is not null && fields.Count == 0) fields.Add(new RuleFieldChange("text", "description, tests or layout", "changed; no setting that decides"));
            var kind = a is null ? RuleChangeKind.Added : b is null ? RuleChangeKind.Removed : RuleChangeKind.Modified;
            changes.Add(new RuleChange(id, (b ?? a)!.Source.File.Replace('\\', '/'), kind, [.. fields]));
        }

        return [.. changes];
    }

    /// <summary>The rule's mode as it acts at <paramref name="now"/>: an enforce rule past its expiry only observes.</summary>
    public static string EffectiveMode(Rule rule, DateTimeOffset now) => rule.Mode switch
    {
        RuleMode.Enforce when rule.IsExpired(now) => "observe (expired)",
        _ => rule.Mode.ToString().ToLowerInvariant(),
    };

    private static IEnumerable<(string Field, string? Value)> Settings(Rule? rule, DateTimeOffset now)
    {
        string? Text(Func<Rule, string?> read) => rule is null ? null : read(rule);
        yield return ("mode", Text(r => EffectiveMode(r, now)));
        yield return ("expires", Text(r => r.Expires?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "never"));
        yield return ("approval", Text(r => r.Approval == ApprovalMode.Required ? "required" : "none"));
        yield return ("max_per_hour", Text(r => r.Limits.MaxPerHour?.ToString(CultureInfo.InvariantCulture) ?? "none"));
        yield return ("cooldown", Text(r => r.Limits.Cooldown is { } c ? DurationText.Format(c) : "none"));
        yield return ("match", Text(r => $"types [{string.Join(", ", r.Match.Types)}], providers [{string.Join(", ", r.Match.Providers.Select(p => p.Name()))}], min_severity {r.Match.MinSeverity.Name()}"));
        yield return ("when", Text(r => r.When?.Text ?? "(always)"));
        yield return ("actions", Text(r => string.Join("; ", r.Actions.Select(a => a.Parameters.IsEmpty ? a.Action.Name : $"{a.Action.Name} {a.Parameters.Describe()}"))));
        yield return ("owner", Text(r => r.Owner));
    }
}

/// <summary>
/// Destructive actions reaching the blast-radius breaker in each plan (those the plan executes plus those it holds at
/// the breaker), against its threshold: whether the change would open it.
/// </summary>
public sealed record BreakerEffect(int Threshold, TimeSpan Window, int BaseDemand, int HeadDemand, int BaseHeld, int HeadHeld)
{
    public bool OpensBefore => BaseHeld > 0;

    public bool OpensAfter => HeadHeld > 0;

    /// <summary>The sentence the review leads with; <see cref="Warns"/> says whether it is a warning.</summary>
    public string Sentence
    {
        get
        {
            var window = DurationText.Format(Window);
            return (OpensBefore, OpensAfter) switch
            {
                (false, true) => $"this change would open the breaker: {HeadDemand} destructive actions within {window}, threshold {Threshold} ({HeadHeld} held until a person re-arms it)",
                (true, true) => $"the breaker opens with or without this change: {BaseDemand} → {HeadDemand} destructive actions within {window}, threshold {Threshold} ({BaseHeld} → {HeadHeld} held)",
                (true, false) => $"this change keeps the breaker closed: {BaseDemand} → {HeadDemand} destructive actions within {window}, threshold {Threshold}",
                _ => $"the breaker stays closed: {BaseDemand} → {HeadDemand} destructive actions within {window}, threshold {Threshold}",
            };
        }
    }

    /// <summary>The change opens the breaker, or holds more at it than before.</summary>
    public bool Warns => OpensAfter && (!OpensBefore || HeadHeld > BaseHeld);
}

/// <summary>
/// One hourly rate limit (a rule's max_per_hour, or a per-action, per-provider or global limit) that skips actions in
/// either plan: how many actions wanted to run under it, and how many it skipped.
/// </summary>
public sealed record LimitEffect(string Scope, string Setting, int? BaseLimit, int? HeadLimit, int BaseWanted, int HeadWanted, int BaseSkipped, int HeadSkipped)
{
    /// <summary>The change makes this limit skip more than before.</summary>
    public bool Warns => HeadSkipped > BaseSkipped;

    public string Sentence
    {
        get
        {
            var limit = BaseLimit == HeadLimit ? $"{Setting} {HeadLimit}" : $"{Setting} {Show(BaseLimit)} → {Show(HeadLimit)}";
            return (BaseSkipped > 0, HeadSkipped > 0) switch
            {
                (false, true) => $"this change would hit the limit of {Scope}: {HeadWanted} actions within 1h, {limit} ({HeadSkipped} skipped)",
                (true, true) => $"the limit of {Scope} binds with or without this change: {BaseWanted} → {HeadWanted} actions within 1h, {limit} ({BaseSkipped} → {HeadSkipped} skipped)",
                _ => $"this change lifts the limit of {Scope}: {BaseWanted} → {HeadWanted} actions within 1h, {limit} ({BaseSkipped} → 0 skipped)",
            };
        }
    }

    private static string Show(int? limit) => limit?.ToString(CultureInfo.InvariantCulture) ?? "none";
}

/// <summary>
/// A rule change reviewed by its effect, computed twice: each rule's own effect (rate limits and the breaker off, so one
/// rule's volume does not move other identities across a threshold) and the effect with the rate limits and the
/// breaker as a run of the same findings would apply them, with what that second pass says plainly: the change opens
/// the breaker, or hits a limit.
/// </summary>
public sealed record ChangeReview(
    PlanDiff Own,
    PlanDiff Budgeted,
    ImmutableArray<RuleChange> Rules,
    BreakerEffect Breaker,
    ImmutableArray<LimitEffect> Limits)
{
    /// <summary>The guard names the budget pass adds; a decision refused by one of them reached the budgets.</summary>
    private const string RateLimited = "rate_limited";
    private const string BreakerGuard = "breaker";

    private readonly Lazy<Dictionary<(string, string, string, string, string), Decision>> _budgetedHead =
        new(() => Budgeted.Head.Decisions.GroupBy(PlanDiff.Key).ToDictionary(g => g.Key, g => g.First()));

    public static ChangeReview Create(RuleSet baseRules, RuleSet headRules, Plan baseOwn, Plan headOwn, Plan baseBudgeted, Plan headBudgeted, GuardOptions guards,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(baseRules);
        ArgumentNullException.ThrowIfNull(headRules);
        ArgumentNullException.ThrowIfNull(guards);
        var breaker = new BreakerEffect(guards.Breaker.Threshold, guards.Breaker.Window,
            BreakerDemand(baseBudgeted), BreakerDemand(headBudgeted), Held(baseBudgeted), Held(headBudgeted));
        return new ChangeReview(PlanDiff.Between(baseOwn, headOwn), PlanDiff.Between(baseBudgeted, headBudgeted),
            RuleChange.Between(baseRules.Rules, headRules.Rules, now), breaker, LimitEffects(baseRules, headRules, baseBudgeted, headBudgeted, guards.RateLimits));
    }

    /// <summary>The same decision as <paramref name="head"/> in the head plan with the rate limits and the breaker, when its verdict there differs.</summary>
    public Decision? WithBudgets(Decision head)
    {
        var budgeted = _budgetedHead.Value.GetValueOrDefault(PlanDiff.Key(head));
        return budgeted is not null && (budgeted.Verdict != head.Verdict || budgeted.Guard != head.Guard) ? budgeted : null;
    }

    /// <summary>The plain sentences a reviewer must see before anything else: breaker first, then each limit the change hits.</summary>
    public ImmutableArray<string> Warnings =>
        [.. (Breaker.Warns ? [Breaker.Sentence] : Array.Empty<string>()).Concat(Limits.Where(l => l.Warns).Select(l => l.Sentence))];

    private static int BreakerDemand(Plan plan) =>
        plan.Decisions.Count(d => d.Action?.Destructive == true && (d.Verdict == Verdict.Execute || d.Guard == BreakerGuard));

    private static int Held(Plan plan) => plan.Decisions.Count(d => d.Guard == BreakerGuard);

    private static ImmutableArray<LimitEffect> LimitEffects(RuleSet baseRules, RuleSet headRules, Plan basePlan, Plan headPlan, RateLimitOptions limits)
    {
        var scopes = new List<(string Scope, string Setting, int? BaseLimit, int? HeadLimit, Func<Decision, bool> In)>();
        var baseById = baseRules.Rules.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var headById = headRules.Rules.ToDictionary(r => r.Id, StringComparer.Ordinal);
        foreach (var id in baseById.Keys.Union(headById.Keys).Order(StringComparer.Ordinal))
        {
            var before = baseById.GetValueOrDefault(id)?.Limits.MaxPerHour;
            var after = headById.GetValueOrDefault(id)?.Limits.MaxPerHour;
            if (before is not null || after is not null) scopes.Add(($"rule {id}", "max_per_hour", before, after, d => d.Rule.Id == id));
        }

        foreach (var (action, limit) in limits.PerActionPerHour.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            scopes.Add(($"action {action}", $"per_action_per_hour.{action}", limit, limit, d => d.ActionName == action));
        }

        foreach (var (provider, limit) in limits.PerProviderPerHour.OrderBy(kv => kv.Key))
        {
            scopes.Add(($"provider {provider.Name()}", $"per_provider_per_hour.{provider.Name()}", limit, limit, d => (d.Identity?.Provider ?? d.Finding.Subject.Provider) == provider));
        }

        if (limits.GlobalPerHour is { } global) scopes.Add(("all rules", "global_per_hour", global, global, _ => true));

        static bool Reached(Decision d) => d.Action is not null && (d.Verdict == Verdict.Execute || d.Guard is RateLimited or BreakerGuard);
        static bool SkippedBy(Decision d, string scope) =>
            d.Guard == RateLimited && d.Reason is { } reason && reason.StartsWith(scope + ":", StringComparison.Ordinal);
        var effects = new List<LimitEffect>();
        foreach (var (scope, setting, baseLimit, headLimit, inScope) in scopes)
        {
            var baseSkipped = basePlan.Decisions.Count(d => SkippedBy(d, scope));
            var headSkipped = headPlan.Decisions.Count(d => SkippedBy(d, scope));
            if (baseSkipped == 0 && headSkipped == 0) continue;
            effects.Add(new LimitEffect(scope, setting, baseLimit, headLimit,
                basePlan.Decisions.Count(d => Reached(d) && inScope(d)), headPlan.Decisions.Count(d => Reached(d) && inScope(d)), baseSkipped, headSkipped));
        }

        return [.. effects];
    }
}
