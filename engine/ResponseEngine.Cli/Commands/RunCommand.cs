using System.CommandLine;
using ResponseEngine.Actions;
using ResponseEngine.Audit;
using ResponseEngine.Execution;
using ResponseEngine.Findings;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond run`: ingest, decide, guard, apply, audit — the main job.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var config = EngineHost.Config();
        var once = new Option<bool>("--once") { Description = "Process the findings once and exit (the only mode of `run`; continuous enforcement is `respond serve`)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Decide and audit as `dry_run`, change nothing" };
        var findings = new Option<string[]>("--findings", "-i")
        {
            Description = "Findings files or folders (default: `findings` in respond.yaml, else samples/findings)",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "PATH",
        };
        var rules = new Option<string?>("--rules", "-r") { Description = "Rules folder (default: `rules` in respond.yaml, else rules)", HelpName = "DIR" };
        var skipInvalid = CommonOptions.SkipInvalid();
        var command = new Command("run", """
            Ingest findings, decide with the rules, pass every decision through the guards (rule mode, protected
            identities, preconditions, lockout protection, dedupe and cooldown, rate limits, blast-radius breaker,
            approval), write the intent to the audit store, apply through the connector (a no-op when already done),
            verify, and write the outcome. Interrupted intents from a crash are reconciled first, by reading the live
            state. With no configuration it runs on the embedded default: the sample directory (a working copy in
            respond.state/ that actions really change) and the SQLite audit file respond.db.
            Exit code 0 when nothing failed; 1 when an action failed or the audit trail could not be written;
            2 for invalid rules, findings or configuration (then nothing is done; with --skip-invalid, invalid
            finding records are reported and the valid ones are run).

            Examples:
              respond run --once
              respond run --once --dry-run
              respond run --once --findings alerts.ndjson --config /etc/respond/respond.yaml
            """)
        {
            config,
            once,
            dryRun,
            findings,
            rules,
            skipInvalid,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse.GetValue(config), parse.GetValue(dryRun),
            parse.GetValue(findings), parse.GetValue(rules), parse.GetValue(skipInvalid), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string? configFile, bool dryRun, string[]? findingPaths, string? rulesDirectory, bool skipInvalid, CancellationToken cancellationToken)
    {
        var options = EngineHost.LoadOptions(context, configFile);
        var load = CommonOptions.LoadRules(rulesDirectory ?? options.Rules, context.Time);
        CommonOptions.Print(context.Error, load.Diagnostics.Where(d => d.IsError), context.Color);
        if (load.RuleSet is null)
        {
            context.Error.WriteLine($"nothing done: the rules have {CommonOptions.Plural(load.ErrorCount, "error")} (run `respond validate`)");
            return ExitCodes.BadInput;
        }

        if (findingPaths is not { Length: > 0 } && options.Connectors.Values.Any(c => c.Kind != "local"))
        {
            // Real directories are configured: say where the findings come from, so samples are never acted on unnoticed.
            context.Error.WriteLine(Rendering.TerminalText.Escape($"respond: findings from {string.Join(", ", options.Findings)} (`findings` in respond.yaml; --findings overrides)"));
        }

        var read = FindingReader.ReadPaths(findingPaths is { Length: > 0 } ? findingPaths : options.Findings);
        CommonOptions.Print(context.Error, read.Diagnostics, context.Color);
        if (read.HasErrors && !skipInvalid)
        {
            context.Error.WriteLine($"nothing done: {CommonOptions.Plural(read.Diagnostics.Count(d => d.IsError), "finding error")}; fix or remove those records and run again (or pass --skip-invalid to run the valid ones)");
            return ExitCodes.BadInput;
        }

        if (read.HasErrors)
        {
            context.Error.WriteLine($"skipped what the {CommonOptions.Plural(read.Diagnostics.Count(d => d.IsError), "finding error")} name (--skip-invalid); running the {read.Findings.Length} valid findings");
        }

        // A dry run acts on nothing, so it tells no one; a real run hands notifications off and never waits for a receiver.
        await using var notifications = dryRun ? null : EngineHost.Notifications(context, options);
        var store = await EngineHost.OpenStoreOrReportAsync(context, options, "done", cancellationToken);
        if (store is null) return ExitCodes.Failed;

        await using (store)
        {
            try
            {
                var connectors = EngineHost.Connectors(options, context.Time);
                if (!await EngineHost.CheckConnectorsAsync(context, options, connectors, "nothing done", cancellationToken, notifications)) return ExitCodes.Failed;
                if (await EngineHost.LocalDirectoryProblemAsync(options, connectors, read.Findings, cancellationToken) is { } local)
                {
                    context.Error.WriteLine(Rendering.TerminalText.Escape($"respond: nothing done: {local.Problem}"));
                    return local.Transient ? ExitCodes.Failed : ExitCodes.BadInput;
                }

                var run = EngineHost.Run(options, store, connectors, context.Time, dryRun, notifications);
                var reconciled = await new Reconciler(run, ActionCatalogue.Default).ReconcileAsync(options.ReconcileAfter, cancellationToken);
                foreach (var item in reconciled)
                {
                    context.Error.WriteLine($"reconciled audit #{item.IntentSequence} {item.Action} on {item.Target}: {item.Status.Name()} — {item.Detail}");
                }

                var progress = context.Color ? new Progress<int>(n => context.Error.Write($"\r{n} decisions done")) : null;
                var (plan, summary) = await ResponseRun.RunAsync(load.RuleSet, read.Findings, run, progress, cancellationToken);
                if (progress is not null) context.Error.WriteLine();
                Print(context, plan, summary);
                return summary.AnyFailed ? ExitCodes.Failed : ExitCodes.Ok;
            }
            catch (AuditWriteException e)
            {
                context.Error.WriteLine($"respond: stopped: the audit trail could not be written, so no further action was taken: {e.Message}");
                return ExitCodes.Failed;
            }
            catch (System.Data.Common.DbException e)
            {
                // A guard's read of the trail failed (the database went away mid-run): no decision can be guarded without it.
                context.Error.WriteLine($"respond: stopped: the audit trail could not be read, so no further action was taken: {e.Message}");
                return ExitCodes.Failed;
            }
        }
    }

    private static void Print(CliContext context, Planning.Plan plan, RunSummary summary)
    {
        var output = context.Output;
        output.WriteLine($"run {summary.RunId}{(summary.DryRun ? " (dry-run)" : "")}: {plan.FindingCount} findings, {summary.Results.Length} decisions"
            + (plan.RulesProvenance is { } provenance ? $"; rules {provenance}" : ""));
        foreach (var failure in summary.Results.Where(r => r.Status is AuditStatus.Failed or AuditStatus.TimedOut))
        {
            output.WriteLine($"  {failure.Status.Name()}: {failure.Decision.ActionName} on {failure.Decision.TargetDisplay} (audit #{failure.Sequence}): {failure.Detail}");
        }

        output.WriteLine();
        output.WriteLine($"{"status",-12} {"count",6}");
        foreach (var status in Enum.GetValues<AuditStatus>())
        {
            var count = summary.Count(status);
            if (count > 0) output.WriteLine($"{status.Name(),-12} {count,6}");
        }

        var guards = summary.Results.Where(r => r.Decision.Guard is not null).GroupBy(r => r.Decision.Guard!).OrderByDescending(g => g.Count()).ToList();
        if (guards.Count > 0)
        {
            output.WriteLine();
            output.WriteLine("not executed, by guard: " + string.Join(", ", guards.Select(g => $"{g.Key} {g.Count()}")));
        }
    }
}
