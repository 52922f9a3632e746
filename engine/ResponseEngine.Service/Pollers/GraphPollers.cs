using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// Microsoft Graph <c>security/alerts_v2</c>: alerts updated after the cursor (<c>$filter=lastUpdateDateTime gt …</c>,
/// oldest first), one page per call, following <c>@odata.nextLink</c>. The cursor holds the window's start, the next
/// link and the latest lastUpdateDateTime seen, and is saved after every page, so a failure on page 3 resumes at page 3.
/// Each alert becomes one finding per user account in its evidence (see docs/sources.md); the finding id is the alert id
/// and the account, so an update of an alert is the same finding (accepted once). Resolved alerts and those classified
/// falsePositive or informationalExpectedActivity are skipped (settings <c>skip_resolved</c>, <c>skip_classifications</c>).
/// </summary>
public sealed class GraphAlertsPoller(PollerOptions options, HttpClient http, TimeProvider time) : IPoller
{
    /// <inheritdoc />
    public string? Start() => new GraphCursor(PollerClock.Since(options, time), null, null).Write();

    public async Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        var state = GraphCursor.Read(cursor) ?? new GraphCursor(PollerClock.Since(options, time), null, null);
        var url = state.Next ?? $"v1.0/security/alerts_v2?$filter={Uri.EscapeDataString($"lastUpdateDateTime gt {state.Since}")}&$orderby={Uri.EscapeDataString("lastUpdateDateTime asc")}&$top=100";
        using var response = await http.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute), cancellationToken);
        using var page = await VendorRecords.ReadAsync(response, "Microsoft Graph", "security/alerts_v2", time, cancellationToken);
        var root = GraphCursor.Root(page);
        var origin = $"graph_alerts:{options.Name}";
        var latest = state.Latest;
        var (entries, rejected) = VendorRecords.MapAll(root.GetProperty("value"), origin, _ => null, alert =>
        {
            if (VendorRecords.Text(alert["lastUpdateDateTime"]) is { } updated && PollerClock.Later(updated, latest ?? state.Since)) latest = updated;
            return GraphAlerts.Map(alert, options).Select(r => Check(r, origin));
        });
        var next = root.TryGetProperty("@odata.nextLink", out var link) && link.ValueKind == JsonValueKind.String ? link.GetString() : null;
        var after = next is not null ? state with { Next = next, Latest = latest } : new GraphCursor(latest ?? state.Since, null, null);
        return new PollPage(entries, after.Write(), next is not null, rejected);
    }

    internal static (InboxEntry? Entry, string? Problem) Check(JsonObject record, string origin)
    {
        var (payload, finding, problem) = FindingJson.Validate(record, origin);
        return payload is null || finding is null ? (null, problem) : (new InboxEntry(finding.Source, finding.Id, payload, origin), null);
    }
}

/// <summary>
/// Microsoft Graph <c>identityProtection/riskyUsers</c> at high and medium risk, one page per call following
/// <c>@odata.nextLink</c> (saved after every page). A user's risk is a finding per (user, riskLastUpdatedDateTime): the
/// same risk is accepted once, a new assessment comes in again. Deleted users and risk that is dismissed, remediated or
/// confirmed safe are skipped. Graph does not filter this list by time, so every pass reads it whole.
/// </summary>
public sealed class GraphRiskyUsersPoller(PollerOptions options, HttpClient http, TimeProvider time) : IPoller
{
    public async Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        var state = GraphCursor.Read(cursor);
        var url = state?.Next ?? $"v1.0/identityProtection/riskyUsers?$filter={Uri.EscapeDataString("riskLevel eq 'high' or riskLevel eq 'medium'")}";
        using var response = await http.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute), cancellationToken);
        using var page = await VendorRecords.ReadAsync(response, "Microsoft Graph", "identityProtection/riskyUsers", time, cancellationToken);
        var root = GraphCursor.Root(page);
        var origin = $"graph_risky_users:{options.Name}";
        var latest = state?.Latest;
        var (entries, rejected) = VendorRecords.MapAll(root.GetProperty("value"), origin, _ => null, user =>
        {
            if (VendorRecords.Text(user["riskLastUpdatedDateTime"]) is { } updated && PollerClock.Later(updated, latest ?? "")) latest = updated;
            return GraphRiskyUsers.Map(user, options) is { } record ? [GraphAlertsPoller.Check(record, origin)] : [];
        });
        var next = root.TryGetProperty("@odata.nextLink", out var link) && link.ValueKind == JsonValueKind.String ? link.GetString() : null;
        return new PollPage(entries, new GraphCursor(latest ?? state?.Since ?? "", next, latest).Write(), next is not null, rejected);
    }
}

/// <summary>Where a Graph poller is: the window's start, the next link of a pass in progress, the latest update seen in it.</summary>
internal sealed record GraphCursor(string Since, string? Next, string? Latest)
{
    public string Write() => new JsonObject { ["since"] = Since, ["next"] = Next, ["latest"] = Latest }.ToJsonString();

    /// <summary>The saved cursor; a plain timestamp (what earlier versions saved) is the window's start.</summary>
    public static GraphCursor? Read(string? cursor)
    {
        if (string.IsNullOrWhiteSpace(cursor)) return null;
        if (!cursor.TrimStart().StartsWith('{')) return new GraphCursor(cursor, null, null);
        try
        {
            var node = JsonNode.Parse(cursor) as JsonObject;
            return node is null ? null : new GraphCursor(VendorRecords.Text(node["since"]) ?? "", VendorRecords.Text(node["next"]), VendorRecords.Text(node["latest"]));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A Graph list answer: an object with a <c>value</c> array, or the source answered something a poller cannot use.</summary>
    public static JsonElement Root(JsonDocument page)
    {
        var root = page.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Array)
        {
            throw new PollerException("the Graph answer is not a list (an object with a 'value' array)");
        }

        return root;
    }
}

/// <summary>The clock rules the pollers share: the first window's start and the order of vendor timestamps.</summary>
internal static class PollerClock
{
    public static string Since(PollerOptions options, TimeProvider time)
    {
        var lookback = options.Get("lookback") is { } l && Policy.Rules.RuleLoader.ParseDuration(l) is { } d ? d : TimeSpan.FromHours(1);
        return (time.GetUtcNow() - lookback).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>True when <paramref name="candidate"/> is a later instant than <paramref name="than"/> (unparsable text is never later).</summary>
    public static bool Later(string candidate, string than) =>
        DateTimeOffset.TryParse(candidate, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var c)
        && (!DateTimeOffset.TryParse(than, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) || c > t);
}
