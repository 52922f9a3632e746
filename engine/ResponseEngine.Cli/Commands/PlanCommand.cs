using System.CommandLine;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Findings;
using ResponseEngine.Guards;
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
        var directory = new Option<string>("--directory", "-d")
        {
            Description = "Directory snapshot the identities are resolved against (schemas/directory.schema.json)",
            DefaultValueFactory = _ => "samples/directory.json",
            HelpName = "FILE",
        };
        var format = CommonOptions.Format("text", "markdown", "json", "html");
        var output = new Option<string?>("--out", "-o") { Description = "Write the plan to this file instead of standard output", HelpName = "FILE" };
        var at = CommonOptions.At();
        var config = EngineHost.Config();
        var baseRef = new Option<string?>("--base") { Description = "Also plan with the rules as they were at this git ref (read from git, no checkout) and print what changes per identity", HelpName = "GITREF" };
        var failOnIncrease = new Option<int?>("--fail-on-increase") { Description = "With --base: exit 1 when executed destructive actions grow by more than N (a CI gate)", HelpName = "N" };
        var command = new Command("plan", """
            Dry-run: evaluate the rules against findings and a directory snapshot, pass each proposed action
            through the guards as a run of these findings would apply them with an empty audit history (rule mode
            and expiry, protected identities, action preconditions, lockout protection counted on the snapshot,
            rate limits and the breaker counted within the plan, approval),
            and print the plan: per identity, what would be done and why, or why not. Nothing is changed.
            Findings that fail validation are reported with file and line; the others are still planned
            (exit code 2 tells CI that some input was rejected).
            With --base, both rule sets are planned without the rate limits and the breaker (which depend on the
            volume of everything else), so the diff shows each rule's own effect.

            Examples:
              respond plan
              respond plan --findings samples/findings/entra-risk.json --format markdown --out plan.md
              respond plan --findings audit:30d --directory snapshot.json
              respond plan -i alerts.ndjson -d snapshot.json --format json
              respond plan --format html --out plan.html
              respond plan --base origin/main --format markdown --fail-on-increase 10
            """)
        {
            findings,
            rules,
            directory,
            format,
            output,
            at,
            config,
            baseRef,
            failOnIncrease,
        };
        command.SetAction(parse => Run(context, parse.GetValue(findings)!, parse.GetValue(rules)!, parse.GetValue(directory)!,
            parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(at), parse.GetValue(config), parse.GetValue(baseRef), parse.GetValue(failOnIncrease)));
        return command;
    }

    private static int Run(CliContext context, string[] findingPaths, string rulesDirectory, string directoryFile, string format, string? outFile, string? at, string? configFile,
        string? baseRef, int? failOnIncrease)
    {
        var time = CommonOptions.Clock(context, at);
        var options = EngineHost.LoadOptions(context, configFile);
        var load = CommonOptions.LoadRules(rulesDirectory, time);
        CommonOptions.Print(context.Error, load.Diagnostics.Where(d => d.IsError), context.Color);
        if (load.RuleSet is null)
        {
            context.Error.WriteLine($"no plan: the rules have {CommonOptions.Plural(load.ErrorCount, "error")} (run `respond validate`)");
            return ExitCodes.BadInput;
        }

        var snapshot = SnapshotReader.ReadFile(directoryFile, options.Privileged);
        CommonOptions.Print(context.Error, snapshot.Diagnostics, context.Color);
        if (snapshot.Snapshot is null)
        {
            context.Error.WriteLine("no plan: the directory snapshot cannot be used");
            return ExitCodes.BadInput;
        }

        var read = InboxFindings.Read(findingPaths, options, time, CancellationToken.None);
        CommonOptions.Print(context.Error, read.Diagnostics, context.Color);
        Plan plan;
        using (var progress = ProgressBar.For(context, read.Findings.Length, baseRef is null ? "findings" : "findings (this revision)"))
        {
            plan = new Planner(load.RuleSet, snapshot.Snapshot, options.Privileged, time, GuardPipeline.ForPlan(options, snapshot.Snapshot, budget: baseRef is null))
                .Plan(read.Findings, progress);
            progress?.Report(read.Findings.Length);
        }

        if (baseRef is not null)
        {
            return Diff(context, load, rulesDirectory, baseRef, snapshot.Snapshot, read, options, time, plan, format, outFile, failOnIncrease);
        }

        using (var target = outFile is null ? null : File.Create(outFile))
        {
            if (format == "json")
            {
                if (target is not null)
                {
                    PlanJsonWriter.Write(plan, target);
                }
                else
                {
                    using var buffer = new MemoryStream();
                    PlanJsonWriter.Write(plan, buffer);
                    context.Output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
                }
            }
            else
            {
                var writer = target is null ? context.Output : new StreamWriter(target);
                if (format == "markdown") PlanMarkdownRenderer.Render(plan, writer);
                else if (format == "html") writer.Write(PlanHtmlRenderer.Build(plan));
                else PlanTextRenderer.Render(plan, writer, context.Color && target is null);
                writer.Flush();
            }
        }

        if (outFile is not null) context.Error.WriteLine($"plan written to {outFile}: {PlanTextRenderer.SummaryLine(plan)}");
        var rejected = read.Diagnostics.Count(d => d.IsError);
        if (rejected > 0)
        {
            context.Error.WriteLine($"{CommonOptions.Plural(rejected, "finding error")}: those records were not planned");
            return ExitCodes.BadInput;
        }

        return ExitCodes.Ok;
    }

    private static int Diff(CliContext context, Policy.Rules.RuleLoad head, string rulesDirectory, string baseRef, DirectorySnapshot snapshot, FindingLoad read,
        Configuration.EngineOptions options, TimeProvider time, Plan plan, string format, string? outFile, int? failOnIncrease)
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

        Plan basePlan;
        using (var progress = ProgressBar.For(context, read.Findings.Length, $"findings ({baseRef})"))
        {
            basePlan = new Planner(baseLoad.RuleSet, snapshot, options.Privileged, time, GuardPipeline.ForPlan(options, snapshot, budget: false)).Plan(read.Findings, progress);
            progress?.Report(read.Findings.Length);
        }

        var diff = PlanDiff.Between(basePlan, plan);
        var before = baseLoad.Rules.ToDictionary(r => r.Source.File, r => r.Source.ContentHash);
        var after = head.Rules.ToDictionary(r => r.Source.File, r => r.Source.ContentHash);
        var changed = before.Keys.Union(after.Keys).Where(f => before.GetValueOrDefault(f) != after.GetValueOrDefault(f)).Order(StringComparer.Ordinal).ToList();
        var label = $"{baseRef} ({commit[..12]})";
        var text = format switch
        {
            "json" => PlanDiffRenderer.Json(diff, commit, changed),
            "markdown" => PlanDiffRenderer.Markdown(diff, label, changed),
            _ => null,
        };
        using (var target = outFile is null ? null : new StreamWriter(outFile))
        {
            var writer = target ?? context.Output;
            if (text is null) PlanDiffRenderer.Text(diff, label, changed, writer);
            else writer.WriteLine(text);
        }

        if (outFile is not null) context.Error.WriteLine($"plan diff written to {outFile}: {PlanDiffRenderer.Summary(diff, label, changed)}");
        if (failOnIncrease is { } allowed && diff.DestructiveIncrease > allowed)
        {
            context.Error.WriteLine($"destructive actions grow by {diff.DestructiveIncrease}, more than the {allowed} allowed by --fail-on-increase");
            return ExitCodes.Failed;
        }

        return read.HasErrors ? ExitCodes.BadInput : ExitCodes.Ok;
    }
}
