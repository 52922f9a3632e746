using System.Text.Json.Nodes;
using ResponseEngine.Configuration;

namespace ResponseEngine.Service.Pollers;

/// <summary>
/// Graph <c>alerts_v2</c> alerts as findings, as docs/sources.md tabulates: one finding per user account in the
/// evidence (userEvidence, and the userAccount of other evidence when it is a person's account), Entra accounts by
/// object id and UPN, on-premises accounts (a SID or domain and account name, no Entra id) as provider <c>ad</c>.
/// </summary>
public static class GraphAlerts
{
    /// <summary>Alert titles (lower case, matched as substrings) and detector ids, to the finding types the rules use; the category is the fallback.</summary>
    public static IReadOnlyList<(string Match, string Type)> Types { get; } =
    [
        ("dcsync", "dcsync"),
        ("replication of directory services", "dcsync"),
        ("kerberoast", "kerberoasting"),
        ("kerberos spn exposure", "kerberoasting"),
        ("additions to sensitive groups", "privileged_group_membership_added"),
        ("password spray", "password_spray"),
        ("passwordspray", "password_spray"),
        ("anomalous token", "anomalous_token"),
        ("anomaloustoken", "anomalous_token"),
        ("token issuer anomaly", "anomalous_token"),
        ("attacker in the middle", "aitm_phishing"),
        ("adversary in the middle", "aitm_phishing"),
        ("aitm", "aitm_phishing"),
        ("leaked credentials", "leaked_credentials"),
        ("leakedcredentials", "leaked_credentials"),
        ("primary refresh token", "token_replay"),
        ("stolen session cookie", "token_replay"),
        ("impossible travel", "suspicious_sign_in"),
        ("atypical travel", "suspicious_sign_in"),
        ("unfamiliar sign-in properties", "suspicious_sign_in"),
        ("anonymous ip address", "suspicious_sign_in"),
        ("malicious ip address", "suspicious_sign_in"),
        ("activity from infrequent country", "suspicious_sign_in"),
    ];

    private static readonly string[] SystemAccounts = ["system", "local service", "network service", "anonymous logon"];

    /// <summary>The finding records of one alert (none when it is skipped or names no user).</summary>
    public static IEnumerable<JsonObject> Map(JsonObject alert, PollerOptions options)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(options);
        var status = VendorRecords.Text(alert["status"]);
        var classification = VendorRecords.Text(alert["classification"]);
        if (status == "resolved" && options.Get("skip_resolved") != "false") yield break;
        var skipped = (options.Get("skip_classifications") ?? "falsePositive,informationalExpectedActivity").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (classification is not null && skipped.Contains(classification, StringComparer.OrdinalIgnoreCase)) yield break;

        var id = VendorRecords.Text(alert["id"]);
        var title = VendorRecords.Text(alert["title"]);
        var category = VendorRecords.Text(alert["category"]);
        var detector = VendorRecords.Text(alert["detectorId"]);
        var severity = VendorRecords.Text(alert["severity"]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var evidence in (alert["evidence"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (evidence["userAccount"] is not JsonObject account) continue;
            var isUserEvidence = VendorRecords.Text(evidence["@odata.type"]) == "#microsoft.graph.security.userEvidence";
            if (Subject(account, isUserEvidence) is not { } subject) continue;
            var key = VendorRecords.Text(subject["provider"]) == "ad"
                ? VendorRecords.Text(subject["name"]) ?? VendorRecords.Text(subject["id"])!
                : VendorRecords.Text(subject["id"]) ?? VendorRecords.Text(subject["name"])!;
            if (!seen.Add(key)) continue;
            var attributes = new JsonObject
            {
                ["alert_id"] = id,
                ["title"] = title,
                ["category"] = category,
                ["detector_id"] = detector,
                ["service_source"] = VendorRecords.Text(alert["serviceSource"]),
                ["detection_source"] = VendorRecords.Text(alert["detectionSource"]),
                ["status"] = status,
                ["classification"] = classification,
                ["determination"] = VendorRecords.Text(alert["determination"]),
                ["vendor_severity"] = severity,
                ["incident_id"] = VendorRecords.Text(alert["incidentId"]),
                ["provider_alert_id"] = VendorRecords.Text(alert["providerAlertId"]),
                ["alert_web_url"] = VendorRecords.Text(alert["alertWebUrl"]),
                ["last_update"] = VendorRecords.Text(alert["lastUpdateDateTime"]),
                ["evidence_type"] = VendorRecords.Text(evidence["@odata.type"]),
                ["evidence_roles"] = evidence["roles"]?.DeepClone(),
                ["mitre_techniques"] = alert["mitreTechniques"]?.DeepClone(),
            };
            foreach (var (name, value) in new[] { ("user_sid", "userSid"), ("domain_name", "domainName"), ("account_name", "accountName"), ("user_principal_name", "userPrincipalName"), ("azure_ad_user_id", "azureAdUserId") })
            {
                if (VendorRecords.Text(account[value]) is { Length: > 0 } text) attributes[name] = text;
            }

            foreach (var property in attributes.Where(p => p.Value is null).Select(p => p.Key).ToList()) attributes.Remove(property);
            yield return new JsonObject
            {
                ["id"] = id is null ? null : $"{id}:{key}",
                ["source"] = options.Get("source") ?? "microsoft-defender",
                ["kind"] = "detection",
                ["type"] = options.Get("type") ?? Type(detector, title, category),
                ["severity"] = Severity(severity),
                ["observed_at"] = VendorRecords.Text(alert["createdDateTime"]),
                ["subject"] = subject,
                ["title"] = title ?? category ?? "alert",
                ["attributes"] = attributes,
            };
        }
    }

    /// <summary>The finding type: the first entry of <see cref="Types"/> found in the detector id or title, else the category in snake_case.</summary>
    public static string? Type(string? detector, string? title, string? category)
    {
        foreach (var (match, type) in Types)
        {
            if ((detector?.Contains(match, StringComparison.OrdinalIgnoreCase) ?? false) || (title?.Contains(match, StringComparison.OrdinalIgnoreCase) ?? false)) return type;
        }

        return category is null ? null : CsvFindings.SnakeCase(category);
    }

    /// <summary>Graph's alertSeverity: informational stays informational; unknownFutureValue (a value newer than this mapping) is low, its text kept in vendor_severity.</summary>
    public static string? Severity(string? severity) => severity switch
    {
        "informational" or "low" or "medium" or "high" => severity,
        null => null,
        _ => "low",
    };

    /// <summary>An account as a subject: Entra by object id and UPN; on-premises (no Entra id or UPN) as ad by SID (id) and DOMAIN\account (name); null for none or a system account.</summary>
    private static JsonObject? Subject(JsonObject account, bool isUserEvidence)
    {
        var objectId = VendorRecords.Text(account["azureAdUserId"]);
        var upn = VendorRecords.Text(account["userPrincipalName"]);
        var sid = VendorRecords.Text(account["userSid"]);
        var name = VendorRecords.Text(account["accountName"]);
        var domain = VendorRecords.Text(account["domainName"]);
        if (name is not null && SystemAccounts.Contains(name, StringComparer.OrdinalIgnoreCase)) return null;
        if (sid is not null && (sid is "S-1-5-18" or "S-1-5-19" or "S-1-5-20" || !sid.StartsWith("S-1-5-21-", StringComparison.OrdinalIgnoreCase)) && objectId is null && upn is null) return null;
        if (!isUserEvidence && objectId is null && upn is null && sid is null) return null;
        if (!string.IsNullOrWhiteSpace(objectId) || !string.IsNullOrWhiteSpace(upn))
        {
            var subject = new JsonObject { ["provider"] = "entra" };
            if (!string.IsNullOrWhiteSpace(objectId)) subject["id"] = objectId;
            if (!string.IsNullOrWhiteSpace(upn)) subject["name"] = upn;
            return subject;
        }

        // On premises: the SID finds the account wherever it is (the AD connector by objectSid, a snapshot by 'sid'); the
        // DOMAIN\account name is kept beside it for a snapshot without SIDs and for people reading the finding.
        var ad = new JsonObject { ["provider"] = "ad" };
        if (Identities.Sids.Normalize(sid) is { } domainSid) ad["id"] = domainSid;
        if (!string.IsNullOrWhiteSpace(name)) ad["name"] = string.IsNullOrWhiteSpace(domain) ? name : $"{domain}\\{name}";
        return ad.Count > 1 ? ad : null;
    }
}

/// <summary>Graph <c>riskyUser</c> objects as findings, as docs/sources.md tabulates.</summary>
public static class GraphRiskyUsers
{
    /// <summary>The finding record of one risky user, or null when it is skipped (deleted, not at high or medium risk, risk dismissed, remediated or confirmed safe).</summary>
    public static JsonObject? Map(JsonObject user, PollerOptions options)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(options);
        var level = VendorRecords.Text(user["riskLevel"]);
        var state = VendorRecords.Text(user["riskState"]);
        if (user["isDeleted"] is JsonValue deleted && deleted.TryGetValue<bool>(out var isDeleted) && isDeleted) return null;
        if (level is not ("high" or "medium") || state is "remediated" or "dismissed" or "confirmedSafe") return null;
        var updated = VendorRecords.Text(user["riskLastUpdatedDateTime"]);
        var id = VendorRecords.Text(user["id"]);
        var subject = new JsonObject { ["provider"] = "entra", ["id"] = id };
        if (VendorRecords.Text(user["userPrincipalName"]) is { Length: > 0 } upn) subject["name"] = upn;
        var attributes = new JsonObject { ["risk_state"] = state, ["risk_level"] = level };
        if (VendorRecords.Text(user["riskDetail"]) is { } detail) attributes["risk_detail"] = detail;
        if (VendorRecords.Text(user["userDisplayName"]) is { } display) attributes["display_name"] = display;
        if (user["isProcessing"] is JsonValue processing && processing.TryGetValue<bool>(out var isProcessing)) attributes["is_processing"] = isProcessing;
        return new JsonObject
        {
            ["id"] = id is null ? null : $"{id}:{updated}",
            ["source"] = options.Get("source") ?? "entra-id-protection",
            ["kind"] = "detection",
            ["type"] = "risky_user",
            ["severity"] = level,
            ["observed_at"] = updated,
            ["subject"] = subject,
            ["title"] = $"Risky user ({level})",
            ["attributes"] = attributes,
        };
    }
}
