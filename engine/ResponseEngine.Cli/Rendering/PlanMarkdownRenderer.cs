using System.Text;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>The plan as a pull-request comment: a summary table, then one collapsible section per rule, kept under GitHub's comment limit.</summary>
internal static class PlanMarkdownRenderer
{
    public const int MaxLength = 65_536;
    private const int Reserve = 600;

    public static void Render(Plan plan, TextWriter writer) => writer.Write(Build(plan));

    public static string Build(Plan plan)
    {
        var head = new StringBuilder();
        head.AppendLine("## ResponseEngine plan (dry-run)");
        head.AppendLine();
        head.AppendLine($"{plan.FindingCount} findings, {plan.MatchedFindingCount} matched, {plan.RuleCount} rules" +
            (plan.RulesProvenance is { } provenance ? $" {provenance}" : "") + ".");
        if (plan.Basis is { } basis) head.AppendLine().AppendLine(Escape(char.ToUpperInvariant(basis.Text[0]) + basis.Text[1..]) + ".");
        head.AppendLine();
        head.AppendLine("| verdict | decisions |");
        head.AppendLine("|---|---:|");
        foreach (var (verdict, count) in plan.CountByVerdict()) head.AppendLine($"| {verdict.Name()} | {count} |");
        head.AppendLine();

        var byAction = plan.Decisions.Where(d => d.Verdict == Verdict.Execute).GroupBy(d => d.ActionName).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (byAction.Count > 0)
        {
            head.AppendLine("| action (execute) | count |");
            head.AppendLine("|---|---:|");
            foreach (var group in byAction) head.AppendLine($"| `{group.Key}` | {group.Count()} |");
            head.AppendLine();
        }

        var body = new StringBuilder();
        var omitted = 0;
        var rules = plan.Decisions.GroupBy(d => d.Rule.Id).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        foreach (var rule in rules)
        {
            var section = new StringBuilder();
            var first = rule.First().Rule;
            var counts = string.Join(", ", rule.GroupBy(d => d.Verdict).OrderBy(g => g.Key).Select(g => $"{g.Key.Name()} {g.Count()}"));
            section.AppendLine($"<details><summary><code>{first.Id}</code> — {Escape(first.Title)} ({counts})</summary>");
            section.AppendLine();
            section.AppendLine($"Rule file `{first.Source.File.Replace('\\', '/')}` (sha256 `{first.Source.ShortHash}`), mode `{first.Mode.ToString().ToLowerInvariant()}`.");
            section.AppendLine();
            section.AppendLine("| identity | action | verdict | why | finding |");
            section.AppendLine("|---|---|---|---|---|");
            foreach (var decision in rule)
            {
                var action = decision.Parameters.IsEmpty ? $"`{decision.ActionName}`" : $"`{decision.ActionName}` {Escape(decision.Parameters.Describe())}";
                var why = decision.Reason is null ? "" : $"{decision.Guard}: {Escape(decision.Reason)}";
                if (decision.CountedOnSnapshot is { } counted) why += (why.Length > 0 ? "; " : "") + Escape(counted);
                section.AppendLine($"| {Escape(decision.TargetDisplay)} ({(decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name()}) | {action} | {decision.Verdict.Name()} | {why} | {Escape(decision.Finding.Id)} ({decision.Finding.Type}) |");
            }

            section.AppendLine();
            section.AppendLine("</details>");
            section.AppendLine();
            if (head.Length + body.Length + section.Length > MaxLength - Reserve)
            {
                omitted++;
                continue;
            }

            body.Append(section);
        }

        if (omitted > 0)
        {
            body.AppendLine($"> **Truncated:** details of {omitted} of {rules.Count} rules were left out to stay under {MaxLength:N0} characters. " +
                "Run `respond plan --format json` or `--format text` for the whole plan.");
        }

        return head.Append(body).ToString();
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
