using System.Net;
using System.Text;
using ResponseEngine.Planning;

namespace ResponseEngine.Cli.Rendering;

/// <summary>
/// A change review as one self-contained HTML page: warnings first, the summary table, per-rule totals for both
/// passes, rule setting changes, then each identity collapsed. No script and a content security policy that allows
/// none, so text from findings can only ever be text.
/// </summary>
internal static class PlanDiffHtmlRenderer
{
    public static string Build(ChangeReview review, ReviewBase against)
    {
        static string E(string? text) => WebUtility.HtmlEncode(TerminalText.Escape(text));
        var html = new StringBuilder(64 * 1024);
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>ResponseEngine change review</title>
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            {{PlanHtmlRenderer.Style}}
            <style>
            .warning{border:1px solid #d4a72c;background:#fff8c5;border-radius:6px;padding:8px 12px;margin:8px 0;font-weight:600}
            .note{color:#57606a;margin:4px 0} td.n,th.n{text-align:right} .rule-change li{margin:2px 0}
            </style></head><body>
            """);
        html.Append($"<h1>ResponseEngine change review</h1><div class=\"meta\" id=\"meta\">{E(PlanDiffRenderer.Summary(review, against))}</div>");

        html.Append("<div id=\"warnings\">");
        foreach (var warning in review.Warnings) html.Append($"<div class=\"warning\">{E(warning)}</div>");
        if (!review.Breaker.Warns) html.Append($"<div class=\"note\">{E(review.Breaker.Sentence)}</div>");
        html.Append("</div>");

        html.Append("<table id=\"summary\"><tr><th></th><th class=\"n\">base</th><th class=\"n\">head</th><th class=\"n\">change</th></tr>");
        foreach (var (what, before, after) in PlanDiffRenderer.Counts(review))
        {
            html.Append($"<tr><td>{E(what)}</td><td class=\"n\">{before}</td><td class=\"n\">{after}</td><td class=\"n\">{E(PlanDiffRenderer.Signed(after - before))}</td></tr>");
        }

        html.Append("</table><h2>Per rule</h2><table id=\"totals\"><tr><th>rule</th><th>each rule's own effect</th><th>with rate limits and breaker</th></tr>");
        foreach (var (rule, own, budgeted) in PlanDiffRenderer.RuleTotals(review))
        {
            html.Append($"<tr class=\"rule-total\" data-rule=\"{E(rule)}\"><td>{E(rule)}</td><td>{E(own)}</td><td>{E(budgeted)}</td></tr>");
        }

        html.Append("</table><h2>Rules changed</h2><ul id=\"rules\" class=\"rule-change\">");
        foreach (var rule in review.Rules)
        {
            html.Append($"<li>{E(PlanDiffRenderer.Mark(rule.Kind))} <code>{E(rule.RuleId)}</code> ({E(rule.File)})<ul>");
            foreach (var field in rule.Fields) html.Append($"<li>{E(PlanDiffRenderer.Field(field))}</li>");
            html.Append("</ul></li>");
        }

        foreach (var limit in review.Limits.Where(l => !l.Warns)) html.Append($"<li>{E(limit.Sentence)}</li>");
        html.Append("</ul>");

        Identities(html, "identities", "Identities", review.Own.Resolved, review);
        Identities(html, "unresolved", "Unresolved subjects (no account matches; nothing is done to them)", review.Own.Unresolved, review);
        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static void Identities(StringBuilder html, string id, string title, IEnumerable<IdentityChanges> identities, ChangeReview review)
    {
        static string E(string? text) => WebUtility.HtmlEncode(TerminalText.Escape(text));
        var list = identities.ToList();
        html.Append($"<h2>{E(title)}: {list.Count}</h2><div id=\"{id}\">");
        foreach (var identity in list)
        {
            html.Append($"<details class=\"identity\"><summary>{E(PlanDiffRenderer.Identity(identity))}</summary><ul>");
            foreach (var change in identity.Changes) html.Append($"<li>{E(PlanDiffRenderer.Line(change, review))}</li>");
            html.Append("</ul></details>");
        }

        html.Append("</div>");
    }
}
