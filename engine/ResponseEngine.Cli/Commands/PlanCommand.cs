using System.CommandLine;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Findings;
using ResponseEngine.Identities;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Commands;

/// <summary>`respond plan`: the dry-run. What the rules would do to the directory for these findings, and why.</summary>
internal static class PlanCommand
{
    public static Command Create(CliContext context)
    {
        var findings = new Option<string[]>("--findings", "-i")
        {
            Description = "Findings: .json (object or array), .ndjson/.jsonl, or folders of them, or audit:30d for what `respond serve` received in the last 30 days; repeatable",
            DefaultValueFactory = _ => ["samples/findings"],
            AllowMultipleArgumentsPerToken = true,
            HelpName = "PATH",
        };
        var rules = CommonOptions.Rules();
        var directory = new Option<string?>("--directory", "-d")
        {
            Description = "Directory snapshot the identities are resolved against (schemas/directory.schema.json); default: local.snapshot in respond.yaml, else samples/directory.json",
            HelpName = "FILE",
        };
        var history = new Option<bool>("--history")
        {
            Description = "Count with the configured audit trail (dedupe, cooldown, in-flight intents, rate-limit windows, breaker, approvals), read only into a scratch copy; default: an empty history",
        };
        var format = CommonOptions.Format("text", "markdown", "json", "html");
        var output = new Option<string?>("--out", "-o") { Description = "Write the plan to this file instead of standard output", HelpName = "FILE" };
        var at = CommonOptions.At();
        var config = EngineHost.Config();
        var baseRef = new Option<string?>("--base") { Description = "Also plan with the rules as they were at this git ref (read from git, no checkout) and print what changes per identity", HelpName = "GITREF" };
        var skipInvalid = CommonOptions.SkipInvalid();
        var failOnIncrease = new Option<int?>("--fail-on-increase") { Description = "With --base: exit 1 when executed destructive actions grow by more than N (a CI gate)", HelpName = "N" };
        var command = new Command("plan", """
            Dry-run: the run itself, over a directory snapshot. The rules are evaluated against the findings and
            every proposed action goes through the executor's guards in the run's order (rule mode and expiry,
            protected identities, preconditions, lockout protection, dedupe and cooldown, rate limits, the breaker,
            approval), with connectors that read the snapshot and never act and a scratch audit trail: empty
            (stated in the plan), or with --history a read-only copy of the configured one. Lockout counts taken on
            the snapshot instead of live are named on each decision. Per identity, what would be done and why, or
            why not. Nothing is changed: not the snapshot, not the working copy, not the audit trail.
            Findings that fail validation are reported with file and line; the others are still planned
            (exit code 2 tells CI that some input was rejected; --skip-invalid makes that exit 0).
            With --base, both rule sets are planned twice: without the rate limits and the breaker (which depend on
            the volume of everything else), for each rule's own effect, and with them, to say plainly when the change
            would open the breaker or hit a limit. Every --format works with --base (JSON: schemas/plan-diff.schema.json).

            Examples:
              respond plan
              respond plan --findings samples/findings/entra-risk.json --format markdown --out plan.md
              respond plan --findings audit:30d --directory snapshot.json
              respond plan --history
              respond plan -i alerts.ndjson -d snapshot.json --format json
              respond plan --format html --out plan.html
              respond plan --base origin/main --format markdown --fail-on-increase 10
              respond plan --base HEAD~1 --format html --out review.html
            """)
        {
            findings,
            rules,
            directory,
            history,
            format,
            output,
            at,
            config,
            baseRef,
            failOnIncrease,
            skipInvalid,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse.GetValue(findings)!, parse.GetValue(rules)!, parse.GetValue(directory), parse.GetValue(history),
            parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(at), parse.GetValue(config), parse.GetValue(baseRef), parse.GetValue(failOnIncrease), parse.GetValue(skipInvalid), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, string[] findingPaths, string rulesDirectory, string? directoryOption, bool withHistory, string format,
        string? outFile, string? at, string? configFile, string? baseRef, int? failOnIncrease, bool skipInvalid, CancellationToken cancellationToken)
    {
        CheckOptions(baseRef, outFile, failOnIncrease);
        var time = CommonOptions.Clock(context, at);
        var options = EngineHost.LoadOptions(context, configFile);
        var load = CommonOptions.LoadRules(rulesDirectory, time);
        CommonOptions.Print(context.Error, load.Diagnostics.Where(d => d.IsError), context.Color);
        if (load.RuleSet is null)
        {
            context.Error.WriteLine($"no plan: the rules have {CommonOptions.Plural(load.ErrorCount, "error")} (run `respond validate`)");
            return ExitCodes.BadInput;
        }

        // An explicit --directory wins; else the snapshot respond.yaml gives the local directory (what `respond run` starts from).
        var directoryFile = directoryOption ?? options.Local.Snapshot;
        var directorySource = directoryOption is not null ? $"{directoryFile} (--directory)"
            : configFile is not null || File.Exists("respond.yaml") ? $"{directoryFile} (local.snapshot in the configuration)"
            : $"{directoryFile} (the embedded default)";
        var snapshot = SnapshotReader.ReadFile(directoryFile, options.Privileged);
        CommonOptions.Print(context.Error, snapshot.Diagnostics, context.Color);
        if (snapshot.Snapshot is null)
        {
            context.Error.WriteLine("no plan: the directory snapshot cannot be used");
            return ExitCodes.BadInput;
        }

        var settings = new PlanSettings { Budgets = baseRef is null, DirectorySource = directorySource };
        await using var trail = withHistory ? await EngineHost.OpenHistoryAsync(options, time, cancellationToken) : null;
        if (trail is not null) settings = settings with { History = trail.Store, HistorySource = trail.Name };
        if (baseRef is null)
        {
            if (!findingPaths.Any(p => p.StartsWith(InboxFindings.Prefix, StringComparison.Ordinal)))
            {
                var rejected = 0;
                var stream = FindingReader.Stream(findingPaths, diagnostic =>
                {
                    CommonOptions.Print(context.Error, [diagnostic], context.Color);
                    if (diagnostic.IsError) rejected++;
                });
                await StreamPlanAsync(context, format, load.RuleSet, stream, null, snapshot.Snapshot, options, settings, time, outFile, cancellationToken);
                return Rejected(context, rejected, skipInvalid);
            }

            var inbox = InboxFindings.Read(findingPaths, options, time, CancellationToken.None);
            CommonOptions.Print(context.Error, inbox.Diagnostics, context.Color);
            await StreamPlanAsync(context, format, load.RuleSet, inbox.Findings, inbox.Findings.Length, snapshot.Snapshot, options, settings, time, outFile, cancellationToken);
            return Rejected(context, inbox.Diagnostics.Count(d => d.IsError), skipInvalid);
        }

        var read = InboxFindings.Read(findingPaths, options, time, CancellationToken.None);
        CommonOptions.Print(context.Error, read.Diagnostics, context.Color);
        var plan = await PlanAsync(context, load.RuleSet, read, snapshot.Snapshot, options, settings, time, "findings (this revision)", cancellationToken);
        return await DiffAsync(context, load, rulesDirectory, baseRef, snapshot.Snapshot, read, options, settings, time, plan, format, outFile, failOnIncrease, skipInvalid, cancellationToken);
    }

    private static int Rejected(CliContext context, int rejected, bool skipInvalid)
    {
        if (rejected == 0) return ExitCodes.Ok;
        context.Error.WriteLine($"{CommonOptions.Plural(rejected, "finding error")}: those records were not planned");
        return skipInvalid ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    /// <summary>
    /// The plan as a stream, in every format: findings read as they come (a line at a time from NDJSON), decided window
    /// by window and handed to the format as they are decided, so memory is bounded by the directory and the rules, not
    /// by the number of findings. JSON is written as it is decided (its summary after the decisions); text, Markdown and
    /// HTML put their decisions in a reader's order through a spill file and write the summary first. <paramref name="total"/>:
    /// the number of findings when known (for the progress bar).
    /// </summary>
    private static async Task StreamPlanAsync(CliContext context, string format, Rules.RuleSet rules, IEnumerable<Finding> findings, int? total,
        DirectorySnapshot snapshot, Configuration.EngineOptions options, PlanSettings settings, TimeProvider time, string? outFile, CancellationToken cancellationToken)
    {
        var summary = "";
        if (format == "json")
        {
            async Task WriteAsync(Stream target)
            {
                using var progress = ProgressBar.For(context, total, "findings");
                using var json = new PlanJsonWriter(target);
                var plan = await PlanRun.StreamAsync(rules, findings, snapshot, options, settings, time, json, cancellationToken, progress);
                json.End(plan);
                summary = PlanTextRenderer.SummaryLine(json.DecisionCount, json.CountByVerdict());
            }

            if (outFile is not null)
            {
                await OutFile.WriteAsync(outFile, WriteAsync);
            }
            else
            {
                await using (var output = new TextWriterStream(context.Output)) await WriteAsync(output);
                context.Output.WriteLine();
            }
        }
        else
        {
            using var renderer = PlanRenderers.For(format, context.Color && outFile is null);
            Plan plan;
            using (var progress = ProgressBar.For(context, total, "findings"))
            {
                plan = await PlanRun.StreamAsync(rules, findings, snapshot, options, settings, time, renderer, cancellationToken, progress);
            }

            summary = renderer.Totals.SummaryLine();
            if (outFile is not null)
            {
                await OutFile.WriteAsync(outFile, async target =>
                {
                    await using var writer = new StreamWriter(target, leaveOpen: true);
                    renderer.WriteTo(plan, writer);
                });
            }
            else
            {
                renderer.WriteTo(plan, context.Output);
                await context.Output.FlushAsync(cancellationToken);
            }
        }

        if (outFile is not null) context.Error.WriteLine($"plan written to {outFile}: {summary}");
    }

    /// <summary>
    /// Combinations that cannot do what they say are refused before any work (exit 2), never silently ignored: every
    /// --format works with and without --base; --fail-on-increase gates a diff and means nothing without one.
    /// </summary>
    private static void CheckOptions(string? baseRef, string? outFile, int? failOnIncrease)
    {
        if (baseRef is not null && string.IsNullOrWhiteSpace(baseRef)) throw new CliInputException("--base needs a git ref, e.g. --base origin/main or --base HEAD~1");
        if (failOnIncrease is not null && baseRef is null)
        {
            throw new CliInputException("--fail-on-increase gates a change review and needs --base REF (e.g. --base origin/main --fail-on-increase 10)");
        }

        if (failOnIncrease is < 0) throw new CliInputException($"--fail-on-increase {failOnIncrease}: give the number of added destructive actions to allow, 0 or more");
        if (outFile is null) return;
        if (Directory.Exists(outFile)) throw new CliInputException($"--out {outFile}: is a folder; name a file, e.g. --out {Path.Combine(outFile, "plan.html")}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (folder is not null && !Directory.Exists(folder)) throw new CliInputException($"--out {outFile}: the folder {folder} does not exist; create it first");
    }

    /// <summary>One plan through <see cref="PlanRun"/>, with a progress bar for large inputs.</summary>
    private static async Task<Plan> PlanAsync(CliContext context, Rules.RuleSet rules, FindingLoad read, DirectorySnapshot snapshot, Configuration.EngineOptions options,
        PlanSettings settings, TimeProvider time, string label, CancellationToken cancellationToken)
    {
        using var progress = ProgressBar.For(context, read.Findings.Length, label);
        var plan = await PlanRun.PlanAsync(rules, read.Findings, snapshot, options, settings, time, cancellationToken, progress);
        progress?.Report(read.Findings.Length);
        return plan;
    }

    private static async Task<int> DiffAsync(CliContext context, Policy.Rules.RuleLoad head, string rulesDirectory, string baseRef, DirectorySnapshot snapshot, FindingLoad read,
        Configuration.EngineOptions options, PlanSettings settings, TimeProvider time, Plan plan, string format, string? outFile, int? failOnIncrease, bool skipInvalid, CancellationToken cancellationToken)
    {
        IReadOnlyList<(string File, byte[] Bytes)> files;
        string commit;
        try
        {
            (files, commit) = Policy.Rules.GitRuleSource.Read(rulesDirectory, baseRef);
        }
        catch (Policy.Rules.GitException e)
        {
            throw new CliInputException($"--base {baseRef}: {e.Message}");
        }

        var baseLoad = CommonOptions.Loader(time).Load(files, commit);
        if (baseLoad.RuleSet is null)
        {
            CommonOptions.Print(context.Error, baseLoad.Diagnostics.Where(d => d.IsError), context.Color);
            throw new CliInputException($"the rules at {baseRef} ({commit[..12]}) do not load, so there is nothing to compare with");
        }

        // Twice each side: the rules' own effect (no rate limits, no breaker) and the effect as a run would apply them.
        var baseOwn = await PlanAsync(context, baseLoad.RuleSet, read, snapshot, options, settings with { Budgets = false }, time, $"findings ({baseRef})", cancellationToken);
        var baseBudgeted = await PlanAsync(context, baseLoad.RuleSet, read, snapshot, options, settings with { Budgets = true }, time, $"findings ({baseRef}, with limits)", cancellationToken);
        var headBudgeted = await PlanAsync(context, head.RuleSet!, read, snapshot, options, settings with { Budgets = true }, time, "findings (this revision, with limits)", cancellationToken);

        var review = ChangeReview.Create(baseLoad.RuleSet, head.RuleSet!, baseOwn, plan, baseBudgeted, headBudgeted, options.Guards, time.GetUtcNow());
        var before = baseLoad.Rules.ToDictionary(r => r.Source.File, r => r.Source.ContentHash);
        var after = head.Rules.ToDictionary(r => r.Source.File, r => r.Source.ContentHash);
        var changed = before.Keys.Union(after.Keys).Where(f => before.GetValueOrDefault(f) != after.GetValueOrDefault(f)).Order(StringComparer.Ordinal).ToList();
        var against = new ReviewBase(baseRef, commit, changed);
        void Render(TextWriter writer)
        {
            switch (format)
            {
                case "json": writer.WriteLine(PlanDiffRenderer.Json(review, against)); break;
                case "markdown": writer.Write(PlanDiffRenderer.Markdown(review, against)); break;
                case "html": writer.Write(PlanDiffHtmlRenderer.Build(review, against)); break;
                default: PlanDiffRenderer.Text(review, against, writer); break;
            }
        }

        if (outFile is null)
        {
            Render(context.Output);
        }
        else
        {
            await OutFile.WriteAsync(outFile, async target =>
            {
                await using var writer = new StreamWriter(target, leaveOpen: true);
                Render(writer);
            });
        }

        if (outFile is not null) context.Error.WriteLine($"plan diff written to {outFile}: {TerminalText.Escape(PlanDiffRenderer.Summary(review, against))}");
        foreach (var warning in review.Warnings) context.Error.WriteLine($"warning: {TerminalText.Escape(warning)}");
        if (failOnIncrease is { } allowed && review.Own.DestructiveIncrease > allowed)
        {
            context.Error.WriteLine($"destructive actions grow by {review.Own.DestructiveIncrease}, more than the {allowed} allowed by --fail-on-increase");
            return ExitCodes.Failed;
        }

        return read.HasErrors && !skipInvalid ? ExitCodes.BadInput : ExitCodes.Ok;
    }
}
