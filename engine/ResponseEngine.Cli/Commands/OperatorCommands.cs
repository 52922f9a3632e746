using System.CommandLine;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
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
        var reason = new Option<string>("--reason") { Description = "Why it is safe to act again (recorded in the audit trail)", Required = true };
        var rearm = new Command("rearm", "Close the breaker after review; recorded with your name and reason.\n\nExamples:\n  respond breaker rearm --reason \"reviewed\"") { rearmConfig, reason };
        rearm.SetAction(async (parse, token) => await AuditCommand.WithStoreAsync(context, parse.GetValue(rearmConfig), async store =>
        {
            var (open, _) = await BreakerGuard.StateAsync(store, token);
            if (!open)
            {
                context.Output.WriteLine("breaker is not open; nothing to re-arm");
                return ExitCodes.Ok;
            }

            var row = await store.AppendAsync(Entry(context, AuditStatus.BreakerRearmed) with { Guard = "breaker", Reason = parse.GetValue(reason) }, token);
            context.Output.WriteLine($"breaker re-armed (audit #{row.Sequence})");
            return ExitCodes.Ok;
        }, token));
        command.Add(status);
        command.Add(rearm);
        return command;
    }

    public static Command Approve(CliContext context)
    {
        var config = EngineHost.Config();
        var id = new Argument<long>("id") { Description = "Audit row number (#) of a held decision" };
        var command = new Command("approve", """
            Approve a decision held because its rule requires approval. The approval is recorded with your name;
            the decision runs on the next `respond run` (through every other guard).

            Examples:
              respond audit list --status held
              respond approve 42
            """)
        {
            config,
            id,
        };
        command.SetAction(async (parse, token) => await AuditCommand.WithStoreAsync(context, parse.GetValue(config), async store =>
        {
            var held = await AuditCommand.FindAsync(store, parse.GetValue(id), token);
            if (held.Entry.Status != AuditStatus.Held || held.Entry.IdempotencyKey is null)
                throw new CliInputException($"audit #{held.Sequence} is {held.Entry.Status.Name()}, not a held decision");
            if (held.Entry.Guard != "approval")
                throw new CliInputException($"audit #{held.Sequence} is held by the {held.Entry.Guard}, not waiting for approval" +
                    (held.Entry.Guard == "breaker" ? "; review it and run `respond breaker rearm`" : ""));
            if (await store.CountAsync(new AuditQuery { IdempotencyKey = held.Entry.IdempotencyKey, Statuses = [AuditStatus.Approved] }, token) > 0)
            {
                context.Output.WriteLine($"audit #{held.Sequence} is already approved");
                return ExitCodes.Ok;
            }

            var row = await store.AppendAsync(Entry(context, AuditStatus.Approved) with
            {
                IdempotencyKey = held.Entry.IdempotencyKey, IntentSequence = held.Sequence, RuleId = held.Entry.RuleId, RuleHash = held.Entry.RuleHash,
                FindingId = held.Entry.FindingId, FindingSource = held.Entry.FindingSource, Provider = held.Entry.Provider,
                IdentityId = held.Entry.IdentityId, IdentityName = held.Entry.IdentityName, Action = held.Entry.Action, Parameters = held.Entry.Parameters,
                Guard = "approval", Reason = $"approved by {EngineHost.Actor()}",
            }, token);
            context.Output.WriteLine($"approved {held.Entry.Action} on {held.Entry.IdentityName} (audit #{row.Sequence}); it runs on the next `respond run`");
            return ExitCodes.Ok;
        }, token));
        return command;
    }

    public static Command Undo(CliContext context)
    {
        var config = EngineHost.Config();
        var id = new Argument<long>("id") { Description = "Audit row number (#) of a succeeded action (its outcome or its intent)" };
        var command = new Command("undo", """
            Reverse a reversible action from its recorded prior state (re-enable, re-add groups and roles, …).
            The undo is itself audited (intent, then outcome) and refused for protected identities and twice.

            Examples:
              respond audit list --status succeeded
              respond undo 42
            """)
        {
            config,
            id,
        };
        command.SetAction(async (parse, token) =>
        {
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
                    FindingSource = e.FindingSource, Provider = e.Provider, IdentityId = e.IdentityId, IdentityName = e.IdentityName, Action = e.Action,
                    Parameters = e.Parameters, Verdict = "undo", Reason = $"undo of audit #{outcome.Sequence}", PriorState = e.PriorState,
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
