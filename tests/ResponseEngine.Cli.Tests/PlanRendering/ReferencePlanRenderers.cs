using System.Text;
using ResponseEngine.Cli.Rendering;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Tests.PlanRendering;

// The plan renderers as they were before the text, Markdown and HTML plans streamed (#23): each holds the whole plan
// and groups it with LINQ. Kept as the simple reference the streamed renderers are compared with (PlanRenderingEquivalenceTests,
// PlanPersonTests, HostilePlanDataTests); a change to what a format shows is made here and in the renderer. Changed since:
// Markdown and HTML escape data with DisplayText (control characters, links, mentions) and show the person (#21).

/// <summary>The plan for a terminal: per identity, each decision on one line with its verdict, rule and reason.</summary>
internal static class ReferencePlanText
{
    public static string SummaryLine(Plan plan) => SummaryLine(plan.Decisions.Length, plan.CountByVerdict());

    public static string SummaryLine(int decisions, IEnumerable<(Verdict Verdict, int Count)> byVerdict) =>
        $"{decisions} decisions (" + string.Join(", ", byVerdict.Select(v => $"{v.Verdict.Name()} {v.Count}")) + ")";

    public static void Render(Plan plan, TextWriter writer, bool color)
    {
        writer.WriteLine(TerminalText.Escape($"Plan (dry-run) at {plan.CreatedAt:yyyy-MM-dd HH:mm:ss}Z — {plan.FindingCount} findings, {plan.MatchedFindingCount} matched by {plan.RuleCount} rules" +
            (plan.RulesProvenance is { } provenance ? " " + provenance : "")));
        if (plan.Basis is { } basis) writer.WriteLine(TerminalText.Escape(char.ToUpperInvariant(basis.Text[0]) + basis.Text[1..] + "."));
        writer.WriteLine(SummaryLine(plan));
        writer.WriteLine();

        foreach (var target in plan.Decisions.GroupBy(d => (Provider: d.Identity?.Provider ?? d.Finding.Subject.Provider, Name: d.TargetDisplay))
                     .OrderBy(g => g.Key.Provider).ThenBy(g => g.Key.Name, StringComparer.OrdinalIgnoreCase))
        {
            var identity = target.First().Identity;
            var facts = identity is null ? "unresolved" : string.Join(", ", new[]
            {
                identity.Privileged ? "privileged" : null,
                identity.Guest ? "guest" : null,
                identity.Enabled ? null : "disabled",
            }.Where(f => f is not null));
            writer.WriteLine(TerminalText.Escape($"{target.Key.Name} ({target.Key.Provider.Name()}{(facts.Length > 0 ? ", " + facts : "")})"));
            if (target.Select(d => d.Person).FirstOrDefault(p => p is { Linked.Length: > 0 } || p is { Refusals.Length: > 0 }) is { } person)
            {
                // The person this account belongs to, as the linked actions saw it: each account with its evidence.
                writer.WriteLine(TerminalText.Escape($"  person of {person.Subject.Display} ({person.Subject.Provider.Name()}): {person.Describe()}"));
            }

            foreach (var decision in target)
            {
                var verdict = decision.Verdict.Name().PadRight(7);
                if (color) verdict = Paint(decision.Verdict, verdict);
                var action = decision.Parameters.IsEmpty || decision.Action is null
                    ? decision.ActionName
                    : $"{decision.ActionName} {decision.Parameters.Describe()}";
                var why = decision.Reason is null ? "" : $"  [{decision.Guard}] {decision.Reason}";
                var note = decision.Note is null ? "" : $"  ({decision.Note})";
                if (decision.CountedOnSnapshot is { } counted) note += $"  ({counted})";
                if (decision.Link is { } link) note += $"  (linked to {decision.Finding.Subject.Display} ({decision.Finding.Subject.Provider.Name()}) by {link.Evidence})";
                // Only the verdict's colour is ours; everything after it comes from data and is escaped as one piece.
                writer.WriteLine($"  {verdict} " + TerminalText.Escape($"{action,-52} {decision.Rule.Id}  ← {decision.Finding.Type}/{decision.Finding.Severity.Name()} {decision.Finding.Id}{why}{note}"));
            }
        }

        writer.WriteLine();
        var executed = plan.Decisions.Where(d => d.Verdict == Verdict.Execute).GroupBy(d => d.ActionName).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        writer.WriteLine(executed.Count == 0
            ? "Would execute nothing."
            : "Would execute: " + TerminalText.Escape(string.Join(", ", executed.Select(g => $"{g.Key} ×{g.Count()}"))));
    }

    private static string Paint(Verdict verdict, string text) => verdict switch
    {
        Verdict.Execute => $"\u001b[32m{text}\u001b[0m",
        Verdict.Hold => $"\u001b[33m{text}\u001b[0m",
        Verdict.Error => $"\u001b[31m{text}\u001b[0m",
        _ => $"\u001b[90m{text}\u001b[0m",
    };
}

/// <summary>The plan as a pull-request comment: a summary table, then one collapsible section per rule, kept under GitHub's comment limit.</summary>
internal static class ReferencePlanMarkdown
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
            section.AppendLine($"Rule file `{TerminalText.Escape(first.Source.File.Replace('\\', '/')).Replace('`', '\'')}` (sha256 `{first.Source.ShortHash}`), mode `{first.Mode.ToString().ToLowerInvariant()}`.");
            section.AppendLine();
            section.AppendLine("| identity | action | verdict | why | finding |");
            section.AppendLine("|---|---|---|---|---|");
            foreach (var decision in rule)
            {
                var action = decision.Parameters.IsEmpty ? $"`{decision.ActionName}`" : $"`{decision.ActionName}` {Escape(decision.Parameters.Describe())}";
                var why = decision.Reason is null ? "" : $"{decision.Guard}: {Escape(decision.Reason)}";
                if (decision.CountedOnSnapshot is { } counted) why += (why.Length > 0 ? "; " : "") + Escape(counted);
                var who = $"{Escape(decision.TargetDisplay)} ({(decision.Identity?.Provider ?? decision.Finding.Subject.Provider).Name()})";
                if (decision.Person is { } person && (person.Linked.Length > 0 || person.Refusals.Length > 0))
                {
                    who += $"<br>person of {Escape(person.Subject.Display)} ({person.Subject.Provider.Name()}): {Escape(person.Describe())}";
                }

                section.AppendLine($"| {who} | {action} | {decision.Verdict.Name()} | {why} | {Escape(decision.Finding.Id)} ({Escape(decision.Finding.Type)}) |");
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

    private static string Escape(string text) => DisplayText.Markdown(text);
}

/// <summary>
/// The plan as one self-contained HTML page (no external assets): a summary, filters by rule, action and verdict,
/// and the decisions per identity. For people who review a change outside a terminal.
/// </summary>
internal static class ReferencePlanHtml
{
    private const string Style = PlanHtmlRenderer.Style;

    public static string Build(Plan plan)
    {
        var html = new StringBuilder(64 * 1024);
        string E(string? text) => DisplayText.Html(text);
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>ResponseEngine plan</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            {Style}</head><body>
            """);
        html.Append($"<h1>ResponseEngine plan (dry-run)</h1><div class=\"meta\" id=\"meta\">{plan.CreatedAt:yyyy-MM-dd HH:mm:ss}Z · {plan.FindingCount} findings, {plan.MatchedFindingCount} matched by {plan.RuleCount} rules");
        if (plan.RulesProvenance is { } provenance) html.Append($" · rules {E(provenance)}");
        if (plan.Basis is { } basis) html.Append($"<br>{E(char.ToUpperInvariant(basis.Text[0]) + basis.Text[1..])}.");
        html.Append("</div><div class=\"cards\" id=\"summary\">");
        html.Append($"<div class=\"card\"><b>{plan.Decisions.Length}</b>decisions</div>");
        foreach (var (verdict, count) in plan.CountByVerdict())
        {
            html.Append($"<div class=\"card {verdict.Name()}\"><b>{count}</b>{verdict.Name()}</div>");
        }

        html.Append("</div><div class=\"filters\">");
        Select(html, "rule", "all rules", plan.Decisions.Select(d => d.Rule.Id));
        Select(html, "action", "all actions", plan.Decisions.Select(d => d.ActionName));
        Select(html, "verdict", "all verdicts", plan.Decisions.Select(d => d.Verdict.Name()));
        html.Append("<span id=\"shown\"></span></div><div id=\"identities\">");

        foreach (var target in plan.Decisions.GroupBy(d => (Provider: d.Identity?.Provider ?? d.Finding.Subject.Provider, Name: d.TargetDisplay))
                     .OrderBy(g => g.Key.Provider).ThenBy(g => g.Key.Name, StringComparer.OrdinalIgnoreCase))
        {
            var identity = target.First().Identity;
            html.Append($"<details class=\"identity\"><summary>{E(target.Key.Name)}<span class=\"tag\">{target.Key.Provider.Name()}</span>");
            if (identity?.Privileged == true) html.Append("<span class=\"tag\">privileged</span>");
            if (identity is null) html.Append("<span class=\"tag\">unresolved</span>");
            html.Append("</summary>");
            if (target.Select(d => d.Person).FirstOrDefault(p => p is { Linked.Length: > 0 } || p is { Refusals.Length: > 0 }) is { } person)
            {
                html.Append($"<p class=\"person\">person of {E(person.Subject.Display)} ({person.Subject.Provider.Name()}): {E(person.Describe())}</p>");
            }

            html.Append("<table><tr><th>verdict</th><th>action</th><th>rule</th><th>finding</th><th>why</th></tr>");
            foreach (var d in target)
            {
                var action = d.Parameters.IsEmpty ? d.ActionName : $"{d.ActionName} {d.Parameters.Describe()}";
                var why = d.Reason is null ? d.Note : $"[{d.Guard}] {d.Reason}";
                if (d.CountedOnSnapshot is { } counted) why = why is null ? counted : $"{why} ({counted})";
                if (d.Link is { } link)
                {
                    var linked = $"linked to {d.Finding.Subject.Display} ({d.Finding.Subject.Provider.Name()}) by {link.Evidence}";
                    why = why is null ? linked : $"{why} ({linked})";
                }

                html.Append($"<tr class=\"decision\" data-rule=\"{E(d.Rule.Id)}\" data-action=\"{E(d.ActionName)}\" data-verdict=\"{d.Verdict.Name()}\">");
                html.Append($"<td class=\"v-{d.Verdict.Name()}\">{d.Verdict.Name()}</td><td>{E(action)}</td><td>{E(d.Rule.Id)}</td>");
                html.Append($"<td>{E(d.Finding.Type)}/{d.Finding.Severity.Name()} {E(d.Finding.Id)}</td><td>{E(why)}</td></tr>");
            }

            html.Append("</table></details>");
        }

        html.Append("""
            </div>
            <script>
            const filters=[...document.querySelectorAll('select')];
            function apply(){
              const want=Object.fromEntries(filters.map(f=>[f.name,f.value]));
              let rows=0;
              document.querySelectorAll('details.identity').forEach(box=>{
                let any=false;
                box.querySelectorAll('tr.decision').forEach(tr=>{
                  const ok=['rule','action','verdict'].every(k=>!want[k]||tr.dataset[k]===want[k]);
                  tr.style.display=ok?'':'none'; if(ok){any=true;rows++;}
                });
                box.style.display=any?'':'none';
              });
              document.getElementById('shown').textContent=rows+' decisions shown';
            }
            filters.forEach(f=>f.addEventListener('change',apply)); apply();
            </script></body></html>
            """);
        return html.ToString();
    }

    private static void Select(StringBuilder html, string name, string all, IEnumerable<string> values)
    {
        html.Append($"<label>{name} <select name=\"{name}\" id=\"filter-{name}\"><option value=\"\">{all}</option>");
        foreach (var value in values.Distinct().Order(StringComparer.Ordinal)) html.Append($"<option>{DisplayText.Html(value)}</option>");
        html.Append("</select></label>");
    }
}
