using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ResponseEngine.Configuration;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// Microsoft Graph <c>security/alerts_v2</c>: alerts updated after the cursor (<c>$filter=lastUpdateDateTime gt …</c>,
/// oldest first), following <c>@odata.nextLink</c>; each alert with user evidence becomes one finding per user
/// (the userAccount's Entra object id and UPN as the subject). The cursor is the latest lastUpdateDateTime seen, so an
/// alert updated later comes again as a new finding (its id carries the update time).
/// </summary>
public sealed class GraphAlertsPoller(PollerOptions options, HttpClient http, TimeProvider time) : IPoller
{
    public async Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        var since = cursor ?? (time.GetUtcNow() - (options.Get("lookback") is { } l && Policy.Rules.RuleLoader.ParseDuration(l) is { } d ? d : TimeSpan.FromHours(1)))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        string? url = $"v1.0/security/alerts_v2?$filter={Uri.EscapeDataString($"lastUpdateDateTime gt {since}")}&$orderby={Uri.EscapeDataString("lastUpdateDateTime asc")}&$top=100";
        var entries = new List<InboxEntry>();
        var skipped = 0;
        var latest = since;
        while (url is not null)
        {
            var page = await GraphPaging.GetAsync(http, url, cancellationToken);
            foreach (var alert in (page["value"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var updated = alert["lastUpdateDateTime"]?.ToString();
                if (updated is not null && string.CompareOrdinal(Normalize(updated), Normalize(latest)) > 0) latest = updated;
                foreach (var record in Map(alert, options))
                {
                    var (payload, finding, _) = FindingJson.Validate(record, $"alert {alert["id"]}");
                    if (payload is null || finding is null) skipped++;
                    else entries.Add(new InboxEntry(finding.Source, finding.Id, payload, $"graph_alerts:{options.Name}"));
                }
            }

            url = page["@odata.nextLink"]?.ToString();
        }

        return new PollPage(entries, latest, false, skipped);
    }

    /// <summary>One finding per user account in the alert's evidence.</summary>
    public static IEnumerable<JsonObject> Map(JsonObject alert, PollerOptions options)
    {
        ArgumentNullException.ThrowIfNull(alert);
        foreach (var evidence in (alert["evidence"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (evidence["@odata.type"]?.ToString() != "#microsoft.graph.security.userEvidence" || evidence["userAccount"] is not JsonObject account) continue;
            var subject = new JsonObject { ["provider"] = "entra" };
            if (account["azureAdUserId"]?.ToString() is { Length: > 0 } id) subject["id"] = id;
            if (account["userPrincipalName"]?.ToString() is { Length: > 0 } upn) subject["name"] = upn;
            var severity = alert["severity"]?.ToString() switch
            {
                "high" => "high",
                "medium" => "medium",
                _ => "low",
            };
            var category = alert["category"]?.ToString() ?? "alert";
            yield return new JsonObject
            {
                ["id"] = $"{alert["id"]}:{subject["id"] ?? subject["name"]}:{alert["lastUpdateDateTime"]}",
                ["source"] = options.Get("source") ?? "microsoft-defender",
                ["kind"] = "detection",
                ["type"] = options.Get("type") ?? CsvFindings.SnakeCase(category),
                ["severity"] = severity,
                ["observed_at"] = alert["createdDateTime"]?.ToString(),
                ["subject"] = subject,
                ["title"] = alert["title"]?.ToString() ?? category,
                ["attributes"] = new JsonObject
                {
                    ["alert_id"] = alert["id"]?.ToString(),
                    ["category"] = category,
                    ["status"] = alert["status"]?.ToString(),
                    ["detection_source"] = alert["detectionSource"]?.ToString(),
                    ["service_source"] = alert["serviceSource"]?.ToString(),
                },
            };
        }
    }

    private static string Normalize(string timestamp) =>
        DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.UtcTicks.ToString("D20", CultureInfo.InvariantCulture) : timestamp;
}

/// <summary>
/// Microsoft Graph <c>identityProtection/riskyUsers</c> at high and medium risk, following <c>@odata.nextLink</c>. A
/// user's risk is a finding per (user, riskLastUpdatedDateTime): the same risk is accepted once, a new assessment comes
/// in again. The cursor is the latest riskLastUpdatedDateTime seen (for the record; the list is read whole, as Graph
/// does not filter it by time).
/// </summary>
public sealed class GraphRiskyUsersPoller(PollerOptions options, HttpClient http) : IPoller
{
    public async Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        string? url = $"v1.0/identityProtection/riskyUsers?$filter={Uri.EscapeDataString("riskLevel eq 'high' or riskLevel eq 'medium'")}";
        var entries = new List<InboxEntry>();
        var skipped = 0;
        var latest = cursor ?? "";
        while (url is not null)
        {
            var page = await GraphPaging.GetAsync(http, url, cancellationToken);
            foreach (var user in (page["value"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var level = user["riskLevel"]?.ToString();
                var state = user["riskState"]?.ToString();
                if (level is not ("high" or "medium") || state is "remediated" or "dismissed" or "confirmedSafe") continue;
                var updated = user["riskLastUpdatedDateTime"]?.ToString() ?? "";
                if (string.CompareOrdinal(updated, latest) > 0) latest = updated;
                var subject = new JsonObject { ["provider"] = "entra", ["id"] = user["id"]?.ToString() };
                if (user["userPrincipalName"]?.ToString() is { Length: > 0 } upn) subject["name"] = upn;
                var record = new JsonObject
                {
                    ["id"] = $"{user["id"]}:{updated}",
                    ["source"] = options.Get("source") ?? "entra-id-protection",
                    ["kind"] = "detection",
                    ["type"] = "risky_user",
                    ["severity"] = level,
                    ["observed_at"] = updated,
                    ["subject"] = subject,
                    ["title"] = $"Risky user ({level})",
                    ["attributes"] = new JsonObject { ["risk_state"] = state, ["risk_detail"] = user["riskDetail"]?.ToString(), ["risk_level"] = level },
                };
                var (payload, finding, _) = FindingJson.Validate(record, $"risky user {user["id"]}");
                if (payload is null || finding is null) skipped++;
                else entries.Add(new InboxEntry(finding.Source, finding.Id, payload, $"graph_risky_users:{options.Name}"));
            }

            url = page["@odata.nextLink"]?.ToString();
        }

        return new PollPage(entries, latest.Length == 0 ? cursor : latest, false, skipped);
    }
}

internal static class GraphPaging
{
    public static async Task<JsonObject> GetAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute), cancellationToken);
        if (response.StatusCode == HttpStatusCode.TooManyRequests) throw new PollerException("Microsoft Graph answered 429 (throttled)");
        if (!response.IsSuccessStatusCode) throw new PollerException($"Microsoft Graph answered {(int)response.StatusCode} {response.ReasonPhrase} for {url.Split('?')[0]}");
        return JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject
            ?? throw new PollerException("the Graph answer is not a JSON object");
    }
}
