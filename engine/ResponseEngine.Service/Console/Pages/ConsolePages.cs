using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using ResponseEngine.Configuration;
using ResponseEngine.Findings;
using ResponseEngine.Policy.Rules;
using static ResponseEngine.Service.Console.Pages.HtmlText;

namespace ResponseEngine.Service.Console.Pages;

/// <summary>
/// The console's pages under /console, rendered on the server from the same queries the /v1 API answers with
/// (<see cref="IConsoleQueries"/>): Pending, Breaker and limits, Activity (with one row in full and export), Identity
/// timeline, Runs and rules, Health. Every button that changes state calls the /v1 API, so the role policies, the
/// anti-forgery check, the required reason and the audit row are the API's, one implementation.
/// </summary>
public static class ConsolePages
{
    private const string Root = ConsolePage.Root;
    private const int PageSize = 50;

    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/", () => Results.Redirect(Root + "/")).ExcludeFromDescription().AllowAnonymous();
        app.MapGet(Root + "/assets/{name}", ConsolePage.Asset).ExcludeFromDescription().AllowAnonymous();

        var pages = app.MapGroup(Root).RequireAuthorization(ConsoleAuth.ViewerPolicy).ExcludeFromDescription();
        pages.MapGet("/", PendingAsync);
        pages.MapGet("/breaker", BreakerAsync);
        pages.MapGet("/activity", ActivityAsync);
        pages.MapGet("/activity/{sequence:long}", RowAsync);
        pages.MapGet("/identity", IdentityAsync);
        pages.MapGet("/person", PersonAsync);
        pages.MapGet("/runs", RunsAsync);
        pages.MapGet("/plans/{name}", PlanReport);
        pages.MapGet("/health", HealthAsync);
    }

    private static async Task<IResult> PendingAsync(HttpContext http, IConsoleQueries queries, CancellationToken ct)
    {
        var user = ConsoleUser.From(http.User)!;
        var pending = await queries.PendingApprovalsAsync(ct);
        var html = new StringBuilder();
        html.Add("<p class=\"lede\">Decisions held by a rule with <code>approval: required</code>, oldest first. Approving puts the finding back into the inbox, where it is decided again under every other guard; rejecting means it never runs. Both need a reason, recorded with your name.</p>");
        if (pending.Count == 0) html.Add("<p data-testid=\"no-pending\">Nothing is waiting for approval.</p>");
        foreach (var p in pending)
        {
            var id = N(p.Sequence);
            html.Add($"<article class=\"card\" data-testid=\"pending\" data-sequence=\"{id}\" aria-labelledby=\"pending-{id}\">")
                .Add($"<h2 id=\"pending-{id}\"><code>{E(p.Action)}</code> {Inline(p.Parameters)} on {IdentityLink(p.IdentityId, p.IdentityName)}</h2>")
                .Add("<dl class=\"facts\">")
                .Add($"<dt>Rule</dt><dd><code>{E(p.RuleId)}</code>{(p.RuleHash is null ? "" : $" <span class=\"muted\">({E(Short(p.RuleHash))})</span>")}</dd>")
                .Add($"<dt>Finding</dt><dd>{E(p.FindingSource)} <code>{E(p.FindingId)}</code></dd>")
                .Add($"<dt>Identity</dt><dd>{E(p.IdentityName)} <span class=\"muted\">{E(p.Provider)} · {E(p.IdentityId)}</span></dd>")
                .Add($"<dt>Action</dt><dd><code>{E(p.Action)}</code>{(p.Destructive ? " <span class=\"badge s-bad\">destructive</span>" : "")}</dd>")
                .Add($"<dt>Parameters</dt><dd>{Json(p.Parameters)}</dd>")
                .Add($"<dt>Why it waits</dt><dd>{E(p.Reason)}</dd>")
                .Add($"<dt>Held</dt><dd>{TimeTag(p.HeldAt)} ({E(Span(p.AgeSeconds))} ago)</dd>")
                .Add($"<dt>Expires</dt><dd>{TimeTag(p.ExpiresAt)} (in {E(Span(p.ExpiresInSeconds))})</dd>")
                .Add("</dl>")
                .Add($"<details><summary>Finding facts and identity</summary>{Json(p.Facts)}</details>")
                .Add($"<p><a href=\"{Root}/activity/{id}\">Audit row #{id} in full</a></p>");
            html.Add(user.Can(ConsoleRole.Approver)
                ? ConsolePage.ActionForm("p" + id, $"Approve or reject audit #{id}",
                    [("Approve", $"/v1/approvals/{id}/approve", "primary", null), ("Reject", $"/v1/approvals/{id}/reject", "danger", null)])
                : ConsolePage.NeedsRole(user, ConsoleRole.Approver, "approving or rejecting"));
            html.Add("</article>");
        }

        return ConsolePage.Render(http, "Pending approvals", Root + "/", html.ToString(), pending.Count);
    }

    private static async Task<IResult> BreakerAsync(HttpContext http, IConsoleQueries queries, CancellationToken ct)
    {
        var user = ConsoleUser.From(http.User)!;
        var breaker = await queries.BreakerAsync(ct);
        var html = new StringBuilder();
        html.Add($"<section aria-labelledby=\"breaker-h\"><h2 id=\"breaker-h\">Breaker</h2><p data-testid=\"breaker-state\">")
            .Add(breaker.Open ? "<span class=\"badge big s-open\">open</span> destructive actions are held until a person re-arms it." : "<span class=\"badge big s-closed\">closed</span> destructive actions run under their other guards.")
            .Add("</p><dl class=\"facts\">")
            .Add($"<dt>Threshold</dt><dd>{N(breaker.Threshold)} destructive actions per {E(Span(breaker.Window))}</dd>")
            .Add($"<dt>In the window now</dt><dd>{N(breaker.DestructiveInWindow)}</dd>");
        if (breaker.LastEvent is { } last)
        {
            html.Add($"<dt>{(breaker.Open ? "Opened" : "Last event")}</dt><dd>{TimeTag(last.RecordedAt)} {Status(last.Status)} by {E(last.Actor)}: {E(last.Reason)} <a href=\"{Root}/activity/{N(last.Sequence)}\">#{N(last.Sequence)}</a></dd>");
        }

        html.Add("</dl>");
        if (breaker.Open)
        {
            html.Add($"<h2>Held destructive actions ({N(breaker.Held.Count)})</h2>").Add(RowsTable(breaker.Held, "held"));
            html.Add(user.Can(ConsoleRole.Operator)
                ? ConsolePage.ActionForm("rearm", "Re-arm the breaker", [("Re-arm", "/v1/breaker/rearm", "danger", null)],
                    "<label><input type=\"checkbox\" name=\"requeue\" value=\"true\"> Put the held findings back into the inbox (they are decided again under every guard)</label>")
                : ConsolePage.NeedsRole(user, ConsoleRole.Operator, "re-arming the breaker"));
        }

        html.Add("</section>");
        html.Add(Limits(await queries.LimitsAsync(ct)));
        return ConsolePage.Render(http, "Breaker and limits", Root + "/breaker", html.ToString());
    }

    /// <summary>The rate-limit windows: each configured limit with the actions attempted against it in the last hour.</summary>
    private static string Limits(IReadOnlyList<LimitWindowView> windows)
    {
        var html = new StringBuilder("<section aria-labelledby=\"limits-h\"><h2 id=\"limits-h\">Rate limits (sliding hour)</h2>");
        if (windows.Count == 0) return html.Add("<p>No rate limits are configured.</p></section>").ToString();
        html.Add("<table data-testid=\"limits\"><thead><tr><th scope=\"col\">Scope</th><th scope=\"col\">Name</th><th scope=\"col\">Limit per hour</th><th scope=\"col\">Attempted since</th><th scope=\"col\">Attempted</th><th scope=\"col\">Left</th></tr></thead><tbody>");
        foreach (var w in windows)
        {
            var left = Math.Max(0, w.Limit - w.Used);
            html.Add($"<tr><td>{E(w.Scope)}</td><td><code>{E(w.Name)}</code></td><td>{N(w.Limit)}</td><td>{TimeTag(w.Since)}</td><td>{N(w.Used)}</td><td>{(left == 0 ? "<span class=\"badge s-bad\">0 (limited)</span>" : N(left))}</td></tr>");
        }

        return html.Add("</tbody></table></section>").ToString();
    }

    private static async Task<IResult> ActivityAsync(HttpContext http, IConsoleQueries queries, ServeSetup setup, CancellationToken ct)
    {
        var (search, errors) = ActivityFilter.Parse(http.Request.Query, setup.Time.GetUtcNow());
        var before = long.TryParse(http.Request.Query["before"], NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : (long?)null;
        var html = new StringBuilder();
        html.Add("<p class=\"lede\">The audit trail, newest first, a page at a time. Every filter you set must hold; times are ISO 8601 (UTC unless an offset is given) or an age such as 24h or 7d.</p>");
        html.Add(ActivityFilter.Form(http.Request.Query));
        foreach (var error in errors) html.Add($"<p class=\"alert\" role=\"alert\">{E(error)}</p>");
        if (errors.Count == 0)
        {
            var page = await queries.SearchAuditAsync(search, before, PageSize, ct);
            var filter = ActivityFilter.QueryString(http.Request.Query);
            var export = ActivityFilter.ExportQuery(search);
            html.Add($"<p class=\"pager\"><span>Export this filter (every matching row, oldest first): <a href=\"/v1/audit/export?format=csv{export}\" download>CSV</a> · <a href=\"/v1/audit/export?format=jsonl{export}\" download>JSON Lines</a></span></p>");
            html.Add(RowsTable(page.Rows, "activity"));
            html.Add("<nav class=\"pager\" aria-label=\"Pages\">");
            if (before is not null) html.Add($"<a href=\"{Root}/activity?{filter.TrimStart('&')}\">Newest</a>");
            if (page.Next is { } next) html.Add($"<a href=\"{Root}/activity?{filter.TrimStart('&')}&amp;before={N(next)}\" rel=\"next\">Older rows →</a>");
            else html.Add("<span class=\"muted\">No older rows.</span>");
            html.Add("</nav>");
        }

        return ConsolePage.Render(http, "Activity", Root + "/activity", html.ToString(), status: errors.Count == 0 ? 200 : 400);
    }

    private static async Task<IResult> RowAsync(long sequence, HttpContext http, IConsoleQueries queries, CancellationToken ct)
    {
        var user = ConsoleUser.From(http.User)!;
        if (await queries.RowAsync(sequence, ct) is not { } detail)
        {
            return ConsolePage.Render(http, $"Audit #{N(sequence)}", Root + "/activity", $"<p class=\"alert\" role=\"alert\">There is no audit row #{N(sequence)}.</p>", status: 404);
        }

        var r = detail.Row;
        var html = new StringBuilder();
        html.Add($"<p data-testid=\"row-status\">{Status(r.Status)} <code>{E(r.Action)}</code> {Inline(r.Parameters)} on {IdentityLink(r.IdentityId, r.IdentityName)}</p>")
            .Add("<div class=\"grid2\"><section aria-labelledby=\"decision-h\"><h2 id=\"decision-h\">Decision</h2><dl class=\"facts\" data-testid=\"row\">")
            .Add($"<dt>Recorded</dt><dd>{TimeTag(r.RecordedAt)}</dd>")
            .Add($"<dt>Status</dt><dd>{Status(r.Status)}{(r.DryRun ? " (dry run)" : "")}</dd>")
            .Add($"<dt>Actor</dt><dd data-testid=\"actor\">{E(r.Actor)}</dd>")
            .Add($"<dt>Reason</dt><dd data-testid=\"reason\">{E(r.Reason)}</dd>")
            .Add($"<dt>Verdict</dt><dd>{E(r.Verdict)}</dd>")
            .Add($"<dt>Guard</dt><dd>{E(r.Guard)}</dd>")
            .Add($"<dt>Error</dt><dd>{E(r.Error)}</dd>")
            .Add($"<dt>Run</dt><dd><a href=\"{Root}/activity?run={Q(r.RunId)}\"><code>{E(r.RunId)}</code></a></dd>")
            .Add($"<dt>Rule</dt><dd><code>{E(r.RuleId)}</code> {E(detail.RuleFile)} <span class=\"muted\">{E(Short(detail.RuleHash))}</span> at commit <code>{E(detail.RulesCommit ?? "none")}</code></dd>")
            .Add($"<dt>Finding</dt><dd>{E(r.FindingSource)} <code>{E(r.FindingId)}</code></dd>")
            .Add($"<dt>Identity</dt><dd>{E(r.IdentityName)} <span class=\"muted\">{E(r.Provider)} · {E(r.IdentityId)}</span></dd>")
            .Add($"<dt>Action</dt><dd><code>{E(r.Action)}</code>{(r.Destructive ? " <span class=\"badge s-bad\">destructive</span>" : "")}</dd>")
            .Add($"<dt>Intent</dt><dd>{(r.IntentSequence is { } intent ? $"<a href=\"{Root}/activity/{N(intent)}\">#{N(intent)}</a>" : "")}</dd>")
            .Add($"<dt>Host</dt><dd>{E(detail.Host)} · engine {E(detail.EngineVersion)}</dd>")
            .Add($"<dt>Idempotency key</dt><dd><code>{E(detail.IdempotencyKey)}</code></dd>")
            .Add($"<dt>Previous hash</dt><dd><code>{E(detail.PreviousHash)}</code></dd>")
            .Add($"<dt>Hash</dt><dd><code>{E(detail.Hash)}</code></dd>")
            .Add("</dl></section><section aria-labelledby=\"facts-h\">")
            .Add($"<h2 id=\"facts-h\">Parameters</h2>{Json(r.Parameters)}")
            .Add($"<h2>Finding facts</h2>{Json(detail.Facts)}")
            .Add($"<h2>Prior state</h2>{Json(detail.PriorState)}")
            .Add("</section></div>");
        html.Add("<section aria-labelledby=\"undo-h\"><h2 id=\"undo-h\">Undo</h2>");
        if (!detail.Undoable) html.Add($"<p data-testid=\"not-undoable\">Not undoable: {E(detail.NotUndoable)}</p>");
        else if (!user.Can(ConsoleRole.Operator)) html.Add(ConsolePage.NeedsRole(user, ConsoleRole.Operator, "undoing an action"));
        else
        {
            html.Add("<p>Undo restores the recorded prior state through the executor, guarded exactly as <code>respond undo</code>.</p>")
                .Add(ConsolePage.ActionForm("undo", $"Undo audit #{N(r.Sequence)}", [("Undo", $"/v1/audit/{N(r.Sequence)}/undo", "danger", null)]));
        }

        html.Add("</section>");
        if (detail.Related.Count > 0) html.Add($"<h2>Related rows ({N(detail.Related.Count)})</h2>").Add(RowsTable(detail.Related, "related"));
        return ConsolePage.Render(http, $"Audit #{N(sequence)}", Root + "/activity", html.ToString());
    }

    private static async Task<IResult> IdentityAsync(HttpContext http, IConsoleQueries queries, CancellationToken ct)
    {
        var user = ConsoleUser.From(http.User)!;
        var id = http.Request.Query["id"].ToString().Trim();
        var before = long.TryParse(http.Request.Query["before"], NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : (long?)null;
        var html = new StringBuilder();
        html.Add($"<form class=\"filters\" method=\"get\" action=\"{Root}/identity\" role=\"search\"><div class=\"field\"><label for=\"f-id\">Identity (id or name)</label><input type=\"search\" id=\"f-id\" name=\"id\" value=\"{E(id)}\"></div><button type=\"submit\">Show timeline</button></form>");
        if (id.Length == 0) return ConsolePage.Render(http, "Identity timeline", Root + "/activity", html.Add("<p>Name an identity to see every finding and decision about it, newest first.</p>").ToString());

        var page = await queries.TimelineAsync(id, before, PageSize, ct);
        html.Add($"<p class=\"lede\">Every decision about <strong>{E(id)}</strong> across providers, newest first, with the finding behind it. A succeeded action that can still be reversed can be undone here (operator), guarded as <code>respond undo</code>.</p>");
        html.Add($"<p><a href=\"{Root}/person?id={Q(id)}\" data-testid=\"person-link\">This person's accounts together (AD, Entra, Okta) →</a></p>");
        html.Add("<ol class=\"timeline\" data-testid=\"timeline\">");
        foreach (var (r, undoable) in page.Rows)
        {
            var seq = N(r.Sequence);
            html.Add($"<li class=\"card\" data-sequence=\"{seq}\"><p>{TimeTag(r.RecordedAt)} {Status(r.Status)} <code>{E(r.Action)}</code> {Inline(r.Parameters)} <span class=\"muted\">{E(r.Provider)}</span> <a href=\"{Root}/activity/{seq}\">#{seq} in full</a></p>")
                .Add($"<p>rule <code>{E(r.RuleId)}</code> ← finding {E(r.FindingSource)} <code>{E(r.FindingId)}</code>{(r.Guard is null ? "" : $" · guard <code>{E(r.Guard)}</code>")} · {E(r.Actor)}{(r.Reason is null ? "" : ": " + E(r.Reason))}</p>");
            if (undoable && user.Can(ConsoleRole.Operator))
            {
                html.Add(ConsolePage.ActionForm("u" + seq, $"Undo audit #{seq}", [("Undo", $"/v1/audit/{seq}/undo", "danger", null)]));
            }
            else if (undoable)
            {
                html.Add("<p class=\"muted\">Reversible: an operator can undo it.</p>");
            }

            html.Add("</li>");
        }

        html.Add("</ol>");
        if (page.Rows.Count == 0) html.Add("<p>No audit rows name this identity (by id or name, exactly).</p>");
        if (page.Next is { } next) html.Add($"<nav class=\"pager\" aria-label=\"Pages\"><a href=\"{Root}/identity?id={Q(id)}&amp;before={N(next)}\" rel=\"next\">Older →</a></nav>");
        return ConsolePage.Render(http, $"Identity timeline: {id}", Root + "/activity", html.ToString());
    }

    /// <summary>
    /// One person's accounts together (#21): each account with the evidence that links it (as the trail recorded it when a
    /// rule acted on it through <c>on:</c>), and every decision about any of them, newest first across them.
    /// </summary>
    private static async Task<IResult> PersonAsync(HttpContext http, IConsoleQueries queries, CancellationToken ct)
    {
        var user = ConsoleUser.From(http.User)!;
        var id = http.Request.Query["id"].ToString().Trim();
        var before = long.TryParse(http.Request.Query["before"], NumberStyles.None, CultureInfo.InvariantCulture, out var b) ? b : (long?)null;
        var html = new StringBuilder();
        html.Add($"<form class=\"filters\" method=\"get\" action=\"{Root}/person\" role=\"search\"><div class=\"field\"><label for=\"f-person\">Any account of the person (id or name)</label><input type=\"search\" id=\"f-person\" name=\"id\" value=\"{E(id)}\"></div><button type=\"submit\">Show the person</button></form>");
        if (id.Length == 0) return ConsolePage.Render(http, "Person", Root + "/activity", html.Add("<p>Name any account of a person to see all their accounts and every decision about them, newest first.</p>").ToString());

        var page = await queries.PersonTimelineAsync(id, before, PageSize, ct);
        if (page.Accounts.Count == 0)
        {
            html.Add("<p>No audit row is about an account with this id or name.</p>");
            return ConsolePage.Render(http, $"Person: {id}", Root + "/activity", html.ToString());
        }

        html.Add("<p class=\"lede\">The accounts the audit trail links to this one: a rule acting on a person's accounts (<code>on:</code>) records, with each action on a linked account, the account the finding named and the equal values that link them.</p>");
        html.Add("<ul class=\"accounts\" data-testid=\"person-accounts\">");
        foreach (var a in page.Accounts)
        {
            var evidence = a.Evidence is null ? "" : $" <span class=\"muted\">linked: {E(a.Evidence)}</span>";
            html.Add($"<li data-provider=\"{E(a.Provider)}\"><strong>{E(a.Provider)}</strong> {IdentityLink(a.Id, a.Name)} <span class=\"muted\">{E(a.Id)}</span>{evidence}</li>");
        }

        html.Add("</ul>");
        html.Add("<ol class=\"timeline\" data-testid=\"person-timeline\">");
        foreach (var (r, undoable) in page.Rows)
        {
            var seq = N(r.Sequence);
            html.Add($"<li class=\"card\" data-sequence=\"{seq}\" data-provider=\"{E(r.Provider)}\"><p>{TimeTag(r.RecordedAt)} {Status(r.Status)} <code>{E(r.Action)}</code> {Inline(r.Parameters)} on <strong>{E(r.Provider)}</strong> {IdentityLink(r.IdentityId, r.IdentityName)} <a href=\"{Root}/activity/{seq}\">#{seq} in full</a></p>")
                .Add($"<p>rule <code>{E(r.RuleId)}</code> ← finding {E(r.FindingSource)} <code>{E(r.FindingId)}</code>{(r.Guard is null ? "" : $" · guard <code>{E(r.Guard)}</code>")} · {E(r.Actor)}{(r.Reason is null ? "" : ": " + E(r.Reason))}</p>");
            if (undoable && user.Can(ConsoleRole.Operator))
            {
                html.Add(ConsolePage.ActionForm("u" + seq, $"Undo audit #{seq}", [("Undo", $"/v1/audit/{seq}/undo", "danger", null)]));
            }

            html.Add("</li>");
        }

        html.Add("</ol>");
        if (page.Next is { } next) html.Add($"<nav class=\"pager\" aria-label=\"Pages\"><a href=\"{Root}/person?id={Q(id)}&amp;before={N(next)}\" rel=\"next\">Older →</a></nav>");
        return ConsolePage.Render(http, $"Person: {id}", Root + "/activity", html.ToString());
    }

    private static async Task<IResult> RunsAsync(HttpContext http, IConsoleQueries queries, PlanReports plans, CancellationToken ct)
    {
        var runs = await queries.RunsAsync(30, ct);
        var statuses = runs.SelectMany(r => r.Statuses.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var html = new StringBuilder();
        html.Add($"<section aria-labelledby=\"runs-h\"><h2 id=\"runs-h\">Recent runs and batches</h2><p class=\"muted\">From the newest {N(ConsoleQueries.RunWindow)} audit rows, newest first; operators' actions are runs of their own.</p>");
        html.Add("<table data-testid=\"runs\"><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Actor</th><th scope=\"col\">From</th><th scope=\"col\">To</th><th scope=\"col\">Rows</th>");
        foreach (var s in statuses) html.Add($"<th scope=\"col\">{E(s)}</th>");
        html.Add("</tr></thead><tbody>");
        foreach (var run in runs)
        {
            html.Add($"<tr><td><a href=\"{Root}/activity?run={Q(run.RunId)}\"><code>{E(run.RunId)}</code></a>{(run.DryRun ? " (dry run)" : "")}</td><td>{E(run.Actor)}</td><td>{TimeTag(run.First)}</td><td>{TimeTag(run.Last)}</td><td>{N(run.Statuses.Values.Sum())}</td>");
            foreach (var s in statuses) html.Add($"<td>{N(run.Statuses.GetValueOrDefault(s))}</td>");
            html.Add("</tr>");
        }

        html.Add("</tbody></table></section>");
        html.Add(PlanReportList(plans));

        var rules = queries.Rules();
        html.Add("<section aria-labelledby=\"rules-h\"><h2 id=\"rules-h\">Rules</h2><dl class=\"facts\">")
            .Add($"<dt>Loaded</dt><dd>{(rules.LoadedAt is { } at ? $"{N(rules.Count)} rules at {TimeTag(at)}" : "<span class=\"badge s-bad\">no rules loaded</span>")}</dd>")
            .Add($"<dt>Commit</dt><dd><code>{E(rules.Commit ?? "not a git work tree")}</code></dd>")
            .Add($"<dt>Fingerprint</dt><dd><code>{E(rules.Fingerprint)}</code></dd>")
            .Add($"<dt>Last reload</dt><dd data-testid=\"last-reload\">{(rules.LastReloadFailed ? $"<span class=\"badge s-bad\">failed</span> {(rules.LastFailureAt is { } f ? TimeTag(f) : "")}; the previous rules stay loaded:<ul>{string.Concat(rules.LastFailureProblems.Select(p => $"<li><code>{E(p)}</code></li>"))}</ul>" : "<span class=\"badge s-ok\">ok</span>")}</dd>")
            .Add("</dl>");
        html.Add("<table data-testid=\"rules\"><thead><tr><th scope=\"col\">Rule</th><th scope=\"col\">Title</th><th scope=\"col\">Mode</th><th scope=\"col\">Owner</th><th scope=\"col\">Expires</th><th scope=\"col\">Approval</th><th scope=\"col\">Max per hour</th><th scope=\"col\">Actions</th><th scope=\"col\">File</th></tr></thead><tbody>");
        foreach (var rule in rules.Rules)
        {
            var expires = rule.Expires is { } d ? d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + (rule.Expired ? " <span class=\"badge s-bad\">expired</span>" : "") : "";
            html.Add($"<tr><td><a href=\"{Root}/activity?rule={Q(rule.Id)}\"><code>{E(rule.Id)}</code></a></td><td>{E(rule.Title)}</td><td>{E(rule.Mode)}</td><td>{E(rule.Owner)}</td><td>{expires}</td>")
                .Add($"<td>{E(rule.Approval)}</td><td>{(rule.MaxPerHour is { } m ? N(m) : "")}</td><td>{E(string.Join(", ", rule.Actions))}</td><td>{E(rule.File)} <span class=\"muted\">{E(Short(rule.Hash))}</span></td></tr>");
        }

        html.Add("</tbody></table></section>");
        return ConsolePage.Render(http, "Runs and rules", Root + "/runs", html.ToString());
    }

    /// <summary>The newest plan reports in console.plan_reports: file, time written, commit, decisions by verdict; an unreadable file says why.</summary>
    private static string PlanReportList(PlanReports plans)
    {
        var html = new StringBuilder("<section aria-labelledby=\"plans-h\"><h2 id=\"plans-h\">Latest plan reports</h2>");
        if (plans.Directory is null)
        {
            return html.Add("<p class=\"muted\" data-testid=\"plans-off\">No plan report folder: set <code>console.plan_reports</code> in respond.yaml to the folder <code>respond plan --format json --out</code> writes to.</p></section>").ToString();
        }

        var reports = plans.List();
        html.Add($"<p class=\"muted\">The newest {N(PlanReports.Newest)} <code>*.json</code> files in <code>{E(plans.Directory)}</code>, newest first.</p>");
        if (reports.Count == 0) return html.Add("<p data-testid=\"plans-empty\">No plan report yet.</p></section>").ToString();
        var verdicts = reports.Where(r => r.Summary is not null).SelectMany(r => r.Summary!.ByVerdict.Keys).Distinct(StringComparer.Ordinal).ToList();
        html.Add("<table data-testid=\"plans\"><thead><tr><th scope=\"col\">File</th><th scope=\"col\">Written</th><th scope=\"col\">Rules commit</th><th scope=\"col\">Decisions</th>");
        foreach (var v in verdicts) html.Add($"<th scope=\"col\">{E(v)}</th>");
        html.Add("</tr></thead><tbody>");
        foreach (var r in reports)
        {
            html.Add($"<tr data-name=\"{E(r.Name)}\"><td><a href=\"{Root}/plans/{Q(r.Name)}\"><code>{E(r.Name)}</code></a></td><td>{TimeTag(r.WrittenAt)}</td>");
            if (r.Summary is { } s)
            {
                html.Add($"<td><code>{E(Short(s.RulesCommit) is { Length: > 0 } c ? c : "none")}</code></td><td data-verdict=\"all\">{N(s.Decisions)}</td>");
                foreach (var v in verdicts) html.Add($"<td data-verdict=\"{E(v)}\">{N(s.ByVerdict.GetValueOrDefault(v))}</td>");
            }
            else
            {
                html.Add($"<td colspan=\"{N(2 + verdicts.Count)}\" data-testid=\"plan-unreadable\"><span class=\"badge s-bad\">unreadable</span> {E(r.Unreadable)}</td>");
            }

            html.Add("</tr>");
        }

        return html.Add("</tbody></table></section>").ToString();
    }

    /// <summary>One plan report: its summary and a page of its decisions (read as a stream; the name must be one of the listed files).</summary>
    private static IResult PlanReport(string name, HttpContext http, PlanReports plans)
    {
        var offset = long.TryParse(http.Request.Query["offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var o) ? o : 0;
        if (plans.Open(name, offset) is not { } detail)
        {
            return ConsolePage.Render(http, "Plan report", Root + "/runs",
                $"<p class=\"alert\" role=\"alert\" data-testid=\"plan-missing\">There is no plan report named <code>{E(name)}</code> among the newest {N(PlanReports.Newest)} in the plan report folder.</p><p><a href=\"{Root}/runs\">Runs and rules</a></p>", status: 404);
        }

        var r = detail.Report;
        var html = new StringBuilder();
        html.Add($"<p><a href=\"{Root}/runs\">← Runs and rules</a></p>");
        html.Add($"<dl class=\"facts\" data-testid=\"plan-summary\"><dt>File</dt><dd><code>{E(r.Name)}</code> ({N(r.Bytes)} bytes)</dd><dt>Written</dt><dd>{TimeTag(r.WrittenAt)}</dd>");
        if (r.Summary is not { } s)
        {
            html.Add($"</dl><p class=\"alert\" role=\"alert\" data-testid=\"plan-unreadable\">Unreadable: {E(r.Unreadable)}</p>");
            return ConsolePage.Render(http, $"Plan report: {r.Name}", Root + "/runs", html.ToString());
        }

        html.Add($"<dt>Planned at</dt><dd>{E(s.CreatedAt)}</dd><dt>Rules</dt><dd>{N(s.Rules)} at commit <code>{E(s.RulesCommit ?? "none")}</code></dd>")
            .Add($"<dt>Findings</dt><dd>{N(s.FindingsTotal)} read, {N(s.FindingsMatched)} matched a rule</dd>")
            .Add($"<dt>Decisions</dt><dd data-testid=\"plan-decisions\">{N(s.Decisions)}: {E(string.Join(", ", s.ByVerdict.Select(p => $"{p.Value} {p.Key}")))}</dd>")
            .Add($"<dt>Executed by action</dt><dd>{(s.ExecutedByAction.Count == 0 ? "<span class=\"muted\">none</span>" : E(string.Join(", ", s.ExecutedByAction.Select(p => $"{p.Key} {p.Value}"))))}</dd></dl>");
        html.Add($"<h2>Decisions {N(detail.Offset + (detail.Decisions.Count == 0 ? 0 : 1))}–{N(detail.Offset + detail.Decisions.Count)} of {N(s.Decisions)}</h2>");
        if (detail.Decisions.Count == 0) html.Add("<p data-testid=\"plan-no-decisions\">No decisions on this page.</p>");
        else
        {
            html.Add("<table data-testid=\"plan-decision-rows\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Verdict</th><th scope=\"col\">Action</th><th scope=\"col\">Identity</th><th scope=\"col\">Rule</th><th scope=\"col\">Finding</th><th scope=\"col\">Guard</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
            foreach (var d in detail.Decisions)
            {
                var e = d.Decision;
                html.Add($"<tr data-index=\"{N(d.Index)}\"><td>{N(d.Index + 1)}</td><td>{Status(Text(e, "verdict") ?? "?")}</td><td><code>{E(Text(e, "action"))}</code> {Inline(e.ValueKind == JsonValueKind.Object && e.TryGetProperty("parameters", out var p) ? p : null)}</td>")
                    .Add($"<td>{E(Text(e, "identity", "name") ?? Text(e, "finding", "subject", "name"))} <span class=\"muted\">{E(Text(e, "identity", "provider"))}</span></td><td><code>{E(Text(e, "rule", "id"))}</code></td>")
                    .Add($"<td>{E(Text(e, "finding", "source"))} <code>{E(Text(e, "finding", "id"))}</code></td><td>{E(Text(e, "guard"))}</td><td>{E(Truncate(Text(e, "reason") ?? Text(e, "not_shown"), 160))}</td></tr>");
            }

            html.Add("</tbody></table>");
        }

        html.Add("<nav class=\"pager\" aria-label=\"Pages\">");
        if (detail.Offset > 0) html.Add($"<a href=\"{Root}/plans/{Q(r.Name)}\">First decisions</a>");
        if (detail.Next is { } next) html.Add($"<a href=\"{Root}/plans/{Q(r.Name)}?offset={N(next)}\" rel=\"next\">Next decisions →</a>");
        else html.Add("<span class=\"muted\">No more decisions.</span>");
        html.Add("</nav>");
        return ConsolePage.Render(http, $"Plan report: {r.Name}", Root + "/runs", html.ToString());
    }

    /// <summary>A string at a path in a decision, or null when it is absent or not a string (a hostile file can hold anything).</summary>
    private static string? Text(JsonElement element, params string[] path)
    {
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
        }

        return element.ValueKind == JsonValueKind.String ? element.GetString() : null;
    }

    private static async Task<IResult> HealthAsync(HttpContext http, IConsoleQueries queries, CancellationToken ct)
    {
        var (ready, report) = await queries.HealthAsync(ct);
        var json = JsonSerializer.SerializeToElement(report, SnakeCase);
        var html = new StringBuilder();
        html.Add($"<p data-testid=\"ready\">{(ready ? "<span class=\"badge big s-ok\">ready</span>" : "<span class=\"badge big s-bad\">not ready</span>")} as <code>/readyz</code> answers it now.</p>");
        if (json.TryGetProperty("inbox", out var inbox) && inbox.ValueKind == JsonValueKind.Object) html.Add("<h2>Inbox</h2>").Add(Definition(inbox));
        if (json.TryGetProperty("readiness", out var readiness) && readiness.ValueKind == JsonValueKind.Object)
        {
            foreach (var section in readiness.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
            {
                html.Add($"<h2>{E(Capitalize(section.Name))}</h2>").Add(Definition(section.Value));
            }
        }

        return ConsolePage.Render(http, "Health", Root + "/health", html.ToString());
    }

    /// <summary>A JSON object as a definition list, nested objects as nested lists.</summary>
    private static string Definition(JsonElement element)
    {
        var html = new StringBuilder("<dl class=\"facts\">");
        foreach (var p in element.EnumerateObject())
        {
            var value = p.Value.ValueKind switch
            {
                JsonValueKind.Object => Definition(p.Value),
                // A flag that names a failure ("last_reload_failed") is good when false.
                JsonValueKind.True => p.Name.Contains("fail", StringComparison.Ordinal) ? "<span class=\"badge s-bad\">yes</span>" : "<span class=\"badge s-ok\">yes</span>",
                JsonValueKind.False => p.Name.Contains("fail", StringComparison.Ordinal) ? "<span class=\"badge s-ok\">no</span>" : "<span class=\"badge s-bad\">no</span>",
                JsonValueKind.Null => "<span class=\"muted\">none</span>",
                JsonValueKind.String => E(p.Value.GetString()),
                _ => E(p.Value.GetRawText()),
            };
            html.Add($"<dt>{E(p.Name.Replace('_', ' '))}</dt><dd>{value}</dd>");
        }

        return html.Add("</dl>").ToString();
    }

    /// <summary>Rows as a table: sequence (to the row in full), time, status, action, identity (to its timeline), rule, guard, actor, reason.</summary>
    internal static string RowsTable(IReadOnlyList<AuditRowView> rows, string testId)
    {
        if (rows.Count == 0) return $"<p data-testid=\"{E(testId)}-empty\">No rows.</p>";
        var html = new StringBuilder($"<table data-testid=\"{E(testId)}\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">Recorded</th><th scope=\"col\">Status</th><th scope=\"col\">Action</th><th scope=\"col\">Identity</th><th scope=\"col\">Provider</th><th scope=\"col\">Rule</th><th scope=\"col\">Guard</th><th scope=\"col\">Actor</th><th scope=\"col\">Reason</th></tr></thead><tbody>");
        foreach (var r in rows)
        {
            html.Add($"<tr data-sequence=\"{N(r.Sequence)}\"><td><a href=\"{Root}/activity/{N(r.Sequence)}\">{N(r.Sequence)}</a></td><td>{TimeTag(r.RecordedAt)}</td><td>{Status(r.Status)}</td>")
                .Add($"<td><code>{E(r.Action)}</code> {Inline(r.Parameters)}</td><td>{IdentityLink(r.IdentityId, r.IdentityName)}</td><td>{E(r.Provider)}</td><td><code>{E(r.RuleId)}</code></td><td>{E(r.Guard)}</td><td>{E(r.Actor)}</td><td>{E(Truncate(r.Reason ?? r.Error, 160))}</td></tr>");
        }

        return html.Add("</tbody></table>").ToString();
    }

    private static string IdentityLink(string? id, string? name)
    {
        var shown = name ?? id;
        if (shown is null) return "";
        return $"<a href=\"{Root}/identity?id={Q(shown)}\">{E(shown)}</a>";
    }

    private static string Short(string? hash) => hash is { Length: > 12 } ? hash[..12] : hash ?? "";

    private static string Truncate(string? text, int length) => text is { } t && t.Length > length ? t[..length] + "…" : text ?? "";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    /// <summary>Used only so the rule loader's duration syntax stays the one the filters accept.</summary>
    internal static TimeSpan? Duration(string text) => RuleLoader.ParseDuration(text);

    internal static bool Timestamp(string text, out DateTimeOffset at) => FindingReader.TryParseTimestamp(text, out at);
}
