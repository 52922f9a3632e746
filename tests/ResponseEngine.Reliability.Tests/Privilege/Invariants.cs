using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ResponseEngine.Audit;
using ResponseEngine.Findings;

namespace ResponseEngine.Reliability.Tests.Privilege;

/// <summary>Which invariants a property checks after every case.</summary>
public sealed record Checks
{
    /// <summary>Every critical set keeps min(holders before, minimum) usable holders, counted by the test's own reachability.</summary>
    public bool Lockout { get; init; } = true;

    /// <summary>Nothing protected (break_glass, response_engine, engine accounts, members of protected groups) is changed or targeted by an intent.</summary>
    public bool Protected { get; init; } = true;

    /// <summary>Every intent has one outcome; every effect had exactly one open intent before it and ends succeeded; nothing takes effect twice; every change is explained.</summary>
    public bool ExactlyOnce { get; init; } = true;

    /// <summary>
    /// Every action recorded succeeded changed the directory itself (else it is a noop: its recorded prior state is not
    /// what undo may restore), also when another run changed the account between this run's read and apply.
    /// </summary>
    public bool SucceededMeansChanged { get; init; } = true;

    /// <summary>One intent that reached the directory (succeeded or noop) per account, action and parameters, whatever the finding's source and id.</summary>
    public bool OneIntentPerChange { get; init; }

    /// <summary>No action fails on the local directory: what would fail (stale state in the run) is refused by a precondition instead.</summary>
    public bool NoFailures { get; init; }

    public static Checks Safety { get; } = new();

    /// <summary>Protection and exactly-once without the lockout count, to look at a dedupe or in-run-state property alone.</summary>
    public static Checks ExactlyOnceOnly { get; } = new() { Lockout = false };
}

/// <summary>The invariants, computed from the generated graph and the working copy by the test's own code, never the product's.</summary>
public static class Invariants
{
    private static readonly StringComparer Names = StringComparer.OrdinalIgnoreCase;

    public static List<string> Check(AdversaryCase c, CaseOutcome o, Checks checks)
    {
        var violations = new List<string>(o.Problems);
        if (o.After is not { } after) return violations;
        var before = o.Before;
        var intents = o.Trail.Where(r => r.Entry.Status == AuditStatus.Intended && !r.Entry.DryRun).ToList();
        var bySequence = intents.ToDictionary(r => r.Sequence);
        var outcomes = o.Trail.Where(r => r.Entry.IntentSequence is not null).ToLookup(r => r.Entry.IntentSequence!.Value);
        string Describe(AuditRecord i) => Intent(i, outcomes);
        IEnumerable<AuditRecord> On(GraphUser u) => intents.Where(i => i.Entry.Provider == u.Provider.Name() && i.Entry.IdentityId == u.Id);

        if (checks.Lockout)
        {
            foreach (var provider in Providers.All)
            {
                foreach (var set in CriticalSets.For(provider))
                {
                    var start = before.UsableHolders(provider, set, before);
                    var end = after.UsableHolders(provider, set, before);
                    var floor = Math.Min(start.Count, c.Minimum);
                    if (end.Count >= floor) continue;
                    var lost = start.Where(u => end.All(e => e.Id != u.Id)).Select(u =>
                        $"{before.Path(u, set)} — {string.Join("; ", On(u).Select(Describe).DefaultIfEmpty("no intent"))}");
                    violations.Add($"LOCKOUT: {provider.Name()} '{set}' kept {end.Count} usable holder(s) [{string.Join(", ", end.Select(u => u.Name))}] of {start.Count}; "
                        + $"the minimum is {c.Minimum}. Lost: {string.Join(" | ", lost)}");
                }
            }
        }

        if (checks.Protected)
        {
            foreach (var user in before.Users.Where(u => ProtectedBecause(c, before, u) is not null))
            {
                var why = ProtectedBecause(c, before, user);
                if (after.User(user.Provider, user.Id) is { } now && Fingerprint(now) != Fingerprint(user))
                {
                    violations.Add($"PROTECTED CHANGED: {user.Name} ({why}): before {Fingerprint(user)}, after {Fingerprint(now)}");
                }

                foreach (var intent in On(user)) violations.Add($"PROTECTED TARGETED: {user.Name} ({why}): intent {Describe(intent)}");
            }
        }

        if (checks.ExactlyOnce) ExactlyOnce(o, after, intents, bySequence, outcomes, violations, checks.SucceededMeansChanged);

        if (checks.OneIntentPerChange)
        {
            foreach (var group in intents.Where(i => outcomes[i.Sequence].Any(x => x.Entry.Status is AuditStatus.Succeeded or AuditStatus.Noop))
                .GroupBy(i => (i.Entry.Provider, i.Entry.IdentityId, i.Entry.Action, i.Entry.Parameters)).Where(g => g.Count() > 1))
            {
                violations.Add($"SECOND INTENT for one change (dedupe must key on account + action + parameters, whatever the source): {string.Join(" | ", group.Select(Describe))}");
            }
        }

        if (checks.NoFailures)
        {
            foreach (var failed in intents.Where(i => outcomes[i.Sequence].Any(x => x.Entry.Status is AuditStatus.Failed or AuditStatus.TimedOut)))
            {
                violations.Add($"FAILED instead of refused: {Describe(failed)}: {outcomes[failed.Sequence].First().Entry.Error}");
            }
        }

        return violations;
    }

    private static void ExactlyOnce(CaseOutcome o, DirectoryState after, List<AuditRecord> intents, Dictionary<long, AuditRecord> bySequence,
        ILookup<long, AuditRecord> outcomes, List<string> violations, bool succeededMeansChanged)
    {
        string Describe(AuditRecord i) => Intent(i, outcomes);
        foreach (var intent in intents.Where(i => outcomes[i.Sequence].Count() != 1))
        {
            violations.Add($"INTENT WITHOUT ONE OUTCOME: {Describe(intent)}");
        }

        foreach (var orphan in o.Trail.Where(r => r.Entry.IntentSequence is { } s && !bySequence.ContainsKey(s)))
        {
            violations.Add($"OUTCOME WITHOUT INTENT: #{orphan.Sequence} {orphan.Entry.Status.Name()} names intent #{orphan.Entry.IntentSequence}");
        }

        var succeeded = intents.Where(i => outcomes[i.Sequence].Any(x => x.Entry.Status == AuditStatus.Succeeded)).ToList();
        foreach (var twice in succeeded.GroupBy(i => (i.Entry.Provider, i.Entry.IdentityId, i.Entry.Action, i.Entry.Parameters)).Where(g => g.Count() > 1))
        {
            violations.Add($"ACTED TWICE: {string.Join(" | ", twice.Select(Describe))}");
        }

        if (o.Effects is { } effects)
        {
            foreach (var twice in effects.GroupBy(e => (e.Action, e.Provider, e.Target, e.Parameters)).Where(g => g.Count() > 1))
            {
                violations.Add($"EFFECT TWICE: {twice.Key.Action} {twice.Key.Parameters} on {twice.Key.Target}, by runs {string.Join(", ", twice.Select(e => e.Run))}");
            }

            var effectIntents = new HashSet<long>();
            foreach (var effect in effects)
            {
                if (effect.OpenIntents.Length != 1)
                {
                    violations.Add($"EFFECT WITHOUT EXACTLY ONE OPEN INTENT BEFORE IT: {effect.Action} {effect.Parameters} on {effect.Target} by run {effect.Run}; open intents then: [{string.Join(", ", effect.OpenIntents)}]");
                    continue;
                }

                effectIntents.Add(effect.OpenIntents[0]);
                if (!bySequence.TryGetValue(effect.OpenIntents[0], out var intent) || !outcomes[intent.Sequence].Any(x => x.Entry.Status == AuditStatus.Succeeded))
                {
                    violations.Add($"EFFECT NOT RECORDED SUCCEEDED: {effect.Action} {effect.Parameters} on {effect.Target}: {(intent is null ? "no intent" : Describe(intent))}");
                }
            }

            foreach (var intent in succeeded.Where(i => succeededMeansChanged && !effectIntents.Contains(i.Sequence)))
            {
                violations.Add($"SUCCEEDED WITHOUT AN EFFECT: {Describe(intent)}");
            }
        }

        // Every change in the working copy is explained by a succeeded action of the kind that makes it.
        foreach (var was in o.Before.Users)
        {
            if (after.User(was.Provider, was.Id) is not { } now) continue;
            var mine = succeeded.Where(i => i.Entry.Provider == was.Provider.Name() && i.Entry.IdentityId == was.Id).ToList();
            bool By(string action, string? parameter = null) => mine.Any(i => i.Entry.Action == action && (parameter is null || Mentions(i.Entry.Parameters, parameter)));
            var changes = new List<(string Change, bool Explained)>();
            if (was.OktaStatus != now.OktaStatus)
            {
                changes.Add(($"status {was.OktaStatus} → {now.OktaStatus}", now.OktaStatus switch
                {
                    "SUSPENDED" => By("disable_user"),
                    "DEPROVISIONED" => By("deactivate_user"),
                    "PASSWORD_EXPIRED" => By("reset_password"),
                    _ => false,
                }));
            }
            else if (was.SignsIn != now.SignsIn)
            {
                changes.Add(($"enabled {was.SignsIn} → {now.SignsIn}", !now.SignsIn && By("disable_user")));
            }

            if (was.PasswordMustChange != now.PasswordMustChange || was.RandomPasswordSetAt != now.RandomPasswordSetAt)
            {
                changes.Add(("password reset", By("reset_password")));
            }

            foreach (var group in was.Groups.Except(now.Groups, Names)) changes.Add(($"removed from {group}", By("revoke_group", group)));
            foreach (var role in was.Roles.Except(now.Roles, Names)) changes.Add(($"lost role {role}", By("remove_role_assignment", role)));
            foreach (var group in now.Groups.Except(was.Groups, Names)) changes.Add(($"added to {group}", false));
            foreach (var role in now.Roles.Except(was.Roles, Names)) changes.Add(($"gained role {role}", false));
            if (was.PrimaryGroup != now.PrimaryGroup) changes.Add(($"primary group {was.PrimaryGroup} → {now.PrimaryGroup}", false));
            foreach (var (change, _) in changes.Where(x => !x.Explained))
            {
                violations.Add($"CHANGE WITHOUT A SUCCEEDED INTENT: {was.Name} ({was.Id}) {change}; succeeded on it: [{string.Join(" | ", mine.Select(Describe))}]");
            }
        }
    }

    /// <summary>Why the account is protected, or null: the default tags, the engine's accounts, membership (any path) of a protected group.</summary>
    public static string? ProtectedBecause(AdversaryCase c, DirectoryState state, GraphUser user)
    {
        if (user.Tags.FirstOrDefault(t => t is "break_glass" or "response_engine") is { } tag) return "tagged " + tag;
        if (c.EngineAccounts.Contains(user.Id)) return "engine account";
        return c.ProtectedGroups.FirstOrDefault(g => state.GroupsOf(user).Contains(g)) is { } group ? $"member of protected {state.Path(user, group)}" : null;
    }

    public static string Fingerprint(GraphUser u) =>
        $"enabled={u.SignsIn} status={u.OktaStatus} groups=[{string.Join(",", u.Groups.Order(Names))}] primary={u.PrimaryGroup} roles=[{string.Join(",", u.Roles.Order(Names))}] eligible=[{string.Join(",", u.EligibleRoles.Order(Names))}] "
        + $"must_change={u.PasswordMustChange} random_at={u.RandomPasswordSetAt} tags=[{string.Join(",", u.Tags)}]";

    private static bool Mentions(string? parameters, string name)
    {
        if (parameters is null) return false;
        return JsonNode.Parse(parameters) is JsonObject o && o.Any(p => p.Value is JsonArray a && a.Any(v => v is not null && Names.Equals((string?)v, name)));
    }

    private static string Intent(AuditRecord i, ILookup<long, AuditRecord> outcomes) =>
        $"#{i.Sequence} {i.Entry.Action} {i.Entry.Parameters} on {i.Entry.IdentityName} ({i.Entry.IdentityId}) by {i.Entry.RuleId} for {i.Entry.FindingSource}/{i.Entry.FindingId} "
        + $"in {i.Entry.RunId} → {string.Join(",", outcomes[i.Sequence].Select(x => x.Entry.Status.Name()).DefaultIfEmpty("open"))}";

    /// <summary>The trail in short, for a failure message: every decision with its verdict, guard and reason.</summary>
    public static string Trail(CaseOutcome o)
    {
        var text = new StringBuilder();
        foreach (var r in o.Trail)
        {
            var e = r.Entry;
            text.Append(CultureInfo.InvariantCulture, $"  #{r.Sequence} {e.RunId} {e.Status.Name()}");
            if (e.IntentSequence is { } s) text.Append(CultureInfo.InvariantCulture, $" (of #{s})");
            text.Append(CultureInfo.InvariantCulture, $" {e.Action} {e.Parameters} on {e.IdentityName} ({e.IdentityId})");
            if (e.RuleId is not null) text.Append(CultureInfo.InvariantCulture, $" rule {e.RuleId} {e.FindingSource}/{e.FindingId}");
            if (e.Guard is not null) text.Append(CultureInfo.InvariantCulture, $" [{e.Guard}: {e.Reason}]");
            if (e.Error is not null) text.Append(CultureInfo.InvariantCulture, $" error: {e.Error}");
            text.Append('\n');
        }

        return text.ToString();
    }
}
