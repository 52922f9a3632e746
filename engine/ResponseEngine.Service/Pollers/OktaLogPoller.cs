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
/// ascending order (saved before it is sent, so a failing first poll never slides the window), and every later one
/// follows the <c>next</c> link of the last answer. The cursor — that link, and the last event's published time and
/// uuid — is saved after every page (an empty page keeps the same link). Threat and risky sign-in events are mapped to
/// findings (see docs/sources.md); the others only move the cursor; an event that cannot be read is quarantined.
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

    /// <inheritdoc />
    public string? Start() => new OktaCursor(FirstLink(), null, null).Write();

    public async Task<PollPage> PollAsync(string? cursor, CancellationToken cancellationToken)
    {
        var state = OktaCursor.Read(cursor) ?? new OktaCursor(FirstLink(), null, null);
        using var response = await http.GetAsync(new Uri(state.Next, UriKind.RelativeOrAbsolute), cancellationToken);
        using var page = await VendorRecords.ReadAsync(response, "Okta", "the System Log", time, cancellationToken);
        if (page.RootElement.ValueKind != System.Text.Json.JsonValueKind.Array) throw new PollerException("the System Log answer is not a JSON array");
        var origin = $"okta_logs:{options.Name}";
        var (published, uuid) = (state.Published, state.Uuid);
        var (entries, rejected) = VendorRecords.MapAll(page.RootElement, origin, _ => null, evt =>
        {
            (published, uuid) = (VendorRecords.Text(evt["published"]) ?? published, VendorRecords.Text(evt["uuid"]) ?? uuid);
            return Map(evt, options) is { } record ? [GraphAlertsPoller.Check(record, origin)] : [];
        });
        var next = NextLink(response) ?? state.Next;
        return new PollPage(entries, new OktaCursor(next, published, uuid).Write(), page.RootElement.GetArrayLength() >= PageSize, rejected);
    }

    /// <summary>One event as a finding, or null when the event is not a threat or risky sign-in; a field of the wrong type throws, and the caller quarantines the event.</summary>
    public static JsonObject? Map(JsonObject evt, PollerOptions options)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(options);
        if (evt["eventType"] is { } typeNode && VendorRecords.Text(typeNode) is null) throw new InvalidOperationException($"field '/eventType' must be a string, found {typeNode.GetValueKind()}");
        var type = VendorRecords.Text(evt["eventType"]);
        if (type is null || !Mapped.TryGetValue(type, out var mapped)) return null;
        var debug = evt["debugContext"]?["debugData"] as JsonObject;
        var risk = VendorRecords.Text(debug?["risk"]);
        var level = risk is null ? null : RiskLevel().Match(risk) is { Success: true } m ? m.Groups[1].Value.ToLowerInvariant() : null;
        var threat = string.Equals(VendorRecords.Text(debug?["threatSuspected"]) ?? (debug?["threatSuspected"] as JsonValue)?.ToJsonString(), "true", StringComparison.OrdinalIgnoreCase);
        if (type is "user.session.start" or "user.authentication.sso" && level is not ("medium" or "high") && !threat) return null;

        var actor = evt["actor"] as JsonObject;
        var user = (evt["target"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(t => VendorRecords.Text(t["type"]) == "User")
            ?? (VendorRecords.Text(actor?["type"]) == "User" ? actor : null);
        var subject = new JsonObject { ["provider"] = "okta" };
        if (VendorRecords.Text(user?["id"]) is { } id) subject["id"] = id;
        if (VendorRecords.Text(user?["alternateId"]) is { } login) subject["name"] = login;
        var attributes = new JsonObject { ["event_type"] = type };
        void Add(string name, JsonNode? value)
        {
            if (value is not null) attributes[name] = value.DeepClone();
        }

        Add("outcome", VendorRecords.Text(evt["outcome"]?["result"]));
        Add("outcome_reason", VendorRecords.Text(evt["outcome"]?["reason"]));
        Add("ip", VendorRecords.Text(evt["client"]?["ipAddress"]));
        Add("actor_id", VendorRecords.Text(actor?["id"]));
        Add("actor_login", VendorRecords.Text(actor?["alternateId"]));
        Add("actor_type", VendorRecords.Text(actor?["type"]));
        Add("actor_display_name", VendorRecords.Text(actor?["displayName"]));
        Add("security_context", evt["securityContext"] as JsonObject);
        Add("okta_severity", VendorRecords.Text(evt["severity"]));
        Add("transaction_id", VendorRecords.Text(evt["transaction"]?["id"]));
        if (risk is not null) attributes["risk"] = risk;
        if (level is not null) attributes["risk_level"] = level;
        if (threat) attributes["threat_suspected"] = true;
        return new JsonObject
        {
            ["id"] = VendorRecords.Text(evt["uuid"]),
            ["source"] = options.Get("source") ?? "okta",
            ["kind"] = "detection",
            ["type"] = mapped.Type,
            ["severity"] = level is "low" or "medium" or "high" ? level : mapped.Severity,
            ["observed_at"] = VendorRecords.Text(evt["published"]),
            ["subject"] = subject,
            ["title"] = VendorRecords.Text(evt["displayMessage"]) ?? type,
            ["attributes"] = attributes,
        };
    }

    private string FirstLink() =>
        $"/api/v1/logs?since={Uri.EscapeDataString(Start(options, time).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture))}&sortOrder=ASCENDING&limit={PageSize}";

    private static DateTimeOffset Start(PollerOptions options, TimeProvider time)
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

/// <summary>Where the Okta poller is: the next link, and the published time and uuid of the last event read.</summary>
internal sealed record OktaCursor(string Next, string? Published, string? Uuid)
{
    public string Write() => new JsonObject { ["next"] = Next, ["published"] = Published, ["uuid"] = Uuid }.ToJsonString();

    /// <summary>The saved cursor; a plain link (what earlier versions saved) is the next link.</summary>
    public static OktaCursor? Read(string? cursor)
    {
        if (string.IsNullOrWhiteSpace(cursor)) return null;
        if (!cursor.TrimStart().StartsWith('{')) return new OktaCursor(cursor, null, null);
        try
        {
            return JsonNode.Parse(cursor) is JsonObject node && VendorRecords.Text(node["next"]) is { } next
                ? new OktaCursor(next, VendorRecords.Text(node["published"]), VendorRecords.Text(node["uuid"]))
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
