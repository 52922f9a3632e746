using System.Text;
using ResponseEngine.Findings;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// The plan as one self-contained HTML page (no external assets): a summary, filters by rule, action and verdict,
/// and the decisions per identity. For people who review a change outside a terminal. Streamed: each decision's row is
/// rendered as it is decided and put in identity order by a <see cref="SortedSpill"/> (the order of the text plan); the
/// summary and the filters' values (rules, actions, verdicts: bounded by the rule set) come first. Past
/// <see cref="DefaultDetailCap"/> decisions the page says how many it leaves out and how to get them all.
/// </summary>
internal sealed class PlanHtmlRenderer(long? spillBudget = null, int detailCap = PlanHtmlRenderer.DefaultDetailCap) : IPlanRenderer
{
    /// <summary>The pages' one stylesheet, inline so a page works offline as a CI artifact.</summary>
    internal const string Style = """
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f23}
        h1{font-size:20px;margin:0 0 4px} .meta{color:#57606a;margin-bottom:16px}
        .cards{display:flex;gap:12px;margin:12px 0 20px;flex-wrap:wrap}
        .card{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;min-width:110px}
        .card b{display:block;font-size:22px}
        .execute b{color:#1a7f37}.skip b{color:#57606a}.hold b{color:#9a6700}.error b{color:#cf222e}
        .filters{display:flex;gap:12px;margin-bottom:12px;flex-wrap:wrap} select{padding:4px}
        details{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:6px 10px}
        summary{cursor:pointer;font-weight:600}
        table{border-collapse:collapse;width:100%;margin-top:6px} td,th{border-top:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
        .v-execute{color:#1a7f37;font-weight:600}.v-skip{color:#57606a}.v-hold{color:#9a6700;font-weight:600}.v-error{color:#cf222e;font-weight:600}
        .person{margin:4px 0;color:#57606a}
        .tag{font-size:12px;border:1px solid #d0d7de;border-radius:10px;padding:0 6px;margin-left:6px;color:#57606a}
        </style>
        """;

    /// <summary>At most this many decisions are shown in detail; the page says how many more there are and where to get them.</summary>
    public const int DefaultDetailCap = 20_000;

    private readonly SortedSpill _spill = new(StringComparer.OrdinalIgnoreCase, spillBudget);
    private readonly SortedSet<string> _rules = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _actions = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _verdicts = new(StringComparer.Ordinal);

    /// <summary>Per identity shown, the first person its decisions' linked actions saw (as the text plan shows it): bounded by the directory.</summary>
    private readonly Dictionary<(Provider, string), string> _persons = [];

    public PlanTotals Totals { get; } = new();

    /// <summary>A plan held in memory.</summary>
    public static string Build(Plan plan) => PlanRenderers.Render("html", plan);

    public void Begin(Plan header)
    {
    }

    public void Write(IReadOnlyList<Decision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        foreach (var d in decisions)
        {
            Totals.Add(d);
            _rules.Add(d.Rule.Id);
            _actions.Add(d.ActionName);
            _verdicts.Add(d.Verdict.Name());
            var provider = d.Identity?.Provider ?? d.Finding.Subject.Provider;
            var identity = d.Identity;
            var summary = $"{E(d.TargetDisplay)}<span class=\"tag\">{provider.Name()}</span>"
                + (identity?.Privileged == true ? "<span class=\"tag\">privileged</span>" : "")
                + (identity is null ? "<span class=\"tag\">unresolved</span>" : "");
            var action = d.Parameters.IsEmpty ? d.ActionName : $"{d.ActionName} {d.Parameters.Describe()}";
            var why = d.Reason is null ? d.Note : $"[{d.Guard}] {d.Reason}";
            if (d.CountedOnSnapshot is { } counted) why = why is null ? counted : $"{why} ({counted})";
            if (d.Link is { } link)
            {
                var linked = $"linked to {d.Finding.Subject.Display} ({d.Finding.Subject.Provider.Name()}) by {link.Evidence}";
                why = why is null ? linked : $"{why} ({linked})";
            }

            if (d.Person is { } person && (person.Linked.Length > 0 || person.Refusals.Length > 0))
            {
                _persons.TryAdd((provider, d.TargetDisplay), $"<p class=\"person\">person of {E(person.Subject.Display)} ({person.Subject.Provider.Name()}): {E(person.Describe())}</p>");
            }

            var row = $"<tr class=\"decision\" data-rule=\"{E(d.Rule.Id)}\" data-action=\"{E(d.ActionName)}\" data-verdict=\"{d.Verdict.Name()}\">"
                + $"<td class=\"v-{d.Verdict.Name()}\">{d.Verdict.Name()}</td><td>{E(action)}</td><td>{E(d.Rule.Id)}</td>"
                + $"<td>{E(d.Finding.Type)}/{d.Finding.Severity.Name()} {E(d.Finding.Id)}</td><td>{E(why)}</td></tr>";
            _spill.Add((int)provider, d.TargetDisplay, summary, row);
        }
    }

    public void WriteTo(Plan plan, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(writer);
        var html = new StringBuilder(16 * 1024);
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
        html.Append($"<div class=\"card\"><b>{Totals.Decisions}</b>decisions</div>");
        foreach (var (verdict, count) in Totals.CountByVerdict())
        {
            html.Append($"<div class=\"card {verdict.Name()}\"><b>{count}</b>{verdict.Name()}</div>");
        }

        html.Append("</div>");
        if (Totals.Decisions > detailCap)
        {
            html.Append($"<p class=\"note\" id=\"left-out\">The first {detailCap:N0} of {Totals.Decisions:N0} decisions are shown in detail; " +
                $"{Totals.Decisions - detailCap:N0} are left out of this page (the counts above include them). " +
                "<code>respond plan --format json</code> or <code>--format text</code> has every decision.</p>");
        }

        html.Append("<div class=\"filters\">");
        Select(html, "rule", "all rules", _rules);
        Select(html, "action", "all actions", _actions);
        Select(html, "verdict", "all verdicts", _verdicts);
        html.Append("<span id=\"shown\"></span></div><div id=\"identities\">");
        writer.Write(html);

        var shown = 0;
        SpillRecord? previous = null;
        foreach (var record in _spill.Drain())
        {
            if (shown == detailCap) break;
            if (previous is null || previous.Group != record.Group || !string.Equals(previous.Key, record.Key, StringComparison.Ordinal))
            {
                if (previous is not null) writer.Write("</table></details>");
                writer.Write($"<details class=\"identity\"><summary>{record.Fields[0]}</summary>");
                if (_persons.TryGetValue(((Provider)record.Group, record.Key), out var person)) writer.Write(person);
                writer.Write("<table><tr><th>verdict</th><th>action</th><th>rule</th><th>finding</th><th>why</th></tr>");
            }

            writer.Write(record.Fields[1]);
            shown++;
            previous = record;
        }

        if (previous is not null) writer.Write("</table></details>");
        writer.Write("""
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
    }

    public void Dispose() => _spill.Dispose();

    /// <summary>Data in the page: HTML-encoded with control characters escaped (<see cref="DisplayText.Html"/>).</summary>
    private static string E(string? text) => DisplayText.Html(text);

    private static void Select(StringBuilder html, string name, string all, IEnumerable<string> values)
    {
        html.Append($"<label>{name} <select name=\"{name}\" id=\"filter-{name}\"><option value=\"\">{all}</option>");
        foreach (var value in values.Distinct().Order(StringComparer.Ordinal)) html.Append($"<option>{E(value)}</option>");
        html.Append("</select></label>");
    }
}
