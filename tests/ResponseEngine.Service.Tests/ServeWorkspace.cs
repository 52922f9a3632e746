using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Data.Sqlite;
using ResponseEngine.Audit;
using ResponseEngine.Audit.Sqlite;
using ResponseEngine.Inbox;
using ResponseEngine.Service.Webhook;
using ResponseEngine.TestKit;

namespace ResponseEngine.Service.Tests;

/// <summary>
/// A working folder for `respond serve`: the sample directory as the local directory, one rule that disables an Okta
/// account taken over (with inline tests), respond.yaml with fast intervals, and the SQLite audit file; plus helpers
/// to post signed findings and to read the trail and the inbox behind the service's back.
/// </summary>
public sealed class ServeWorkspace : IDisposable
{
    public const string Secret = "test-webhook-secret-0123456789";
    public const string Token = "test-webhook-token-abcdef";

    /// <summary>Forty enabled, unprivileged Okta accounts of the sample directory.</summary>
    public static readonly string[] OktaUsers =
    [
        "aaron.ford@corp.example.com", "bea.ellis@corp.example.com", "noah.zimmer@corp.example.com", "kira.holt@corp.example.com",
        "tara.brooks@corp.example.com", "zoe.tanaka@corp.example.com", "umar.ueda@corp.example.com", "theo.tanaka@corp.example.com",
        "xena.archer@corp.example.com", "zack.fischer@corp.example.com", "lena.lopez@corp.example.com", "wes.khan@corp.example.com",
        "bea.baker@corp.example.com", "dan.weber@corp.example.com", "nadia.dubois@corp.example.com", "hana.quinn@corp.example.com",
        "emil.zimmer@corp.example.com", "emil.ueda@corp.example.com", "rosa.varga@corp.example.com", "oscar.tanaka@corp.example.com",
    ];

    public const string GoodRule =
        """
        id: okta-takeover-disable
        title: Disable an Okta account taken over
        owner: tests
        mode: enforce
        match:
          types: [account_takeover]
          providers: [okta]
        actions:
          - action: disable_user
        tests:
          - name: a takeover disables the account
            finding: { type: account_takeover, severity: high, subject: { provider: okta, name: alice } }
            identity: { privileged: false }
            expect: [disable_user]
        """;

    /// <summary>Held for a person: an Okta account seen exfiltrating is deactivated only after approval.</summary>
    public const string ApprovalRule =
        """
        id: okta-approve-deactivate
        title: Deactivate an Okta account after a person approves
        owner: tests
        mode: enforce
        approval: required
        match:
          types: [insider_exfiltration]
          providers: [okta]
        actions:
          - action: deactivate_user
        tests:
          - name: exfiltration proposes a deactivation
            finding: { type: insider_exfiltration, severity: high, subject: { provider: okta, name: alice } }
            identity: { privileged: false }
            expect: [deactivate_user]
        """;

    private readonly TempDirectory _dir = new();

    public ServeWorkspace(string? extraConfig = null)
    {
        File.Copy(RepoPaths.SampleDirectory, System.IO.Path.Combine(Path, "directory.json"));
        _dir.Write("rules/okta/okta-takeover-disable.yaml", GoodRule);
        _dir.Write("respond.yaml", $"""
            rules: rules
            audit: {"{"} store: sqlite, connection: respond.db {"}"}
            local: {"{"} snapshot: directory.json, working_copy: state/directory.json {"}"}
            guards:
              breaker: {"{"} threshold: 100000 {"}"}
              rate_limits: {"{"} global_per_hour: 100000 {"}"}
            execution: {"{"} action_timeout: 10s, reconcile_after: 21s {"}"}
            serve:
              inbox: {"{"} batch_size: 25, lease: 20s, poll_interval: 200ms {"}"}
              reconcile_every: 2s
            {extraConfig ?? ""}
            """);
    }

    public string Path => _dir.Path;

    public string Write(string relative, string content) => _dir.Write(relative, content);

    public string Database => System.IO.Path.Combine(Path, "respond.db");

    public static string Finding(string id, string user, string type = "account_takeover", string source = "itdr") =>
        $$"""{"id":"{{id}}","source":"{{source}}","kind":"detection","type":"{{type}}","severity":"high","observed_at":"2026-11-20T08:00:00Z","subject":{"provider":"okta","name":"{{user}}"},"title":"takeover"}""";

    public static HttpRequestMessage Signed(Uri url, string body, DateTimeOffset at, string secret = Secret)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookAuthenticator.TimestampHeader, timestamp);
        request.Headers.Add(WebhookAuthenticator.SignatureHeader, WebhookAuthenticator.Sign(secret, timestamp, Encoding.UTF8.GetBytes(body)));
        return request;
    }

    public static HttpRequestMessage Bearer(Uri url, string body, string token = Token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>Reads the trail with a store of its own, as `respond audit` would.</summary>
    public async Task<IReadOnlyList<AuditRecord>> TrailAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Database)) return [];
        await using var store = new SqliteAuditStore(Database, TimeProvider.System);
        return await store.ReadAsync(new AuditQuery(), cancellationToken);
    }

    public async Task<InboxCounts> InboxAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(Database)) return new InboxCounts(0, 0, 0);
        await using var store = new SqliteAuditStore(Database, TimeProvider.System);
        await store.InitializeAsync(cancellationToken);
        return await store.CountAsync(cancellationToken);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes; the deadline is a failure, never a wait that passes.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, TimeSpan deadline, string what, Func<string>? diagnostics = null)
    {
        using var timeout = new CancellationTokenSource(deadline);
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await condition())
        {
            try
            {
                await tick.WaitForNextTickAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"not within {deadline.TotalSeconds:0} s: {what}\n{diagnostics?.Invoke()}");
            }
        }
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}
