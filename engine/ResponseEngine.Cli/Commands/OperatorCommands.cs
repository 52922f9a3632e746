using System.CommandLine;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond breaker`, `respond approve`, `respond undo`: what a person does to the running engine, each audited.</summary>
internal static class OperatorCommands
{
    public static Command Breaker(CliContext context)
    {
        var command = new Command("breaker", """
            The blast-radius breaker: when destructive actions within the window reach the threshold it opens and
            holds every further destructive action until a person re-arms it.

            Examples:
              respond breaker status
              respond breaker rearm --reason "reviewed run 20261126T0800, false positives removed"
            """);
        var statusConfig = EngineHost.Config();
        var status = new Command("status", "Show whether the breaker is open, since when and why.\nExit code 0 closed, 1 open.\n\nExamples:\n  respond breaker status") { statusConfig };
        status.SetAction(async (parse, token) => await AuditCommand.WithStoreAsync(context, parse.GetValue(statusConfig), async store =>
        {
            var (open, last) = await BreakerGuard.StateAsync(store, token);
            context.Output.WriteLine(open
                ? $"breaker OPEN since {last!.RecordedAt:yyyy-MM-dd HH:mm:ss}Z (audit #{last.Sequence}): {last.Entry.Reason}"
                : last is null ? "breaker closed (never opened)" : $"breaker closed (re-armed {last.RecordedAt:yyyy-MM-dd HH:mm:ss}Z by {last.Entry.Actor}, audit #{last.Sequence})");
            return open ? ExitCodes.Failed : ExitCodes.Ok;
        }, token));
        var rearmConfig = EngineHost.Config();
        var reason = ReasonOption("re-arm it: why it is safe to act again");
        var requeue = new Option<bool>("--requeue") { Description = "Also put the findings of the destructive actions the breaker held back into the inbox, so `respond serve` decides them again under every guard" };
        var rearm = new Command("rearm", """
            Close the breaker after review; recorded with your name and reason. Says how many destructive actions the
            breaker held while open: they do not run by themselves; a `respond run` with their findings decides them
            again, and --requeue puts their findings back into the serve inbox to be decided again (under every guard,
            the breaker included).

            Examples:
              respond breaker rearm --reason "reviewed: a real password spray, the disables are right"
              respond breaker rearm --reason "reviewed" --requeue
            """) { rearmConfig, reason, requeue };
        rearm.SetAction(async (parse, token) =>
        {
            var why = Reason(parse, reason, "breaker rearm");
            return await AuditCommand.WithStoreAsync(context, parse.GetValue(rearmConfig), async store =>
            {
                var (open, opened) = await BreakerGuard.StateAsync(store, token);
                if (!open)
                {
                    context.Output.WriteLine("breaker is not open; nothing to re-arm");
                    return ExitCodes.Ok;
                }

                var held = (await store.ReadAsync(new AuditQuery { AfterSequence = opened!.Sequence, Statuses = [AuditStatus.Held], DryRun = false }, token))
                    .Where(r => r.Entry.Guard == "breaker").ToList();
                var row = await store.AppendAsync(Entry(context, AuditStatus.BreakerRearmed) with { Guard = "breaker", Reason = why }, token);
                context.Output.WriteLine($"breaker re-armed (audit #{row.Sequence})");
                if (held.Count == 0) return ExitCodes.Ok;
                var findings = held.Select(r => (r.Entry.FindingSource, r.Entry.FindingId)).Distinct().ToList();
                if (parse.GetValue(requeue))
                {
                    var back = 0;
                    foreach (var (source, id) in findings)
                    {
                        if (await RequeueAsync(store, source, id, token)) back++;
                    }

                    context.Output.WriteLine($"{CommonOptions.Plural(held.Count, "destructive action")} held while it was open: {CommonOptions.Plural(back, "finding")} put back into the inbox for `respond serve` to decide again"
                        + (back < findings.Count ? $"; {findings.Count - back} did not come through the inbox (a `respond run` with them decides them again)" : ""));
                }
                else
                {
                    context.Output.WriteLine($"{CommonOptions.Plural(held.Count, "destructive action")} ({CommonOptions.Plural(findings.Count, "finding")}) held while it was open will not run by themselves: `respond audit list --status held` lists them; rearm with --requeue (serve) or `respond run` with their findings decides them again");
                }

                return ExitCodes.Ok;
            }, token);
        });
        command.Add(status);
        command.Add(rearm);
        return command;
    }

    /// <summary>The --reason every operator command requires: recorded with the operator's name; blank is refused.</summary>
    private static Option<string> ReasonOption(string what) =>
        new("--reason") { Description = $"Why you {what} (recorded in the audit trail with your name; required, not blank)", Required = true, HelpName = "TEXT" };

    private static string Reason(ParseResult parse, Option<string> option, string command)
    {
        var reason = parse.GetValue(option)?.Trim();
        if (string.IsNullOrEmpty(reason)) throw new CliInputException($"{command}: --reason must say why (it is recorded in the audit trail with your name); it is blank");
        return reason;
    }

    public static Command Approve(CliContext context) => Answer(context, AuditStatus.Approved, "approve", """
        Approve a decision held because its rule requires approval. The approval is recorded with your name and
        reason, and the decision's finding is put back into the inbox: `respond serve` decides it again within its
        poll interval (a `respond run` with the finding does the same), through every other guard. A held decision
        can be approved within guards.approval.expires (default 24h) of being held, and the approval is honoured as
        long again; a rejected decision cannot be approved.

        Examples:
          respond approvals list
          respond approve 42 --reason "confirmed with the user's manager, ticket SEC-1234"
        """);

    public static Command Reject(CliContext context) => Answer(context, AuditStatus.Rejected, "reject", """
        Reject a decision held because its rule requires approval: recorded with your name and reason; the decision
        is never approved or run (a new finding about the same account asks again only if it is a different decision).

        Examples:
          respond approvals list
          respond reject 42 --reason "false positive: the sign-in was the user's new phone"
        """);

    /// <summary>`approve` and `reject`: the same checks on the held row, then one audited answer.</summary>
    private static Command Answer(CliContext context, AuditStatus answer, string name, string description)
    {
        var config = EngineHost.Config();
        var id = new Argument<long>("id") { Description = "Audit row number (#) of a decision held for approval (respond approvals list)" };
        var reason = ReasonOption(name == "approve" ? "approve it" : "reject it");
        var command = new Command(name, description) { config, id, reason };
        command.SetAction(async (parse, token) =>
        {
            var why = Reason(parse, reason, name);
            var options = EngineHost.LoadOptions(context, parse.GetValue(config));
            return await AuditCommand.WithStoreAsync(context, parse.GetValue(config), async store =>
            {
                var held = await AuditCommand.FindAsync(store, parse.GetValue(id), token);
                if (held.Entry.Status != AuditStatus.Held || held.Entry.IdempotencyKey is null)
                    throw new CliInputException($"audit #{held.Sequence} is {held.Entry.Status.Name()}, not a held decision");
                if (held.Entry.Guard != "approval")
                    throw new CliInputException($"audit #{held.Sequence} is held by the {held.Entry.Guard}, not waiting for approval" +
                        (held.Entry.Guard == "breaker" ? "; review it and run `respond breaker rearm --reason …`" : ""));
                var answers = await store.ReadAsync(new AuditQuery { IdempotencyKey = held.Entry.IdempotencyKey, Statuses = [AuditStatus.Approved, AuditStatus.Rejected] }, token);
                if (answers.FirstOrDefault(r => r.Entry.Status == AuditStatus.Rejected) is { } rejected)
                    throw new CliInputException($"audit #{held.Sequence} was rejected by {rejected.Entry.Actor} (audit #{rejected.Sequence}): {rejected.Entry.Reason}");
                if (answer == AuditStatus.Approved && answers.Count > 0 && answers[^1] is var approved && context.Time.GetUtcNow() - approved.RecordedAt <= options.Guards.Approval.Expires)
                {
                    context.Output.WriteLine($"audit #{held.Sequence} is already approved (audit #{approved.Sequence})");
                    return ExitCodes.Ok;
                }

                if (answer == AuditStatus.Approved && context.Time.GetUtcNow() - held.RecordedAt > options.Guards.Approval.Expires)
                    throw new CliInputException($"audit #{held.Sequence} was held at {held.RecordedAt:yyyy-MM-dd HH:mm}Z, more than guards.approval.expires ({DurationText.Format(options.Guards.Approval.Expires)}) ago; the request has expired (the next finding about it asks again)");

                var row = await store.AppendAsync(Entry(context, answer) with
                {
                    IdempotencyKey = held.Entry.IdempotencyKey, IntentSequence = held.Sequence, RuleId = held.Entry.RuleId, RuleHash = held.Entry.RuleHash,
                    FindingId = held.Entry.FindingId, FindingSource = held.Entry.FindingSource, Provider = held.Entry.Provider,
                    IdentityId = held.Entry.IdentityId, IdentityName = held.Entry.IdentityName, Action = held.Entry.Action, Parameters = held.Entry.Parameters,
                    Guard = "approval", Reason = why,
                }, token);
                var what = Rendering.TerminalText.Escape($"{held.Entry.Action} on {held.Entry.IdentityName}");
                if (answer == AuditStatus.Rejected)
                {
                    context.Output.WriteLine($"rejected {what} (audit #{row.Sequence}); it will not run");
                    return ExitCodes.Ok;
                }

                var requeued = await RequeueAsync(store, held.Entry.FindingSource, held.Entry.FindingId, token);
                context.Output.WriteLine($"approved {what} (audit #{row.Sequence}); " + (requeued
                    ? "its finding is back in the inbox: `respond serve` decides it again within its poll interval, under every other guard"
                    : "it runs on the next `respond run` with its finding, under every other guard"));
                return ExitCodes.Ok;
            }, token);
        });
        return command;
    }

    /// <summary>Puts a finding back into the serve inbox (when the store holds one and the finding came through it), so the service decides it again.</summary>
    private static async Task<bool> RequeueAsync(IAuditStore store, string? source, string? findingId, CancellationToken token) =>
        store is Inbox.IFindingInbox inbox && source is not null && findingId is not null && await inbox.RequeueAsync(source, findingId, token);

    /// <summary>A span as a person reads an age: 45s, 12m, 3h 20m, 2d 4h.</summary>
    private static string Age(TimeSpan span) =>
        span < TimeSpan.Zero ? "0s"
        : span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds}s"
        : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m"
        : span.TotalDays < 1 ? $"{(int)span.TotalHours}h {span.Minutes}m"
        : $"{(int)span.TotalDays}d {span.Hours}h";

    public static Command Approvals(CliContext context)
    {
        var config = EngineHost.Config();
        var list = new Command("list", """
            Decisions waiting for approval: held by a rule with `approval: required`, neither approved nor rejected,
            and not expired (guards.approval.expires); oldest first, with their age and when the request expires.
            Approve or reject each with `respond approve ID --reason …` / `respond reject ID --reason …`.

            Examples:
              respond approvals list
            """)
        { config };
        list.SetAction(async (parse, token) =>
        {
            var options = EngineHost.LoadOptions(context, parse.GetValue(config));
            return await AuditCommand.WithStoreAsync(context, parse.GetValue(config), async store =>
            {
                var now = context.Time.GetUtcNow();
                var since = now - options.Guards.Approval.Expires;
                var held = (await store.ReadAsync(new AuditQuery { Since = since, Statuses = [AuditStatus.Held], DryRun = false }, token))
                    .Where(r => r.Entry.Guard == "approval" && r.Entry.IdempotencyKey is not null).ToList();
                var answered = (await store.ReadAsync(new AuditQuery { Statuses = [AuditStatus.Approved, AuditStatus.Rejected], DryRun = false }, token))
                    .Select(r => r.Entry.IdempotencyKey).ToHashSet(StringComparer.Ordinal);
                var waiting = held.Where(r => !answered.Contains(r.Entry.IdempotencyKey)).GroupBy(r => r.Entry.IdempotencyKey).Select(g => g.First()).ToList();
                if (waiting.Count == 0)
                {
                    context.Output.WriteLine("nothing waits for approval");
                    return ExitCodes.Ok;
                }

                context.Output.WriteLine($"{"#",-7} {"age",-8} {"expires in",-11} {"rule",-32} {"action",-22} identity");
                foreach (var row in waiting)
                {
                    var e = row.Entry;
                    context.Output.WriteLine(Rendering.TerminalText.Escape(
                        $"{row.Sequence,-7} {Age(now - row.RecordedAt),-8} {Age(row.RecordedAt + options.Guards.Approval.Expires - now),-11} {e.RuleId,-32} {e.Action,-22} {e.IdentityName} ({e.Provider}; finding {e.FindingSource}/{e.FindingId})"));
                }

                context.Output.WriteLine($"{CommonOptions.Plural(waiting.Count, "decision")} waiting: `respond approve ID --reason …` or `respond reject ID --reason …`");
                return ExitCodes.Ok;
            }, token);
        });
        return new Command("approvals", "Decisions waiting for approval.\n\nExamples:\n  respond approvals list") { list };
    }

    /// <summary>An undo row is named for what it did: `undo:disable_user` re-enabled the account, and is never counted as a disable.</summary>
    public const string UndoPrefix = "undo:";

    public static Command Undo(CliContext context)
    {
        var config = EngineHost.Config();
        var id = new Argument<long>("id") { Description = "Audit row number (#) of a succeeded action (its outcome or its intent)" };
        var undoReason = ReasonOption("undo it");
        var command = new Command("undo", """
            Reverse a reversible action from its recorded prior state (re-enable, re-add groups and roles, …).
            The undo is itself audited (intent, then outcome) and refused for protected identities and twice.

            Examples:
              respond audit list --status succeeded
              respond undo 42 --reason "false positive confirmed by the SOC, ticket SEC-1234"
            """)
        {
            config,
            id,
            undoReason,
        };
        command.SetAction(async (parse, token) =>
        {
            var why = Reason(parse, undoReason, "undo");
            var options = EngineHost.LoadOptions(context, parse.GetValue(config));
            return await AuditCommand.WithStoreAsync(context, parse.GetValue(config), async store =>
            {
                var row = await AuditCommand.FindAsync(store, parse.GetValue(id), token);
                var outcome = row.Entry.Status == AuditStatus.Intended
                    ? (await store.ReadAsync(new AuditQuery { AfterSequence = row.Sequence, Statuses = [AuditStatus.Succeeded] }, token)).FirstOrDefault(r => r.Entry.IntentSequence == row.Sequence)
                    : row;
                if (outcome is null || outcome.Entry.Status != AuditStatus.Succeeded || outcome.Entry.PriorState is null)
                    throw new CliInputException($"audit #{row.Sequence} is not a succeeded action with a recorded prior state");
                var e = outcome.Entry;
                if (e.Action?.StartsWith(UndoPrefix, StringComparison.Ordinal) == true) throw new CliInputException($"audit #{outcome.Sequence} is an undo; an undo is not undone");
                var action = ActionCatalogue.Default.Find(e.Action ?? "") ?? throw new CliInputException($"unknown action '{e.Action}'");
                if (!action.Reversal.Reversible) throw new CliInputException($"{action.Name} cannot be undone: {action.Reversal.How}");
                var key = "undo:" + e.IdempotencyKey;
                if (await store.CountAsync(new AuditQuery { IdempotencyKey = key, Statuses = [AuditStatus.Intended] }, token) > 0)
                    throw new CliInputException($"audit #{outcome.Sequence} has already been undone");
                if (!Providers.TryParse(e.Provider, out var provider) || e.IdentityId is null) throw new CliInputException("the row names no target");

                var connectors = EngineHost.Connectors(options, context.Time);
                var lookup = await connectors[provider].ResolveAsync(new Subject(provider, e.IdentityId, null), token);
                var identity = lookup.Identity ?? throw new CliInputException($"cannot resolve the account to undo on: {lookup.Problem}; nothing done");

                // An undo is an action too: it passes the guards that apply to what it does, under the same store lock as a run.
                await using var storeLock = await store.LockAsync(LockoutGuard.LockName, TimeSpan.FromSeconds(30), token);
                var inverse = action.Name == "enable_user" ? ActionCatalogue.Default.Find("disable_user")! : null;
                var probe = Probe(identity, inverse);
                probe = new ProtectedIdentityGuard(options.Guards.Protected).Check(probe, new GuardContext(context.Time.GetUtcNow(), options.Privileged));
                if (probe.Verdict == Planning.Verdict.Execute && inverse is not null)
                {
                    var run = EngineHost.Run(options, store, connectors, context.Time, dryRun: false);
                    probe = await new LockoutGuard().CheckAsync(probe, run, token);
                }

                if (probe.Verdict != Planning.Verdict.Execute) throw new CliInputException($"undo refused by {probe.Guard}: {probe.Reason}");

                var request = new ActionRequest(action, Reconciler.ParseParameters(e.Parameters), new TargetRef(provider, e.IdentityId, e.IdentityName ?? e.IdentityId));
                var undo = Entry(context, AuditStatus.Intended) with
                {
                    IdempotencyKey = key, IntentSequence = null, RuleId = e.RuleId, RuleFile = e.RuleFile, RuleHash = e.RuleHash, FindingId = e.FindingId,
                    FindingSource = e.FindingSource, Provider = e.Provider, IdentityId = e.IdentityId, IdentityName = e.IdentityName, Action = UndoPrefix + e.Action,
                    Parameters = e.Parameters, Verdict = "undo", Reason = $"undo of audit #{outcome.Sequence}: {why}", PriorState = e.PriorState,
                };
                var intent = await store.AppendAsync(undo, token);
                try
                {
                    await connectors[provider].RestoreAsync(request, e.PriorState!, token);
                    await store.AppendAsync(undo with { Status = AuditStatus.Succeeded, IntentSequence = intent.Sequence }, CancellationToken.None);
                    context.Output.WriteLine($"undone: {e.Action} on {e.IdentityName} restored to its prior state (audit #{intent.Sequence})");
                    return ExitCodes.Ok;
                }
                catch (ConnectorException ex)
                {
                    await store.AppendAsync(undo with { Status = AuditStatus.Failed, IntentSequence = intent.Sequence, Error = ex.Message }, CancellationToken.None);
                    context.Error.WriteLine($"undo failed: {ex.Message}");
                    return ExitCodes.Failed;
                }
            }, token);
        });
        return command;
    }

    /// <summary>A decision standing for the undo, so that the guards can judge it like any other.</summary>
    private static Planning.Decision Probe(Identities.Identity identity, ActionDefinition? action) =>
        new(
            new Finding("undo", "respond", FindingKind.Detection, "undo", Severity.Low, DateTimeOffset.MinValue, new Subject(identity.Provider, identity.Id, null), "undo", Finding.NoAttributes),
            new Rules.Rule("undo", "undo", "operator", Rules.RuleMode.Enforce, new Rules.RuleMatch(["undo"], [identity.Provider], Severity.Low), [], new Rules.RuleSource("", "", null), default),
            identity, action, ActionParameters.Empty);

    private static AuditEntry Entry(CliContext context, AuditStatus status) => new()
    {
        RunId = $"operator-{context.Time.GetUtcNow():yyyyMMddTHHmmss}",
        Host = Environment.MachineName,
        EngineVersion = EngineHost.Version,
        Actor = EngineHost.Actor(),
        Status = status,
    };
}
