using System.CommandLine;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Execution;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
using ResponseEngine.Operations;

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
            var options = EngineHost.LoadOptions(context, parse.GetValue(rearmConfig));
            return await AuditCommand.WithStoreAsync(context, parse.GetValue(rearmConfig), async store =>
            {
                var result = await Operate(() => Actions(context, store, options).RearmAsync(why, parse.GetValue(requeue), Cli, token));
                if (!result.WasOpen)
                {
                    context.Output.WriteLine("breaker is not open; nothing to re-arm");
                    return ExitCodes.Ok;
                }

                context.Output.WriteLine($"breaker re-armed (audit #{result.Row!.Sequence})");
                if (result.HeldActions == 0) return ExitCodes.Ok;
                if (parse.GetValue(requeue))
                {
                    context.Output.WriteLine($"{CommonOptions.Plural(result.HeldActions, "destructive action")} held while it was open: {CommonOptions.Plural(result.Requeued, "finding")} put back into the inbox for `respond serve` to decide again"
                        + (result.Requeued < result.HeldFindings ? $"; {result.HeldFindings - result.Requeued} did not come through the inbox (a `respond run` with them decides them again)" : ""));
                }
                else
                {
                    context.Output.WriteLine($"{CommonOptions.Plural(result.HeldActions, "destructive action")} ({CommonOptions.Plural(result.HeldFindings, "finding")}) held while it was open will not run by themselves: `respond audit list --status held` lists them; rearm with --requeue (serve) or `respond run` with their findings decides them again");
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
                var actions = Actions(context, store, options);
                var result = await Operate(() => answer == AuditStatus.Approved
                    ? actions.ApproveAsync(parse.GetValue(id), why, Cli, token)
                    : actions.RejectAsync(parse.GetValue(id), why, Cli, token));
                var held = result.Held;
                if (result.AlreadyApproved)
                {
                    context.Output.WriteLine($"audit #{held.Sequence} is already approved (audit #{result.Answer.Sequence})");
                    return ExitCodes.Ok;
                }

                var row = result.Answer;
                var what = Rendering.TerminalText.Escape($"{held.Entry.Action} on {held.Entry.IdentityName}");
                if (answer == AuditStatus.Rejected)
                {
                    context.Output.WriteLine($"rejected {what} (audit #{row.Sequence}); it will not run");
                    return ExitCodes.Ok;
                }

                context.Output.WriteLine($"approved {what} (audit #{row.Sequence}); " + (result.Requeued
                    ? "its finding is back in the inbox: `respond serve` decides it again within its poll interval, under every other guard"
                    : "it runs on the next `respond run` with its finding, under every other guard"));
                return ExitCodes.Ok;
            }, token);
        });
        return command;
    }

    private static OperatorIdentity Cli => new(EngineHost.Actor(), OperatorChannel.Cli);

    /// <summary>The operations layer over the CLI's store (connectors made only when an undo needs them).</summary>
    private static OperatorActions Actions(CliContext context, IAuditStore store, EngineOptions options) =>
        new(store, options, () => EngineHost.Connectors(options, context.Time), context.Time, Environment.MachineName, EngineHost.Version);

    /// <summary>A refused operator action is bad input here: its message on standard error, exit code 2.</summary>
    private static async Task<T> Operate<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (OperationException e)
        {
            throw new CliInputException(e.Message);
        }
    }

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
                var waiting = await Actions(context, store, options).PendingApprovalsAsync(token);
                if (waiting.Count == 0)
                {
                    context.Output.WriteLine("nothing waits for approval");
                    return ExitCodes.Ok;
                }

                context.Output.WriteLine($"{"#",-7} {"age",-8} {"expires in",-11} {"rule",-32} {"action",-22} identity");
                foreach (var (row, expiresAt) in waiting)
                {
                    var e = row.Entry;
                    context.Output.WriteLine(Rendering.TerminalText.Escape(
                        $"{row.Sequence,-7} {Age(now - row.RecordedAt),-8} {Age(expiresAt - now),-11} {e.RuleId,-32} {e.Action,-22} {e.IdentityName} ({e.Provider}; finding {e.FindingSource}/{e.FindingId})"));
                }

                context.Output.WriteLine($"{CommonOptions.Plural(waiting.Count, "decision")} waiting: `respond approve ID --reason …` or `respond reject ID --reason …`");
                return ExitCodes.Ok;
            }, token);
        });
        return new Command("approvals", "Decisions waiting for approval.\n\nExamples:\n  respond approvals list") { list };
    }

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
                var result = await Operate(() => Actions(context, store, options).UndoAsync(parse.GetValue(id), why, Cli, token));
                var e = result.Reversed.Entry;
                if (result.Succeeded)
                {
                    context.Output.WriteLine($"undone: {e.Action} on {e.IdentityName} restored to its prior state (audit #{result.Intent.Sequence})");
                    return ExitCodes.Ok;
                }

                context.Error.WriteLine($"undo failed: {result.Outcome.Entry.Error}");
                return ExitCodes.Failed;
            }, token);
        });
        return command;
    }
}
