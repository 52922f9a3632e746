using System.Globalization;
using System.Text;
using System.Text.Json;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>What a change review is compared against: the git ref as given, the commit it named, the rule files that differ.</summary>
internal sealed record ReviewBase(string Ref, string Commit, IReadOnlyList<string> RulesChanged)
{
    public string Label => $"{Ref} ({Commit[..Math.Min(12, Commit.Length)]})";
}

/// <summary>
/// A change review for people (text for a terminal, Markdown for a pull-request comment; HTML in
/// <see cref="PlanDiffHtmlRenderer"/>) and machines (JSON, schemas/plan-diff.schema.json). All carry the same facts:
/// warnings, summary counts, per-rule totals for both passes, rule setting changes, per-identity changes and unresolved
/// subjects.
/// </summary>
internal static class PlanDiffRenderer
{
    public const int DiffFormatVersion = 2;

    /// <summary>The comment's first line, invisible on GitHub: how CI finds its own comment to update instead of adding one per push.</summary>
    public const string Marker = "<!-- respond:change-review -->";

    /// <summary>No escaping: for renderers that escape whole lines (text, HTML).</summary>
    private static string Raw(string? text) => text ?? "";

    /// <summary>The one-line summary; <paramref name="escape"/> is applied to the data in it (the ref as given).</summary>
    public static string Summary(ChangeReview review, ReviewBase against, Func<string?, string>? escape = null)
    {
        var e = escape ?? Raw;
        var diff = review.Own;
        var delta = diff.ExecutedDelta();
        var identities = diff.Resolved.Count();
        var unresolved = diff.Unresolved.Count();
        return $"Against {e(against.Label)}: {Plural(against.RulesChanged.Count, "rule file")} changed, {identities} identit{(identities == 1 ? "y" : "ies")} affected" +
            (unresolved > 0 ? $" ({unresolved} unresolved subject{(unresolved == 1 ? "" : "s")} apart)" : "") + "; " +
            (delta.Count == 0 ? "executed actions unchanged" : "executed actions " + string.Join(", ", delta.Select(kv => $"{kv.Key} {Signed(kv.Value)}"))) +
            $"; destructive {Signed(diff.DestructiveIncrease)}";
    }

    /// <summary>The summary table's rows: what, base, head.</summary>
    public static IReadOnlyList<(string What, int Base, int Head)> Counts(ChangeReview review)
    {
        static int Executed(Plan p, bool destructiveOnly = false) => p.Decisions.Count(d => d.Verdict == Verdict.Execute && (!destructiveOnly || d.Action?.Destructive == true));
        static int Guarded(Plan p, string guard) => p.Decisions.Count(d => d.Guard == guard);
        return
        [
            ("decisions", review.Own.Base.Decisions.Length, review.Own.Head.Decisions.Length),
            ("executed (each rule's own effect)", Executed(review.Own.Base), Executed(review.Own.Head)),
            ("of them destructive", Executed(review.Own.Base, true), Executed(review.Own.Head, true)),
            ("executed with rate limits and breaker", Executed(review.Budgeted.Base), Executed(review.Budgeted.Head)),
            ("held at the breaker", Guarded(review.Budgeted.Base, "breaker"), Guarded(review.Budgeted.Head, "breaker")),
            ("skipped by rate limits", Guarded(review.Budgeted.Base, "rate_limited"), Guarded(review.Budgeted.Head, "rate_limited")),
        ];
    }

    /// <summary>"reset_password +28, revoke_group +2 (held +2)" for one rule's totals.</summary>
    public static string Totals(IEnumerable<RuleActionTotal> totals) => string.Join(", ", totals.Select(t =>
    {
        var parts = new List<string>();
        if (t.ExecuteDelta != 0) parts.Add(Signed(t.ExecuteDelta));
        if (t.HoldDelta != 0) parts.Add($"held {Signed(t.HoldDelta)}");
        if (parts.Count == 0 && t.SkipDelta != 0) parts.Add($"skipped {Signed(t.SkipDelta)}");
        if (parts.Count == 0 && t.Head.Error != t.Base.Error) parts.Add($"error {Signed(t.Head.Error - t.Base.Error)}");
        return $"{t.Action} {string.Join(" ", parts)}";
    }));

    /// <summary>Per rule, the own-effect totals and the totals with rate limits and the breaker (empty when nothing changes there).</summary>
    public static IReadOnlyList<(string Rule, string Own, string Budgeted)> RuleTotals(ChangeReview review)
    {
        var own = review.Own.RuleTotals().GroupBy(t => t.RuleId).ToDictionary(g => g.Key, g => Totals(g));
        var budgeted = review.Budgeted.RuleTotals().GroupBy(t => t.RuleId).ToDictionary(g => g.Key, g => Totals(g));
        return [.. own.Keys.Union(budgeted.Keys).Order(StringComparer.Ordinal)
            .Select(r => (r, own.GetValueOrDefault(r) ?? "no change", budgeted.GetValueOrDefault(r) ?? "no change"))];
    }

    /// <summary>"mode: observe → enforce"; the values come from the rule files under review, so they are data to <paramref name="escape"/>.</summary>
    public static string Field(RuleFieldChange field, Func<string?, string>? escape = null)
    {
        var e = escape ?? Raw;
        return field.Before is null ? $"{field.Field}: {e(field.After)}"
            : field.After is null ? $"{field.Field}: was {e(field.Before)}"
            : $"{field.Field}: {e(field.Before)} → {e(field.After)}";
    }

    public static string Identity(IdentityChanges identity, Func<string?, string>? escape = null)
    {
        var e = escape ?? Raw;
        var flags = identity.Identity is not { } i ? "unresolved"
            : string.Join(", ", new[] { i.Privileged ? "privileged" : "not privileged", i.Guest ? "guest" : null, i.Enabled ? null : "disabled" }.Where(f => f is not null));
        return $"{e(identity.Target)} ({identity.Provider.Name()}, {flags})";
    }

    /// <summary>One change of one identity; the finding's type and id and the action's parameters are data to <paramref name="escape"/>.</summary>
    public static string Line(DecisionChange change, ChangeReview review, Func<string?, string>? escape = null)
    {
        var e = escape ?? Raw;
        var d = change.Any;
        var action = d.Parameters.IsEmpty ? d.ActionName : $"{d.ActionName} {e(d.Parameters.Describe())}";
        var finding = $"finding {e(d.Finding.Type)}/{d.Finding.Severity.Name()} {e(d.Finding.Id)}";
        var line = change.Kind switch
        {
            ChangeKind.Added => $"+ {action}: {Show(change.Head!)} (rule {change.Head!.Rule.Id}, {finding})",
            ChangeKind.Removed => $"- {action}: was {Show(change.Base!)} (rule {change.Base!.Rule.Id}, {finding})",
            _ => $"~ {action}: {Show(change.Base!)} → {Show(change.Head!)} (rule {change.Head!.Rule.Id}, {finding})",
        };
        return change.Head is { } head && review.WithBudgets(head) is { } budgeted ? $"{line}; with rate limits and breaker: {Show(budgeted)}" : line;
    }

    public static void Text(ChangeReview review, ReviewBase against, TextWriter writer)
    {
        void Line(string text) => writer.WriteLine(TerminalText.Escape(text));
        Line(Summary(review, against));
        foreach (var warning in review.Warnings) Line("! " + warning);
        if (!review.Breaker.Warns) Line("  " + review.Breaker.Sentence);
        foreach (var limit in review.Limits.Where(l => !l.Warns)) Line("  " + limit.Sentence);
        writer.WriteLine();
        writer.WriteLine($"{"",-40} {"base",8} {"head",8} {"change",8}");
        foreach (var (what, before, after) in Counts(review)) writer.WriteLine($"{what,-40} {before,8} {after,8} {Signed(after - before),8}");
        writer.WriteLine();

        if (!review.Rules.IsEmpty) writer.WriteLine("Rules changed:");
        foreach (var rule in review.Rules)
        {
            Line($"  {Mark(rule.Kind)} {rule.RuleId} ({rule.File})");
            foreach (var field in rule.Fields) Line("      " + Field(field));
        }

        foreach (var file in against.RulesChanged.Where(f => !review.Rules.Any(r => f.Replace('\\', '/').EndsWith(r.File, StringComparison.Ordinal))))
        {
            Line($"  changed: {file}");
        }

        var totals = RuleTotals(review);
        if (totals.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Per rule (each rule's own effect | with rate limits and breaker):");
            foreach (var (rule, own, budgeted) in totals) Line($"  {rule}: {own} | {budgeted}");
        }

        writer.WriteLine();
        foreach (var identity in review.Own.Resolved)
        {
            Line(Identity(identity));
            foreach (var change in identity.Changes) Line("  " + PlanDiffRenderer.Line(change, review));
        }

        if (!review.Own.Resolved.Any()) writer.WriteLine("No identity is affected.");
        var unresolved = review.Own.Unresolved.ToList();
        if (unresolved.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine($"Unresolved subjects (no account matches; nothing is done to them): {unresolved.Count}");
            foreach (var identity in unresolved)
            {
                Line(Identity(identity));
                foreach (var change in identity.Changes) Line("  " + PlanDiffRenderer.Line(change, review));
            }
        }
    }

    /// <summary>A pull-request comment: warnings, the summary table and per-rule totals first, then collapsed detail; under GitHub's limit.</summary>
    public static string Markdown(ChangeReview review, ReviewBase against)
    {
        static string M(string? text) => DisplayText.Markdown(text);
        var head = new StringBuilder();
        head.AppendLine(Marker);
        head.AppendLine("## ResponseEngine change review");
        head.AppendLine();
        head.AppendLine(Summary(review, against, M) + ".");
        head.AppendLine();
        foreach (var warning in review.Warnings) head.AppendLine($"> [!WARNING]\n> **{warning}**\n");
        if (!review.Breaker.Warns) head.AppendLine(review.Breaker.Sentence + ".").AppendLine();
        foreach (var limit in review.Limits.Where(l => !l.Warns)) head.AppendLine(limit.Sentence + ".").AppendLine();
        head.AppendLine("| | base | head | change |");
        head.AppendLine("|---|---:|---:|---:|");
        foreach (var (what, before, after) in Counts(review)) head.AppendLine($"| {what} | {before} | {after} | {Signed(after - before)} |");
        head.AppendLine();
        var totals = RuleTotals(review);
        if (totals.Count > 0)
        {
            head.AppendLine("| rule | each rule's own effect | with rate limits and breaker |");
            head.AppendLine("|---|---|---|");
            foreach (var (rule, own, budgeted) in totals) head.AppendLine($"| `{rule}` | {own} | {budgeted} |");
            head.AppendLine();
        }

        if (!review.Rules.IsEmpty)
        {
            head.AppendLine($"<details><summary>Rules changed: {review.Rules.Length}</summary>");
            head.AppendLine();
            foreach (var rule in review.Rules)
            {
                head.AppendLine($"- \\{Mark(rule.Kind)} `{rule.RuleId}` ({M(rule.File)})");
                foreach (var field in rule.Fields) head.AppendLine($"  - {Field(field, M)}");
            }

            head.AppendLine();
            head.AppendLine("</details>");
            head.AppendLine();
        }

        var body = new StringBuilder();
        var omitted = 0;
        void Add(IdentityChanges identity)
        {
            var section = new StringBuilder();
            section.AppendLine($"<details><summary>{Identity(identity, DisplayText.Html)}: {Plural(identity.Changes.Length, "change")}</summary>");
            section.AppendLine();
            foreach (var change in identity.Changes) section.AppendLine("- \\" + Line(change, review, M)); // \+ \- \~: the mark is text, not a nested list
            section.AppendLine();
            section.AppendLine("</details>");
            if (head.Length + body.Length + section.Length > PlanMarkdownRenderer.MaxLength - 1_000) omitted++;
            else body.Append(section);
        }

        foreach (var identity in review.Own.Resolved) Add(identity);
        var unresolved = review.Own.Unresolved.ToList();
        if (unresolved.Count > 0)
        {
            body.AppendLine();
            body.AppendLine($"**Unresolved subjects** (no account matches; nothing is done to them): {unresolved.Count}");
            body.AppendLine();
            foreach (var identity in unresolved) Add(identity);
        }

        var sections = review.Own.Identities.Length;
        if (omitted > 0)
        {
            body.AppendLine();
            body.AppendLine($"> **Truncated:** {omitted} of {sections} identities left out to stay under {PlanMarkdownRenderer.MaxLength:N0} characters; " +
                "run `respond plan --base … --format json` (or `--format html`) for all.");
        }

        return head.Append(body).ToString();
    }

    public static string Json(ChangeReview review, ReviewBase against)
    {
        static object? Side(Decision? d) => d is null ? null : new { rule = d.Rule.Id, verdict = d.Verdict.Name(), guard = d.Guard, reason = d.Reason };
        static object Counts(VerdictCounts c) => new { execute = c.Execute, skip = c.Skip, hold = c.Hold, error = c.Error };
        static object Totals(PlanDiff diff) => diff.RuleTotals().Select(t => new
        {
            rule = t.RuleId,
            action = t.Action,
            destructive = t.Destructive,
            @base = Counts(t.Base),
            head = Counts(t.Head),
        });
        object Identities(IEnumerable<IdentityChanges> identities) => identities.Select(i => new
        {
            provider = i.Provider.Name(),
            target = i.Target,
            identity = i.Identity is { } x ? new { id = x.Id, name = x.Name, upn = x.Upn, privileged = x.Privileged, guest = x.Guest, enabled = x.Enabled } : null,
            changes = i.Changes.Select(c => new
            {
                change = c.Kind.ToString().ToLowerInvariant(),
                action = c.Any.ActionName,
                parameters = JsonDocument.Parse(c.Any.Parameters.Canonical).RootElement,
                destructive = c.Any.Action?.Destructive ?? false,
                finding = new { source = c.Any.Finding.Source, id = c.Any.Finding.Id, type = c.Any.Finding.Type, severity = c.Any.Finding.Severity.Name() },
                @base = Side(c.Base),
                head = Side(c.Head),
                with_budgets = c.Head is { } h ? Side(review.WithBudgets(h)) : null,
            }),
        });
        var document = new
        {
            diff_version = DiffFormatVersion,
            @base = against.Commit,
            base_ref = against.Ref,
            rules_changed = against.RulesChanged,
            warnings = review.Warnings,
            rule_changes = review.Rules.Select(r => new
            {
                id = r.RuleId,
                file = r.File,
                change = r.Kind.ToString().ToLowerInvariant(),
                fields = r.Fields.Select(f => new { field = f.Field, before = f.Before, after = f.After }),
            }),
            summary = PlanDiffRenderer.Counts(review).Select(c => new { what = c.What, @base = c.Base, head = c.Head }),
            destructive_increase = review.Own.DestructiveIncrease,
            executed_delta = review.Own.ExecutedDelta(),
            totals = Totals(review.Own),
            with_budgets = new
            {
                destructive_increase = review.Budgeted.DestructiveIncrease,
                executed_delta = review.Budgeted.ExecutedDelta(),
                totals = Totals(review.Budgeted),
                breaker = new
                {
                    threshold = review.Breaker.Threshold,
                    window_seconds = (long)review.Breaker.Window.TotalSeconds,
                    base_destructive = review.Breaker.BaseDemand,
                    head_destructive = review.Breaker.HeadDemand,
                    base_held = review.Breaker.BaseHeld,
                    head_held = review.Breaker.HeadHeld,
                    opens = review.Breaker.OpensAfter,
                    sentence = review.Breaker.Sentence,
                },
                limits = review.Limits.Select(l => new
                {
                    scope = l.Scope,
                    setting = l.Setting,
                    base_limit = l.BaseLimit,
                    head_limit = l.HeadLimit,
                    base_wanted = l.BaseWanted,
                    head_wanted = l.HeadWanted,
                    base_skipped = l.BaseSkipped,
                    head_skipped = l.HeadSkipped,
                    sentence = l.Sentence,
                }),
            },
            identities = Identities(review.Own.Resolved),
            unresolved = Identities(review.Own.Unresolved),
        };
        return JsonSerializer.Serialize(document, Options);
    }

    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static string Mark(RuleChangeKind kind) => kind switch
    {
        RuleChangeKind.Added => "+",
        RuleChangeKind.Removed => "-",
        _ => "~",
    };

    private static string Show(Decision x) => x.Guard is null ? x.Verdict.Name() : $"{x.Verdict.Name()} [{x.Guard}]";

    public static string Signed(int value) => value.ToString("+#;-#;±0", CultureInfo.InvariantCulture);

    private static string Plural(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";
}
