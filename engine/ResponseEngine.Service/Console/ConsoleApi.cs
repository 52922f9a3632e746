using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResponseEngine.Audit;
using ResponseEngine.Configuration;
using ResponseEngine.Operations;

namespace ResponseEngine.Service.Console;

/// <summary>The body of every state change: why (required, not blank; recorded with the caller's name).</summary>
public sealed record ReasonRequest(string? Reason);

/// <summary>The body of a breaker rearm: why, and whether to put the held findings back into the inbox.</summary>
public sealed record RearmRequest(string? Reason, bool Requeue);

/// <summary>Who is signed in, with what role, and the anti-forgery token a page or script with the cookie sends on every state change.</summary>
public sealed record SessionView(string Name, string? Role, string Channel, string? AntiforgeryHeader, string? AntiforgeryToken);

/// <summary>What a state change did: the audit row it wrote, and a sentence for a person.</summary>
public sealed record OperationView(long? Sequence, string Message, bool Requeued = false);

/// <summary>
/// The console's JSON API under /v1 (besides the /v1/findings webhook, which is separate): every endpoint behind a role
/// policy, every cookie-authenticated state change behind the anti-forgery check, every error an RFC 7807 problem.
/// </summary>
public static class ConsoleApi
{
    /// <summary>Registers the console's services: auth, the operations layer, the queries, OpenAPI.</summary>
    public static void AddConsole(IServiceCollection services, ServeSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        ConsoleAuth.Add(services, setup.Options.Console, setup.ConsoleCredentials, ConsoleOptions.KeyDirectoryFor(setup.Options));
        services.AddProblemDetails();
        services.AddSingleton(sp => new OperatorActions(setup.Store, setup.Options, () => setup.Connectors, setup.Time, Environment.MachineName, setup.EngineVersion, setup.Inbox)
        {
            Requeued = sp.GetRequiredService<Processing.InboxSignal>().Wake,
        });
        services.AddSingleton<IConsoleQueries, ConsoleQueries>();
        services.AddSingleton(new PlanReports(ConsoleOptions.PlanReportsFor(setup.Options)));
        services.AddOpenApi("v1", o => o.ShouldInclude = d => d.RelativePath?.StartsWith("v1/", StringComparison.Ordinal) == true && d.RelativePath != "v1/findings");
    }

    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var proxies = app.Services.GetRequiredService<ServeSetup>().Options.Console.ForwardedHeaders;
        if (!proxies.IsDefaultOrEmpty) app.UseForwardedHeaders(ForwardedHeadersFrom(proxies));
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapOpenApi("/openapi/{documentName}.json");

        app.MapGet(ConsoleAuth.SignInPath, (HttpContext http, string? returnUrl) =>
        {
            var options = http.RequestServices.GetRequiredService<ServeSetup>().Options.Console;
            if (options.Oidc is null) return Problems.Result(StatusCodes.Status404NotFound, "no sign-in", "console.oidc is not configured; scripts use API tokens");
            var target = returnUrl is { Length: > 0 } url && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";
            return Results.Challenge(new AuthenticationProperties { RedirectUri = target }, [ConsoleAuth.OidcScheme]);
        }).ExcludeFromDescription().AllowAnonymous();
        app.MapPost(ConsoleAuth.SignOutPath, async (HttpContext http) =>
        {
            await http.SignOutAsync(ConsoleAuth.CookieScheme);
            return Results.Redirect("/");
        }).ExcludeFromDescription().RequireAuthorization(ConsoleAuth.ViewerPolicy).AddEndpointFilter(AntiforgeryFilter);

        var v1 = app.MapGroup("/v1").RequireAuthorization(ConsoleAuth.ViewerPolicy).WithTags("console");

        v1.MapGet("/session", (HttpContext http, IAntiforgery antiforgery) =>
        {
            var user = ConsoleUser.From(http.User)!;
            var tokens = user.Channel == OperatorChannel.Console ? antiforgery.GetAndStoreTokens(http) : null;
            return TypedResults.Ok(new SessionView(user.Name, user.Role?.Name(), user.Operator.ChannelName, tokens?.HeaderName, tokens?.RequestToken));
        }).WithSummary("Who is signed in, the role, and the anti-forgery token for state changes made with the sign-in cookie");

        v1.MapGet("/approvals", async (IConsoleQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.PendingApprovalsAsync(ct)))
            .WithSummary("Decisions held for approval, oldest first: finding, rule, identity, the exact action and parameters, age and expiry");
        v1.MapPost("/approvals/{sequence:long}/approve", (long sequence, ReasonRequest body, HttpContext http, OperatorActions actions, CancellationToken ct) =>
            Operate(http, "approve", async who =>
            {
                var result = await actions.ApproveAsync(sequence, body.Reason, who, ct);
                return result.AlreadyApproved
                    ? new OperationView(result.Answer.Sequence, $"audit #{sequence} is already approved (audit #{result.Answer.Sequence})")
                    : new OperationView(result.Answer.Sequence, $"approved {result.Held.Entry.Action} on {result.Held.Entry.IdentityName}" +
                        (result.Requeued ? "; its finding is back in the inbox and is decided again under every other guard" : "; it runs when its finding is decided again"), result.Requeued);
            }))
            .RequireAuthorization(ConsoleAuth.ApproverPolicy).AddEndpointFilter(AntiforgeryFilter).WithSummary("Approve a held decision (approver); the reason is required");
        v1.MapPost("/approvals/{sequence:long}/reject", (long sequence, ReasonRequest body, HttpContext http, OperatorActions actions, CancellationToken ct) =>
            Operate(http, "reject", async who =>
            {
                var result = await actions.RejectAsync(sequence, body.Reason, who, ct);
                return new OperationView(result.Answer.Sequence, $"rejected {result.Held.Entry.Action} on {result.Held.Entry.IdentityName}; it will not run");
            }))
            .RequireAuthorization(ConsoleAuth.ApproverPolicy).AddEndpointFilter(AntiforgeryFilter).WithSummary("Reject a held decision (approver); the reason is required");

        v1.MapGet("/breaker", async (IConsoleQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.BreakerAsync(ct)))
            .WithSummary("The breaker: open or closed, what opened it, the destructive actions it holds");
        v1.MapPost("/breaker/rearm", (RearmRequest body, HttpContext http, OperatorActions actions, CancellationToken ct) =>
            Operate(http, "rearm", async who =>
            {
                var result = await actions.RearmAsync(body.Reason, body.Requeue, who, ct);
                return !result.WasOpen
                    ? new OperationView(null, "breaker is not open; nothing to re-arm")
                    : new OperationView(result.Row!.Sequence, $"breaker re-armed; {result.HeldActions} destructive actions were held" +
                        (body.Requeue ? $", {result.Requeued} findings put back into the inbox" : ""), result.Requeued > 0);
            }))
            .RequireAuthorization(ConsoleAuth.OperatorPolicy).AddEndpointFilter(AntiforgeryFilter).WithSummary("Re-arm the breaker (operator), optionally requeueing the held findings");

        v1.MapGet("/audit", async (HttpContext http, IConsoleQueries queries, string? identity, string? rule, string? action, string? provider, string[]? status, string? guard,
            string? run, DateTimeOffset? since, DateTimeOffset? until, long? before, int? limit, CancellationToken ct) =>
        {
            if (Statuses(status, out var statuses) is { } problem) return problem;
            var search = new AuditSearch { Identity = identity, Rule = rule, Action = action, Provider = provider, Statuses = statuses, Guard = guard, Run = run, Since = since, Until = until };
            return TypedResults.Ok(await queries.SearchAuditAsync(search, before, limit ?? 50, ct));
        }).WithSummary("Search the audit trail, newest first, a page at a time: pass the answer's `next` as `before` for the next page")
            .Produces<AuditPage>();
        v1.MapGet("/audit/{sequence:long}", async (long sequence, IConsoleQueries queries, CancellationToken ct) =>
            await queries.RowAsync(sequence, ct) is { } row ? Results.Ok(row) : Problems.Result(StatusCodes.Status404NotFound, "not found", $"there is no audit row #{sequence}"))
            .WithSummary("One audit row in full: finding, facts, prior state, hashes, related rows, whether it can be undone").Produces<AuditRowDetail>();
        MapReads(v1);
        v1.MapPost("/audit/{sequence:long}/undo", (long sequence, ReasonRequest body, HttpContext http, OperatorActions actions, CancellationToken ct) =>
            Operate(http, "undo", async who =>
            {
                var result = await actions.UndoAsync(sequence, body.Reason, who, ct);
                return result.Succeeded
                    ? new OperationView(result.Outcome.Sequence, $"undone: {result.Reversed.Entry.Action} on {result.Reversed.Entry.IdentityName} restored to its prior state")
                    : throw new OperationException(OperationProblem.Refused, $"undo failed: {result.Outcome.Entry.Error} (audit #{result.Outcome.Sequence})");
            }))
            .RequireAuthorization(ConsoleAuth.OperatorPolicy).AddEndpointFilter(AntiforgeryFilter).WithSummary("Undo a succeeded action from its prior state (operator), guarded as `respond undo`");
    }

    private static void MapReads(RouteGroupBuilder v1)
    {
        v1.MapGet("/limits", async (IConsoleQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.LimitsAsync(ct)))
            .WithSummary("Rate-limit windows per rule, action, provider and overall, with what the last hour used");
        v1.MapGet("/identities/{identity}/timeline", async (string identity, long? before, int? limit, IConsoleQueries queries, CancellationToken ct) =>
            TypedResults.Ok(await queries.TimelineAsync(identity, before, limit ?? 50, ct)))
            .WithSummary("Every finding and decision about one identity (id or name), newest first, with which rows can be undone (POST /v1/audit/{sequence}/undo)");
        v1.MapGet("/identities/{identity}/person", async (string identity, long? before, int? limit, IConsoleQueries queries, CancellationToken ct) =>
            TypedResults.Ok(await queries.PersonTimelineAsync(identity, before, limit ?? 50, ct)))
            .WithSummary("The person an account (id or name) belongs to: each of their accounts (AD, Entra, Okta) with the link evidence the trail recorded, and every decision about any of them, newest first");
        v1.MapGet("/runs", async (int? limit, IConsoleQueries queries, CancellationToken ct) => TypedResults.Ok(await queries.RunsAsync(limit ?? 20, ct)))
            .WithSummary("Recent runs and batches, newest first, with rows by status");
        v1.MapGet("/plans", (PlanReports plans) => TypedResults.Ok(plans.List()))
            .WithSummary("The newest plan reports in console.plan_reports (respond plan --format json --out), newest first: file, time written, rules commit, decisions by verdict; an unreadable file says why");
        v1.MapGet("/plans/{name}", (string name, long? offset, int? limit, PlanReports plans) =>
            plans.Open(name, offset ?? 0, limit ?? PlanReports.PageSize) is { } detail
                ? Results.Ok(detail)
                : Problems.Result(StatusCodes.Status404NotFound, "not found", $"there is no plan report named '{(global::ResponseEngine.Diagnostics.Printable.Escape(name))}' among the newest {PlanReports.Newest}"))
            .WithSummary("One plan report: its summary and a page of its decisions from `offset` (pass the answer's `next` as `offset`); the name must be one of GET /v1/plans").Produces<PlanReportDetail>();
        v1.MapGet("/rules", (IConsoleQueries queries) => TypedResults.Ok(queries.Rules()))
            .WithSummary("The loaded rule set: commit, rules (mode, owner, expiry, hash), the last reload's result");
        v1.MapGet("/health", async (IConsoleQueries queries, CancellationToken ct) =>
        {
            var (ready, report) = await queries.HealthAsync(ct);
            return Results.Json(new { ready, report }, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }).WithSummary("Health as /readyz knows it (rules, audit store, connectors, pollers) and the inbox depth");
        v1.MapGet("/audit/export", async (HttpContext http, IConsoleQueries queries, string? format, string? identity, string? rule, string? action, string? provider,
            string[]? status, string? guard, string? run, DateTimeOffset? since, DateTimeOffset? until, CancellationToken ct) =>
        {
            if (format is not (null or "csv" or "jsonl")) return Problems.Result(StatusCodes.Status400BadRequest, "bad format", $"format is '{format}'; use csv or jsonl");
            if (Statuses(status, out var statuses) is { } problem) return problem;
            var search = new AuditSearch { Identity = identity, Rule = rule, Action = action, Provider = provider, Statuses = statuses, Guard = guard, Run = run, Since = since, Until = until };
            var csv = format != "jsonl";
            http.Response.ContentType = csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
            http.Response.Headers.ContentDisposition = $"attachment; filename=\"respond-audit.{(csv ? "csv" : "jsonl")}\"";
            await using var writer = new StreamWriter(http.Response.Body, new System.Text.UTF8Encoding(false), 64 * 1024);
            if (csv) await writer.WriteAsync(AuditExport.CsvHeader + "\n");
            var written = 0;
            await foreach (var row in queries.ExportAsync(search, ct))
            {
                await writer.WriteAsync((csv ? AuditExport.CsvLine(row) : AuditEcs.Document(row).ToJsonString()) + "\n");
                if (++written % ConsoleQueries.ExportPage == 0) await writer.FlushAsync(ct);
            }

            return Results.Empty;
        }).WithSummary("Export every row the filter matches as CSV or JSON Lines (ECS field names), streamed oldest first");
    }

    private static IResult? Statuses(string[]? words, out List<AuditStatus>? statuses)
    {
        statuses = null;
        foreach (var word in words ?? [])
        {
            try
            {
                (statuses ??= []).Add(AuditStatuses.Parse(word));
            }
            catch (FormatException e)
            {
                return Problems.Result(StatusCodes.Status400BadRequest, "bad filter", e.Message);
            }
        }

        return null;
    }

    /// <summary>A state change by the caller: refusals become problems (400 invalid, 404 unknown row, 409 wrong state, 422 refused by a guard, 503 audit store down).</summary>
    private static async Task<IResult> Operate(HttpContext http, string what, Func<OperatorIdentity, Task<OperationView>> operation)
    {
        var user = ConsoleUser.From(http.User)!;
        var log = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("ResponseEngine.Console");
        try
        {
            var view = await operation(user.Operator);
            log.LogInformation("console: {Actor} ({Channel}) {Operation}: {Result}", user.Name, user.Operator.ChannelName, what, view.Message);
            return TypedResults.Ok(view);
        }
        catch (OperationException e)
        {
            var status = e.Problem switch
            {
                OperationProblem.Invalid => StatusCodes.Status400BadRequest,
                OperationProblem.NotFound => StatusCodes.Status404NotFound,
                OperationProblem.Conflict => StatusCodes.Status409Conflict,
                _ => StatusCodes.Status422UnprocessableEntity,
            };
            log.LogInformation("console: {Actor} ({Channel}) {Operation} refused: {Problem}", user.Name, user.Operator.ChannelName, what, e.Message);
            return Problems.Result(status, what + " refused", e.Message);
        }
        catch (AuditWriteException e)
        {
            log.LogError("console: {Operation} by {Actor}: the audit store cannot be written: {Message}", what, user.Name, e.Message);
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "audit store unavailable", "the audit trail cannot be written, so nothing was done; retry later");
        }
    }

    /// <summary>A state change made with the sign-in cookie must carry the anti-forgery token; one made with an API token (no ambient credential) needs none.</summary>
    /// <summary>
    /// Behind a reverse proxy: X-Forwarded-For, -Proto and -Host are believed from the listed proxies only (the default
    /// loopback entry is removed), so the sign-in redirect URI and the cookies' Secure flag follow the scheme and host
    /// people use; from anyone else the headers are ignored.
    /// </summary>
    internal static ForwardedHeadersOptions ForwardedHeadersFrom(IEnumerable<string> proxies)
    {
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in proxies)
        {
            if (proxy.Contains('/', StringComparison.Ordinal)) options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
            else options.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
        }

        return options;
    }

    private static async ValueTask<object?> AntiforgeryFilter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (ConsoleUser.From(http.User)?.Channel == OperatorChannel.Console)
        {
            try
            {
                await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http);
            }
            catch (AntiforgeryValidationException)
            {
                return Problems.Result(StatusCodes.Status400BadRequest, "anti-forgery token missing or invalid",
                    $"a state change made with the sign-in cookie must send the token from GET /v1/session in the {ConsoleAuth.AntiforgeryHeader} header (or the {ConsoleAuth.AntiforgeryField} form field)");
            }
        }

        return await next(context);
    }
}
