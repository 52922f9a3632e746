using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// One person's rows in a serve workspace's trail (#21), written as a run acting `on:` a person's accounts writes them:
/// an ITDR finding about the AD account disabled it, and a rule acting on the linked accounts revoked the Entra and Okta
/// sessions, each row's facts carrying linked_from (the AD account and the evidence). Plus a row about someone else.
/// Appended through the store, beside the running service (SQLite in WAL mode: another writer, as a second instance is).
/// </summary>
public static class PersonTrail
{
    public const string EntraEvidence = "objectSid S-1-5-21-1004336348-1177238915-682003330-1104 = onPremisesSecurityIdentifier";

    public static string OktaEvidence(string who) => $"Okta login {who}@corp.example.com = AD userPrincipalName";

    /// <summary>Names and ids made unique by <paramref name="who"/>: the AD account "who", Entra "who@corp.example.com", Okta "00u-who".</summary>
    public static async Task<IReadOnlyList<AuditRecord>> SeedAsync(string database, string who, CancellationToken cancellationToken)
    {
        var adId = $"ad-{who}";
        string Linked(string evidence) =>
            $$$"""{"finding_type":"compromised_account","linked_from":{"provider":"ad","id":"{{{adId}}}","account":"{{{who}}}","evidence":"{{{evidence}}}"}}""";
        AuditEntry Row(string provider, string id, string name, string action, string? facts) => new()
        {
            RunId = "run-" + who, Host = "test", EngineVersion = "0.1.0", Actor = "svc-respond", Status = AuditStatus.Succeeded,
            RuleId = "ad-compromised-person", FindingSource = "itdr", FindingId = "itdr-" + who, Provider = provider, IdentityId = id, IdentityName = name,
            Action = action, Parameters = "{}", Destructive = action == "disable_user", Verdict = "execute", Facts = facts ?? """{"finding_type":"compromised_account"}""",
        };

        await using var store = SqliteAuditStore.Open(database, TimeProvider.System);
        await store.InitializeAsync(cancellationToken);
        return await store.AppendManyAsync(
        [
            Row("ad", adId, who, "disable_user", null),
            Row("entra", $"e-{who}", $"{who}@corp.example.com", "revoke_sessions", Linked(EntraEvidence)),
            Row("okta", $"00u-{who}", $"{who}@corp.example.com", "revoke_sessions", Linked(OktaEvidence(who))),
            Row("okta", $"00u-not-{who}", $"not-{who}@corp.example.com", "revoke_sessions", null),
        ], cancellationToken);
    }
}
