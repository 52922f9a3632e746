using System.Text;
using ResponseEngine.Findings;
using ResponseEngine.Planning;
using ResponseEngine.Rules;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// The plan as a pull-request comment: a summary table, then one collapsible section per rule, kept under GitHub's
/// comment limit. Streamed: each decision's table row is rendered as it is decided and put in rule order by a
/// <see cref="SortedSpill"/>; per rule only its counts are held, and a section is built up to the limit at most.
/// </summary>
internal sealed class PlanMarkdownRenderer(long? spillBudget = null) : IPlanRenderer
{
    public const int MaxLength = 65_536;
    private const int Reserve = 600;

    private readonly SortedSpill _spill = new(StringComparer.Ordinal, spillBudget);

    /// <summary>Per rule with decisions: the rule and its decisions by verdict (bounded by the rule set).</summary>
    private readonly Dictionary<string, (Rule Rule, int[] ByVerdict)> _rules = new(StringComparer.Ordinal);

    public PlanTotals Totals { get; } = new();

    /// <summary>A plan held in memory.</summary>
    public static void Render(Plan plan, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Build(plan));
    }

    public static string Build(Plan plan) => PlanRenderers.Render("markdown", plan);

    public void Begin(Plan header)
    {
    }

    public void Write(IReadOnlyList<Decision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        foreach (var decision in decisions)
        {
            Totals.Add(decision);
            if (!_rules.TryGetValue(decision.Rule.Id, out var rule)) _rules[decision.Rule.Id] = rule = (decision.Rule, new int[Enum.GetValues<Verdict>().Length]);
            rule.ByVerdict[(int)decision.Verdict]++;

            var action = decision.Parameters.IsEmpty ? $"`{decision.ActionName}`" : $"`{decision.ActionName}` {Escape(decision.Parameters.Describe())}";
            var why = decision.Reason is null ? "" : $"{decision.Guard}: {Escape(decision.Reason)}";
            if (decision.CountedOnSnapshot is { } counted) why += (why.Length > 0 ? "; " : "") + Escape(counted);
            _spill.Add(0, decision.Rule.Id,
                $"| {Who(decision)} | {action} | {decision.Verdict.Name()} | {why} | {Escape(decision.Finding.Id)} ({Escape(decision.Finding.Type)}) |");
        }
    }

    public void WriteTo(Plan plan, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(writer);
        var head = new StringBuilder();
        head.AppendLine("## ResponseEngine plan (dry-run)");
        head.AppendLine();
        head.AppendLine($"{plan.FindingCount} findings, {plan.MatchedFindingCount} matched, {plan.RuleCount} rules" +
            (plan.RulesProvenance is { } provenance ? $" {provenance}" : "") + ".");
        if (plan.Basis is { } basis) head.AppendLine().AppendLine(Escape(char.ToUpperInvariant(basis.Text[0]) + basis.Text[1..]) + ".");
        head.AppendLine();
        head.AppendLine("| verdict | decisions |");
        head.AppendLine("|---|---:|");
        foreach (var (verdict, count) in Totals.CountByVerdict()) head.AppendLine($"| {verdict.Name()} | {count} |");
        head.AppendLine();

        if (Totals.ExecutedByAction.Count > 0)
        {
            head.AppendLine("| action (execute) | count |");
            head.AppendLine("|---|---:|");
            foreach (var (action, count) in Totals.ExecutedByAction) head.AppendLine($"| `{action}` | {count} |");
            head.AppendLine();
        }

        // Sections in rule order, each built from its rows as they are merged; one that cannot fit any more stops growing.
        var body = new StringBuilder();
        var omitted = 0;
        StringBuilder? section = null;
        var fits = true;
        void Close()
        {
            if (section is null) return;
            section.AppendLine();
            section.AppendLine("</details>");
            section.AppendLine();
            if (!fits || head.Length + body.Length + section.Length > MaxLength - Reserve) omitted++;
            else body.Append(section);
            section = null;
        }

        string? current = null;
        foreach (var record in _spill.Drain())
        {
            if (!string.Equals(current, record.Key, StringComparison.Ordinal))
            {
                Close();
                current = record.Key;
                var (first, byVerdict) = _rules[record.Key];
                var counts = string.Join(", ", Enum.GetValues<Verdict>().Where(v => byVerdict[(int)v] > 0).Select(v => $"{v.Name()} {byVerdict[(int)v]}"));
                section = new StringBuilder();
                fits = true;
                section.AppendLine($"<details><summary><code>{first.Id}</code> — {Escape(first.Title)} ({counts})</summary>");
                section.AppendLine();
                section.AppendLine($"Rule file `{Code(first.Source.File.Replace('\\', '/'))}` (sha256 `{first.Source.ShortHash}`), mode `{first.Mode.ToString().ToLowerInvariant()}`.");
                section.AppendLine();
                section.AppendLine("| identity | action | verdict | why | finding |");
                section.AppendLine("|---|---|---|---|---|");
            }

            if (!fits) continue;
            section!.AppendLine(record.Fields[0]);
            if (head.Length + body.Length + section.Length > MaxLength - Reserve)
            {
                // Already too long: the whole section will be left out, so its remaining rows are not kept.
                fits = false;
                section.Clear();
            }
        }

        Close();
        if (omitted > 0)
        {
            body.AppendLine($"> **Truncated:** details of {omitted} of {_rules.Count} rules were left out to stay under {MaxLength:N0} characters. " +
                "Run `respond plan --format json` or `--format text` for the whole plan.");
        }

        writer.Write(head.Append(body));
    }

    public void Dispose() => _spill.Dispose();

    /// <summary>
    /// The account a decision acts on, and when it acts for a person (an action <c>on:</c> linked accounts, #21) the
    /// person: the finding's subject and each linked account with the evidence of its link, and any refused provider.
    /// </summary>
    internal static string Who(Decision decision)
    {
        var who = $"{Escape(decision.TargetDisplay)} ({(decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name()})";
        if (decision.Person is { } person && (person.Linked.Length > 0 || person.Refusals.Length > 0))
        {
            who += $"<br>person of {Escape(person.Subject.Display)} ({person.Subject.Provider.Name()}): {Escape(person.Describe())}";
        }

        return who;
    }

    /// <summary>Data in Markdown: control characters escaped, no markup, link, mention or table cell of its own (<see cref="DisplayText.Markdown"/>).</summary>
    private static string Escape(string text) => DisplayText.Markdown(text);

    /// <summary>Data inside a code span: control characters escaped and no backtick to close it.</summary>
    private static string Code(string text) => TerminalText.Escape(text).Replace('`', '\'');
}
