using ResponseEngine.Identities;

namespace ResponseEngine.Cli.Tests;

/// <summary>
/// The linked-accounts workspace shared by the #21 CLI tests: Alice's AD account, linked to her Entra account by SID and
/// immutable id and to her Okta account by login; the rule that disables the AD account and revokes the sessions of the
/// linked ones; ITDR findings about AD accounts by name.
/// </summary>
internal static class LinkedAccountsFixture
{
    public const string Sid = "S-1-5-21-1004336348-1177238915-682003330-1104";

    /// <summary>The `linking:` line of a respond.yaml that links Okta accounts by login.</summary>
    public const string Linking = "linking: { okta_match: [login] }";

    /// <summary>The rule test that expects the AD account disabled and the Entra and Okta sessions revoked.</summary>
    public const string EveryAccountTest = """
          - name: every account
            linked: [{ provider: entra }, { provider: okta }]
            expect: [disable_user, { revoke_sessions: { on: entra } }, { revoke_sessions: { on: okta } }]

        """;

    public static readonly Guid AdId = Guid.Parse("3f2504e0-4f89-11d3-9a0c-0305e82c3301");

    /// <summary>A local directory of Alice's three accounts, then <paramref name="others"/> (one JSON user object each).</summary>
    public static string Directory(params string[] others)
    {
        string[] alice =
        [
            $$"""{"provider": "ad", "id": "{{AdId:D}}", "name": "alice", "upn": "alice@corp.example.com", "sid": "{{Sid}}"}""",
            $$"""{"provider": "entra", "id": "e-alice", "name": "alice@corp.example.com", "upn": "alice@corp.example.com", "on_premises_sid": "{{Sid}}", "on_premises_immutable_id": "{{ImmutableIds.FromGuid(AdId)}}"}""",
            """{"provider": "okta", "id": "00u-alice", "name": "alice@corp.example.com", "okta_status": "ACTIVE"}""",
        ];
        return "{\"users\": [\n  " + string.Join(",\n  ", [.. alice, .. others]) + "\n]}\n";
    }

    /// <summary>
    /// The rule `ad-compromised-person`: on a compromised AD account, disable it and revoke the sessions of its linked
    /// accounts; <paramref name="extra"/> is YAML inserted after `match:` (a `when:`) and <paramref name="tests"/> the
    /// rule's `tests:` items, each line indented by two.
    /// </summary>
    public static string PersonRule(string title = "contain the person", string extra = "", string tests = "")
    {
        var rule = $"""
            id: ad-compromised-person
            title: {title}
            owner: tests
            mode: enforce
            match:
              types: [compromised_account]
              providers: [ad]
            {extra}
            actions:
              - action: disable_user
              - action: revoke_sessions
                on: linked

            """;
        return tests.Length == 0 ? rule : rule + "tests:\n" + tests;
    }

    /// <summary>An ITDR finding that the AD account named <paramref name="name"/> is compromised, as one JSON object.</summary>
    public static string ItdrFinding(string id, string name) =>
        $$"""{"id":"{{id}}","source":"itdr","kind":"detection","type":"compromised_account","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"ad","name":"{{name}}"},"title":"x"}""";
}
