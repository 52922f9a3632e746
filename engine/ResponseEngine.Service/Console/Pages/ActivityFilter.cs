using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using ResponseEngine.Audit;
using static ResponseEngine.Service.Console.Pages.HtmlText;

namespace ResponseEngine.Service.Console.Pages;

/// <summary>The Activity page's filters, from and to the query string: identity, rule, action, provider, status, guard, run, since, until.</summary>
internal static class ActivityFilter
{
    private static readonly string[] Text = ["identity", "rule", "action", "provider", "guard", "run"];
    private static readonly string[] Names = [.. Text, "status", "since", "until"];
    private static readonly AuditStatus[] AllStatuses = Enum.GetValues<AuditStatus>();

    /// <summary>The search the query string asks for, and what in it does not parse (a person's mistake, said plainly; never an exception).</summary>
    public static (AuditSearch Search, List<string> Errors) Parse(IQueryCollection query, DateTimeOffset now)
    {
        var errors = new List<string>();
        string? Get(string name) => query[name].ToString().Trim() is { Length: > 0 } v ? v : null;

        List<AuditStatus>? statuses = null;
        foreach (var word in query["status"].Where(w => !string.IsNullOrWhiteSpace(w)))
        {
            try
            {
                (statuses ??= []).Add(AuditStatuses.Parse(word!.Trim()));
            }
            catch (FormatException e)
            {
                errors.Add("status: " + e.Message);
            }
        }

        DateTimeOffset? Time(string name)
        {
            if (Get(name) is not { } text) return null;
            if (ConsolePages.Duration(text) is { } age) return now - age;
            if (ConsolePages.Timestamp(text, out var at)) return at;
            errors.Add($"{name}: '{text}' is neither an ISO 8601 time (2026-11-20T08:00:00Z) nor an age (30m, 24h, 7d)");
            return null;
        }

        var search = new AuditSearch
        {
            Identity = Get("identity"), Rule = Get("rule"), Action = Get("action"), Provider = Get("provider"), Guard = Get("guard"), Run = Get("run"),
            Statuses = statuses, Since = Time("since"), Until = Time("until"),
        };
        return (search, errors);
    }

    /// <summary>The filters as query-string pairs, each starting with &amp; (HTML-encoded for an href).</summary>
    public static string QueryString(IQueryCollection query)
    {
        var html = new StringBuilder();
        foreach (var name in Names)
        {
            foreach (var value in query[name].Where(v => !string.IsNullOrWhiteSpace(v))) html.Append("&amp;").Append(name).Append('=').Append(E(Q(value!.Trim())));
        }

        return html.ToString();
    }

    /// <summary>The parsed search as /v1/audit/export's query string (times as ISO 8601), each pair starting with &amp;.</summary>
    public static string ExportQuery(AuditSearch search)
    {
        ArgumentNullException.ThrowIfNull(search);
        var html = new StringBuilder();
        void Add(string name, string? value)
        {
            if (value is not null) html.Append("&amp;").Append(name).Append('=').Append(E(Q(value)));
        }

        Add("identity", search.Identity);
        Add("rule", search.Rule);
        Add("action", search.Action);
        Add("provider", search.Provider);
        Add("guard", search.Guard);
        Add("run", search.Run);
        foreach (var status in search.Statuses ?? []) Add("status", status.Name());
        Add("since", search.Since?.ToString("O", CultureInfo.InvariantCulture));
        Add("until", search.Until?.ToString("O", CultureInfo.InvariantCulture));
        return html.ToString();
    }

    public static string Form(IQueryCollection query)
    {
        var html = new StringBuilder($"<form class=\"filters\" method=\"get\" action=\"{ConsolePage.Root}/activity\" role=\"search\" aria-label=\"Filter the activity\">");
        foreach (var name in Text)
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"field\"><label for=\"f-{name}\">{E(char.ToUpperInvariant(name[0]) + name[1..])}</label><input type=\"text\" id=\"f-{name}\" name=\"{name}\" value=\"{E(query[name].ToString())}\"></div>");
        }

        var chosen = query["status"].ToString();
        html.Append("<div class=\"field\"><label for=\"f-status\">Status</label><select id=\"f-status\" name=\"status\"><option value=\"\">any</option>");
        foreach (var status in AllStatuses)
        {
            var name = status.Name();
            html.Append(CultureInfo.InvariantCulture, $"<option value=\"{E(name)}\"{(name == chosen ? " selected" : "")}>{E(name)}</option>");
        }

        html.Append("</select></div>");
        foreach (var name in new[] { "since", "until" })
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"field\"><label for=\"f-{name}\">{(name == "since" ? "Since" : "Until (exclusive)")}</label><input type=\"text\" id=\"f-{name}\" name=\"{name}\" placeholder=\"24h or 2026-11-20T08:00Z\" value=\"{E(query[name].ToString())}\"></div>");
        }

        return html.Append($"<button type=\"submit\">Filter</button> <a href=\"{ConsolePage.Root}/activity\">Clear</a></form>").ToString();
    }
}
