using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ResponseEngine.Configuration;
using ResponseEngine.Inbox;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// The Okta System Log, polled the way Okta documents it: the first request asks for events since a start time in
/// ascending order, and every later one follows the <c>next</c> link of the last answer, which is persisted as the
/// cursor (an empty page keeps the same link). Threat and risky sign-in events are mapped to findings; the others only
/// move the cursor.
/// </summary>
public sealed partial class OktaLogPoller(PollerOptions options, HttpClient http, TimeProvider time) : IPoller
{
    private const int PageSize = 100;

    /// <summary>Okta event types that are findings, with the finding type and the severity when the event carries no risk level.</summary>
    public static readonly IReadOnlyDictionary<string, (string Type, string Severity)> Mapped = new Dictionary<string, (string, string)>(StringComparer.Ordinal)
    {
        ["security.threat.detected"] = ("suspicious_sign_in", "high"),
        ["security.session.detect_client_roaming"] = ("session_hijack", "high"),
        ["user.session.context.change"] = ("session_hijack", "medium"),
        ["user.mfa.okta_verify.deny_push"] = ("mfa_push_fatigue", "medium"),
        ["user.account.report_suspicious_activity_by_enduser"] = ("suspicious_activity_reported", "high"),
        ["user.session.start"] = ("suspicious_sign_in", "medium"), // only when Okta flags it: risk level or threatSuspected
        ["user.authentication.sso"] = ("suspicious_sign_in", "medium"), // likewise
    };

    public async Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        var url = cursor ?? $"/api/v1/logs?since={Uri.EscapeDataString(Start().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))}&sortOrder=ASCENDING&limit={PageSize}";
        using var response = await http.GetAsync(new Uri(url, UriKind.RelativeOrAbsolute), cancellationToken);
        if (response.StatusCode == HttpStatusCode.TooManyRequests) throw new PollerException("Okta answered 429 (rate limit)");
        if (!response.IsSuccessStatusCode) throw new PollerException($"Okta answered {(int)response.StatusCode} {response.ReasonPhrase} for the System Log");
        var events = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonArray
            ?? throw new PollerException("the System Log answer is not a JSON array");
        var next = NextLink(response) ?? url;
        var entries = new List<InboxEntry>();
        var skipped = 0;
        foreach (var node in events.OfType<JsonObject>())
        {
            if (Map(node, options) is not { } record) continue;
            var (payload, finding, _) = FindingJson.Validate(record, $"okta event {node["uuid"]}");
            if (payload is null || finding is null)
            {
                skipped++;
                continue;
            }

            entries.Add(new InboxEntry(finding.Source, finding.Id, payload, $"okta_logs:{options.Name}"));
        }

        return new PollPage(entries, next, events.Count >= PageSize, skipped);
    }

    /// <summary>One event as a finding, or null when the event is not a threat or risky sign-in.</summary>
    public static JsonObject? Map(JsonObject evt, PollerOptions options)
    {
        ArgumentNullException.ThrowIfNull(evt);
        var type = evt["eventType"]?.GetValue<string>();
        if (type is null || !Mapped.TryGetValue(type, out var mapped)) return null;
        var debug = evt["debugContext"]?["debugData"] as JsonObject;
        var risk = debug?["risk"]?.ToString();
        var level = risk is null ? null : RiskLevel().Match(risk) is { Success: true } m ? m.Groups[1].Value.ToLowerInvariant() : null;
        var threat = string.Equals(debug?["threatSuspected"]?.ToString(), "true", StringComparison.OrdinalIgnoreCase);
        if (type is "user.session.start" or "user.authentication.sso" && level is not ("medium" or "high") && !threat) return null;

        var user = (evt["target"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(t => t["type"]?.ToString() == "User")
            ?? (evt["actor"]?["type"]?.ToString() == "User" ? evt["actor"] as JsonObject : null);
        var subject = new JsonObject { ["provider"] = "okta" };
        if (user?["id"]?.ToString() is { } id) subject["id"] = id;
        if (user?["alternateId"]?.ToString() is { } login) subject["name"] = login;
        var attributes = new JsonObject { ["event_type"] = type };
        if (evt["outcome"]?["result"]?.ToString() is { } outcome) attributes["outcome"] = outcome;
        if (evt["client"]?["ipAddress"]?.ToString() is { } ip) attributes["ip"] = ip;
        if (risk is not null) attributes["risk"] = risk;
        if (threat) attributes["threat_suspected"] = true;
        return new JsonObject
        {
            ["id"] = evt["uuid"]?.ToString(),
            ["source"] = options.Get("source") ?? "okta",
            ["kind"] = "detection",
            ["type"] = mapped.Type,
            ["severity"] = level is "low" or "medium" or "high" ? level : mapped.Severity,
            ["observed_at"] = evt["published"]?.ToString(),
            ["subject"] = subject,
            ["title"] = evt["displayMessage"]?.ToString() ?? type,
            ["attributes"] = attributes,
        };
    }

    private DateTimeOffset Start()
    {
        var lookback = options.Get("lookback") is { } text && Policy.Rules.RuleLoader.ParseDuration(text) is { } d ? d : TimeSpan.FromHours(1);
        return time.GetUtcNow() - lookback;
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var match = LinkNext().Match(link);
            if (match.Success) return match.Groups[1].Value;
        }

        return null;
    }

    [GeneratedRegex(@"level\s*=\s*(LOW|MEDIUM|HIGH)", RegexOptions.IgnoreCase)]
    private static partial Regex RiskLevel();

    [GeneratedRegex("<([^>]+)>\\s*;\\s*rel=\"next\"")]
    private static partial Regex LinkNext();
}
